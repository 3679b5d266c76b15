#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Full arm64 kernels (KVM, modules, debugfs, the walk counters) for the
# baseline and the patched tree, the debug module built against each, an
# initramfs of static test programs, booted in QEMU at EL2. "check" is the
# debug module's proof: counters read the same way on both kernels, and the
# eager split of page-mapped memory visits no last-level entry once the
# series is applied.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=scripts/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

# Guest memory of the check's dirty_log_perf_test run, in MiB.
CHECK_MIB=${CHECK_MIB:-64}
# Empty VMs of the largest IPA size the check creates and destroys.
CHURN_VMS=2

# The in-tree selftests run before and after (path under
# tools/testing/selftests/kvm, then arguments that fit emulation).
SELFTESTS=(
	"arm64/page_fault_test -m 6"
	"arm64/stage2_block_transitions"
	"arm64/hello_el2"
	"dirty_log_test -m 6 -i 8"
	"kvm_page_table_test -m 6 -b 64M"
	"memslot_modification_stress_test -m 6 -i 20"
	"set_memory_region_test"
)
# Run under QEMU with FEAT_NV2 and kvm-arm.mode=nested (vm.sh nested). With
# KVM_CAP_ARM_EL2, the 7.3 selftests library gives every vCPU EL2: all of
# these run their guests at vEL2.
NESTED_SELFTESTS=(
	"arm64/hello_el2"
	"set_memory_region_test"
	"dirty_log_test -m 6 -i 4"
	"arm64/nested_s2_unmap_test"
)
# The series' own L2 test (patch 0018), which must pass, not only agree:
# run again with the debug module, for the shadow stage-2 walks of its host
# unmaps on each kernel.
L2_TEST=arm64/nested_s2_unmap_test
# Left out: memslot_perf_test (once, in 16 boots, a KVM_BUG_ON in
# kvm_vcpu_load_debug(), not understood; about 2 min a run): see
# Documentation/hardening.rst.

