/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * msgbox: kernel-mediated message passing through /dev/msgbox.
 *
 * This header is the one ABI between the msgbox kernel module and userspace.
 * Every structure is 64-bit clean: pointers travel as __u64, padding is
 * explicit and must be zero, and each structure may grow at its end.
 *
 * Extensibility: the size encoded in an ioctl number (_IOC_SIZE) is the size
 * of the structure the caller was compiled against.  The kernel accepts any
 * size from the first published version (MSGBOX_*_SIZE_VER0) upwards: a
 * shorter structure from an older caller is zero-extended, a longer one from a
 * newer caller is accepted only if the bytes the kernel does not know are zero
 * (otherwise E2BIG), and only as many bytes as the caller has are written back.
 *
 * Objects:
 *   /dev/msgbox fd   Control descriptor.  MSGBOX_IOC_CREATE, MSGBOX_IOC_OPEN
 *                    and MSGBOX_IOC_DESTROY act on named mailboxes.
 *   mailbox fd       Returned (as the ioctl's return value) by CREATE and
 *                    OPEN.  One mailbox per descriptor; read(2)/write(2),
 *                    poll(2)/epoll(7), MSGBOX_IOC_SEND/RECV/INFO and close(2)
 *                    act on it.  A process may hold many.
 *
 * Errors every caller must be ready for:
 *   EAGAIN     non-blocking operation found the mailbox empty (receive) or
 *              without room (send).
 *   ETIMEDOUT  a timed operation expired.
 *   EINTR      a signal arrived during a timed wait, or during an untimed
 *              wait whose handler lacks SA_RESTART (untimed waits are
 *              restarted by SA_RESTART handlers).
 *   EIDRM      the mailbox was destroyed: every sleeper is woken with it and
 *              every later operation on a descriptor of it fails with it.
 *   EMSGSIZE   send: the payload exceeds the mailbox's max_msg_size;
 *              receive: the buffer is smaller than the next message, which
 *              stays queued (nothing is lost).
 *   EBADF      the descriptor was not opened for that direction.
 */
#ifndef _UAPI_LINUX_MSGBOX_H
#define _UAPI_LINUX_MSGBOX_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Path of the control device. */
#define MSGBOX_DEVICE		"/dev/msgbox"

/*
 * ABI version, reported by MSGBOX_IOC_VERSION.  Incremented only on an
 * incompatible change; additions are discovered through feature bits.
 */
#define MSGBOX_ABI_VERSION	1

/*
 * Mailbox names: 1 to MSGBOX_NAME_MAX - 1 bytes from [A-Za-z0-9._-],
 * NUL-terminated inside the MSGBOX_NAME_MAX-byte field, and neither "." nor
 * "..".  A name without a NUL in the field fails with ENAMETOOLONG, any other
 * malformed name with EINVAL.
 */
#define MSGBOX_NAME_MAX		64

/*
 * Descriptor flags for the fd returned by MSGBOX_IOC_CREATE and
 * MSGBOX_IOC_OPEN.  At least one of RECV and SEND is required.
 */
#define MSGBOX_FD_RECV		(1U << 0)	/* may receive (fd readable) */
#define MSGBOX_FD_SEND		(1U << 1)	/* may send (fd writable) */
#define MSGBOX_FD_NONBLOCK	(1U << 2)	/* O_NONBLOCK on the new fd */
#define MSGBOX_FD_CLOEXEC	(1U << 3)	/* O_CLOEXEC on the new fd */
#define MSGBOX_FD_ALL		(MSGBOX_FD_RECV | MSGBOX_FD_SEND | \
				 MSGBOX_FD_NONBLOCK | MSGBOX_FD_CLOEXEC)

/**
 * struct msgbox_create - argument of MSGBOX_IOC_CREATE
 * @max_msgs:     capacity in messages, 1 to the module's max_msgs parameter.
 * @max_msg_size: largest payload in bytes, 1 to the module's max_msg_size
 *                parameter.
 * @max_bytes:    capacity in payload bytes, @max_msg_size to the module's
 *                max_mailbox_bytes parameter.
 * @fd_flags:     MSGBOX_FD_* for the descriptor returned.
 * @flags:        creation flags; none are defined yet, must be 0.
 * @__pad:        must be zero.
 * @name:         the mailbox name (see MSGBOX_NAME_MAX).
 *
 * Returns a new mailbox descriptor.  EEXIST if the name is taken, ENOSPC if
 * the module's max_mailboxes limit is reached, EINVAL for a limit out of
 * range (ERANGE is not used: every field error is EINVAL).
 */
struct msgbox_create {
	__u32 max_msgs;
	__u32 max_msg_size;
	__u64 max_bytes;
	__u32 fd_flags;
	__u32 flags;
	__u64 __pad;
	char name[MSGBOX_NAME_MAX];
};

#define MSGBOX_CREATE_SIZE_VER0	96

/**
 * struct msgbox_open - argument of MSGBOX_IOC_OPEN and MSGBOX_IOC_DESTROY
 * @fd_flags: OPEN: MSGBOX_FD_* for the descriptor returned; DESTROY: must be 0.
 * @flags:    none defined yet, must be 0.
 * @name:     the mailbox name.
 *
 * OPEN returns a new descriptor on an existing mailbox (ENOENT if none has
 * that name).  DESTROY removes the name at once, wakes every sleeper with
 * EIDRM, drops the queued messages and returns 0; the memory goes when the
 * last descriptor is closed.
 */
