#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Make one of the trees of the series (a copy of the pristine tree with
# patches from patches/ pushed on top with quilt): mergeable (the series for
# merging), baseline (the debug layer alone) or patched (both). The pristine
# tree is never modified.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
Usage: $0 [-h] [-p] [-t mergeable|baseline|patched]

Copy the pristine kernel tree to the tree's directory
  patched:   $PATCHED_DIR
  baseline:  $BASELINE_DIR
  mergeable: $MERGEABLE_DIR
and apply its patches from $PATCHES_DIR/series
with quilt (quilt push -a --fuzz=0):
  mergeable  the series for merging (every section but the debug layer)
  baseline   the debug layer alone: the "before" kernel, Linux
             $KERNEL_SERIES.y with the walk counters
  patched    the series for merging, then the debug layer: the "after"
             kernel, with the same walk counters
Nothing is done when the tree already matches the pristine tree and its
patches. A patch that does not apply cleanly (failed hunks or fuzz) is an
error and the tree is rolled back to pristine.

Options:
  -t TREE  patched (default), baseline or mergeable
  -p       print the tree's path and exit
  -h       this help

Environment:
  KERNEL_SRC           pristine tree to use instead of the fetched one
  FORCE=1              accept a tree that is not Linux $KERNEL_SERIES.y
  KVM_S2_WALK_CACHE    cache directory (default \${XDG_CACHE_HOME:-~/.cache}/kvm-s2-walk)
  KVM_S2_WALK_PATCHES  patch directory (default <repo>/patches)
  KVM_S2_WALK_LOCK     build lock (default /tmp/kbuild.lock)

Exit codes: 0 ok, $E_FAIL a patch does not apply, $E_USAGE bad arguments or input,
$E_PREREQ missing tools.
USAGE
}

# Everything the patched tree depends on, hashed.
stamp_hash() {
	local pristine=$1 p
	{
		echo "apply.sh v1 $pristine"
		kernel_version "$pristine"
		cat "$pristine/.kvm-s2-walk-origin" 2>/dev/null || true
		echo "tree $TREE"
		while read -r p; do
			echo "=== $p"
			cat "$PATCHES_DIR/$p"
		done < <(tree_patches "$TREE")
	} | sha256sum | cut -d' ' -f1
}

rollback() {
	warn "rolling $TREE_DIR back to pristine"
	sync_tree "$PRISTINE" "$TREE_DIR"
	rm -f "$TREE_DIR/$STAMP_NAME"
}

# The output of a failed "quilt push" from the failing patch on.
report_failure() {
	local out=$1 patch
	patch=$(sed -n 's/^Applying patch //p' <<<"$out" | tail -n 1)
	patch=${patch#patches/}
	eprintf '%s\n' "$(awk '/^Applying patch/ { buf = "" } { buf = buf $0 "\n" }
		END { printf "%s", buf }' <<<"$out" | sed 's/^/    | /')"
	eprintf 'ERROR: patch %s does not apply cleanly to %s (Linux %s): %s\n' \
		"${patch:-?}" "$PRISTINE" "$(kernel_version "$PRISTINE")" \
		"$(grep -E 'FAILED|fuzz|malformed|Reversed|can.t find file|No such file' <<<"$out" |
		   awk '{ printf "%s%s", (NR > 1 ? "; " : ""), $0 }')"
}

rebuild_tree() {
	local hash=$1 n out
	mkdir -p "$TREE_DIR"
	echo "in progress" >"$TREE_DIR/$STAMP_NAME"
	trap 'rollback; exit 130' INT TERM

	step "syncing $TREE_DIR from $PRISTINE"
	sync_tree "$PRISTINE" "$TREE_DIR"
	n=$(tree_patches "$TREE" | wc -l)
	if [ "$n" -gt 0 ]; then
		copy_patches "$TREE_DIR"
		tree_patches "$TREE" >"$TREE_DIR/patches/series"
		step "applying $n patch(es) with quilt (--fuzz=0)"
		if ! out=$(quilt_in "$TREE_DIR" push -a --fuzz=0 2>&1); then
			report_failure "$out"
			rollback
			exit "$E_FAIL"
		fi
		# Offsets are accepted, but say so: the patch wants a refresh.
		awk '/^Applying patch/ { p = $3 } /^Hunk .*offset/ { print p ": " $0 }' <<<"$out" |
			while read -r line; do warn "${line#patches/}: refresh the patch"; done
		tree_patches "$TREE" | sed 's/^/    applied: /' >&2
	else
		info "no patches for the $TREE tree: it equals the pristine tree"
	fi
	echo "$hash" >"$TREE_DIR/$STAMP_NAME"
	trap - INT TERM
	info "$TREE tree ready: $TREE_DIR"
}

main() {
	local print=
	TREE=patched
	while getopts hpt: opt; do
		case $opt in
		h) usage; exit 0 ;;
		p) print=1 ;;
		t) TREE=$OPTARG ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; }
	TREE_DIR=$(tree_dir "$TREE")
	[ -z "$print" ] || { echo "$TREE_DIR"; exit 0; }

	need_cmd rsync quilt sha256sum flock
	PRISTINE=$(pristine_dir)
	check_tree "$PRISTINE"
	check_series

	local hash
	hash=$(stamp_hash "$PRISTINE")
	if [ "$(cat "$TREE_DIR/$STAMP_NAME" 2>/dev/null)" = "$hash" ]; then
		info "$TREE tree up to date: $TREE_DIR"
		return 0
	fi
	# Builds read this tree: never rewrite it under a running build.
	with_build_lock rebuild_tree "$hash"
}

main "$@"
