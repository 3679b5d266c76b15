#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Self-tests of the scripts: bad options, bad trees, bad series. Everything
# runs against tiny fake kernel trees with a private cache, patch directory,
# kunit directory and build lock in a temporary directory: the real cache
# and the repository's patches/ and kunit/ are never touched. No kernel is
# built. Ends with "N passed, N failed".

set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
S=$REPO/scripts
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

export KVM_S2_WALK_CACHE=$TMP/cache KVM_S2_WALK_PATCHES=$TMP/patches
export KVM_S2_WALK_KUNIT_DIR=$TMP/kunit KVM_S2_WALK_LOCK=$TMP/lock
unset KERNEL_SRC FORCE BISECT RESULTS_DIR
PATCHED=$TMP/cache/trees/patched
FILE=arch/arm64/kvm/pgtable.c

usage() {
	cat <<USAGE
Usage: $0 [-h]

Run the script self-tests (a few seconds, no kernel build). Prints one
"ok N - ..." / "not ok N - ..." line per test, then "N passed, N failed".
Exit codes: 0 all passed, 1 a test failed, 2 bad arguments.
USAGE
}

PASS=0 FAIL=0 N=0

result() {
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2"
		PASS=$((PASS + 1))
	else
		echo "not ok $N - $2"
		FAIL=$((FAIL + 1))
	fi
}

# expect DESC RC REGEX CMD...: CMD exits with RC and its output (stdout and
# stderr) matches the extended regex REGEX.
expect() {
	local desc=$1 want=$2 re=$3 rc=0 out
	shift 3
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq "$want" ] && grep -Eq -- "$re" <<<"$out"; then
		result 0 "$desc"
	else
		result 1 "$desc"
		printf '# exit %s (want %s), wanted /%s/ in:\n' "$rc" "$want" "$re"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# check DESC CMD...: CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then result 0 "$desc"; else result 1 "$desc"; fi
}

# fake_tree DIR VERSION PATCHLEVEL: the files is_kernel_tree looks for, a
# stub checkpatch.pl (fails on "XXX", insists on --strict) and a C file.
fake_tree() {
	local d=$1 i
	mkdir -p "$d/scripts" "$d/arch/arm64/kvm" "$d/tools/testing/kunit"
	printf 'VERSION = %s\nPATCHLEVEL = %s\nSUBLEVEL = 4\n' "$2" "$3" >"$d/Makefile"
	: >"$d/Kconfig"
	: >"$d/tools/testing/kunit/kunit.py"
	cat >"$d/scripts/checkpatch.pl" <<'PERL'
my %o = map { $_ => 1 } @ARGV;
if (!$o{'--strict'}) { print "stub: no --strict\n"; exit 1; }
open(my $h, '<', $ARGV[-1]) or die "stub: cannot open $ARGV[-1]\n";
while (<$h>) { if (/XXX/) { print "ERROR: XXX in patch\n"; exit 1; } }
PERL
	for i in $(seq 1 30); do echo "line $i"; done >"$d/$FILE"
	touch -d 2000-01-01 "$d/$FILE"
}

# mkpatch NAME SED...: a patch of $FILE made by the sed expressions; the
# first expression is applied to the "old" side too (to fake a context
# that does not match the tree).
mkpatch() {
	local name=$1 pre=$2 post=$3
	sed "$pre" "$TMP/k73/$FILE" >"$TMP/old"
	sed "$post" "$TMP/old" >"$TMP/new"
	diff -u --label "a/$FILE" --label "b/$FILE" "$TMP/old" "$TMP/new" \
		>"$TMP/patches/$name" || true
}

series() {
	printf '# test series\n\n' >"$TMP/patches/series"
	printf '%s\n' "$@" >>"$TMP/patches/series"
}

pristine_file() {
	cmp -s "$TMP/k73/$FILE" "$PATCHED/$FILE"
}

no_quilt_state() {
	[ ! -e "$PATCHED/.pc" ] && [ ! -e "$PATCHED/patches" ] &&
		[ ! -e "$PATCHED/.kvm-s2-walk-stamp" ]
}

# no_leftovers DIR...: no temporary directory of an interrupted or refused
# download or provisioning (.root.*, .unpack.*, .deb.*) under DIR.
no_leftovers() {
	[ -z "$(find "$@" -maxdepth 1 \( -name '.root.*' -o -name '.unpack.*' -o -name '.deb.*' \) 2>/dev/null)" ]
}

# standin_apt: stand-ins for what fetch-kernel.sh and nested-qemu.sh ask of
# Debian, in $TMP/standin (put first in PATH):
#  - apt-get/apt-cache for the kernel: the versions of linux-source-7.3
#    "offered" are the .deb files in $FAKE_DEBS;
#  - debootstrap, unshare, mount, chroot and id for the nested root, with
#    apt-get/apt-cache/dpkg-query inside it: the versions of
#    qemu-system-arm offered are $FAKE_QEMU_OFFERED; each debootstrap call
#    is a line in $FAKE_CALLS.
# shellcheck disable=SC2016 # expanded by the stand-ins when they run
standin_apt() {
	local b=$TMP/standin r=$TMP/standin-root
	mkdir -p "$b" "$r"
	cat >"$b/apt-get" <<'SH'
#!/bin/bash
# the host side: update, download PKG=VER (from $FAKE_DEBS)
while [ $# -gt 0 ]; do
	case $1 in
	-o) shift 2 ;;
	-*) shift ;;
	update) [ -z "${FAKE_APT_NOKEY:-}" ] && exit 0
		echo "W: GPG error: http://mirror trixie-backports InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 6ED0E7B82643E131"
		exit 100 ;;
	download) cp "$FAKE_DEBS/${2%%=*}_${2#*=}_all.deb" . 2>/dev/null || { echo "E: Version '${2#*=}' for '${2%%=*}' was not found"; exit 100; }; exit 0 ;;
	*) echo "stand-in apt-get: $1?"; exit 100 ;;
	esac
done
SH
	cat >"$b/apt-cache" <<'SH'
#!/bin/bash
# show PKG=VER, policy PKG (candidate: the newest .deb in $FAKE_DEBS)
while [ $# -gt 0 ]; do
	case $1 in
	-o) shift 2 ;;
	-*) shift ;;
	show) [ -f "$FAKE_DEBS/${2%%=*}_${2#*=}_all.deb" ]; exit ;;
	policy)
		c=$(cd "$FAKE_DEBS" && ls "$2"_*_all.deb 2>/dev/null | sed "s/^$2_//; s/_all\.deb$//" | sort -V | tail -n 1)
		printf '%s:\n  Installed: (none)\n  Candidate: %s\n' "$2" "${c:-(none)}"
		exit 0 ;;
	*) exit 100 ;;
	esac
