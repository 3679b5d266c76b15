#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build a KUnit kernel per kunit/<name>.kunitconfig with kunit.py and boot it
# in QEMU at EL2 (kunit/qemu_arm64_el2.py), then check the results: every
# KUnit test case and, per config, that KVM came up in VHE mode.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

KUNIT_TIMEOUT=${KUNIT_TIMEOUT:-900}
FIXED_SEED=0x5eed2026

usage() {
	cat <<USAGE
Usage: $0 [-h] [-v] [-t mergeable|baseline|patched] [CONFIG_NAME...]

For each CONFIG_NAME (default: every $KUNIT_DIR/*.kunitconfig), build
with kunit.py in $BUILD_DIR/kunit-<tree>-<name> (incremental) and run
the tests in QEMU with kunit/qemu_arm64_el2.py. Results:
  $RESULTS_DIR/kunit/<tree>-<name>.{log,ktap,json}
The last line on stdout is "N passed, N failed[, N skipped]"; the checks
are every KUnit test case plus, per config, "KVM in VHE mode" and "no
kernel splat" (BUG, WARNING, KASAN, lockdep, might_sleep, panic in the
kernel log, whether or not a KUnit case failed).

Options:
  -t TREE  the tree to build (see apply.sh -h); runs apply.sh first. Default:
           mergeable (the series for merging alone), or patched (the series
           plus the debug layer) for a config with
           CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y
  -v       show the kunit.py output (build and boot log) as it runs
  -h       this help

Environment:
  KVM_S2_WALK_KUNIT_DIR  directory of *.kunitconfig (default <repo>/kunit)
  KUNIT_TIMEOUT          seconds allowed for the tests to run (default 900)
  KUNIT_SEED             seed of the randomised cases: fixed ($FIXED_SEED, the
                         default), random (printed), or a number; the *-debug
                         configs default to random
  KUNIT_ITERATIONS       iterations of each randomised case (walks and splits,
                         reverse-map sequences; default 8)
  KUNIT_ARGS             more kunit.py run arguments, e.g. a filter_glob or
                         --kernel_args=kvm-arm.mode=nvhe (words, no quoting)
  JOBS, CROSS_COMPILE    make -j and cross prefix (default: nproc, aarch64-linux-gnu-)
  KERNEL_SRC, FORCE, KVM_S2_WALK_CACHE, KVM_S2_WALK_LOCK: see apply.sh -h

Exit codes: 0 all passed, $E_FAIL a test, a check or a build failed,
$E_USAGE bad arguments or input, $E_PREREQ missing tools.
USAGE
}

PASSED=0 FAILED=0 SKIPPED=0

# count KEY LINE: the number after "KEY: " in kunit.py's summary line.
count() {
	local n
	n=$(grep -o "$1: [0-9]*" <<<"$2" | grep -o '[0-9]*$') || true
	echo "${n:-0}"
}

# logged LOG CMD...: CMD's output into LOG (and to stderr with -v).
logged() {
	local log=$1
	shift
	if [ "$VERBOSE" = 1 ]; then
		"$@" 2>&1 | tee "$log" >&2
	else
		"$@" >"$log" 2>&1
	fi
}

# seed_for NAME: the seed of the randomised cases for config NAME: KUNIT_SEED
# if set, else a fixed one, or a random one for the *-debug configs.
seed_for() {
	local seed=${KUNIT_SEED:-}
	[ -n "$seed" ] || case $1 in
		*-debug) seed=random ;;
		*) seed=fixed ;;
	esac
	case $seed in
	fixed) echo "$FIXED_SEED" ;;
	random) printf '0x%08x\n' $(((SRANDOM % 0xffffffff) + 1)) ;;
	*) echo "$seed" ;;
	esac
}

# tree_for NAME: the tree config NAME runs on: -t TREE if given, else the
# series for merging, or the patched tree (which adds the debug layer) for
# a config that turns the walk counters on.
tree_for() {
	if [ -n "$TREE" ]; then
		echo "$TREE"
	elif grep -qx 'CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y' "$KUNIT_DIR/$1.kunitconfig"; then
		echo patched
	else
		echo mergeable
	fi
}

# run_config NAME: build, boot and check one kunitconfig.
run_config() {
	local name=$1 tree src
	tree=$(tree_for "$name")
	src=$(tree_dir "$tree")
	local cfg=$KUNIT_DIR/$name.kunitconfig bdir=$BUILD_DIR/kunit-$tree-$name
	local out=$RESULTS_DIR/kunit/$tree-$name kunit=$src/tools/testing/kunit/kunit.py
	local start=$SECONDS rc=0 p=0 f=0 s=0 summary
	mkdir -p "$RESULTS_DIR/kunit" "$BUILD_DIR"
	rm -f "$out".*

	step "kunit $tree/$name: build + boot (log: $out.log)"
	local cmd=(python3 "$kunit" run --qemu_config="$QEMU_CONFIG"
		   --cross_compile="$CROSS_COMPILE" --kunitconfig="$cfg"
		   --build_dir="$bdir" --jobs="$JOBS" --raw_output=all
		   --timeout="$KUNIT_TIMEOUT")
	# shellcheck disable=SC2206 # KUNIT_ARGS is a list of words on purpose
	cmd+=(${KUNIT_ARGS:-})
	local seed suite
	seed=$(seed_for "$name")
	# The walker suite (kvm_pgtable_test.*) and the reverse-map suite
	# (kvm_nested_test.*) take the same parameters.
	for suite in kvm_pgtable_test kvm_nested_test; do
		cmd+=(--kernel_args="$suite.seed=$seed")
		[ -z "${KUNIT_ITERATIONS:-}" ] ||
			cmd+=(--kernel_args="$suite.iterations=$KUNIT_ITERATIONS")
	done
	with_build_lock logged "$out.log" "${cmd[@]}" || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$out.log" | sed 's/^/    | /' >&2
		eprintf 'ERROR: kunit.py failed for %s (config or build error, rc %d; log %s)\n' \
			"$tree/$name" "$rc" "$out.log"
		FAILED=$((FAILED + 1))
		return 0
	fi

	python3 "$kunit" parse --raw_output=kunit "$out.log" >"$out.ktap" || true
	summary=$(python3 "$kunit" parse --json="$out.json" "$out.log" 2>&1 |
		  grep 'Testing complete' | sed 's/.*Testing complete\. //') || true
	p=$(count passed "$summary")
	f=$(($(count failed "$summary") + $(count crashed "$summary")))
	# Parse errors (missing results, truncated output) fail one more check.
	[ "$(count errors "$summary")" -eq 0 ] || f=$((f + 1))
	s=$(count skipped "$summary")
	# The base in the results files (the raw log stays as the kernel wrote it)
	local base
	# shellcheck disable=SC2119 # the pristine tree
	base=$( (base_description) 2>/dev/null) || base=unknown
	local tools
	tools=$(tool_versions)
	printf '# kvm-s2-walk base: %s\n# kvm-s2-walk tools: %s\n' "$base" "$tools" >>"$out.ktap"
	[ ! -s "$out.json" ] || python3 - "$out.json" "$base" "$tools" <<'PY' || true
import json, sys
with open(sys.argv[1]) as f:
    data = json.load(f)
if isinstance(data, dict):
    data["kvm_s2_walk_base"] = sys.argv[2]
    data["kvm_s2_walk_tools"] = sys.argv[3]
    with open(sys.argv[1], "w") as f:
        json.dump(data, f, indent=4)
PY
	if [ -z "$summary" ] || [ $((p + f + s)) -eq 0 ]; then
		eprintf 'ERROR: %s: no KUnit results in %s (did the kernel boot?)\n' "$tree/$name" "$out.log"
		f=$((f + 1))
	fi
	if [ "$f" -gt 0 ]; then
		python3 "$kunit" parse --failed "$out.log" 2>&1 | sed 's/^/    | /' >&2 || true
	fi
	grep -E '^(not )?ok [0-9]+ ' "$out.ktap" | sed 's/^/    suite: /' >&2 || true

	# "kvm [1]: VHE mode ..." (or "VHE+NV2 mode"), not "Hyp nVHE mode ...".
	local vhe=$VHE_RX
	if grep -Eq "$vhe" "$out.log"; then
		p=$((p + 1))
		info "$(grep -Eo "$vhe" "$out.log" | head -n 1)"
	else
		eprintf 'ERROR: %s: KVM did not come up in VHE mode at EL2 (no "VHE mode initialized successfully" in %s; found: %s)\n' \
			"$tree/$name" "$out.log" \
			"$(grep -Eo 'kvm \[[0-9]+\]: .*initiali[sz]ed.*' "$out.log" | head -n 1 || echo 'no KVM init line')"
		f=$((f + 1))
	fi
	# Any splat of the kernel's debug machinery fails the config, even
	# when every KUnit case passed (the kernel log starts at "Booting").
	local splats
	splats=$(sed -n '/^Booting Linux/,$p' "$out.log" | grep -E "$SPLAT_RX" | head -n 5) || true
	if [ -n "$splats" ]; then
		printf "    | %s\n" "${splats//$'\n'/$'\n    | '}" >&2
		eprintf 'ERROR: %s: kernel splat (BUG, WARNING, KASAN, lockdep, might_sleep or panic) in %s\n' \
			"$tree/$name" "$out.log"
		f=$((f + 1))
	else
		p=$((p + 1))
	fi
	sed -n 's/.*\(random_seed=[0-9a-fx]* iterations=[0-9]*\).*/    seed: \1/p' "$out.log" | head -n 2 >&2

	echo "kunit $tree/$name: $(summary_line "$p" "$f" "$s") ($(elapsed $((SECONDS - start))))"
	PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
}

main() {
	TREE='' VERBOSE=0
	while getopts ht:v opt; do
		case $opt in
		h) usage; exit 0 ;;
		t) TREE=$OPTARG ;;
		v) VERBOSE=1 ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ -z "$TREE" ] || tree_dir "$TREE" >/dev/null

	case ${KUNIT_SEED:-fixed} in
	fixed | random) ;;
	*) [[ $KUNIT_SEED =~ ^(0x[0-9a-fA-F]{1,8}|[1-9][0-9]{0,9})$ ]] ||
		die "$E_USAGE" "KUNIT_SEED=$KUNIT_SEED: fixed, random or a nonzero 32-bit number" ;;
	esac
	[[ ${KUNIT_ITERATIONS:-1} =~ ^[1-9][0-9]{0,5}$ ]] ||
		die "$E_USAGE" "KUNIT_ITERATIONS=$KUNIT_ITERATIONS: a number from 1 to 999999"

	local names=("$@") f name
	if [ ${#names[@]} -eq 0 ]; then
		for f in "$KUNIT_DIR"/*.kunitconfig; do
			[ -f "$f" ] && names+=("$(basename "$f" .kunitconfig)")
		done
		[ ${#names[@]} -gt 0 ] || die "$E_USAGE" "no *.kunitconfig in $KUNIT_DIR"
	fi
	for name in "${names[@]}"; do
		[ -f "$KUNIT_DIR/$name.kunitconfig" ] ||
			die "$E_USAGE" "no kunitconfig '$name' ($KUNIT_DIR/$name.kunitconfig does not exist)"
	done

	need_cmd python3 qemu-system-aarch64 "${CROSS_COMPILE}gcc" flock
	local trees
	trees=$(for name in "${names[@]}"; do tree_for "$name"; done | sort -u)
	for f in $trees; do
		"$REPO_ROOT/scripts/apply.sh" -t "$f"
	done

	for name in "${names[@]}"; do
		run_config "$name"
	done
	info "totals over ${#names[@]} config(s), tree(s) ${trees//$'\n'/ }:"
	summary_line "$PASSED" "$FAILED" "$SKIPPED"
	[ "$FAILED" -eq 0 ]
}

main "$@"
