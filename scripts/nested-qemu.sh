#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A QEMU that emulates FEAT_NV2, for nested virtualization tests, without
# touching the host: Debian's qemu-system-arm from trixie-backports, in a
# minimal trixie root (debootstrap) under the cache. Bookworm's QEMU 7.2,
# which everything else uses, has no FEAT_NV2.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

NESTED_DIR=$CACHE_DIR/nested-qemu
NESTED_ROOT=$NESTED_DIR/root
NESTED_SUITE=trixie
NESTED_QEMU_PACKAGE=qemu-system-arm
NESTED_QEMU_VERSION=${NESTED_QEMU_VERSION:-1:11.1.3+ds-1~bpo13+1}
# The oldest QEMU whose -cpu max has FEAT_NV2 (user-supplied NESTED_QEMU).
NESTED_QEMU_MIN=9.2

usage() {
	cat <<USAGE
Usage: $0 [-h] provision|version|run [QEMU ARGS...]

provision  make sure $NESTED_QEMU_PACKAGE $NESTED_QEMU_VERSION is installed
           in a minimal $NESTED_SUITE root (debootstrap --variant=minbase, then
           apt-get -t $NESTED_SUITE-backports) at
             $NESTED_ROOT
           Reused while it works; made again when missing, broken or of
           another version. About 30 s and 350 MB from the Debian mirror
           the host uses. The host's packages are not touched.
version    print the version of the nested-capable QEMU
run ARGS   run its qemu-system-aarch64 with ARGS; files under
           $CACHE_DIR are seen at the same paths

Environment:
  NESTED_QEMU          a qemu-system-aarch64 of your own ($NESTED_QEMU_MIN or newer) to
                       use instead; nothing is provisioned then
  NESTED_QEMU_VERSION  Debian version to pin (default $NESTED_QEMU_VERSION)
  DEBIAN_MIRROR        mirror URL (default: the one in the system's apt sources)
  KVM_S2_WALK_CACHE    cache directory

Exit codes: 0 ok, $E_FAIL QEMU failed, $E_USAGE bad arguments,
$E_PREREQ the root cannot be made or the QEMU is too old.
USAGE
}

# in_root ROOT CMD...: CMD inside ROOT, in a private mount namespace with
# /proc, /dev and the cache mounted; nothing stays mounted afterwards. With
# IN_ROOT_EXEC=1 this shell is replaced, so that signals (timeout) reach
# the command itself.
in_root() {
	local root=$1 ex=()
	shift
	mkdir -p "$root/proc" "$root/dev" "$root$CACHE_DIR"
	[ "${IN_ROOT_EXEC:-0}" != 1 ] || ex=(exec)
	# shellcheck disable=SC2016 # expanded by the inner shell
	"${ex[@]}" unshare -m --propagation private sh -c '
		root=$1 cache=$2; shift 2
		mount -t proc proc "$root/proc" &&
		mount --rbind /dev "$root/dev" &&
		mount --bind "$cache" "$root$cache" &&
		exec chroot "$root" "$@"' _ "$root" "$CACHE_DIR" "$@"
}

# root_version ROOT: the installed QEMU package's version, or nothing.
root_version() {
	[ -x "$1/usr/bin/qemu-system-aarch64" ] || return 0
	# shellcheck disable=SC2016 # dpkg-query's format, not ours
	in_root "$1" dpkg-query -W -f='${Version}' "$NESTED_QEMU_PACKAGE" 2>/dev/null || true
}

provision() {
	if [ -n "${NESTED_QEMU:-}" ]; then
		check_own_qemu
		return 0
	fi
	if [ "$(root_version "$NESTED_ROOT")" = "$NESTED_QEMU_VERSION" ] &&
	   in_root "$NESTED_ROOT" qemu-system-aarch64 --version >/dev/null 2>&1; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "$E_PREREQ" "making the $NESTED_SUITE root needs root (debootstrap, chroot)"
	need_cmd debootstrap unshare chroot
	local mirror tmp log=$NESTED_DIR/provision.log
	mirror=$(mirror_url)
	mkdir -p "$NESTED_DIR"
	rm -rf "$NESTED_DIR"/.root.*
	tmp=$(mktemp -d "$NESTED_DIR/.root.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	step "nested QEMU: debootstrap $NESTED_SUITE (minbase) from $mirror (about 30 s; log: $log)"
	debootstrap --variant=minbase "$NESTED_SUITE" "$tmp" "$mirror" >"$log" 2>&1 ||
		die "$E_PREREQ" "debootstrap $NESTED_SUITE failed (log: $log); is the Debian mirror reachable?"
	echo "deb $mirror $NESTED_SUITE-backports main" >"$tmp/etc/apt/sources.list.d/backports.list"
	step "nested QEMU: installing $NESTED_QEMU_PACKAGE=$NESTED_QEMU_VERSION from $NESTED_SUITE-backports"
	if ! in_root "$tmp" sh -c "apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends -t $NESTED_SUITE-backports $NESTED_QEMU_PACKAGE=$NESTED_QEMU_VERSION && apt-get clean" \
		>>"$log" 2>&1; then
		tail -n 5 "$log" | sed 's/^/    | /' >&2
		die "$E_PREREQ" "cannot install $NESTED_QEMU_PACKAGE=$NESTED_QEMU_VERSION in the $NESTED_SUITE root (log: $log); NESTED_QEMU_VERSION=<another version> or NESTED_QEMU=<your qemu-system-aarch64>"
	fi
	in_root "$tmp" qemu-system-aarch64 --version >>"$log" 2>&1 ||
		die "$E_PREREQ" "the installed QEMU does not run (log: $log)"
	rm -rf "$NESTED_ROOT"
	mv "$tmp" "$NESTED_ROOT"
	trap - EXIT
	info "nested QEMU: $(version)"
}

# check_own_qemu: NESTED_QEMU runs and is new enough.
check_own_qemu() {
	local v
	[ -x "$NESTED_QEMU" ] || die "$E_USAGE" "NESTED_QEMU=$NESTED_QEMU is not an executable"
	v=$("$NESTED_QEMU" --version | sed -n 's/.*version \([0-9][0-9.]*\).*/\1/p' | head -n 1)
	[ -n "$v" ] || die "$E_USAGE" "NESTED_QEMU=$NESTED_QEMU does not say its version"
	[ "$(printf '%s\n' "$NESTED_QEMU_MIN" "$v" | sort -V | head -n 1)" = "$NESTED_QEMU_MIN" ] ||
		die "$E_PREREQ" "NESTED_QEMU=$NESTED_QEMU is QEMU $v; FEAT_NV2 needs $NESTED_QEMU_MIN or newer"
}

version() {
	if [ -n "${NESTED_QEMU:-}" ]; then
		"$NESTED_QEMU" --version | head -n 1
	else
		in_root "$NESTED_ROOT" qemu-system-aarch64 --version | head -n 1
	fi
}

main() {
	help_only_opts "$@"
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || { usage >&2; exit "$E_USAGE"; }
	local cmd=$1
	shift
	case $cmd in
	provision | version) [ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; } ;;
	run) ;;
	*) usage >&2; die "$E_USAGE" "unknown command '$cmd'" ;;
	esac
	case $cmd in
	provision) provision ;;
	version) provision; version ;;
	run)
		provision
		if [ -n "${NESTED_QEMU:-}" ]; then
			exec "$NESTED_QEMU" "$@"
		fi
		IN_ROOT_EXEC=1 in_root "$NESTED_ROOT" qemu-system-aarch64 "$@"
		;;
	esac
}

main "$@"
