/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmsgbox: the C API over /dev/msgbox.
 *
 * Conventions (errno-style, the only one in this library):
 *   - functions returning a descriptor or a length return it on success and
 *     -1 with errno set on failure;
 *   - functions returning int return 0 on success and -1 with errno set.
 * strerror(3) therefore describes every failure.  The errno values and their
 * meaning are listed in <linux/msgbox.h>.
 *
 * Thread safety: every function is safe to call from several threads at once;
 * the library keeps no state besides what the caller passes in.
 *
 * Asynchronous operation through io_uring: <msgbox_uring.h> (needs liburing).
 */
#ifndef LIBMSGBOX_H
#define LIBMSGBOX_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/msgbox.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults used by msgbox_attr_init(): sized for real use, bytes-based. */
#define MSGBOX_DEFAULT_MAX_MSGS		256
#define MSGBOX_DEFAULT_MAX_MSG_SIZE	8192
#define MSGBOX_DEFAULT_MAX_BYTES	(1024 * 1024)

/* Default permission bits: the owner sends and receives, nobody else. */
#define MSGBOX_DEFAULT_MODE		0600

/**
 * struct msgbox_attr - limits and properties of a new mailbox
 * @max_msgs:     capacity in messages.
 * @max_msg_size: largest payload in bytes.
 * @max_bytes:    capacity in payload bytes (at least @max_msg_size).
 * @mode:         permission bits (masked by the umask); read allows
 *                receiving, write sending.
 * @flags:        MSGBOX_CREATE_EPHEMERAL and/or MSGBOX_CREATE_ANON.
 */
struct msgbox_attr {
	unsigned int max_msgs;
	unsigned int max_msg_size;
	unsigned long long max_bytes;
	unsigned int mode;
	unsigned int flags;
};

/**
 * msgbox_attr_init() - fill @attr with the library defaults: the limits
 * above, mode 0600, no flags.
 */
void msgbox_attr_init(struct msgbox_attr *attr);

/**
 * msgbox_create() - create a named mailbox and open it.
 * @name:     mailbox name (see MSGBOX_NAME_MAX in <linux/msgbox.h>).
 * @attr:     limits, or NULL for the defaults.
 * @fd_flags: MSGBOX_FD_* (RECV and/or SEND, NONBLOCK, CLOEXEC).
 *
 * Returns a mailbox descriptor, or -1 with errno: EEXIST (name taken),
 * EINVAL (bad name or limit), ENAMETOOLONG, ENOSPC (too many mailboxes),
 * ENOENT (no /dev/msgbox: module not loaded).
 */
int msgbox_create(const char *name, const struct msgbox_attr *attr,
		  unsigned int fd_flags);

/**
 * msgbox_create_anon() - create a mailbox with no name.
 * @attr:     limits, or NULL for the defaults (its flags gain
 *            MSGBOX_CREATE_ANON).
 * @fd_flags: MSGBOX_FD_*.
 *
 * The mailbox lives as long as a descriptor of it does: share it by fork(2)
 * or pass it over a Unix socket.  Returns a descriptor, or -1 with errno.
 */
int msgbox_create_anon(const struct msgbox_attr *attr, unsigned int fd_flags);

/**
 * msgbox_open() - open an existing mailbox by name.
 *
 * Returns a mailbox descriptor, or -1 with errno ENOENT if there is none,
 * EACCES if its mode denies the access asked for.
 */
int msgbox_open(const char *name, unsigned int fd_flags);

/**
 * msgbox_destroy() - remove a named mailbox.
 *
 * Sleepers on it wake with EIDRM, queued messages are dropped, and
 * descriptors still open on it fail with EIDRM from then on.
 * Returns 0, or -1 with errno ENOENT, or EPERM if the caller does not own it.
 */
int msgbox_destroy(const char *name);

/**
 * msgbox_unlink() - remove only the name of a mailbox, as mq_unlink(3) does.
 *
 * Descriptors open on it go on working: their queued messages and sleepers
 * stay, and the mailbox is destroyed when the last of them is closed.  The
 * name can be given to a new mailbox at once.
 * Returns 0, or -1 with errno ENOENT, or EPERM if the caller does not own it.
 */
int msgbox_unlink(const char *name);

