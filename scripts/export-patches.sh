#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Write the commits of a development tree (see scripts/devtree.sh) back to
# patches/ as git format-patch files. patches/series is checked, not
# rewritten: its comments and order are the maintainer's.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
Usage: $0 [-h] [-b BASE] [DIR]

Export BASE..HEAD of the git tree DIR (default: $CACHE_DIR/dev/linux;
BASE default: the tag kvm-s2-walk-base) into $PATCHES_DIR with
'git format-patch --zero-commit --no-signature', replacing the *.patch
files there. Then check that patches/series lists exactly the exported
files, in commit order.

Exit codes: 0 ok, $E_FAIL series does not match, $E_USAGE bad arguments.
USAGE
}

main() {
	local base=kvm-s2-walk-base
	while getopts hb: opt; do
		case $opt in
		h) usage; exit 0 ;;
		b) base=$OPTARG ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -le 1 ] || { usage >&2; exit "$E_USAGE"; }

	local dir=${1:-$CACHE_DIR/dev/linux}
	git -C "$dir" rev-parse -q --verify "$base^{commit}" >/dev/null ||
		die "$E_USAGE" "$dir is not a git tree with a commit '$base'"
	[ -z "$(git -C "$dir" status --porcelain --untracked-files=no)" ] ||
		die "$E_USAGE" "$dir has uncommitted changes; commit them first"

	local tmp
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	git -C "$dir" format-patch -q --zero-commit --no-signature -o "$tmp" "$base..HEAD"
	mkdir -p "$PATCHES_DIR"
	# The cover letter (0000-cover-letter.patch) is written by hand: keep it.
	find "$PATCHES_DIR" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' \
		! -name '0000-*' -delete
	cp "$tmp"/*.patch "$PATCHES_DIR"/
	info "exported $(find "$tmp" -name '*.patch' | wc -l) patches to $PATCHES_DIR"

	if ! diff -u <(cd "$tmp" && ls -1 -- *.patch) <(series_patches) >&2; then
		die "$E_FAIL" "patches/series does not list the exported patches in order (diff above: - exported, + series); edit it"
	fi
}

main "$@"
