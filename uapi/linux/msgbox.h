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
 *   EINTR      a signal arrived during a wait with a relative timeout,
 *              or during another wait whose handler lacks SA_RESTART
 *              (untimed waits and waits until an ABSTIME deadline are
 *              restarted by SA_RESTART handlers, and resume after a stop
 *              and continue; a relative timeout would begin again).
 *   EIDRM      the mailbox was destroyed: every sleeper is woken with it and
 *              every later operation on a descriptor of it fails with it.
 *   EMSGSIZE   send: the payload exceeds the mailbox's max_msg_size;
 *              receive: the buffer is smaller than the next message, which
 *              stays queued (nothing is lost).
 *   EBADF      the descriptor was not opened for that direction.
 *   EACCES     the mailbox's mode denies the access asked for.
 *   EPERM      only the owner (or CAP_SYS_ADMIN) may do that.
 *   EDQUOT     the owner's quota of mailboxes or bytes would be exceeded.
 *   ENOSPC     a system-wide limit would be exceeded.
 *   ECONNRESET a call's server went away without replying.
 *   EPIPE      a reply's caller went away.
 */
#ifndef _UAPI_LINUX_MSGBOX_H
#define _UAPI_LINUX_MSGBOX_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Path of the control device. */
#define MSGBOX_DEVICE		"/dev/msgbox"

/*
 * ABI version, reported by MSGBOX_IOC_VERSION.  Incremented only on an
 * incompatible change.  Additions are discovered by trying them: a module
 * that predates an ioctl fails it with ENOTTY, one that predates a flag
 * fails it with EINVAL.
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
 * @max_msgs:     capacity in messages, 1 to the module's max_msgs parameter;
 *                or 0 for a rendezvous channel (an unbuffered channel, as
 *                in Go): a send completes only by handing its message to
 *                a receiver, and @max_bytes must then be 0.
 * @max_msg_size: largest payload in bytes, 1 to the module's max_msg_size
 *                parameter.
 * @max_bytes:    capacity in payload bytes, @max_msg_size to the module's
 *                max_mailbox_bytes parameter (0 with @max_msgs 0).
 * @fd_flags:     MSGBOX_FD_* for the descriptor returned.
 * @flags:        MSGBOX_CREATE_*.
 * @mode:         permission bits, 0 to 0777, masked by the caller's umask.
 *                As for a file: read permission allows opening for receive,
 *                write permission for send; the owner bits apply to the
 *                owner (the creator's effective uid), the group bits to
 *                members of the creator's effective gid.  CAP_IPC_OWNER
 *                overrides them, as it does for SysV message queues.
 * @__pad:        must be zero.
 * @name:         the mailbox name (see MSGBOX_NAME_MAX); must be empty (all
 *                zero) with MSGBOX_CREATE_ANON.
 *
 * Returns a new mailbox descriptor.  EEXIST if the name is taken; EINVAL
 * for a limit out of range or an unknown flag (every field error is
 * EINVAL).  The creator's descriptor is not checked against @mode.
 *
 * Quotas: a mailbox is charged to its owner and to the system as one
 * mailbox and @max_bytes bytes from creation until it is freed (destroyed
 * and its last descriptor closed).  ENOSPC: a system-wide limit (module
 * parameters max_mailboxes, max_total_bytes) would be exceeded.  EDQUOT:
 * the owner's quota (user_max_mailboxes, user_max_bytes) would be;
 * CAP_SYS_RESOURCE lifts the per-user quotas.
 */
struct msgbox_create {
	__u32 max_msgs;
	__u32 max_msg_size;
	__u64 max_bytes;
	__u32 fd_flags;
	__u32 flags;
	__u32 mode;
	__u32 __pad;
	char name[MSGBOX_NAME_MAX];
};

/*
 * Creation flags.
 *   EPHEMERAL  the mailbox is destroyed when its last descriptor is closed
 *              (by close(2), exit or SIGKILL alike): no stale mailboxes
 *              after a crash.
 *   ANON       the mailbox has no name: it is reachable only through the
 *              descriptor returned, shared by fork(2) or passed over a Unix
 *              socket (SCM_RIGHTS), like an eventfd.  Implies EPHEMERAL.
 *   TOPIC      publish/subscribe: a send publishes to every current
 *              subscriber (MSGBOX_IOC_SUBSCRIBE), in one order for all of
 *              them, sharing one reference-counted copy of the payload.
 *              The topic queues nothing itself: receiving from it fails
 *              with EOPNOTSUPP; a publish with no subscriber goes nowhere.
 *              Each subscription is a mailbox with the topic's limits
 *              when it was made (SETATTR on either changes that one
 *              only); topics and subscriptions always queue: a max_msgs
 *              of 0 is EINVAL for them.
 *              What a publish does when a subscriber is full:
 *   (default)    block the publisher until every subscriber has room (the
 *                publish is then delivered to all at once, or, on EAGAIN,
 *                ETIMEDOUT or EINTR, to none); EMSGSIZE, at once and to
 *                none, if a subscription's limits can never hold it;
 *   DROP_OLDEST  drop that subscriber's oldest messages to make room (none
 *                if its limits can never hold the new one, which is then
 *                dropped as with DROP_NEW);
 *   DROP_NEW     do not deliver to that subscriber.
 *              Drops are counted in both mailboxes' statistics (dropped),
 *              so a subscriber can tell it missed messages.
 */
#define MSGBOX_CREATE_EPHEMERAL		(1U << 0)
#define MSGBOX_CREATE_ANON		(1U << 1)
#define MSGBOX_CREATE_TOPIC		(1U << 2)
#define MSGBOX_CREATE_DROP_OLDEST	(1U << 3)
#define MSGBOX_CREATE_DROP_NEW		(1U << 4)
#define MSGBOX_CREATE_ALL		(MSGBOX_CREATE_EPHEMERAL | \
					 MSGBOX_CREATE_ANON | \
					 MSGBOX_CREATE_TOPIC | \
					 MSGBOX_CREATE_DROP_OLDEST | \
					 MSGBOX_CREATE_DROP_NEW)

