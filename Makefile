# SPDX-License-Identifier: GPL-2.0
#
# msgbox top-level build.
#
#   make                 module (for KDIR), libmsgbox, tools, selftests
#   make module KDIR=... the module against another kernel tree
#   make check-kernel    W=1 + sparse (C=2) build on every installed Debian kernel
#   make check           the whole test suite in QEMU on Debian 6.1 and 6.12
#   make demo            several processes exchanging messages, in the VM
#   make bench           the benchmark in the VM (6.1): tables, build/bench/*.csv, *.png
#   make install         library, headers, msgboxctl, man pages, udev rule
#   make dkms            register the module with DKMS (as root)
#
# Objects go to build/ (the module to build/module-<kernel release>/, since
# kbuild of this era builds external modules in their source directory).

# The running kernel here is not a Debian one: default to the installed
# Debian 12 headers of the 6.1 line (linux-headers-amd64).
KDIR ?= $(firstword $(sort $(wildcard /usr/src/linux-headers-6.1.*-amd64)))
KREL := $(notdir $(KDIR:/=))
KREL := $(patsubst linux-headers-%,%,$(KREL))
O_MOD := build/module-$(KREL)

CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 -Wstrict-prototypes
LIB_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -fPIC -fvisibility=hidden -D_GNU_SOURCE \
	-Iuapi -Iuserlib
APP_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iuapi -Iuserlib

# The library's version: its minor follows the newest symbol version node
# (userlib/libmsgbox.map, MSGBOX_1.4), so pkg-config can ask for it.
LIB_VERSION := 1.4.0
LIB_SONAME := libmsgbox.so.1
PREFIX ?= /usr/local

LIB_SRCS := userlib/msgbox.c userlib/msgbox_rxring.c userlib/msgbox_uring.c
LIB_HDRS := userlib/msgbox.h userlib/msgbox_uring.h uapi/linux/msgbox.h
LIB_PIC_OBJS := $(patsubst userlib/%.c,build/lib/pic/%.o,$(LIB_SRCS))

