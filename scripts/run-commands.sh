#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run a commands file of vm/init.c's format on this machine, printing the
# same "@@" log, so that a benchmark made for the QEMU VM runs unchanged on
# real arm64 hardware booted into the kernel under test.

set -euo pipefail

usage() {
	cat <<USAGE
Usage: $0 [-h] COMMANDS_FILE

Run each line of COMMANDS_FILE (see vm/init.c: run, insmod, rmmod, cat,
write, sysctl, mark; "!" expects failure, "?" accepts both) and print
"@@ cmd", "@@ ok"/"@@ fail" lines around each command's output, then
"@@ done errors=N". Needs root for insmod, rmmod and debugfs.

Exit codes: 0 no unexpected outcome, 1 some, 2 bad arguments.
USAGE
}

fail_reason=

run_one() {
	local cmd=$1
	shift
	case $cmd in
	run) "$@" 2>&1 || { fail_reason="exit status $?"; return 1; } ;;
	insmod) insmod "$@" 2>&1 || { fail_reason="insmod failed"; return 1; } ;;
	rmmod) rmmod "$@" 2>&1 || { fail_reason="rmmod failed"; return 1; } ;;
	cat)
		local out
		out=$(cat -- "$1" 2>&1) || { printf '%s\n' "$out"; fail_reason="cat failed"; return 1; }
		# The "@@" line after the output must start a line of its own.
		[ -z "$out" ] || printf '%s\n' "$out"
		;;
	write | sysctl)
		[ $# -eq 2 ] || { fail_reason="$cmd needs a file and a value"; return 1; }
		{ printf '%s' "$2" >"$1"; } 2>/dev/null || { fail_reason="write $1: failed"; return 1; }
		;;
	mark) ;;
	*) fail_reason="unknown command $cmd"; return 1 ;;
	esac
}

main() {
	while getopts h opt; do
		case $opt in
		h) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 1 ] || { usage >&2; exit 2; }
	[ -r "$1" ] || { echo "ERROR: cannot read commands file $1" >&2; exit 2; }

	local line cmd errors=0 expect ok words
	while IFS= read -r line || [ -n "$line" ]; do
		if [ -z "$line" ] || [ "${line:0:1}" = '#' ]; then
			continue
		fi
		cmd=$line expect=ok
		case ${cmd:0:1} in
		'!') expect=fail cmd=${cmd:1} ;;
		'?') expect=any cmd=${cmd:1} ;;
		esac
		echo "@@ cmd $line"
		read -ra words <<<"$cmd"
		fail_reason='' ok=1
		run_one "${words[@]}" </dev/null || ok=0
		if [ "$ok" = 1 ]; then
			echo "@@ ok $line"
		else
			echo "@@ fail $line ($fail_reason)"
		fi
		if { [ "$expect" = ok ] && [ "$ok" = 0 ]; } || { [ "$expect" = fail ] && [ "$ok" = 1 ]; }; then
			echo "@@ unexpected $([ "$ok" = 1 ] && echo success || echo failure)"
			errors=$((errors + 1))
		fi
	done <"$1"
	echo "@@ done errors=$errors"
	[ "$errors" -eq 0 ]
}

main "$@"
