# SPDX-License-Identifier: GPL-2.0-only
#
# Shared by vm.sh and bench.sh (source it after lib.sh): build the full
# arm64 VM kernels (KVM, modules, debugfs, walk counters) of the baseline
# and the patched tree, the debug module against each, static test
# programs, an initramfs, and boot it in QEMU at EL2.

# shellcheck shell=bash

VM_MEM=${VM_MEM:-2G}
VM_SMP=${VM_SMP:-2}
VM_TIMEOUT=${VM_TIMEOUT:-900}
# More kernel command line for the VM (e.g. hugepagesz=1G hugepages=1).
VM_CMDLINE=${VM_CMDLINE:-}
# The QEMU that boot() runs (vm.sh nested puts scripts/nested-qemu.sh here).
QEMU_RUN=(qemu-system-aarch64)
VM_CONFIGS=("$REPO_ROOT/vm/kernel.config" "$REPO_ROOT/vm/walk-stats.config")
# Page size of the VM kernels: 4k (the default, vm-<tree>) or 64k
# (vm-<tree>-64k, with vm/page-64k.config as well).
VM_PAGE=${VM_PAGE:-4k}
MODULE_SRC=$REPO_ROOT/module
MODULE_NAME=kvm_s2_walk_stats
USER_DIR=$BUILD_DIR/vm-user
# shellcheck disable=SC2034 # used by the scripts that source this file
DEBUGFS=/sys/kernel/debug/kvm_s2_walk

# run_logged LOG CMD...: CMD's output appended to LOG; its tail on failure.
run_logged() {
	local log=$1 rc=0
	shift
	"$@" >>"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$log" | sed 's/^/    | /' >&2
		eprintf 'ERROR: %s failed (rc %d); log: %s\n' "$*" "$rc" "$log"
	fi
	return "$rc"
}

kmake() {
	make ARCH=arm64 CROSS_COMPILE="$CROSS_COMPILE" "$@"
}

# vm_suffix: "" for 4K pages, "-64k" for 64K pages (VM_PAGE).
vm_suffix() {
	case $VM_PAGE in
	4k) echo "" ;;
	64k) echo "-64k" ;;
	*) die "$E_USAGE" "page size '$VM_PAGE': 4k or 64k" ;;
	esac
}

# vm_dir TREE, module_dir TREE: the build directories of TREE's VM kernel
# and of the debug module built against it, for VM_PAGE.
vm_dir() {
	echo "$BUILD_DIR/vm-$1$(vm_suffix)"
}

module_dir() {
	echo "$BUILD_DIR/module-$1$(vm_suffix)"
}

# vm_configs: the config fragments of the VM kernels for VM_PAGE.
vm_configs() {
	printf '%s\n' "${VM_CONFIGS[@]}"
	[ "$VM_PAGE" = 4k ] || echo "$REPO_ROOT/vm/page-$VM_PAGE.config"
}

# config_hash: what the VM kernel's .config is made from.
config_hash() {
	local cfgs
	mapfile -t cfgs < <(vm_configs)
	cat "${cfgs[@]}" | sha256sum | cut -d' ' -f1
}