/**
 * struct msgbox_inbox - argument of MSGBOX_IOC_OPEN_INBOX
 * @pid:        the process whose inbox to send to, in the caller's pid
 *              namespace.
 * @fd_flags:   MSGBOX_FD_SEND, optionally NONBLOCK and CLOEXEC.
 * @__reserved: must be zero.
 *
 * Direct addressing.  A process creates its personal inbox with
 * MSGBOX_IOC_INBOX (a struct msgbox_create with an empty name and flags 0:
 * limits, and a mode whose write bits say who may send; the descriptor
 * returned receives, fd_flags must not contain SEND).  Others then send
 * to "that process" through MSGBOX_IOC_OPEN_INBOX, without knowing any
 * name.  The inbox lives as long as its receiving descriptor: when the
 * process exits it goes away, senders' descriptors fail with EIDRM, and
 * opening it fails with ESRCH.  Inboxes belong to the IPC namespace they
 * were created in, as names do: from another one, OPEN_INBOX fails with
 * ESRCH.  One inbox per process (EEXIST).  Like any
 * pid, a pid can be reused once its process is gone: a sender that must
 * not reach a newcomer checks the inbox owner (MSGBOX_IOC_INFO owner_uid)
 * or keeps its descriptor open, which stays tied to the original inbox.
 */
struct msgbox_inbox {
	__s32 pid;
	__u32 fd_flags;
	__u64 __reserved;
};

#define MSGBOX_INBOX_SIZE_VER0	16

/**
 * struct msgbox_subscribe - argument of MSGBOX_IOC_SUBSCRIBE on a topic
 * @fd_flags:   MSGBOX_FD_RECV, optionally NONBLOCK and CLOEXEC (a
 *              subscription is received from, never sent to).
 * @flags:      0, or MSGBOX_MSG_EXCEPT as for a receive selector.
 * @type:       filter: only publications this selector would take are
 *              delivered (0 all; T; T with EXCEPT; -T), see msgbox_msg.
 * @__reserved: must be zero.
 *
 * Returns a descriptor of a new subscription, which receives every later
 * publication that passes the filter, in publish order.  Closing its last
 * descriptor ends the subscription.  Destroying the topic ends every
 * subscription (their receivers get EIDRM).  Needs a topic descriptor
 * opened with MSGBOX_FD_RECV; EOPNOTSUPP on a mailbox that is no topic.
 * A publish blocked on a full subscription (BLOCK policy) holds up new
 * subscriptions until it goes on; a signal ends that wait (EINTR, or a
 * restart with SA_RESTART).  Closing a subscription never waits for it.
 */
struct msgbox_subscribe {
	__u32 fd_flags;
	__u32 flags;
	__s64 type;
	__u64 __reserved[2];
};

#define MSGBOX_SUBSCRIBE_SIZE_VER0	32

#define MSGBOX_CREATE_SIZE_VER0	96

/**
 * struct msgbox_open - argument of MSGBOX_IOC_OPEN and MSGBOX_IOC_DESTROY
 * @fd_flags: OPEN: MSGBOX_FD_* for the descriptor returned; DESTROY: must be 0.
 * @flags:    OPEN: none defined yet, must be 0.  DESTROY: 0, or
 *            MSGBOX_DESTROY_UNLINK.
 * @name:     the mailbox name.
 *
 * OPEN returns a new descriptor on an existing mailbox: ENOENT if none has
 * that name, EACCES if its mode denies the access asked for.
 * DESTROY removes the name at once, wakes every sleeper with EIDRM, drops
 * the queued messages and returns 0; the memory goes when the last
 * descriptor is closed.  Only the owner may destroy (EPERM for others);
 * CAP_SYS_ADMIN overrides that, as for IPC_RMID on a SysV queue.
 * With MSGBOX_DESTROY_UNLINK it removes only the name, as mq_unlink(3)
 * does: the open descriptors go on sending and receiving, sleepers sleep
 * on, queued messages stay, and the mailbox is destroyed when its last
 * descriptor is closed.  The name is free for a new mailbox at once.
 */
struct msgbox_open {
	__u32 fd_flags;
	__u32 flags;
	char name[MSGBOX_NAME_MAX];
};

#define MSGBOX_OPEN_SIZE_VER0	72

/* MSGBOX_IOC_DESTROY flags (struct msgbox_open.flags). */
#define MSGBOX_DESTROY_UNLINK	(1U << 0)	/* remove the name only */

/*
 * Per-operation flags in struct msgbox_msg.flags.  A flag that does not
 * apply to the operation fails with EINVAL.
 *
 *   NONBLOCK  fail with EAGAIN instead of sleeping.
 *   TIMEOUT   timeout_ns bounds the wait (see struct msgbox_msg).
 *   ABSTIME   timeout_ns is a deadline, on CLOCK_MONOTONIC ...
 *   REALTIME  ... or on CLOCK_REALTIME (only with ABSTIME).
 *   PEEK      recv: copy the message out but leave it queued.
 *   TRUNC     recv: take a message larger than the buffer, copying what
 *             fits; len reports the full length.
 *   EXCEPT    recv: a type T > 0 selects any type but T.
 *   ACK       recv: acknowledged delivery.  The message stays in flight,
 *             held by this open file, until MSGBOX_IOC_ACK acknowledges it
 *             by id (then it is gone) or negatively (MSGBOX_ACK_NACK: it is
 *             redelivered at once).  If the file is closed first (close,
 *             exit, SIGKILL), every message in flight is redelivered to
 *             other receivers in its original place, its deliveries count
 *             one higher.  A message delivered max_deliveries times (see
 *             MSGBOX_IOC_SETATTR) goes to the dead-letter mailbox instead,
 *             or is dropped (counted in dropped) if there is none.
 *             A message in flight holds its room in the mailbox, so a
 *             mailbox of capacity 0 (a rendezvous channel) refuses ACK
 *             with EINVAL.
 *   FROM      recv: take only messages sent by the process whose pid (in
 *             the caller's pid namespace) is in sender_pid on input
 *             (ESRCH if there is no such process): symmetric addressing.
 *   TRACK     send: keep the message's delivery status for
 *             MSGBOX_IOC_STATUS on this open file (at most
 *             MSGBOX_TRACK_MAX at a time: ENOBUFS beyond).
 *   WAIT_ACK  send: return only once the message was acknowledged (or
 *             received without ack mode): 0; EPIPE if it was
 *             dead-lettered instead, ETIME if its time to live ran out,
 *             EIDRM if the mailbox was destroyed.  ETIMEDOUT or EINTR if
 *             the sender stops waiting first: the message goes on.
 *   RING      recv: only while the mailbox's receive ring holds no record
 *             (EAGAIN otherwise, waiting or not): how the ring's consumer
 *             takes, in order, a message the ring cannot hold.
 *   POLL      send, recv and a call's request: before sleeping for room, a
 *             message or the reply, busy-poll for up to the module's
 *             poll_ns parameter (default 50 us, 0 turns it off), and only
 *             while the CPU has nothing else to run, as KVM's halt polling
 *             does.  What comes meanwhile (from a peer on another CPU) is
 *             taken without a sleep and its wake-up: shorter round trips
 *             across CPUs for the CPU time polled.  Results and errors
 *             are those of the same wait without it.
 *   SYNC      send: rendezvous; return only once a receiver has taken
 *             this message.  If the send fails instead (ETIMEDOUT,
 *             EINTR, EIDRM, or EAGAIN with NONBLOCK when no receiver is
 *             waiting), the message is withdrawn: no receiver ever sees it.
 */
