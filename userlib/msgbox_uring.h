/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmsgbox over io_uring: asynchronous send and receive on mailboxes.
 *
 * A separate header, so that <msgbox.h> users need no liburing.  It needs
 * liburing 2.3 or later (Debian 12's liburing-dev); pkg-config's msgbox
 * entry adds -luring for static links (Libs.private).
 *
 * Two ways to use it:
 *
 *   1. On your own struct io_uring: the msgbox_prep_*() inlines below fill
 *      an SQE exactly as liburing's io_uring_prep_*() do (every field set,
 *      padding zeroed; user_data left to io_uring_sqe_set_data()).  Submit
 *      and reap with liburing as usual.
 *   2. On a ring the library owns (struct msgbox_ring): queue operations
 *      with a cookie each, submit them in one system call, and reap their
 *      completions in batches as struct msgbox_completion.
 *
 * Two levels of kernel support (msgbox_uring_level() tells which one a
 * descriptor has):
 *
 *   level 1, MSGBOX_URING_RW:  plain IORING_OP_READ/WRITE of one whole
 *            message of type MSGBOX_TYPE_DEFAULT (msgbox_prep_read/write).
 *            Debian's 6.1 and 6.12 with this module; they never use an
 *            io-wq worker thread (the file is NOWAIT-capable).
 *   level 2, MSGBOX_URING_CMD: IORING_OP_URING_CMD, one command per
 *            mailbox ioctl (send, receive with type selector and
 *            metadata, call, reply, a server's reply and next receive in
 *            one (REPLY_RECV), ack, batches) plus cancel by tag; a
 *            receive with nothing to take is parked until a message
 *            comes, a call until its reply comes.
 *            6.1 (>= 6.1.23) and 6.12 with this module.  Parked commands
 *            are cancelled (-ECANCELED) when their ring or task goes away:
 *            by io_uring itself on 6.12, by the module within about 100 ms
 *            on 6.1.  See struct msgbox_uring_cmd in <linux/msgbox.h>.
 *
 * Buffers: an operation reads and writes the caller's memory (the struct
 * msgbox_msg, its data buffer, a struct msgbox_call, msgbox_ack or
 * msgbox_batch and the arrays they point to) when the kernel issues it, which may be after submission (a
 * parked receive, IOSQE_ASYNC, SQPOLL).  Keep all of it valid and
 * untouched until the operation's completion has been reaped.
 *
 * Errors: the msgbox_ring_*() functions follow libmsgbox's convention
 * (-1 with errno set).  Results of operations are io_uring's: a
 * completion carries the operation's result, >= 0 on success and a
 * negative errno on failure (cqe->res, as liburing reports it).
 */
#ifndef LIBMSGBOX_URING_H
#define LIBMSGBOX_URING_H

#include <stdint.h>
#include <string.h>
#include <liburing.h>
#include <msgbox.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- preparing SQEs on any ring ---------------------------------------- */

/**
 * msgbox_prep_cmd() - prepare IORING_OP_URING_CMD @op on mailbox @fd.
 * @sqe: an SQE from io_uring_get_sqe() (a 64-byte one suffices).
 * @fd:  mailbox descriptor.
 * @op:  an ioctl number (MSGBOX_IOC_SEND, _RECV, _CALL, _REPLY, _ACK,
 *       _SEND_BATCH, _RECV_BATCH) or MSGBOX_UCMD_CANCEL.
 * @arg: the ioctl's argument, or NULL for MSGBOX_UCMD_CANCEL.
 * @tag: the command's tag for MSGBOX_IOC_RECV and _CALL, the tag to cancel for
 *       MSGBOX_UCMD_CANCEL, 0 otherwise.
 *
 * The generic form of the helpers below; they are what to use.
 */
static inline void msgbox_prep_cmd(struct io_uring_sqe *sqe, int fd,
				   unsigned int op, const void *arg,
				   unsigned int tag)
{
	struct msgbox_uring_cmd c = {
		.arg = (__u64)(uintptr_t)arg,
		.tag = tag,
		.__pad = 0,
	};

	/* off = 0 clears cmd_op and __pad1, rw_flags = 0 uring_cmd_flags. */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;	/* after prep_rw: cmd_op aliases sqe->off */
	memcpy(sqe->cmd, &c, sizeof(c));
}