# check_config O: every option of the fragments must have survived olddefconfig.
check_config() {
	local o=$1 line missing=() cfgs
	mapfile -t cfgs < <(vm_configs)
	while read -r line; do
		grep -qxF "$line" "$o/.config" || missing+=("$line")
	done < <(grep -h '^CONFIG_' "${cfgs[@]}")
	[ ${#missing[@]} -eq 0 ] ||
		die "$E_FAIL" "$o/.config lacks ${missing[*]} (not in this tree, or a dependency is missing)"
}

# build_kernel TREE (under the build lock): .config, Image, modules.
build_kernel() {
	local tree=$1 src o log cfgs
	src=$(tree_dir "$tree")
	o=$(vm_dir "$tree")
	log=$RESULTS_DIR/vm/$tree$(vm_suffix)-build.log
	mapfile -t cfgs < <(vm_configs)
	mkdir -p "$o"
	: >"$log"
	if [ "$(cat "$o/.kvm-s2-walk-config" 2>/dev/null)" != "$(config_hash)" ]; then
		step "vm $tree: configuring $o (allnoconfig + ${cfgs[*]##*/})"
		run_logged "$log" kmake -C "$src" O="$o" allnoconfig
		run_logged "$log" env KCONFIG_CONFIG="$o/.config" \
			"$src/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "${cfgs[@]}"
		run_logged "$log" kmake -C "$src" O="$o" olddefconfig
		check_config "$o"
		config_hash >"$o/.kvm-s2-walk-config"
	fi
	step "vm $tree$(vm_suffix): make Image modules (about 5 minutes from clean; log: $log)"
	run_logged "$log" kmake -C "$src" O="$o" -j"$JOBS" Image modules
	[ -x "$o/usr/gen_init_cpio" ] ||
		run_logged "$log" kmake -C "$src" O="$o" usr/gen_init_cpio
}

# build_module TREE: the debug module against the tree's VM kernel, W=1.
build_module() {
	local tree=$1
	local o mo log
	o=$(vm_dir "$tree") mo=$(module_dir "$tree") log=$RESULTS_DIR/vm/$tree$(vm_suffix)-module.log
	mkdir -p "$mo"
	: >"$log"
	step "vm $tree: building $MODULE_NAME.ko with W=1"
	run_logged "$log" make -C "$MODULE_SRC" KDIR="$o" MO="$mo" W=1 \
		ARCH=arm64 CROSS_COMPILE="$CROSS_COMPILE"
	if grep -E 'warning:|error:' "$log" >&2; then
		die "$E_FAIL" "$MODULE_NAME.ko builds with warnings against the $tree tree (log: $log)"
	fi
	[ -f "$mo/$MODULE_NAME.ko" ] || die "$E_FAIL" "no $mo/$MODULE_NAME.ko after the build (log: $log)"
}

# build_user [SELFTEST...]: /init, dirty_log_perf_test and the named KVM
# selftests (from the patched tree, whose dirty_log_perf_test has the eager
# split option; they run on both kernels), static aarch64.
build_user() {
	local src=$PATCHED_DIR hdr=$USER_DIR/hdr out=$USER_DIR/selftests t
	local log=$RESULTS_DIR/vm/user-build.log targets=()
	for t in dirty_log_perf_test "$@"; do
		targets+=("$out/$t")
	done
	mkdir -p "$USER_DIR" "$out/tools"
	: >"$log"
	step "vm: building /init and dirty_log_perf_test (static aarch64)"
	run_logged "$log" "${CROSS_COMPILE}gcc" -static -O2 -Wall -Wextra -Werror \
		-o "$USER_DIR/init" "$REPO_ROOT/vm/init.c"
	run_logged "$log" kmake -C "$src" O="$hdr" INSTALL_HDR_PATH="$hdr/usr" headers_install
	run_logged "$log" "${CROSS_COMPILE}gcc" -static -O2 -Wall -Wextra -Werror \
		-I"$hdr/usr/include" -o "$USER_DIR/vm_churn" "$REPO_ROOT/vm/vm_churn.c"
	run_logged "$log" make -C "$src/tools/testing/selftests/kvm" ARCH=arm64 \
		CROSS_COMPILE="$CROSS_COMPILE" OUTPUT="$out" abs_objdir="$out" \
		LINUX_HDR_PATH="$hdr/usr/include/" KHDR_INCLUDES="-isystem $hdr/usr/include" \
		LDFLAGS="-static -pthread -no-pie" "${targets[@]}"
}

# build_all [SELFTEST...]: kernels and modules of $TREES, programs. With
# VM_BUILD=0, nothing is applied or built: what is in the build directories
# is booted as it is (it must be there).
build_all() {
	local tree f
	mkdir -p "$RESULTS_DIR/vm"
	if [ "${VM_BUILD:-1}" = 0 ]; then
		for tree in "${TREES[@]}"; do
			for f in "$(vm_dir "$tree")/arch/arm64/boot/Image" "$(vm_dir "$tree")/usr/gen_init_cpio" \
				 "$(module_dir "$tree")/$MODULE_NAME.ko"; do
				[ -e "$f" ] || die "$E_USAGE" "VM_BUILD=0 but $f is not built"
			done
		done
		info "VM_BUILD=0: booting what is built (nothing applied or rebuilt)"
		return 0
	fi
	"$REPO_ROOT/scripts/apply.sh" -t patched
	for tree in "${TREES[@]}"; do
		"$REPO_ROOT/scripts/apply.sh" -t "$tree"
		with_build_lock build_kernel "$tree"
		build_module "$tree"
	done
	build_user "$@"
}

# cpio_tree DEST SRC: gen_init_cpio lines for the directory SRC, copied to
# DEST in the initramfs (directories, files and symbolic links; modes kept).
cpio_tree() {
	local dest=${1%/} src=$2 d='' p=''
	local IFS=/
	for d in ${dest#/}; do
		echo "dir $p/$d 755 0 0"
		p=$p/$d
	done
	unset IFS
	(cd "$src" && find . -mindepth 1 \( -type d -printf 'dir %P %m\n' \) -o \
		\( -type f -printf 'file %P %m\n' \) -o \( -type l -printf 'slink %P %m %l\n' \)) |
		while read -r kind rel mode target; do
			case $kind in
			dir) echo "dir $dest/$rel $mode 0 0" ;;
			file) echo "file $dest/$rel $src/$rel $mode 0 0" ;;
			slink) echo "slink $dest/$rel $target 777 0 0" ;;
			esac
		done
}

