#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# install-deps.sh: make sure the Debian 12 packages memtree needs to build
# and test are installed. Quiet and idempotent when they already are.
#
# As root, missing packages are installed with apt-get (one `apt-get update`
# first, only when something is missing). As any other user, the missing
# packages are listed with the command to run, and the script exits 1.
# Set MEMTREE_SKIP_DEPS=1 to skip the check (e.g. on another distribution
# where the tools come from elsewhere).
set -euo pipefail

# build-essential brings gcc, g++ and make; clang + libclang-rt-14-dev give
# the clang sanitizer and libFuzzer runtimes; llvm brings llvm-symbolizer
# (readable sanitizer stack traces) and the coverage tools.
# doxygen builds the API reference (`cmake --build build --target docs`).
# nasm assembles the guests of the KVM tests and of `make demo`.
# libtsan2 is gcc 12's ThreadSanitizer runtime (the build-tsan/ tree of
# `make check`, -DMEMTREE_SANITIZE=thread).
PACKAGES=(
    build-essential gcc make cmake pkg-config
    libcmocka-dev liburcu-dev
    libtsan2
    clang llvm libclang-rt-14-dev
    python3 gdb doxygen
    nasm
)

if [ "${MEMTREE_SKIP_DEPS:-0}" = 1 ]; then
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: not a Debian system (no dpkg-query); make sure these" \
         "(or their equivalents) are installed: ${PACKAGES[*]}" >&2
    exit 0
fi

installed() {
    # dpkg -s also succeeds for removed packages whose config files remain,
    # so look at the status field itself.
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]}" >&2
    echo "install-deps: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    echo "install-deps: (or run this script as root: sudo $0)" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o DPkg::Lock::Timeout=300)
apt-get "${apt_opts[@]}" update >/dev/null
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" </dev/null