MODULE_SRCS := $(wildcard module/*.c module/*.h) Kbuild uapi/linux/msgbox.h

.PHONY: all module lib tools selftests check check-kernel checkpatch demo bench clean install \
	dkms dkms-source dkms-remove

all: module lib tools selftests

# ---- kernel module -------------------------------------------------------
module: $(O_MOD)/msgbox.ko

$(O_MOD)/msgbox.ko: $(MODULE_SRCS)
	@test -d "$(KDIR)" || { echo "KDIR=$(KDIR) is not a kernel tree (apt-get install linux-headers-amd64)"; exit 1; }
	@mkdir -p $(O_MOD)/module $(O_MOD)/uapi/linux
	cp Kbuild $(O_MOD)/Kbuild
	cp module/*.c module/*.h $(O_MOD)/module/
	cp uapi/linux/msgbox.h $(O_MOD)/uapi/linux/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(O_MOD) $(KBUILD_ARGS) modules

# Warning-free with W=1 and sparse-clean on every installed Debian kernel,
# and checkpatch-clean (checkpatch comes from Debian's linux-source-6.12;
# BIT() does not exist for UAPI headers, hence BIT_MACRO is ignored).
KSRC_TAR ?= /usr/src/linux-source-6.12.tar.xz
CHECKPATCH := build/kscripts/checkpatch.pl

$(CHECKPATCH):
	@mkdir -p build/kscripts
	tar -xJf $(KSRC_TAR) -C build/kscripts --strip-components=2 \
		linux-source-6.12/scripts/checkpatch.pl linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch

checkpatch: $(CHECKPATCH)
	perl $(CHECKPATCH) --no-tree --strict --terse --show-types --ignore BIT_MACRO \
		-f module/*.c module/*.h uapi/linux/msgbox.h

check-kernel: checkpatch
	@set -e; for k in $(sort $(wildcard /usr/src/linux-headers-6.*-amd64)); do \
		echo "== $$k"; rm -rf build/check-$$(basename $$k); \
		$(MAKE) --no-print-directory module KDIR=$$k O_MOD=build/check-$$(basename $$k) \
			KBUILD_ARGS="W=1 C=2 CHECKFLAGS=-Wsparse-error KCFLAGS=-Werror"; \
	done

# ---- libmsgbox -----------------------------------------------------------
# msgbox_uring.c (the io_uring API, <msgbox_uring.h>) needs liburing: the
# shared library links it; static users of msgbox_ring_*() add -luring
# (pkg-config --static does), others pull no liburing symbol in.
lib: build/lib/libmsgbox.a build/lib/$(LIB_SONAME) build/lib/msgbox.pc

build/lib/pic/%.o: userlib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

# One set of position-independent objects for both libraries: the archive
# links into PIE programs (Debian's gcc default) and static ones alike.
build/lib/libmsgbox.a: $(LIB_PIC_OBJS)
	$(AR) rcs $@ $^

# Makefile too: LIB_VERSION names the file the symlink points to.
build/lib/$(LIB_SONAME): $(LIB_PIC_OBJS) userlib/libmsgbox.map Makefile
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--version-script=userlib/libmsgbox.map \
		-o build/lib/libmsgbox.so.$(LIB_VERSION) $(LIB_PIC_OBJS) -luring
	ln -sf libmsgbox.so.$(LIB_VERSION) $@
	ln -sf $(LIB_SONAME) build/lib/libmsgbox.so

build/lib/msgbox.pc: userlib/msgbox.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIB_VERSION)|' $< > $@

# ---- tools (static but msgbox-bench, whose libraries msgbox-vm copies) ---
TOOLS := build/bin/msgboxctl build/bin/msgbox-demo build/bin/msgbox-bench build/bin/msgbox-fuzz
tools: $(TOOLS)

build/bin/msgboxctl: tools/msgboxctl/msgboxctl.c build/lib/libmsgbox.a
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -static -o $@ $< build/lib/libmsgbox.a

build/bin/msgbox-demo: tools/demo/msgbox-demo.c build/lib/libmsgbox.a userlib/msgbox_uring.h
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -static -o $@ $< build/lib/libmsgbox.a -luring

build/bin/msgbox-fuzz: tools/fuzz/msgbox-fuzz.c
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -static -o $@ $< -luring

# The benchmark alone is dynamic: Debian's libzmq exists only as a shared
# library in practice (its static one needs Kerberos GSSAPI, shipped shared
# only).  tools/vm/msgbox-vm copies what ldd lists into the guest.
# liburing and libmsgbox stay static.
build/bin/msgbox-bench: tools/bench/msgbox-bench.c build/lib/libmsgbox.a
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -no-pie -o $@ $< build/lib/libmsgbox.a -l:liburing.a -lzmq

# ---- selftests -----------------------------------------------------------
selftests: build/lib/libmsgbox.a
	$(MAKE) -C selftests OUT=$(CURDIR)/build/selftests LIBMSGBOX=$(CURDIR)/build/lib/libmsgbox.a

# ---- running in the VM ---------------------------------------------------
check:
	tools/vm/msgbox-vm tests

demo:
	tools/vm/msgbox-vm demo

bench:
	tools/vm/msgbox-vm bench

# ---- installing ------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=]: libmsgbox (shared, static,
# pkg-config), the headers, msgboxctl, the man pages, the udev rule and the
# modprobe.d example.  The udev rule goes where udev reads local rules,
# whatever the prefix.
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/msgbox
UDEVRULESDIR ?= /etc/udev/rules.d
MAN1 := $(wildcard man/*.1)
MAN3 := $(wildcard man/*.3)
MAN4 := $(wildcard man/*.4)

install: lib tools
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man4 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(UDEVRULESDIR)
	install -m 644 build/lib/libmsgbox.a $(DESTDIR)$(LIBDIR)/
	install -m 755 build/lib/libmsgbox.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libmsgbox.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libmsgbox.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIB_VERSION)|' \
		-e 's|^libdir=.*|libdir=$(LIBDIR)|' -e 's|^includedir=.*|includedir=$(INCLUDEDIR)|' \
		userlib/msgbox.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/msgbox.pc
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/msgbox.pc
	install -m 644 userlib/msgbox.h userlib/msgbox_uring.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 uapi/linux/msgbox.h $(DESTDIR)$(INCLUDEDIR)/linux/
	install -m 755 build/bin/msgboxctl $(DESTDIR)$(BINDIR)/
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/
	install -m 644 $(MAN4) $(DESTDIR)$(MANDIR)/man4/
	install -m 644 udev/60-msgbox.rules $(DESTDIR)$(UDEVRULESDIR)/
	install -m 644 modprobe.d/msgbox.conf $(DESTDIR)$(DOCDIR)/modprobe.conf.example

# ---- DKMS ----------------------------------------------------------------------
# make dkms (as root): copy the module source to /usr/src/msgbox-VERSION,
# register it with DKMS, and build and install it for DKMS_KERNELS (default
# the running kernel; DKMS_ACTION=build only builds); DKMS rebuilds it for
# every kernel installed later.
# make dkms-source DESTDIR=...: only the source tree, for packagers.
# make dkms-remove: unregister it from every kernel and delete the source.
# DKMS_ARGS passes options to every dkms call (the install test uses
# --dkmstree and --sourcetree to stay out of the system's trees).
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRCTREE ?= /usr/src
DKMS_SRC = $(DESTDIR)$(DKMS_SRCTREE)/msgbox-$(DKMS_VERSION)
DKMS_KERNELS ?= $(shell uname -r)
DKMS_ACTION ?= install
DKMS_ARGS ?=

dkms-source:
	install -d $(DKMS_SRC)/module $(DKMS_SRC)/uapi/linux
	install -m 644 dkms.conf Kbuild $(DKMS_SRC)/
	install -m 644 module/*.c module/*.h $(DKMS_SRC)/module/
	install -m 644 uapi/linux/msgbox.h $(DKMS_SRC)/uapi/linux/

dkms: dkms-source
	@command -v dkms >/dev/null || { echo "dkms missing: apt-get install dkms"; exit 1; }
	dkms status $(DKMS_ARGS) -m msgbox -v $(DKMS_VERSION) | grep -q . || \
		dkms add $(DKMS_ARGS) -m msgbox -v $(DKMS_VERSION)
	@set -e; for k in $(DKMS_KERNELS); do \
		echo "dkms $(DKMS_ACTION) $(DKMS_ARGS) -m msgbox -v $(DKMS_VERSION) -k $$k"; \
		dkms $(DKMS_ACTION) $(DKMS_ARGS) -m msgbox -v $(DKMS_VERSION) -k $$k; \
	done

dkms-remove:
	-dkms remove $(DKMS_ARGS) -m msgbox -v $(DKMS_VERSION) --all
	rm -rf $(DKMS_SRC)

clean:
	rm -rf build