#define MSGBOX_MSG_NONBLOCK	(1U << 0)
#define MSGBOX_MSG_TIMEOUT	(1U << 1)
#define MSGBOX_MSG_ABSTIME	(1U << 2)
#define MSGBOX_MSG_REALTIME	(1U << 3)
#define MSGBOX_MSG_PEEK		(1U << 4)
#define MSGBOX_MSG_TRUNC	(1U << 5)
#define MSGBOX_MSG_EXCEPT	(1U << 6)
#define MSGBOX_MSG_SYNC		(1U << 7)
#define MSGBOX_MSG_FROM		(1U << 8)
#define MSGBOX_MSG_ACK		(1U << 9)
#define MSGBOX_MSG_TRACK	(1U << 10)
#define MSGBOX_MSG_WAIT_ACK	(1U << 11)
#define MSGBOX_MSG_RING		(1U << 12)
#define MSGBOX_MSG_POLL		(1U << 13)
#define MSGBOX_MSG_WAIT_FLAGS	(MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_TIMEOUT | \
				 MSGBOX_MSG_ABSTIME | MSGBOX_MSG_REALTIME | \
				 MSGBOX_MSG_POLL)
#define MSGBOX_MSG_SEND_FLAGS	(MSGBOX_MSG_WAIT_FLAGS | MSGBOX_MSG_SYNC | \
				 MSGBOX_MSG_TRACK | MSGBOX_MSG_WAIT_ACK)
#define MSGBOX_MSG_RECV_FLAGS	(MSGBOX_MSG_WAIT_FLAGS | MSGBOX_MSG_PEEK | \
				 MSGBOX_MSG_TRUNC | MSGBOX_MSG_EXCEPT | \
				 MSGBOX_MSG_FROM | MSGBOX_MSG_ACK | \
				 MSGBOX_MSG_RING)
#define MSGBOX_MSG_ALL		(MSGBOX_MSG_SEND_FLAGS | MSGBOX_MSG_RECV_FLAGS)

/* Message types are positive; write(2) sends MSGBOX_TYPE_DEFAULT. */
#define MSGBOX_TYPE_DEFAULT	1

/* Priorities run from 0 to MSGBOX_PRIO_MAX; higher is received first. */
#define MSGBOX_PRIO_MAX		32767

/**
 * struct msgbox_msg - argument of MSGBOX_IOC_SEND and MSGBOX_IOC_RECV
 * @data:         user address of the payload (send) or of the buffer (recv).
 * @len:          send: payload length in bytes (0 is a valid, empty message).
 *                recv: in, size of the buffer; out, length of the message
 *                (larger than the buffer only with MSGBOX_MSG_TRUNC, and
 *                then only the buffer's size was copied).
 * @type:         send: message type, >= 1.  recv in: the selector, SysV
 *                msgrcv(2) style:
 *                  0      the first message of any type;
 *                  T > 0  the first message of type T, or with
 *                         MSGBOX_MSG_EXCEPT the first of any other type;
 *                  T < 0  the first message of the lowest type <= |T|.
 *                "First" is highest priority first, then oldest first.
 *                recv out: the message's type.
 * @priority:     send: 0 to MSGBOX_PRIO_MAX.  recv out: the priority.
 * @flags:        in: MSGBOX_MSG_*.  The descriptor's O_NONBLOCK also applies.
 * @timeout_ns:   with MSGBOX_MSG_TIMEOUT: the longest wait in nanoseconds,
 *                or with MSGBOX_MSG_ABSTIME the deadline on CLOCK_MONOTONIC
 *                (CLOCK_REALTIME with MSGBOX_MSG_REALTIME).  A relative 0
 *                tries once (EAGAIN); an expired deadline tries once and
 *                then fails with ETIMEDOUT.  Must be 0 without
 *                MSGBOX_MSG_TIMEOUT.
 * @id:           out: the message's id, unique in the mailbox, increasing in
 *                the order messages are accepted.
 * @send_time_ns: recv out: CLOCK_REALTIME of the send, in nanoseconds.
 * @sender_pid:   recv out: thread-group id of the sender, in the receiver's
 *                pid namespace (0 if not visible there).  recv in, with
 *                MSGBOX_MSG_FROM: the only sender to take messages from.
 * @sender_tid:   recv out: thread id of the sender, as @sender_pid.
 * @sender_uid:   recv out: effective uid of the sender, in the receiver's user
 *                namespace.  Stamped by the kernel: a sender cannot forge it.
 * @sender_gid:   recv out: effective gid of the sender, as @sender_uid.
 * @__reserved:   must be zero on input; zero on output.
 * @token:        recv out: non-zero if the message is a request sent by
 *                MSGBOX_IOC_CALL: pass it to MSGBOX_IOC_REPLY on this same
 *                open file (descriptors duplicated by dup(2) or fork(2)
 *                share it) to answer exactly that caller.  send: must be
 *                0.  REPLY in: the token being answered.
 *
 * @deliveries:   recv out: how many times this message was delivered, this
 *                time included: above 1 it is a redelivery (acknowledged
 *                delivery, see MSGBOX_MSG_ACK).  The count goes on in a
 *                dead-letter mailbox.
 * @__pad:        must be zero on input; zero on output.
 * @ttl_ns:       send (and a call's request): time to live in nanoseconds,
 *                0 for unlimited.  A message still queued when it runs out
 *                is discarded unseen (counted in expired); a rendezvous
 *                sender then gets ETIMEDOUT, a caller ETIMEDOUT.  Expired
 *                messages are removed when a receive looks, so poll may
 *                still report one as readable.
 *
 * SEND returns 0 and writes @id back; RECV returns 0 and fills the out fields.
 * Fields documented as out-only are ignored on input.
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
	__u64 token;
	__u32 deliveries;
	__u32 __pad;
	__u64 ttl_ns;
};

#define MSGBOX_MSG_SIZE_VER0	112

/**
 * struct msgbox_call - argument of MSGBOX_IOC_CALL (request/reply)
 * @request: in: data, len, type, priority, and flags among TIMEOUT,
 *           ABSTIME, REALTIME with timeout_ns, which bound the whole call
 *           (queueing and waiting for the reply), and POLL (for room and
 *           for the reply); NONBLOCK and SYNC are
 *           refused (EINVAL) and the descriptor's O_NONBLOCK does not
 *           apply: a call is a blocking operation.  out: id.
 * @reply:   in: data and len (the buffer for the reply; replies are
 *           limited to the smaller of len and the mailbox's max_msg_size);
 *           flags, token, __reserved, __pad and ttl_ns must be 0.
 *           out: len, type, priority, id (0), deliveries (1),
 *           send_time_ns and the replier's credentials.
 *
 * Sends the request and sleeps until a server that received it answers
 * with MSGBOX_IOC_REPLY; the reply goes to this calling thread only, never
 * into the mailbox.  Returns 0, or: ETIMEDOUT; on a signal before any
 * receive took the request, the queued request is discarded unseen and,
 * where a receive would restart (SA_RESTART or a stop, no relative
 * timeout), the call restarts, sending it anew, else fails with EINTR;
 * once one took it, EINTR, even after a stop and continue, as semop(2)
 * (a restart would send it twice; the server's late reply fails with
 * EPIPE); ECONNRESET if the server's
 * descriptor was closed (or the server exited) without replying, or the
 * request was taken with read(2), which cannot reply; EIDRM if the mailbox
 * was destroyed while the request was queued; the errors of SEND.  A
 * caller that gives up leaves its request to be discarded unseen if still
 * queued, and the server's later REPLY fails with EPIPE.
 */
