#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Remove what the workbench built (patched/scratch trees, build dirs,
# results); keep the kernel source download.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
Usage: $0 [-h]

Remove $CACHE_DIR/{trees,build} and $RESULTS_DIR.
The downloads stay: the source in $CACHE_DIR/src, the apt caches, the
nested QEMU root (nested-qemu/), the arm64 userspace of the vmhost stage
(arm64-root/) and the sparse of tools/.

Exit codes: 0 ok, $E_USAGE bad arguments.
USAGE
}

main() {
	help_only_opts "$@"
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || { usage >&2; exit "$E_USAGE"; }
	step "removing $CACHE_DIR/trees $BUILD_DIR $RESULTS_DIR"
	# Not under a running build.
	with_build_lock rm -rf "$CACHE_DIR/trees" "$BUILD_DIR" "$RESULTS_DIR"
}

main "$@"
