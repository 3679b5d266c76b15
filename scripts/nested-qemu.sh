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
# Empty: the newest qemu-system-arm of trixie and trixie-backports, when
# it is at least NESTED_QEMU_MIN. Set: that exact Debian version, or an error.
NESTED_QEMU_VERSION=${NESTED_QEMU_VERSION:-}
# The oldest QEMU whose -cpu max has FEAT_NV2. Run here: 11.1.3 (Debian
# 1:11.1.3+ds-1~bpo13+1 and -2~bpo13+1); 9.2 and 10.0 were not run.
NESTED_QEMU_MIN=9.2

usage() {
	cat <<USAGE
Usage: $0 [-h] provision|version|run [QEMU ARGS...]

provision  make sure a $NESTED_QEMU_PACKAGE of QEMU $NESTED_QEMU_MIN or newer is installed
           in a minimal $NESTED_SUITE root (debootstrap --variant=minbase, then
           the newest version $NESTED_SUITE or $NESTED_SUITE-backports offers) at
             $NESTED_ROOT
           Reused while its QEMU runs and is $NESTED_QEMU_MIN or newer (or is exactly
           NESTED_QEMU_VERSION when that is set); made again otherwise. About
           50 s and 350 MB from the Debian mirror the host uses. Nothing
           is left half-made: the root is built aside and moved in place
           at the end. The host's packages are not touched.
version    print the version of the nested-capable QEMU
run ARGS   run its qemu-system-aarch64 with ARGS; files under
           $CACHE_DIR are seen at the same paths

Environment:
  NESTED_QEMU          a qemu-system-aarch64 of your own ($NESTED_QEMU_MIN or newer) to
                       use instead; nothing is provisioned then
  NESTED_QEMU_VERSION  an exact Debian version of $NESTED_QEMU_PACKAGE to install instead
                       of the newest (e.g. 1:11.1.3+ds-2~bpo13+1); an error when
                       the suite no longer has it
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

# upstream_version DEBVER: QEMU's own version in a Debian version
# (1:11.1.3+ds-2~bpo13+1 -> 11.1.3).
upstream_version() {
	local v=${1#*:}
	echo "${v%%[-+~]*}"
}

# new_enough VERSION: QEMU VERSION is NESTED_QEMU_MIN or newer.
new_enough() {
	[ -n "$1" ] && [ "$(printf '%s\n' "$NESTED_QEMU_MIN" "$1" | sort -V | head -n 1)" = "$NESTED_QEMU_MIN" ]
}

# wanted DEBVER: a root with DEBVER installed is the one asked for.
wanted() {
	if [ -n "$NESTED_QEMU_VERSION" ]; then
		[ "$1" = "$NESTED_QEMU_VERSION" ]
	else
		new_enough "$(upstream_version "$1")"
	fi
}

# choose_version ROOT: the Debian version of $NESTED_QEMU_PACKAGE to install
# from the lists of ROOT (after apt-get update): NESTED_QEMU_VERSION if
# offered, else the newest offered, if new enough. Errors say what is
# offered.
choose_version() {
	local root=$1 offered v best=
	offered=$(in_root "$root" apt-cache madison "$NESTED_QEMU_PACKAGE" 2>/dev/null |
		  awk -F'|' '{gsub(/ /, "", $2); if ($2 != "") print $2}' | sort -u) || true
	[ -n "$offered" ] ||
		die "$E_PREREQ" "$NESTED_QEMU_PACKAGE is not offered by $NESTED_SUITE or $NESTED_SUITE-backports; NESTED_QEMU=<a qemu-system-aarch64 $NESTED_QEMU_MIN or newer> instead"
	if [ -n "$NESTED_QEMU_VERSION" ]; then
		grep -qxF -- "$NESTED_QEMU_VERSION" <<<"$offered" ||
			die "$E_PREREQ" "NESTED_QEMU_VERSION=$NESTED_QEMU_VERSION is not offered; offered: $(paste -sd " " <<<"$offered"). Unset it to take the newest"
		echo "$NESTED_QEMU_VERSION"
		return 0
	fi
	for v in $offered; do
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done
	new_enough "$(upstream_version "$best")" ||
		die "$E_PREREQ" "the newest $NESTED_QEMU_PACKAGE offered is $best (QEMU $(upstream_version "$best")); FEAT_NV2 needs $NESTED_QEMU_MIN or newer. NESTED_QEMU=<a qemu-system-aarch64 $NESTED_QEMU_MIN or newer> instead"
	echo "$best"
}

provision() {
	if [ -n "${NESTED_QEMU:-}" ]; then
		check_own_qemu
		return 0
	fi
	local have
	have=$(root_version "$NESTED_ROOT")
	if [ -n "$have" ] && wanted "$have" &&
	   in_root "$NESTED_ROOT" qemu-system-aarch64 --version >/dev/null 2>&1; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "$E_PREREQ" "making the $NESTED_SUITE root needs root (debootstrap, chroot)"
	need_cmd debootstrap unshare chroot dpkg
	local mirror tmp ver log=$NESTED_DIR/provision.log
	mirror=$(mirror_url)
	mkdir -p "$NESTED_DIR"
	rm -rf "$NESTED_DIR"/.root.*
	tmp=$(mktemp -d "$NESTED_DIR/.root.XXXXXX")
	# a global: the trap may run after this function's locals are gone
	PROVISION_TMP=$tmp
	trap 'rm -rf "$PROVISION_TMP"' EXIT
	if [ -n "$have" ]; then
		info "nested QEMU: the root has $NESTED_QEMU_PACKAGE $have, $(wanted "$have" && echo "which does not run" ||
			echo "not ${NESTED_QEMU_VERSION:-$NESTED_QEMU_MIN or newer}"); making it again"
	fi
	step "nested QEMU: debootstrap $NESTED_SUITE (minbase) from $mirror (about 30 s; log: $log)"
	need_keyring
	debootstrap --variant=minbase --keyring="$DEBIAN_KEYRING" "$NESTED_SUITE" "$tmp" "$mirror" >"$log" 2>&1 ||
		die "$E_PREREQ" "debootstrap $NESTED_SUITE failed (log: $log); is the Debian mirror reachable?"
	echo "deb $mirror $NESTED_SUITE-backports main" >"$tmp/etc/apt/sources.list.d/backports.list"
	in_root "$tmp" apt-get -q update >>"$log" 2>&1 ||
		die "$E_PREREQ" "apt-get update in the $NESTED_SUITE root failed (log: $log); is the Debian mirror reachable?"
	ver=$(choose_version "$tmp")
	step "nested QEMU: installing $NESTED_QEMU_PACKAGE=$ver"
	if ! in_root "$tmp" sh -c "DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends -t $NESTED_SUITE-backports $NESTED_QEMU_PACKAGE=$ver && apt-get clean" \
		>>"$log" 2>&1; then
		tail -n 5 "$log" | sed 's/^/    | /' >&2
		die "$E_PREREQ" "cannot install $NESTED_QEMU_PACKAGE=$ver in the $NESTED_SUITE root (log: $log); NESTED_QEMU_VERSION=<another version> or NESTED_QEMU=<your qemu-system-aarch64>"
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
		echo "$(in_root "$NESTED_ROOT" qemu-system-aarch64 --version | head -n 1)" \
			"($NESTED_QEMU_PACKAGE $(root_version "$NESTED_ROOT"))"
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