struct msgbox_call {
	struct msgbox_msg request;
	struct msgbox_msg reply;
};

#define MSGBOX_CALL_SIZE_VER0	224

/**
 * struct msgbox_reply_recv - argument of MSGBOX_IOC_REPLY_RECV
 * @reply: in: the answer, as MSGBOX_IOC_REPLY takes it (token, data, len,
 *         type, priority; flags, timeout_ns, __reserved, __pad and ttl_ns
 *         0), or a token of 0 to answer nothing (data, len, type and
 *         priority are then not looked at).  out: token is set to 0 once
 *         the reply was delivered.
 * @recv:  as the argument of MSGBOX_IOC_RECV, in and out.
 *
 * A server's loop in one system call per request: answer the request
 * just handled, then receive the next message.  Both halves are checked
 * before either acts (EINVAL, EBADF, ESRCH as REPLY and RECV give them).
 * If the reply fails (ENOENT, EPIPE, EMSGSIZE, EFAULT as REPLY gives them),
 * nothing is received and @reply.token keeps its value; once @reply.token
 * reads 0, the reply went and an error is the receive's.  A receive
 * interrupted by a signal restarts (where RECV would) as a receive alone.
 * The token's field is checked writable before the reply goes: EFAULT
 * with the token still set, after the reply went, comes only from another
 * thread unmapping or protecting the structure meanwhile.  Through
 * io_uring it answers at issue and receives as MSGBOX_IOC_RECV does there
 * (see struct msgbox_uring_cmd).
 */
struct msgbox_reply_recv {
	struct msgbox_msg reply;
	struct msgbox_msg recv;
};

#define MSGBOX_REPLY_RECV_SIZE_VER0	224

/* Buckets of struct msgbox_info.lat_hist. */
#define MSGBOX_LAT_BUCKETS	32

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
 * @send_waiters: tasks sleeping in send now (for room, or for a receiver
 *                to take a rendezvous message).
 * @name:         the mailbox name ("" if anonymous).
 * @owner_uid:    owner, in the caller's user namespace.
 * @owner_gid:    owner's group, in the caller's user namespace.
 * @mode:         permission bits.
 * @flags:        MSGBOX_CREATE_* it was created with (ANON implies
 *                EPHEMERAL, so both are reported).
 * @dead_lettered: messages moved to the dead-letter mailbox.
 * @redelivered:  messages put back for redelivery (NACK, or a receiver's
 *                file closed with them in flight).
 * @in_flight:    messages received with MSGBOX_MSG_ACK, not yet acked.
 * @max_deliveries: see struct msgbox_setattr.
 * @expired:      messages discarded because their time to live ran out.
 * @ack_timeout_ns: see struct msgbox_setattr.
 * @inbox_pid:    for a process's inbox, that process, in the caller's pid
 *                namespace (0 for other mailboxes).
 * @__pad4:       zero.
 * @hwm_msgs:     most messages ever queued at once.
 * @last_send_pid: thread-group id, in the caller's pid namespace, of the
 *                last sender (0 if none, or no longer visible).
 * @hwm_bytes:    most payload bytes ever queued at once.
 * @timed_out:    sends and receives that ended in ETIMEDOUT.
 * @rejected:     non-blocking sends refused for want of room (EAGAIN).
 *                Invalid sends (EMSGSIZE, EINVAL...) change nothing, not
 *                even this counter.
 * @ctime_ns:     creation time, CLOCK_REALTIME nanoseconds.
 * @last_send_ns: time of the last accepted message (0 if none), ditto.
 * @last_recv_ns: time of the last receive (0 if none), ditto.
 * @last_recv_pid: thread-group id of the last receiver, as @last_send_pid.
 * @__pad2:       zero.
 * @lat_p50_ns:   queueing latency (send accepted to message taken): the
 * @lat_p90_ns:   upper bounds of the @lat_hist buckets holding the 50th,
 * @lat_p99_ns:   90th and 99th percentiles; 0 before the first receive.
 * @dropped:      messages dropped by a topic's DROP_OLDEST or DROP_NEW
 *                policy: for a topic, over all its subscriptions; for a
 *                subscription, those it missed.
 * @subscribers:  a topic's current subscriptions.
 * @__pad3:       zero.
 * @lat_hist:     log2 histogram of queueing latency: bucket 0 counts
 *                latencies under 1 ns (a direct hand-over to a sleeping
 *                receiver, never queued, counts there), bucket i >= 1 those
 *                in [2^(i-1), 2^i) ns, and the last bucket everything from
 *                2^(MSGBOX_LAT_BUCKETS-2) ns (about 1 s) up.
 * @direct:       messages copied straight from the sender's buffer into
 *                that of a receiver already waiting, or into a
 *                MSGBOX_RING_LARGE receive ring, with no kernel copy
 *                between (messages of 16 KiB and more, sent plainly,
 *                received by MSGBOX_IOC_RECV, read(2), a receive batch or
 *                the ring).  Not in the first
 *                version of this structure (MSGBOX_INFO_SIZE_VER0).
 * @notify_pid:   the process registered by MSGBOX_IOC_NOTIFY, in the
 *                caller's pid namespace (0 if none, or not visible there),
 *                as NOTIFY_PID in a /dev/mqueue file: who holds the
 *                registration that makes another one fail with EBUSY.
 *                Not in the first two versions (MSGBOX_INFO_SIZE_VER1).
 * @__pad5:       zero.
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
	__u32 owner_uid;
	__u32 owner_gid;
	__u32 mode;
	__u32 flags;
	__u32 hwm_msgs;
	__s32 last_send_pid;
	__u64 hwm_bytes;
	__u64 timed_out;
	__u64 rejected;
	__u64 ctime_ns;
	__u64 last_send_ns;
	__u64 last_recv_ns;
	__s32 last_recv_pid;
	__u32 __pad2;
	__u64 lat_p50_ns;
	__u64 lat_p90_ns;
	__u64 lat_p99_ns;
	__u64 dropped;
	__u32 subscribers;
	__u32 __pad3;
	__s32 inbox_pid;
	__u32 __pad4;
	__u64 dead_lettered;
	__u64 redelivered;
	__u32 in_flight;
	__u32 max_deliveries;
	__u64 expired;
	__u64 ack_timeout_ns;
	__u64 lat_hist[MSGBOX_LAT_BUCKETS];
	__u64 direct;
	__s32 notify_pid;
	__u32 __pad5;
};

