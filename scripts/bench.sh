#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Before/after benchmark: dirty_log_perf_test with eager page splitting on
# the baseline kernel (7.3.y + the walk counters) and on the patched kernel
# (the whole series), the walk counters of every run, and a comparison.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/vm-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm-lib.sh"

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
                LABEL starts with baseline or patched: a probe split checks
                that the running kernel is that one (baseline: the split
                visits last-level entries; patched: none) and the run is
                refused otherwise. As root: loads the module, raises the
                hugetlb pools as the backings need (and sets them back on
                exit, error or Ctrl-C); any failure (module, hugepages,
                THP, debugfs, a command of the matrix) ends it non-zero.
compare A B     compare two results files (before, after).

The matrix: every guest mode (-m), backing (-s) and scenario, -r times,
repetitions outermost so that drift spreads over all cells:
  scenario 1: dirty_log_perf_test -g (huge pages split when dirty logging
              is enabled); scenario 2: manual protection (split when the
              dirty log is cleared). Both with -S CHUNK (eager splitting).
  floor:      on the patched kernel, each cell once more without -S
              (eager split off: write protection alone), the least the
              step can cost; compare shows it and after/floor.

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
  -F         no floor runs
  -p LIST    (qemu) page sizes of the VM kernel pairs, quoted list (default
             "4k"; "4k 64k" adds a 64K-page pair, vm-<tree>-64k, built
             with vm/page-64k.config and run with 512M chunks: results in
             DIR/64k/)
  -M SIZE    QEMU memory (default 2G)
  -o DIR     results directory (default \$RESULTS_DIR/bench/<date>)
  -T FILE    (host) dirty_log_perf_test binary with -S (patch 0008)
  -K FILE    (host) kvm_s2_walk_stats.ko built for the running kernel
  -B TEXT    the base the kernels were built from, for the results files
             (default: the workbench's pristine tree, KERNEL_SRC or the
             Debian source: git describe and commit, or package version)
  -h         this help

Results: DIR/<kernel>.log (serial log, raw), DIR/<kernel>.json,
DIR/compare.{md,csv,json,svg,png}. Numbers from QEMU are TCG emulation
numbers: use them for ratios and walk-step counts, not as hardware times.

Exit codes: 0 ok; $E_FAIL a kernel did not boot, a run failed, the kernel does
not match its label, insmod failed, a short hugepage allocation, or nothing
could be compared; $E_USAGE bad arguments; $E_PREREQ missing tools, not root, no
debugfs, THP or hugetlb pages of the size asked for.
USAGE
}

# matrix_commands KERNEL TEST MODULE HOST FLOOR: the commands file of one
# kernel. For host mode (HOST "host"), bench.sh itself loads the module and
# sets the hugepages (and checks both): the file has neither. With FLOOR
# "floor", every cell also runs without -S (eager split off: write
# protection alone), marked floor=1: the floor of the cell.
matrix_commands() {
	local kernel=$1 test=$2 module=$3 host=${4:-} floor=${5:-} rep mode backing scen opts f
	local bytes
	bytes=$(size_bytes "$MEM")
	hugepages_needed
	echo "# Written by scripts/bench.sh for the $kernel kernel"
	echo "cat /proc/sys/kernel/osrelease"
	echo "cat /proc/cmdline"
	if [ -z "$host" ]; then
		echo "insmod $module"
		[ "$PAGES_2M" -eq 0 ] || echo "?write /proc/sys/vm/nr_hugepages $PAGES_2M"
		[ "$PAGES_1G" -eq 0 ] ||
			echo "?write /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages $PAGES_1G"
	fi
	echo "?cat /sys/module/$MODULE_NAME/version"
	echo "?cat /proc/meminfo"
	for rep in $(seq 1 "$REPS"); do
		for mode in $MODES; do
			for backing in $BACKINGS; do
				for scen in 1 2; do
					for f in '' ${floor:+1}; do
						opts="-m $mode -v $VCPUS -b $MEM -s $backing -i $ITERS"
						[ -n "$f" ] || opts+=" -S $CHUNK"
						[ "$scen" = 2 ] || opts+=" -g"
						echo -n "mark run kernel=$kernel scenario=$scen backing=$backing mode=$mode rep=$rep${f:+ floor=1}"
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
	done
	[ -n "$host" ] || echo "rmmod $MODULE_NAME"
}

