#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Check the two layers of the series: the series for merging applies and
# builds on its own, and the debug layer applies, from the same files, both
# to the base alone and on top of the series for merging.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
Usage: $0 [-h] layers|sparse

layers  On each base, in a scratch copy of the files the series touches:
        the series for merging applies with patch --fuzz=0; the debug
        layer applies with --fuzz=0 on the base alone (the baseline
        kernel) and on top of the series for merging (the patched kernel);
        no patch of the series for merging mentions the debug layer. The
        bases are the default tree (Debian's 7.3.4, or KERNEL_SRC) and
        upstream 7.3.4 (UPSTREAM_SRC, else $CACHE_DIR/src/upstream,
        fetched with fetch-kernel.sh -u; reported as skipped, not passed,
        when it cannot be had).
sparse  Build arch/arm64/kvm/ of the mergeable tree (the series for merging
        alone) with W=1 and sparse (C=1), with the config of the 4K KUnit
        kernel (kunit/pgtable-4k.kunitconfig), and fail on any warning in a
        file the series touches, but those 7.3.4 has itself (the baseline
        tree built the same way once, in $BUILD_DIR/sparse-baseline).
        Build dir: $BUILD_DIR/sparse-mergeable.

Prints "ok|FAIL|SKIP <check>" lines and ends with "N passed, N failed".

Environment: UPSTREAM_SRC, KERNEL_SRC, FORCE, JOBS, CROSS_COMPILE,
KVM_S2_WALK_PATCHES, KVM_S2_WALK_CACHE, KVM_S2_WALK_LOCK.

Exit codes: 0 all passed, $E_FAIL a check failed, $E_USAGE bad arguments,
$E_PREREQ missing tools.
USAGE
}

# touched_files PATCH...: the files the patches create or modify.
touched_files() {
	local p
	for p in "$@"; do
		sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$PATCHES_DIR/$p"
	done | sort -u
}

# scratch_tree BASE DIR: DIR holds BASE's copy of every file the series
# touches (those that exist there).
scratch_tree() {
	local base=$1 dir=$2 f all
	rm -rf "$dir"
	mkdir -p "$dir"
	mapfile -t all < <(series_patches)
	while read -r f; do
		[ -f "$base/$f" ] || continue
		mkdir -p "$dir/$(dirname "$f")"
		cp "$base/$f" "$dir/$f"
	done < <(touched_files "${all[@]}")
}

# apply_layer DIR PATCH...: patch -p1 --fuzz=0 each patch in DIR; on
# failure print the patch and its output.
apply_layer() {
	local dir=$1 p out
	shift
	for p in "$@"; do
		if ! out=$(patch -d "$dir" -p1 --fuzz=0 --batch --forward \
			   --no-backup-if-mismatch -i "$PATCHES_DIR/$p" 2>&1); then
			printf '    | %s\n' "$p:" "${out//$'\n'/$'\n    | '}"
			return 1
		fi
	done
}

# check_base NAME DIR
check_base() {
	local name=$1 base=$2 tmp=$SCRATCH/$1
	local merge debug
	mapfile -t merge < <(mergeable_patches)
	mapfile -t debug < <(debug_patches)
	info "$name: $base ($(base_description "$base"))"

	scratch_tree "$base" "$tmp"
	if apply_layer "$tmp" "${merge[@]}"; then
		pass "$name: the series for merging (${#merge[@]} patches) applies at fuzz 0"
		if apply_layer "$tmp" "${debug[@]}"; then
			pass "$name: the debug layer (${#debug[@]} patch(es)) applies at fuzz 0 on top of it (patched kernel)"
		else
			failed "$name: the debug layer does not apply on top of the series for merging"
		fi
	else
		failed "$name: the series for merging does not apply at fuzz 0"
	fi

	scratch_tree "$base" "$tmp"
	if apply_layer "$tmp" "${debug[@]}"; then
		pass "$name: the debug layer applies at fuzz 0 on the base alone (baseline kernel)"
	else
		failed "$name: the debug layer does not apply on the base alone"
	fi
	rm -rf "$tmp"
}

# upstream_tree: set UP to the upstream 7.3.4 tree, fetched if need be, or
# leave it empty and set WHY when it cannot be had.
upstream_tree() {
	UP='' WHY=''
	if [ -n "${UPSTREAM_SRC:-}" ]; then
		is_kernel_tree "$UPSTREAM_SRC" ||
			die "$E_USAGE" "UPSTREAM_SRC=$UPSTREAM_SRC is not a kernel tree"
		UP=$UPSTREAM_SRC
		return 0
	fi
	local log=$RESULTS_DIR/fetch-upstream.log
	mkdir -p "$RESULTS_DIR"
	if "$REPO_ROOT/scripts/fetch-kernel.sh" -u >"$log" 2>&1; then
		UP=$(readlink -f "$CACHE_DIR/src/upstream")
	else
		WHY=$(grep -m 1 '^ERROR' "$log" || tail -n 1 "$log")
	fi
}