/**
 * msgbox_prep_send() - prepare MSGBOX_IOC_SEND of @m (as msgbox_sendmsg()).
 *
 * Never waits: completes with 0 once queued or handed to a receiver,
 * -EAGAIN if the mailbox is full, -EINVAL for MSGBOX_MSG_WAIT_ACK, or the
 * ioctl's other errors; m->id is written back.
 */
static inline void msgbox_prep_send(struct io_uring_sqe *sqe, int fd,
				    struct msgbox_msg *m)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_IOC_SEND, m, 0);
}

/**
 * msgbox_prep_recv() - prepare MSGBOX_IOC_RECV into @m (as msgbox_recvmsg()).
 * @tag: any value naming this receive for msgbox_prep_cancel(); several
 *       receives may share a tag.
 *
 * Completes with the message's length, @m filled in (type, priority, id,
 * token, sender credentials) and its data copied to m->data.  With
 * nothing to take it is parked, holding no thread, until a message
 * arrives; it then completes with -EIDRM if the mailbox is destroyed,
 * -ECANCELED if cancelled or its ring or task goes away.  With
 * MSGBOX_MSG_NONBLOCK it completes with -EAGAIN instead of parking; with
 * a timeout (MSGBOX_MSG_TIMEOUT, relative or absolute) it completes with
 * -ETIMEDOUT once the deadline passed.
 */
static inline void msgbox_prep_recv(struct io_uring_sqe *sqe, int fd,
				    struct msgbox_msg *m, unsigned int tag)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_IOC_RECV, m, tag);
}

/**
 * msgbox_prep_call() - prepare MSGBOX_IOC_CALL of @c (as msgbox_callmsg():
 * c->request to send, c->reply the buffer for the answer).
 * @tag: names the call for msgbox_prep_cancel(), like a receive's.
 *
 * Sends the request at once (a full mailbox: -EAGAIN), then stays parked
 * until the reply comes; completes with the reply's length, @c filled in
 * as the ioctl fills it, or with the call's error (-ECONNRESET, -EIDRM,
 * -ETIMEDOUT when the request's ttl_ns ran out or the request's timeout
 * (MSGBOX_MSG_TIMEOUT, relative or absolute) passed without a reply,
 * -ECANCELED).  Kernels whose module parks calls: see
 * <linux/msgbox.h>; an older module completes it with -EOPNOTSUPP.
 */
static inline void msgbox_prep_call(struct io_uring_sqe *sqe, int fd,
				    struct msgbox_call *c, unsigned int tag)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_IOC_CALL, c, tag);
}

/**
 * msgbox_prep_reply() - prepare MSGBOX_IOC_REPLY of @m (as msgbox_replymsg():
 * m->token from the request's receive on this same descriptor).
 * Completes with 0, -ENOENT, -EPIPE or -EMSGSIZE.
 */
static inline void msgbox_prep_reply(struct io_uring_sqe *sqe, int fd,
				     struct msgbox_msg *m)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_IOC_REPLY, m, 0);
}

/**
 * msgbox_prep_reply_recv() - prepare MSGBOX_IOC_REPLY_RECV of @rr (as
 * msgbox_reply_recvmsg(): rr->reply answers the call of its token, 0 for
 * none; rr->recv receives the next message).
 * @tag: names the receive for msgbox_prep_cancel(), like a receive's.
 *
 * The reply goes at issue; rr->reply.token reads 0 once it went.  Then it
 * completes as msgbox_prep_recv() does, with the length of the message
 * received into rr->recv, or the receive's error.  With the token still
 * set, no reply went and nothing was received: the error is the reply's
 * (-ENOENT, -EPIPE, -EMSGSIZE) or a check's of either half (-EINVAL,
 * -EBADF, -ESRCH).  A module without it completes it with -EINVAL if @tag
 * is not 0, else -EOPNOTSUPP.
 */