usage() {
	cat <<USAGE
Usage: $0 [-h] [-t baseline|patched]... COMMAND

Commands:
  build      build, for each tree: the VM kernel ($BUILD_DIR/vm-<tree>,
             allnoconfig + vm/*.config), the debug module against it (W=1,
             warnings are errors), and the static test programs
  check      build, then boot each kernel in QEMU at EL2 and check the debug
             module: insmod, counters of an eagerly split ${CHECK_MIB} MiB VM
             mapped at page granularity (dirty_log_perf_test -g -S 2M),
             bad writes refused, rmmod leaves nothing. Baseline: the split
             visits one last-level entry per page; patched: none.
  selftests  build the in-tree KVM selftests below (static, from the
             patched tree), boot each kernel, run them; the pass/skip/fail
             of each must be the same on both kernels (exit status 4 is a
             skip), and no kernel splat. Table: $RESULTS_DIR/vm/selftests.md
$(printf '               %s\n' "${SELFTESTS[@]}")
  nested     the same with these selftests, each kernel booted with
             kvm-arm.mode=nested under a QEMU with FEAT_NV2 (9.2 or newer:
             trixie's newest, in a root under the cache, scripts/nested-qemu.sh),
             so that their guests run at vEL2; KVM must report "VHE+NV2
             mode". Table:
             $RESULTS_DIR/vm/nested-selftests.md
$(printf '               %s\n' "${NESTED_SELFTESTS[@]}")
  host       the host path, proven in the VM: each kernel booted with an
             arm64 userspace (bash, busybox, python3: scripts/arm64-root.sh)
             runs scripts/bench.sh host, unmodified, as on hardware
             (-r 1 -b ${CHECK_MIB}M -s anonymous); bench.sh compare of the two
             results must give vm.sh check's walk-step counts, exactly. Before
             that, bench.sh host must refuse: a missing module, a module
             insmod rejects, a short 1 GiB hugepage allocation, no debugfs
             (baseline), the patched kernel labelled baseline, a SIGTERM
             once the module is loaded and the 2 MiB pool raised (patched);
             each time with the module unloaded and the hugepages restored.
             Results: $RESULTS_DIR/vm/host/
  repeat N 'SELFTEST ARGS'
             build, then boot each kernel N times running the in-tree
             selftest once per boot; count pass/skip/fail and boots with a
             kernel splat (table: $RESULTS_DIR/vm/repeat-<name>.md),
             e.g. repeat 10 'memslot_perf_test -l 1 -r 1'
  boot FILE  build, then boot each kernel with FILE as the initramfs's
             /commands (see vm/init.c) and keep the serial log

Options:
  -t TREE  a tree to use (repeatable; default: baseline and patched)
  -h       this help

Results: $RESULTS_DIR/vm/<tree>-<command>.log (serial log) and, for check,
$RESULTS_DIR/vm/<tree>-counters.txt. The last line is "N passed, N failed".

Environment:
  VM_MEM, VM_SMP     QEMU memory and CPUs (default 2G, 2)
  VM_TIMEOUT         seconds a boot may take (default 900)
  VM_BUILD=0         boot the kernels, modules and programs already built
                     (nothing applied or rebuilt)
  CHECK_MIB          guest memory of the check, in MiB (default 64)
  JOBS, CROSS_COMPILE, KERNEL_SRC, FORCE, KVM_S2_WALK_CACHE, KVM_S2_WALK_LOCK:
                     see apply.sh -h and kunit.sh -h

Exit codes: 0 ok, $E_FAIL a build, boot or check failed, $E_USAGE bad arguments,
$E_PREREQ missing tools.
USAGE
}


# counter FILE KEY: the value of KEY in a counters file (empty if absent).
counter() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# expect_eq WHAT VALUE EXPECTED
expect_eq() {
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		pass "$1 = $2"
	else
		failed "$1 = ${2:-<missing>}, expected $3"
	fi
}

check_commands() {
	cat <<CMDS
# Written by scripts/vm.sh check
insmod /$MODULE_NAME.ko
cat $DEBUGFS/enable
write $DEBUGFS/reset 1
run /dirty_log_perf_test -m 6 -v 1 -b ${CHECK_MIB}M -s anonymous -g -i 2 -S 2M
cat $DEBUGFS/table
cat $DEBUGFS/counters
write $DEBUGFS/reset 1
run /vm_churn 40 $CHURN_VMS
run /vm_churn 0 $CHURN_VMS
cat $DEBUGFS/counters
!write $DEBUGFS/reset 2
!write $DEBUGFS/enable 2
!write $DEBUGFS/table 1
write $DEBUGFS/enable 0
cat $DEBUGFS/enable
rmmod $MODULE_NAME
!cat $DEBUGFS/table
insmod /$MODULE_NAME.ko enable=0
rmmod $MODULE_NAME
CMDS
}

# check_tree_counters TREE LOG
check_tree_counters() {
	local tree=$1 log=$2
	local c=$RESULTS_DIR/vm/$tree-counters.txt
	local pages=$((CHECK_MIB * 256)) pmds=$((CHECK_MIB / 2)) l3 l2 tab3 walks

	{ output_of "$log" "cat $DEBUGFS/counters"; echo "# base: $RESULTS_BASE"; echo "# tools: $RESULTS_TOOLS"; } >"$c"
	{ output_of "$log" "cat $DEBUGFS/table"; echo "# base: $RESULTS_BASE"; echo "# tools: $RESULTS_TOOLS"; } >"${c%.txt}-table.txt"
	echo "--- $tree: walk counters of the eager split (${CHECK_MIB} MiB, 4K pages):"
	sed 's/^/    /' "${c%.txt}-table.txt"

	walks=$(counter "$c" walk.split.walks)
	l3=$(counter "$c" walk.split.visited.l3)
	l2=$(counter "$c" walk.split.visited.l2)
	tab3=$(counter "$c" walk.split.tables.l3)
	if [ -n "$walks" ] && [ "$walks" -gt 0 ]; then
		pass "$tree: the split walker ran ($walks walks)"
	else
		failed "$tree: no split walk counted (walk.split.walks = ${walks:-<missing>})"
	fi
	# The memslot need not be 2 MiB aligned: one more level-2 entry then.
	if [ -n "$l2" ] && { [ "$l2" = "$pmds" ] || [ "$l2" = $((pmds + 1)) ]; }; then
		pass "$tree: split visited.l2 = $l2 (one per 2 MiB of the memslot)"
	else
		failed "$tree: split visited.l2 = ${l2:-<missing>}, expected $pmds or $((pmds + 1))"
	fi
	# Memory faulted in at 4K: every level-2 entry is a table, entered on
	# both kernels; only the baseline visits its entries.
	expect_eq "$tree: split tables.l3 (one level-3 table entered per level-2 entry)" "$tab3" "$l2"
	if [ "$tree" = baseline ]; then
		expect_eq "$tree: split visited.l3 (one per 4K page)" "$l3" "$pages"
	else
		expect_eq "$tree: split visited.l3 (every level-3 table stepped over)" "$l3" 0
	fi
}

# check_teardown TREE LOG: walks to destroy empty VMs of 40 bits and of the
# largest IPA size (4K pages: one walk per GiB before patch 0009, one walk
# per stage-2 after).
check_teardown() {
	local tree=$1 log=$2 c line max walks want
	c=$RESULTS_DIR/vm/$tree-teardown-counters.txt
	{ output_of "$log" "cat $DEBUGFS/counters" 2; echo "# base: $RESULTS_BASE"; echo "# tools: $RESULTS_TOOLS"; } >"$c"
	line=$(output_of "$log" "run /vm_churn 0 $CHURN_VMS" | grep '^vm_churn:') || true
	echo "--- $tree: teardown of $CHURN_VMS empty VMs of 40 bits and of the largest IPA size:"
	output_of "$log" "run /vm_churn 40 $CHURN_VMS" | grep '^vm_churn:' | sed 's/^/    /' || true
	echo "    ${line:-vm_churn printed nothing}"
	max=$(sed -n 's/.*ipa_bits=\([0-9]*\).*/\1/p' <<<"$line")
	walks=$(counter "$c" walk.destroy.walks)
	if [ -z "$max" ]; then
		failed "$tree: vm_churn did not run"
		return
	fi
	if [ "$tree" = baseline ]; then
		want=$((CHURN_VMS * ((1 << (40 - 30)) + (1 << (max - 30)))))
		expect_eq "$tree: destroy walks (one per GiB of IPA space, 40 and $max bits)" "$walks" "$want"
	else
		expect_eq "$tree: destroy walks (one per empty stage-2)" "$walks" $((2 * CHURN_VMS))
	fi
}

check_one() {
	local tree=$1 cmds
	local log=$RESULTS_DIR/vm/$tree-check.log
	local vhe=$VHE_RX
	cmds=$(mktemp)
	check_commands >"$cmds"
	if boot "$tree" "$cmds" "$log"; then
		pass "$tree: every command of the check ran as expected (insmod, bad writes refused, rmmod, reload)"
	else
		failed "$tree: boot or commands failed (serial log: $log)"
	fi
	rm -f "$cmds"
	if grep -Eq "$vhe" "$log"; then
		pass "$tree: $(grep -Eo "$vhe" "$log" | head -n 1)"
	else
		failed "$tree: KVM did not initialise in VHE mode"
	fi
	splat_check "$tree" "$log"
	if [ "$(output_of "$log" "cat $DEBUGFS/enable" | head -n 1)" = 1 ]; then
		pass "$tree: the probe is attached after insmod (enable reads 1)"
	else
		failed "$tree: enable did not read 1 after insmod"
	fi
	check_tree_counters "$tree" "$log"
	check_teardown "$tree" "$log"
}

# splat_check TREE LOG
splat_check() {
	if grep -Eq "$SPLAT_RX" "$2"; then
		grep -E -m 5 "$SPLAT_RX" "$2" | sed 's/^/    | /'
		failed "$1: kernel splat in $2"
	else
		pass "$1: no kernel splat"
	fi
}

# selftest_note LOG NAME: why a selftest skipped or failed (from its output).
selftest_note() {
	awk -v cmd="^@@ cmd \\?run /kselftests/$2( |\$)" '
		$0 ~ cmd { on = 1; note = ""; next }
		on && /^@@ / { exit }
		on && /SKIP/ { sub(/.*SKIP[ -]*/, ""); note = $0 }
		on && /^  [a-z0-9_\/]+\.c:[0-9]+:/ { getline; getline; note = $0 }
		END { gsub(/\|/, "/", note); sub(/^ +/, "", note); print note }' "$1"
}

# selftest_outcome LOG NAME: pass, skip, fail or missing.
selftest_outcome() {
	local line
	line=$(grep -E "^@@ (ok|fail) \?run /kselftests/$2( |\$)" "$1" | head -n 1) || true
	case $line in
	'@@ ok '*) echo pass ;;
	*'(exit status 4)') echo skip ;;
	'@@ fail '*) echo fail ;;
	*) echo missing ;;
	esac
}

