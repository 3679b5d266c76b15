#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Shared helpers for the kvm-s2-walk scripts. Sourced, never run.
#
# Every path the workbench writes lives under $KVM_S2_WALK_CACHE, never in
# the repository: kernel source, the patched tree, build trees and logs.

# shellcheck disable=SC2034 # variables are used by the scripts that source us

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${KVM_S2_WALK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvm-s2-walk}
JOBS=${JOBS:-$(nproc)}
# CROSS_COMPILE set, even empty, is used as is: CROSS_COMPILE= builds with
# the native gcc (an arm64 host). Unset: native on arm64, else the Debian
# cross compiler's prefix.
if [ -z "${CROSS_COMPILE+set}" ]; then
	case $(uname -m) in
	aarch64 | arm64) CROSS_COMPILE= ;;
	*) CROSS_COMPILE=aarch64-linux-gnu- ;;
	esac
fi
ARCH=arm64
export ARCH CROSS_COMPILE

# need_cross_libc: the static test programs need an arm64 C library: the
# cross one (libc6-dev-arm64-cross) when cross compiling, the native one
# (libc6-dev) otherwise.
need_cross_libc() {
	if [ -n "$CROSS_COMPILE" ]; then
		[ -d /usr/aarch64-linux-gnu/include ] ||
			die "$E_PREREQ" "no aarch64 C library headers for CROSS_COMPILE=$CROSS_COMPILE: install libc6-dev-arm64-cross (make deps)"
	else
		[ -f /usr/include/aarch64-linux-gnu/bits/libc-header-start.h ] || [ -f /usr/include/stdio.h ] ||
			die "$E_PREREQ" "no C library headers for a native build (CROSS_COMPILE is empty): install libc6-dev (make deps)"
	fi
}

# The base the series is written against. KERNEL_DEB_VERSION pins the exact
# Debian build; when the mirror no longer has it, the newest 7.3.y is used
# with a warning.
KERNEL_SERIES=7.3
KERNEL_DEB_PACKAGE=linux-source-${KERNEL_SERIES}
KERNEL_DEB_VERSION=${KERNEL_DEB_VERSION:-7.3.4-1~bpo13+1}
DEBIAN_SUITE=${DEBIAN_SUITE:-trixie-backports}

# Exit codes shared by all scripts.
readonly E_FAIL=1	# a test or a build failed
readonly E_USAGE=2	# bad arguments or bad input (tree, config)
readonly E_PREREQ=3	# a tool or package is missing and could not be installed

eprintf() {
	# shellcheck disable=SC2059
	printf "$@" >&2
}

die() {
	local code=$1
	shift
	eprintf 'ERROR: %s\n' "$*"
	exit "$code"
}

# Progress lines go to stderr so that stdout stays machine-readable.
step() {
	eprintf '==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"
}

info() {
	eprintf '    %s\n' "$*"
}

warn() {
	eprintf 'WARNING: %s\n' "$*"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "$E_PREREQ" "'$c' not found; run 'make deps' (scripts/deps.sh) first"
	done
}

# kernel_version DIR: print "VERSION.PATCHLEVEL.SUBLEVEL" of a kernel tree.
kernel_version() {
	local dir=$1
	[ -f "$dir/Makefile" ] || return 1
	awk -F' *= *' '
		/^VERSION *=/ { v = $2 }
		/^PATCHLEVEL *=/ { p = $2 }
		/^SUBLEVEL *=/ { s = $2 }
		END { if (v == "" || p == "") exit 1; printf "%s.%s.%s\n", v, p, s }
	' "$dir/Makefile"
}

# is_kernel_tree DIR: the few files every Linux tree has and we rely on.
is_kernel_tree() {
	local dir=$1
	[ -f "$dir/Makefile" ] && [ -f "$dir/Kconfig" ] &&
		[ -f "$dir/scripts/checkpatch.pl" ] &&
		[ -d "$dir/arch/arm64/kvm" ] &&
		[ -f "$dir/tools/testing/kunit/kunit.py" ]
}

