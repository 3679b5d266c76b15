#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Download Debian's linux-source-7.3 through a private apt configuration kept
# in the cache and unpack it once. The system's apt sources are not touched.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
Usage: $0 [-h]

Fetch the kernel source the series is written against (Debian's
$KERNEL_DEB_PACKAGE $KERNEL_DEB_VERSION from $DEBIAN_SUITE) and unpack it into
  $CACHE_DIR/src/
The unpacked tree is never modified; patched trees are copies of it.
Nothing is done when the tree is already there.

Environment:
  KVM_S2_WALK_CACHE   cache directory (default \${XDG_CACHE_HOME:-~/.cache}/kvm-s2-walk)
  KERNEL_DEB_VERSION  Debian version to pin (default $KERNEL_DEB_VERSION)
  DEBIAN_MIRROR       mirror URL (default: the one in the system's apt sources)
  KERNEL_SRC          when set, nothing is fetched: your tree is used instead

Exit codes: 0 ok, $E_USAGE bad arguments, $E_PREREQ download failed.
USAGE
}

mirror_url() {
	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		echo "$DEBIAN_MIRROR"
		return
	fi
	local url
	url=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources |
	      awk '{print $2}' | grep -v security | head -n 1) || true
	if [ -z "$url" ]; then
		url=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
		      awk '{print $2}' | grep -v security | head -n 1) || true
	fi
	echo "${url:-http://deb.debian.org/debian}"
}

main() {
	while getopts h opt; do
		case $opt in
		h) usage; exit 0 ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; }

	if [ -n "${KERNEL_SRC:-}" ]; then
		check_tree "$(pristine_dir)"
		info "KERNEL_SRC=$KERNEL_SRC is used; nothing to fetch"
		return 0
	fi

	local src=$CACHE_DIR/src
	if [ -L "$src/current" ] && is_kernel_tree "$src/current"; then
		info "kernel source present: $(readlink -f "$src/current")"
		return 0
	fi

	need_cmd apt-get dpkg-deb tar xz
	local apt=$CACHE_DIR/apt
	mkdir -p "$apt/sources.list.d" "$apt/lists/partial" \
		"$apt/archives/partial" "$src"
	echo "deb $(mirror_url) $DEBIAN_SUITE main" > "$apt/sources.list.d/kvm-s2-walk.list"
	local opts=(-o "Dir::Etc::SourceList=/dev/null"
		    -o "Dir::Etc::SourceParts=$apt/sources.list.d"
		    -o "Dir::State::Lists=$apt/lists"
		    -o "Dir::Cache=$apt"
		    -o "Dir::Cache::archives=$apt/archives"
		    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")

	step "reading the $DEBIAN_SUITE package list (private apt configuration)"
	apt-get "${opts[@]}" -q update >"$apt/update.log" 2>&1 ||
		die "$E_PREREQ" "apt-get update for $DEBIAN_SUITE failed (log: $apt/update.log); is the Debian mirror reachable?"

	local ver=$KERNEL_DEB_VERSION
	if ! apt-cache "${opts[@]}" show "$KERNEL_DEB_PACKAGE=$ver" >/dev/null 2>&1; then
		ver=$(apt-cache "${opts[@]}" policy "$KERNEL_DEB_PACKAGE" 2>/dev/null |
		      awk '/Candidate:/ {print $2}')
		if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
			die "$E_PREREQ" "$KERNEL_DEB_PACKAGE is not in $DEBIAN_SUITE; set KERNEL_SRC to a 7.3.y tree instead"
		fi
		warn "$KERNEL_DEB_PACKAGE $KERNEL_DEB_VERSION is gone from the mirror; using $ver"
	fi

	step "downloading $KERNEL_DEB_PACKAGE $ver"
	(cd "$apt/archives" &&
	 apt-get "${opts[@]}" -q download "$KERNEL_DEB_PACKAGE=$ver" >"$apt/download.log" 2>&1) ||
		die "$E_PREREQ" "download of $KERNEL_DEB_PACKAGE=$ver failed (log: $apt/download.log)"
	local deb
	# shellcheck disable=SC2012 # newest .deb; the names are Debian's
	deb=$(ls -t "$apt/archives/${KERNEL_DEB_PACKAGE}_"*.deb | head -n 1)

	# Unpack into a temporary directory and rename at the end, so an
	# interrupted run leaves nothing that looks complete.
	step "unpacking $(basename "$deb") (about 15 s)"
	UNPACK_TMP=$(mktemp -d "$src/.unpack.XXXXXX")
	trap 'rm -rf "$UNPACK_TMP"' EXIT
	local tmp=$UNPACK_TMP
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xf - -C "$tmp" --wildcards './usr/src/*.tar.xz'
	local tarball
	tarball=$(ls "$tmp"/usr/src/*.tar.xz)
	mkdir "$tmp/tree"
	tar -xJf "$tarball" -C "$tmp/tree" --strip-components=1
	check_tree "$tmp/tree"
	local kver
	kver=$(kernel_version "$tmp/tree")
	local dest=$src/linux-$kver-deb-${ver//[~+]/_}
	rm -rf "$dest"
	mv "$tmp/tree" "$dest"
	echo "$KERNEL_DEB_PACKAGE $ver" > "$dest/.kvm-s2-walk-origin"
	ln -sfn "$(basename "$dest")" "$src/current"
	rm -f "$deb"
	info "kernel source: $dest (Linux $kver, $KERNEL_DEB_PACKAGE $ver)"
}

main "$@"