# run_selftests [TAG]: the SELFTESTS on each kernel; serial logs
# <tree>-TAG.log, table TAG.md (TAG: selftests).
run_selftests() {
	local tag=${1:-selftests} tree t name cmds log files=() table
	table=$RESULTS_DIR/vm/$tag.md
	declare -A outcome note
	for t in "${SELFTESTS[@]}"; do
		name=${t%% *}
		files+=("/kselftests/$name=$USER_DIR/selftests/$name")
	done
	for tree in "${TREES[@]}"; do
		cmds=$(mktemp)
		log=$RESULTS_DIR/vm/$tree-$tag.log
		{
			echo "# Written by scripts/vm.sh $tag"
			# stage2_block_transitions maps 32 MiB of 2 MiB hugetlb pages
			echo "?write /proc/sys/vm/nr_hugepages 64"
			for t in "${SELFTESTS[@]}"; do
				echo "mark selftest ${t%% *}"
				echo "?run /kselftests/$t"
			done
		} >"$cmds"
		if boot "$tree" "$cmds" "$log" "${files[@]}"; then
			pass "$tree: the selftests ran to the end"
		else
			failed "$tree: boot failed (serial log: $log)"
		fi
		rm -f "$cmds"
		splat_check "$tree" "$log"
		for t in "${SELFTESTS[@]}"; do
			name=${t%% *}
			outcome[$tree/$name]=$(selftest_outcome "$log" "$name")
			[ "$tree" != "${TREES[0]}" ] || note[$name]=$(selftest_note "$log" "$name")
		done
	done

	{
		printf '| selftest (arguments) |'
		printf ' %s |' "${TREES[@]}"
		printf ' note (%s) |\n|---|' "${TREES[0]}"
		printf -- '---|%.0s' "${TREES[@]}"
		printf -- '---|\n'
		for t in "${SELFTESTS[@]}"; do
			name=${t%% *}
			# shellcheck disable=SC2016 # backquotes for Markdown
			printf '| `%s` |' "$t"
			for tree in "${TREES[@]}"; do
				printf ' %s |' "${outcome[$tree/$name]}"
			done
			printf ' %s |\n' "${note[$name]:-}"
		done
		results_footer
	} >"$table"
	echo "--- in-tree KVM selftests ($table):"
	sed 's/^/    /' "$table"
	for t in "${SELFTESTS[@]}"; do
		name=${t%% *}
		local first=${outcome[${TREES[0]}/$name]} same=1
		for tree in "${TREES[@]}"; do
			[ "${outcome[$tree/$name]}" = "$first" ] || same=0
		done
		if [ "$same" = 1 ] && [ "$first" != missing ]; then
			pass "$name: $first on every kernel"
		else
			failed "$name: outcomes differ or are missing ($(for tree in "${TREES[@]}"; do
				printf '%s=%s ' "$tree" "${outcome[$tree/$name]}"; done))"
		fi
	done
}