# Where the unmodified source lives: the user's tree or our cached copy.
pristine_dir() {
	if [ -n "${KERNEL_SRC:-}" ]; then
		(cd "$KERNEL_SRC" 2>/dev/null && pwd) ||
			die "$E_USAGE" "KERNEL_SRC=$KERNEL_SRC: no such directory"
	else
		local link=$CACHE_DIR/src/current
		[ -L "$link" ] ||
			die "$E_USAGE" "no kernel source yet; run scripts/fetch-kernel.sh (or set KERNEL_SRC=<tree>)"
		readlink -f "$link"
	fi
}

# is_git_tree DIR: DIR is the top of a git work tree.
is_git_tree() {
	[ -e "$1/.git" ] && command -v git >/dev/null 2>&1 &&
		[ "$(git -C "$1" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$1" && pwd -P)" ]
}

# git_dirty DIR: the changes of a git tree against HEAD, one "git status
# --porcelain" line each (untracked files included, ignored ones not).
git_dirty() {
	git -C "$1" status --porcelain --untracked-files=all 2>/dev/null
}

# base_description [DIR]: what the kernels are built from, for results
# files: the Debian package or upstream tarball the tree (default: the
# pristine one) came from, or the user's tree: its git describe and commit
# (and whether it had uncommitted changes), or for a tree without git, its
# path; always with the Linux version.
# shellcheck disable=SC2120 # DIR is optional
base_description() {
	local dir=${1:-} desc sha
	[ -n "$dir" ] || dir=$(pristine_dir)
	if [ -f "$dir/.kvm-s2-walk-origin" ]; then
		echo "$(head -n 1 "$dir/.kvm-s2-walk-origin") (Linux $(kernel_version "$dir"))"
	elif is_git_tree "$dir"; then
		desc=$(git -C "$dir" describe --always --tags --dirty 2>/dev/null) || desc='?'
		sha=$(git -C "$dir" rev-parse HEAD 2>/dev/null) || sha='?'
		if [ -n "$(git_dirty "$dir")" ]; then
			sha="$sha + uncommitted changes"
		fi
		echo "KERNEL_SRC=$dir git $desc (commit $sha) (Linux $(kernel_version "$dir"))"
	else
		echo "KERNEL_SRC=$dir (Linux $(kernel_version "$dir"), no git)"
	fi
}

# deb_status_version ROOT PACKAGE: the version dpkg installed in ROOT
# (read from its status file: no chroot needed), or nothing.
deb_status_version() {
	awk -v p="$2" '$1 == "Package:" { on = ($2 == p) } on && $1 == "Version:" { print $2; exit }' \
		"$1/var/lib/dpkg/status" 2>/dev/null || true
}

# tool_versions: the exact versions of what builds and runs the kernels,
# for results files and run logs, so that a figure can be reproduced after
# Debian's archive has moved on: the compiler, the QEMU that runs the VMs
# and KUnit, the nested QEMU and sparse when the cache has them.
tool_versions() {
	local cc emu nested sp v
	cc=$("${CROSS_COMPILE}gcc" --version 2>/dev/null | head -n 1) || true
	emu=$(qemu-system-aarch64 --version 2>/dev/null | sed -n '1s/^QEMU emulator version //p') || true
	v=$(deb_status_version "$CACHE_DIR/nested-qemu/root" qemu-system-arm)
	if [ -n "${NESTED_QEMU:-}" ]; then
		nested="NESTED_QEMU=$NESTED_QEMU, $("$NESTED_QEMU" --version 2>/dev/null | head -n 1)"
	elif [ -n "$v" ]; then
		nested="qemu-system-arm $v (Debian trixie root in the cache)"
	fi
	if [ -n "${SPARSE:-}" ]; then
		sp="SPARSE=$SPARSE, $("$SPARSE" --version 2>/dev/null)"
	elif [ -f "$CACHE_DIR/tools/sparse/usr/share/doc/sparse/changelog.Debian.gz" ]; then
		sp="$(gzip -dc "$CACHE_DIR/tools/sparse/usr/share/doc/sparse/changelog.Debian.gz" |
			     sed -n '1s/^sparse (\([^)]*\)).*/\1/p') (Debian, unpacked in the cache)"
	elif command -v sparse >/dev/null; then
		sp="$(sparse --version 2>/dev/null) (the system's)"
	fi
	echo "compiler ${cc:-${CROSS_COMPILE}gcc: none}; QEMU ${emu:-none}; nested QEMU ${nested:-none yet}; sparse ${sp:-none yet}"
}

