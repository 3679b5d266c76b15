#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the test stages in order and add up their checks into one final
# "N passed, N failed" line. Used by "make test" and "make run".

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

ALL_STAGES=(deps fetch shellcheck selftest apply layers checkpatch kunit sparse vm vmhost vmselftests vmnested)
# A failed prerequisite stops the run: later stages cannot work without it.
PREREQS=" deps fetch apply "

usage() {
	cat <<USAGE
Usage: $0 [-h] [STAGE...]

Run the stages (default, in this order: ${ALL_STAGES[*]}):
  deps        scripts/deps.sh             1 check
  fetch       scripts/fetch-kernel.sh     1 check
  shellcheck  shellcheck -x, every script  1 check per script
  selftest    selftests/test_scripts.sh   1 check per test
  apply       scripts/apply.sh            1 check
  layers      scripts/layers.sh layers    series for merging / debug layer apply at
                                          fuzz 0 on Debian's and upstream 7.3.4
  checkpatch  scripts/checkpatch.sh       1 check per patch (BISECT=1: + builds)
  kunit       scripts/kunit.sh            1 check per KUnit case + VHE check per config
  sparse      scripts/layers.sh sparse    W=1 C=1 build of arch/arm64/kvm/, series
                                          for merging alone
  vm          scripts/vm.sh check         debug module + walk counters in a VM, both kernels
  vmhost      scripts/vm.sh host          the hardware path in the VM: bench.sh host, unmodified,
                                          on each kernel (bash, busybox, python3 from Debian
                                          arm64 packages); bench.sh compare gives the walk-step
                                          counts of vm.sh check; the failures it must refuse
  vmselftests scripts/vm.sh selftests     in-tree KVM selftests, same outcome on both kernels
  vmnested    scripts/vm.sh nested        selftests with vEL2 guests under a QEMU with FEAT_NV2 (9.2+),
                                          kvm-arm.mode=nested, same outcome on both kernels;
                                          the L2 test passes; its shadow unmap walks and the
                                          nested teardown's destroy walks 1000x fewer after
and print the sum as the last line: "N passed, N failed" (skipped KUnit
cases are reported on the line before, not counted).
A failing deps, fetch or apply stage ends the run.

Exit codes: 0 all passed, $E_FAIL something failed, $E_USAGE bad arguments.
USAGE
}

PASSED=0 FAILED=0 SKIPPED=0

# Every shell script of the repository.
shell_scripts() {
	local f
	for f in "$REPO_ROOT"/scripts/* "$REPO_ROOT"/selftests/* "$REPO_ROOT"/.ci/*; do
		[ -f "$f" ] && head -n 1 "$f" | grep -Eq '^#!.*(ba)?sh' && echo "$f"
	done
	return 0
}

shellcheck_all() {
	local p=0 f=0 file
	need_cmd shellcheck
	while read -r file; do
		file=${file#"$REPO_ROOT"/}
		if (cd "$REPO_ROOT" && shellcheck -x "$file"); then
			echo "ok   $file"
			p=$((p + 1))
		else
			echo "FAIL $file"
			f=$((f + 1))
		fi
	done < <(shell_scripts)
	summary_line "$p" "$f"
}

layers_check() {
	"$REPO_ROOT/scripts/layers.sh" layers
}

sparse_check() {
	"$REPO_ROOT/scripts/layers.sh" sparse
}

vm_check() {
	"$REPO_ROOT/scripts/vm.sh" check
}

vm_host() {
	"$REPO_ROOT/scripts/vm.sh" host
}

vm_selftests() {
	"$REPO_ROOT/scripts/vm.sh" selftests
}

vm_nested() {
	"$REPO_ROOT/scripts/vm.sh" nested
}

stage_cmd() {
	case $1 in
	deps) echo "$REPO_ROOT/scripts/deps.sh" ;;
	fetch) echo "$REPO_ROOT/scripts/fetch-kernel.sh" ;;
	shellcheck) echo shellcheck_all ;;
	selftest) echo "$REPO_ROOT/selftests/test_scripts.sh" ;;
	apply) echo "$REPO_ROOT/scripts/apply.sh" ;;
	layers) echo layers_check ;;
	checkpatch) echo "$REPO_ROOT/scripts/checkpatch.sh" ;;
	sparse) echo sparse_check ;;
	kunit) echo "$REPO_ROOT/scripts/kunit.sh" ;;
	vm) echo vm_check ;;
	vmhost) echo vm_host ;;
	vmselftests) echo vm_selftests ;;
	vmnested) echo vm_nested ;;
	*) return 1 ;;
	esac
}

# run_stage NAME: run it, show its output, add its summary line (or, for
# stages without one, its exit status) to the totals.
run_stage() {
	local name=$1 cmd out rc=0 start=$SECONDS line p f s
	cmd=$(stage_cmd "$name")
	out=$(mktemp)
	step "stage $name"
	"$cmd" | tee "$out" || rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$out" | tail -n 1) || true
	rm -f "$out"
	if [ -n "$line" ]; then
		read -r p _ f _ s _ <<<"${line//,/}"
		# A stage that failed without counting it still fails once.
		[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1
	elif [ "$rc" -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + ${s:-0}))
	step "stage $name: $(summary_line "$p" "$f" "${s:-0}") ($(elapsed $((SECONDS - start))))"
	[ "$rc" -eq 0 ] || [[ $PREREQS != *" $name "* ]] ||
		{ eprintf 'ERROR: stage %s failed; stopping\n' "$name"; return 1; }
}

# The figures of this run: seeds and iterations of the randomised KUnit
# cases, the in-tree selftests run.
print_figures() {
	local f n
	echo "    kernels built from $(base_description 2>/dev/null || echo '(no kernel source)')"
	echo "    tools: $(tool_versions)"
	for f in "$RESULTS_DIR"/kunit/*.log; do
		[ "$f" -nt "$1" ] || continue
		sed -n "s/.*random_seed=\(0x[0-9a-f]*\) iterations=\([0-9]*\).*/    kunit $(basename "$f" .log): seed \1, iterations \2/p" \
			"$f" | head -n 1
	done
	f=$RESULTS_DIR/vm/selftests.md
	if [ -f "$f" ] && [ "$f" -nt "$1" ]; then
		n=$(grep -c '^| `' "$f") || true
		echo "    in-tree KVM selftests run on each of the baseline and patched kernels: $n"
	fi
}

main() {
	help_only_opts "$@"
	shift $((OPTIND - 1))
	local stages=("$@") s start=$SECONDS
	[ ${#stages[@]} -gt 0 ] || stages=("${ALL_STAGES[@]}")
	for s in "${stages[@]}"; do
		stage_cmd "$s" >/dev/null || { usage >&2; die "$E_USAGE" "unknown stage '$s'"; }
	done
	local t0
	t0=$(mktemp)
	for s in "${stages[@]}"; do
		run_stage "$s" || break
	done
	step "all stages done in $(elapsed $((SECONDS - start)))"
	print_figures "$t0"
	rm -f "$t0"
	[ "$SKIPPED" -eq 0 ] || info "$SKIPPED KUnit case(s) skipped (not counted below)"
	summary_line "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
}

main "$@"