#define MSGBOX_INFO_SIZE_VER0	544
#define MSGBOX_INFO_SIZE_VER1	552	/* adds @direct */
#define MSGBOX_INFO_SIZE_VER2	560	/* adds @notify_pid */

/**
 * struct msgbox_setattr - argument of MSGBOX_IOC_SETATTR
 * @mask:         MSGBOX_SETATTR_* saying which of the fields below apply.
 * @mode:         new permission bits (MSGBOX_SETATTR_MODE), 0 to 0777.
 * @max_deliveries: with MSGBOX_SETATTR_DEAD_LETTER: deliveries after which
 *                an unacknowledged message is dead-lettered (0: never).
 * @dead_letter_fd: with MSGBOX_SETATTR_DEAD_LETTER: a descriptor of the
 *                mailbox that receives dead letters (opened with
 *                MSGBOX_FD_SEND), or -1 for none.  It must be another
 *                mailbox, not a topic, with no dead-letter mailbox of
 *                its own (so no chain can loop): EINVAL otherwise.  Dead
 *                letters keep their senders' credentials, so the caller
 *                must own that mailbox too, or have CAP_SYS_ADMIN (EPERM
 *                otherwise): write access to it is not enough.  A dead
 *                letter larger than its max_msg_size, or finding it full,
 *                is dropped (counted in dropped).
 * @ack_timeout_ns: with MSGBOX_SETATTR_ACK_TIMEOUT: how long a message
 *                received with MSGBOX_MSG_ACK may stay unsettled before it
 *                is redelivered, for messages received (or extended) from
 *                then on; 0 for no limit.  Huge values saturate: they mean
 *                "practically never", not a wrapped, past deadline.
 * @max_msgs:     new limits (MSGBOX_SETATTR_LIMITS), within the same bounds
 * @max_msg_size: as at creation.  They apply to later sends: messages
 * @max_bytes:    already queued stay, even above a lowered limit.
 *
 * Only the owner, or a caller with CAP_SYS_ADMIN, may change attributes
 * (EPERM otherwise).  Nothing changes unless every field is valid.  A
 * larger @max_bytes is charged like a creation (EDQUOT, ENOSPC).
 */
struct msgbox_setattr {
	__u32 mask;
	__u32 mode;
	__u32 max_msgs;
	__u32 max_msg_size;
	__u64 max_bytes;
	__u32 max_deliveries;
	__s32 dead_letter_fd;
	__u64 ack_timeout_ns;
};

#define MSGBOX_SETATTR_SIZE_VER0	40

#define MSGBOX_SETATTR_MODE		(1U << 0)
#define MSGBOX_SETATTR_LIMITS		(1U << 1)
#define MSGBOX_SETATTR_DEAD_LETTER	(1U << 2)
#define MSGBOX_SETATTR_ACK_TIMEOUT	(1U << 3)
#define MSGBOX_SETATTR_ALL		(MSGBOX_SETATTR_MODE | \
					 MSGBOX_SETATTR_LIMITS | \
					 MSGBOX_SETATTR_DEAD_LETTER | \
					 MSGBOX_SETATTR_ACK_TIMEOUT)

/**
 * struct msgbox_ack - argument of MSGBOX_IOC_ACK
 * @id:       the id of a message this open file received with
 *            MSGBOX_MSG_ACK and holds in flight.
 * @flags:    0 to acknowledge (the message is gone), MSGBOX_ACK_NACK to
 *            have it redelivered at once, MSGBOX_ACK_EXTEND to keep it in
 *            flight and restart its ack deadline (for a receiver still
 *            working on it).
 * @__pad:    must be zero.
 *
 * Returns 0, or ENOENT if this open file holds no such message in flight.
 */
struct msgbox_ack {
	__u64 id;
	__u32 flags;
	__u32 __pad;
};

#define MSGBOX_ACK_SIZE_VER0	16

/* Entries one batch may hold. */
#define MSGBOX_BATCH_MAX	1024

/**
 * struct msgbox_batch - argument of MSGBOX_IOC_SEND_BATCH / RECV_BATCH
 * @msgs:       user address of an array of @count struct msgbox_msg, each
 *              @msg_size bytes apart; each entry is handled exactly as
 *              MSGBOX_IOC_SEND or MSGBOX_IOC_RECV would handle it, in
 *              array order, its results written back into it.
 * @count:      entries, 1 to MSGBOX_BATCH_MAX.
 * @msg_size:   sizeof(struct msgbox_msg) as the caller knows it (at least
 *              MSGBOX_MSG_SIZE_VER0, at most the page size).
 * @done:       in: 0; out: entries done.
 * @error:      in: 0; out: 0, or the negative errno of entry @done, which
 *              stopped the batch.
 * @__reserved: must be zero.
 *
 * Like sendmmsg(2)/recvmmsg(2): the call returns the number of entries
 * done, or fails with the first entry's errno if none was.  A receive
 * batch takes what is ready: only its first entry waits (as its flags
 * say), the others stop the batch quietly when nothing more is queued.
 * A signal after the first entry ends the batch early (error EINTR).
 */
struct msgbox_batch {
	__u64 msgs;
	__u32 count;
	__u32 msg_size;
	__u32 done;
	__s32 error;
	__u64 __reserved;
};

#define MSGBOX_BATCH_SIZE_VER0	32

