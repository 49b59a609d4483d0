#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# install-test.sh: the install tier, run by CTest (tests/install/CMakeLists.txt
# passes the build's settings in MT_* variables). Installs the build into a
# temporary DESTDIR, checks the files, then builds and runs consumer/main.c
# against the installed files only: with memtree.pc (shared, then static) and
# with find_package(memtree).
set -euo pipefail

for v in MT_SOURCE_DIR MT_BUILD_DIR CMAKE MT_GENERATOR CC PKG_CONFIG MT_PREFIX \
         MT_LIBDIR MT_INCLUDEDIR MT_BINDIR MT_VERSION MT_SOVERSION MT_HAVE_CLI \
         MT_MANDIR MT_DATADIR; do
    [ -n "${!v:-}" ] || { echo "install-test: $v is not set (run through ctest)" >&2; exit 2; }
done
MT_CFLAGS=${MT_CFLAGS:-}

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memtree-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

fail() { echo "install-test: FAIL: $*" >&2; exit 1; }
# Run "$@" with its output in $tmp/log, shown only when it fails.
quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "$*"; }; }
# An install dir as an absolute path inside the DESTDIR.
staged() { case $1 in /*) echo "$root$1" ;; *) echo "$root$MT_PREFIX/$1" ;; esac; }
libdir=$(staged "$MT_LIBDIR")
incdir=$(staged "$MT_INCLUDEDIR")
bindir=$(staged "$MT_BINDIR")
mandir=$(staged "$MT_MANDIR")
datadir=$(staged "$MT_DATADIR")

# 1. Install, and check what landed.
DESTDIR=$root quiet "$CMAKE" --install "$MT_BUILD_DIR"
(cd "$MT_SOURCE_DIR/include" && find . -name '*.h') >"$tmp/headers"
while read -r h; do
    cmp -s "$MT_SOURCE_DIR/include/$h" "$incdir/$h" || fail "header ${h#./} not installed as is"
done <"$tmp/headers"
for f in libmemtree.a libmemtree.so "libmemtree.so.$MT_SOVERSION" "libmemtree.so.$MT_VERSION" \
         pkgconfig/memtree.pc cmake/memtree/memtreeConfig.cmake; do
    [ -e "$libdir/$f" ] || fail "$libdir/$f not installed"
done
soname=$(readelf -d "$libdir/libmemtree.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libmemtree.so.$MT_SOVERSION" ] || fail "SONAME is '$soname'"
if [ "$MT_HAVE_CLI" = 1 ]; then
    [ -x "$bindir/memtree" ] || fail "$bindir/memtree not installed"
    cmp -s "$MT_SOURCE_DIR/docs/memtree.1" "$mandir/man1/memtree.1" ||
        fail "man page not installed as $mandir/man1/memtree.1"
fi
gdbpy=$datadir/memtree/gdb/memtree.py
cmp -s "$MT_SOURCE_DIR/tools/gdb/memtree.py" "$gdbpy" || fail "GDB helpers not installed as $gdbpy"
# The installed helpers load and define their commands (when gdb is there).
if command -v gdb >/dev/null 2>&1; then
    helps=$(gdb -batch -nx -x "$gdbpy" -ex 'help dump_address_spaces' \
        -ex 'help dump_memory_region' -ex 'help dump_flatview' 2>&1) ||
        fail "gdb cannot load $gdbpy: $helps"
    case $helps in
    *"Python scripting is not supported"*) ;;
    *"Usage: dump_address_spaces"*"Usage: dump_memory_region"*"Usage: dump_flatview"*) ;;
    *) fail "gdb does not know the commands of $gdbpy: $helps" ;;
    esac
fi

# 2. pkg-config, seeing only the staged memtree.pc, with paths under DESTDIR.
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig PKG_CONFIG_PATH='' PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
[ "$("$PKG_CONFIG" --modversion memtree)" = "$MT_VERSION" ] || fail "pkg-config --modversion"
cflags=$("$PKG_CONFIG" --cflags memtree)
libs=$("$PKG_CONFIG" --libs memtree)
static_libs=$("$PKG_CONFIG" --static --libs memtree)
case " $cflags " in *" -I$incdir "*) ;; *) fail "pkg-config --cflags: '$cflags'" ;; esac
case " $libs " in *" -L$libdir "*) ;; *) fail "pkg-config --libs: '$libs'" ;; esac

# shellcheck disable=SC2086 # the flags are word lists
quiet "$CC" $MT_CFLAGS -std=c11 -pedantic -Wall -Wextra -Werror \
    "$here/consumer/main.c" $cflags $libs -o "$tmp/pc_shared"
# (Output captured first: grep -q closing the pipe early would make ldd die
# of SIGPIPE, which pipefail turns into a spurious failure.)
deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/pc_shared")
grep -q "libmemtree.so.$MT_SOVERSION => $libdir/" <<<"$deps" ||
    fail "pc_shared does not load the installed libmemtree.so"
LD_LIBRARY_PATH=$libdir quiet "$tmp/pc_shared"

# Static: the archive for libmemtree, the .pc's private libraries for the rest.
# shellcheck disable=SC2086
quiet "$CC" $MT_CFLAGS -std=c11 -pedantic -Wall -Wextra -Werror \
    "$here/consumer/main.c" $cflags -Wl,-Bstatic $libs -Wl,-Bdynamic \
    -Wl,--as-needed $static_libs -o "$tmp/pc_static"
dyn=$(readelf -d "$tmp/pc_static")
if grep -q 'NEEDED.*libmemtree' <<<"$dyn"; then
    fail "pc_static needs libmemtree.so"
fi
quiet "$tmp/pc_static"

# A host program not linked with memtree (nor liburcu) dlopens the shared
# library, as plugin hosts do, and accesses memory from two threads.
quiet "$CC" $MT_CFLAGS -std=c11 -Wall -Wextra -Werror \
    "$here/consumer/dlopen.c" $cflags -ldl -lpthread -o "$tmp/dlopen_host"
dyn=$(readelf -d "$tmp/dlopen_host")
if grep -q 'NEEDED.*\(libmemtree\|liburcu\)' <<<"$dyn"; then
    fail "dlopen_host is linked with memtree or liburcu"
fi
LD_LIBRARY_PATH=$libdir quiet "$tmp/dlopen_host" "$libdir/libmemtree.so.$MT_SOVERSION"

# 3. find_package(memtree) from the staged CMake package.
quiet "$CMAKE" -S "$here/consumer" -B "$tmp/consumer" -G "$MT_GENERATOR" \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$MT_CFLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="$MT_CFLAGS" -Dmemtree_DIR="$libdir/cmake/memtree"
quiet "$CMAKE" --build "$tmp/consumer"
quiet "$tmp/consumer/consumer_shared"
quiet "$tmp/consumer/consumer_static"
echo "install-test: ok (installed under $MT_PREFIX, version $MT_VERSION)"
