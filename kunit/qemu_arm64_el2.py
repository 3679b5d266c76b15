# SPDX-License-Identifier: GPL-2.0
#
# kunit.py --qemu_config for arm64 with EL2: the stock arm64 config boots
# "-machine virt -cpu max" without virtualization=on, so the kernel starts at
# EL1 and KVM never initialises. Here the kernel starts at EL2 and KVM comes
# up in VHE mode ("kvm [1]: VHE mode initialized successfully"). Works for
# 4K, 16K and 64K page kernels: -cpu max has all three granules.
#
# kunit.py already passes "-m 1024 -nodefaults -no-reboot -nographic"; the
# "-m 1G" below only makes the memory size independent of that default.
# pauth-impdef=on: QEMU's own pointer-auth algorithm, much faster under TCG.

from ..qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='arm64',
			   kconfig='''
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
CONFIG_VIRTUALIZATION=y
CONFIG_KVM=y''',
			   qemu_arch='aarch64',
			   kernel_path='arch/arm64/boot/Image.gz',
			   kernel_command_line='console=ttyAMA0',
			   extra_qemu_params=['-machine', 'virt,virtualization=on,gic-version=3',
					      '-cpu', 'max,pauth-impdef=on',
					      '-smp', '2', '-m', '1G'])