# results_footer: how a results page ends: the base the kernels were built
# from and the exact versions of the tools.
results_footer() {
	printf '\nKernels built from %s.\nTools: %s.\n' "$RESULTS_BASE" "$RESULTS_TOOLS"
}

# thousandfold WHAT BASELINE PATCHED: passes when the patched kernel's count
# is not 0 and the baseline's at least 1000 times it; says nothing when
# either is missing (a run of one kernel).
thousandfold() {
	local what=$1 before=$2 after=$3
	[ -n "$before" ] && [ -n "$after" ] || return 0
	if [ "$after" -gt 0 ] && [ "$before" -ge $((1000 * after)) ]; then
		pass "$what: $before on the baseline, $after on the patched kernel"
	else
		failed "$what: $before on the baseline, $after on the patched kernel: expected 1000x fewer on the patched kernel"
	fi
}

# counter_sum COUNTERS REGEX: the sum of the counters (lines "key value")
# whose key matches REGEX.
counter_sum() {
	awk -v rx="$2" '$1 ~ rx { n += $2 } END { print n + 0 }' <<<"$1"
}

# l2_counters TREE LOG: the walk counters of the L2 test's run in LOG, into
# the table of run_nested and uwalks[TREE].
l2_counters() {
	local tree=$1 c targeted=n/a full=n/a forgotten=n/a
	c=$(output_of "$2" "cat $DEBUGFS/counters" 1)
	uwalks[$tree]=$(counter_sum "$c" '^shadow[.]unmap[.]walks$')
	# The reverse map's own counters exist on the patched kernel only
	if [ "$(counter_sum "$c" '^revmap[.]available$')" = 1 ]; then
		targeted=$(counter_sum "$c" '^revmap[.]targeted_unmaps$')
		full=$(counter_sum "$c" '^revmap[.]full_unmaps_')
		forgotten=$(counter_sum "$c" '^revmap[.]tlbi_forgotten$')
		# The test's L1 remaps a page L2 has read, then TLBIs it
		if [ "$forgotten" -ge 1 ]; then
			pass "$tree: the guest TLBI of $L2_TEST took $forgotten entries out of the reverse map"
		else
			failed "$tree: no reverse-map entry taken out by the guest TLBIs of $L2_TEST"
		fi
		# Its L1 maps a page at two L2 IPAs, which the host drops: an
		# unknown span, so a full unmap of the shadow MMU, which steps
		# over unmapped space (0019) instead of walking it a GiB at a time
		if [ "$full" -ge 1 ]; then
			pass "$tree: the page $L2_TEST aliases made $full full unmap(s) of a shadow MMU"
		else
			failed "$tree: no full unmap of a shadow MMU for the page $L2_TEST aliases"
		fi
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$tree" "${uwalks[$tree]}" \
		"$(counter_sum "$c" '^shadow[.]unmap[.]visited[.]')" \
		"$(counter_sum "$c" '^shadow[.]skip[.]walks$')" \
		"$(counter_sum "$c" '^shadow[.]attr[.]walks$')" "$targeted" "$full" \
		"$forgotten" >>"$l2table"
	[ -n "$c" ] || failed "$tree: no counters after $L2_TEST (serial log: $2)"
}