/**
 * msgbox_send() - send one message of type MSGBOX_TYPE_DEFAULT.
 * @fd:    mailbox descriptor opened with MSGBOX_FD_SEND.
 * @buf:   payload, @len bytes (0 allowed).
 * @flags: MSGBOX_MSG_NONBLOCK or 0.
 *
 * Sleeps while the mailbox is full unless non-blocking.
 * Returns 0, or -1 with errno (EAGAIN, EMSGSIZE, EINTR, EIDRM, EBADF...).
 */
int msgbox_send(int fd, const void *buf, size_t len, unsigned int flags);

/**
 * msgbox_recv() - receive the first message.
 * @fd:    mailbox descriptor opened with MSGBOX_FD_RECV.
 * @buf:   buffer of @size bytes.
 * @flags: MSGBOX_MSG_NONBLOCK or 0.
 *
 * Returns the message length, or -1 with errno.  EMSGSIZE means @size is
 * smaller than the next message, which stays queued.
 */
ssize_t msgbox_recv(int fd, void *buf, size_t size, unsigned int flags);

/**
 * msgbox_send_timeout() / msgbox_recv_timeout() - as above, waiting at most
 * @timeout_ns nanoseconds (ETIMEDOUT after that; 0 means try once).
 */
int msgbox_send_timeout(int fd, const void *buf, size_t len,
			unsigned long long timeout_ns);
ssize_t msgbox_recv_timeout(int fd, void *buf, size_t size,
			    unsigned long long timeout_ns);

/**
 * msgbox_sendmsg() / msgbox_recvmsg() - full control over one message.
 * @msg: struct msgbox_msg from <linux/msgbox.h>; the caller sets data, len,
 *       type, priority, flags and timeout_ns; the kernel writes id (and, on
 *       receive, len, type, priority and the sender's credentials).
 *
 * Return 0, or -1 with errno.
 */
int msgbox_sendmsg(int fd, struct msgbox_msg *msg);
int msgbox_recvmsg(int fd, struct msgbox_msg *msg);

/**
 * msgbox_send_batch() / msgbox_recv_batch() - many messages per call.
 * @fd:    mailbox descriptor.
 * @msgs:  @count struct msgbox_msg, each set up as for msgbox_sendmsg() /
 *         msgbox_recvmsg() and filled in the same way.
 * @count: 1 to MSGBOX_BATCH_MAX.
 *
 * In order; a send batch stops at the first entry that fails, a receive
 * batch also when nothing more is ready (only its first entry may wait).
 * Returns the entries done, or -1 with the first entry's errno if none
 * was; @error, if not NULL, gets the negative errno that stopped the
 * batch early (0 if it did not).
 *
 * Example, draining up to 32 messages in one system call:
 *	struct msgbox_msg m[32];
 *	for (i = 0; i < 32; i++)
 *		m[i] = (struct msgbox_msg){ .data = (uintptr_t)buf[i], .len = 256 };
 *	int n = msgbox_recv_batch(fd, m, 32, NULL);
 */
int msgbox_send_batch(int fd, struct msgbox_msg *msgs, unsigned int count,
		      int *error);
int msgbox_recv_batch(int fd, struct msgbox_msg *msgs, unsigned int count,
		      int *error);

/**
 * msgbox_info() - read the limits and counters of a mailbox.
 *
 * Returns 0, or -1 with errno.
 */
int msgbox_info(int fd, struct msgbox_info *info);

/**
 * msgbox_call() - request/reply: send @req and wait for its reply.
 * @fd:         mailbox descriptor opened with MSGBOX_FD_SEND.
 * @req:        the request, @req_len bytes, sent as type MSGBOX_TYPE_DEFAULT.
 * @rep:        buffer for the reply, @rep_size bytes.
 * @timeout_ns: longest wait for the whole call, or MSGBOX_FOREVER.
 *
 * The reply comes to this thread only, from the server that received the
 * request.  Returns the reply's length, or -1 with errno: ETIMEDOUT,
 * EINTR, ECONNRESET (the server went away without replying), EIDRM, ...
 * A signal before a server received the request withdraws it; an untimed
 * call then restarts under SA_RESTART, sending it anew (EINTR otherwise).
 * After that, a signal always ends the call with EINTR.
 *
 * Example, a client:
 *	char out[64];
 *	ssize_t n = msgbox_call(fd, "time?", 5, out, sizeof(out), MSGBOX_FOREVER);
 * and its server:
 *	struct msgbox_msg m = { .data = (uintptr_t)buf, .len = sizeof(buf) };
 *	msgbox_recvmsg(fd, &m);              // m.token != 0: a request
 *	msgbox_reply(fd, m.token, "noon", 4);
 */