done
SH
	cat >"$b/debootstrap" <<'SH'
#!/bin/bash
# debootstrap [OPTIONS] SUITE DIR MIRROR
echo "debootstrap $*" >>"$FAKE_CALLS"
while [ "${1#-}" != "$1" ]; do shift; done
mkdir -p "$2/etc/apt/sources.list.d" "$2/usr/bin" "$2/var/lib"
cp "$FAKE_TEMPLATE"/* "$2/usr/bin/"
SH
	cat >"$b/unshare" <<'SH'
#!/bin/bash
while [ $# -gt 0 ]; do
	case $1 in --propagation) shift 2 ;; -*) shift ;; *) break ;; esac
done
exec "$@"
SH
	printf '#!/bin/sh\nexit 0\n' >"$b/mount"
	printf '#!/bin/sh\n[ "$1" = -u ] && echo 0 || exec /usr/bin/id "$@"\n' >"$b/id"
	printf '#!/bin/sh\nFAKE_ROOT=$1 PATH=$1/usr/bin:$PATH\nexport FAKE_ROOT PATH\nshift\nexec "$@"\n' >"$b/chroot"
	# inside the root
	cat >"$r/apt-cache" <<'SH'
#!/bin/bash
[ "$1" = madison ] || exit 100
for v in $FAKE_QEMU_OFFERED; do printf ' %s | %s | http://mirror trixie-backports/main amd64 Packages\n' "$2" "$v"; done
SH
	cat >"$r/apt-get" <<'SH'
#!/bin/bash
for a; do
	case $a in
	update | clean) exit 0 ;;
	qemu-system-arm=*)
		v=${a#*=}
		case " $FAKE_QEMU_OFFERED " in *" $v "*) ;; *) echo "E: Version '$v' for 'qemu-system-arm' was not found"; exit 100 ;; esac
		u=${v#*:}
		printf '#!/bin/sh\necho "QEMU emulator version %s (Debian %s)"\n' "${u%%[-+~]*}" "$v" >"$FAKE_ROOT/usr/bin/qemu-system-aarch64"
		chmod +x "$FAKE_ROOT/usr/bin/qemu-system-aarch64"
		echo "$v" >"$FAKE_ROOT/var/lib/qemu-version"
		exit 0 ;;
	esac
done
exit 100
SH
	printf '#!/bin/sh\ncat "$FAKE_ROOT/var/lib/qemu-version"\n' >"$r/dpkg-query"
	chmod +x "$b"/* "$r"/*
	export FAKE_TEMPLATE=$r FAKE_CALLS=$TMP/debootstrap.calls FAKE_DEBS=$TMP/debs
	: >"$FAKE_CALLS"
	mkdir -p "$FAKE_DEBS"
}

# fake_deb VERSION SUBLEVEL: a linux-source-7.3 VERSION package in
# $FAKE_DEBS holding a fake Linux 7.3.SUBLEVEL tree, as Debian ships it
# (/usr/src/linux-source-7.3.tar.xz).
fake_deb() {
	local d=$TMP/deb-$1
	fake_tree "$d/src/linux-source-7.3" 7 3
	sed -i "s/^SUBLEVEL = .*/SUBLEVEL = $2/" "$d/src/linux-source-7.3/Makefile"
	mkdir -p "$d/pkg/DEBIAN" "$d/pkg/usr/src"
	printf 'Package: linux-source-7.3\nVersion: %s\nArchitecture: all\nMaintainer: x <x@example.org>\nDescription: stand-in\n' \
		"$1" >"$d/pkg/DEBIAN/control"
	tar -cJf "$d/pkg/usr/src/linux-source-7.3.tar.xz" -C "$d/src" linux-source-7.3
	dpkg-deb -Zgzip --build "$d/pkg" "$FAKE_DEBS/linux-source-7.3_$1_all.deb" >/dev/null
}

