#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A small arm64 userspace for the VM kernels, so that the workbench's own
# scripts (bash, coreutils-style tools, python3) run inside the VM as they
# run on an arm64 host: Debian's bash-static, busybox-static and python3
# (with the C library it needs), downloaded for arm64 through a private apt
# configuration kept in the cache and unpacked with dpkg -x. Nothing is
# installed on this machine; its apt sources are not touched.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

ARM64_SUITE=${ARM64_SUITE:-bookworm}
ROOT_PACKAGES=(bash-static busybox-static libc6 zlib1g libexpat1
	       python3-minimal python3.11-minimal libpython3.11-minimal libpython3.11-stdlib)
ROOT_DIR=$CACHE_DIR/arm64-root
APT_DIR=$CACHE_DIR/apt-arm64

usage() {
	cat <<USAGE
Usage: $0 [-h] provision|path

  provision  make $ROOT_DIR
             (once; remade when the package list changes): Debian
             $ARM64_SUITE arm64 packages unpacked with dpkg -x, pruned of
             documentation, locales and python's tests (about 25 MB, 8 MB
             gzipped in an initramfs):
               ${ROOT_PACKAGES[*]}
             /bin/bash is bash-static; busybox's applets are not linked
             yet: run "busybox --install -s" in the VM first.
  path       print the directory (after provision)

Environment:
  ARM64_SUITE        Debian suite of the packages (default $ARM64_SUITE)
  DEBIAN_MIRROR      mirror URL (default: the one in the system's apt sources)
  KVM_S2_WALK_CACHE  cache directory

Exit codes: 0 ok, $E_USAGE bad arguments, $E_PREREQ download failed.
USAGE
}

root_stamp() {
	echo "arm64-root v2 $ARM64_SUITE ${ROOT_PACKAGES[*]}"
}

provision() {
	if [ "$(cat "$ROOT_DIR/.kvm-s2-walk-root" 2>/dev/null)" = "$(root_stamp)" ]; then
		return 0
	fi
	need_cmd apt-get dpkg-deb
	local t0=$SECONDS mirror tmp deb
	private_apt_opts "$APT_DIR"
	APT_OPTS+=(-o "APT::Architecture=arm64" -o "APT::Architectures=arm64")
	mirror=$(mirror_url)
	debian_list deb "$mirror" "$ARM64_SUITE" >"$APT_DIR/sources.list.d/kvm-s2-walk-arm64.list"
	step "arm64 userspace: reading the $ARM64_SUITE arm64 package list (private apt configuration)"
	private_apt_update "$ARM64_SUITE arm64" "$APT_DIR/update.log"
	step "arm64 userspace: downloading ${ROOT_PACKAGES[*]}"
	rm -f "$APT_DIR"/archives/*.deb
	(cd "$APT_DIR/archives" &&
	 apt-get "${APT_OPTS[@]}" -q download "${ROOT_PACKAGES[@]}" >"$APT_DIR/download.log" 2>&1) ||
		die "$E_PREREQ" "download of the arm64 packages failed (log: $APT_DIR/download.log)"
	tmp=$(mktemp -d "$CACHE_DIR/.arm64-root.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	for deb in "$APT_DIR"/archives/*.deb; do
		dpkg-deb -x "$deb" "$tmp"
		dpkg-deb -f "$deb" Package Version | sed 's/^[^:]*: //' | paste -sd' ' >>"$tmp/.kvm-s2-walk-packages"
	done
	rm -rf "$tmp"/usr/share/{doc,man,info,locale,lintian,bug,binfmts,gdb} \
		"$tmp"/usr/lib/aarch64-linux-gnu/gconv \
		"$tmp"/usr/lib/python3.11/{test,idlelib,ensurepip,lib2to3,pydoc_data,tkinter,turtledemo,unittest,config-3.11-aarch64-linux-gnu} \
		"$tmp"/usr/lib/python3.11/lib-dynload/_test*.so "$tmp"/usr/lib/python3.11/lib-dynload/_xx*.so
	ln -sf bash-static "$tmp/bin/bash"
	ln -sf bash "$tmp/bin/sh"
	mkdir -p "$tmp/usr/sbin" "$tmp/sbin" "$tmp/root"
	root_stamp >"$tmp/.kvm-s2-walk-root"
	rm -rf "$ROOT_DIR"
	mv "$tmp" "$ROOT_DIR"
	trap - EXIT
	rm -f "$APT_DIR"/archives/*.deb
	info "arm64 userspace: $ROOT_DIR ($(du -sh "$ROOT_DIR" | cut -f1), $(elapsed $((SECONDS - t0))))"
	sed 's/^/      /' "$ROOT_DIR/.kvm-s2-walk-packages" >&2
}

main() {
	help_only_opts "$@"
	shift $((OPTIND - 1))
	[ $# -eq 1 ] || { usage >&2; exit "$E_USAGE"; }
	case $1 in
	provision) provision ;;
	path)
		[ -f "$ROOT_DIR/.kvm-s2-walk-root" ] || die "$E_USAGE" "no arm64 userspace yet: run $0 provision"
		echo "$ROOT_DIR"
		;;
	*) die "$E_USAGE" "unknown command '$1' (provision or path)" ;;
	esac
}

main "$@"
