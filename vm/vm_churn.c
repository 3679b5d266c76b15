// SPDX-License-Identifier: GPL-2.0-only
/*
 * Create and destroy empty VMs, and time it: the cost of tearing down a
 * stage-2 that maps nothing, for the IPA size given (0: the largest one
 * KVM supports). Built static for aarch64 by scripts/vm.sh.
 *
 *   vm_churn IPA_BITS COUNT [EL2_VCPUS]
 *
 * With EL2_VCPUS, each VM also gets that many vCPUs with
 * KVM_ARM_VCPU_HAS_EL2 (exit status 4 when KVM has no KVM_CAP_ARM_EL2):
 * KVM then gives the VM nested MMUs, which are torn down with it.
 *
 * Prints "vm_churn: ipa_bits=N vms=N el2_vcpus=N total=S.SSSSSSs per_vm=M.MMMms".
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

/* Give @vm @n vCPUs with EL2; their fds are closed with the VM's. */
static int add_el2_vcpus(int vm, int n, int *fds)
{
	struct kvm_vcpu_init init;
	int i;

	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		fprintf(stderr, "vm_churn: KVM_ARM_PREFERRED_TARGET: %s\n", strerror(errno));
		return -1;
	}
	init.features[0] |= 1U << KVM_ARM_VCPU_HAS_EL2;
	for (i = 0; i < n; i++) {
		fds[i] = ioctl(vm, KVM_CREATE_VCPU, i);
		if (fds[i] < 0 || ioctl(fds[i], KVM_ARM_VCPU_INIT, &init) < 0) {
			fprintf(stderr, "vm_churn: vCPU %d with EL2: %s\n", i, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char *argv[])
{
	int kvm, vm, ipa, max_ipa, count, el2 = 0, i, j;
	int fds[64];
	double t0, total;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s IPA_BITS(0: largest) COUNT [EL2_VCPUS]\n", argv[0]);
		return 2;
	}
	ipa = atoi(argv[1]);
	count = atoi(argv[2]);
	if (argc == 4)
		el2 = atoi(argv[3]);
	if (ipa < 0 || count < 1 || el2 < 0 || el2 > 64) {
		fprintf(stderr, "vm_churn: bad IPA size, count or number of vCPUs\n");
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
	if (el2 && ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_EL2) <= 0) {
		fprintf(stderr, "vm_churn: no KVM_CAP_ARM_EL2 (boot with kvm-arm.mode=nested on a CPU with FEAT_NV2)\n");
		return 4;
	}

	t0 = now();
	for (i = 0; i < count; i++) {
		vm = ioctl(kvm, KVM_CREATE_VM, KVM_VM_TYPE_ARM_IPA_SIZE(ipa));
		if (vm < 0) {
			fprintf(stderr, "vm_churn: KVM_CREATE_VM: %s\n", strerror(errno));
			return 1;
		}
		if (el2 && add_el2_vcpus(vm, el2, fds))
			return 1;
		for (j = 0; j < el2; j++)
			close(fds[j]);
		/* The last reference: the VM, and its stage-2s, go now */
		close(vm);
	}
	total = now() - t0;

	printf("vm_churn: ipa_bits=%d vms=%d el2_vcpus=%d total=%.6fs per_vm=%.3fms\n",
	       ipa, count, el2, total, total * 1e3 / count);
	close(kvm);
	return 0;
}
