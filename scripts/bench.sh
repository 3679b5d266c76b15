#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Before/after benchmark: dirty_log_perf_test with eager page splitting on
# the baseline kernel (7.3.y + the walk counters) and on the patched kernel
# (the whole series), the walk counters of every run, and a comparison.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

REPORT=$REPO_ROOT/scripts/bench-report.py
ALL_BACKINGS="anonymous anonymous_thp anonymous_hugetlb_2mb anonymous_hugetlb_1gb"

usage() {
	cat <<USAGE
Usage: $0 [options] [qemu]
       $0 [options] host LABEL
       $0 [-o DIR] compare BEFORE.json AFTER.json

qemu (default)  build the baseline and the patched VM kernels (see vm.sh),
                boot each in QEMU at EL2 (TCG), run the matrix, compare.
host LABEL      run the matrix on this arm64 machine, booted into the kernel
                under test (built with CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y),
                with dirty_log_perf_test from -T and the module from -K;
                writes DIR/LABEL.json. Run it once per kernel, then compare.
compare A B     compare two results files (before, after).

The matrix: every guest mode (-m), backing (-s) and scenario, -r times,
repetitions outermost so that drift spreads over all cells:
  scenario 1: dirty_log_perf_test -g (huge pages split when dirty logging
              is enabled); scenario 2: manual protection (split when the
              dirty log is cleared). Both with -S CHUNK (eager splitting).

Options:
  -r N       repetitions (default 3)
  -b SIZE    guest memory per vCPU (default 256M)
  -v N       vCPUs (default 1)
  -i N       dirty_log_perf_test iterations (default 2)
  -s LIST    backings, quoted list (default "anonymous anonymous_thp
             anonymous_hugetlb_2mb"; also anonymous_hugetlb_1gb, which needs
             -b 1G or more and -M 4G or more)
  -m LIST    guest modes of dirty_log_perf_test -m (default "6": 40-bit IPA,
             4K guest pages; "8" is 64K guest pages)
  -S SIZE    eager split chunk size (default 2M: 4K host pages)
  -M SIZE    QEMU memory (default 2G)
  -o DIR     results directory (default \$RESULTS_DIR/bench/<date>)
  -T FILE    (host) dirty_log_perf_test binary with -S (patch 0008)
  -K FILE    (host) kvm_s2_walk_stats.ko built for the running kernel
  -h         this help

Results: DIR/<kernel>.log (serial log, raw), DIR/<kernel>.json,
DIR/compare.{md,csv,json,svg,png}. Numbers from QEMU are TCG emulation
numbers: use them for ratios and walk-step counts, not as hardware times.

Exit codes: 0 ok, $E_FAIL a kernel did not boot or nothing could be compared,
$E_USAGE bad arguments, $E_PREREQ missing tools.
USAGE
}

# matrix_commands KERNEL TEST MODULE: the commands file of one kernel.
matrix_commands() {
	local kernel=$1 test=$2 module=$3 rep mode backing scen opts pages2m=0 pages1g=0
	local bytes
	bytes=$(size_bytes "$MEM")
	echo "# Written by scripts/bench.sh for the $kernel kernel"
	echo "insmod $module"
	for backing in $BACKINGS; do
		case $backing in
		anonymous_hugetlb_2mb) pages2m=$((bytes * VCPUS / (2 << 20) + 16)) ;;
		anonymous_hugetlb_1gb) pages1g=$(((bytes * VCPUS + (1 << 30) - 1) / (1 << 30) + 1)) ;;
		esac
	done
	[ "$pages2m" -eq 0 ] || echo "?write /proc/sys/vm/nr_hugepages $pages2m"
	[ "$pages1g" -eq 0 ] ||
		echo "?write /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages $pages1g"
	echo "?cat /proc/meminfo"
	for rep in $(seq 1 "$REPS"); do
		for mode in $MODES; do
			for backing in $BACKINGS; do
				for scen in 1 2; do
					opts="-m $mode -v $VCPUS -b $MEM -s $backing -i $ITERS -S $CHUNK"
					[ "$scen" = 2 ] || opts+=" -g"
					echo -n "mark run kernel=$kernel scenario=$scen backing=$backing mode=$mode rep=$rep"
					if [ "$backing" = anonymous_hugetlb_1gb ] && [ "$bytes" -lt $((1 << 30)) ]; then
						echo " skip=1_GiB_pages_need_-b_1G_or_more"
						continue
					fi
					echo
					echo "write $DEBUGFS/reset 1"
					echo "?run $test $opts"
					echo "cat $DEBUGFS/counters"
				done
			done
		done
	done
	echo "rmmod $MODULE_NAME"
}

