# SPDX-License-Identifier: MIT
#
# A thin wrapper around CMake, which stays the one build system: every rule
# here only configures, builds, tests or installs through cmake and ctest.
#
#   make / make build   configure and build build/ (RelWithDebInfo: -O2 -g)
#   make demo           install missing packages, build, print the flat views
#                       of a QEMU 7.2 x86 pc dump bundled in tests/data, then
#                       boot the guest tests/guest/hello.asm with `memtree
#                       run` under KVM (skipped with a message without
#                       /dev/kvm)
#   make check          install missing packages, build, run every test in
#                       build/, then again in build-asan/ (ASan + UBSan)
#   make test           run the tests of build/ only
#   make asan           build build-asan/ only
#   make install        cmake --install build/ (PREFIX=/usr/local, DESTDIR)
#   make deps           install missing Debian packages (scripts/install-deps.sh)
#   make clean          remove build/ and build-asan/
#
# Variables: PREFIX, DESTDIR, BUILD_TYPE, SANITIZE, JOBS, CMAKE_FLAGS (extra
# -D options for both trees), BUILD_DIR, ASAN_DIR.

BUILD_DIR   ?= build
ASAN_DIR    ?= build-asan
BUILD_TYPE  ?= RelWithDebInfo
SANITIZE    ?= address,undefined
PREFIX      ?= /usr/local
DESTDIR     ?=
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE       ?= cmake
CTEST       ?= ctest
CMAKE_FLAGS ?=

DEMO_CASE := tests/data/qemu-7.2/cases/x86-pc-fw-128m

# The two trees: build/ as shipped (asserts off), build-asan/ with asserts
# and sanitizers on.
MAIN_ARGS := -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DMEMTREE_SANITIZE=
ASAN_ARGS := -DCMAKE_BUILD_TYPE=Debug -DMEMTREE_SANITIZE=$(SANITIZE)

# Sanitizer reports: stack traces for UBSan, leaks are errors.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# $(call configure_build,DIR,CMAKE ARGS): configure DIR (again, cheaply, so
# changed variables take effect) and build it. The build tool gets -j$(JOBS)
# and none of this make's own flags and level (no jobserver clash, no
# "Entering directory" noise).
define configure_build
	$(CMAKE) -S . -B $(1) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(2) $(CMAKE_FLAGS)
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(CMAKE) --build $(1) -j$(JOBS)
endef

.PHONY: all build demo check test asan install deps clean

all: build

build:
	$(call configure_build,$(BUILD_DIR),$(MAIN_ARGS))

deps:
	@scripts/install-deps.sh

demo: deps
	$(call configure_build,$(BUILD_DIR),$(MAIN_ARGS))
	$(BUILD_DIR)/memtree mtree -f --facts $(DEMO_CASE)/facts.txt $(DEMO_CASE)/mtree-D.txt
	@echo
	@if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then \
	    echo "== memtree run: booting tests/guest/hello.asm under KVM"; \
	    nasm -f bin -o $(BUILD_DIR)/hello.bin tests/guest/hello.asm && \
	    $(BUILD_DIR)/memtree run --bios $(BUILD_DIR)/hello.bin; st=$$?; \
	    echo "== guest left through isa-debug-exit: memtree run exited with status $$st (1 = all checks passed)"; \
	    [ $$st = 1 ]; \
	else \
	    echo "== memtree run demo skipped: /dev/kvm is missing or not accessible (KVM is needed to run a guest)"; \
	fi

test:
	cd $(BUILD_DIR) && $(CTEST) --output-on-failure --no-tests=error -j$(JOBS)

asan:
	$(call configure_build,$(ASAN_DIR),$(ASAN_ARGS))

check: deps
	$(call configure_build,$(BUILD_DIR),$(MAIN_ARGS))
	cd $(BUILD_DIR) && $(CTEST) --output-on-failure --no-tests=error -j$(JOBS)
	$(call configure_build,$(ASAN_DIR),$(ASAN_ARGS))
	cd $(ASAN_DIR) && $(SAN_ENV) $(CTEST) --output-on-failure --no-tests=error -j$(JOBS)

install: build
	DESTDIR="$(DESTDIR)" $(CMAKE) --install $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