#define MSGBOX_FOREVER	(~0ULL)
ssize_t msgbox_call(int fd, const void *req, size_t req_len, void *rep,
		    size_t rep_size, unsigned long long timeout_ns);

/**
 * msgbox_callmsg() - MSGBOX_IOC_CALL with full control (struct msgbox_call
 * of <linux/msgbox.h>).  Returns 0, or -1 with errno.
 */
int msgbox_callmsg(int fd, struct msgbox_call *call);

/**
 * msgbox_reply() - answer the request a receive on @fd returned @token for.
 * @fd:    the descriptor the request was received on.
 * @token: struct msgbox_msg.token of that receive.
 * @buf:   the reply, @len bytes, sent as type MSGBOX_TYPE_DEFAULT.
 *
 * Returns 0, or -1 with errno: ENOENT (no such token here, or answered
 * already), EPIPE (the caller gave up), EMSGSIZE (too large for the
 * caller; the token stays valid).
 */
int msgbox_reply(int fd, unsigned long long token, const void *buf, size_t len);

/**
 * msgbox_replymsg() - MSGBOX_IOC_REPLY with full control: @msg carries the
 * token, data, len, type and priority.  Returns 0, or -1 with errno.
 */
int msgbox_replymsg(int fd, struct msgbox_msg *msg);

/**
 * msgbox_reply_recv() - a server's step in one system call: answer the
 * request *@token names, then receive the next message.
 * @fd:    the descriptor requests are received on.
 * @token: in, the request to answer (0: none); set to 0 once answered.
 * @buf:   the reply, @len bytes, sent as type MSGBOX_TYPE_DEFAULT.
 * @msg:   the receive, as msgbox_recvmsg() takes it and fills it.
 *
 * Returns 0, or -1 with errno.  If *@token is still non-zero, the reply
 * failed (as msgbox_reply() fails) and nothing was received; otherwise
 * the error is the receive's.  A server:
 *	unsigned long long token = 0;
 *	size_t n = 0;
 *	for (;;) {
 *		struct msgbox_msg m = { .data = (uintptr_t)in, .len = sizeof(in) };
 *
 *		if (msgbox_reply_recv(fd, &token, out, n, &m)) {
 *			if (token && errno == EPIPE) {	// that caller gave up
 *				token = 0;
 *				continue;
 *			}
 *			break;
 *		}
 *		token = m.token;			// 0 for a plain message
 *		n = handle(in, m.len, out);
 *	}
 */
int msgbox_reply_recv(int fd, unsigned long long *token, const void *buf,
		      size_t len, struct msgbox_msg *msg);

/**
 * msgbox_reply_recvmsg() - MSGBOX_IOC_REPLY_RECV with full control (struct
 * msgbox_reply_recv of <linux/msgbox.h>).  Returns 0, or -1 with errno.
 */
int msgbox_reply_recvmsg(int fd, struct msgbox_reply_recv *rr);

/**
 * msgbox_send_sync() - rendezvous: send and return only once a receiver
 * has taken this very message.
 * @fd:         mailbox descriptor opened with MSGBOX_FD_SEND.
 * @buf:        payload, @len bytes.
 * @timeout_ns: longest wait, or MSGBOX_FOREVER.
 *
 * On failure the message is withdrawn, never seen by anyone: -1 with
 * errno ETIMEDOUT, EINTR or EIDRM.  On a mailbox of capacity 0 (an
 * unbuffered channel) every send behaves this way.
 *
 * Example:
 *	if (msgbox_send_sync(fd, "go", 2, 1000000000ULL) == 0)
 *		puts("the worker has it");
 */
int msgbox_send_sync(int fd, const void *buf, size_t len,
		     unsigned long long timeout_ns);

/**
 * msgbox_recv_from() - receive only what process @pid sent (symmetric
 * addressing); otherwise as msgbox_recv().  -1 with errno ESRCH if there
 * is no such process.
 */
ssize_t msgbox_recv_from(int fd, pid_t pid, void *buf, size_t size,
			 unsigned int flags);

/**
 * msgbox_inbox() - create the calling process's personal inbox.
 * @attr:     limits and mode (the write bits say who may send), or NULL
 *            for the defaults (mode 0600: only the owner's uid may send).
 * @fd_flags: MSGBOX_FD_RECV, optionally NONBLOCK and CLOEXEC.
 *
 * Returns the inbox's receiving descriptor (the inbox goes away with it),
 * or -1 with errno (EEXIST: the process has one already).
 *
 * Example, direct addressing without any name:
 *	int in = msgbox_inbox(NULL, MSGBOX_FD_RECV);          // receiver
 *	int to = msgbox_open_inbox(receiver_pid, MSGBOX_FD_SEND); // sender
 *	msgbox_send(to, "hi", 2, 0);
 *	msgbox_recv(in, buf, sizeof(buf), 0);   // or msgbox_recv_from()
 */