do_layers() {
	local p
	need_cmd patch
	check_series
	[ -n "$(debug_patches)" ] ||
		warn "no debug section in $PATCHES_DIR/series: the baseline kernel is the base alone"

	# The series for merging must not lean on the debug layer.
	local lean=()
	while read -r p; do
		grep -Eq 'WALK_STATS|kvm_pgtable_stats|kvm_pgtable_walk_tp' "$PATCHES_DIR/$p" &&
			lean+=("$p")
	done < <(mergeable_patches)
	if [ ${#lean[@]} -eq 0 ]; then
		pass "no patch of the series for merging mentions the debug layer"
	else
		failed "patches of the series for merging mention the debug layer: ${lean[*]}"
	fi

	SCRATCH=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now
	trap "rm -rf '$SCRATCH'" EXIT
	check_base "$( [ -n "${KERNEL_SRC:-}" ] && echo KERNEL_SRC || echo debian)" "$(pristine_dir)"

	upstream_tree
	if [ -n "$UP" ]; then
		check_base upstream "$UP"
	else
		echo "SKIP upstream 7.3.4: not available here (${WHY:-no reason given}); set UPSTREAM_SRC=<tree>"
	fi
}

# sparse_build TREE OUT LOG CHECK: W=1 C=1 build of arch/arm64/kvm/ of TREE
# in OUT (which has its .config), every object recompiled so that W=1 and
# sparse speak on every run, not only after a change.
sparse_build() {
	local mk=(make -C "$1" O="$2" ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE" CHECK="$4")
	find "$2/arch/arm64/kvm" -name '*.o' -delete 2>/dev/null || true
	# shellcheck disable=SC2016 # expanded by the inner shell
	with_build_lock bash -c '"$@" olddefconfig && "$@" -j"$0" W=1 C=1 arch/arm64/kvm/' \
		"$JOBS" "${mk[@]}" >"$3" 2>&1
}

# pristine_warnings CFG CHECK: 7.3.4's own W=1/sparse warnings in
# arch/arm64/kvm/ ("file: message"), from the baseline tree (the base plus
# the debug layer, which this config leaves off), built once and kept until
# the baseline tree or the config changes.
pristine_warnings() {
	local cfg=$1 check=$2 tree out=$BUILD_DIR/sparse-baseline
	local log=$RESULTS_DIR/sparse-baseline.log key
	"$REPO_ROOT/scripts/apply.sh" -t baseline >&2
	tree=$(tree_dir baseline)
	key=$({ cat "$tree/$STAMP_NAME" "$cfg"; echo "$check"; } | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$out/warnings.key" 2>/dev/null)" != "$key" ]; then
		mkdir -p "$out"
		cp "$cfg" "$out/.config"
		step "sparse: W=1 C=1 build of arch/arm64/kvm/ of the baseline tree, for 7.3.4's own warnings (log: $log)" >&2
		sparse_build "$tree" "$out" "$log" "$check" ||
			die "$E_FAIL" "arch/arm64/kvm/ of the baseline tree does not build with W=1 C=1 (log $log)"
		warning_keys "$tree" "$log" >"$out/warnings"
		echo "$key" >"$out/warnings.key"
	fi
	cat "$out/warnings"
}

# The warnings of a W=1 C=1 build of arch/arm64/kvm/, in files the series
# touches, as "file: message" (line numbers dropped), that 7.3.4 itself does
# not have.
do_sparse() {
	local tree out=$BUILD_DIR/sparse-mergeable log=$RESULTS_DIR/sparse-mergeable.log
	local cfg=$BUILD_DIR/kunit-mergeable-pgtable-4k/.config files warn merge
	need_cmd "${CROSS_COMPILE}gcc" flock
	"$REPO_ROOT/scripts/apply.sh" -t mergeable
	tree=$(tree_dir mergeable)
	local check
	check=$("$REPO_ROOT/scripts/sparse.sh" "$tree")
	[ -f "$cfg" ] ||
		die "$E_USAGE" "no $cfg: run 'scripts/kunit.sh pgtable-4k' first (the check uses its config)"
	mkdir -p "$out" "$RESULTS_DIR"
	local known
	if ! known=$(pristine_warnings "$cfg" "$check"); then
		failed "no list of 7.3.4's own warnings to compare with (log $RESULTS_DIR/sparse-baseline.log)"
		return 0
	fi
	cp "$cfg" "$out/.config"
	step "sparse: W=1 C=1 build of arch/arm64/kvm/ of the mergeable tree (log: $log)"
	if ! sparse_build "$tree" "$out" "$log" "$check"; then
		grep -E -m 20 'error' "$log" | sed 's/^/    | /'
		failed "arch/arm64/kvm/ does not build with W=1 C=1 (log $log)"
		return 0
	fi
	mapfile -t merge < <(mergeable_patches)
	files=$(touched_files "${merge[@]}" | grep -E '^arch/arm64/' | sed 's/[.]/\\./g' | paste -sd'|')
	warn=$(warning_keys "$tree" "$log" | grep -E "^($files):" |
		comm -23 - <(printf '%s\n' "$known" | sort -u)) || true
	if grep -q 'specified, but .* is not available' "$log"; then
		failed "the kernel refused $check for C=1 (log $log)"
	elif [ "$(grep -c '^  CHECK ' "$log")" -eq 0 ]; then
		failed "sparse checked no file (log $log)"
	elif [ -z "$warn" ]; then
		pass "arch/arm64/kvm/ of the series for merging: no W=1 or sparse warning in the files it touches that 7.3.4 does not have ($(grep -c '^  CHECK ' "$log") files checked by sparse; $(grep -c . <<<"$known") warnings of 7.3.4 itself in arch/arm64/kvm/)"
	else
		printf '    | %s\n' "${warn//$'\n'/$'\n    | '}"
		failed "W=1 or sparse warnings in files the series for merging touches (log $log)"
	fi
}

main() {
	help_only_opts "$@"
	shift $((OPTIND - 1))
	[ $# -eq 1 ] || { usage >&2; exit "$E_USAGE"; }
	case $1 in
	layers) do_layers ;;
	sparse) do_sparse ;;
	*) usage >&2; die "$E_USAGE" "unknown check '$1'" ;;
	esac
	summary_line "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
}

main "$@"