# run_nested: the NESTED_SELFTESTS on each kernel, booted with
# kvm-arm.mode=nested under the nested-capable QEMU; KVM must report NV2.
# Then the teardown of VMs with an EL2 vCPU (and so nested MMUs), timed
# and counted in destroy walks.
run_nested() {
	local tree log cmds line walks nv2='kvm \[[0-9]+\]: VHE\+NV2 mode initialized successfully'
	local table=$RESULTS_DIR/vm/nested-teardown.md l2table=$RESULTS_DIR/vm/nested-unmap.md
	declare -A dwalks uwalks
	SELFTESTS=("${NESTED_SELFTESTS[@]}")
	run_selftests nested-selftests
	for tree in "${TREES[@]}"; do
		log=$RESULTS_DIR/vm/$tree-nested-selftests.log
		if grep -Eq "$nv2" "$log"; then
			pass "$tree: $(grep -Eo "$nv2" "$log" | head -n 1) ($("$REPO_ROOT/scripts/nested-qemu.sh" version))"
		else
			failed "$tree: KVM did not come up in nested mode (no \"VHE+NV2 mode initialized\" in $log)"
		fi
	done

	for tree in "${TREES[@]}"; do
		if [ "$(selftest_outcome "$RESULTS_DIR/vm/$tree-nested-selftests.log" "$L2_TEST")" = pass ]; then
			pass "$tree: $L2_TEST passed: L2 never read a page the host dropped"
		else
			failed "$tree: $L2_TEST did not pass (serial log: $RESULTS_DIR/vm/$tree-nested-selftests.log)"
		fi
	done

	# One boot per kernel: the L2 test with the walk counters, then the
	# teardown of VMs with nested MMUs.
	cmds=$(mktemp)
	printf '%s\n' "# Written by scripts/vm.sh nested" "insmod /$MODULE_NAME.ko" \
		"write $DEBUGFS/reset 1" "run /kselftests/$L2_TEST" "cat $DEBUGFS/counters" \
		"write $DEBUGFS/reset 1" "run /vm_churn 0 $CHURN_VMS 1" \
		"cat $DEBUGFS/counters" "rmmod $MODULE_NAME" >"$cmds"
	printf '| kernel | VMs (1 vCPU with EL2 each) | time per VM (TCG) | destroy walks |\n|---|---|---|---|\n' >"$table"
	printf '| kernel | shadow unmap walks | shadow entries visited by unmaps | shadow skip walks | shadow write-protect walks | targeted unmaps | full unmaps | entries taken out by guest TLBIs |\n|---|---|---|---|---|---|---|---|\n' >"$l2table"
	for tree in "${TREES[@]}"; do
		log=$RESULTS_DIR/vm/$tree-nested-teardown.log
		boot "$tree" "$cmds" "$log" "/kselftests/$L2_TEST=$USER_DIR/selftests/$L2_TEST" ||
			failed "$tree: nested counters boot failed (serial log: $log)"
		l2_counters "$tree" "$log"
		line=$(output_of "$log" "run /vm_churn 0 $CHURN_VMS 1" | grep '^vm_churn:') || true
		walks=$(output_of "$log" "cat $DEBUGFS/counters" 2 | awk '$1 == "walk.destroy.walks" { print $2 }') || true
		dwalks[$tree]=${walks:-0}
		printf '| %s | %s | %s | %s |\n' "$tree" "$CHURN_VMS" \
			"$(sed -n 's/.*per_vm=\([0-9.]*ms\).*/\1/p' <<<"$line")" "${walks:-?}" >>"$table"
		echo "    $tree: ${line:-vm_churn printed nothing}; destroy walks ${walks:-?}"
	done
	rm -f "$cmds"
	results_footer >>"$table"
	results_footer >>"$l2table"
	echo "--- shadow stage-2 walks of $L2_TEST ($l2table):"
	sed 's/^/    /' "$l2table"
	# The baseline empties every shadow MMU, one walk per GiB of the
	# host's PA range, on each host unmap; the revmap unmaps what was
	# mapped from the range, and its full unmaps step over what is not
	# mapped.
	thousandfold "$L2_TEST, shadow unmap walks" "${uwalks[baseline]:-}" "${uwalks[patched]:-}"
	echo "--- teardown of VMs with nested MMUs ($table):"
	sed 's/^/    /' "$table"
	# Every stage-2 of an empty VM (canonical and nested) costs one walk
	# after patch 0009, one per GiB of its IPA space before.
	thousandfold "nested teardown, destroy walks" "${dwalks[baseline]:-}" "${dwalks[patched]:-}"
}

# repeat_selftest N "NAME ARGS": boot each kernel N times, each time running
# the selftest once; count its outcomes and the boots with a kernel splat.
repeat_selftest() {
	local n=$1 t=$2 name=${2%% *} tree i cmds log o splat summary
	summary=$RESULTS_DIR/vm/repeat-$name.md
	cmds=$(mktemp)
	printf '# Written by scripts/vm.sh repeat\nmark selftest %s\n?run /kselftests/%s\n' \
		"$name" "$t" >"$cmds"
	printf '| kernel | boots | pass | skip | fail | missing | boots with a splat |\n|---|---|---|---|---|---|---|\n' >"$summary"
	for tree in "${TREES[@]}"; do
		declare -A count=([pass]=0 [skip]=0 [fail]=0 [missing]=0)
		splat=0
		for i in $(seq 1 "$n"); do
			log=$RESULTS_DIR/vm/$tree-repeat-$name-$i.log
			boot "$tree" "$cmds" "$log" "/kselftests/$name=$USER_DIR/selftests/$name" || true
			o=$(selftest_outcome "$log" "$name")
			count[$o]=$((count[$o] + 1))
			if grep -Eq "$SPLAT_RX" "$log"; then
				splat=$((splat + 1))
				grep -E -m 3 "$SPLAT_RX" "$log" | sed "s/^/    | $tree #$i: /"
			fi
			echo "    $tree #$i: $o"
		done
		printf '| %s | %d | %d | %d | %d | %d | %d |\n' "$tree" "$n" "${count[pass]}" \
			"${count[skip]}" "${count[fail]}" "${count[missing]}" "$splat" >>"$summary"
		if [ "${count[pass]}" -eq "$n" ] && [ "$splat" -eq 0 ]; then
			pass "$tree: $t passed in all $n boots, no splat"
		else
			failed "$tree: $t: ${count[pass]} of $n boots passed, $splat with a splat (logs: $RESULTS_DIR/vm/$tree-repeat-$name-*.log)"
		fi
		unset count
	done
	rm -f "$cmds"
	results_footer >>"$summary"
	echo "--- $t, $n boots per kernel ($summary):"
	sed 's/^/    /' "$summary"
}