int msgbox_inbox(const struct msgbox_attr *attr, unsigned int fd_flags);

/**
 * msgbox_open_inbox() - a sending descriptor on process @pid's inbox.
 * @pid:      the receiving process.
 * @fd_flags: MSGBOX_FD_SEND, optionally NONBLOCK and CLOEXEC.
 *
 * Returns a descriptor, or -1 with errno: ESRCH (no such process, or it
 * has no inbox), EACCES.
 */
int msgbox_open_inbox(pid_t pid, unsigned int fd_flags);

/**
 * msgbox_subscribe() - subscribe to a topic (MSGBOX_CREATE_TOPIC).
 * @topic_fd: a descriptor of the topic, opened with MSGBOX_FD_RECV.
 * @type:     filter, a receive selector (0 for every publication).
 * @fd_flags: MSGBOX_FD_RECV, optionally MSGBOX_FD_NONBLOCK/CLOEXEC.
 *
 * Returns the subscription's descriptor: receive from it as from any
 * mailbox; close it to unsubscribe.  -1 with errno on failure.
 *
 * Example:
 *	struct msgbox_attr a;
 *	msgbox_attr_init(&a);
 *	a.flags = MSGBOX_CREATE_TOPIC;
 *	int t = msgbox_create("news", &a, MSGBOX_FD_SEND | MSGBOX_FD_RECV);
 *	int s = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
 *	msgbox_send(t, "hello", 5, 0);             // every subscriber gets it
 *	msgbox_recv(s, buf, sizeof(buf), 0);
 */
int msgbox_subscribe(int topic_fd, long long type, unsigned int fd_flags);

/**
 * msgbox_ack() / msgbox_nack() - settle a message received with
 * MSGBOX_MSG_ACK on @fd: acknowledge it (it is gone), or have it
 * redelivered at once.
 * @id: struct msgbox_msg.id of that receive.
 *
 * Returns 0, or -1 with errno ENOENT (not in flight on this open file).
 *
 * Example, a consumer that loses nothing if it dies mid-message:
 *	struct msgbox_msg m = { .data = (uintptr_t)buf, .len = sizeof(buf),
 *				.flags = MSGBOX_MSG_ACK };
 *	msgbox_recvmsg(fd, &m);
 *	process(buf, m.len);                     // m.deliveries > 1: a retry
 *	msgbox_ack(fd, m.id);
 */
int msgbox_ack(int fd, unsigned long long id);
int msgbox_nack(int fd, unsigned long long id);

/**
 * msgbox_setattr() - change a mailbox's mode and/or limits (owner only).
 * @fd: a descriptor of the mailbox.
 * @sa: struct msgbox_setattr from <linux/msgbox.h>; sa->mask says what.
 *
 * Returns 0, or -1 with errno (EPERM if not the owner, EINVAL).
 */
int msgbox_setattr(int fd, const struct msgbox_setattr *sa);

/**
 * msgbox_notify() - be told once when a message arrives in the empty mailbox.
 * @fd:  a receiving descriptor of the mailbox.
 * @how: MSGBOX_NOTIFY_EVENTFD (signal @efd), MSGBOX_NOTIFY_NONE (register
 *       only) or MSGBOX_NOTIFY_OFF (remove the caller's registration).
 * @efd: an eventfd(2) for MSGBOX_NOTIFY_EVENTFD, else 0.
 *
 * mq_notify(3) for a mailbox: one process at a time, one notification, and
 * only when no waiting receiver takes the message; closing a descriptor of
 * the mailbox ends the caller's registration.  See struct msgbox_notify.
 * Returns 0, or -1 with errno (EBUSY: another registration stands; ENOENT:
 * OFF, but the caller holds none; EBADF, EINVAL).
 */
int msgbox_notify(int fd, unsigned int how, int efd);

/**
 * msgbox_abi_version() - MSGBOX_ABI_VERSION of the loaded module, or -1.
 */
int msgbox_abi_version(void);