static inline void msgbox_prep_reply_recv(struct io_uring_sqe *sqe, int fd,
					  struct msgbox_reply_recv *rr,
					  unsigned int tag)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_IOC_REPLY_RECV, rr, tag);
}

/**
 * msgbox_prep_ack() - prepare MSGBOX_IOC_ACK of @a (a->id, a->flags 0 to
 * ack, MSGBOX_ACK_NACK or MSGBOX_ACK_EXTEND).  Completes with 0 or -ENOENT.
 */
static inline void msgbox_prep_ack(struct io_uring_sqe *sqe, int fd,
				   struct msgbox_ack *a)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_IOC_ACK, a, 0);
}

/**
 * msgbox_batch_init() - set up @b for @count messages at @msgs, as
 * msgbox_send_batch() / msgbox_recv_batch() do: done, error and the
 * reserved field zero.
 */
static inline void msgbox_batch_init(struct msgbox_batch *b,
				     struct msgbox_msg *msgs,
				     unsigned int count)
{
	memset(b, 0, sizeof(*b));
	b->msgs = (__u64)(uintptr_t)msgs;
	b->count = count;
	b->msg_size = sizeof(*msgs);
}

/**
 * msgbox_prep_send_batch() / msgbox_prep_recv_batch() - prepare a batch
 * (see msgbox_batch_init()).
 *
 * Completes with the number of entries done (b->done; b->error holds the
 * negative errno that stopped the batch early, 0 if none), or with the
 * first entry's negative errno if none was done.  Never waits: a send
 * batch stops at a full mailbox, a receive batch takes what is ready or
 * completes with -EAGAIN.
 */
static inline void msgbox_prep_send_batch(struct io_uring_sqe *sqe, int fd,
					  struct msgbox_batch *b)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_IOC_SEND_BATCH, b, 0);
}

static inline void msgbox_prep_recv_batch(struct io_uring_sqe *sqe, int fd,
					  struct msgbox_batch *b)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_IOC_RECV_BATCH, b, 0);
}

/**
 * msgbox_prep_cancel() - prepare MSGBOX_UCMD_CANCEL: every receive or call
 * parked through this open file (@fd's, whatever ring it was submitted on)
 * with @tag completes with -ECANCELED.  Completes with how many were.
 */
static inline void msgbox_prep_cancel(struct io_uring_sqe *sqe, int fd,
				      unsigned int tag)
{
	msgbox_prep_cmd(sqe, fd, MSGBOX_UCMD_CANCEL, NULL, tag);
}

/**
 * msgbox_prep_read() / msgbox_prep_write() - level 1: IORING_OP_READ/WRITE
 * of one whole message, as read(2)/write(2) on @fd: type
 * MSGBOX_TYPE_DEFAULT, priority 0.  A read completes with the message's
 * length (-EMSGSIZE if @size is too small; the message stays queued) and
 * waits, through io_uring's poll, while the mailbox is empty; a write
 * completes with @len and waits while it is full.
 */
static inline void msgbox_prep_read(struct io_uring_sqe *sqe, int fd,
				    void *buf, unsigned int size)
{
	io_uring_prep_read(sqe, fd, buf, size, 0);
}

static inline void msgbox_prep_write(struct io_uring_sqe *sqe, int fd,
				     const void *buf, unsigned int len)
{
	io_uring_prep_write(sqe, fd, buf, len, 0);
}

/* ---- what a descriptor supports ---------------------------------------- */

#define MSGBOX_URING_NONE	0	/* no io_uring here: use the syscalls */
#define MSGBOX_URING_RW		1	/* level 1: IORING_OP_READ/WRITE */
#define MSGBOX_URING_CMD	2	/* level 2: IORING_OP_URING_CMD too */