# size_bytes 512M: bytes.
size_bytes() {
	local n=${1%[KkMmGg]} unit=${1: -1}
	[[ $n =~ ^[0-9]+$ ]] || die "$E_USAGE" "bad size '$1' (e.g. 512M, 1G)"
	case $unit in
	[Kk]) echo $((n << 10)) ;;
	[Mm]) echo $((n << 20)) ;;
	[Gg]) echo $((n << 30)) ;;
	*) echo "$n" ;;
	esac
}

# parse_kernel KERNEL LOG: LOG into DIR/KERNEL.json.
parse_kernel() {
	python3 "$REPORT" parse "$1" "$2" -o "$OUT/$1.json"
}

compare() {
	step "comparing $1 and $2"
	python3 "$REPORT" compare "$1" "$2" -o "$OUT" --title "$TITLE"
	info "results: $OUT"
}

run_qemu() {
	local tree cmds t0=$SECONDS booted=0
	TREES=(baseline patched)
	VM_MEM=$QEMU_MEM
	# shellcheck disable=SC2119 # no selftests besides dirty_log_perf_test
	build_all
	for tree in "${TREES[@]}"; do
		cmds=$OUT/$tree.commands
		matrix_commands "$tree" /dirty_log_perf_test "/$MODULE_NAME.ko" >"$cmds"
		step "bench $tree: $(grep -c '^mark run' "$cmds") runs (-b $MEM -v $VCPUS -i $ITERS, modes: $MODES; backings: $BACKINGS; $REPS reps)"
		if boot "$tree" "$cmds" "$OUT/$tree.log"; then
			booted=$((booted + 1))
		elif ! grep -q '^@@ done' "$OUT/$tree.log"; then
			die "$E_FAIL" "the $tree kernel did not finish the benchmark; serial log kept: $OUT/$tree.log"
		fi
		parse_kernel "$tree" "$OUT/$tree.log"
	done
	TITLE="dirty_log_perf_test -b $MEM -v $VCPUS -i $ITERS -S $CHUNK, QEMU TCG emulation, $(nproc)-core $(uname -m) host, kernels built from $(base_description)"
	compare "$OUT/baseline.json" "$OUT/patched.json"
	info "benchmark done in $(elapsed $((SECONDS - t0)))"
}

run_host() {
	local label=$1 cmds
	[ "$(uname -m)" = aarch64 ] || die "$E_USAGE" "host mode runs on an arm64 machine (this is $(uname -m))"
	[ -x "${HOST_TEST:-/nonexistent}" ] || die "$E_USAGE" "host mode needs -T <dirty_log_perf_test with -S>"
	[ -f "${HOST_MODULE:-/nonexistent}" ] || die "$E_USAGE" "host mode needs -K <kvm_s2_walk_stats.ko for this kernel>"
	[ -e /dev/kvm ] || die "$E_PREREQ" "no /dev/kvm on this machine"
	cmds=$OUT/$label.commands
	matrix_commands "$label" "$(realpath "$HOST_TEST")" "$(realpath "$HOST_MODULE")" >"$cmds"
	step "bench host $label: $(grep -c '^mark run' "$cmds") runs; log: $OUT/$label.log"
	"$REPO_ROOT/scripts/run-commands.sh" "$cmds" | tee "$OUT/$label.log" || true
	parse_kernel "$label" "$OUT/$label.log"
	info "now boot the other kernel, run host again, then: $0 compare A.json B.json"
}