# make_initrd TREE COMMANDS OUT [DEST=SRC...]: the initramfs of TREE's
# kernel, with more files (DEST an absolute path; its directory must be
# / or /kselftests[/arm64]) or directories (SRC a directory: its whole
# tree goes to DEST, e.g. /=<arm64 root>).
make_initrd() {
	local tree=$1 cmds=$2 out=$3 list f o
	o=$(vm_dir "$tree")
	shift 3
	list=$(mktemp)
	cat >"$list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 0755 0 0
file /init $USER_DIR/init 0755 0 0
file /commands $cmds 0644 0 0
file /dirty_log_perf_test $USER_DIR/selftests/dirty_log_perf_test 0755 0 0
file /vm_churn $USER_DIR/vm_churn 0755 0 0
file /$MODULE_NAME.ko $(module_dir "$tree")/$MODULE_NAME.ko 0644 0 0
dir /kselftests 0755 0 0
dir /kselftests/arm64 0755 0 0
LIST
	for f in "$@"; do
		if [ -d "${f#*=}" ]; then
			cpio_tree "${f%%=*}" "${f#*=}" >>"$list"
		else
			echo "file ${f%%=*} ${f#*=} 0755 0 0" >>"$list"
		fi
	done
	"$o/usr/gen_init_cpio" "$list" | gzip -1 >"$out"
	rm -f "$list"
}

# boot TREE COMMANDS LOG [DEST=SRC...]: boot TREE's kernel running
# COMMANDS, with more files in the initramfs; false unless /init reached
# "@@ done errors=0".
boot() {
	local tree=$1 cmds=$2 log=$3 initrd rc=0 t0=$SECONDS
	shift 3
	# one initramfs per kind of boot (log name): boots of two stages may overlap
	initrd=$(vm_dir "$tree")/initramfs-$(basename "$log" .log).cpio.gz
	make_initrd "$tree" "$cmds" "$initrd" "$@"
	step "vm $tree$(vm_suffix): booting in QEMU at EL2 (-m $VM_MEM -smp $VM_SMP; log: $log)"
	timeout "$VM_TIMEOUT" "${QEMU_RUN[@]}" \
		-machine virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on \
		-smp "$VM_SMP" -m "$VM_MEM" -nographic -no-reboot -nic none \
		-kernel "$(vm_dir "$tree")/arch/arm64/boot/Image" -initrd "$initrd" \
		-append "console=ttyAMA0 panic=-1 earlycon=pl011,0x9000000 $VM_CMDLINE" \
		</dev/null 2>&1 | tr -d '\r' >"$log" || rc=$?
	info "vm $tree$(vm_suffix): QEMU ran $(elapsed $((SECONDS - t0)))"
	if [ "$rc" -ne 0 ]; then
		eprintf 'ERROR: QEMU failed or timed out after %ss (rc %d); serial log: %s\n' \
			"$VM_TIMEOUT" "$rc" "$log"
		return 1
	fi
	if ! grep -q '^@@ done errors=' "$log"; then
		tail -n 20 "$log" | sed 's/^/    | /' >&2
		eprintf 'ERROR: %s kernel did not run /init to its end; serial log: %s\n' "$tree" "$log"
		return 1
	fi
	grep -B1 '^@@ unexpected' "$log" | sed 's/^/    | /' >&2 || true
	grep -q '^@@ done errors=0$' "$log"
}

# output_of LOG COMMAND [N]: what the Nth (default: first) run of COMMAND
# printed on the serial console.
output_of() {
	awk -v cmd="@@ cmd $2" -v n="${3:-1}" '
		$0 == cmd && ++seen == n { on = 1; next }
		on && /^@@ / { exit }
		on' "$1"
}