# hugepages_needed: PAGES_2M and PAGES_1G, the hugetlb pages the backings
# need (with some slack for the 2 MiB ones).
hugepages_needed() {
	local bytes backing
	bytes=$(size_bytes "$MEM")
	PAGES_2M=0 PAGES_1G=0
	for backing in $BACKINGS; do
		case $backing in
		anonymous_hugetlb_2mb) PAGES_2M=$((bytes * VCPUS / (2 << 20) + 16)) ;;
		anonymous_hugetlb_1gb)
			[ "$bytes" -lt $((1 << 30)) ] ||
				PAGES_1G=$(((bytes * VCPUS + (1 << 30) - 1) / (1 << 30) + 1))
			;;
		esac
	done
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

# parse_kernel KERNEL LOG KIND [--meta KEY=VALUE...]: LOG into
# LOG's directory/KERNEL.json; fails (and writes nothing) when the walk counters do not
# fit KIND (baseline: the split visits last-level entries; patched: none),
# or when a run failed.
parse_kernel() {
	local kernel=$1 log=$2 kind=$3
	shift 3
	python3 "$REPORT" parse "$kernel" "$log" -o "$(dirname "$log")/$kernel.json" --kind "$kind" \
		--meta "base=$BASE" --meta "parameters=$PARAMS" --meta "tools=$(tool_versions)" "$@"
}

# compare BEFORE.json AFTER.json [DIR]: the table, CSV, JSON and plot in
# DIR (default: the results directory).
compare() {
	local dir=${3:-$OUT}
	step "comparing $1 and $2"
	python3 "$REPORT" compare "$1" "$2" -o "$dir" --title "$TITLE"
	info "results: $dir"
}

run_qemu() {
	local tree cmds t0=$SECONDS page dir chunk4k=$CHUNK
	TREES=(baseline patched)
	VM_MEM=$QEMU_MEM
	for page in $PAGES; do
		VM_PAGE=$page dir=$OUT CHUNK=$chunk4k
		if [ "$page" = 64k ]; then
			# 64K pages: the only block below 4 TiB is 512 MiB
			dir=$OUT/64k CHUNK=512M
			mkdir -p "$dir"
		fi
		# shellcheck disable=SC2119 # no selftests besides dirty_log_perf_test
		build_all
		for tree in "${TREES[@]}"; do
			cmds=$dir/$tree.commands
			matrix_commands "$tree$(vm_suffix)" /dirty_log_perf_test "/$MODULE_NAME.ko" "" \
				"$([ "$tree" != patched ] || [ "$FLOOR" = 0 ] || echo floor)" >"$cmds"
			step "bench $tree, $page pages: $(grep -c '^mark run' "$cmds") runs (-b $MEM -v $VCPUS -i $ITERS -S $CHUNK, modes: $MODES; backings: $BACKINGS; $REPS reps)"
			if ! boot "$tree" "$cmds" "$dir/$tree.log" && ! grep -q '^@@ done' "$dir/$tree.log"; then
				die "$E_FAIL" "the $tree kernel ($page pages) did not finish the benchmark; serial log kept: $dir/$tree.log"
			fi
			parse_kernel "$tree" "$dir/$tree.log" "$tree" --meta mode=qemu --meta "page_size=$page" \
				--meta "parameters=${PARAMS/-S $chunk4k/-S $CHUNK}" \
				--meta "qemu=$(qemu-system-aarch64 --version | head -n 1)" ||
				die "$E_FAIL" "the $tree kernel's results are refused (above); serial log: $dir/$tree.log"
		done
		TITLE="dirty_log_perf_test -b $MEM -v $VCPUS -i $ITERS -S $CHUNK, $page host pages, QEMU TCG emulation, $(nproc)-core $(uname -m) host, kernels built from $BASE"
		compare "$dir/baseline.json" "$dir/patched.json" "$dir"
	done
	info "benchmark done in $(elapsed $((SECONDS - t0)))"
}

# label_kind LABEL: baseline or patched, what the kernel must be.
label_kind() {
	case $1 in
	baseline* | before*) echo baseline ;;
	patched* | after*) echo patched ;;
	*) die "$E_USAGE" "LABEL '$1' must start with 'baseline' (or 'before') or 'patched' (or 'after'): the running kernel is checked against it" ;;
	esac
}