/**
 * msgbox_uring_level() - which level of io_uring mailbox @fd supports.
 * @fd: mailbox descriptor.
 *
 * Sets up a small ring for the test and frees it again.  Returns
 * MSGBOX_URING_CMD, MSGBOX_URING_RW (io_uring works, but this kernel or
 * module has no msgbox commands), or MSGBOX_URING_NONE with errno saying
 * why (ENOSYS: no io_uring; EPERM: disabled by the kernel.io_uring_disabled
 * sysctl or a seccomp filter, as container runtimes install).  -1 with
 * errno if @fd is not a mailbox descriptor (EBADF, ENOTTY).  Level 2 is
 * detected by a command that changes nothing (a cancel the module refuses
 * with -EINVAL, where a kernel or module without it gives -EOPNOTSUPP).
 */
int msgbox_uring_level(int fd);

/* ---- a ring the library owns ------------------------------------------- */

/*
 * struct msgbox_ring - an io_uring owned by the library.  Opaque.  Like a
 * struct io_uring it is used by one thread at a time (one ring per thread
 * is the usual design), and it does not survive fork(2) in the child.
 */
struct msgbox_ring;

/**
 * struct msgbox_completion - one finished operation.
 * @cookie: the cookie it was queued with (any struct io_uring_sqe's
 *          user_data, for operations the caller queued itself).
 * @result: its result: >= 0 on success (0 for a send, reply, ack; the
 *          length for a receive or read; the entries done for a batch;
 *          the number cancelled for a cancel), or a negative errno.
 * @flags:  cqe->flags (0 for every msgbox operation).
 */
struct msgbox_completion {
	void *cookie;
	int result;
	unsigned int flags;
};

/**
 * msgbox_ring_new() - set up a ring with room for @entries queued
 * operations (the completion queue gets twice that).
 * @entries: 1 to 32768 (rounded up to a power of two by the kernel).
 * @flags:   IORING_SETUP_* for io_uring_queue_init(), usually 0.
 *           IORING_SETUP_IOPOLL is refused (EINVAL): msgbox commands
 *           cannot be polled.
 *
 * Returns the ring, or NULL with errno: ENOMEM, EINVAL, EMFILE, ENOSYS (no
 * io_uring in this kernel or blocked by seccomp), EPERM (the
 * kernel.io_uring_disabled sysctl, 6.6 and later, or seccomp).  On
 * ENOSYS/EPERM fall back to the blocking calls of <msgbox.h>.
 */
struct msgbox_ring *msgbox_ring_new(unsigned int entries, unsigned int flags);

/**
 * msgbox_ring_free() - close the ring.  NULL is ignored.
 *
 * Operations still in flight are cancelled by the kernel and their
 * completions are not reported.  Parked receives go away shortly after,
 * not at once (6.12: io_uring's exit work; 6.1: the module's monitor,
 * within about 100 ms); a message handed to one of them meanwhile goes
 * back to its mailbox.  But a receive that completed before the close
 * and was never reaped has taken its message: to stop without losing any,
 * first cancel the ring's receives (msgbox_ring_cancel() for each
 * descriptor and tag) and reap every completion.
 */
void msgbox_ring_free(struct msgbox_ring *r);

/**
 * msgbox_ring_fd() - the ring's descriptor, readable (EPOLLIN) when
 * completions wait: add it to an epoll set and call msgbox_ring_wait()
 * with @min 0 when it fires.
 */
int msgbox_ring_fd(const struct msgbox_ring *r);

/**
 * msgbox_ring_uring() - the underlying struct io_uring, to queue other
 * operations on the same ring with liburing.  Their completions come out
 * of msgbox_ring_wait() like the library's, with user_data as the cookie;
 * do not reap them with liburing's calls behind the library's back.
 */
struct io_uring *msgbox_ring_uring(struct msgbox_ring *r);

/**
 * msgbox_ring_get_sqe() - a free SQE of @r, submitting what is queued
 * first if the submission queue is full.  Prepare it with a
 * msgbox_prep_*() helper and set its cookie with io_uring_sqe_set_data().
 *
 * Returns the SQE, or NULL with errno (from a submission that failed:
 * EBUSY when the completion queue is full: reap with msgbox_ring_wait()).
 */
