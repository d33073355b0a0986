#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-install.sh: test the install targets on the host, as a Debian user
# or packager would use them, into a temporary tree (nothing outside it is
# touched): make install DESTDIR=..., a program built against the installed
# header and library through pkg-config, the installed man pages (present
# for every exported function, free of every groff warning, with a
# NAME line lexgrog can parse), the installed msgboxctl, and a DKMS
# add/build of the module for an installed Debian kernel's headers through
# `make dkms`.  TAP output; tools/vm/msgbox-vm tests counts it.
#
#   tools/msgbox-install/check-install.sh [KERNEL_RELEASE]
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$REPO/build/install-test
KREL=${1:-}
if [[ -z $KREL ]]; then
	k=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort | tail -n 1)
	KREL=${k#/usr/src/linux-headers-}
fi
PREFIX=/usr
D=$T/root
TAP_PREFIX=install
# shellcheck source=tools/lib/tap.sh
. "$REPO/tools/lib/tap.sh"

rm -rf "$T"
mkdir -p "$T"
echo "TAP version 13"

t make_install_into_destdir '
	make -C "$REPO" --no-print-directory -s install DESTDIR="$D" PREFIX=$PREFIX &&
	for f in lib/libmsgbox.a lib/libmsgbox.so.1.4.0 lib/libmsgbox.so.1 lib/libmsgbox.so \
		 lib/pkgconfig/msgbox.pc include/msgbox.h include/linux/msgbox.h bin/msgboxctl \
		 share/man/man1/msgboxctl.1 share/man/man4/msgbox.4 share/man/man3/libmsgbox.3 \
		 share/doc/msgbox/modprobe.conf.example; do
		[ -e "$D$PREFIX/$f" ] || { echo "missing $PREFIX/$f"; exit 1; }
	done &&
	[ -f "$D/etc/udev/rules.d/60-msgbox.rules" ] &&
	[ "$(readlink "$D$PREFIX/lib/libmsgbox.so.1")" = libmsgbox.so.1.4.0 ]'

# A tiny program against the installed tree only: the sysroot makes
# pkg-config point every path into $D.
cat >"$T/hello.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <msgbox.h>

int main(void)
{
	struct msgbox_attr a;
	int v;

	msgbox_attr_init(&a);
	v = msgbox_abi_version();
	/* Without the module (the host): -1, ENOENT.  With it: the ABI. */
	if (!(v == MSGBOX_ABI_VERSION || (v == -1 && errno == ENOENT)))
		return 1;
	printf("%u %u %llu %04o\n", a.max_msgs, a.max_msg_size, a.max_bytes, a.mode);
	return 0;
}
C
export PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR=$D$PREFIX/lib/pkgconfig

t pkg_config_describes_the_installed_tree '
	[ "$(pkg-config --modversion msgbox)" = 1.4.0 ] &&
	grep -qx "prefix=$PREFIX" "$D$PREFIX/lib/pkgconfig/msgbox.pc" &&
	[ "$(echo $(pkg-config --cflags msgbox))" = "-I$D$PREFIX/include" ] &&
	[ "$(echo $(pkg-config --libs msgbox))" = "-L$D$PREFIX/lib -lmsgbox" ]'

t program_links_shared_library_via_pkg_config '
	gcc -Wall -Werror -o "$T/hello" "$T/hello.c" $(pkg-config --cflags --libs msgbox) &&
	readelf -d "$T/hello" | grep -q "NEEDED.*\[libmsgbox.so.1\]" &&
	[ "$(LD_LIBRARY_PATH=$D$PREFIX/lib "$T/hello")" = "256 8192 1048576 0600" ]'

t program_links_static_library_via_pkg_config '
	gcc -static -Wall -Werror -o "$T/hello-static" "$T/hello.c" $(pkg-config --static --cflags --libs msgbox) &&
	! readelf -d "$T/hello-static" 2>/dev/null | grep -q NEEDED &&
	[ "$("$T/hello-static")" = "256 8192 1048576 0600" ]'

# Debian's gcc builds position-independent executables by default: the
# archive must link into one too, not only into -static programs.
t static_library_links_into_a_pie '
	gcc -Wall -Werror -o "$T/hello-pie" "$T/hello.c" -I"$D$PREFIX/include" \
		"$D$PREFIX/lib/libmsgbox.a" &&
	readelf -h "$T/hello-pie" | grep -q "DYN" &&
	! readelf -d "$T/hello-pie" | grep -q "NEEDED.*libmsgbox" &&
	[ "$("$T/hello-pie")" = "256 8192 1048576 0600" ]'

t installed_msgboxctl_runs '
	"$D$PREFIX/bin/msgboxctl" --help | grep -q "^usage: msgboxctl" &&
	"$D$PREFIX/bin/msgboxctl" send --help | grep -q "^usage: msgboxctl send" &&
	if [ ! -e /dev/msgbox ]; then
		"$D$PREFIX/bin/msgboxctl" list 2>"$T/err"; rc=$?
		[ $rc -eq 7 ] && grep -q "is the msgbox module loaded" "$T/err"
	fi'

# Every exported function (userlib/libmsgbox.map) has a page, real or .so.
t man_page_for_every_exported_function '
	for f in $(sed -n "s/^\t\t\(msgbox_[a-z_]*\);/\1/p" "$REPO/userlib/libmsgbox.map"); do
		[ -f "$D$PREFIX/share/man/man3/$f.3" ] || { echo "no page for $f"; exit 1; }
		MANPATH=$D$PREFIX/share/man man -w 3 "$f" >/dev/null || exit 1
	done'

t man_pages_render_without_warnings '
	cd "$D$PREFIX/share/man" && cnt=0 &&
	for p in man*/*; do
		# Every groff warning category (w), not only the default of man-db (mac).
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -E UTF-8 -l "$p" 2>&1 >/dev/null)
		[ -z "$w" ] || { echo "$p: $w"; exit 1; }
		LC_ALL=C.UTF-8 MANWIDTH=80 man -E UTF-8 -l "$p" 2>/dev/null | grep -q . || { echo "$p renders empty"; exit 1; }
		if ! head -n 1 "$p" | grep -q "^\.so "; then
			lexgrog "$p" >/dev/null || { echo "lexgrog cannot parse $p"; exit 1; }
		fi
		cnt=$((cnt + 1))
	done &&
	[ $cnt -ge 20 ] &&
	MANPATH=$PWD man -w 1 msgboxctl && MANPATH=$PWD man -w 4 msgbox'

t dkms_add_and_build_module_for_debian_headers '
	[ -n "$KREL" ] && [ -d "/usr/src/linux-headers-$KREL" ] || { echo "no 6.1 headers"; exit 1; }
	command -v dkms >/dev/null || { echo "dkms missing: apt-get install dkms"; exit 1; }
	mkdir -p "$T/dkms" &&
	make -C "$REPO" --no-print-directory -s dkms DKMS_SRCTREE="$T/src" DKMS_ACTION=build \
		DKMS_KERNELS="$KREL" DKMS_ARGS="--sourcetree $T/src --dkmstree $T/dkms" &&
	ko=$(find "$T/dkms/msgbox" -name "msgbox.ko*" -path "*/$KREL/*" | head -n 1) &&
	[ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$KREL " &&
	dkms status --dkmstree "$T/dkms" --sourcetree "$T/src" -m msgbox | grep -q "msgbox/1.0.0, $KREL, .*: built"'

t dkms_source_tree_is_self_contained '
	s=$T/src/msgbox-1.0.0 &&
	[ -f "$s/dkms.conf" ] && [ -f "$s/Kbuild" ] && [ -f "$s/uapi/linux/msgbox.h" ] &&
	objs=$(sed -n "s/^msgbox-y := //p" "$REPO/Kbuild" | tr " " "\n" | sed -n "s|^module/\(.*\)\.o$|\1|p") &&
	[ -n "$objs" ] &&
	for c in $objs; do
		[ -f "$s/module/$c.c" ] || { echo "missing module/$c.c"; exit 1; }
	done &&
	grep -q "^PACKAGE_VERSION=\"1.0.0\"" "$s/dkms.conf"'

tap_end