# host_cleanup: what run_host changed on this host, undone (exit, error,
# Ctrl-C): the module unloaded, the hugepage pools set back.
host_cleanup() {
	local i f
	if [ -n "${HOST_LOADED:-}" ]; then
		rmmod "$MODULE_NAME" 2>/dev/null || warn "rmmod $MODULE_NAME failed; unload it by hand"
		HOST_LOADED=
	fi
	for ((i = ${#HOST_RESTORE[@]} - 1; i >= 0; i--)); do
		f=${HOST_RESTORE[i]%=*}
		if { echo "${HOST_RESTORE[i]##*=}" >"$f"; } 2>/dev/null; then
			info "restored $f to ${HOST_RESTORE[i]##*=}"
		else
			warn "could not restore $f to ${HOST_RESTORE[i]##*=}"
		fi
	done
	HOST_RESTORE=()
}

# host_backings: every backing asked for must be possible on this kernel.
host_backings() {
	local b thp=/sys/kernel/mm/transparent_hugepage/enabled hp=/sys/kernel/mm/hugepages
	[[ $PAGES =~ ^\ *(4k|64k)(\ +(4k|64k))*\ *$ ]] ||
		die "$E_USAGE" "-p '$PAGES': page sizes of the VM kernels, 4k and/or 64k"
	for b in $BACKINGS; do
		case $b in
		anonymous_thp)
			[ -r "$thp" ] ||
				die "$E_PREREQ" "backing anonymous_thp needs transparent hugepages: this kernel has no $thp (CONFIG_TRANSPARENT_HUGEPAGE); drop it with -s"
			if grep -q '\[never\]' "$thp"; then
				die "$E_PREREQ" "backing anonymous_thp needs transparent hugepages, but $thp is [never]: echo madvise > $thp (or drop the backing with -s)"
			fi
			;;
		anonymous_hugetlb_2mb | anonymous_hugetlb_1gb)
			local kb=2048 what="2 MiB" how=""
			[ "$b" = anonymous_hugetlb_2mb ] || { kb=1048576 what="1 GiB" how="; boot with hugepagesz=1G hugepages=N"; }
			[ -d "$hp/hugepages-${kb}kB" ] ||
				die "$E_PREREQ" "backing $b needs $what hugetlb pages: this kernel has no $hp/hugepages-${kb}kB (CONFIG_HUGETLBFS, page size)$how"
			;;
		esac
	done
}

# host_hugepages: raise the hugetlb pools to what the backings need, check
# that the pages were had, and note the old values for host_cleanup.
host_hugepages() {
	local kb want f old got
	hugepages_needed
	for kb in 2048 1048576; do
		if [ "$kb" = 2048 ]; then want=$PAGES_2M; else want=$PAGES_1G; fi
		[ "$want" -gt 0 ] || continue
		f=/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages
		old=$(cat "$f")
		[ "$old" -lt "$want" ] || continue
		HOST_RESTORE+=("$f=$old")
		step "hugepages: $f $old -> $want"
		{ echo "$want" >"$f"; } 2>/dev/null || true
		got=$(cat "$f")
		if [ "$got" -lt "$want" ]; then
			if [ "$kb" = 2048 ]; then
				die "$E_FAIL" "short hugepage allocation: $got of $want 2 MiB pages ($f); free memory (drop caches: echo 3 > /proc/sys/vm/drop_caches) or reserve them at boot (hugepages=$want)"
			fi
			die "$E_FAIL" "short hugepage allocation: $got of $want 1 GiB pages ($f); 1 GiB pages are best reserved at boot: hugepagesz=1G hugepages=$want on the kernel command line"
		fi
	done
}

# host_probe KIND: one small eager split of page-mapped memory, counted;
# refuse a kernel that is not KIND (baseline: the split visits last-level
# entries; patched: it steps over every last-level table).
host_probe() {
	local kind=$1 test=$2 log=$OUT/$LABEL.probe.log tab vis rel
	rel=$(uname -r)
	step "probe: eager split of $CHUNK mapped at page size (dirty_log_perf_test -b $CHUNK -s anonymous -g -S $CHUNK)"
	echo 1 >"$DEBUGFS/reset"
	if ! "$test" -m "${MODES%% *}" -v 1 -b "$CHUNK" -s anonymous -g -i 2 -S "$CHUNK" >"$log" 2>&1; then
		tail -n 5 "$log" | sed 's/^/    | /' >&2
		die "$E_FAIL" "the probe run of $test failed (log: $log)"
	fi
	cat "$DEBUGFS/counters" >>"$log"
	tab=$(awk '$1 == "walk.split.tables.l3" { print $2 }' "$DEBUGFS/counters")
	vis=$(awk '$1 == "walk.split.visited.l3" { print $2 }' "$DEBUGFS/counters")
	[ "${tab:-0}" -gt 0 ] ||
		die "$E_FAIL" "the probe's eager split entered no last-level table (walk.split.tables.l3 = ${tab:-missing}): nothing was split, so the kernel cannot be told; log: $log"
	case $kind in
	baseline)
		[ "$vis" -gt 0 ] ||
			die "$E_FAIL" "kernel $rel does not match label '$LABEL': a baseline kernel visits the last-level entries of the split, this one stepped over all $tab last-level tables (it has the series). Boot the baseline kernel, or label this run patched"
		;;
	patched)
		[ "$vis" -eq 0 ] ||
			die "$E_FAIL" "kernel $rel does not match label '$LABEL': a patched kernel visits no last-level entry in the split, this one visited $vis in $tab tables (it lacks the series). Boot the patched kernel, or label this run baseline"
		;;
	esac
	info "probe: $tab last-level table(s), $vis entries visited: a $kind kernel"
	PROBE="tables.l3=$tab visited.l3=$vis"
}

