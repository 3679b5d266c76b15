#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Make a git tree of the kernel for developing the series: the pristine
# source as one base commit, then every patch of patches/series as a commit
# (git am). Edit, commit, then write the patches back with
# scripts/export-patches.sh.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

BASE_TAG=kvm-s2-walk-base

usage() {
	cat <<USAGE
Usage: $0 [-h] [DIR]

Create a git tree at DIR (default: $CACHE_DIR/dev/linux) holding the
pristine kernel source as the commit tagged '$BASE_TAG' and the series
of $PATCHES_DIR applied on top with 'git am'. DIR must not exist yet.

Environment: KERNEL_SRC, FORCE, KVM_S2_WALK_CACHE (see Documentation/workbench.md).
Exit codes: 0 ok, $E_FAIL a patch does not apply, $E_USAGE bad arguments.
USAGE
}

main() {
	help_only_opts "$@"
	shift $((OPTIND - 1))
	[ $# -le 1 ] || { usage >&2; exit "$E_USAGE"; }

	local dir=${1:-$CACHE_DIR/dev/linux} src p
	[ ! -e "$dir" ] || die "$E_USAGE" "$dir already exists; remove it or name another directory"
	need_cmd git rsync
	src=$(pristine_dir)
	check_tree "$src"
	check_series

	step "copying $src to $dir"
	mkdir -p "$dir"
	rsync -a --exclude=.git "$src"/ "$dir"/
	step "creating the base commit (about a minute)"
	git -C "$dir" init -q
	# Debian's top-level .gitignore ignores everything it does not ship.
	git -C "$dir" add -f -A .
	git -C "$dir" commit -q -m "Linux $(kernel_version "$src") (pristine source)"
	git -C "$dir" tag "$BASE_TAG"

	while read -r p; do
		step "git am $p"
		git -C "$dir" am -q "$PATCHES_DIR/$p" || {
			git -C "$dir" am --abort || true
			die "$E_FAIL" "$p does not apply with git am; the tree at $dir stops before it"
		}
	done < <(series_patches)
	info "development tree: $dir (base: tag $BASE_TAG)"
}

main "$@"
