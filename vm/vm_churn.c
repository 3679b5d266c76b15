// SPDX-License-Identifier: GPL-2.0-only
/*
 * Create and destroy empty VMs, and time it: the cost of tearing down a
 * stage-2 that maps nothing, for the IPA size given (0: the largest one
 * KVM supports). Built static for aarch64 by scripts/vm.sh.
 *
 *   vm_churn IPA_BITS COUNT
 *
 * Prints "vm_churn: ipa_bits=N vms=N total=S.SSSSSSs per_vm=M.MMMms".
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
	int kvm, vm, ipa, max_ipa, count, i;
	double t0, total;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IPA_BITS(0: largest) COUNT\n", argv[0]);
		return 2;
	}
	ipa = atoi(argv[1]);
	count = atoi(argv[2]);
	if (ipa < 0 || count < 1) {
		fprintf(stderr, "vm_churn: bad IPA size or count\n");
		return 2;
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "vm_churn: /dev/kvm: %s\n", strerror(errno));
		return 4;
	}
	max_ipa = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	if (max_ipa <= 0) {
		fprintf(stderr, "vm_churn: no KVM_CAP_ARM_VM_IPA_SIZE\n");
		return 4;
	}
	if (!ipa)
		ipa = max_ipa;
	if (ipa > max_ipa) {
		fprintf(stderr, "vm_churn: IPA size %d above the limit %d\n", ipa, max_ipa);
		return 2;
	}

	t0 = now();
	for (i = 0; i < count; i++) {
		vm = ioctl(kvm, KVM_CREATE_VM, KVM_VM_TYPE_ARM_IPA_SIZE(ipa));
		if (vm < 0) {
			fprintf(stderr, "vm_churn: KVM_CREATE_VM: %s\n", strerror(errno));
			return 1;
		}
		/* The last reference: the VM, and its stage-2, go now */
		close(vm);
	}
	total = now() - t0;

	printf("vm_churn: ipa_bits=%d vms=%d total=%.6fs per_vm=%.3fms\n",
	       ipa, count, total, total * 1e3 / count);
	close(kvm);
	return 0;
}