# fallback_tests: what fetch-kernel.sh and nested-qemu.sh do when Debian
# no longer has the exact version, has a newer one, or nothing.
fallback_tests() {
	standin_apt
	local sp=$TMP/standin:$PATH c

	echo "# fetch-kernel.sh: what the mirror offers (stand-in apt)"
	c=$TMP/fk1
	fake_deb 7.3.5-1~bpo13+1 5
	expect "only a newer 7.3.y offered -> used, with a warning" 0 \
		'WARNING: linux-source-7\.3 7\.3\.4-1~bpo13\+1 is gone from the mirror; using 7\.3\.5-1~bpo13\+1' \
		env -u KERNEL_SRC PATH="$sp" KVM_S2_WALK_CACHE="$c" "$S/fetch-kernel.sh"
	check "  ...the tree is Linux 7.3.5" [ "$(kernel_version "$c/src/current")" = 7.3.5 ]
	check "  ...from that package" \
		[ "$(cat "$c/src/current/.kvm-s2-walk-origin")" = "linux-source-7.3 7.3.5-1~bpo13+1" ]
	check "  ...no temporary directory left" no_leftovers "$c/src"
	expect "  ...a second run reuses it" 0 'kernel source present' \
		env -u KERNEL_SRC PATH="$sp" KVM_S2_WALK_CACHE="$c" "$S/fetch-kernel.sh"
	fake_deb 7.3.4-1~bpo13+1 4
	c=$TMP/fk2
	expect "the pinned version offered -> used, no warning" 0 \
		'kernel source: .*Linux 7\.3\.4, linux-source-7\.3 7\.3\.4-1~bpo13\+1\)' \
		env -u KERNEL_SRC PATH="$sp" KVM_S2_WALK_CACHE="$c" "$S/fetch-kernel.sh"
	rm -f "$FAKE_DEBS"/*.deb
	c=$TMP/fk3
	expect "no linux-source-7.3 at all -> error with a KERNEL_SRC hint, exit 3" 3 \
		'linux-source-7\.3 is not in trixie-backports; set KERNEL_SRC to a 7\.3\.y tree' \
		env -u KERNEL_SRC PATH="$sp" KVM_S2_WALK_CACHE="$c" "$S/fetch-kernel.sh"
	check "  ...no source tree, link or temporary directory left" \
		bash -c "[ ! -e '$c/src/current' ] && [ -z \"\$(ls -A '$c/src')\" ]"
	expect "no Debian archive keyring (e.g. Ubuntu without debian-archive-keyring) -> error naming the package" 3 \
		'no Debian archive keyring at /nonexistent: install debian-archive-keyring' \
		env -u KERNEL_SRC PATH="$sp" KVM_S2_WALK_CACHE="$c" DEBIAN_KEYRING=/nonexistent "$S/fetch-kernel.sh"
	: >"$TMP/keyring.gpg"
	expect "lists not signed by a key of the keyring -> error about the keyring, not the mirror" 3 \
		"not signed by a key of $TMP/keyring\.gpg" \
		env -u KERNEL_SRC PATH="$sp" KVM_S2_WALK_CACHE="$c" DEBIAN_KEYRING="$TMP/keyring.gpg" FAKE_APT_NOKEY=1 \
		"$S/fetch-kernel.sh"
	check "  ...the list names that keyring" grep -q "^deb \[signed-by=$TMP/keyring.gpg\] .* trixie-backports main" \
		"$c/apt/sources.list.d/kvm-s2-walk.list"

	echo "# nested-qemu.sh: what trixie(-backports) offers (stand-in apt, debootstrap, chroot)"
	c=$TMP/nq
	local ok='1:10.0.6+ds-0+deb13u2 1:11.1.3+ds-2~bpo13+1'
	expect "only a newer revision than the one run before -> the newest installed" 0 \
		'installing qemu-system-arm=1:11\.1\.3\+ds-2~bpo13\+1' \
		env PATH="$sp" KVM_S2_WALK_CACHE="$c" FAKE_QEMU_OFFERED="$ok" "$S/nested-qemu.sh" provision
	expect "  ...version names QEMU and the Debian package" 0 \
		'^QEMU emulator version 11\.1\.3 .*\(qemu-system-arm 1:11\.1\.3\+ds-2~bpo13\+1\)$' \
		env PATH="$sp" KVM_S2_WALK_CACHE="$c" "$S/nested-qemu.sh" version
	check "  ...no temporary root left" no_leftovers "$c/nested-qemu"
	expect "a root of a new-enough version is reused, even when the mirror moved on" 0 '' \
		env PATH="$sp" KVM_S2_WALK_CACHE="$c" FAKE_QEMU_OFFERED= "$S/nested-qemu.sh" provision
	check "  ...without a second debootstrap" [ "$(wc -l <"$FAKE_CALLS")" -eq 1 ]
	check "  ...and the one debootstrap checked Debian's keyring" \
		grep -q -- "--keyring=$DEBIAN_KEYRING trixie" "$FAKE_CALLS"
	expect "NESTED_QEMU_VERSION no longer offered -> error listing what is, exit 3" 3 \
		'NESTED_QEMU_VERSION=1:11\.1\.3\+ds-1~bpo13\+1 is not offered; offered: 1:10\.0\.6\+ds-0\+deb13u2 1:11\.1\.3\+ds-2~bpo13\+1' \
		env PATH="$sp" KVM_S2_WALK_CACHE="$c" FAKE_QEMU_OFFERED="$ok" \
		NESTED_QEMU_VERSION='1:11.1.3+ds-1~bpo13+1' "$S/nested-qemu.sh" provision
	check "  ...the working root is kept, no temporary root left" \
		bash -c "[ \"\$(cat '$c/nested-qemu/root/var/lib/qemu-version')\" = '1:11.1.3+ds-2~bpo13+1' ] && [ -z \"\$(find '$c/nested-qemu' -maxdepth 1 -name '.root.*')\" ]"
	expect "NESTED_QEMU_VERSION offered -> exactly that one replaces the root" 0 \
		'installing qemu-system-arm=1:10\.0\.6\+ds-0\+deb13u2' \
		env PATH="$sp" KVM_S2_WALK_CACHE="$c" FAKE_QEMU_OFFERED="$ok" \
		NESTED_QEMU_VERSION='1:10.0.6+ds-0+deb13u2' "$S/nested-qemu.sh" provision
	echo '1:9.1.0+ds-1' >"$c/nested-qemu/root/var/lib/qemu-version"
	expect "a root below the minimum -> made again with the newest" 0 \
		'has qemu-system-arm 1:9\.1\.0\+ds-1, not 9\.2 or newer; making it again' \
		env PATH="$sp" KVM_S2_WALK_CACHE="$c" FAKE_QEMU_OFFERED="$ok" "$S/nested-qemu.sh" provision
	check "  ...and now holds 1:11.1.3+ds-2~bpo13+1" \
		[ "$(cat "$c/nested-qemu/root/var/lib/qemu-version")" = '1:11.1.3+ds-2~bpo13+1' ]
	c=$TMP/nq2
	expect "only versions below the minimum offered -> error, exit 3" 3 \
		'newest qemu-system-arm offered is 1:9\.1\.0\+ds-1 \(QEMU 9\.1\.0\); FEAT_NV2 needs 9\.2 or newer' \
		env PATH="$sp" KVM_S2_WALK_CACHE="$c" FAKE_QEMU_OFFERED='1:8.2.2+ds-0 1:9.1.0+ds-1' \
		"$S/nested-qemu.sh" provision
	check "  ...no root and no temporary root left" \
		bash -c "[ ! -e '$c/nested-qemu/root' ] && [ -z \"\$(find '$c/nested-qemu' -maxdepth 1 -name '.root.*')\" ]"
	expect "qemu-system-arm not offered at all -> error, exit 3" 3 \
		'qemu-system-arm is not offered by trixie or trixie-backports; NESTED_QEMU=' \
		env PATH="$sp" KVM_S2_WALK_CACHE="$c" FAKE_QEMU_OFFERED= "$S/nested-qemu.sh" provision
	check "  ...no root and no temporary root left" \
		bash -c "[ ! -e '$c/nested-qemu/root' ] && [ -z \"\$(find '$c/nested-qemu' -maxdepth 1 -name '.root.*')\" ]"
}

main() {
	while getopts h opt; do
		case $opt in
		h) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
	done

	fake_tree "$TMP/k73" 7 3
	fake_tree "$TMP/k61" 6 1
	mkdir -p "$TMP/notkernel" "$TMP/patches" "$TMP/kunit"
	echo hello >"$TMP/notkernel/README"
	mkpatch good.patch 's/^//' 's/^line 5$/line 5 patched/'
	mkpatch xxx.patch 's/^//' 's/^line 10$/line 10 XXX/'
	mkpatch bad.patch 's/^line 20$/line 20 elsewhere/' 's/^line 21$/line 21 patched/'
	mkpatch offset.patch 's/^line 1$/line 0\nline 1/' 's/^line 25$/line 25 patched/'
	mkpatch fuzz.patch 's/^line 13$/line 13 elsewhere/' 's/^line 16$/line 16 patched/'
	export KERNEL_SRC=$TMP/k73

	echo "# options"
	local sc
	for sc in apply checkpatch kunit deps fetch-kernel test clean vm bench run-commands layers nested-qemu sparse arm64-root; do
		expect "$sc.sh: unknown option -> exit 2 + usage" 2 '^Usage:' "$S/$sc.sh" -Z
		expect "$sc.sh -h -> usage" 0 '^Usage:' "$S/$sc.sh" -h
	done
	expect "selftests: unknown option -> exit 2" 2 '^Usage:' "$0" -Z
	expect "apply.sh: extra argument -> exit 2" 2 '^Usage:' "$S/apply.sh" extra
	expect "kunit.sh -t bogus -> exit 2" 2 "unknown tree 'bogus'" "$S/kunit.sh" -t bogus
	expect "test.sh: unknown stage -> exit 2" 2 "unknown stage 'bogus'" "$S/test.sh" bogus

	echo "# kernel trees"
	local sc2
	for sc2 in apply checkpatch; do
		expect "$sc2.sh: KERNEL_SRC=/nonexistent -> clear error" 2 \
			'ERROR: KERNEL_SRC=/nonexistent: no such directory' \
			env KERNEL_SRC=/nonexistent "$S/$sc2.sh"
		expect "$sc2.sh: KERNEL_SRC=non-kernel dir -> error" 2 \
			'ERROR: .*notkernel is not a Linux kernel tree' \
			env KERNEL_SRC="$TMP/notkernel" "$S/$sc2.sh"
		expect "$sc2.sh: Linux 6.1 tree refused" 2 \
			'ERROR: .*k61 is Linux 6\.1\.4; the series is for 7\.3\.y \(set FORCE=1' \
			env KERNEL_SRC="$TMP/k61" "$S/$sc2.sh"
	done
	expect "apply.sh: Linux 6.1 tree accepted with FORCE=1" 0 'WARNING: .*Linux 6\.1\.4.*FORCE=1' \
		env KERNEL_SRC="$TMP/k61" FORCE=1 "$S/apply.sh"
	expect "fetch-kernel.sh: KERNEL_SRC=/nonexistent -> clear error" 2 \
		'no such directory' env KERNEL_SRC=/nonexistent "$S/fetch-kernel.sh"
	echo 'CONFIG_KUNIT=y' >"$TMP/kunit/dummy.kunitconfig"
	expect "kunit.sh -t baseline: KERNEL_SRC=/nonexistent -> clear error" 2 \
		'no such directory' env KERNEL_SRC=/nonexistent "$S/kunit.sh" -t baseline
	rm "$TMP/kunit/dummy.kunitconfig"

	echo "# apply.sh"
	expect "-p prints the patched tree" 0 "^$PATCHED\$" "$S/apply.sh" -p
	rm -f "$TMP/patches/series"
	expect "no series file: tree copied, nothing applied" 0 'no patches for the patched tree' "$S/apply.sh"
	check "  ...and the copy is pristine" pristine_file
	series good.patch
	expect "good patch applies" 0 'applied: good\.patch' "$S/apply.sh"
	check "  ...and is in the tree" grep -qx 'line 5 patched' "$PATCHED/$FILE"
	expect "second run: up to date" 0 'patched tree up to date' "$S/apply.sh"
	echo "in progress" >"$PATCHED/.kvm-s2-walk-stamp"
	expect "interrupted run ('in progress' stamp) is redone" 0 'applying 1 patch' "$S/apply.sh"
	echo "in progress" >"$PATCHED/.kvm-s2-walk-stamp"
	expect "re-entrant build lock (flock held by a parent): no deadlock" 0 'applied: good' \
		timeout 20 flock "$KVM_S2_WALK_LOCK" "$S/apply.sh"

	series good.patch offset.patch
	expect "patch applying at an offset -> warning naming it" 0 \
		'WARNING: offset\.patch: Hunk #1 succeeded at [0-9]+ \(offset -1 line' "$S/apply.sh"

	series good.patch missing.patch
	expect "series naming a missing patch -> error naming it" 2 \
		"ERROR: patch 'missing\.patch' is listed in .*series but .* does not exist" "$S/apply.sh"
	check "  ...and the tree is left as it was (good.patch applied)" \
		grep -qx 'line 5 patched' "$PATCHED/$FILE"

	series good.patch bad.patch
	expect "patch that does not apply -> error naming it and the hunk" 1 \
		'ERROR: patch bad\.patch does not apply cleanly .*Hunk #1 FAILED' "$S/apply.sh"
	check "  ...and the tree is rolled back to pristine" pristine_file
	check "  ...with no quilt state, patches or stamp left" no_quilt_state
	check "  ...and the restored file is touched (newer than pristine)" \
		test "$PATCHED/$FILE" -nt "$TMP/k73/$FILE"

	series fuzz.patch
	expect "patch needing fuzz -> error (--fuzz=0)" 1 'ERROR: patch fuzz\.patch does not apply' \
		"$S/apply.sh"
	check "  ...and the tree is rolled back to pristine" pristine_file

	series good.patch
	(flock "$KVM_S2_WALK_LOCK" sleep 3) &
	sleep 0.5
	expect "waits for a build lock held by someone else" 0 'waiting for the build lock' \
		"$S/apply.sh"
	wait

	echo "# apply.sh: the layers of the series"
	printf '%s\n' '# test series' '' '####' '# Series for merging' 'good.patch' '' \
		'####' '# Debug layer (not for merging)' 'offset.patch' >"$TMP/patches/series"
	expect "-t bogus -> error naming the trees" 2 "unknown tree 'bogus'" "$S/apply.sh" -t bogus
	expect "-t mergeable applies the series for merging" 0 'applied: good\.patch' \
		"$S/apply.sh" -t mergeable
	check "  ...and not the debug layer" grep -qx 'line 25' "$TMP/cache/trees/mergeable/$FILE"
	expect "-t baseline applies the debug layer" 0 'applied: offset\.patch' \
		"$S/apply.sh" -t baseline
	check "  ...alone" grep -qx 'line 5' "$TMP/cache/trees/baseline/$FILE"
	check "  ...which it did" grep -qx 'line 25 patched' "$TMP/cache/trees/baseline/$FILE"
	expect "-t patched applies both" 0 'applied: offset\.patch' "$S/apply.sh" -t patched
	check "  ...the series for merging first" grep -qx 'line 5 patched' "$PATCHED/$FILE"
	check "  ...then the debug layer" grep -qx 'line 25 patched' "$PATCHED/$FILE"
	series good.patch
	expect "no debug section: the baseline tree is pristine" 0 'no patches for the baseline tree' \
		"$S/apply.sh" -t baseline
	check "  ...and the copy is pristine" cmp -s "$TMP/k73/$FILE" "$TMP/cache/trees/baseline/$FILE"

	echo "# apply.sh: your own tree (KERNEL_SRC)"
	local own=$TMP/own
	cp -a "$TMP/k73" "$own"
	series good.patch
	expect "a tree without git: copied and patched" 0 'applied: good\.patch' env KERNEL_SRC="$own" "$S/apply.sh"
	echo "line 31" >>"$own/$FILE"
	expect "  ...an edit in it re-syncs the copy" 0 'syncing' env KERNEL_SRC="$own" "$S/apply.sh"
	check "  ...which has the edit" grep -qx 'line 31' "$PATCHED/$FILE"
	: >"$own/.config"
	expect "  ...built in place (.config) -> error saying make mrproper" 2 \
		"was built in place \(it has \.config\).*make mrproper" env KERNEL_SRC="$own" "$S/apply.sh"
	rm "$own/.config"
	if command -v git >/dev/null; then
		printf '*.o\n/.config\n' >"$own/.gitignore"
		git -C "$own" init -q && git -C "$own" add -A &&
			git -C "$own" -c user.name=t -c user.email=t@t commit -qm base
		expect "a git tree: copied, base is its commit" 0 "base: KERNEL_SRC=$own git [0-9a-f]+ \(commit [0-9a-f]{40}\)" \
			env KERNEL_SRC="$own" "$S/apply.sh"
		expect "  ...unchanged: up to date" 0 'patched tree up to date' env KERNEL_SRC="$own" "$S/apply.sh"
		echo obj >"$own/arch/arm64/kvm/pgtable.o"
		: >"$own/.config"
		expect "  ...build output (ignored files) alone: up to date" 0 'patched tree up to date' \
			env KERNEL_SRC="$own" "$S/apply.sh"
		git -C "$own" -c user.name=t -c user.email=t@t commit -q --allow-empty -m next
		expect "  ...a new commit re-syncs, warns that it was built in place" 0 \
			'WARNING: .* was built in place \(\.config\): its build output .* is not copied' \
			env KERNEL_SRC="$own" "$S/apply.sh"
		check "  ...and the copy has no build output" test ! -e "$PATCHED/.config" -a ! -e "$PATCHED/arch/arm64/kvm/pgtable.o"
		echo "line 32" >>"$own/$FILE"
		expect "  ...an uncommitted change re-syncs, with a warning saying what to do" 0 \
			"1 uncommitted change\(s\) \($FILE\).*commit them or 'git stash'" env KERNEL_SRC="$own" "$S/apply.sh"
		check "  ...and the change is in the copy" grep -qx 'line 32' "$PATCHED/$FILE"
		expect "  ...the base says so" 0 'uncommitted changes' \
			env KERNEL_SRC="$own" bash -c ". '$S/lib.sh'; base_description"
	fi

	echo "# lib.sh: tool_versions"
	mkdir -p "$TMP/tv/nested-qemu/root/var/lib/dpkg" "$TMP/tv/tools/sparse/usr/share/doc/sparse"
	printf 'Package: qemu-system-arm\nStatus: install ok installed\nVersion: 1:11.1.3+ds-2~bpo13+1\n\nPackage: qemu-system-data\nVersion: 9\n' \
		>"$TMP/tv/nested-qemu/root/var/lib/dpkg/status"
	echo 'sparse (0.6.4-5) unstable; urgency=medium' | gzip >"$TMP/tv/tools/sparse/usr/share/doc/sparse/changelog.Debian.gz"
	expect "names the nested QEMU package and sparse of the cache exactly" 0 \
		'nested QEMU qemu-system-arm 1:11\.1\.3\+ds-2~bpo13\+1 .*; sparse 0\.6\.4-5 \(Debian' \
		env KVM_S2_WALK_CACHE="$TMP/tv" bash -c ". '$S/lib.sh'; tool_versions"
	expect "  ...and the compiler" 0 '^compiler [^;]*gcc' \
		env KVM_S2_WALK_CACHE="$TMP/tv" bash -c ". '$S/lib.sh'; tool_versions"

	echo "# lib.sh: CROSS_COMPILE"
	expect "CROSS_COMPILE= (empty) is kept: a native build" 0 '^\[\]$' \
		env CROSS_COMPILE= bash -c ". '$S/lib.sh'; echo \"[\$CROSS_COMPILE]\""
	if [ "$(uname -m)" != aarch64 ]; then
		expect "CROSS_COMPILE unset on $(uname -m): the cross prefix" 0 '^\[aarch64-linux-gnu-\]$' \
			env -u CROSS_COMPILE bash -c ". '$S/lib.sh'; echo \"[\$CROSS_COMPILE]\""
	fi

	echo "# deps.sh"
	mkdir -p "$TMP/nodpkg"
	# every command of the system but dpkg-query and apt-get (names in
	# several directories: the first one wins, ln says nothing)
	ln -s /usr/local/bin/* /usr/bin/* /bin/* "$TMP/nodpkg/" 2>/dev/null || true
	rm -f "$TMP/nodpkg/dpkg-query" "$TMP/nodpkg/apt-get"
	expect "not Debian/Ubuntu (no dpkg-query) -> the package list and a clear error" 3 \
		'not a Debian or Ubuntu system.*install the equivalents' env PATH="$TMP/nodpkg" bash "$S/deps.sh"
	expect "  ...listing the packages" 3 '^  python3-ply$' env PATH="$TMP/nodpkg" bash "$S/deps.sh"
	expect "CROSS_COMPILE= (native): no cross compiler in the list" 0 '^  qemu-system-arm quilt' \
		env CROSS_COMPILE= "$S/deps.sh" -h

	echo "# checkpatch.sh"
	series good.patch xxx.patch
	expect "one clean and one bad patch -> ok/FAIL lines and summary" 1 \
		'ok +good\.patch' "$S/checkpatch.sh"
	expect "  ...FAIL line for the bad one" 1 '^FAIL xxx\.patch$' "$S/checkpatch.sh"
	expect "  ...with checkpatch's output" 1 'ERROR: XXX in patch' "$S/checkpatch.sh"
	expect "  ...and the summary line" 1 '^1 passed, 1 failed$' "$S/checkpatch.sh"
	series
	expect "empty series -> 0 passed, 0 failed" 0 '^0 passed, 0 failed$' "$S/checkpatch.sh"
	series good.patch missing.patch
	expect "missing patch -> error naming it" 2 "missing\.patch" "$S/checkpatch.sh"

	echo "# kunit.sh"
	expect "no *.kunitconfig -> error" 2 'ERROR: no \*\.kunitconfig in' "$S/kunit.sh"
	expect "unknown config name -> error naming it" 2 "ERROR: no kunitconfig 'nope'" \
		"$S/kunit.sh" nope

	echo 'CONFIG_KUNIT=y' >"$TMP/kunit/dummy.kunitconfig"
	expect "KUNIT_SEED=bogus -> error" 2 'KUNIT_SEED=bogus: fixed, random or' \
		env KUNIT_SEED=bogus "$S/kunit.sh"
	expect "KUNIT_ITERATIONS=0 -> error" 2 'KUNIT_ITERATIONS=0: a number' \
		env KUNIT_ITERATIONS=0 "$S/kunit.sh"
	rm "$TMP/kunit/dummy.kunitconfig"

	echo "# vm.sh"
	expect "no command -> usage" 2 '^Usage:' "$S/vm.sh"
	expect "unknown command -> error" 2 "unknown command 'bogus'" "$S/vm.sh" bogus
	expect "-t bogus -> error" 2 "unknown tree 'bogus'" "$S/vm.sh" -t bogus check
	expect "boot without a file -> error" 2 'boot needs one commands file' "$S/vm.sh" boot
	expect "boot with a missing file -> error" 2 'no such commands file' "$S/vm.sh" boot /nonexistent
	expect "CHECK_MIB=3 -> error" 2 'CHECK_MIB=3: a positive even number' \
		env CHECK_MIB=3 "$S/vm.sh" check
	expect "check with an extra argument -> usage" 2 '^Usage:' "$S/vm.sh" check extra
	expect "repeat without a count -> error" 2 'repeat needs a count' "$S/vm.sh" repeat 'x -l 1'
	expect "repeat 0 times -> error" 2 'repeat needs a count' "$S/vm.sh" repeat 0 x
	expect "repeat of no selftest name -> error" 2 "is no selftest name" "$S/vm.sh" repeat 2 '-x; rm'

	expect "nested with an extra argument -> usage" 2 '^Usage:' "$S/vm.sh" nested extra
	expect "host with an extra argument -> usage" 2 '^Usage:' "$S/vm.sh" host extra
	expect "VM_BUILD=0 with nothing built -> error" 2 'VM_BUILD=0 but .* is not built' \
		env VM_BUILD=0 "$S/vm.sh" host

	echo "# arm64-root.sh"
	expect "no command -> usage" 2 '^Usage:' "$S/arm64-root.sh"
	expect "unknown command -> error" 2 "unknown command 'bogus'" "$S/arm64-root.sh" bogus
	expect "path before provision -> error" 2 'no arm64 userspace yet' "$S/arm64-root.sh" path

	echo "# nested-qemu.sh"
	expect "no command -> usage" 2 '^Usage:' "$S/nested-qemu.sh"
	expect "unknown command -> error" 2 "unknown command 'bogus'" "$S/nested-qemu.sh" bogus
	expect "NESTED_QEMU that is not executable -> error" 2 'NESTED_QEMU=/nonexistent is not an executable' \
		env NESTED_QEMU=/nonexistent "$S/nested-qemu.sh" version
	printf '#!/bin/sh\necho "QEMU emulator version 7.2.0"\n' >"$TMP/oldqemu"
	chmod +x "$TMP/oldqemu"
	expect "NESTED_QEMU too old for FEAT_NV2 -> error" 3 'is QEMU 7\.2\.0; FEAT_NV2 needs 9\.2 or newer' \
		env NESTED_QEMU="$TMP/oldqemu" "$S/nested-qemu.sh" version
	printf '#!/bin/sh\necho "QEMU emulator version 10.0.2"\n' >"$TMP/newqemu"
	chmod +x "$TMP/newqemu"
	expect "NESTED_QEMU new enough -> used as is" 0 'QEMU emulator version 10\.0\.2' \
		env NESTED_QEMU="$TMP/newqemu" "$S/nested-qemu.sh" version

	fallback_tests

	echo "# sparse.sh"
	expect "no tree -> usage" 2 '^Usage:' "$S/sparse.sh"
	expect "not a kernel tree -> error" 2 'has no scripts/checker-valid.sh' "$S/sparse.sh" "$TMP/notkernel"
	mkdir -p "$TMP/k73/scripts"
	printf '#!/bin/sh\necho 0\n' >"$TMP/k73/scripts/checker-valid.sh"
	expect "SPARSE that the tree refuses -> error" 3 'SPARSE=/bin/true is refused' \
		env SPARSE=/bin/true "$S/sparse.sh" "$TMP/k73"
	printf '#!/bin/sh\necho 1\n' >"$TMP/k73/scripts/checker-valid.sh"
	expect "SPARSE that the tree accepts -> its path" 0 '^/bin/true$' \
		env SPARSE=/bin/true "$S/sparse.sh" "$TMP/k73"
	rm "$TMP/k73/scripts/checker-valid.sh"

	echo "# layers.sh"
	expect "no check -> usage" 2 '^Usage:' "$S/layers.sh"
	expect "unknown check -> error" 2 "unknown check 'bogus'" "$S/layers.sh" bogus
	printf '%s\n' '####' '# Series for merging' 'good.patch' \
		'####' '# Debug layer (not for merging)' 'offset.patch' >"$TMP/patches/series"
	expect "layers that apply -> ok lines" 0 'ok   KERNEL_SRC: the debug layer applies at fuzz 0 on the base alone' \
		env UPSTREAM_SRC="$TMP/k73" "$S/layers.sh" layers
	expect "  ...upstream too" 0 'ok   upstream: the series for merging \(1 patches\) applies' \
		env UPSTREAM_SRC="$TMP/k73" "$S/layers.sh" layers
	printf '%s\n' '####' '# Series for merging' 'good.patch' 'offset.patch' \
		'####' '# Debug layer (not for merging)' 'fuzz.patch' >"$TMP/patches/series"
	expect "a debug layer that needs fuzz -> FAIL" 1 'FAIL KERNEL_SRC: the debug layer does not apply on the base alone' \
		env UPSTREAM_SRC="$TMP/k73" "$S/layers.sh" layers
	printf '%s\n' '####' '# Series for merging' 'walkstats.patch' >"$TMP/patches/series"
	printf '%s\n' '--- a/x' '+++ b/x' '+CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y' >"$TMP/patches/walkstats.patch"
	expect "a mergeable patch that leans on the debug layer -> FAIL" 1 \
		'FAIL patches of the series for merging mention the debug layer: walkstats\.patch' \
		env UPSTREAM_SRC="$TMP/k73" "$S/layers.sh" layers
	rm "$TMP/patches/walkstats.patch"
	series good.patch
	expect "UPSTREAM_SRC that is no tree -> error" 2 'UPSTREAM_SRC=.* is not a kernel tree' \
		env UPSTREAM_SRC="$TMP/notkernel" "$S/layers.sh" layers

	echo "# bench.sh"
	expect "-r 0 -> error" 2 '-r 0: a positive number' "$S/bench.sh" -r 0
	expect "-i 1 -> error" 2 '-i 1: dirty_log_perf_test needs 2' "$S/bench.sh" -i 1
	expect "-b 12 -> error" 2 '-b 12: a size' "$S/bench.sh" -b 12
	expect "-s bogus -> error naming the backings" 2 "unknown backing 'bogus'" "$S/bench.sh" -s bogus
	expect "-m x -> error" 2 "-m 'x': guest mode numbers" "$S/bench.sh" -m x
	expect "-p 16k -> error naming the page sizes" 2 "-p '16k': page sizes of the VM kernels, 4k and/or 64k" \
		"$S/bench.sh" -p 16k
	expect "-p '4k 64k' -F are accepted" 2 'no such results file' \
		"$S/bench.sh" -o "$TMP/b" -p '4k 64k' -F compare /nonexistent /nonexistent
	expect "unknown command -> error" 2 "unknown command 'bogus'" "$S/bench.sh" -o "$TMP/b" bogus
	expect "compare with a missing file -> error" 2 'no such results file' \
		"$S/bench.sh" -o "$TMP/b" compare /nonexistent /nonexistent
	printf '%s\n' '@@ cmd mark run kernel=b scenario=1 rep=1' '@@ ok mark run kernel=b scenario=1 rep=1' \
		'lots of output' '@@ cmd run /bin/false' '@@ fail run /bin/false (exit status 1)' \
		'@@ unexpected failure' '@@ cmd mark run kernel=b scenario=2 rep=1' '@@ done errors=1' >"$TMP/hp.in"
	expect "host mode's screen: run k/N per run" 0 '^    run 2/2: kernel=b scenario=2 rep=1 \(0m0[0-9]s\)$' \
		bash -c ". '$S/bench.sh'; host_progress 2 '$TMP/hp.log' <'$TMP/hp.in'"
	expect "  ...and what went wrong, with its command" 0 '^    unexpected failure: @@ fail run /bin/false \(exit status 1\)$' \
		bash -c ". '$S/bench.sh'; host_progress 2 '$TMP/hp.log' <'$TMP/hp.in'"
	check "  ...while the log has every line" cmp -s "$TMP/hp.in" "$TMP/hp.log"
	: >"$TMP/fake.ko"
	expect "host: a label that is neither baseline nor patched -> error" 2 \
		"LABEL 'mykernel' must start with 'baseline'" "$S/bench.sh" -o "$TMP/b" host mykernel
	expect "host without -T -> error" 2 'host mode needs -T' "$S/bench.sh" -o "$TMP/b" host baseline
	expect "host -T of no executable -> error" 2 '-T /nonexistent: no such executable' \
		"$S/bench.sh" -o "$TMP/b" -T /nonexistent host baseline
	expect "host without -K -> error" 2 'host mode needs -K' \
		"$S/bench.sh" -o "$TMP/b" -T /bin/true host patched
	expect "host -K of a missing module -> error" 2 '-K /nonexistent.ko: no such module file' \
		"$S/bench.sh" -o "$TMP/b" -T /bin/true -K /nonexistent.ko host patched
	# (as root, when user nobody can read the scripts)
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	   setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$S/bench.sh"; then
		local nobody
		nobody=$(mktemp -d)
		chmod 777 "$nobody"
		cp "$TMP/fake.ko" "$nobody/"
		expect "host as a user -> error (root needed)" 3 'host mode needs root' \
			setpriv --reuid=65534 --regid=65534 --clear-groups env KVM_S2_WALK_CACHE="$nobody" \
			"$S/bench.sh" -o "$nobody/b" -T /bin/true -K "$nobody/fake.ko" host patched
		rm -rf "$nobody"
	fi
	if [ "$(uname -m)" != aarch64 ] && [ "$(id -u)" -eq 0 ]; then
		expect "host mode on $(uname -m) -> error" 2 'host mode runs on an arm64 machine' \
			"$S/bench.sh" -o "$TMP/b" -T /bin/true -K "$TMP/fake.ko" host before
	fi
	# A log of the patched kernel: the split entered 33 last-level tables
	# and visited none of their entries.
	{
		echo '@@ cmd cat /proc/sys/kernel/osrelease'; echo '7.3.4-test'; echo '@@ ok cat /proc/sys/kernel/osrelease'
		echo '@@ cmd mark run kernel=x scenario=1 backing=anonymous mode=6 rep=1'
		echo '@@ cmd ?run /dirty_log_perf_test -g'
		echo 'Enabling dirty logging time: 0.010000000s'
		echo '@@ ok ?run /dirty_log_perf_test -g'
		echo '@@ cmd cat /sys/kernel/debug/kvm_s2_walk/counters'
		printf 'walk.split.walks 33\nwalk.split.tables.l3 33\nwalk.split.visited.l2 33\nwalk.split.visited.l3 0\n'
		echo '@@ ok cat /sys/kernel/debug/kvm_s2_walk/counters'
		echo '@@ done errors=0'
	} >"$TMP/b/patched.log"
	expect "parse --kind baseline of a patched kernel's log -> refused" 1 \
		'1 run\(s\) are not of a baseline kernel.*33 last-level tables and visited 0' \
		python3 "$S/bench-report.py" parse baseline "$TMP/b/patched.log" -o "$TMP/b/refused.json" --kind baseline
	check "  ...and no results file written" test ! -e "$TMP/b/refused.json"
	expect "parse --kind patched records the kernel release and --meta" 0 '1 runs, 1 ok' \
		python3 "$S/bench-report.py" parse patched "$TMP/b/patched.log" -o "$TMP/b/p.json" --kind patched --meta base=B1
	check "  ...in meta" grep -q '"kernel_release": "7.3.4-test"' "$TMP/b/p.json"
	check "  ...with the base" grep -q '"base": "B1"' "$TMP/b/p.json"
	sed 's/^walk.split.*/walk.split.walks 0/' "$TMP/b/patched.log" >"$TMP/b/nocount.log"
	python3 "$S/bench-report.py" parse none "$TMP/b/nocount.log" -o "$TMP/b/n.json" >/dev/null
	expect "compare without split counts -> 'no split walk counted', not infinity" 0 'no split walk counted' \
		python3 "$S/bench-report.py" compare "$TMP/b/n.json" "$TMP/b/n.json" -o "$TMP/b"
	# floor runs (eager split off) of the patched kernel: after / floor
	sed 's/rep=1$/rep=1 floor=1/; s/^Enabling.*/Enabling dirty logging time: 0.008000000s/; s/^walk.split.*/walk.split.walks 0/' \
		"$TMP/b/patched.log" >"$TMP/b/floor.log"
	sed 's/^walk.split.visited.l3 0/walk.split.visited.l3 16384/' "$TMP/b/patched.log" >"$TMP/b/baseline.log"
	python3 "$S/bench-report.py" parse baseline "$TMP/b/baseline.log" -o "$TMP/b/bl.json" --kind baseline >/dev/null
	python3 "$S/bench-report.py" parse patched "$TMP/b/patched.log" "$TMP/b/floor.log" -o "$TMP/b/pf.json" --kind patched >/dev/null
	expect "compare with floor runs: floor column and after / floor (10.00 / 8.00 ms)" 0 \
		'\| 16417 → 33 \(497\.5×\) \| 8\.00 ± 0\.00 \(1\) \| 1\.25 ± 0\.00 \|' \
		python3 "$S/bench-report.py" compare "$TMP/b/bl.json" "$TMP/b/pf.json" -o "$TMP/b"
	mkdir -p "$TMP/b/t"
	python3 "$S/bench-report.py" parse baseline "$TMP/b/baseline.log" -o "$TMP/b/t/baseline.json" \
		--kind baseline --meta 'tools=compiler gcc 12.2.0-14; QEMU 7.2.22' >/dev/null
	expect "compare names each side's tools" 0 '^before tools: compiler gcc 12\.2\.0-14; QEMU 7\.2\.22$' \
		python3 "$S/bench-report.py" compare "$TMP/b/t/baseline.json" "$TMP/b/pf.json" -o "$TMP/b/t"
	expect "the table names metrics without '_s' (its times are in ms)" 0 '^\| 1 \| anonymous \| 6 \| enable_dirty_log \| ' \
		python3 "$S/bench-report.py" compare "$TMP/b/bl.json" "$TMP/b/pf.json" -o "$TMP/b"
	python3 "$S/bench-report.py" parse patched "$TMP/b/patched.log" -o "$TMP/b/t/p64.json" \
		--kind patched --meta page_size=64k --meta 'parameters=-b 64M -s anonymous' >/dev/null
	expect "compare of results of other parameters and page size -> refused, saying why" 2 \
		"parameters: '\(none\)' before, '-b 64M -s anonymous' after" \
		python3 "$S/bench-report.py" compare "$TMP/b/bl.json" "$TMP/b/t/p64.json" -o "$TMP/b/t"
	expect "  ...naming the page size too" 2 "page_size: '\(none\)' before, '64k' after" \
		python3 "$S/bench-report.py" compare "$TMP/b/bl.json" "$TMP/b/t/p64.json" -o "$TMP/b/t"
	python3 "$S/bench-report.py" parse patched "$TMP/b/patched.log" -o "$TMP/b/t/ph.json" \
		--kind patched --meta mode=host --meta base=B2 >/dev/null
	expect "compare of a VM run with a host run of another base -> refused" 2 \
		"mode: '\(none\)' before, 'host' after.*base: '\(none\)' before, 'B2' after" \
		bash -c "set -o pipefail; python3 '$S/bench-report.py' compare '$TMP/b/bl.json' '$TMP/b/t/ph.json' -o '$TMP/b/t' 2>&1 | tr '\n' ' '"
	expect "Welch: a df between table entries takes the larger critical t" 0 '^2\.201 2\.16 2\.045 2\.042 12\.706$' \
		python3 -B -c "import importlib.util as u; s = u.spec_from_file_location('r', '$S/bench-report.py'); m = u.module_from_spec(s); s.loader.exec_module(m); print(*[m.t95(d) for d in (11.5, 13.9, 29.5, 35, 0.8)])"
	mkdir -p "$TMP/badgp"
	printf '#!/bin/sh
echo "gnuplot: cannot open terminal" >&2
exit 1
' >"$TMP/badgp/gnuplot"
	chmod +x "$TMP/badgp/gnuplot"
	expect "gnuplot that fails -> 'no plot', never 'plot: <file>'" 0 '^no plot: gnuplot wrote no compare\.svg' \
		env PATH="$TMP/badgp:$PATH" python3 "$S/bench-report.py" compare "$TMP/b/bl.json" "$TMP/b/pf.json" -o "$TMP/b/t"
	check "  ...and no plot file from an earlier run left" test ! -e "$TMP/b/t/compare.svg"
	sed 's/^Enabling.*//' "$TMP/b/patched.log" >"$TMP/b/failed.log"
	expect "parse --strict of a failed run -> exit 1" 1 '1 failed' \
		python3 "$S/bench-report.py" parse patched "$TMP/b/failed.log" -o "$TMP/b/f.json" --strict
	echo '{}' >"$TMP/b/bad.json"
	expect "compare of a file that is no results file -> error" 2 'is not a results file' \
		python3 "$S/bench-report.py" compare "$TMP/b/bad.json" "$TMP/b/bad.json" -o "$TMP/b"
	printf 'no marks here\n' >"$TMP/b/empty.log"
	expect "parse of a log without runs -> error" 2 "no 'mark run' block" \
		python3 "$S/bench-report.py" parse x "$TMP/b/empty.log" -o "$TMP/b/x.json"

	echo "# run-commands.sh"
	expect "missing commands file -> error" 2 'cannot read commands file' \
		"$S/run-commands.sh" /nonexistent
	printf 'run /bin/true\n!run /bin/false\n?run /bin/false\nbogus x\n' >"$TMP/cmds"
	expect "expected outcomes pass, an unknown command counts" 1 '@@ done errors=1' \
		"$S/run-commands.sh" "$TMP/cmds"
	expect "  ...naming it" 1 '@@ fail bogus x \(unknown command bogus\)' \
		"$S/run-commands.sh" "$TMP/cmds"

	summary_line "$PASS" "$FAIL"
	[ "$FAIL" -eq 0 ]
}

# shellcheck source=scripts/lib.sh
. "$S/lib.sh"
main "$@"
