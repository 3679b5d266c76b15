#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Make the patched tree: a copy of the pristine tree with the quilt series
# from patches/ pushed on top. The pristine tree (the baseline) is never
# modified.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
Usage: $0 [-h] [-p]

Copy the pristine kernel tree to
  $PATCHED_DIR
and apply the quilt series $PATCHES_DIR/series to it (quilt push -a
--fuzz=0). Nothing is done when the tree already matches the pristine tree,
the series and the patches. A patch that does not apply cleanly (failed
hunks or fuzz) is an error and the tree is rolled back to pristine.

Options:
  -p  print the patched tree's path and exit
  -h  this help

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
		[ ! -f "$PATCHES_DIR/series" ] || cat "$PATCHES_DIR/series"
		while read -r p; do
			echo "=== $p"
			cat "$PATCHES_DIR/$p"
		done < <(series_patches)
	} | sha256sum | cut -d' ' -f1
}

rollback() {
	warn "rolling $PATCHED_DIR back to pristine"
	sync_tree "$PRISTINE" "$PATCHED_DIR"
	rm -f "$PATCHED_DIR/$STAMP_NAME"
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
	mkdir -p "$PATCHED_DIR"
	echo "in progress" >"$PATCHED_DIR/$STAMP_NAME"
	trap 'rollback; exit 130' INT TERM

	step "syncing $PATCHED_DIR from $PRISTINE"
	sync_tree "$PRISTINE" "$PATCHED_DIR"
	n=$(series_patches | wc -l)
	if [ "$n" -gt 0 ]; then
		copy_patches "$PATCHED_DIR"
		step "applying $n patch(es) with quilt (--fuzz=0)"
		if ! out=$(quilt_in "$PATCHED_DIR" push -a --fuzz=0 2>&1); then
			report_failure "$out"
			rollback
			exit "$E_FAIL"
		fi
		# Offsets are accepted, but say so: the patch wants a refresh.
		awk '/^Applying patch/ { p = $3 } /^Hunk .*offset/ { print p ": " $0 }' <<<"$out" |
			while read -r line; do warn "${line#patches/}: refresh the patch"; done
		series_patches | sed 's/^/    applied: /' >&2
	else
		info "the series is empty: the patched tree equals the pristine tree"
	fi
	echo "$hash" >"$PATCHED_DIR/$STAMP_NAME"
	trap - INT TERM
	info "patched tree ready: $PATCHED_DIR"
}

main() {
	while getopts hp opt; do
		case $opt in
		h) usage; exit 0 ;;
		p) echo "$PATCHED_DIR"; exit 0 ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; }

	need_cmd rsync quilt sha256sum flock
	PRISTINE=$(pristine_dir)
	check_tree "$PRISTINE"
	check_series

	local hash
	hash=$(stamp_hash "$PRISTINE")
	if [ "$(cat "$PATCHED_DIR/$STAMP_NAME" 2>/dev/null)" = "$hash" ]; then
		info "patched tree up to date: $PATCHED_DIR"
		return 0
	fi
	# Builds read this tree: never rewrite it under a running build.
	with_build_lock rebuild_tree "$hash"
}

main "$@"
