#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages the workbench needs, only those missing.
# Silent when everything is present.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# Building for arm64 on another architecture needs the cross compiler and
# the arm64 C library; on arm64 itself (or with CROSS_COMPILE= set empty),
# the native gcc and libc6-dev below do.
CROSS_PACKAGES=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)	# cross compiler, libc for static test programs
PACKAGES=(
	qemu-system-arm		# qemu-system-aarch64
	quilt rsync		# apply.sh
	gcc libc6-dev make bc flex bison libssl-dev libelf-dev cpio perl
	python3			# kunit.py, bench-report.py
	python3-ply python3-git	# checkpatch.pl's spdxcheck.py
	xz-utils git dpkg-dev	# fetch-kernel.sh
	shellcheck		# make test
	debootstrap		# nested-qemu.sh: QEMU with FEAT_NV2 in a trixie root
	debian-archive-keyring	# Debian's signatures, for the private apt configurations
	gnuplot-nox		# bench.sh plots
)
if [ -n "$CROSS_COMPILE" ]; then
	PACKAGES=("${CROSS_PACKAGES[@]}" "${PACKAGES[@]}")
fi

usage() {
	cat <<USAGE
Usage: $0 [-h]

Check that these Debian or Ubuntu packages are installed and install the
missing ones (apt-get update, then apt-get install --no-install-recommends):
  ${PACKAGES[*]}
($( [ -n "$CROSS_COMPILE" ] && echo "cross compiling with CROSS_COMPILE=$CROSS_COMPILE" ||
    echo "building natively: CROSS_COMPILE is empty" ); on x86_64 the cross
compiler ${CROSS_PACKAGES[*]} is added, on arm64 the native gcc builds.)
Prints nothing when all are present. Installing needs root. On other
distributions it prints the list and stops: install their equivalents.

Exit codes: 0 ok, $E_USAGE bad arguments, $E_PREREQ packages missing and not installable.
USAGE
}

main() {
	help_only_opts "$@"
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; }

	if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
		local os=unknown
		[ ! -r /etc/os-release ] || os=$(. /etc/os-release && echo "${PRETTY_NAME:-${ID:-unknown}}")
		eprintf 'The workbench needs these Debian/Ubuntu packages (%s, %s):\n' "$os" "$(uname -m)"
		printf '  %s\n' "${PACKAGES[@]}" >&2
		die "$E_PREREQ" "not a Debian or Ubuntu system (no dpkg-query/apt-get): install the equivalents of the packages above with your package manager (names differ: e.g. Fedora's gcc-aarch64-linux-gnu, elfutils-libelf-devel, openssl-devel, python3-GitPython), then run the scripts; the host path alone (bench.sh host) needs only bash, python3, kmod and the kernel's build tools"
	fi
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] ||
			missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0

	[ "$(id -u)" -eq 0 ] ||
		die "$E_PREREQ" "missing packages: ${missing[*]}; run: sudo apt-get install --no-install-recommends ${missing[*]}"
	step "installing ${missing[*]}"
	APT_LOG=$(mktemp)
	trap 'rm -f "$APT_LOG"' EXIT
	if ! { apt-get update &&
	       DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } >"$APT_LOG" 2>&1; then
		tail -n 20 "$APT_LOG" | sed 's/^/    | /' >&2
		die "$E_PREREQ" "apt-get could not install: ${missing[*]}"
	fi
}

main "$@"
