# SPDX-License-Identifier: GPL-2.0-only
#
# Front door of the kvm-s2-walk workbench. Every target is a script under
# scripts/ (run it with -h for details); variables such as KERNEL_SRC,
# FORCE, JOBS, BISECT and KVM_S2_WALK_CACHE are passed through the environment.

SCRIPTS := scripts
# make kunit TREE=baseline CONFIGS="4k 64k"
TREE ?=
CONFIGS ?=

.PHONY: help deps fetch apply checkpatch kunit vm-check vm-selftests bench module shellcheck selftest test run clean

help:
	@echo 'Targets:'
	@echo '  deps        install missing Debian packages (scripts/deps.sh)'
	@echo '  fetch       download + unpack linux-source-7.3 (scripts/fetch-kernel.sh)'
	@echo '  apply       make the patched tree from patches/series (scripts/apply.sh)'
	@echo '  checkpatch  checkpatch.pl --strict on each patch; BISECT=1 also builds each step'
	@echo '  kunit       KUnit in QEMU at EL2 for kunit/*.kunitconfig [TREE=baseline|patched] [CONFIGS="a b"]'
	@echo '  vm-check    debug module check in full VM kernels, baseline and patched (scripts/vm.sh check)'
	@echo '  vm-selftests in-tree KVM selftests on both VM kernels, same outcomes (scripts/vm.sh selftests)'
	@echo '  bench       before/after dirty_log_perf_test in QEMU (scripts/bench.sh $$BENCH_ARGS)'
	@echo '  module      build module/ against KDIR=<kernel build dir> (W=1)'
	@echo '  shellcheck  shellcheck -x on every script'
	@echo '  selftest    bad-input tests of the scripts (selftests/test_scripts.sh)'
	@echo '  run         main job: deps fetch bench (the before/after benchmark)'
	@echo '  test        every check, ending with "N passed, N failed"'
	@echo '  clean       remove trees, builds and results from the cache (keeps the source)'

deps:
	@$(SCRIPTS)/deps.sh

fetch:
	@$(SCRIPTS)/fetch-kernel.sh

apply:
	@$(SCRIPTS)/apply.sh

checkpatch:
	@$(SCRIPTS)/checkpatch.sh

kunit:
	@$(SCRIPTS)/kunit.sh $(if $(TREE),-t $(TREE)) $(CONFIGS)

vm-check:
	@$(SCRIPTS)/vm.sh check

vm-selftests:
	@$(SCRIPTS)/vm.sh selftests

# make bench BENCH_ARGS="-r 5 -b 512M"
BENCH_ARGS ?=
bench:
	@$(SCRIPTS)/bench.sh $(BENCH_ARGS)

module:
	@$(MAKE) -C module $(if $(KDIR),KDIR="$(KDIR)") W=1

shellcheck:
	@$(SCRIPTS)/test.sh shellcheck

selftest:
	@selftests/test_scripts.sh

run:
	@$(SCRIPTS)/deps.sh
	@$(SCRIPTS)/fetch-kernel.sh
	@$(SCRIPTS)/bench.sh $(BENCH_ARGS)

test:
	@$(SCRIPTS)/test.sh

clean:
	@$(SCRIPTS)/clean.sh
