#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the path of a sparse that the kernel tree accepts for C=1. Linux
# 7.3 uses __typeof_unqual__, which bookworm's sparse 0.6.4 does not parse
# (the kernel's scripts/checker-valid.sh refuses it, and C=1 then checks
# nothing). When the system's sparse is refused, Debian sid's sparse is
# unpacked under the cache, with sid's C library, through a private apt
# configuration; the host's packages are not touched.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

TOOLS_DIR=$CACHE_DIR/tools/sparse
SPARSE_SUITE=${SPARSE_SUITE:-sid}

usage() {
	cat <<USAGE
Usage: $0 [-h] TREE

Print the path of a sparse that TREE's scripts/checker-valid.sh accepts:
the system's sparse if it does, else sparse and libc6 from Debian
$SPARSE_SUITE unpacked (dpkg -x) into
  $TOOLS_DIR
and run through that C library's loader. Done once; reused afterwards.

Environment: SPARSE (a sparse of your own), DEBIAN_MIRROR, KVM_S2_WALK_CACHE.
Exit codes: 0 ok, $E_USAGE bad arguments, $E_PREREQ no usable sparse.
USAGE
}

# valid TREE SPARSE: the tree's own test of the checker.
valid() {
	[ "$(sh "$1/scripts/checker-valid.sh" "$2" -m64 2>/dev/null)" = 1 ]
}

provision() {
	local tree=$1 apt=$CACHE_DIR/apt-$SPARSE_SUITE tmp log=$CACHE_DIR/tools/sparse.log
	need_cmd apt-get dpkg-deb
	private_apt_opts "$apt"
	mkdir -p "$CACHE_DIR/tools"
	debian_list deb "$(mirror_url)" "$SPARSE_SUITE" >"$apt/sources.list.d/$SPARSE_SUITE.list"
	step "sparse: the system's is too old for Linux $(kernel_version "$tree"); unpacking Debian $SPARSE_SUITE's (log: $log)"
	tmp=$(mktemp -d "$CACHE_DIR/tools/.sparse.XXXXXX")
	# shellcheck disable=SC2064 # expand now
	trap "rm -rf '$tmp'" EXIT
	{ apt-get "${APT_OPTS[@]}" -q update &&
	  (cd "$tmp" && apt-get "${APT_OPTS[@]}" -q download sparse libc6); } >"$log" 2>&1 ||
		die "$E_PREREQ" "cannot download sparse and libc6 from Debian $SPARSE_SUITE (log: $log); set SPARSE=<a sparse that parses __typeof_unqual__>"
	mkdir "$tmp/root"
	dpkg-deb -x "$tmp"/sparse_*.deb "$tmp/root"
	dpkg-deb -x "$tmp"/libc6_*.deb "$tmp/root"
	cat >"$tmp/root/sparse" <<WRAP
#!/bin/sh
# Debian $SPARSE_SUITE's sparse with its own C library (scripts/sparse.sh)
exec "$TOOLS_DIR/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \\
	--library-path "$TOOLS_DIR/usr/lib/x86_64-linux-gnu" "$TOOLS_DIR/usr/bin/sparse" "\$@"
WRAP
	chmod +x "$tmp/root/sparse"
	rm -rf "$TOOLS_DIR"
	mv "$tmp/root" "$TOOLS_DIR"
	rm -rf "$tmp"
	trap - EXIT
}

main() {
	help_only_opts "$@"
	shift $((OPTIND - 1))
	[ $# -eq 1 ] || { usage >&2; exit "$E_USAGE"; }
	local tree=$1
	[ -f "$tree/scripts/checker-valid.sh" ] ||
		die "$E_USAGE" "$tree has no scripts/checker-valid.sh (not a kernel tree?)"

	if [ -n "${SPARSE:-}" ]; then
		valid "$tree" "$SPARSE" ||
			die "$E_PREREQ" "SPARSE=$SPARSE is refused by $tree/scripts/checker-valid.sh"
		echo "$SPARSE"
		return 0
	fi
	if command -v sparse >/dev/null && valid "$tree" sparse; then
		command -v sparse
		return 0
	fi
	if ! { [ -x "$TOOLS_DIR/sparse" ] && valid "$tree" "$TOOLS_DIR/sparse"; }; then
		provision "$tree"
	fi
	valid "$tree" "$TOOLS_DIR/sparse" ||
		die "$E_PREREQ" "Debian $SPARSE_SUITE's sparse ($TOOLS_DIR) is refused by $tree/scripts/checker-valid.sh too"
	echo "$TOOLS_DIR/sparse"
}

main "$@"