# private_apt_opts DIR: set APT_OPTS to the options of a private apt
# configuration kept in DIR (sources in DIR/sources.list.d, lists, archives),
# which leaves the system's apt sources and state alone.
private_apt_opts() {
	local dir=$1
	mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/archives/partial"
	APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null"
		  -o "Dir::Etc::SourceParts=$dir/sources.list.d"
		  -o "Dir::State::Lists=$dir/lists"
		  -o "Dir::Cache=$dir"
		  -o "Dir::Cache::archives=$dir/archives"
		  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
}

# The keyring Debian's archive is checked against by the private apt
# configurations and debootstrap (Debian's debian-archive-keyring; on
# Ubuntu, install that package too).
DEBIAN_KEYRING=${DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# need_keyring: DEBIAN_KEYRING can be read, or a clear error.
need_keyring() {
	[ -r "$DEBIAN_KEYRING" ] ||
		die "$E_PREREQ" "no Debian archive keyring at $DEBIAN_KEYRING: install debian-archive-keyring (Debian and Ubuntu have it), or set DEBIAN_KEYRING"
}

# debian_list TYPE MIRROR SUITE: a sources.list line for Debian's SUITE,
# checked against DEBIAN_KEYRING whatever the system trusts otherwise.
debian_list() {
	need_keyring
	echo "$1 [signed-by=$DEBIAN_KEYRING] $2 $3 main"
}

# private_apt_update WHAT LOG: apt-get update of the private configuration
# in APT_OPTS, its output in LOG; a failure says whether the signatures or
# the mirror are to blame.
private_apt_update() {
	apt-get "${APT_OPTS[@]}" -q update >"$2" 2>&1 && return 0
	if grep -Eq 'NO_PUBKEY|is not signed|signatures (couldn.t|were invalid)|EXPKEYSIG' "$2"; then
		die "$E_PREREQ" "apt-get update for $1: the mirror's lists are not signed by a key of $DEBIAN_KEYRING (log: $2); a newer debian-archive-keyring knows the newer suites' keys"
	fi
	die "$E_PREREQ" "apt-get update for $1 failed (log: $2); is the Debian mirror reachable?"
}

# mirror_url: DEBIAN_MIRROR, else the Debian mirror of the system's apt
# sources (private apt configurations and debootstrap use the same one).
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

# check_tree DIR: refuse anything that is not a 7.3.y kernel tree unless
# FORCE=1.
check_tree() {
	local dir=$1 ver
	is_kernel_tree "$dir" ||
		die "$E_USAGE" "$dir is not a Linux kernel tree (no Makefile/Kconfig/scripts/checkpatch.pl/arch/arm64/kvm/tools/testing/kunit)"
	ver=$(kernel_version "$dir") ||
		die "$E_USAGE" "$dir: cannot read VERSION/PATCHLEVEL from Makefile"
	case "$ver" in
	"$KERNEL_SERIES".*) ;;
	*)
		if [ "${FORCE:-0}" = 1 ]; then
			warn "$dir is Linux $ver, not $KERNEL_SERIES.y; continuing because FORCE=1"
		else
			die "$E_USAGE" "$dir is Linux $ver; the series is for $KERNEL_SERIES.y (set FORCE=1 to try anyway)"
		fi
		;;
	esac
}