# The host path, in the VM: the VM kernels stand in for an arm64 host
# booted into each kernel in turn. scripts/bench.sh host runs there,
# unmodified, under bash with busybox and python3 (scripts/arm64-root.sh),
# as a hardware user runs it; its results must give the walk-step counts of
# the QEMU mode (vm.sh check). Before it, the failures it must refuse.
HOST_BENCH_DIR=/tmp/hp

# host_case NAME EXPECT_RC SETUP TEARDOWN BENCH_ARGS...: a script for the VM
# running bench.sh with BENCH_ARGS, then printing what it left behind.
host_case() {
	local name=$1 rc=$2 setup=$3 teardown=$4 hp=/sys/kernel/mm/hugepages
	shift 4
	{
		echo '#!/bin/bash'
		echo "# $name (expected exit status $rc)"
		echo "hp=$hp module=$MODULE_NAME"
		cat <<'SH'
pools() { echo "$(cat $hp/hugepages-2048kB/nr_hugepages),$(cat $hp/hugepages-1048576kB/nr_hugepages)"; }
before=$(pools)
SH
		echo "$setup"
		printf '%q ' /bin/bash /kvm-s2-walk/scripts/bench.sh -o "$HOST_BENCH_DIR" -r 1 -b "${CHECK_MIB}M" \
			-s anonymous -m 6 -v 1 -i 2 -S 2M -T /dirty_log_perf_test -B "$HOST_BASE" "$@"
		if [ -n "${HOST_CASE_TERM:-}" ]; then
			# killed once its probe has started (module loaded, pools raised)
			echo "& pid=\$!; while [ ! -e $HOST_CASE_TERM ]; do sleep 0.2; done; kill -TERM \$pid; wait \$pid"
		else
			echo
		fi
		echo 'rc=$?'
		echo "$teardown"
		cat <<'SH'
loaded=no; [ ! -d /sys/module/$module ] || loaded=yes
echo "@@@ rc=$rc module_loaded=$loaded hugepages_before=$before hugepages_after=$(pools)"
exit $rc
SH
	} >"$HOST_HP/$name"
	chmod +x "$HOST_HP/$name"
}

# host_commands TREE: the VM's /commands and the scripts under /hp.
host_commands() {
	local tree=$1 ko=/$MODULE_NAME.ko other=baseline
	[ "$tree" != baseline ] || other=patched
	rm -rf "$HOST_HP"
	mkdir -p "$HOST_HP"
	echo "# Written by scripts/vm.sh host"
	# shellcheck disable=SC2016 # expanded in the VM
	printf '#!/bin/bash\necho "bash $BASH_VERSION, $(python3 --version), $(busybox | head -n 1)"\n' >"$HOST_HP/versions"
	chmod +x "$HOST_HP/versions"
	echo "run /bin/busybox --install -s"
	echo "run /hp/versions"
	if [ "$tree" = baseline ]; then
		host_case no-module 2 '' '' -K /nonexistent.ko host "$tree"
		host_case bad-module 1 "cp $ko /tmp/bad.ko && printf '\\377\\377\\377\\377' | dd of=/tmp/bad.ko bs=1 seek=40 conv=notrunc 2>/dev/null" \
			'' -K /tmp/bad.ko host "$tree"
		host_case short-hugepages 1 '' '' -K "$ko" -b 1G -s anonymous_hugetlb_1gb host "$tree"
		host_case no-debugfs 3 'umount /sys/kernel/debug' 'mount -t debugfs debugfs /sys/kernel/debug' \
			-K "$ko" host "$tree"
		printf '!run /hp/%s\n' no-module bad-module short-hugepages no-debugfs
	else
		host_case wrong-label 1 '' '' -K "$ko" host "$other"
		HOST_CASE_TERM=$HOST_BENCH_DIR/$tree.probe.log \
			host_case sigterm 143 '' '' -K "$ko" -s anonymous_hugetlb_2mb host "$tree"
		echo "!run /hp/wrong-label"
		echo "!run /hp/sigterm"
	fi
	host_case bench 0 '' '' -K "$ko" host "$tree"
	echo "run /hp/bench"
	echo "cat $HOST_BENCH_DIR/$tree.json"
}

# host_expect TREE LOG CASE RC REGEX: the case failed with RC, said REGEX,
# and left no module loaded and the hugepage pools as they were.
host_expect() {
	local tree=$1 log=$2 name=$3 rc=$4 re=$5 out tail
	out=$(output_of "$log" "!run /hp/$name")
	tail=$(grep '^@@@ rc=' <<<"$out" | tail -n 1) || true
	if grep -Eq -- "$re" <<<"$out" && [[ $tail == "@@@ rc=$rc "* ]] &&
	   [[ $tail == *module_loaded=no* ]] &&
	   [ "$(sed -n 's/.*hugepages_before=\([^ ]*\).*/\1/p' <<<"$tail")" = "$(sed -n 's/.*hugepages_after=\([^ ]*\).*/\1/p' <<<"$tail")" ]; then
		pass "$tree: bench.sh host refuses: $name (exit $rc: $(grep -Eo -m 1 -- "$re" <<<"$out")); module unloaded, hugepages restored"
	else
		grep -E 'ERROR|@@@' <<<"$out" | sed 's/^/    | /'
		failed "$tree: bench.sh host, case $name: expected exit $rc and /$re/, module unloaded, hugepages restored (serial log: $log)"
	fi
}