main() {
	REPS=3 MEM=256M VCPUS=1 ITERS=2 CHUNK=2M QEMU_MEM=2G
	BACKINGS="anonymous anonymous_thp anonymous_hugetlb_2mb" MODES=6
	OUT='' HOST_TEST='' HOST_MODULE=''
	while getopts hr:b:v:i:s:m:S:M:o:T:K: opt; do
		case $opt in
		h) usage; exit 0 ;;
		r) REPS=$OPTARG ;;
		b) MEM=$OPTARG ;;
		v) VCPUS=$OPTARG ;;
		i) ITERS=$OPTARG ;;
		s) BACKINGS=$OPTARG ;;
		m) MODES=$OPTARG ;;
		S) CHUNK=$OPTARG ;;
		M) QEMU_MEM=$OPTARG ;;
		o) OUT=$OPTARG ;;
		T) HOST_TEST=$OPTARG ;;
		K) HOST_MODULE=$OPTARG ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	local cmd=${1:-qemu} b
	[ $# -eq 0 ] || shift

	[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "$E_USAGE" "-r $REPS: a positive number is needed"
	[[ $VCPUS =~ ^[1-9][0-9]*$ ]] || die "$E_USAGE" "-v $VCPUS: a positive number is needed"
	[[ $ITERS =~ ^([2-9]|[1-9][0-9]+)$ ]] || die "$E_USAGE" "-i $ITERS: dirty_log_perf_test needs 2 or more"
	[[ $MEM =~ ^[1-9][0-9]*[KkMmGg]$ ]] || die "$E_USAGE" "-b $MEM: a size such as 512M or 1G is needed"
	[[ $CHUNK =~ ^[1-9][0-9]*[KkMmGg]$ ]] || die "$E_USAGE" "-S $CHUNK: a size such as 2M is needed"
	[[ $QEMU_MEM =~ ^[1-9][0-9]*[MmGg]$ ]] || die "$E_USAGE" "-M $QEMU_MEM: a size such as 3G is needed"
	[[ $MODES =~ ^[0-9\ ]+$ ]] || die "$E_USAGE" "-m '$MODES': guest mode numbers (dirty_log_perf_test -h) are needed"
	for b in $BACKINGS; do
		[[ " $ALL_BACKINGS " == *" $b "* ]] ||
			die "$E_USAGE" "-s: unknown backing '$b' (one of: $ALL_BACKINGS)"
	done
	[ -n "$OUT" ] || OUT=$RESULTS_DIR/bench/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$OUT"
	OUT=$(realpath "$OUT")
	need_cmd python3

	case $cmd in
	qemu)
		[ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; }
		need_cmd qemu-system-aarch64 "${CROSS_COMPILE}gcc" make flock gzip timeout
		run_qemu
		;;
	host)
		[ $# -eq 1 ] || die "$E_USAGE" "host needs a LABEL (e.g. baseline or patched)"
		[[ $1 =~ ^[A-Za-z0-9_.-]+$ ]] || die "$E_USAGE" "LABEL '$1': letters, digits, '.', '_' and '-' only"
		run_host "$1"
		;;
	compare)
		[ $# -eq 2 ] || die "$E_USAGE" "compare needs two results files"
		[ -f "$1" ] || die "$E_USAGE" "no such results file: $1"
		[ -f "$2" ] || die "$E_USAGE" "no such results file: $2"
		TITLE="dirty_log_perf_test, $(basename "$1" .json) vs $(basename "$2" .json)"
		compare "$1" "$2"
		;;
	*) die "$E_USAGE" "unknown command '$cmd' (qemu, host or compare; see -h)" ;;
	esac
}

main "$@"