PATCHED_DIR=$CACHE_DIR/trees/patched
BASELINE_DIR=$CACHE_DIR/trees/baseline
MERGEABLE_DIR=$CACHE_DIR/trees/mergeable
BUILD_DIR=$CACHE_DIR/build
RESULTS_DIR=${RESULTS_DIR:-$CACHE_DIR/results}

# ---------------------------------------------------------------------------
# Inputs from the repository; the two directories can be pointed elsewhere
# (the script self-tests do, so that they never touch the real ones).
PATCHES_DIR=${KVM_S2_WALK_PATCHES:-$REPO_ROOT/patches}
KUNIT_DIR=${KVM_S2_WALK_KUNIT_DIR:-$REPO_ROOT/kunit}
QEMU_CONFIG=$REPO_ROOT/kunit/qemu_arm64_el2.py
# kunit.py must not leave __pycache__ in the (pristine) source tree.
export PYTHONDONTWRITEBYTECODE=1

# Only 2 cores: every kernel build takes this lock (the same one people use
# by hand: flock /tmp/kbuild.lock make ...).
LOCK_FILE=${KVM_S2_WALK_LOCK:-/tmp/kbuild.lock}

# What the kernel prints when its debug machinery finds something (KUnit
# and VM serial logs alike), and when KVM came up at EL2 with VHE ("kvm [1]:
# VHE mode ..." or "VHE+NV2 mode ...", not "Hyp nVHE mode ...").
# shellcheck disable=SC2034 # used by the scripts that source this file
SPLAT_RX='BUG:|WARNING:|Kernel panic|Oops|KASAN|UBSAN|sleeping function called from invalid context|possible circular locking|inconsistent lock state|possible recursive locking|suspicious RCU usage|Call trace:'
# shellcheck disable=SC2034
VHE_RX='kvm \[[0-9]+\]: VHE(\+NV2)? mode initialized successfully'

# The stamp apply.sh leaves in the patched tree (never copied or deleted by
# sync_tree).
STAMP_NAME=.kvm-s2-walk-stamp

# lock_held_by_ancestor: true when the build lock is already held by one of
# our parent processes (e.g. "flock /tmp/kbuild.lock make test"); taking it
# again would deadlock.
lock_held_by_ancestor() {
	local ino holders pid=$BASHPID
	ino=$(stat -c %i "$LOCK_FILE" 2>/dev/null) || return 1
	holders=$(awk -v ino="$ino" '$2 == "FLOCK" {
		n = split($6, f, ":"); if (f[n] == ino) print $5 }' /proc/locks)
	[ -n "$holders" ] || return 1
	while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
		grep -qx "$pid" <<<"$holders" && return 0
		pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	done
	return 1
}

# with_build_lock CMD...: run CMD (a command or a function, in this shell)
# holding the build lock; says so when it has to wait. CMD's children do not
# inherit the lock's file descriptor.
with_build_lock() {
	if lock_held_by_ancestor; then
		"$@"
		return
	fi
	local fd rc
	exec {fd}>>"$LOCK_FILE"
	if ! flock -n "$fd"; then
		local t0=$SECONDS
		info "waiting for the build lock $LOCK_FILE (another kernel build runs)"
		flock "$fd"
		info "got the build lock after $(elapsed $((SECONDS - t0)))"
	fi
	"$@" {fd}>&-
	rc=$?
	exec {fd}>&-
	return "$rc"
}

# series_patches: the patch names listed in $PATCHES_DIR/series, in order
# (comments, blank lines and quilt's "-pN" options dropped). No series file
# means no patches.
series_patches() {
	[ -f "$PATCHES_DIR/series" ] || return 0
	sed -e 's/#.*//' "$PATCHES_DIR/series" | awk 'NF { print $1 }'
}

