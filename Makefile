# SPDX-License-Identifier: GPL-2.0-only
#
# Front door of the kvm-s2-walk workbench. Every target is a script under
# scripts/ (run it with -h for details); variables such as KERNEL_SRC,
# FORCE, JOBS, BISECT and KVM_S2_WALK_CACHE are passed through the environment.

SCRIPTS := scripts
# make kunit TREE=patched CONFIGS="pgtable-4k pgtable-64k"
TREE ?=
CONFIGS ?=

.PHONY: help deps fetch fetch-upstream apply layers checkpatch kunit sparse vm-check vm-host vm-selftests vm-nested bench module shellcheck selftest test run clean

help:
	@echo 'Targets:'
	@echo '  deps        install missing Debian packages (scripts/deps.sh)'
	@echo '  fetch       download + unpack linux-source-7.3 (scripts/fetch-kernel.sh)'
	@echo '  fetch-upstream  download + unpack upstream 7.3.4, Debian'"'"'s orig tarball (fetch-kernel.sh -u)'
	@echo '  apply       make the patched tree from patches/series (scripts/apply.sh)'
	@echo '  layers      the series for merging and the debug layer apply at fuzz 0 (scripts/layers.sh)'
	@echo '  checkpatch  checkpatch.pl --strict on each patch; BISECT=1 also builds each step'
	@echo '  kunit       KUnit in QEMU at EL2 for kunit/*.kunitconfig [TREE=mergeable|baseline|patched] [CONFIGS="pgtable-4k ..."]'
	@echo '  sparse      W=1 C=1 build of arch/arm64/kvm/, series for merging alone (after make kunit)'
	@echo '  vm-check    debug module check in full VM kernels, baseline and patched (scripts/vm.sh check)'
	@echo '  vm-host     the hardware path in the VM: bench.sh host on both kernels (scripts/vm.sh host)'
	@echo '  vm-selftests in-tree KVM selftests on both VM kernels, same outcomes (scripts/vm.sh selftests)'
	@echo '  vm-nested   the same with vEL2 guests, kvm-arm.mode=nested under a QEMU with FEAT_NV2, 9.2+ (scripts/vm.sh nested)'
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

fetch-upstream:
	@$(SCRIPTS)/fetch-kernel.sh -u

apply:
	@$(SCRIPTS)/apply.sh

layers:
	@$(SCRIPTS)/layers.sh layers

checkpatch:
	@$(SCRIPTS)/checkpatch.sh

kunit:
	@$(SCRIPTS)/kunit.sh $(if $(TREE),-t $(TREE)) $(CONFIGS)

sparse:
	@$(SCRIPTS)/layers.sh sparse

vm-check:
	@$(SCRIPTS)/vm.sh check

vm-host:
	@$(SCRIPTS)/vm.sh host

vm-selftests:
	@$(SCRIPTS)/vm.sh selftests

vm-nested:
	@$(SCRIPTS)/vm.sh nested

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