# host_progress N LOG: the output of run-commands.sh into LOG, and on the
# screen a line per run ("run k/N: ...") and whatever went wrong.
host_progress() {
	local n=$1 log=$2 line prev='' k=0 t0=$SECONDS
	: >"$log"
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$log"
		case $line in
		"@@ cmd mark run "*)
			k=$((k + 1))
			printf '    run %d/%d: %s (%s)\n' "$k" "$n" "${line#@@ cmd mark run }" "$(elapsed $((SECONDS - t0)))" ;;
		"@@ unexpected"*) printf '    %s: %s\n' "${line#@@ }" "$prev" ;;
		"@@ done"*) printf '    %s\n' "$line" ;;
		esac
		prev=$line
	done
}

run_host() {
	local label=$1 kind cmds log test module rc=0 errors vermagic out
	LABEL=$label
	kind=$(label_kind "$label")
	[ -n "$HOST_TEST" ] || die "$E_USAGE" "host mode needs -T <dirty_log_perf_test with -S> (patch 0008)"
	{ [ -f "$HOST_TEST" ] && [ -x "$HOST_TEST" ]; } || die "$E_USAGE" "-T $HOST_TEST: no such executable"
	[ -n "$HOST_MODULE" ] || die "$E_USAGE" "host mode needs -K <$MODULE_NAME.ko built for the running kernel>"
	[ -f "$HOST_MODULE" ] ||
		die "$E_USAGE" "-K $HOST_MODULE: no such module file (build it for the running kernel: make -C module KDIR=/lib/modules/\$(uname -r)/build)"
	[ "$(id -u)" -eq 0 ] || die "$E_PREREQ" "host mode needs root (insmod, debugfs, hugepages): run it with sudo"
	[ "$(uname -m)" = aarch64 ] || die "$E_USAGE" "host mode runs on an arm64 machine (this is $(uname -m))"
	[ -e /dev/kvm ] || die "$E_PREREQ" "no /dev/kvm on this machine (KVM not built in, or the kernel did not boot at EL2)"
	awk '$2 == "/sys/kernel/debug" && $3 == "debugfs" { found = 1 } END { exit !found }' /proc/mounts ||
		die "$E_PREREQ" "debugfs is not mounted on /sys/kernel/debug: mount -t debugfs none /sys/kernel/debug"
	host_backings
	test=$(realpath "$HOST_TEST") module=$(realpath "$HOST_MODULE")
	out=$("$test" -h 2>&1) || true
	grep -q -- ' -S' <<<"$out" ||
		die "$E_USAGE" "-T $HOST_TEST has no -S option: build dirty_log_perf_test from the patched tree (patch 0008)"
	[ ! -d "/sys/module/$MODULE_NAME" ] ||
		die "$E_PREREQ" "$MODULE_NAME is already loaded: rmmod $MODULE_NAME first (host mode loads the one given with -K)"
	vermagic=$(tr '\0' '\n' <"$module" | sed -n 's/^vermagic=//p')
	vermagic=${vermagic%%$'\n'*}
	[ "${vermagic%% *}" = "$(uname -r)" ] ||
		die "$E_FAIL" "-K $HOST_MODULE was built for kernel '${vermagic%% *}', this is $(uname -r): build it against the running kernel (make -C module KDIR=/lib/modules/\$(uname -r)/build)"

	HOST_RESTORE=() HOST_LOADED=
	trap host_cleanup EXIT
	trap 'host_cleanup; exit 130' INT
	trap 'host_cleanup; exit 143' TERM
	step "insmod $module"
	out=$(insmod "$module" 2>&1) || {
		eprintf '%s\n' "$out" "$(dmesg 2>/dev/null | tail -n 3)" | sed '/^$/d; s/^/    | /' >&2
		die "$E_FAIL" "insmod $module failed (lockdown, module signing, or a kernel built without CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y?)"
	}
	HOST_LOADED=1
	[ -r "$DEBUGFS/counters" ] || die "$E_FAIL" "no $DEBUGFS/counters after insmod $module"
	host_hugepages
	host_probe "$kind" "$test"

	cmds=$OUT/$label.commands log=$OUT/$label.log
	matrix_commands "$label" "$test" "$module" host \
		"$([ "$kind" != patched ] || [ "$FLOOR" = 0 ] || echo floor)" >"$cmds"
	step "bench host $label: $(grep -c '^mark run' "$cmds") runs; each run's output: $log"
	"$REPO_ROOT/scripts/run-commands.sh" "$cmds" 2>&1 | host_progress "$(grep -c '^mark run' "$cmds")" "$log" ||
		rc=${PIPESTATUS[0]}
	errors=$(sed -n 's/^@@ done errors=//p' "$log" | tail -n 1)
	[ -n "$errors" ] ||
		die "$E_FAIL" "scripts/run-commands.sh did not finish (exit $rc, no '@@ done' line); log: $log"
	if [ "$errors" != 0 ] || [ "$rc" -ne 0 ]; then
		grep -B1 '^@@ unexpected' "$log" | grep -E '^@@ (ok|fail) ' | head -n 3 | sed 's/^/    | /' >&2 || true
		die "$E_FAIL" "scripts/run-commands.sh: errors=$errors (exit $rc): a command of the matrix did not do what it should (above); log: $log"
	fi
	parse_kernel "$label" "$log" "$kind" --strict --meta mode=host \
		--meta "kernel_version=$(uname -v)" --meta "machine=$(uname -m), $(nproc) CPUs" \
		--meta "module=$module" --meta "module_sha256=$(sha256sum <"$module" | cut -d' ' -f1)" \
		--meta "module_vermagic=$vermagic" --meta "test=$test" \
		--meta "test_sha256=$(sha256sum <"$test" | cut -d' ' -f1)" --meta "probe=$PROBE" ||
		die "$E_FAIL" "the results of $label are refused (above); log: $log"
	host_cleanup
	info "now boot the other kernel, run host again with its label, then: $0 -o $OUT compare $OUT/baseline.json $OUT/patched.json"
}