/*
 * Receive rings.  A receiving descriptor may map a ring into its process
 * (MSGBOX_IOC_RING_SETUP, then mmap(2) of the ring descriptor it returns).
 * From then on the kernel writes the messages the ring selects straight
 * into it as they are sent, and the process reads them there without a
 * system call per message.  The ring is one receiver of the mailbox, whose
 * buffer happens to be shared: messages reach it in the order a receive
 * would take them, once it has room, as to any waiting receiver, and a
 * message in the ring is received (counted in received, gone from the
 * mailbox, its rendezvous sender released).  Other descriptors may still
 * receive from the same mailbox; they compete with the ring as receivers
 * do with each other.
 *
 * A message the ring cannot hold stays queued, and so does every later one
 * the ring selects: a request of MSGBOX_IOC_CALL (its answer needs a
 * token), a tracked message (MSGBOX_MSG_TRACK), or a message larger than
 * the ring, or larger than MSGBOX_RING_MSG_MAX.  So does every message
 * while the ring is full.  A ring set up with MSGBOX_RING_LARGE also takes
 * larger ones, up to its size, from a plain MSGBOX_IOC_SEND, batch entry
 * or write(2) made while the ring is next in line and has room: copied
 * from the sender's memory with no lock held.  Until that record is
 * complete nothing else enters the ring, and what is sent meanwhile
 * waits in line behind it.  The consumer takes them in order with
 * MSGBOX_IOC_RING_ENTER, which moves what now fits into the ring, and
 * MSGBOX_IOC_RECV (on the mailbox descriptor) with the ring's selector,
 * which takes the message at the head of the line that the ring cannot
 * hold.
 *
 * Protocol, for the consumer (libmsgbox's msgbox_ring_* do all of it):
 *  1. Load the tail with acquire semantics.  While head != tail, the record
 *     at data + (head & (size - 1)) is complete: read it, then store head +
 *     record size into the head with release semantics.  A record with
 *     MSGBOX_RING_PAD only skips to the start of the data area.
 *  2. When the ring is empty, MSGBOX_IOC_RING_ENTER (which also tells
 *     the senders of a rendezvous channel, polling for POLLOUT, that the
 *     ring has room again).  If it moved nothing
 *     and reported MSGBOX_RING_RECV, MSGBOX_IOC_RECV (non-blocking, with
 *     MSGBOX_MSG_RING and the ring's selector) takes the message next in
 *     line, which the ring cannot hold (later ones queue behind it until
 *     then; should it be gone meanwhile and a later one have gone into
 *     the ring, MSGBOX_MSG_RING makes the receive fail with EAGAIN: read
 *     the ring first).  Otherwise
 *     poll(2) the ring descriptor for POLLIN, which reports a non-empty
 *     ring or a message the ring selects waiting (queued, or a sender's
 *     asleep for room), and start again.  While a MSGBOX_RING_LARGE record
 *     is being copied in, neither those nor a destroy (POLLHUP, EIDRM) are
 *     reported: the record comes first, and its end wakes the poller.
 * Positions (head, tail) count bytes from 0 and wrap at 2^32; records
 * start MSGBOX_RING_ALIGN-aligned and never wrap around the end of the data
 * area.  The kernel only reads the head, and only to know how much room
 * there is: a consumer that writes anything else there harms only its own
 * ring (a head that claims more room than the ring has stops deliveries to
 * it, and messages queue instead).
 *
 * The ring lives as long as its descriptor and mappings: there is no
 * detach but close(2) and munmap(2), and messages still in the ring then
 * are lost, as those in any receiver's buffer.  One ring per mailbox.
 */

/**
 * struct msgbox_ring_setup - argument of MSGBOX_IOC_RING_SETUP
 * @size:        in: bytes of the data area, a power of two from the page
 *               size to MSGBOX_RING_SIZE_MAX and at most the module's
 *               max_mailbox_bytes parameter.  The whole mapping (header
 *               page and data) is charged to the caller's quota as
 *               max_bytes is (ENOSPC, EDQUOT), and its memory to the
 *               caller's memory cgroup.
 * @flags:       in: 0 or MSGBOX_MSG_EXCEPT, with @type, as for a receive;
 *               and MSGBOX_RING_LARGE: records up to the ring's size (the
 *               consumer's buffers must allow for them), see above.
 * @type:        in: the ring's selector, as struct msgbox_msg.type of a
 *               receive (0: every message).
 * @mmap_size:   out: length to mmap(2) at offset 0, shared.
 * @head_offset: out: offset in the mapping of the __u32 head (consumer's).
 * @tail_offset: out: offset of the __u32 tail (kernel's).
 * @data_offset: out: offset of the data area.
 * @fd_flags:    in: 0 or MSGBOX_FD_CLOEXEC, for the ring descriptor.
 * @__reserved:  must be zero.
 *
 * On a descriptor opened for receiving (EBADF otherwise); not on a topic
 * (EOPNOTSUPP).  Returns a new ring descriptor: mmap(2) it (MAP_SHARED,
 * read and write, offset 0), poll(2) it, and issue MSGBOX_IOC_RING_ENTER
 * on it.  It keeps the mailbox's memory, not the mailbox itself: once the
 * mailbox is destroyed, poll reports POLLHUP and RING_ENTER fails with
 * EIDRM, while the records already in the ring stay readable.
 * EBUSY if the mailbox has a ring already; EIDRM if it was destroyed;
 * EINVAL for any field out of range (out fields must be zero on entry).
 */
struct msgbox_ring_setup {
	__u32 size;
	__u32 flags;
	__s64 type;
	__u64 mmap_size;
	__u32 head_offset;
	__u32 tail_offset;
	__u32 data_offset;
	__u32 fd_flags;
	__u64 __reserved[2];
};

#define MSGBOX_RING_SETUP_SIZE_VER0	56
#define MSGBOX_RING_SIZE_MAX		(1U << 30)
#define MSGBOX_RING_ALIGN		8
/*
 * The largest payload a ring takes (records are copied under a lock), but
 * for MSGBOX_RING_LARGE's.
 */
#define MSGBOX_RING_MSG_MAX		(64 * 1024)

/*
 * struct msgbox_ring_setup.flags: records larger than MSGBOX_RING_MSG_MAX, up
 * to the ring's size, for plain sends straight from a sender's memory.
 */
#define MSGBOX_RING_LARGE	(1U << 31)

/* MSGBOX_IOC_RING_ENTER's report: a receive must take the next message. */
#define MSGBOX_RING_RECV	(1U << 0)

/* struct msgbox_ring_msg.flags */
#define MSGBOX_RING_PAD		(1U << 0)	/* no message: skip to the start */

/**
 * struct msgbox_ring_msg - one record in a receive ring
 * @size:         bytes of the record, header and payload, padded to
 *                MSGBOX_RING_ALIGN: add it to head to consume the record.
 * @flags:        MSGBOX_RING_*.  With MSGBOX_RING_PAD only @size is valid.
 * @len:          payload length; the payload follows this header.
 * @priority:     the message's priority.
 * @type:         its type.
 * @id:           its id in the mailbox.
 * @send_time_ns: CLOCK_REALTIME when it was sent (the entries of one
 *                batch that go into the ring together share one).
 * @sender_pid:   sender's process, in the pid namespace of the task that
 *                set the ring up (0 if not visible there).
 * @sender_tid:   sender's thread, likewise.
 * @sender_uid:   sender's effective uid, in the user namespace of the task
 *                that set the ring up.
 * @sender_gid:   sender's effective gid, likewise.
 * @deliveries:   times it was delivered, this time included (more than 1
 *                for a message redelivered after a NACK or timeout).
 * @__pad:        zero.
 */