struct msgbox_open {
	__u32 fd_flags;
	__u32 flags;
	char name[MSGBOX_NAME_MAX];
};

#define MSGBOX_OPEN_SIZE_VER0	72

/* Per-operation flags in struct msgbox_msg.flags. */
#define MSGBOX_MSG_NONBLOCK	(1U << 0)	/* EAGAIN instead of sleeping */
#define MSGBOX_MSG_TIMEOUT	(1U << 1)	/* timeout_ns is a relative timeout */
#define MSGBOX_MSG_ALL		(MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_TIMEOUT)

/* Message types are positive; write(2) sends MSGBOX_TYPE_DEFAULT. */
#define MSGBOX_TYPE_DEFAULT	1

/**
 * struct msgbox_msg - argument of MSGBOX_IOC_SEND and MSGBOX_IOC_RECV
 * @data:         user address of the payload (send) or of the buffer (recv).
 * @len:          send: payload length in bytes (0 is a valid, empty message).
 *                recv: in, size of the buffer; out, length of the message.
 * @type:         send: message type, >= 1.  recv in: selector, 0 takes the
 *                first message of any type (other selectors are reserved and
 *                fail with EINVAL); recv out: the message's type.
 * @priority:     send: must be 0 for now (priorities are reserved).
 *                recv out: the message's priority.
 * @flags:        in: MSGBOX_MSG_*.  The descriptor's O_NONBLOCK also applies.
 * @timeout_ns:   with MSGBOX_MSG_TIMEOUT, longest wait in nanoseconds; 0
 *                means try once (EAGAIN if it would block, not ETIMEDOUT).
 * @id:           out: the message's id, unique in the mailbox, increasing in
 *                send order.
 * @send_time_ns: recv out: CLOCK_REALTIME of the send, in nanoseconds.
 * @sender_pid:   recv out: thread-group id of the sender, in the receiver's
 *                pid namespace (0 if not visible there).
 * @sender_tid:   recv out: thread id of the sender, as @sender_pid.
 * @sender_uid:   recv out: effective uid of the sender, in the receiver's user
 *                namespace.  Stamped by the kernel: a sender cannot forge it.
 * @sender_gid:   recv out: effective gid of the sender, as @sender_uid.
 * @__reserved:   must be zero on input; zero on output.
 *
 * SEND returns 0 and writes @id back; RECV returns 0 and fills the out fields.
 */
struct msgbox_msg {
	__u64 data;
	__u64 len;
	__s64 type;
	__u32 priority;
	__u32 flags;
	__u64 timeout_ns;
	__u64 id;
	__u64 send_time_ns;
	__s32 sender_pid;
	__s32 sender_tid;
	__u32 sender_uid;
	__u32 sender_gid;
	__u64 __reserved[2];
};

#define MSGBOX_MSG_SIZE_VER0	88

/**
 * struct msgbox_info - result of MSGBOX_IOC_INFO on a mailbox descriptor
 * @max_msgs:     capacity in messages.
 * @max_msg_size: largest payload in bytes.
 * @max_bytes:    capacity in payload bytes.
 * @nr_msgs:      messages queued now.
 * @nr_bytes:     payload bytes queued now.
 * @sent:         messages accepted since creation.
 * @received:     messages taken since creation.
 * @recv_waiters: tasks sleeping in receive now.
 * @send_waiters: tasks sleeping in send now.
 * @name:         the mailbox name.
 */
struct msgbox_info {
	__u32 max_msgs;
	__u32 max_msg_size;
	__u64 max_bytes;
	__u32 nr_msgs;
	__u32 __pad;
	__u64 nr_bytes;
	__u64 sent;
	__u64 received;
	__u32 recv_waiters;
	__u32 send_waiters;
	char name[MSGBOX_NAME_MAX];
};

#define MSGBOX_INFO_SIZE_VER0	120

#define MSGBOX_IOC_MAGIC	0xB9

/* On /dev/msgbox. */
#define MSGBOX_IOC_VERSION	_IO(MSGBOX_IOC_MAGIC, 0x00)	/* returns MSGBOX_ABI_VERSION */
#define MSGBOX_IOC_CREATE	_IOW(MSGBOX_IOC_MAGIC, 0x01, struct msgbox_create)
#define MSGBOX_IOC_OPEN		_IOW(MSGBOX_IOC_MAGIC, 0x02, struct msgbox_open)
#define MSGBOX_IOC_DESTROY	_IOW(MSGBOX_IOC_MAGIC, 0x03, struct msgbox_open)

/* On a mailbox descriptor. */
#define MSGBOX_IOC_SEND		_IOWR(MSGBOX_IOC_MAGIC, 0x20, struct msgbox_msg)
#define MSGBOX_IOC_RECV		_IOWR(MSGBOX_IOC_MAGIC, 0x21, struct msgbox_msg)
#define MSGBOX_IOC_INFO		_IOR(MSGBOX_IOC_MAGIC, 0x22, struct msgbox_info)

#endif /* _UAPI_LINUX_MSGBOX_H */
