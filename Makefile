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
#                       build/, then again in build-asan/ (ASan + UBSan),
#                       then the stress and unit tests in build-tsan/
#                       (ThreadSanitizer)
#   make stress         the long form of the stress tests (label `stress`:
#                       100000 map changes, 10000 KVM remaps, 500 live
#                       migrations) in all three trees
#   make test           run the tests of build/ only
#   make asan           build build-asan/ only
#   make tsan           build build-tsan/ only
#   make install        cmake --install build/ (PREFIX=/usr/local, DESTDIR)
#   make deps           install missing Debian packages (scripts/install-deps.sh)
#   make clean          remove build/, build-asan/ and build-tsan/
#
# Variables: PREFIX, DESTDIR, BUILD_TYPE, SANITIZE, JOBS, CMAKE_FLAGS (extra
# -D options for every tree), BUILD_DIR, ASAN_DIR, TSAN_DIR, STRESS_ITERS,
# KVM_STRESS_REMAPS, KVM_MIGRATE_ROUNDS.

BUILD_DIR   ?= build
ASAN_DIR    ?= build-asan
TSAN_DIR    ?= build-tsan
BUILD_TYPE  ?= RelWithDebInfo
SANITIZE    ?= address,undefined
PREFIX      ?= /usr/local
DESTDIR     ?=
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE       ?= cmake
CTEST       ?= ctest
CMAKE_FLAGS ?=

DEMO_CASE := tests/data/qemu-7.2/cases/x86-pc-fw-128m

# The three trees: build/ as shipped (asserts off), build-asan/ with
# asserts and sanitizers on, build-tsan/ with ThreadSanitizer (optimised:
# TSan slows code 5-15x, and the stress tests want iterations).
MAIN_ARGS := -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DMEMTREE_SANITIZE=
ASAN_ARGS := -DCMAKE_BUILD_TYPE=Debug -DMEMTREE_SANITIZE=$(SANITIZE)
TSAN_ARGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMTREE_SANITIZE=thread

# Sanitizer reports: stack traces for UBSan, leaks are errors.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Any race report fails the test (TSan's exit status 66); no 1 s sleep at
# every exit (the tests join their threads before they end).
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=50

# What the TSan tree runs: the stress tier (threads; kvm/stress too) and
# the unit tier, less four single-threaded unit tests that take minutes
# each under TSan and give it no thread to watch.
TSAN_LABELS := ^(stress|unit)$$
TSAN_SKIP   := ^(test_access_scale|test_fvtree|test_fvtree_small|test_loader)$$

# The long form of the stress tests (make stress).
STRESS_ITERS      ?= 100000
KVM_STRESS_REMAPS ?= 10000
KVM_MIGRATE_ROUNDS ?= 500
STRESS_ENV := MT_STRESS_ITERS=$(STRESS_ITERS) \
              MT_KVM_STRESS_REMAPS=$(KVM_STRESS_REMAPS) \
              MT_KVM_MIGRATE_ROUNDS=$(KVM_MIGRATE_ROUNDS)

# $(call configure_build,DIR,CMAKE ARGS): configure DIR (again, cheaply, so
# changed variables take effect) and build it. The build tool gets -j$(JOBS)
# and none of this make's own flags and level (no jobserver clash, no
# "Entering directory" noise).
define configure_build
	$(CMAKE) -S . -B $(1) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(2) $(CMAKE_FLAGS)
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(CMAKE) --build $(1) -j$(JOBS)
endef

.PHONY: all build demo check test asan tsan stress install deps clean

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

tsan:
	$(call configure_build,$(TSAN_DIR),$(TSAN_ARGS))

check: deps
	$(call configure_build,$(BUILD_DIR),$(MAIN_ARGS))
	cd $(BUILD_DIR) && $(CTEST) --output-on-failure --no-tests=error -j$(JOBS)
	$(call configure_build,$(ASAN_DIR),$(ASAN_ARGS))
	cd $(ASAN_DIR) && $(SAN_ENV) $(CTEST) --output-on-failure --no-tests=error -j$(JOBS)
	$(call configure_build,$(TSAN_DIR),$(TSAN_ARGS))
	cd $(TSAN_DIR) && $(TSAN_ENV) $(CTEST) --output-on-failure --no-tests=error -j$(JOBS) \
	    -L '$(TSAN_LABELS)' -E '$(TSAN_SKIP)'

# One stress test at a time: each wants the machine's CPUs for its threads.
stress: deps
	$(call configure_build,$(BUILD_DIR),$(MAIN_ARGS))
	cd $(BUILD_DIR) && $(STRESS_ENV) $(CTEST) --output-on-failure --no-tests=error -L '^stress$$'
	$(call configure_build,$(ASAN_DIR),$(ASAN_ARGS))
	cd $(ASAN_DIR) && $(STRESS_ENV) $(SAN_ENV) $(CTEST) --output-on-failure --no-tests=error -L '^stress$$'
	$(call configure_build,$(TSAN_DIR),$(TSAN_ARGS))
	cd $(TSAN_DIR) && $(STRESS_ENV) $(TSAN_ENV) $(CTEST) --output-on-failure --no-tests=error -L '^stress$$'

install: build
	DESTDIR="$(DESTDIR)" $(CMAKE) --install $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)
