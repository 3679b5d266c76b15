#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# checkpatch.pl --strict on every patch of the series; optionally (-b) build
# the kernel after each patch to find the one that breaks the build.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
Usage: $0 [-h] [-b]

Run the pristine tree's scripts/checkpatch.pl --strict on each patch named
in $PATCHES_DIR/series (the cover letter is not in the series). Any
ERROR, WARNING or CHECK fails the patch, but for FILE_PATH_CHANGES
("does MAINTAINERS need updating?"): the series only adds files under
directories that MAINTAINERS already covers. Prints "ok|FAIL <patch>" per patch
and ends with "N passed, N failed".

Options:
  -b  also build vmlinux after each patch (and before the first) in a scratch
      tree $CACHE_DIR/trees/bisect, O=$BUILD_DIR/bisect, and name the
      patch that breaks the build. The config is the arch fragment of
      kunit/qemu_arm64_el2.py plus the first kunit/*.kunitconfig, as kunit.py
      makes it. First build ~4 min, then incremental. Same as BISECT=1.
  -h  this help

Environment: BISECT=1, JOBS, CROSS_COMPILE, KERNEL_SRC, FORCE,
KVM_S2_WALK_PATCHES, KVM_S2_WALK_KUNIT_DIR, KVM_S2_WALK_CACHE, KVM_S2_WALK_LOCK.

Exit codes: 0 all clean, $E_FAIL a patch failed, $E_USAGE bad arguments or input.
USAGE
}

PASSED=0 FAILED=0

check_patches() {
	local p out
	while read -r p; do
		# From inside the tree: checkpatch looks for .git in the cwd to
		# verify commit ids; ours is not the kernel's history.
		# /usr/bin first: spdxcheck.py needs Debian's python3-ply.
		# FILE_PATH_CHANGES ("does MAINTAINERS need updating?") fires
		# for any new file; ours live under arch/arm64/kvm/, which the
		# KVM/arm64 MAINTAINERS entry already covers.
		if out=$(cd "$PRISTINE" && env -u GIT_DIR PATH="/usr/bin:$PATH" \
				perl scripts/checkpatch.pl --strict --show-types \
				--ignore FILE_PATH_CHANGES --root="$PRISTINE" \
				"$PATCHES_DIR/$p" 2>&1); then
			echo "ok   $p"
			PASSED=$((PASSED + 1))
		else
			echo "FAIL $p"
			printf "%s\n" "$out" | sed "s/^/    | /"
			FAILED=$((FAILED + 1))
		fi
	done < <(series_patches)
}

# The .config kunit.py would write: its arch fragment plus the kunitconfig.
bisect_config() {
	local first
	grep '^CONFIG_' "$QEMU_CONFIG"
	first=$(find "$KUNIT_DIR" -maxdepth 1 -name '*.kunitconfig' 2>/dev/null | sort | head -n 1)
	if [ -n "$first" ]; then
		info "bisect config: $first" >&2
		cat "$first"
	else
		echo CONFIG_KUNIT=y
	fi
}

# build_step LABEL: olddefconfig + vmlinux in the bisect tree.
build_step() {
	local label=$1 log=$RESULTS_DIR/bisect/$1.log start=$SECONDS
	local mk=(make -C "$BISECT_TREE" O="$BISECT_OUT" ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE")
	step "bisect: building vmlinux after $label"
	cp "$BISECT_OUT/kvm-s2-walk.config" "$BISECT_OUT/.config"
	if "${mk[@]}" olddefconfig >"$log" 2>&1 &&
	   "${mk[@]}" -j"$JOBS" vmlinux >>"$log" 2>&1; then
		echo "ok   build after $label ($(elapsed $((SECONDS - start))))"
		PASSED=$((PASSED + 1))
		return 0
	fi
	echo "FAIL build after $label (log $log)"
	grep -E -m 20 'error|Error' "$log" | sed 's/^/    | /'
	FAILED=$((FAILED + 1))
	return 1
}

bisect_builds() {
	local p
	BISECT_TREE=$CACHE_DIR/trees/bisect BISECT_OUT=$BUILD_DIR/bisect
	mkdir -p "$RESULTS_DIR/bisect" "$BISECT_OUT"
	rm -f "$RESULTS_DIR"/bisect/*.log
	step "bisect: syncing $BISECT_TREE from $PRISTINE"
	sync_tree "$PRISTINE" "$BISECT_TREE"
	copy_patches "$BISECT_TREE"
	bisect_config >"$BISECT_OUT/kvm-s2-walk.config"

	if ! build_step baseline; then
		eprintf 'ERROR: the pristine tree does not build with this config; no patch to blame\n'
		return 0
	fi
	while read -r p; do
		quilt_in "$BISECT_TREE" push --fuzz=0 -q >/dev/null 2>&1 ||
			die "$E_FAIL" "$p does not apply (run scripts/apply.sh for details)"
		if ! build_step "$p"; then
			eprintf 'ERROR: %s breaks the build\n' "$p"
			return 0
		fi
	done < <(series_patches)
}

main() {
	local bisect=${BISECT:-0}
	while getopts bh opt; do
		case $opt in
		b) bisect=1 ;;
		h) usage; exit 0 ;;
		*) usage >&2; exit "$E_USAGE" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; }

	need_cmd perl
	PRISTINE=$(pristine_dir)
	check_tree "$PRISTINE"
	check_series
	step "checkpatch --strict on $(series_patches | wc -l) patch(es) from $PATCHES_DIR"
	check_patches
	if [ "$bisect" = 1 ]; then
		need_cmd rsync quilt make "${CROSS_COMPILE}gcc" flock
		with_build_lock bisect_builds
	fi
	summary_line "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
}

main "$@"