main() {
	REPS=3 MEM=256M VCPUS=1 ITERS=2 CHUNK=2M QEMU_MEM=2G
	BACKINGS="anonymous anonymous_thp anonymous_hugetlb_2mb" MODES=6
	OUT='' HOST_TEST='' HOST_MODULE='' BASE='' FLOOR=1 PAGES=4k
	while getopts hFr:b:v:i:s:m:S:M:o:T:K:B:p: opt; do
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
		B) BASE=$OPTARG ;;
		F) FLOOR=0 ;;
		p) PAGES=$OPTARG ;;
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
	[[ $PAGES =~ ^\ *(4k|64k)(\ +(4k|64k))*\ *$ ]] ||
		die "$E_USAGE" "-p '$PAGES': page sizes of the VM kernels, 4k and/or 64k"
	for b in $BACKINGS; do
		[[ " $ALL_BACKINGS " == *" $b "* ]] ||
			die "$E_USAGE" "-s: unknown backing '$b' (one of: $ALL_BACKINGS)"
	done
	[ -n "$OUT" ] || OUT=$RESULTS_DIR/bench/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$OUT"
	OUT=$(realpath "$OUT")
	need_cmd python3
	PARAMS="-r $REPS -b $MEM -v $VCPUS -i $ITERS -s '$BACKINGS' -m '$MODES' -S $CHUNK"
	[ "$FLOOR" = 1 ] || PARAMS+=" -F"
	[ "$cmd" != qemu ] || PARAMS+=" -M $QEMU_MEM -p '$PAGES'"
	if [ -z "$BASE" ] && [ "$cmd" != compare ]; then
		# shellcheck disable=SC2119 # the pristine tree
		BASE=$( (base_description) 2>/dev/null) ||
			BASE="unknown (no kernel tree of the workbench here; pass -B)"
	fi

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

# Sourced (the self-tests do, for its functions): define them, run nothing.
[ "${BASH_SOURCE[0]}" != "$0" ] || main "$@"