# host_counters JSON SCENARIO BACKING: the walk.split.* counters of the
# first ok run of that cell, "key value" lines, sorted.
host_counters() {
	python3 - "$@" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for r in data["runs"]:
    if r["status"] == "ok" and r.get("scenario") == sys.argv[2] and \
            r.get("backing") == sys.argv[3] and r.get("floor") != "1":
        for k in sorted(r["counters"]):
            if k.startswith("walk.split."):
                print(k, r["counters"][k])
        break
PY
}

run_host_path() {
	local tree log cmds dir=$RESULTS_DIR/vm/host rel meta check_c got want
	local pages=$((CHECK_MIB * 256)) t0=$SECONDS
	"$REPO_ROOT/scripts/arm64-root.sh" provision
	HOST_BASE=$RESULTS_BASE
	HOST_HP=$(mktemp -d)
	rm -rf "$dir"
	mkdir -p "$dir"
	VM_CMDLINE="loglevel=5 $VM_CMDLINE"
	for tree in "${TREES[@]}"; do
		log=$RESULTS_DIR/vm/$tree-host.log
		cmds=$dir/$tree.commands
		host_commands "$tree" >"$cmds"
		if boot "$tree" "$cmds" "$log" "/=$("$REPO_ROOT/scripts/arm64-root.sh" path)" \
			"/kvm-s2-walk/scripts=$REPO_ROOT/scripts" "/hp=$HOST_HP"; then
			pass "$tree: every command in the VM as expected ($(output_of "$log" "run /hp/versions" | head -n 1))"
		else
			failed "$tree: boot or commands failed (serial log: $log)"
		fi
		splat_check "$tree" "$log"
		if [ "$tree" = baseline ]; then
			host_expect "$tree" "$log" no-module 2 'ERROR: -K /nonexistent\.ko: no such module file'
			host_expect "$tree" "$log" bad-module 1 'ERROR: insmod /tmp/bad\.ko failed'
			host_expect "$tree" "$log" short-hugepages 1 'ERROR: short hugepage allocation: [0-9]+ of [0-9]+ 1 GiB pages'
			host_expect "$tree" "$log" no-debugfs 3 'ERROR: debugfs is not mounted'
		else
			host_expect "$tree" "$log" wrong-label 1 "ERROR: kernel [^ ]+ does not match label 'baseline'"
			host_expect "$tree" "$log" sigterm 143 "==> \[[0-9:]+\] hugepages: [^ ]+ 0 -> [0-9]+"
		fi
		output_of "$log" "cat $HOST_BENCH_DIR/$tree.json" >"$dir/$tree.json"
		output_of "$log" "run /hp/bench" >"$dir/$tree.bench.log"
		if meta=$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["meta"]; print("kernel %s, kind %s, module built for %s, base %s" % (m["kernel_release"], m["kind"], m["module_vermagic"].split()[0], m["base"]))' "$dir/$tree.json" 2>/dev/null) &&
		   [[ $meta == *"kind $tree, "* ]] && [[ $meta == *"base $HOST_BASE" ]]; then
			pass "$tree: $tree.json written by bench.sh host in the VM: $meta"
		else
			failed "$tree: no results file with kernel, kind $tree, module and base from bench.sh host (serial log: $log)"
		fi
	done
	rm -rf "$HOST_HP"

	step "bench.sh compare of the two results files of the host path"
	if "$REPO_ROOT/scripts/bench.sh" -o "$dir" compare "$dir/baseline.json" "$dir/patched.json" >"$dir/compare.out" 2>&1; then
		pass "bench.sh compare of the host path's results ($dir/compare.md)"
		grep -E '^\| 1 \| anonymous ' "$dir/compare.md" | sed 's/^/    /'
	else
		sed 's/^/    | /' "$dir/compare.out"
		failed "bench.sh compare of the host path's results"
	fi
	# The QEMU mode's counts: vm.sh check asserts them (same
	# dirty_log_perf_test command as scenario 1 here).
	for tree in "${TREES[@]}"; do
		got=$(host_counters "$dir/$tree.json" 1 anonymous 2>/dev/null) || got=
		want=$([ "$tree" = baseline ] && echo "$pages" || echo 0)
		expect_eq "$tree: host path, split visited.l3 (vm.sh check's count)" \
			"$(awk '$1 == "walk.split.visited.l3" { print $2 }' <<<"$got")" "$want"
		expect_eq "$tree: host path, split tables.l3 = visited.l2" \
			"$(awk '$1 == "walk.split.tables.l3" { print $2 }' <<<"$got")" \
			"$(awk '$1 == "walk.split.visited.l2" { print $2 }' <<<"$got")"
		check_c=$RESULTS_DIR/vm/$tree-counters.txt
		if [ -s "$check_c" ]; then
			if [ -n "$got" ] && [ "$got" = "$(grep '^walk\.split\.' "$check_c" | LC_ALL=C sort)" ]; then
				pass "$tree: host path, every walk.split counter ($(wc -l <<<"$got")) equals vm.sh check's ($check_c)"
			else
				diff <(grep '^walk\.split\.' "$check_c" | LC_ALL=C sort) <(echo "$got") | sed 's/^/    | /'
				failed "$tree: host path's walk.split counters differ from vm.sh check's ($check_c)"
			fi
		fi
	done
	# The compare table: the same steps, as the QEMU mode's compare shows them.
	rel=$(python3 - "$dir/compare.json" <<'PY' 2>/dev/null
import json, sys
for r in json.load(open(sys.argv[1]))["rows"]:
    if r["scenario"] == "1" and r["backing"] == "anonymous" and r["metric"] == "enable_dirty_log_s":
        print("%d %d %d %d" % (r["split_l3_before"], r["split_l3_after"], r["split_steps_before"], r["split_steps_after"]))
PY
) || rel=
	local sb sa
	sb=$(host_counters "$dir/baseline.json" 1 anonymous 2>/dev/null | awk '$1 ~ /^walk\.split\.visited\./ { s += $2 } END { print s + 0 }')
	sa=$(host_counters "$dir/patched.json" 1 anonymous 2>/dev/null | awk '$1 ~ /^walk\.split\.visited\./ { s += $2 } END { print s + 0 }')
	expect_eq "compare (scenario 1, anonymous): last-level visits before, after; split steps before, after" \
		"$rel" "$pages 0 $sb $sa"
	info "host path done in $(elapsed $((SECONDS - t0)))"
}