/*
 * Receive rings: the kernel writes the messages into memory mapped in the
 * receiving process, which reads them without a system call per message
 * (see "Receive rings" in <linux/msgbox.h>).  For streams of small
 * messages.  One ring per mailbox; a ring is used by one thread at a time
 * (the caller serialises, as for a liburing ring).
 *
 *	struct msgbox_rxring *rx = msgbox_rxring_open(fd, 0, 0, 0);
 *	struct msgbox_msg m = { .data = (uintptr_t)buf, .len = sizeof(buf) };
 *	while (msgbox_rxring_recvmsg(rx, &m) == 0) {
 *		handle(buf, m.len);
 *		m.len = sizeof(buf);
 *	}
 *
 * or, without copying, msgbox_rxring_next() / msgbox_rxring_consume().
 */
struct msgbox_rxring;

/* The ring size msgbox_rxring_open() takes for 0. */
#define MSGBOX_RXRING_DEFAULT_SIZE	(64 * 1024)

/**
 * msgbox_rxring_open() - set up and map a receive ring on a mailbox.
 * @fd:    a receiving descriptor of the mailbox.  Keep it open while the
 *         ring is in use: messages the ring cannot hold (calls, tracked
 *         messages, larger than the ring or than MSGBOX_RING_MSG_MAX but
 *         for what MSGBOX_RING_LARGE takes) are received through it.
 * @size:  bytes of ring: a power of two, at least the page size; 0 for
 *         MSGBOX_RXRING_DEFAULT_SIZE.
 * @type:  the selector, as struct msgbox_msg.type of a receive (0: all).
 * @flags: 0 or MSGBOX_MSG_EXCEPT, and MSGBOX_RING_LARGE: records larger
 *         than MSGBOX_RING_MSG_MAX, up to @size, from plain sends.
 *
 * Returns the ring, or NULL with errno: EBUSY (the mailbox has a ring),
 * EBADF (@fd does not receive), EOPNOTSUPP (a topic), EINVAL, ENOMEM,
 * EDQUOT/ENOSPC (the mapping counts against the caller's byte quota).
 */
struct msgbox_rxring *msgbox_rxring_open(int fd, size_t size, long long type,
					 unsigned int flags);

/**
 * msgbox_rxring_close() - unmap and close a ring (NULL is a no-op).
 *
 * Messages still in the ring are lost, as messages in any receiver's
 * buffer are; the mailbox and @fd stay.
 */
void msgbox_rxring_close(struct msgbox_rxring *rx);

/**
 * msgbox_rxring_fd() - the ring descriptor, for poll(2)/epoll(7): readable
 * while the ring holds a message or one it selects waits in the mailbox.
 */
int msgbox_rxring_fd(const struct msgbox_rxring *rx);

/**
 * msgbox_rxring_next() - the next record in the ring, or NULL if the ring
 * is empty.  Never enters the kernel.  The payload follows the record
 * header; it stays valid until msgbox_rxring_consume().  A NULL does not
 * mean that nothing is waiting: msgbox_rxring_recvmsg() also refills the
 * ring and takes what the ring cannot hold.
 */
const struct msgbox_ring_msg *msgbox_rxring_next(struct msgbox_rxring *rx);

/**
 * msgbox_rxring_consume() - release the record msgbox_rxring_next()
 * returned, making its room available to the kernel again.
 */
void msgbox_rxring_consume(struct msgbox_rxring *rx,
			   const struct msgbox_ring_msg *rec);

/**
 * msgbox_rxring_recvmsg() - receive the next message the ring selects.
 * @rx:  the ring.
 * @msg: in: data and len (the buffer), flags among NONBLOCK, TRUNC,
 *       TIMEOUT, ABSTIME and REALTIME with timeout_ns, as for
 *       msgbox_recvmsg(); out: as msgbox_recvmsg() fills it (token is
 *       non-zero for a call received through the mailbox descriptor).
 *
 * In order: the ring's records, then what MSGBOX_IOC_RING_ENTER moves in,
 * then a message the ring cannot hold; then it waits (poll(2) on the ring
 * descriptor) unless NONBLOCK.  Returns 0, or -1 with errno: EAGAIN,
 * ETIMEDOUT, EINTR, EMSGSIZE (the message is larger than len and TRUNC was
 * not given: it stays, msg->len says its size), EIDRM (destroyed, and
 * nothing left), EINVAL (another flag).
 */
int msgbox_rxring_recvmsg(struct msgbox_rxring *rx, struct msgbox_msg *msg);

#ifdef __cplusplus
}
#endif

#endif /* LIBMSGBOX_H */
