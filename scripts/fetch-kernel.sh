#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Download Debian's linux-source-7.3 (or, with -u, the upstream orig tarball
# of Debian's linux source package) through a private apt configuration kept
# in the cache and unpack it once. The system's apt sources are not touched.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
Usage: $0 [-h] [-u]

Fetch the kernel source the series is written against (Debian's
$KERNEL_DEB_PACKAGE $KERNEL_DEB_VERSION from $DEBIAN_SUITE: Linux 7.3.4 plus
Debian's patches, the default base) and unpack it into
  $CACHE_DIR/src/ (link: current)
With -u, fetch upstream Linux 7.3.4 instead: the orig tarball of Debian's
linux source package $KERNEL_DEB_VERSION (no Debian patches), into
  $CACHE_DIR/src/ (link: upstream)
Use it as a base with KERNEL_SRC=$CACHE_DIR/src/upstream.
The unpacked trees are never modified; patched trees are copies of them.
Nothing is done when the tree is already there.

Environment:
  KVM_S2_WALK_CACHE   cache directory (default \${XDG_CACHE_HOME:-~/.cache}/kvm-s2-walk)
  KERNEL_DEB_VERSION  Debian version to pin (default $KERNEL_DEB_VERSION)
  DEBIAN_MIRROR       mirror URL (default: the one in the system's apt sources)
  KERNEL_SRC          when set, nothing is fetched: your tree is used instead

Exit codes: 0 ok, $E_USAGE bad arguments, $E_PREREQ download failed.
USAGE
}

# private_apt: set APT_OPTS to a private apt configuration under the cache
# (binary and source lists of $DEBIAN_SUITE) and read its lists once per run.
private_apt() {
	[ -z "${APT_OPTS+x}" ] || return 0
	need_cmd apt-get apt-cache dpkg-deb tar xz
	APT_DIR=$CACHE_DIR/apt
	private_apt_opts "$APT_DIR"
	mkdir -p "$CACHE_DIR/src"
	local mirror
	mirror=$(mirror_url)
	{ debian_list deb "$mirror" "$DEBIAN_SUITE" && debian_list deb-src "$mirror" "$DEBIAN_SUITE"; } \
		>"$APT_DIR/sources.list.d/kvm-s2-walk.list"

	step "reading the $DEBIAN_SUITE package lists (private apt configuration)"
	private_apt_update "$DEBIAN_SUITE" "$APT_DIR/update.log"
}

# unpack_tarball TARBALL NAME ORIGIN: unpack a kernel tarball into
# $CACHE_DIR/src/linux-<version>-NAME through a temporary directory renamed
# at the end, so that an interrupted run leaves nothing that looks
# complete; print the tree's name.
unpack_tarball() {
	local tarball=$1 name=$2 origin=$3 kver dest
	UNPACK_TMP=$(mktemp -d "$CACHE_DIR/src/.unpack.XXXXXX")
	trap 'rm -rf "$UNPACK_TMP"' EXIT
	mkdir "$UNPACK_TMP/tree"
	tar -xJf "$tarball" -C "$UNPACK_TMP/tree" --strip-components=1
	check_tree "$UNPACK_TMP/tree"
	kver=$(kernel_version "$UNPACK_TMP/tree")
	dest=linux-$kver-$name
	rm -rf "${CACHE_DIR:?}/src/$dest"
	echo "$origin" >"$UNPACK_TMP/tree/.kvm-s2-walk-origin"
	mv "$UNPACK_TMP/tree" "$CACHE_DIR/src/$dest"
	rm -rf "$UNPACK_TMP"
	trap - EXIT
	echo "$dest"
}

# fetch_debian: Debian's linux-source-7.3, the default base.
fetch_debian() {
	local src=$CACHE_DIR/src
	if [ -L "$src/current" ] && is_kernel_tree "$src/current"; then
		info "kernel source present: $(readlink -f "$src/current")"
		return 0
	fi
	private_apt

	local ver=$KERNEL_DEB_VERSION
	if ! apt-cache "${APT_OPTS[@]}" show "$KERNEL_DEB_PACKAGE=$ver" >/dev/null 2>&1; then
		ver=$(apt-cache "${APT_OPTS[@]}" policy "$KERNEL_DEB_PACKAGE" 2>/dev/null |
		      awk '/Candidate:/ {print $2}')
		if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
			die "$E_PREREQ" "$KERNEL_DEB_PACKAGE is not in $DEBIAN_SUITE; set KERNEL_SRC to a 7.3.y tree instead"
		fi
		warn "$KERNEL_DEB_PACKAGE $KERNEL_DEB_VERSION is gone from the mirror; using $ver"
	fi

	step "downloading $KERNEL_DEB_PACKAGE $ver"
	(cd "$APT_DIR/archives" &&
	 apt-get "${APT_OPTS[@]}" -q download "$KERNEL_DEB_PACKAGE=$ver" >"$APT_DIR/download.log" 2>&1) ||
		die "$E_PREREQ" "download of $KERNEL_DEB_PACKAGE=$ver failed (log: $APT_DIR/download.log)"
	local deb
	# shellcheck disable=SC2012 # newest .deb; the names are Debian's
	deb=$(ls -t "$APT_DIR/archives/${KERNEL_DEB_PACKAGE}_"*.deb | head -n 1)

	step "unpacking $(basename "$deb") (about 15 s)"
	local tmp
	tmp=$(mktemp -d "$src/.deb.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xf - -C "$tmp" --wildcards './usr/src/*.tar.xz'
	local dest
	dest=$(unpack_tarball "$(ls "$tmp"/usr/src/*.tar.xz)" "deb-${ver//[~+]/_}" \
			      "$KERNEL_DEB_PACKAGE $ver")
	rm -rf "$tmp" "$deb"
	ln -sfn "$dest" "$src/current"
	info "kernel source: $src/$dest (Linux $(kernel_version "$src/$dest"), $KERNEL_DEB_PACKAGE $ver)"
}

# fetch_upstream: upstream Linux of the same version, without Debian's
# patches: the orig tarball of Debian's "linux" source package.
fetch_upstream() {
	local src=$CACHE_DIR/src
	if [ -L "$src/upstream" ] && is_kernel_tree "$src/upstream"; then
		info "upstream source present: $(readlink -f "$src/upstream")"
		return 0
	fi
	private_apt

	local ver=$KERNEL_DEB_VERSION uris line url file hash
	uris=$(apt-get "${APT_OPTS[@]}" -q --print-uris source "linux=$ver" 2>"$APT_DIR/source.log") ||
		die "$E_PREREQ" "the linux source package $ver is not in $DEBIAN_SUITE (log: $APT_DIR/source.log)"
	line=$(grep -E "^'[^']*/linux_[0-9.]+\.orig\.tar\.xz' " <<<"$uris" | head -n 1) ||
		die "$E_PREREQ" "no orig tarball in the linux source package $ver"
	read -r url file _ hash <<<"$line"
	url=${url//\'/}
	step "downloading $file (upstream Linux, about 150 MB)"
	/usr/lib/apt/apt-helper "${APT_OPTS[@]}" download-file "$url" "$APT_DIR/archives/$file" "$hash" \
		>"$APT_DIR/orig.log" 2>&1 ||
		die "$E_PREREQ" "download of $url failed (log: $APT_DIR/orig.log)"
	local dest
	step "unpacking $file (about 20 s)"
	dest=$(unpack_tarball "$APT_DIR/archives/$file" upstream \
			      "upstream Linux: $file of Debian's linux $ver")
	rm -f "$APT_DIR/archives/$file"
	ln -sfn "$dest" "$src/upstream"
	info "upstream source: $src/$dest"
}

main() {
	local upstream=
	while getopts hu opt; do
		case $opt in
		h) usage; exit 0 ;;
		u) upstream=1 ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; }

	if [ -n "$upstream" ]; then
		fetch_upstream
		return 0
	fi
	if [ -n "${KERNEL_SRC:-}" ]; then
		check_tree "$(pristine_dir)"
		info "KERNEL_SRC=$KERNEL_SRC is used; nothing to fetch"
		return 0
	fi
	fetch_debian
}

main "$@"
