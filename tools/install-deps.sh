#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian 12 packages msgbox needs to build and to run its tests
# in QEMU.  Run as root.  Extra package names given as arguments are added
# (the VM runner passes linux-headers-<krel> when the archive has moved on).  Idempotent: when everything is already installed it
# only asks dpkg and returns in well under a second, so the VM runner and CI
# call it unconditionally.
set -euo pipefail

PKGS=(
	qemu-system-x86 busybox-static cpio kmod xz-utils	# the test VM
	gcc make libc6-dev liburing-dev sparse			# userspace + checks
	libzmq3-dev gnuplot-nox		# the benchmark's ZeroMQ; its plots
	linux-headers-amd64 linux-headers-6.12-amd64		# 6.1 and 6.12 kbuild
	linux-source-6.12	# kselftest_harness.h (only shipped in this tarball)
	dkms man-db groff-base pkgconf	# install tests: DKMS build, man --warnings, pkg-config
	flex bison bc libelf-dev libssl-dev	# building the debug kernel (--kernel debug)
	linux-perf	# msgbox-vm profile
	"$@"
)

missing=()
for p in "${PKGS[@]}"; do
	# "install ok installed" is the only state in which the files are there;
	# half-installed or config-files-only packages must be (re)installed.
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $st == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
	echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2

# The 6.12 headers depend on the 6.12 image, whose postinst would build a
# Debian initramfs (slow, and we boot our own).  Turn that off first.
mkdir -p /etc/initramfs-tools
conf=/etc/initramfs-tools/update-initramfs.conf
if ! grep -qx 'update_initramfs=no' "$conf" 2>/dev/null; then
	if [[ -f $conf ]] && grep -q '^update_initramfs=' "$conf"; then
		sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$conf"
	else
		echo 'update_initramfs=no' >>"$conf"
	fi
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# --force-confold: keep our update-initramfs.conf when its package arrives.
# No recommends: qemu's GUI, OVMF and friends are not needed headless.
apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confold "${missing[@]}"
