#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# msgbox selftests: the benchmark, in its quick mode, so that it cannot rot.
# Every mechanism (msgbox ioctl, read/write, batch, io_uring, receive ring;
# POSIX mq, SysV msg, pipe, SOCK_SEQPACKET, ZeroMQ; the eventfd and memcpy
# floors) moves tiny counts of 16 B to 100 KB messages, round trips and one-way streams,
# on one CPU and on two, and in parallel pairs; every byte of every message
# is checked and each message must arrive exactly once (in order, except
# through io_uring with many reads in flight).  msgbox-bench --quick prints
# the TAP lines itself, one per mechanism and pinning.  Speed is not tested.

BENCH=${MSGBOX_BENCH:-msgbox-bench}
exec "$BENCH" --quick
