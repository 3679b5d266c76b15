# SPDX-License-Identifier: GPL-2.0-only
#
# Front door of the kvm-s2-walk workbench. Every target is a script under
# scripts/ (run it with -h for details); variables such as KERNEL_SRC,
# FORCE, JOBS, BISECT and KVM_S2_WALK_CACHE are passed through the environment.

SCRIPTS := scripts
# make kunit TREE=baseline CONFIGS="4k 64k"
TREE ?=
CONFIGS ?=

.PHONY: help deps fetch apply checkpatch kunit vm-check module shellcheck selftest test run clean

help:
	@echo 'Targets:'
	@echo '  deps        install missing Debian packages (scripts/deps.sh)'
	@echo '  fetch       download + unpack linux-source-7.3 (scripts/fetch-kernel.sh)'
	@echo '  apply       make the patched tree from patches/series (scripts/apply.sh)'
	@echo '  checkpatch  checkpatch.pl --strict on each patch; BISECT=1 also builds each step'
	@echo '  kunit       KUnit in QEMU at EL2 for kunit/*.kunitconfig [TREE=baseline|patched] [CONFIGS="a b"]'
	@echo '  vm-check    debug module check in full VM kernels, baseline and patched (scripts/vm.sh check)'
	@echo '  module      build module/ against KDIR=<kernel build dir> (W=1)'
	@echo '  shellcheck  shellcheck -x on every script'
	@echo '  selftest    bad-input tests of the scripts (selftests/test_scripts.sh)'
	@echo '  run         deps fetch apply checkpatch kunit, with one summary line'
	@echo '  test        run + shellcheck + selftest, ending with "N passed, N failed"'
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

module:
	@$(MAKE) -C module $(if $(KDIR),KDIR="$(KDIR)") W=1

shellcheck:
	@$(SCRIPTS)/test.sh shellcheck

selftest:
	@selftests/test_scripts.sh

run:
	@$(SCRIPTS)/test.sh deps fetch apply checkpatch kunit vm

test:
	@$(SCRIPTS)/test.sh

clean:
	@$(SCRIPTS)/clean.sh