struct msgbox_ring_msg {
	__u32 size;
	__u32 flags;
	__u32 len;
	__u32 priority;
	__s64 type;
	__u64 id;
	__u64 send_time_ns;
	__s32 sender_pid;
	__s32 sender_tid;
	__u32 sender_uid;
	__u32 sender_gid;
	__u32 deliveries;
	__u32 __pad;
};

/* Delivery statuses, see MSGBOX_IOC_STATUS. */
#define MSGBOX_STATUS_PENDING		1	/* queued */
#define MSGBOX_STATUS_DELIVERED		2	/* in flight, not acked yet */
#define MSGBOX_STATUS_ACKED		3	/* acked, or received: final */
#define MSGBOX_STATUS_DEAD_LETTER	4	/* dead-lettered or dropped: final */
#define MSGBOX_STATUS_EXPIRED		5	/* time to live ran out: final */
#define MSGBOX_STATUS_DESTROYED		6	/* mailbox destroyed: final */

/* Tracked messages one open file may hold statuses for. */
#define MSGBOX_TRACK_MAX		4096

/**
 * struct msgbox_status - argument of MSGBOX_IOC_STATUS
 * @id:     in: the id of a message sent with MSGBOX_MSG_TRACK through
 *          this open file.
 * @status: out: MSGBOX_STATUS_*.  Once a final status has been read the
 *          message is no longer tracked (a later query: ENOENT).
 * @__pad:  must be zero.
 *
 * Returns 0, or ENOENT if this open file tracks no such message.
 */
struct msgbox_status {
	__u64 id;
	__u32 status;
	__u32 __pad;
};

#define MSGBOX_STATUS_SIZE_VER0	16

/* How MSGBOX_IOC_NOTIFY notifies (struct msgbox_notify.how). */
#define MSGBOX_NOTIFY_OFF	0	/* remove the caller's registration */
#define MSGBOX_NOTIFY_NONE	1	/* register, but signal nothing */
#define MSGBOX_NOTIFY_EVENTFD	2	/* register, and signal @efd */

/**
 * struct msgbox_notify - argument of MSGBOX_IOC_NOTIFY
 * @how: MSGBOX_NOTIFY_*.
 * @efd: MSGBOX_NOTIFY_EVENTFD: an eventfd(2) descriptor of the caller, to
 *       which the notification adds 1 (the mailbox holds a reference to
 *       the eventfd while registered); otherwise must be 0.
 *
 * What mq_notify(3) is to a POSIX queue.  NONE and EVENTFD register the
 * calling process for one notification: when a message is queued while
 * the mailbox is empty, that is when it arrives and no waiting receiver
 * takes it at once (waiting receivers come first), or when a message is
 * put back into an empty mailbox for redelivery.  Then the registration
 * ends, after signalling @efd for EVENTFD (NONE only ends it).  It also
 * ends when the process removes it (OFF), when the process closes any
 * descriptor of the mailbox (close(2), exit), or when the mailbox is
 * destroyed.  The eventfd suits an event loop; a library can raise a
 * signal or start a thread from it, as mq_notify's SIGEV_SIGNAL and
 * SIGEV_THREAD ask.
 *
 * Needs a receiving descriptor (EBADF otherwise).  One process at a time
 * may be registered on a mailbox: EBUSY while one is, even for itself.
 * OFF fails with ENOENT if the caller is not the one registered (the
 * registration may have fired already).  EINVAL for an unknown @how or a
 * non-zero @efd without EVENTFD; EBADF or EINVAL if @efd is not an open
 * descriptor, or not an eventfd; EOPNOTSUPP on a topic (it queues
 * nothing: register on a subscription); EIDRM once destroyed.
 */
struct msgbox_notify {
	__u32 how;
	__s32 efd;
};

#define MSGBOX_NOTIFY_SIZE_VER0	8
#define MSGBOX_ACK_NACK		(1U << 0)
#define MSGBOX_ACK_EXTEND	(1U << 1)

/**
 * struct msgbox_uring_cmd - payload of an IORING_OP_URING_CMD on a mailbox
 * @arg:   the user address of the command's argument: the structure its
 *         ioctl takes (struct msgbox_msg for MSGBOX_IOC_SEND, _RECV and
 *         _REPLY, struct msgbox_reply_recv for _REPLY_RECV, struct
 *         msgbox_call for _CALL, struct msgbox_ack for _ACK, struct
 *         msgbox_batch for the batches); 0 for MSGBOX_UCMD_CANCEL.
 * @tag:   MSGBOX_IOC_RECV, MSGBOX_IOC_REPLY_RECV and MSGBOX_IOC_CALL: a
 *         caller-chosen tag naming the command for MSGBOX_UCMD_CANCEL;
 *         MSGBOX_UCMD_CANCEL: the tag to cancel; 0 for the other
 *         commands.
 * @__pad: must be zero.
 *
 * It fills the 16 command bytes of a normal 64-byte SQE (sqe->cmd); no
 * IORING_SETUP_SQE128 is needed.  sqe->cmd_op is the ioctl number itself
 * (its size field gives the argument's size, as for the ioctl), and the
 * command does what that ioctl does, asynchronously:
 *
 *   MSGBOX_IOC_RECV   completes with the message's length (and the
 *                     struct msgbox_msg filled in as the ioctl fills it).
 *                     With nothing to take it is parked, holding no
 *                     thread, until a message arrives; then it completes
 *                     in the submitting task.  MSGBOX_MSG_NONBLOCK (or a
 *                     relative timeout of 0) completes with -EAGAIN
 *                     instead; a timeout (relative, or absolute on either
 *                     clock) ends it with -ETIMEDOUT, to the jiffy after
 *                     the deadline, never before.  A parked receive
 *                     completes with -EIDRM when the mailbox is
 *                     destroyed, and with -ECANCELED when cancelled, when
 *                     its ring is closed or its task exits (the message it
 *                     may have been handed goes back to the mailbox).
 *   MSGBOX_IOC_REPLY_RECV
 *                     answers at issue, as the ioctl does (its token
 *                     cleared once the reply went; a failed reply
 *                     completes with its error, receiving nothing), then
 *                     receives as MSGBOX_IOC_RECV does here, parked if
 *                     need be: a server loop in one SQE per request.
 *   MSGBOX_IOC_CALL   sends the request at once (never waiting for room:
 *                     -EAGAIN), then stays parked until the reply comes
 *                     and completes with the reply's length (struct
 *                     msgbox_call filled in as the ioctl fills it), or with
 *                     the call's error (-ECONNRESET, -EIDRM, -ETIMEDOUT
 *                     for a request whose ttl_ns ran out).  A timeout
 *                     on the request bounds the wait for the reply as for
 *                     the ioctl (-ETIMEDOUT); it can also be cancelled
 *                     like a receive.  Either way a reply that comes later
 *                     fails with EPIPE.
 *   MSGBOX_IOC_SEND   completes with 0 once queued or handed over, never
 *                     waits: a full mailbox gives -EAGAIN; a
 *                     MSGBOX_MSG_SYNC send succeeds only if a receiver
 *                     waits; MSGBOX_MSG_WAIT_ACK is refused (-EINVAL).
 *   MSGBOX_IOC_REPLY, MSGBOX_IOC_ACK
 *                     as the ioctls.
 *   MSGBOX_IOC_SEND_BATCH, MSGBOX_IOC_RECV_BATCH
 *                     as the ioctls, never waiting (a receive batch takes
 *                     what is ready, or completes with -EAGAIN).
 *   MSGBOX_UCMD_CANCEL
 *                     completes every receive or call parked on this open
 *                     file with @tag with -ECANCELED; its own result is
 *                     how many.
 *
 * Any other cmd_op completes with -EOPNOTSUPP (-EINVAL if @tag is not 0:
 * probe with a tag of 0); IORING_SETUP_IOPOLL rings
 * are refused likewise.  Kernels: 6.1 (Debian's, >= 6.1.23) and 6.12 both
 * park receives; on 6.12 io_uring itself cancels them at ring or task
 * exit, on 6.1 the module notices within about a tenth of a second.
 */