struct io_uring_sqe *msgbox_ring_get_sqe(struct msgbox_ring *r);

/**
 * msgbox_ring_send() / msgbox_ring_recv() / msgbox_ring_call() /
 * msgbox_ring_cancel() / msgbox_ring_send_batch() /
 * msgbox_ring_recv_batch() - queue one operation, as msgbox_prep_send(),
 * _recv(), _call(), _cancel(), _send_batch() and _recv_batch() prepare
 * it, completing with @cookie.
 *
 * Queued only: nothing reaches the kernel before msgbox_ring_submit() or
 * msgbox_ring_wait() (or a full submission queue, which is then submitted
 * to make room), so any number of operations go in one system call.
 * Returns 0, or -1 with errno as msgbox_ring_get_sqe().  Errors of the
 * operation itself (a bad descriptor included) come as its completion's
 * result.
 */
int msgbox_ring_send(struct msgbox_ring *r, int fd, struct msgbox_msg *m,
		     void *cookie);
int msgbox_ring_recv(struct msgbox_ring *r, int fd, struct msgbox_msg *m,
		     unsigned int tag, void *cookie);
int msgbox_ring_call(struct msgbox_ring *r, int fd, struct msgbox_call *c,
		     unsigned int tag, void *cookie);
int msgbox_ring_cancel(struct msgbox_ring *r, int fd, unsigned int tag,
		       void *cookie);
int msgbox_ring_send_batch(struct msgbox_ring *r, int fd,
			   struct msgbox_batch *b, void *cookie);
int msgbox_ring_recv_batch(struct msgbox_ring *r, int fd,
			   struct msgbox_batch *b, void *cookie);

/**
 * msgbox_ring_submit() - hand every queued operation to the kernel in one
 * system call.  Returns how many, or -1 with errno.
 */
int msgbox_ring_submit(struct msgbox_ring *r);

/**
 * msgbox_ring_wait() - submit what is queued, then take up to @max
 * completions into @out, waiting until at least @min are there.
 * @out:        array of @max entries.
 * @max:        at least 1.
 * @min:        0 (do not wait) to @max, and at most the completion
 *              queue's size (twice msgbox_ring_new()'s @entries).
 * @timeout_ns: longest wait, or MSGBOX_FOREVER.
 *
 * Returns the number of completions taken (in the order the kernel posted
 * them), which is below @min only if the timeout expired first (0 then
 * means nothing completed, as for epoll_wait()), or -1 with errno: EINTR
 * (a signal came before any completion), EINVAL (@max 0, @min too large).
 * More operations than the completion queue holds may be outstanding:
 * the kernel keeps the surplus completions, and later calls take them.
 *
 * Example, a receiver with 16 receives always parked:
 *	struct msgbox_msg m[16];  char buf[16][256];
 *	struct msgbox_completion c[16];
 *	for (i = 0; i < 16; i++) {
 *		m[i] = (struct msgbox_msg){ .data = (uintptr_t)buf[i], .len = 256 };
 *		msgbox_ring_recv(r, fd, &m[i], 0, &m[i]);
 *	}
 *	for (;;) {
 *		int n = msgbox_ring_wait(r, c, 16, 1, MSGBOX_FOREVER);
 *		for (j = 0; j < n; j++) {
 *			struct msgbox_msg *done = c[j].cookie;
 *			i = done - m;
 *			if (c[j].result >= 0)
 *				handle(buf[i], c[j].result, done->type);
 *			// re-arm: the receive wrote len, type... back
 *			*done = (struct msgbox_msg){ .data = (uintptr_t)buf[i], .len = 256 };
 *			msgbox_ring_recv(r, fd, done, 0, done);
 *		}
 *	}
 */
int msgbox_ring_wait(struct msgbox_ring *r, struct msgbox_completion *out,
		     unsigned int max, unsigned int min,
		     unsigned long long timeout_ns);

#ifdef __cplusplus
}
#endif

#endif /* LIBMSGBOX_URING_H */
