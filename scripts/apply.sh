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
patches. With KERNEL_SRC, "matches" means: a git tree at the same HEAD
with the same uncommitted changes; any other tree with the same files
(path, size, mtime). Build output is never copied: a git tree is copied
without the files git ignores, a tree without git that was built in place
(.config, include/config, ...) is refused ("make mrproper" it). The base
(git describe and commit, or the Debian package) goes into every results
file. A patch that does not apply cleanly (failed hunks or fuzz) is an
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

# source_state DIR: what the pristine tree's contents are, for the stamp.
# A tree we downloaded (.kvm-s2-walk-origin) is never modified: its origin.
# A git tree: HEAD, the status, the diff against HEAD and the contents of
# untracked files (ignored files, i.e. build output, are not part of it).
# Any other tree: every file's path, type, size, mtime and mode (a content
# hash of a kernel tree takes most of a minute on 2 cores; this changes
# with any edit, unpack, patch or "make mrproper" as well).
source_state() {
	local dir=$1
	if [ -f "$dir/.kvm-s2-walk-origin" ]; then
		cat "$dir/.kvm-s2-walk-origin"
	elif is_git_tree "$dir"; then
		git -C "$dir" rev-parse HEAD
		git_dirty "$dir"
		git -C "$dir" diff HEAD --binary
		git -C "$dir" ls-files -z --others --exclude-standard |
			(cd "$dir" && xargs -0 -r sha256sum --)
	else
		(cd "$dir" && find . -path ./.git -prune -o -printf '%P %y %s %T@ %m\n' | LC_ALL=C sort)
	fi
}

# Everything the tree depends on, hashed.
stamp_hash() {
	local pristine=$1 p
	{
		echo "apply.sh v2 $pristine"
		kernel_version "$pristine"
		echo "source:"
		source_state "$pristine"
		echo "tree $TREE"
		while read -r p; do
			echo "=== $p"
			cat "$PATCHES_DIR/$p"
		done < <(tree_patches "$TREE")
	} | sha256sum | cut -d' ' -f1
}

# built_in_place DIR: the first build output found at the top of DIR
# (kbuild refuses O= builds of a source tree that has .config or
# include/config: "source tree is not clean").
built_in_place() {
	local f
	for f in .config include/config include/generated arch/arm64/include/generated \
		 vmlinux arch/arm64/boot/Image Module.symvers scripts/basic/fixdep; do
		[ ! -e "$1/$f" ] || { echo "$f"; return 0; }
	done
	return 1
}

# check_source DIR [warn]: a user's tree (KERNEL_SRC) without git that was
# built in place is refused; with "warn", a git tree built in place or with
# uncommitted changes gets a clear word (when it is copied). Build output is
# never copied (git: only tracked and untracked-not-ignored files are).
check_source() {
	local dir=$1 f n
	[ ! -f "$dir/.kvm-s2-walk-origin" ] || return 0
	if is_git_tree "$dir"; then
		[ "${2:-}" = warn ] || return 0
		if f=$(built_in_place "$dir"); then
			warn "KERNEL_SRC=$dir was built in place ($f): its build output (files git ignores) is not copied; the trees are built out of tree (O=) under $CACHE_DIR/build"
		fi
		n=$(git_dirty "$dir" | wc -l)
		if [ "$n" -gt 0 ]; then
			warn "KERNEL_SRC=$dir has $n uncommitted change(s) ($(git_dirty "$dir" | head -n 3 | awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $2 }')$([ "$n" -le 3 ] || echo ', ...')): they are copied and the base is recorded as 'commit + uncommitted changes'. For a base others can reproduce, commit them or 'git stash' first"
		fi
	elif f=$(built_in_place "$dir"); then
		die "$E_USAGE" "KERNEL_SRC=$dir was built in place (it has $f): its build output would break every O= build (\"source tree is not clean\"). Run 'make mrproper' in it, or use a clean checkout or unpacked tarball"
	fi
}

rollback() {
	warn "rolling $TREE_DIR back to pristine"
	sync_source "$PRISTINE" "$TREE_DIR"
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
	check_source "$PRISTINE" warn
	info "base: $(base_description "$PRISTINE")"
	sync_source "$PRISTINE" "$TREE_DIR"
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
	check_source "$PRISTINE"

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