# series_sections: "<section> <patch>" for every patch of the series, where
# <section> is "debug" for the patches under a banner whose title mentions
# "debug" (a banner is a comment line right after a line of #s), and
# "merge" for all others.
series_sections() {
	[ -f "$PATCHES_DIR/series" ] || return 0
	awk '
		/^###/ { banner = 1; next }
		/^#/ && banner { debug = (tolower($0) ~ /debug/); banner = 0; next }
		{ banner = 0 }
		{ sub(/#.*/, "") }
		NF { print (debug ? "debug" : "merge"), $1 }
	' "$PATCHES_DIR/series"
}

# mergeable_patches: the series for merging (every patch outside the debug
# sections), in order.
mergeable_patches() {
	series_sections | awk '$1 == "merge" { print $2 }'
}

# debug_patches: the debug layer (the walk counters), in order.
debug_patches() {
	series_sections | awk '$1 == "debug" { print $2 }'
}

# The trees apply.sh makes, each a copy of the pristine tree plus:
#   mergeable  the series for merging alone (the KUnit suites run on it);
#   baseline   the debug layer alone: the "before" kernel, with counters;
#   patched    the series for merging, then the debug layer: the "after"
#              kernel, with the same counters.
ALL_TREES="mergeable baseline patched"

# tree_dir TREE: where apply.sh keeps that tree.
tree_dir() {
	case $1 in
	mergeable) echo "$MERGEABLE_DIR" ;;
	baseline) echo "$BASELINE_DIR" ;;
	patched) echo "$PATCHED_DIR" ;;
	*) die "$E_USAGE" "unknown tree '$1': the tree is one of: $ALL_TREES" ;;
	esac
}

# tree_patches TREE: the patches of TREE, in order.
tree_patches() {
	case $1 in
	mergeable) mergeable_patches ;;
	baseline) debug_patches ;;
	patched) mergeable_patches; debug_patches ;;
	*) die "$E_USAGE" "unknown tree '$1': the tree is one of: $ALL_TREES" ;;
	esac
}

# check_series: every patch the series names must exist.
check_series() {
	local p
	while read -r p; do
		[ -f "$PATCHES_DIR/$p" ] ||
			die "$E_USAGE" "patch '$p' is listed in $PATCHES_DIR/series but $PATCHES_DIR/$p does not exist"
	done < <(series_patches)
}

# sync_tree SRC DST: make DST an exact copy of SRC (minus .git) and touch
# every file whose content was rewritten, so kbuild sees a restored
# (older) file as changed. Checksums, not mtimes, decide what differs: a
# file whose content already matches only gets SRC's mtime back.
sync_tree() {
	local src=$1 dst=$2
	mkdir -p "$dst"
	rsync -a --delete --checksum --exclude=.git --exclude="/$STAMP_NAME" \
		--out-format='%i %n' "$src"/ "$dst"/ |
		sed -n 's/^>f[^ ]* //p' |
		(cd "$dst" && tr '\n' '\0' | xargs -0 -r touch --)
}

# sync_source SRC DST: sync_tree for a pristine tree, except that of a git
# tree only what git tracks or would track is copied (tracked files and
# untracked ones not ignored: never build output, never .git), and
# everything else in DST (quilt state, old files, build output) is removed.
sync_source() {
	local src=$1 dst=$2 tmp
	if [ -f "$src/.kvm-s2-walk-origin" ] || ! is_git_tree "$src"; then
		sync_tree "$src" "$dst"
		return
	fi
	tmp=$(mktemp -d)
	git -C "$src" ls-files -z --deleted | LC_ALL=C sort -z >"$tmp/deleted"
	git -C "$src" ls-files -z --cached --others --exclude-standard | LC_ALL=C sort -zu |
		LC_ALL=C comm -z -23 - "$tmp/deleted" >"$tmp/src"
	mkdir -p "$dst"
	rsync -a --checksum --from0 --files-from="$tmp/src" --out-format='%i %n' "$src"/ "$dst"/ |
		sed -n 's/^>f[^ ]* //p' |
		(cd "$dst" && tr '\n' '\0' | xargs -0 -r touch --)
	(cd "$dst" && find . \( -type f -o -type l \) -printf '%P\0') | LC_ALL=C sort -z |
		LC_ALL=C comm -z -23 - "$tmp/src" | { grep -zvx -- "$STAMP_NAME" || true; } |
		(cd "$dst" && xargs -0 -r rm -f --)
	find "$dst" -mindepth 1 -type d -empty -delete
	rm -rf "$tmp"
}