main() {
	TREES=()
	while getopts ht: opt; do
		case $opt in
		h) usage; exit 0 ;;
		t) tree_dir "$OPTARG" >/dev/null; TREES+=("$OPTARG") ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || { usage >&2; exit "$E_USAGE"; }
	[ ${#TREES[@]} -gt 0 ] || TREES=(baseline patched)
	local cmd=$1 file='' tree
	shift
	case $cmd in
	build | check | selftests | nested | host) [ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; } ;;
	repeat)
		{ [ $# -eq 2 ] && [[ $1 =~ ^[1-9][0-9]{0,2}$ ]]; } ||
			die "$E_USAGE" "repeat needs a count (1-999) and a selftest with its arguments, e.g. repeat 10 'memslot_perf_test -l 1 -r 1'"
		[[ $2 =~ ^[a-z0-9_/]+( |$) ]] || die "$E_USAGE" "repeat: '$2' is no selftest name"
		;;
	boot)
		[ $# -eq 1 ] || die "$E_USAGE" "boot needs one commands file (see vm/init.c)"
		file=$(realpath -e -- "$1" 2>/dev/null) || die "$E_USAGE" "no such commands file: $1"
		;;
	*) die "$E_USAGE" "unknown command '$cmd' (build, check, selftests, nested, repeat or boot; see -h)" ;;
	esac
	if ! [[ $CHECK_MIB =~ ^[1-9][0-9]*$ ]] || [ $((CHECK_MIB % 2)) -ne 0 ]; then
		die "$E_USAGE" "CHECK_MIB=$CHECK_MIB: a positive even number of MiB is needed"
	fi
	need_cmd qemu-system-aarch64 "${CROSS_COMPILE}gcc" make flock gzip timeout sha256sum
	need_cross_libc

	if [ "$cmd" = selftests ] || [ "$cmd" = nested ]; then
		local names=() t list=("${SELFTESTS[@]}")
		[ "$cmd" = selftests ] || list=("${NESTED_SELFTESTS[@]}")
		for t in "${list[@]}"; do
			names+=("${t%% *}")
		done
		if [ "$cmd" = nested ]; then
			"$REPO_ROOT/scripts/nested-qemu.sh" provision
			QEMU_RUN=("$REPO_ROOT/scripts/nested-qemu.sh" run)
			VM_CMDLINE="kvm-arm.mode=nested $VM_CMDLINE"
		fi
		build_all "${names[@]}"
	elif [ "$cmd" = repeat ]; then
		build_all "${2%% *}"
	else
		build_all
	fi
	# shellcheck disable=SC2119 # the pristine tree
	RESULTS_BASE=$( (base_description) 2>/dev/null) || RESULTS_BASE="an unknown base"
	RESULTS_TOOLS=$(tool_versions)
	case $cmd in
	selftests) run_selftests ;;
	nested) run_nested ;;
	host) run_host_path ;;
	repeat) repeat_selftest "$1" "$2" ;;
	build) info "built: ${TREES[*]}"; return 0 ;;
	boot)
		for tree in "${TREES[@]}"; do
			if boot "$tree" "$file" "$RESULTS_DIR/vm/$tree-boot.log"; then
				pass "$tree: boot"
			else
				failed "$tree: boot"
			fi
		done
		;;
	check)
		for tree in "${TREES[@]}"; do
			check_one "$tree"
		done
		;;
	esac
	summary_line "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
}

main "$@"