struct msgbox_uring_cmd {
	__u64 arg;
	__u32 tag;
	__u32 __pad;
};

#define MSGBOX_IOC_MAGIC	0xB9

/* On /dev/msgbox. */
#define MSGBOX_IOC_VERSION	_IO(MSGBOX_IOC_MAGIC, 0x00)	/* returns MSGBOX_ABI_VERSION */
#define MSGBOX_IOC_CREATE	_IOW(MSGBOX_IOC_MAGIC, 0x01, struct msgbox_create)
#define MSGBOX_IOC_OPEN		_IOW(MSGBOX_IOC_MAGIC, 0x02, struct msgbox_open)
#define MSGBOX_IOC_DESTROY	_IOW(MSGBOX_IOC_MAGIC, 0x03, struct msgbox_open)
#define MSGBOX_IOC_INBOX	_IOW(MSGBOX_IOC_MAGIC, 0x04, struct msgbox_create)
#define MSGBOX_IOC_OPEN_INBOX	_IOW(MSGBOX_IOC_MAGIC, 0x05, struct msgbox_inbox)

/* On a mailbox descriptor. */
#define MSGBOX_IOC_SEND		_IOWR(MSGBOX_IOC_MAGIC, 0x20, struct msgbox_msg)
#define MSGBOX_IOC_RECV		_IOWR(MSGBOX_IOC_MAGIC, 0x21, struct msgbox_msg)
#define MSGBOX_IOC_INFO		_IOR(MSGBOX_IOC_MAGIC, 0x22, struct msgbox_info)
#define MSGBOX_IOC_SETATTR	_IOW(MSGBOX_IOC_MAGIC, 0x23, struct msgbox_setattr)
#define MSGBOX_IOC_CALL		_IOWR(MSGBOX_IOC_MAGIC, 0x24, struct msgbox_call)
/*
 * MSGBOX_IOC_REPLY: answer the request whose token a MSGBOX_IOC_RECV on this
 * descriptor returned, with data, len, type and priority (flags,
 * timeout_ns, ttl_ns, __reserved and __pad must be 0: EINVAL).  A token is
 * opaque; an answered one stays unknown until 2^40 - 1 further requests
 * were received through the same open file.  An open file holds at most
 * 2^24 - 1 unanswered requests: a receive that would take one more fails
 * with EBUSY (the request stays queued).
 * Returns 0, or ENOENT (no such token here: unknown, or already answered),
 * EPIPE (the caller gave up or exited; the token is gone), EMSGSIZE (larger
 * than the caller accepts; the token stays valid for a smaller reply).
 */
#define MSGBOX_IOC_REPLY	_IOW(MSGBOX_IOC_MAGIC, 0x25, struct msgbox_msg)
#define MSGBOX_IOC_SUBSCRIBE	_IOW(MSGBOX_IOC_MAGIC, 0x26, struct msgbox_subscribe)
#define MSGBOX_IOC_ACK		_IOW(MSGBOX_IOC_MAGIC, 0x27, struct msgbox_ack)
#define MSGBOX_IOC_STATUS	_IOWR(MSGBOX_IOC_MAGIC, 0x28, struct msgbox_status)
#define MSGBOX_IOC_SEND_BATCH	_IOWR(MSGBOX_IOC_MAGIC, 0x29, struct msgbox_batch)
#define MSGBOX_IOC_RECV_BATCH	_IOWR(MSGBOX_IOC_MAGIC, 0x2a, struct msgbox_batch)
#define MSGBOX_IOC_NOTIFY	_IOW(MSGBOX_IOC_MAGIC, 0x2b, struct msgbox_notify)
#define MSGBOX_IOC_RING_SETUP	_IOWR(MSGBOX_IOC_MAGIC, 0x2c, struct msgbox_ring_setup)
/*
 * MSGBOX_IOC_RING_ENTER, on a ring descriptor: move the queued messages the
 * ring selects into the ring, in order, as long as they fit, and then those
 * of senders sleeping for room (see "Receive rings").  Returns the number
 * moved; EIDRM once the mailbox is destroyed.  The argument, a __u32 *,
 * may be NULL; otherwise it is set to MSGBOX_RING_RECV if the next message
 * in line is one the ring cannot hold, else to 0 (EFAULT if it cannot be).
 */
#define MSGBOX_IOC_RING_ENTER	_IOR(MSGBOX_IOC_MAGIC, 0x2d, __u32)
/* On a mailbox descriptor: see struct msgbox_reply_recv. */
#define MSGBOX_IOC_REPLY_RECV	_IOWR(MSGBOX_IOC_MAGIC, 0x2e, struct msgbox_reply_recv)

/* io_uring only: see struct msgbox_uring_cmd. */
#define MSGBOX_UCMD_CANCEL	_IO(MSGBOX_IOC_MAGIC, 0x40)

#endif /* _UAPI_LINUX_MSGBOX_H */