# quilt_in TREE ARGS...: quilt on TREE with its patches in TREE/patches,
# ignoring any ~/.quiltrc.
quilt_in() {
	local tree=$1
	shift
	(cd "$tree" && QUILT_PATCHES=patches QUILT_PC=.pc quilt --quiltrc=- "$@")
}

# copy_patches TREE: put the series and its patches into TREE/patches.
copy_patches() {
	local tree=$1
	rm -rf "$tree/patches"
	mkdir -p "$tree/patches"
	[ ! -d "$PATCHES_DIR" ] || cp -a "$PATCHES_DIR"/. "$tree/patches/"
}

# summary_line PASSED FAILED [SKIPPED]: the one line every test stage ends
# with; scripts/test.sh adds these up.
summary_line() {
	if [ "${3:-0}" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' "$1" "$2" "$3"
	else
		printf '%d passed, %d failed\n' "$1" "$2"
	fi
}

# help_only_opts "$@": the options of a script whose only option is -h:
# its usage and exit 0 for -h, the usage on stderr and exit $E_USAGE for any
# other. Leaves OPTIND for the caller's "shift $((OPTIND - 1))".
help_only_opts() {
	local opt
	while getopts h opt; do
		case $opt in
		h) usage; exit 0 ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
}

# pass DESC, failed DESC: the "ok" or "FAIL" line of one check, counted in
# PASSED or FAILED for summary_line.
PASSED=0 FAILED=0

pass() {
	echo "ok   $*"
	PASSED=$((PASSED + 1))
}

failed() {
	echo "FAIL $*"
	FAILED=$((FAILED + 1))
}

# build_warnings TREE LOG: the compiler and sparse warnings and errors of a
# build log, with file names relative to TREE (an O= build names sources
# by absolute path) and "dir/../" folded (the nVHE objects are built from
# arch/arm64/kvm/hyp/nvhe/../*.c).
build_warnings() {
	grep -E '^[^ ]+:[0-9]+(:[0-9]+)?: (warning|error):' "$2" |
		sed -E "s#^$1/##; :a; s#[^/]+/\.\./##; ta" || true
}

# warning_keys TREE LOG: the warnings of build_warnings as "file: message",
# positions dropped so that builds of two trees or two steps compare; sorted.
warning_keys() {
	build_warnings "$1" "$2" | sed -E 's/:[0-9]+(:[0-9]+)?: /: /' | sort -u
}

# elapsed SECONDS: "3m50s".
elapsed() {
	printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

# abs_path PATH: PATH made absolute and normalised, existing or not
# (realpath -m; busybox's realpath has no -m: then "." and ".." are
# folded by hand, symbolic links are kept).
abs_path() {
	local p=$1 out='' c parts
	if [ -z "${_REALPATH_M+set}" ]; then
		_REALPATH_M=0
		realpath -m -- / >/dev/null 2>&1 && _REALPATH_M=1
	fi
	if [ "$_REALPATH_M" = 1 ]; then
		realpath -m -- "$p"
		return
	fi
	[ "${p:0:1}" = / ] || p=$PWD/$p
	IFS=/ read -ra parts <<<"$p"
	for c in "${parts[@]}"; do
		case $c in
		'' | .) ;;
		..) out=${out%/*} ;;
		*) out=$out/$c ;;
		esac
	done
	echo "${out:-/}"
}

# kunit.py and make -C change directory: make every path absolute.
for _v in CACHE_DIR PATCHED_DIR BASELINE_DIR MERGEABLE_DIR BUILD_DIR RESULTS_DIR PATCHES_DIR KUNIT_DIR LOCK_FILE; do
	printf -v "$_v" '%s' "$(abs_path "${!_v}")"
done
unset _v
