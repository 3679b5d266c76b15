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
      tree $CACHE_DIR/trees/bisect, O=$BUILD_DIR/bisect, with W=1 and
      sparse (C=1), and name the patch that breaks the build or adds a
      W=1/sparse warning in arch/arm64/kvm/ or asm/kvm_*.h. The config is
      the arch fragment of kunit/qemu_arm64_el2.py plus
      kunit/pgtable-4k.kunitconfig and CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y
      (4K pages, KUnit tests and walk counters built as soon as they exist).
      The first build (pristine) runs sparse on arch/arm64/kvm/ only, the
      others on what each patch makes recompile. Same as BISECT=1.
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
		# UNKNOWN_COMMIT_ID: without the kernel's history checkpatch
		# cannot look up the commit of a Fixes: tag, and warns for any;
		# in a kernel git tree the same patch is clean (0011's id and
		# title were checked against the upstream log by hand).
		if out=$(cd "$PRISTINE" && env -u GIT_DIR PATH="/usr/bin:$PATH" \
				perl scripts/checkpatch.pl --strict --show-types \
				--ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID \
				--root="$PRISTINE" \
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

# The .config kunit.py would write for the 4K KUnit kernel (its arch
# fragment plus kunit/pgtable-4k.kunitconfig), with the walk counters on,
# so that every step builds the tests and, once it exists, the debug layer.
bisect_config() {
	local cfg=$KUNIT_DIR/pgtable-4k.kunitconfig
	grep '^CONFIG_' "$QEMU_CONFIG"
	if [ -f "$cfg" ]; then
		info "bisect config: $cfg + CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y" >&2
		cat "$cfg"
	else
		echo CONFIG_KUNIT=y
	fi
	echo CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y
}

# kvm_warnings LOG: the W=1 and sparse warnings of LOG in KVM/arm64 files,
# as "file: message" (positions dropped, so that they compare across steps).
kvm_warnings() {
	warning_keys "$BISECT_TREE" "$1" |
		grep -E '^(arch/arm64/kvm/|arch/arm64/include/asm/kvm_)' || true
}

# pristine_sparse LOG: every KVM/arm64 object of the pristine tree built
# again with sparse (C=1). Not C=2 on arch/arm64/kvm/: that skips the nVHE
# hypervisor's objects (*.nvhe.o, built by rules of their own), whose
# warnings a later step then reported as new when a header change made
# them recompile.
pristine_sparse() {
	find "$BISECT_OUT/arch/arm64/kvm" -name '*.o' -delete 2>/dev/null || true
	"${mk[@]}" -j"$JOBS" W=1 C=1 vmlinux >>"$1" 2>&1
}

# build_step LABEL: olddefconfig + vmlinux in the bisect tree with W=1 and
# sparse: for the pristine tree, sparse on every KVM/arm64 object, rebuilt
# (pristine_sparse); after a patch, on what the patch makes recompile (C=1). A KVM/arm64
# warning that no earlier step had fails the step.
build_step() {
	local label=$1 log=$RESULTS_DIR/bisect/$1.log start=$SECONDS new
	local mk=(make -C "$BISECT_TREE" O="$BISECT_OUT" ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE"
		  CHECK="$BISECT_CHECK")
	local build=(-j"$JOBS" W=1 C=1 vmlinux)
	[ "$label" != baseline ] || build=(-j"$JOBS" W=1 vmlinux)
	step "bisect: building vmlinux after $label (W=1, sparse)"
	cp "$BISECT_OUT/kvm-s2-walk.config" "$BISECT_OUT/.config"
	if [ "$label" = baseline ]; then
		# Every KVM object again, so that the known warnings are all of
		# them, whatever an earlier run left built.
		find "$BISECT_OUT/arch/arm64/kvm" -name '*.o' -delete 2>/dev/null || true
	fi
	if "${mk[@]}" olddefconfig >"$log" 2>&1 &&
	   "${mk[@]}" "${build[@]}" >>"$log" 2>&1 &&
	   { [ "$label" != baseline ] || pristine_sparse "$log"; }; then
		if [ "$label" = baseline ]; then
			kvm_warnings "$log" >"$BISECT_OUT/known-warnings"
			echo "ok   build of the pristine tree ($(elapsed $((SECONDS - start))); $(wc -l <"$BISECT_OUT/known-warnings") KVM/arm64 W=1/sparse warnings of 7.3.4 itself, known from now on)"
			PASSED=$((PASSED + 1))
			return 0
		fi
		new=$(kvm_warnings "$log" | comm -23 - "$BISECT_OUT/known-warnings")
		kvm_warnings "$log" | sort -u -m - "$BISECT_OUT/known-warnings" -o "$BISECT_OUT/known-warnings"
		if [ -z "$new" ]; then
			echo "ok   build after $label ($(elapsed $((SECONDS - start))))"
			PASSED=$((PASSED + 1))
			return 0
		fi
		echo "FAIL build after $label: new W=1/sparse warnings (log $log)"
		printf '    | %s\n' "${new//$'\n'/$'\n    | '}"
		FAILED=$((FAILED + 1))
		return 1
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
	sync_source "$PRISTINE" "$BISECT_TREE"
	copy_patches "$BISECT_TREE"
	BISECT_CHECK=$("$REPO_ROOT/scripts/sparse.sh" "$BISECT_TREE")
	bisect_config >"$BISECT_OUT/kvm-s2-walk.config"
	: >"$BISECT_OUT/known-warnings"

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
