// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: the descriptors.  /dev/msgbox's ioctls (create, open, destroy)
 * and the mailbox file: read_iter/write_iter, poll, ioctls, fdinfo.
 *
 * A mailbox file's private_data is a struct msgbox_file: one reference on
 * its mailbox, dropped in ->release, and the calls received through this
 * file that await a reply (reply.c).  The fops' .owner pins the module while any mailbox
 * file is open, so rmmod refuses with EBUSY until the last one is closed.
 */
#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/xarray.h>
#include <linux/workqueue.h>
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "compat.h"
#include "msgbox.h"

/* An ioctl command with its size field cleared: the size may vary. */
#define MSGBOX_IOC_BASE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

/**
 * msgbox_copy_arg() - copy an extensible ioctl argument in.
 * @karg:  kernel copy.
 * @ksize: size of the kernel's structure.
 * @ver0:  size of the first version of the structure.
 * @cmd:   the ioctl command; _IOC_SIZE() is the caller's structure size.
 * @arg:   the user pointer.
 *
 * Return: 0, -EINVAL for a size below @ver0, -E2BIG for non-zero bytes past
 * what the kernel knows, -EFAULT.
 */
int msgbox_copy_arg(void *karg, size_t ksize, size_t ver0, unsigned int cmd,
		    unsigned long arg)
{
	size_t usize = _IOC_SIZE(cmd);

	if (usize < ver0)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, u64_to_user_ptr((u64)arg),
				     usize);
}

/* Copy a result out: as much as the caller's structure holds, zero the rest. */
static int msgbox_copy_out(void __user *uarg, size_t usize, const void *karg,
			   size_t ksize)
{
	if (copy_to_user(uarg, karg, min(usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

/*
 * struct msgbox_msg crosses twice per message, and batches cross it once
 * per entry: at the size this module knows, it comes in word by word under
 * one user_read_access_begin() (its padding is explicit and checked like
 * any field), as short payloads do, without copy_from_user()'s object-size
 * checks, which a struct on the stack of exactly the user's size does not
 * need.  Under emulation a string copy costs per byte: its 112 bytes (224
 * for a call's two) took more samples than 14 (28) loads and stores (see
 * msgbox-vm profile).  Other sizes take the extensible-struct path.  It
 * goes out field by field (unsafe_msgbox_msg_put()).
 */
static __always_inline int msgbox_struct_in(void *k, const void __user *u,
					    size_t size)
{
	const u64 __user *uw = u;
	u64 *kw = k;
	size_t i;

	BUILD_BUG_ON(sizeof(struct msgbox_msg) % sizeof(u64));
	if (!user_read_access_begin(u, size))
		return -EFAULT;
	for (i = 0; i < size / sizeof(u64); i++)
		unsafe_get_user(kw[i], &uw[i], efault);
	user_read_access_end();
	return 0;
efault:
	user_read_access_end();
	return -EFAULT;
}

/* Nonzero if any reserved field of @m is: all must be 0. */
static u64 msgbox_msg_reserved(const struct msgbox_msg *m)
{
	return m->__reserved[0] | m->__reserved[1] | m->__pad;
}

static int __msgbox_hot msgbox_msg_in(struct msgbox_msg *m,
				      const struct msgbox_msg __user *u, size_t usize)
{
	if (usize < MSGBOX_MSG_SIZE_VER0)
		return -EINVAL;
	if (usize != sizeof(*m))
		return copy_struct_from_user(m, sizeof(*m), u, usize);
	return msgbox_struct_in(m, u, sizeof(*m));
}

/*
 * The fields of @m out to @u, inside a user access window: false on a
 * fault (the caller ends the window).
 */
static __always_inline bool unsafe_msgbox_msg_put(struct msgbox_msg __user *u,
						  const struct msgbox_msg *m)
{
	unsafe_put_user(m->data, &u->data, efault);
	unsafe_put_user(m->len, &u->len, efault);
	unsafe_put_user(m->type, &u->type, efault);
	unsafe_put_user(m->priority, &u->priority, efault);
	unsafe_put_user(m->flags, &u->flags, efault);
	unsafe_put_user(m->timeout_ns, &u->timeout_ns, efault);
	unsafe_put_user(m->id, &u->id, efault);
	unsafe_put_user(m->send_time_ns, &u->send_time_ns, efault);
	unsafe_put_user(m->sender_pid, &u->sender_pid, efault);
	unsafe_put_user(m->sender_tid, &u->sender_tid, efault);
	unsafe_put_user(m->sender_uid, &u->sender_uid, efault);
	unsafe_put_user(m->sender_gid, &u->sender_gid, efault);
	unsafe_put_user(m->__reserved[0], &u->__reserved[0], efault);
	unsafe_put_user(m->__reserved[1], &u->__reserved[1], efault);
	unsafe_put_user(m->token, &u->token, efault);
	unsafe_put_user(m->deliveries, &u->deliveries, efault);
	unsafe_put_user(m->__pad, &u->__pad, efault);
	unsafe_put_user(m->ttl_ns, &u->ttl_ns, efault);
	return true;
efault:
	return false;
}

static __always_inline int msgbox_msg_out(struct msgbox_msg __user *u,
					  size_t usize,
					  const struct msgbox_msg *m)
{
	if (usize != sizeof(*m))
		return msgbox_copy_out(u, usize, m, sizeof(*m));
	if (!user_write_access_begin(u, sizeof(*u)))
		return -EFAULT;
	if (!unsafe_msgbox_msg_put(u, m))
		goto efault;
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

/*
 * A received message out: a short payload (@len of @p's bytes) to @dst and
 * then @n structures (one, or a call's two) to @u, all in one user access
 * window, @dst checked first: under emulation each window costs a few
 * translation-block exits.  False, with nothing done, if the payload is
 * not a short one (the caller copies the parts apart); else true, with
 * *@ret 0 or -EFAULT.
 */
static __always_inline bool msgbox_msgs_short_out(struct msgbox_msg __user *u,
						  const struct msgbox_msg *m,
						  int n, void __user *dst,
						  const struct msgbox_payload *p,
						  size_t len, int *ret)
{
	if (!p || p->nr_pages || len > MSGBOX_SHORT_COPY || len > p->len)
		return false;
	*ret = -EFAULT;
	if (!msgbox_short_may_copy(len) || !access_ok(dst, len) ||
	    !user_write_access_begin(u, n * sizeof(*u)))
		return true;
	unsafe_copy_to_user(dst, p->data, len, efault);
	if (!unsafe_msgbox_msg_put(u, m) ||
	    (n > 1 && !unsafe_msgbox_msg_put(u + 1, m + 1)))
		goto efault;
	*ret = 0;
efault:
	user_write_access_end();
	return true;
}

/*
 * struct msgbox_call and struct msgbox_reply_recv (@k, of @ksize bytes) are
 * two struct msgbox_msg (main.c checks the layouts): at the size this
 * module knows, they cross as one does; other sizes take the
 * extensible-struct path, from @ver0 bytes up.
 */
static int __msgbox_hot msgbox_msg2_in(void *k, size_t ksize, size_t ver0,
				       unsigned int cmd, unsigned long arg)
{
	if (_IOC_SIZE(cmd) != ksize)
		return msgbox_copy_arg(k, ksize, ver0, cmd, arg);
	return msgbox_struct_in(k, u64_to_user_ptr((u64)arg), ksize);
}

static int msgbox_copy_result(unsigned long arg, unsigned int cmd,
			      const void *karg, size_t ksize)
{
	return msgbox_copy_out(u64_to_user_ptr((u64)arg), _IOC_SIZE(cmd), karg,
			       ksize);
}

static void msgbox_ack_work(struct work_struct *work);

/**
 * struct msgbox_file - what one open mailbox file holds
 * @mb:    the mailbox (a reference).
 * @counted: the file counts in msgbox.nr_files (every file but an inbox's
 *         sending ones, which must not keep the inbox alive).
 * @inflight: messages received through this file in ack mode and not yet
 *         settled, by message id (ids are unique in the mailbox).  Its
 *         lock also guards their ack deadlines.
 * @ack_work: redelivers messages whose ack deadline passed (armed for the
 *         earliest deadline; cancelled before the file goes).
 * @track_lock: protects @tracked and @nr_tracked.
 * @tracked: statuses of messages sent through this file with
 *         MSGBOX_MSG_TRACK (struct msgbox_track.node), each a reference.
 * @nr_tracked: length of @tracked, at most MSGBOX_TRACK_MAX.
 * @calls: requests received through this file and not yet answered, each
 *         a struct msgbox_pending_call reference at the lowest free index.
 *         The xarray's own lock serialises them; an entry is taken back by
 *         the one REPLY (or the release) that erases it; while the
 *         receive that took it copies out, the entry is
 *         MSGBOX_CALL_RESERVED, which no REPLY takes.  Index 0 is not in
 *         the xarray but in @call_slot.
 * @call_slot: the entry of @calls at index 0, or NULL, under the lock of
 *         @calls: a server that answers one call at a time uses it alone,
 *         without the xarray's walks (msgbox_calls_reserve() and the
 *         helpers after it).
 * @call_serial: counts the calls received here (under the lock of
 *         @calls).  A reply token is the call's index plus one in its low
 *         MSGBOX_TOKEN_INDEX_BITS and this count above (msgbox_token()),
 *         so that an answered token is not handed out again until 2^40 - 1
 *         other calls were received: a stale REPLY meets ENOENT, not the
 *         call that reuses its index.
 */
struct msgbox_file {
	struct msgbox *mb;
	bool counted;
	struct xarray inflight;
	struct delayed_work ack_work;
	spinlock_t track_lock;	/* see above */
	struct list_head tracked;
	unsigned int nr_tracked;
	struct xarray calls;
	void *call_slot;
	u64 call_serial;
};

/* Unanswered calls one open file may hold: 2^24 - 1 (then EBUSY). */
#define MSGBOX_TOKEN_INDEX_BITS	24
#define MSGBOX_TOKEN_INDEX_MASK	((1ULL << MSGBOX_TOKEN_INDEX_BITS) - 1)

/* An entry of @calls whose receive is still copying out. */
#define MSGBOX_CALL_RESERVED	xa_mk_value(0)

/* The reply token of the call at @index of @calls, received as @serial. */
static u64 msgbox_token(u32 index, u64 serial)
{
	return serial << MSGBOX_TOKEN_INDEX_BITS | ((u64)index + 1);
}

static struct msgbox_file *msgbox_file_of(struct file *file)
{
	return file->private_data;
}

/*
 * Entries of struct msgbox_file.calls, at index 0 in @call_slot, others in
 * the xarray.  Reserve a free index for a call being received, under
 * xa_lock(&mf->calls), which __xa_alloc() may drop and take again.
 */
static int __msgbox_hot msgbox_calls_reserve(struct msgbox_file *mf, u32 *index)
{
	lockdep_assert_held(&mf->calls.xa_lock);
	if (!mf->call_slot) {
		mf->call_slot = MSGBOX_CALL_RESERVED;
		*index = 0;
		return 0;
	}
	return __xa_alloc(&mf->calls, index, MSGBOX_CALL_RESERVED,
			  XA_LIMIT(1, MSGBOX_TOKEN_INDEX_MASK - 1),
			  GFP_KERNEL_ACCOUNT);
}

/* The entry at @index, under xa_lock(&mf->calls). */
static __msgbox_hot void *msgbox_calls_load(struct msgbox_file *mf, u32 index)
{
	lockdep_assert_held(&mf->calls.xa_lock);
	return index ? xa_load(&mf->calls, index) : mf->call_slot;
}

/*
 * Store @call at @index, reserved: false only if the xarray failed, which
 * a reserved index does not.
 */
static bool __msgbox_hot msgbox_calls_store(struct msgbox_file *mf, u32 index,
					    struct msgbox_pending_call *call)
{
	if (index)
		return !xa_is_err(xa_store(&mf->calls, index, call,
					   GFP_KERNEL_ACCOUNT));
	xa_lock(&mf->calls);
	mf->call_slot = call;
	xa_unlock(&mf->calls);
	return true;
}

/* Free @index (reserved, or holding a call taken back). */
static void msgbox_calls_erase(struct msgbox_file *mf, u32 index)
{
	if (index) {
		xa_erase(&mf->calls, index);
		return;
	}
	xa_lock(&mf->calls);
	mf->call_slot = NULL;
	xa_unlock(&mf->calls);
}

/* Take @call back from @index; false if it is no longer there. */
static bool __msgbox_hot msgbox_calls_take(struct msgbox_file *mf, u32 index,
					   struct msgbox_pending_call *call)
{
	bool taken;

	if (index)
		return xa_cmpxchg(&mf->calls, index, call, NULL, 0) == call;
	xa_lock(&mf->calls);
	taken = mf->call_slot == call;
	if (taken)
		mf->call_slot = NULL;
	xa_unlock(&mf->calls);
	return taken;
}

/*
 * At release: fail the call of an entry of struct msgbox_file.calls and
 * drop the file's reference.  A reservation is never left at release.
 */
static void msgbox_calls_reset(void *entry)
{
	if (!entry || xa_is_value(entry))
		return;
	msgbox_call_fail(entry, -ECONNRESET);
	msgbox_call_put(entry);
}

static struct msgbox *msgbox_file_box(struct file *file)
{
	return msgbox_file_of(file)->mb;
}

/* The mailbox of a mailbox file (the file holds the reference). */
struct msgbox *msgbox_file_mailbox(struct file *file)
{
	return msgbox_file_box(file);
}

/*
 * A request taken by a receive: true if it is to be discarded because its
 * caller gave up while it was queued (the receive then looks again);
 * otherwise its caller can no longer withdraw it.  In ack mode it was
 * counted in flight: settling it releases that.
 */
static bool msgbox_discard_abandoned(struct msgbox *mb,
				     struct msgbox_message *msg, bool ack)
{
	if (!msg->call || !msgbox_call_take(msg->call))
		return false;
	if (ack)
		msgbox_settle(mb, msg, MSGBOX_SETTLE_ACK);
	else
		msgbox_message_free(msg);
	return true;
}

/* Blocking mode of read(2)/write(2): the descriptor's O_NONBLOCK only. */
static void msgbox_rw_wait(struct kiocb *iocb, struct msgbox_wait *wait)
{
	memset(wait, 0, sizeof(*wait));
	wait->nonblock = (iocb->ki_filp->f_flags & O_NONBLOCK) ||
			 (iocb->ki_flags & IOCB_NOWAIT);
	wait->sig_err = -ERESTARTSYS;
}

/*
 * Send @msg, a bare header, straight into a waiting receiver's buffer from
 * the sender's at @ubuf (pinned for the copy).  -EAGAIN: send it the usual
 * way (also when the sender's buffer cannot be pinned: that way reports
 * the fault).
 */
static int msgbox_send_user_direct(struct msgbox *mb,
				   struct msgbox_message *msg,
				   void __user *ubuf,
				   const struct msgbox_wait *wait, u64 *idp)
{
	struct msgbox_direct src = { .ubuf = ubuf };
	int ret;

	if (msgbox_direct_pin(&src, msg->len, false))
		return -EAGAIN;
	ret = msgbox_send_direct(mb, msg, &src, wait, idp);
	msgbox_direct_release(&src);
	return ret;
}

static ssize_t __msgbox_hot msgbox_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct msgbox *mb = msgbox_file_box(iocb->ki_filp);
	struct msgbox_direct direct = {};
	struct msgbox_recv_args args;
	struct msgbox_message *msg;
	struct msgbox_wait wait;
	ssize_t ret;
	size_t len;

	if (mb->topic)
		return -EOPNOTSUPP;
	msgbox_recv_args_init(&args, 0, 0);
	args.size = iov_iter_count(to);
	msgbox_rw_wait(iocb, &wait);
	/* read(2)'s one user buffer may take a large message directly. */
	if (iter_is_ubuf(to) && !wait.nonblock) {
		direct.ubuf = to->ubuf + to->iov_offset;
		args.direct = &direct;
	}
	do {
		ret = msgbox_recv(mb, &args, &wait, NULL, &msg);
		if (ret)
			goto out;
	} while (msgbox_discard_abandoned(mb, msg, false));
	len = msg->len;
	if (!msg->payload) {
		iov_iter_advance(to, len);	/* copied in already */
	} else if (msgbox_payload_to_iter(msg->payload, len, to) != len) {
		msgbox_requeue(mb, msg);
		ret = -EFAULT;
		goto out;
	}
	/* read(2) has no way to hand out a reply token. */
	if (msg->call)
		msgbox_call_fail(msg->call, -ECONNRESET);
	msgbox_message_recycle(mb, msg);
	ret = len;
out:
	msgbox_direct_release(&direct);
	return ret;
}

static ssize_t __msgbox_hot msgbox_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct msgbox *mb = msgbox_file_box(iocb->ki_filp);
	size_t len = iov_iter_count(from), copied;
	struct msgbox_message *msg;
	struct msgbox_wait wait;
	u64 id;
	int ret;

	if (len > READ_ONCE(mb->max_msg_size))
		return -EMSGSIZE;
	msg = msgbox_message_alloc_bare(mb, len, MSGBOX_TYPE_DEFAULT, 0);
	if (!msg)
		return -ENOMEM;
	msgbox_rw_wait(iocb, &wait);
	/* write(2)'s one user buffer may go straight to a receiver or ring. */
	if (len >= MSGBOX_DIRECT_MIN && !mb->topic && iter_is_ubuf(from) &&
	    !(iocb->ki_flags & IOCB_NOWAIT) &&
	    (READ_ONCE(mb->nr_recv_waiters) || READ_ONCE(mb->ring_large))) {
		ret = msgbox_send_user_direct(mb, msg,
					      from->ubuf + from->iov_offset,
					      &wait, &id);
		if (!ret) {
			iov_iter_advance(from, len);
			return len;
		}
		if (ret != -EAGAIN)
			goto out_free;
	}
	ret = msgbox_message_add_payload(mb, msg);
	if (ret)
		goto out_free;
	copied = msgbox_payload_from_iter(msg->payload, len, from);
	if (copied != len) {
		iov_iter_revert(from, copied);	/* as copy_from_iter_full() */
		ret = -EFAULT;
		goto out_free;
	}
	if (mb->topic)
		ret = msgbox_publish(mb, msg, &wait, &id);
	else
		ret = msgbox_send(mb, msg, &wait, false, &id);
	if (ret)
		goto out_free;
	return len;

out_free:
	msgbox_message_free(msg);
	return ret;
}

/*
 * Check a struct msgbox_msg for an operation allowing @allowed flags, and
 * decode its blocking mode into @wait.  A relative timeout of 0 means "try
 * once".  Untimed sleeps and sleeps until a deadline (ABSTIME) restart
 * after a signal with SA_RESTART, and after a stop and continue; waits
 * with a relative timeout return EINTR, as a restart would begin the
 * timeout again.
 */
static __always_inline int msgbox_msg_check(struct file *file,
					    const struct msgbox_msg *m,
					    u32 allowed,
					    struct msgbox_wait *wait)
{
	u32 timeflags = MSGBOX_MSG_ABSTIME | MSGBOX_MSG_REALTIME;

	if ((m->flags & ~allowed) | msgbox_msg_reserved(m))
		return -EINVAL;
	memset(wait, 0, sizeof(*wait));
	wait->nonblock = (file->f_flags & O_NONBLOCK) ||
			 (m->flags & MSGBOX_MSG_NONBLOCK);
	wait->poll = m->flags & MSGBOX_MSG_POLL;
	wait->sig_err = -ERESTARTSYS;
	wait->clock = CLOCK_MONOTONIC;
	if (!(m->flags & MSGBOX_MSG_TIMEOUT))
		return (m->timeout_ns | (m->flags & timeflags)) ? -EINVAL : 0;
	if ((m->flags & timeflags) == MSGBOX_MSG_REALTIME)
		return -EINVAL;

	/*
	 * A deadline is the same when the call restarts; a relative timeout
	 * would begin again, so those waits end with EINTR.
	 */
	wait->sig_err = (m->flags & MSGBOX_MSG_ABSTIME) ? -ERESTARTSYS : -EINTR;
	wait->timed = true;
	if (m->flags & MSGBOX_MSG_ABSTIME) {
		if (m->flags & MSGBOX_MSG_REALTIME)
			wait->clock = CLOCK_REALTIME;
		wait->deadline = ns_to_ktime(min_t(u64, m->timeout_ns,
						   KTIME_MAX));
	} else {
		if (!m->timeout_ns)
			wait->nonblock = true;
		wait->deadline = ktime_add_safe(ktime_get(),
						ns_to_ktime(min_t(u64, m->timeout_ns,
								  KTIME_MAX)));
	}
	return 0;
}

/* Keep @t for MSGBOX_IOC_STATUS; false if this file tracks too many. */
static bool msgbox_track_add(struct msgbox_file *mf, struct msgbox_track *t,
			     u64 id)
{
	bool ok;

	spin_lock(&mf->track_lock);
	ok = mf->nr_tracked < MSGBOX_TRACK_MAX;
	if (ok) {
		t->id = id;
		list_add_tail(&msgbox_track_get(t)->node, &mf->tracked);
		mf->nr_tracked++;
	}
	spin_unlock(&mf->track_lock);
	return ok;
}

/*
 * The checks every send makes, in the order that decides which errno a
 * caller sees, and its wait mode into @wait.  @nowait: never sleep
 * (io_uring), so MSGBOX_MSG_WAIT_ACK, which waits after sending, is
 * refused.
 */
static int __msgbox_hot msgbox_send_check(struct file *file, const struct msgbox_msg *m,
					  bool nowait, struct msgbox_wait *wait)
{
	struct msgbox *mb = msgbox_file_box(file);
	int ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = msgbox_msg_check(file, m, MSGBOX_MSG_SEND_FLAGS, wait);
	if (ret)
		return ret;
	if (nowait) {
		if (m->flags & MSGBOX_MSG_WAIT_ACK)
			return -EINVAL;
		wait->nonblock = true;
	}
	if (m->type < 1 || m->priority > MSGBOX_PRIO_MAX || m->token)
		return -EINVAL;
	/* A publication has no single receiver to wait for or track. */
	if (mb->topic && (m->flags & (MSGBOX_MSG_SYNC | MSGBOX_MSG_TRACK |
				      MSGBOX_MSG_WAIT_ACK)))
		return -EINVAL;
	if (m->len > READ_ONCE(mb->max_msg_size))
		return -EMSGSIZE;
	return 0;
}

/*
 * Send one struct msgbox_msg, already copied in to @mp; @uarg is where it
 * came from, for the id written back.  @nowait: as for
 * msgbox_send_check().
 */
static long __msgbox_hot msgbox_do_send(struct file *file, struct msgbox_msg *mp,
					struct msgbox_msg __user *uarg, bool nowait,
					struct msgbox_wake_batch *batch)
{
	struct msgbox_file *mf = msgbox_file_of(file);
	struct msgbox_track *track = NULL;
	struct msgbox *mb = mf->mb;
	struct msgbox_message *msg;
	struct msgbox_msg m = *mp;
	struct msgbox_wait wait;
	bool tracked, direct;
	int ret;

	ret = msgbox_send_check(file, &m, nowait, &wait);
	if (ret)
		return ret;
	if (!mb->topic)
		wait.batch = batch;
	tracked = m.flags & (MSGBOX_MSG_TRACK | MSGBOX_MSG_WAIT_ACK);
	/* Room for the status before sending, so that a sent message is. */
	if ((m.flags & MSGBOX_MSG_TRACK) &&
	    READ_ONCE(mf->nr_tracked) >= MSGBOX_TRACK_MAX)
		return -ENOBUFS;
	/* Fail before sending if the id cannot be written back. */
	if (put_user(0, &uarg->id))
		return -EFAULT;

	/* A receive ring in line for it: one copy, no kernel buffer. */
	if (!tracked && !mb->topic && m.len < MSGBOX_DIRECT_MIN &&
	    READ_ONCE(mb->ring)) {
		ret = msgbox_ring_send_user(mb, &m, 1, &wait, &m.id);
		if (ret < 0)
			return ret;
		if (ret) {
			ret = 0;
			goto sent;
		}
	}
	if (tracked) {
		track = msgbox_track_alloc();
		if (!track)
			return -ENOMEM;
	}
	/* A large message and a receiver waiting or a ring: one copy. */
	direct = m.len >= MSGBOX_DIRECT_MIN && !mb->topic &&
		 (READ_ONCE(mb->nr_recv_waiters) || READ_ONCE(mb->ring_large));
	msg = msgbox_message_alloc_bare(mb, m.len, m.type, m.priority);
	if (!msg) {
		ret = -ENOMEM;
		goto out_put;
	}
	msgbox_message_set_ttl(msg, m.ttl_ns);
	if (track)
		msg->track = msgbox_track_get(track);
	if (direct) {
		ret = msgbox_send_user_direct(mb, msg, u64_to_user_ptr(m.data),
					      &wait, &m.id);
		if (!ret)
			goto sent;
		if (ret != -EAGAIN)
			goto out_free;
	}
	ret = msgbox_message_add_payload(mb, msg);
	if (ret)
		goto out_free;
	ret = msgbox_payload_from_user(msg->payload, u64_to_user_ptr(m.data),
				       m.len);
	if (ret)
		goto out_free;
	if (mb->topic)
		ret = msgbox_publish(mb, msg, &wait, &m.id);
	else
		ret = msgbox_send(mb, msg, &wait, m.flags & MSGBOX_MSG_SYNC,
				  &m.id);
	if (ret)
		goto out_free;
sent:
	/*
	 * Writability of the id was checked before sending; should the
	 * mapping vanish since, the message is sent all the same and an
	 * EFAULT would make a retrying caller send it twice.
	 */
	if (put_user(m.id, &uarg->id))
		pr_debug("msgbox: send id not reported\n");
	/* The check above raced with another send at worst: still bounded. */
	if ((m.flags & MSGBOX_MSG_TRACK) && !msgbox_track_add(mf, track, m.id))
		pr_debug("msgbox: too many tracked messages\n");
	if (m.flags & MSGBOX_MSG_WAIT_ACK) {
		/* The receiver must be awake to ack. */
		if (wait.batch)
			msgbox_wake_batch_flush(wait.batch);
		wait.sig_err = -EINTR;
		ret = msgbox_track_wait(track, &wait);
	}
	goto out_put;

out_free:
	msgbox_message_free(msg);
out_put:
	if (track)
		msgbox_track_put(track);
	return ret;
}

static long __msgbox_hot msgbox_ioc_send(struct file *file, unsigned int cmd,
					 unsigned long arg)
{
	struct msgbox_msg m;
	int ret;

	ret = msgbox_msg_in(&m, u64_to_user_ptr((u64)arg), _IOC_SIZE(cmd));
	if (ret)
		return ret;
	return msgbox_do_send(file, &m, u64_to_user_ptr((u64)arg), false, NULL);
}

static long msgbox_ioc_status(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct msgbox_file *mf = msgbox_file_of(file);
	struct msgbox_track *t, *found = NULL;
	struct msgbox_status st;
	int ret;

	ret = msgbox_copy_arg(&st, sizeof(st), MSGBOX_STATUS_SIZE_VER0, cmd,
			      arg);
	if (ret)
		return ret;
	if (st.__pad)
		return -EINVAL;
	spin_lock(&mf->track_lock);
	list_for_each_entry(t, &mf->tracked, node) {
		if (t->id != st.id)
			continue;
		found = t;
		st.status = msgbox_track_status(t);
		/* A final status is reported once, then forgotten. */
		if (msgbox_status_final(st.status)) {
			list_del(&t->node);
			mf->nr_tracked--;
		} else {
			found = NULL;
		}
		ret = 1;
		break;
	}
	spin_unlock(&mf->track_lock);
	if (found)
		msgbox_track_put(found);
	if (!ret)
		return -ENOENT;
	return msgbox_copy_result(arg, cmd, &st, sizeof(st));
}

/*
 * A message's sender as the current task names it.  In the initial
 * namespaces every id is its own translation: skip the lookups, which are
 * four more pages of kernel text for every message received.
 */
static __always_inline void msgbox_sender_out(struct msgbox_msg *m,
					      const struct msgbox_message *msg)
{
	struct user_namespace *uns = current_user_ns();

	if (ns_of_pid(task_pid(current)) == &init_pid_ns) {
		m->sender_pid = pid_nr(msg->tgid);
		m->sender_tid = pid_nr(msg->tid);
	} else {
		m->sender_pid = pid_vnr(msg->tgid);
		m->sender_tid = pid_vnr(msg->tid);
	}
	if (uns == &init_user_ns && uid_valid(msg->uid) &&
	    gid_valid(msg->gid)) {
		m->sender_uid = __kuid_val(msg->uid);
		m->sender_gid = __kgid_val(msg->gid);
	} else {
		m->sender_uid = from_kuid_munged(uns, msg->uid);
		m->sender_gid = from_kgid_munged(uns, msg->gid);
	}
}

/* Copy a received (or peeked) message out; false on a fault. */
static bool msgbox_copy_msg_out(void __user *uarg, size_t usize,
				struct msgbox_msg *m,
				const struct msgbox_message *msg)
{
	size_t len = min_t(u64, msg->len, m->len);
	int ret;

	m->len = msg->len;
	m->type = msg->type;
	m->priority = msg->priority;
	m->id = msg->id;
	m->send_time_ns = msg->send_time_ns;
	msgbox_sender_out(m, msg);
	if (usize == sizeof(*m) &&
	    msgbox_msgs_short_out(uarg, m, 1, u64_to_user_ptr(m->data),
				  msg->payload, len, &ret))
		return !ret;
	/* A direct message's payload is in the caller's buffer already. */
	if (msg->payload &&
	    msgbox_payload_to_user(msg->payload, u64_to_user_ptr(m->data), len))
		return false;
	return !msgbox_msg_out(uarg, usize, m);
}

/* The ack deadline of a message delivered now, 0 for none; saturates. */
static u64 msgbox_ack_deadline(const struct msgbox *mb)
{
	u64 timeout = READ_ONCE(mb->ack_timeout_ns), deadline;

	if (!timeout)
		return 0;
	if (check_add_overflow(ktime_get_ns(), timeout, &deadline))
		deadline = U64_MAX;
	return deadline;
}

/*
 * Arm the ack deadline work for @deadline_ns unless it runs sooner: a
 * deadline earlier than the armed one (a lowered timeout) pulls it in.
 * The inflight lock serialises the armers' look at the timer.
 */
static void msgbox_arm_ack_work(struct msgbox_file *mf, u64 deadline_ns)
{
	struct delayed_work *dw = &mf->ack_work;
	u64 now = ktime_get_ns();
	unsigned long delay = 0;

	if (deadline_ns > now)
		delay = min_t(u64, nsecs_to_jiffies64(deadline_ns - now) + 1,
			      MAX_JIFFY_OFFSET);
	xa_lock(&mf->inflight);
	if (!delayed_work_pending(dw))
		queue_delayed_work(system_wq, dw, delay);
	else if (timer_pending(&dw->timer) &&
		 time_before(jiffies + delay, dw->timer.expires))
		mod_delayed_work(system_wq, dw, delay);
	xa_unlock(&mf->inflight);
}

/*
 * Redeliver the messages held in flight here past their ack deadline, and
 * re-arm for the earliest remaining one.  Deadlines are read under the
 * xarray's lock, which an ACK's erase also takes, so a message is never
 * read after another path settled (and freed) it.
 */
static void msgbox_ack_work(struct work_struct *work)
{
	struct msgbox_file *mf = container_of(to_delayed_work(work),
					      struct msgbox_file, ack_work);
	struct msgbox_message *msg, *late[16];
	XA_STATE(xas, &mf->inflight, 0);
	u64 now = ktime_get_ns();
	u64 next = 0;
	int n = 0, i;

	xas_lock(&xas);
	xas_for_each(&xas, msg, ULONG_MAX) {
		/* A slot reserved for a receive still copying out. */
		if (xa_is_zero(msg) || !msg->ack_deadline_ns)
			continue;
		if (msg->ack_deadline_ns > now || n == ARRAY_SIZE(late)) {
			if (!next || msg->ack_deadline_ns < next)
				next = msg->ack_deadline_ns;
			continue;
		}
		xas_store(&xas, NULL);
		late[n++] = msg;
	}
	xas_unlock(&xas);

	for (i = 0; i < n; i++)
		msgbox_settle(mf->mb, late[i], MSGBOX_SETTLE_REDELIVER);
	if (next)
		msgbox_arm_ack_work(mf, next);
}

/**
 * msgbox_recv_req_init() - decode a receive.
 * @file:   the mailbox file.
 * @rq:     filled in; release with msgbox_recv_req_release().
 * @mp:     the caller's struct msgbox_msg, already copied in.
 * @uarg:   where it came from, for the result.
 * @usize:  its size as the caller knows it.
 * @nowait: force a non-blocking receive (later entries of a batch).
 *
 * Return: 0, -EBADF, -EOPNOTSUPP, -EINVAL, -ESRCH, -ENOMEM.
 */
int __msgbox_hot msgbox_recv_req_init(struct file *file, struct msgbox_recv_req *rq,
				      const struct msgbox_msg *mp, void __user *uarg,
				      size_t usize, bool nowait)
{
	struct msgbox *mb = msgbox_file_box(file);
	const struct msgbox_msg *m = mp;
	int ret;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (mb->topic)
		return -EOPNOTSUPP;
	ret = msgbox_msg_check(file, m, MSGBOX_MSG_RECV_FLAGS, &rq->wait);
	if (ret)
		return ret;
	if (nowait)
		rq->wait.nonblock = true;
	if ((m->flags & MSGBOX_MSG_EXCEPT) && m->type <= 0)
		return -EINVAL;
	if ((m->flags & MSGBOX_MSG_ACK) && (m->flags & MSGBOX_MSG_PEEK))
		return -EINVAL;
	/* In flight, it holds room a channel never has: it would wait forever. */
	if ((m->flags & MSGBOX_MSG_ACK) && !READ_ONCE(mb->max_msgs))
		return -EINVAL;
	rq->m = *m;
	rq->uarg = uarg;
	rq->usize = usize;
	rq->copy = NULL;
	memset(&rq->direct, 0, sizeof(rq->direct));
	rq->direct.ubuf = u64_to_user_ptr(m->data);
	msgbox_recv_args_init(&rq->args, m->type, m->flags);
	rq->args.size = min_t(u64, m->len, SIZE_MAX);
	if (!rq->args.peek && !rq->args.ack)
		rq->args.direct = &rq->direct;
	if (m->flags & MSGBOX_MSG_FROM) {
		rq->args.from = find_get_pid(m->sender_pid);
		if (!rq->args.from || m->sender_pid <= 0) {
			put_pid(rq->args.from);
			return -ESRCH;
		}
	}
	if (rq->args.peek) {
		rq->copy = msgbox_message_header_alloc();
		if (!rq->copy) {
			put_pid(rq->args.from);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Undo msgbox_recv_req_init() once the receive is over. */
void msgbox_recv_req_release(struct msgbox_recv_req *rq)
{
	if (rq->copy)
		msgbox_message_header_free(rq->copy);
	if (rq->args.from)
		put_pid(rq->args.from);
	msgbox_direct_release(&rq->direct);
}

/**
 * msgbox_recv_req_return() - give back a message that reached nobody.
 * @file: the mailbox file it was received through.
 * @rq:   the receive.
 * @msg:  the message msgbox_recv() returned for @rq.
 */
void msgbox_recv_req_return(struct file *file, struct msgbox_recv_req *rq,
			    struct msgbox_message *msg)
{
	struct msgbox *mb = msgbox_file_box(file);

	if (!msg->payload) {
		/*
		 * Copied straight into the caller's buffer: its bytes exist
		 * only there now, where the caller may have changed them.
		 * Requeued, they would reach the next receiver under the
		 * sender's stamped credentials: dropped instead, as its
		 * tracked status says.
		 */
		msgbox_track_set(msg, MSGBOX_STATUS_DEAD_LETTER);
		msgbox_count_drops(mb, 1);
		msgbox_message_free(msg);
	} else if (rq->args.peek) {
		rq->copy = NULL;
		msgbox_message_free(msg);	/* a copy: the original stays */
	} else if (rq->args.ack) {
		msgbox_settle(mb, msg, MSGBOX_SETTLE_RETURN);
	} else {
		msgbox_requeue(mb, msg);
	}
}

/**
 * msgbox_recv_req_deliver() - hand a received message to the caller.
 * @file: the mailbox file.
 * @rq:   the receive.
 * @msg:  the message msgbox_recv() returned for @rq, owned by the caller.
 *
 * Copies the message and its metadata out; a request gets a reply token,
 * a message received in ack mode stays in flight on this file.  If nothing
 * can reach the caller, the message goes back where it was.
 *
 * Return: 0 (rq->m.len is the message's length), 1 if @msg was an
 * abandoned request, discarded (receive again), or a negative errno.
 */
int __msgbox_hot msgbox_recv_req_deliver(struct file *file, struct msgbox_recv_req *rq,
					 struct msgbox_message *msg)
{
	struct msgbox_file *mf = msgbox_file_of(file);
	struct msgbox *mb = mf->mb;
	bool ack = rq->args.ack;
	struct msgbox_msg *m = &rq->m;
	u64 token = 0;
	u32 index = 0;
	int ret;

	if (rq->args.peek)
		rq->copy = NULL;	/* @msg is that copy now */
	else if (msgbox_discard_abandoned(mb, msg, ack))
		return 1;

	/*
	 * A request: this file keeps the call until it replies.  Its token
	 * is only reserved until the copy-out succeeded: another thread's
	 * REPLY must not take the call of a receive that may still fail.
	 * The reservation is MSGBOX_CALL_RESERVED, not NULL, which means
	 * a free index (in the slot as in the xarray).
	 */
	if (msg->call) {
		xa_lock(&mf->calls);
		ret = msgbox_calls_reserve(mf, &index);
		token = msgbox_token(index, ++mf->call_serial);
		xa_unlock(&mf->calls);
		if (ret < 0)
			goto out_return;
		msgbox_call_set_token(msg->call, token);
	}
	/*
	 * Acknowledged delivery: the slot that will hold it in flight is
	 * reserved before the copy-out, whose success must not be followed
	 * by a failure for want of memory (the caller would have a message
	 * that is given back and redelivered).
	 */
	if (ack && !token) {
		ret = xa_reserve(&mf->inflight, msg->id, GFP_KERNEL_ACCOUNT);
		if (ret)
			goto out_return;
	}
	m->token = token;
	m->deliveries = msg->deliveries;
	if (!msgbox_copy_msg_out(rq->uarg, rq->usize, m, msg)) {
		if (token)
			msgbox_calls_erase(mf, index);
		else if (ack)
			xa_release(&mf->inflight, msg->id);
		ret = -EFAULT;
		goto out_return;
	}
	if (token) {
		/* The slot is reserved: this cannot fail for want of memory. */
		if (likely(msgbox_calls_store(mf, index, msg->call))) {
			msg->call = NULL;	/* the reference lives there now */
		} else {
			WARN_ON_ONCE(1);
			msgbox_calls_erase(mf, index);
		}
		/* A call has its own delivery guarantee: settle at once. */
		if (ack)
			msgbox_settle(mb, msg, MSGBOX_SETTLE_ACK);
		else
			msgbox_message_recycle(mb, msg);
	} else if (ack) {
		u64 deadline = msgbox_ack_deadline(mb);

		/*
		 * Acknowledged delivery: this file holds it until settled.
		 * Published only now, once the caller has it: from here on
		 * an ACK, a deadline or the release may settle (and free) it.
		 */
		msg->ack_deadline_ns = deadline;
		if (xa_is_err(xa_store(&mf->inflight, msg->id, msg,
				       GFP_KERNEL_ACCOUNT))) {
			/*
			 * Only if an ACK of this very file guessed the id and
			 * erased the reservation, and memory ran out: the
			 * caller has the message, so take it as acknowledged.
			 */
			msgbox_settle(mb, msg, MSGBOX_SETTLE_ACK);
			return 0;
		}
		if (deadline)
			msgbox_arm_ack_work(mf, deadline);
	} else {
		msgbox_message_recycle(mb, msg);
	}
	return 0;

out_return:
	/* Nothing reached the caller: give the message back. */
	msgbox_recv_req_return(file, rq, msg);
	return ret;
}

/**
 * msgbox_recv_req_run() - receive, waiting as @rq says.
 * @file: the mailbox file.
 * @rq:   the receive.
 *
 * Return: 0, a negative errno, or -EIOCBQUEUED if rq->wait.park was
 * parked (its waker completes it).
 */
int __msgbox_hot msgbox_recv_req_run(struct file *file, struct msgbox_recv_req *rq)
{
	struct msgbox *mb = msgbox_file_box(file);
	struct msgbox_message *msg;
	int ret;

	do {
		ret = msgbox_recv(mb, &rq->args, &rq->wait, rq->copy, &msg);
		if (ret)
			return ret;
		ret = msgbox_recv_req_deliver(file, rq, msg);
	} while (ret == 1);
	return ret;
}

/*
 * Receive into one struct msgbox_msg, already copied in to @mp; the result
 * goes back to @uarg (@usize bytes as the caller knows the structure).
 * @nowait forces a non-blocking receive (later entries of a batch).
 */
static long __msgbox_hot msgbox_do_recv(struct file *file, struct msgbox_msg *mp,
					void __user *uarg, size_t usize, bool nowait,
					struct msgbox_wake_batch *batch)
{
	struct msgbox_recv_req rq;
	int ret;

	ret = msgbox_recv_req_init(file, &rq, mp, uarg, usize, nowait);
	if (ret)
		return ret;
	rq.wait.batch = batch;
	ret = msgbox_recv_req_run(file, &rq);
	msgbox_recv_req_release(&rq);
	return ret;
}

static long __msgbox_hot msgbox_ioc_recv(struct file *file, unsigned int cmd,
					 unsigned long arg)
{
	struct msgbox_msg m;
	int ret;

	ret = msgbox_msg_in(&m, u64_to_user_ptr((u64)arg), _IOC_SIZE(cmd));
	if (ret)
		return ret;
	return msgbox_do_recv(file, &m, u64_to_user_ptr((u64)arg),
			      _IOC_SIZE(cmd), false, NULL);
}

/* Plain entries a send batch prepares, then queues under one lock. */
#define MSGBOX_BATCH_CHUNK	16

/*
 * Send up to MSGBOX_BATCH_CHUNK entries of batch @b from entry @i on, as
 * long as they are plain: nothing to do but queue them (no rendezvous,
 * tracking, timeout or one-copy transfer).  Each is checked, allocated and
 * copied in as msgbox_do_send() would, then all are queued under one lock
 * (msgbox_send_many()); those that find no room then are sent one by one,
 * waiting as their own flags say.  The sender's id fields are written with
 * what they held (a check they can be written back) before any is queued.
 *
 * Return: the entries sent (0 if entry @i is not plain); *errp is the
 * error of the entry after them, or 0 if none failed.
 */
static u32 msgbox_send_chunk(struct file *file, const struct msgbox_batch *b,
			     u32 i, bool nowait, struct msgbox_wake_batch *wb,
			     int *errp)
{
	struct msgbox_message *msgs[MSGBOX_BATCH_CHUNK];
	struct msgbox_msg __user *us[MSGBOX_BATCH_CHUNK];
	struct msgbox *mb = msgbox_file_box(file);
	bool nonblock[MSGBOX_BATCH_CHUNK];
	u64 ids[MSGBOX_BATCH_CHUNK];
	struct msgbox_wait wait;
	u32 n = 0, j, done = 0;
	int err = 0, sent;

	if (mb->topic)
		goto out;
	while (n < MSGBOX_BATCH_CHUNK && i + n < b->count) {
		struct msgbox_msg __user *u =
			u64_to_user_ptr(b->msgs + (u64)(i + n) * b->msg_size);
		struct msgbox_message *msg;
		struct msgbox_msg m;

		err = msgbox_msg_in(&m, u, b->msg_size);
		if (err)
			break;
		if ((m.flags & ~MSGBOX_MSG_NONBLOCK) ||
		    m.len >= MSGBOX_DIRECT_MIN)
			break;		/* not plain: msgbox_do_send() */
		err = msgbox_send_check(file, &m, nowait, &wait);
		if (!err && put_user(m.id, &u->id))
			err = -EFAULT;
		if (err)
			break;
		msg = msgbox_message_alloc(mb, m.len, m.type, m.priority);
		if (!msg) {
			err = -ENOMEM;
			break;
		}
		err = msgbox_payload_from_user(msg->payload,
					       u64_to_user_ptr(m.data), m.len);
		if (err) {
			msgbox_message_free(msg);
			break;
		}
		msgbox_message_set_ttl(msg, m.ttl_ns);
		msgs[n] = msg;
		us[n] = u;
		nonblock[n] = wait.nonblock;
		n++;
	}
	if (!n)
		goto out;

	/* Plain entries differ only in whether they may sleep. */
	memset(&wait, 0, sizeof(wait));
	wait.sig_err = -ERESTARTSYS;
	wait.clock = CLOCK_MONOTONIC;
	wait.batch = wb;
	sent = msgbox_send_many(mb, msgs, n, &wait, ids);
	for (j = 0; j < n; j++) {
		int ret = 0;

		/* Not accepted at once: this one is sent as if alone. */
		if (sent < 0) {
			ret = sent;
		} else if ((int)j >= sent) {
			if ((i || j) && task_sigpending(current)) {
				ret = -EINTR;
			} else {
				wait.nonblock = nonblock[j];
				ret = msgbox_send(mb, msgs[j], &wait, false,
						  &ids[j]);
			}
		}
		if (ret) {
			err = ret;	/* the batch stops at this entry */
			break;
		}
	}
	/* Entries from the one that failed on were not sent. */
	done = j;
	for (; j < n; j++)
		msgbox_message_free(msgs[j]);
	/* Results out before touching user memory again. */
	msgbox_wake_batch_publish(wb);
	for (j = 0; j < done; j++)
		if (put_user(ids[j], &us[j]->id))
			pr_debug("msgbox: send id not reported\n");
out:
	*errp = err;
	return done;
}

/* Plain entries a batch copies into a receive ring under one lock... */
#define MSGBOX_RING_CHUNK	8
/* ...as long as their payloads add up to less than this. */
#define MSGBOX_RING_CHUNK_BYTES	(16 * 1024)

/*
 * Write @ids[0..@n) into the id fields of entries @i.. of batch @b, in
 * one user access section.  Returns how many were written: all, or those
 * before the first that could not be.
 */
static u32 msgbox_batch_put_ids(const struct msgbox_batch *b, u32 i,
				const u64 *ids, u32 n)
{
	void __user *base = u64_to_user_ptr(b->msgs + (u64)i * b->msg_size);
	u32 j = 0;

	if (!user_write_access_begin(base, (size_t)n * b->msg_size))
		return 0;
	for (; j < n; j++) {
		struct msgbox_msg __user *u = base + (size_t)j * b->msg_size;

		unsafe_put_user(ids[j], &u->id, efault);
	}
efault:
	user_write_access_end();
	return j;
}

/*
 * Send up to MSGBOX_RING_CHUNK entries of batch @b from entry @i on
 * straight from their buffers into the mailbox's receive ring, under one
 * lock (msgbox_ring_send_user()), as long as they are plain and the ring
 * takes them now.  Each entry is checked as msgbox_do_send() would check
 * it, and its id slot written once before it goes (as there, so that a
 * sent message's id can be reported); one that fails a check, or that the
 * ring does not take, is left to msgbox_send_chunk(), which takes the
 * usual path (and reports the error).
 *
 * Return: the entries sent; *errp is -EIDRM if the mailbox is gone, else 0.
 */
static noinline_for_stack u32
msgbox_ring_send_chunk(struct file *file, const struct msgbox_batch *b,
		       u32 i, bool nowait, struct msgbox_wake_batch *wb,
		       int *errp)
{
	struct msgbox_msg m[MSGBOX_RING_CHUNK];
	struct msgbox *mb = msgbox_file_box(file);
	u64 ids[MSGBOX_RING_CHUNK];
	struct msgbox_wait wait;
	u32 n = 0, j, bytes = 0;
	int sent;

	*errp = 0;
	while (n < MSGBOX_RING_CHUNK && i + n < b->count) {
		struct msgbox_msg __user *u =
			u64_to_user_ptr(b->msgs + (u64)(i + n) * b->msg_size);

		/* What fails here fails again, reported, further on. */
		if (msgbox_msg_in(&m[n], u, b->msg_size) ||
		    (m[n].flags & ~MSGBOX_MSG_NONBLOCK) ||
		    m[n].len >= MSGBOX_DIRECT_MIN ||
		    msgbox_send_check(file, &m[n], nowait, &wait))
			break;
		bytes += m[n].len;
		if (n && bytes > MSGBOX_RING_CHUNK_BYTES)
			break;
		n++;
	}
	/* The ids they hold, written back: they can be reported. */
	for (j = 0; j < n; j++)
		ids[j] = m[j].id;
	n = msgbox_batch_put_ids(b, i, ids, n);
	if (!n)
		return 0;
	memset(&wait, 0, sizeof(wait));
	wait.batch = wb;
	sent = msgbox_ring_send_user(mb, m, n, &wait, ids);
	if (sent < 0) {
		*errp = sent;
		return 0;
	}
	/* Results out before writing to user memory; sent whatever happens. */
	msgbox_wake_batch_publish(wb);
	if (msgbox_batch_put_ids(b, i, ids, sent) != sent)
		pr_debug("msgbox: send ids not reported\n");
	return sent;
}

/* Plain receive entries of a batch, taken under one lock. */
#define MSGBOX_RECV_CHUNK	8

/*
 * Receive into up to MSGBOX_RECV_CHUNK entries of batch @b from entry @i
 * on, as long as they are plain (no peek, ack or sender filter) and a
 * message is ready for each.  Each entry is checked as msgbox_do_recv()
 * would check it, then all take their messages under one lock
 * (msgbox_recv_many()) and are copied out in order.  An entry that cannot
 * be copied out gives its message back as msgbox_do_recv() would, and the
 * messages taken for the entries after it go back untouched.
 *
 * Return: the entries done (0 if entry @i is for msgbox_do_recv()); *errp
 * is the error of the entry after them, or 0 if none failed.
 */
static noinline_for_stack u32
msgbox_recv_chunk(struct file *file, const struct msgbox_batch *b, u32 i,
		  struct msgbox_wake_batch *wb, int *errp)
{
	struct msgbox_message *msgs[MSGBOX_RECV_CHUNK];
	struct msgbox_msg m[MSGBOX_RECV_CHUNK];
	struct msgbox *mb = msgbox_file_box(file);
	u32 special = MSGBOX_MSG_PEEK | MSGBOX_MSG_ACK | MSGBOX_MSG_FROM |
		      MSGBOX_MSG_RING;
	struct msgbox_recv_req rq;
	struct msgbox_wait wait;
	int n = 0, j, taken;
	u32 done = 0;
	int err = 0;

	*errp = 0;
	while (n < MSGBOX_RECV_CHUNK && i + n < b->count) {
		void __user *u =
			u64_to_user_ptr(b->msgs + (u64)(i + n) * b->msg_size);

		/* What fails here fails again, reported, in msgbox_do_recv(). */
		if (msgbox_msg_in(&m[n], u, b->msg_size) ||
		    (m[n].flags & special) ||
		    msgbox_recv_req_init(file, &rq, &m[n], u, b->msg_size,
					 true))
			break;
		msgbox_recv_req_release(&rq);
		n++;
	}
	if (!n)
		return 0;

	memset(&wait, 0, sizeof(wait));
	wait.batch = wb;
	taken = msgbox_recv_many(mb, m, n, &wait, msgs);
	/* Results out before copying out to user memory. */
	msgbox_wake_batch_publish(wb);
	for (j = 0; j < taken; j++) {
		void __user *u =
			u64_to_user_ptr(b->msgs + (u64)(i + j) * b->msg_size);

		/* As checked above: nothing to allocate, nothing to fail. */
		if (WARN_ON_ONCE(msgbox_recv_req_init(file, &rq, &m[j], u,
						      b->msg_size, true))) {
			err = -EINVAL;
			break;
		}
		err = msgbox_recv_req_deliver(file, &rq, msgs[j]);
		msgbox_recv_req_release(&rq);
		if (err) {
			/* Given back (or, an abandoned call, dropped). */
			if (err == 1)
				err = 0;	/* the entry receives again */
			j++;
			break;
		}
		done++;
	}
	for (; j < taken; j++)	/* never delivered: back as it was */
		msgbox_requeue(mb, msgs[j]);
	*errp = err;
	return done;
}

/*
 * MSGBOX_IOC_SEND_BATCH and MSGBOX_IOC_RECV_BATCH: many messages per call,
 * in order, each entry exactly as its single ioctl would handle it.
 * A batch stops at the first entry that fails; a receive batch also stops
 * quietly when nothing more is ready (only its first entry may wait).
 * Returns the entries done, or the first entry's error if none was.
 */
static long msgbox_ioc_batch(struct file *file, unsigned int cmd,
			     unsigned long arg, bool recv, bool nowait)
{
	struct msgbox_wake_batch wb;
	struct msgbox_batch b;
	struct msgbox_msg m;
	long ret = 0;
	u32 i, done;
	int err;

	ret = msgbox_copy_arg(&b, sizeof(b), MSGBOX_BATCH_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if (!b.count || b.count > MSGBOX_BATCH_MAX || b.done || b.error ||
	    b.__reserved || b.msg_size < MSGBOX_MSG_SIZE_VER0 ||
	    b.msg_size > PAGE_SIZE)
		return -EINVAL;

	/* The peers wake once, at the end (or before an entry sleeps). */
	msgbox_wake_batch_init(&wb, msgbox_file_box(file));
	for (i = 0; i < b.count;) {
		void __user *u = u64_to_user_ptr(b.msgs + (u64)i * b.msg_size);

		/*
		 * A signal ends a batch early, between entries; task work
		 * (io_uring's, TIF_NOTIFY_SIGNAL) is no signal.
		 */
		if (i && task_sigpending(current)) {
			ret = -EINTR;
			break;
		}
		/* No result held back while entries are read from user memory. */
		msgbox_wake_batch_publish(&wb);
		done = 0;
		err = 0;
		if (!recv && READ_ONCE(msgbox_file_box(file)->ring))
			done = msgbox_ring_send_chunk(file, &b, i, nowait, &wb,
						      &err);
		if (!done && !err)
			done = recv ? msgbox_recv_chunk(file, &b, i, &wb,
							&err) :
				      msgbox_send_chunk(file, &b, i, nowait,
							&wb, &err);
		i += done;
		ret = err;
		if (ret)
			break;
		if (done)
			continue;
		/*
		 * Any other entry goes alone, its wake-ups not held back: it
		 * touches user memory after moving its message.
		 */
		msgbox_wake_batch_flush(&wb);
		ret = msgbox_msg_in(&m, u, b.msg_size);
		if (!ret)
			ret = recv ? msgbox_do_recv(file, &m, u, b.msg_size,
						    nowait || i > 0, NULL) :
				     msgbox_do_send(file, &m, u, nowait, NULL);
		if (ret)
			break;
		i++;
	}
	msgbox_wake_batch_flush(&wb);
	b.done = i;
	/* Nothing more ready is the normal end of a receive batch. */
	b.error = (recv && i > 0 && ret == -EAGAIN) ? 0 : ret;
	if (b.error == -ERESTARTSYS)
		b.error = -EINTR;
	if (!b.done)
		return ret;
	/* The entries are done whatever happens to this report. */
	if (msgbox_copy_result(arg, cmd, &b, sizeof(b)))
		pr_debug("msgbox: batch result not reported\n");
	return b.done;
}

static long msgbox_ioc_ack(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct msgbox_file *mf = msgbox_file_of(file);
	struct msgbox_message *msg;
	struct msgbox_ack a;
	int ret;

	ret = msgbox_copy_arg(&a, sizeof(a), MSGBOX_ACK_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if ((a.flags & ~(MSGBOX_ACK_NACK | MSGBOX_ACK_EXTEND)) ||
	    a.flags == (MSGBOX_ACK_NACK | MSGBOX_ACK_EXTEND) || a.__pad)
		return -EINVAL;
	if (a.id > ULONG_MAX)
		return -ENOENT;
	if (a.flags & MSGBOX_ACK_EXTEND) {
		u64 deadline = msgbox_ack_deadline(mf->mb);

		xa_lock(&mf->inflight);
		msg = xa_load(&mf->inflight, a.id);
		if (msg)
			msg->ack_deadline_ns = deadline;
		xa_unlock(&mf->inflight);
		if (!msg)
			return -ENOENT;
		if (deadline)
			msgbox_arm_ack_work(mf, deadline);
		return 0;
	}
	msg = xa_erase(&mf->inflight, a.id);
	if (!msg)
		return -ENOENT;
	msgbox_settle(mf->mb, msg, a.flags & MSGBOX_ACK_NACK ?
		      MSGBOX_SETTLE_REDELIVER : MSGBOX_SETTLE_ACK);
	return 0;
}

/**
 * msgbox_call_start() - validate a call and send its request.
 * @file:   the mailbox file.
 * @c:      the caller's struct msgbox_call, copied in; the request's id is
 *          set.
 * @wait:   out: how the caller waits for the reply.
 * @notify: NULL for a caller that sleeps; for an io_uring caller, called
 *          once the call settles (with @data); its send never waits.
 * @data:   @notify's argument.
 * @callp:  the pending call (the caller's reference, to put even when
 *          this fails), set before the request is sent; NULL until then.
 *
 * Return: 0 once the request is sent, or a negative errno (nothing was
 * sent, and the call will never notify).
 */
int __msgbox_hot msgbox_call_start(struct file *file, struct msgbox_call *c,
				   struct msgbox_wait *wait, void (*notify)(void *data),
				   void *data, struct msgbox_pending_call **callp)
{
	struct msgbox *mb = msgbox_file_box(file);
	struct msgbox_wait nowait = { .nonblock = true };
	struct msgbox_pending_call *call;
	struct msgbox_message *msg;
	size_t reply_size;
	int ret;

	*callp = NULL;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (mb->topic)
		return -EOPNOTSUPP;
	ret = msgbox_msg_check(file, &c->request, MSGBOX_MSG_WAIT_FLAGS &
			       ~MSGBOX_MSG_NONBLOCK, wait);
	if (ret)
		return ret;
	if (c->request.type < 1 || c->request.priority > MSGBOX_PRIO_MAX ||
	    c->request.token)
		return -EINVAL;
	if (c->reply.flags | c->reply.token | msgbox_msg_reserved(&c->reply) |
	    c->reply.ttl_ns)
		return -EINVAL;
	if (c->request.len > READ_ONCE(mb->max_msg_size))
		return -EMSGSIZE;
	/*
	 * A call always waits for its reply; O_NONBLOCK does not apply.  A
	 * signal ends it with wait->sig_err (as a receive) until a receive
	 * took the request, then with -EINTR (msgbox_call_wait()).
	 */
	wait->nonblock = false;
	reply_size = min_t(u64, c->reply.len, READ_ONCE(mb->max_msg_size));

	call = msgbox_call_alloc(mb, reply_size);
	if (!call)
		return -ENOMEM;
	if (notify)
		msgbox_call_set_notify(call, notify, data);
	*callp = call;
	msg = msgbox_message_alloc(mb, c->request.len, c->request.type,
				   c->request.priority);
	if (!msg) {
		ret = -ENOMEM;
		goto out_abandon;
	}
	ret = msgbox_payload_from_user(msg->payload,
				       u64_to_user_ptr(c->request.data),
				       c->request.len);
	if (ret)
		goto out_free;
	msgbox_message_set_ttl(msg, c->request.ttl_ns);
	msg->call = msgbox_call_get(call);
	/* An io_uring caller sends without waiting for room. */
	ret = msgbox_send(mb, msg, notify ? &nowait : wait, false,
			  &c->request.id);
	if (!ret)
		return 0;

out_free:
	/* Abandoned first: freeing the request settles nothing then. */
	msgbox_call_abandon(call);
	msgbox_message_free(msg);
	return ret;
out_abandon:
	msgbox_call_abandon(call);
	return ret;
}

/**
 * msgbox_call_finish() - hand a call's reply to its caller.
 * @mb:    the mailbox the call was made on.
 * @c:     the caller's struct msgbox_call; the reply's metadata is set.
 * @reply: the reply, freed here (kept by @mb for its next message).
 * @uarg:  where @c goes back to.
 * @usize: the caller's size of struct msgbox_call.
 *
 * Return: 0 or -EFAULT.
 */
int __msgbox_hot msgbox_call_finish(struct msgbox *mb, struct msgbox_call *c,
				    struct msgbox_message *reply,
				    void __user *uarg, size_t usize)
{
	int ret = 0;

	c->reply.len = reply->len;
	c->reply.type = reply->type;
	c->reply.priority = reply->priority;
	c->reply.id = 0;
	c->reply.send_time_ns = reply->send_time_ns;
	msgbox_sender_out(&c->reply, reply);
	c->reply.deliveries = 1;
	if (usize == sizeof(*c) &&
	    msgbox_msgs_short_out(uarg, &c->request, 2,
				  u64_to_user_ptr(c->reply.data),
				  reply->payload, reply->len, &ret)) {
		/* done: one window */
	} else if (msgbox_payload_to_user(reply->payload,
					  u64_to_user_ptr(c->reply.data),
					  reply->len)) {
		ret = -EFAULT;
	} else if (usize != sizeof(*c)) {
		ret = msgbox_copy_out(uarg, usize, c, sizeof(*c));
	} else {
		ret = msgbox_msg_out(uarg, sizeof(c->request), &c->request) ?:
		      msgbox_msg_out(uarg + sizeof(c->request),
				     sizeof(c->reply), &c->reply);
	}
	msgbox_message_recycle(mb, reply);
	return ret;
}

static long __msgbox_hot msgbox_ioc_call(struct file *file, unsigned int cmd,
					 unsigned long arg)
{
	struct msgbox_pending_call *call;
	struct msgbox_message *reply;
	struct msgbox_wait wait;
	struct msgbox_call c;
	int ret;

	ret = msgbox_msg2_in(&c, sizeof(c), MSGBOX_CALL_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_call_start(file, &c, &wait, NULL, NULL, &call);
	if (!ret)
		ret = msgbox_call_wait(call, &wait, &reply);
	if (!ret)
		ret = msgbox_call_finish(msgbox_file_box(file), &c, reply,
					 u64_to_user_ptr((u64)arg),
					 _IOC_SIZE(cmd));
	if (call)
		msgbox_call_put_keep(call, msgbox_file_box(file));
	return ret;
}

/*
 * A reply's fields but its token: -EINVAL if any is wrong.  One that
 * answers nothing (REPLY_RECV with a token of 0, !@answers) has its type,
 * priority and payload not looked at.
 */
static int msgbox_reply_check(const struct msgbox_msg *m, bool answers)
{
	if (m->flags | m->timeout_ns | msgbox_msg_reserved(m) | m->ttl_ns)
		return -EINVAL;
	if (answers && (m->type < 1 || m->priority > MSGBOX_PRIO_MAX))
		return -EINVAL;
	return 0;
}

/* Answer the call that @m->token names with @m, checked. */
static int __msgbox_hot msgbox_do_reply(struct file *file, const struct msgbox_msg *m)
{
	struct msgbox_file *mf = msgbox_file_of(file);
	struct msgbox_pending_call *call;
	struct msgbox_message *msg;
	u32 index;
	int ret;

	if (!(m->token & MSGBOX_TOKEN_INDEX_MASK))
		return -ENOENT;
	index = (m->token & MSGBOX_TOKEN_INDEX_MASK) - 1;
	/*
	 * Another thread's REPLY may erase the entry and drop the call at
	 * any time: take it under the xarray's lock, which the erase takes,
	 * with a reference of our own for the checks and the copy below.
	 * The index may hold a later call: the whole token must match.
	 */
	xa_lock(&mf->calls);
	call = msgbox_calls_load(mf, index);
	if (call && !xa_is_value(call) && msgbox_call_token(call) == m->token)
		msgbox_call_get(call);
	else
		call = NULL;
	xa_unlock(&mf->calls);
	if (!call)
		return -ENOENT;
	ret = -EMSGSIZE;
	if (m->len > msgbox_call_reply_size(call))
		goto out_put;

	/*
	 * A reply goes to its caller, on the mailbox the request came from,
	 * which takes it back (msgbox_call_finish()): it may reuse an
	 * object or pages that mailbox kept.
	 */
	ret = -ENOMEM;
	msg = msgbox_message_alloc(mf->mb, m->len, m->type, m->priority);
	if (!msg)
		goto out_put;
	ret = msgbox_payload_from_user(msg->payload, u64_to_user_ptr(m->data),
				       m->len);
	if (ret)
		goto out_free;
	/*
	 * The copy may have slept: answer only the call checked above.  If
	 * a concurrent REPLY answered it meanwhile, its entry is gone (and
	 * its index may hold another call by now).
	 */
	if (!msgbox_calls_take(mf, index, call)) {
		ret = -ENOENT;
		goto out_free;
	}
	msgbox_call_put(call);	/* the table's reference; ours remains */
	ret = msgbox_call_complete(call, msg);
	if (ret)
		goto out_free;
	msgbox_call_put_keep(call, mf->mb);
	return 0;

out_free:
	msgbox_message_free(msg);
out_put:
	msgbox_call_put_keep(call, mf->mb);
	return ret;
}

static long msgbox_ioc_reply(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct msgbox_msg m;
	int ret;

	ret = msgbox_copy_arg(&m, sizeof(m), MSGBOX_MSG_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_reply_check(&m, true);
	if (ret)
		return ret;
	return msgbox_do_reply(file, &m);
}

/**
 * msgbox_reply_recv_start() - MSGBOX_IOC_REPLY_RECV up to its receive.
 * @file: the mailbox file.
 * @cmd:  the ioctl number (its size is the argument's).
 * @arg:  the user address of the struct msgbox_reply_recv.
 * @rq:   set up here for the receive half, to be run by the caller.
 *
 * A server's step: answer one call, then receive the next message, in one
 * system call (or one io_uring command).  Both halves are checked before
 * either acts.  Once the reply went, its token is cleared in the caller's
 * structure (probed before the reply, so that only another thread
 * unmapping or protecting it meanwhile makes the clearing fail): a
 * receive that a signal interrupts restarts as a receive alone, and a
 * caller whose token is still set knows that the error is the reply's and
 * that nothing was received.
 *
 * Return: 0 with @rq ready (msgbox_recv_req_release() it after the run),
 * or a negative errno with nothing to release.
 */
int __msgbox_hot msgbox_reply_recv_start(struct file *file, unsigned int cmd,
					 unsigned long arg,
					 struct msgbox_recv_req *rq)
{
	struct msgbox_reply_recv __user *u = u64_to_user_ptr((u64)arg);
	struct msgbox_reply_recv rr;
	int ret;

	ret = msgbox_msg2_in(&rr, sizeof(rr), MSGBOX_REPLY_RECV_SIZE_VER0, cmd,
			     arg);
	if (ret)
		return ret;
	ret = msgbox_reply_check(&rr.reply, rr.reply.token);
	if (ret)
		return ret;
	ret = msgbox_recv_req_init(file, rq, &rr.recv, &u->recv,
				   sizeof(u->recv), false);
	if (ret || !rr.reply.token)
		return ret;
	ret = -EFAULT;
	if (put_user(rr.reply.token, &u->reply.token))
		goto out;
	ret = msgbox_do_reply(file, &rr.reply);
	if (ret)
		goto out;
	ret = -EFAULT;
	if (put_user(0, &u->reply.token))
		goto out;
	return 0;
out:
	msgbox_recv_req_release(rq);
	return ret;
}

static long __msgbox_hot msgbox_ioc_reply_recv(struct file *file, unsigned int cmd,
					       unsigned long arg)
{
	struct msgbox_recv_req rq;
	int ret;

	ret = msgbox_reply_recv_start(file, cmd, arg, &rq);
	if (ret)
		return ret;
	ret = msgbox_recv_req_run(file, &rq);
	msgbox_recv_req_release(&rq);
	return ret;
}

static long msgbox_ioc_info(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct msgbox_info info;
	int ret;

	if (_IOC_SIZE(cmd) < MSGBOX_INFO_SIZE_VER0)
		return -EINVAL;
	ret = msgbox_fill_info(msgbox_file_box(file), &info);
	if (ret)
		return ret;
	return msgbox_copy_result(arg, cmd, &info, sizeof(info));
}

static const struct file_operations msgbox_file_fops;

/* SETATTR naming a dead-letter mailbox by a sending descriptor of it. */
static long msgbox_setattr_dead_letter(struct file *file,
				       const struct msgbox_setattr *sa)
{
	struct fd f = fdget(sa->dead_letter_fd);
	struct msgbox *dlq;
	long ret;

	if (!fd_file(f))
		return -EBADF;
	if (fd_file(f)->f_op != &msgbox_file_fops) {
		ret = -EINVAL;
		goto out_fdput;
	}
	if (!(fd_file(f)->f_mode & FMODE_WRITE)) {
		ret = -EBADF;
		goto out_fdput;
	}
	dlq = msgbox_file_box(fd_file(f));
	msgbox_get(dlq);
	ret = msgbox_set_attr(msgbox_file_box(file), sa, dlq);
out_fdput:
	fdput(f);
	return ret;
}

static long msgbox_ioc_setattr(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct msgbox_setattr sa;
	int ret;

	ret = msgbox_copy_arg(&sa, sizeof(sa), MSGBOX_SETATTR_SIZE_VER0, cmd,
			      arg);
	if (ret)
		return ret;
	if (!sa.mask || (sa.mask & ~MSGBOX_SETATTR_ALL))
		return -EINVAL;
	if (sa.mask & MSGBOX_SETATTR_MODE) {
		if (sa.mode & ~0777)
			return -EINVAL;
	} else if (sa.mode) {
		return -EINVAL;
	}
	if (sa.mask & MSGBOX_SETATTR_LIMITS) {
		struct msgbox *mb = msgbox_file_box(file);

		ret = msgbox_limits_check(sa.max_msgs, sa.max_msg_size,
					  sa.max_bytes);
		if (ret)
			return ret;
		/* As at creation: a topic and its subscriptions queue. */
		if (!sa.max_msgs && (mb->topic || mb->parent))
			return -EINVAL;
	} else if (sa.max_msgs || sa.max_msg_size || sa.max_bytes) {
		return -EINVAL;
	}
	if (!(sa.mask & MSGBOX_SETATTR_ACK_TIMEOUT) && sa.ack_timeout_ns)
		return -EINVAL;
	if (!(sa.mask & MSGBOX_SETATTR_DEAD_LETTER)) {
		if (sa.max_deliveries || sa.dead_letter_fd)
			return -EINVAL;
		return msgbox_set_attr(msgbox_file_box(file), &sa, NULL);
	}
	if (sa.dead_letter_fd == -1)
		return msgbox_set_attr(msgbox_file_box(file), &sa, NULL);
	return msgbox_setattr_dead_letter(file, &sa);
}

/*
 * Check MSGBOX_FD_* for a new descriptor that may be opened for the
 * directions in @dirs (RECV and/or SEND): at least one of them, nothing
 * else but NONBLOCK and CLOEXEC.
 */
static int msgbox_fd_flags_check(u32 fd_flags, u32 dirs)
{
	if (fd_flags & ~(dirs | MSGBOX_FD_NONBLOCK | MSGBOX_FD_CLOEXEC))
		return -EINVAL;
	if (!(fd_flags & dirs))
		return -EINVAL;
	return 0;
}

/*
 * The first descriptor of a new, not yet published mailbox: charge it to
 * its owner (quota.c), then reserve the descriptor.  On failure the caller
 * still holds its reference, and dropping it undoes the charge.
 */
static int msgbox_open_new(struct msgbox *mb, u32 fd_flags,
			   struct file **filep)
{
	int ret;

	ret = msgbox_charge(mb->uid, 1, mb->max_bytes);
	if (ret)
		return ret;
	mb->charged = true;
	mb->charged_bytes = mb->max_bytes;
	/* Not yet published: no lock needed for the first descriptor. */
	mb->nr_files = 1;
	return msgbox_install_fd(mb, fd_flags, true, filep);
}

static long msgbox_ioc_subscribe(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct msgbox *topic = msgbox_file_box(file);
	struct msgbox_subscribe sa;
	struct msgbox_create c;
	struct file *sfile;
	struct msgbox *sub;
	int ret;
	int fd;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (!topic->topic)
		return -EOPNOTSUPP;
	ret = msgbox_copy_arg(&sa, sizeof(sa), MSGBOX_SUBSCRIBE_SIZE_VER0, cmd,
			      arg);
	if (ret)
		return ret;
	if (msgbox_fd_flags_check(sa.fd_flags, MSGBOX_FD_RECV) ||
	    (sa.flags & ~MSGBOX_MSG_EXCEPT) ||
	    ((sa.flags & MSGBOX_MSG_EXCEPT) && sa.type <= 0) ||
	    sa.__reserved[0] || sa.__reserved[1])
		return -EINVAL;

	/* A subscription: an anonymous mailbox with the topic's limits. */
	memset(&c, 0, sizeof(c));
	spin_lock(&topic->lock);
	c.max_msgs = topic->max_msgs;
	c.max_msg_size = topic->max_msg_size;
	c.max_bytes = topic->max_bytes;
	spin_unlock(&topic->lock);
	c.mode = 0600;
	c.flags = MSGBOX_CREATE_ANON;
	sub = msgbox_alloc(&c);
	if (!sub)
		return -ENOMEM;
	msgbox_recv_args_init(&sub->filter, sa.type, sa.flags);
	msgbox_get(topic);
	sub->parent = topic;
	fd = msgbox_open_new(sub, sa.fd_flags, &sfile);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	ret = msgbox_subscribe(topic, sub);
	if (ret)
		goto out_fput;
	msgbox_put(sub);	/* the file and the topic hold theirs */
	fd_install(fd, sfile);
	return fd;

out_fput:
	fput(sfile);
	put_unused_fd(fd);
out_put:
	msgbox_put(sub);
	return ret;
}

/* MSGBOX_IOC_RING_SETUP: see struct msgbox_ring_setup and ring.c. */
static long msgbox_ioc_ring_setup(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct msgbox_ring_setup rs;
	struct file *rfile;
	int fd, ret;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	ret = msgbox_copy_arg(&rs, sizeof(rs), MSGBOX_RING_SETUP_SIZE_VER0,
			      cmd, arg);
	if (ret)
		return ret;
	rfile = msgbox_ring_file(msgbox_file_box(file), &rs);
	if (IS_ERR(rfile))
		return PTR_ERR(rfile);
	fd = get_unused_fd_flags(rs.fd_flags & MSGBOX_FD_CLOEXEC ? O_CLOEXEC :
								   0);
	if (fd < 0) {
		ret = fd;
		goto out_fput;
	}
	/* Where things are, before the ring takes any message. */
	ret = msgbox_copy_result(arg, cmd, &rs, sizeof(rs));
	if (!ret)
		ret = msgbox_ring_attach(rfile);
	if (ret)
		goto out_fd;
	fd_install(fd, rfile);
	return fd;

out_fd:
	put_unused_fd(fd);
out_fput:
	fput(rfile);
	return ret;
}

/* MSGBOX_IOC_NOTIFY: see struct msgbox_notify and notify.c. */
static long msgbox_ioc_notify(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct msgbox *mb = msgbox_file_box(file);
	struct eventfd_ctx *efd = NULL;
	struct msgbox_notify n;
	int ret;

	ret = msgbox_copy_arg(&n, sizeof(n), MSGBOX_NOTIFY_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	switch (n.how) {
	case MSGBOX_NOTIFY_OFF:
	case MSGBOX_NOTIFY_NONE:
		if (n.efd)
			return -EINVAL;
		break;
	case MSGBOX_NOTIFY_EVENTFD:
		break;
	default:
		return -EINVAL;
	}
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (mb->topic)
		return -EOPNOTSUPP;
	if (n.how == MSGBOX_NOTIFY_OFF)
		return msgbox_notify_clear(mb);
	if (n.how == MSGBOX_NOTIFY_EVENTFD) {
		efd = eventfd_ctx_fdget(n.efd);
		if (IS_ERR(efd))
			return PTR_ERR(efd);
	}
	ret = msgbox_notify_set(mb, efd);
	if (ret && efd)
		eventfd_ctx_put(efd);
	return ret;
}

static long __msgbox_hot msgbox_file_ioctl(struct file *file, unsigned int cmd,
					   unsigned long arg)
{
	switch (MSGBOX_IOC_BASE(cmd)) {
	case MSGBOX_IOC_BASE(MSGBOX_IOC_SEND):
		return msgbox_ioc_send(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_RECV):
		return msgbox_ioc_recv(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_INFO):
		return msgbox_ioc_info(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_SETATTR):
		return msgbox_ioc_setattr(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_CALL):
		return msgbox_ioc_call(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_REPLY):
		return msgbox_ioc_reply(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_REPLY_RECV):
		return msgbox_ioc_reply_recv(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_SUBSCRIBE):
		return msgbox_ioc_subscribe(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_ACK):
		return msgbox_ioc_ack(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_STATUS):
		return msgbox_ioc_status(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_SEND_BATCH):
		return msgbox_ioc_batch(file, cmd, arg, false, false);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_RECV_BATCH):
		return msgbox_ioc_batch(file, cmd, arg, true, false);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_NOTIFY):
		return msgbox_ioc_notify(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_RING_SETUP):
		return msgbox_ioc_ring_setup(file, cmd, arg);
	default:
		return -ENOTTY;
	}
}

/**
 * msgbox_file_ioctl_nowait() - the ioctls io_uring runs inline.
 * @file: the mailbox file.
 * @cmd:  MSGBOX_IOC_SEND, _REPLY, _ACK, _SEND_BATCH or _RECV_BATCH.
 * @arg:  the user address of its argument.
 *
 * Exactly the ioctl, except that it never sleeps: a send finds room or
 * fails with EAGAIN, a receive batch takes only what is ready.
 *
 * Return: the ioctl's result, or -EOPNOTSUPP for any other command.
 */
long msgbox_file_ioctl_nowait(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct msgbox_msg m;
	int ret;

	switch (MSGBOX_IOC_BASE(cmd)) {
	case MSGBOX_IOC_BASE(MSGBOX_IOC_SEND):
		ret = msgbox_msg_in(&m, u64_to_user_ptr((u64)arg),
				    _IOC_SIZE(cmd));
		if (ret)
			return ret;
		return msgbox_do_send(file, &m, u64_to_user_ptr((u64)arg), true,
				      NULL);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_REPLY):
		return msgbox_ioc_reply(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_ACK):
		return msgbox_ioc_ack(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_SEND_BATCH):
		return msgbox_ioc_batch(file, cmd, arg, false, true);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_RECV_BATCH):
		return msgbox_ioc_batch(file, cmd, arg, true, true);
	default:
		return -EOPNOTSUPP;
	}
}

static __poll_t msgbox_file_poll(struct file *file, poll_table *wait)
{
	struct msgbox *mb = msgbox_file_box(file);
	__poll_t mask;

	poll_wait(file, &mb->poll_wq, wait);
	/* Lost wakeups cannot happen: see the poll paragraph in mailbox.c. */
	mask = msgbox_poll_mask(mb);
	if (!(file->f_mode & FMODE_READ))
		mask &= ~(EPOLLIN | EPOLLRDNORM);
	if (!(file->f_mode & FMODE_WRITE))
		mask &= ~(EPOLLOUT | EPOLLWRNORM);
	return mask;
}

/* Every close(2): a registered process's close ends its registration. */
static int msgbox_file_flush(struct file *file, fl_owner_t id)
{
	msgbox_notify_clear(msgbox_file_box(file));
	return 0;
}

static int msgbox_file_release(struct inode *inode, struct file *file)
{
	struct msgbox_file *mf = msgbox_file_of(file);
	struct msgbox_pending_call *call;
	struct msgbox_message *msg;
	unsigned long index;
	unsigned long id;

	struct msgbox_track *t, *tn;

	list_for_each_entry_safe(t, tn, &mf->tracked, node)
		msgbox_track_put(t);
	/* Messages in flight here, never acked: deliver them again. */
	cancel_delayed_work_sync(&mf->ack_work);
	xa_for_each(&mf->inflight, id, msg)
		msgbox_settle(mf->mb, msg, MSGBOX_SETTLE_REDELIVER);
	xa_destroy(&mf->inflight);
	/* Requests received here and never answered: their callers learn. */
	msgbox_calls_reset(mf->call_slot);
	xa_for_each(&mf->calls, index, call)
		msgbox_calls_reset(call);
	xa_destroy(&mf->calls);
	if (mf->counted)
		msgbox_file_closed(mf->mb);
	msgbox_put(mf->mb);
	kfree(mf);
	return 0;
}

static void msgbox_file_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct msgbox_info info;

	bool dead = msgbox_fill_info(msgbox_file_box(file), &info);

	seq_printf(m, "msgbox-name:\t%s%s\n", info.name,
		   dead ? " (destroyed)" : "");
	seq_printf(m, "msgbox-msgs:\t%u/%u\n", info.nr_msgs, info.max_msgs);
	seq_printf(m, "msgbox-bytes:\t%llu/%llu\n", info.nr_bytes,
		   info.max_bytes);
	seq_printf(m, "msgbox-max-msg-size:\t%u\n", info.max_msg_size);
}

static const struct file_operations msgbox_file_fops = {
	.owner		= THIS_MODULE,
	.read_iter	= msgbox_read_iter,
	.write_iter	= msgbox_write_iter,
	.poll		= msgbox_file_poll,
	.unlocked_ioctl	= msgbox_file_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.flush		= msgbox_file_flush,
	.release	= msgbox_file_release,
	.show_fdinfo	= msgbox_file_show_fdinfo,
	.uring_cmd	= msgbox_uring_cmd,
};

/**
 * msgbox_install_fd() - open a new descriptor on @mb.
 * @mb:       the mailbox; the new file takes its own reference.
 * @fd_flags: MSGBOX_FD_*, already validated.
 * @counted:  the file counts in msgbox.nr_files (see struct msgbox_file).
 * @filep:    the new file, not yet installed.
 *
 * Returns a reserved descriptor number.  The caller installs @filep with
 * fd_install() once nothing can fail any more, or undoes with fput() and
 * put_unused_fd().
 */
int msgbox_install_fd(struct msgbox *mb, u32 fd_flags, bool counted,
		      struct file **filep)
{
	struct msgbox_file *mf;
	int oflags = O_RDWR;
	struct file *file;
	int fd;

	if (!(fd_flags & MSGBOX_FD_SEND))
		oflags = O_RDONLY;
	else if (!(fd_flags & MSGBOX_FD_RECV))
		oflags = O_WRONLY;
	if (fd_flags & MSGBOX_FD_NONBLOCK)
		oflags |= O_NONBLOCK;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return -ENOMEM;
	mf->mb = mb;
	mf->counted = counted;
	xa_init(&mf->inflight);
	INIT_DELAYED_WORK(&mf->ack_work, msgbox_ack_work);
	spin_lock_init(&mf->track_lock);
	INIT_LIST_HEAD(&mf->tracked);
	xa_init_flags(&mf->calls, XA_FLAGS_ALLOC1);	/* 0 is @call_slot */
	fd = get_unused_fd_flags(fd_flags & MSGBOX_FD_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0) {
		kfree(mf);
		return fd;
	}
	file = anon_inode_getfile("[msgbox]", &msgbox_file_fops, mf, oflags);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		kfree(mf);
		return PTR_ERR(file);
	}
	msgbox_get(mb);
	/* Datagrams: no file position, no pread/pwrite. */
	stream_open(file_inode(file), file);
	/*
	 * read_iter/write_iter honour IOCB_NOWAIT: io_uring may try them
	 * inline and fall back to poll, never to a blocking worker.
	 */
	file->f_mode |= FMODE_NOWAIT;
	*filep = file;
	return fd;
}

static long msgbox_ioc_create(unsigned int cmd, unsigned long arg)
{
	struct msgbox_create c;
	struct file *file;
	struct msgbox *mb;
	int fd;
	int ret;

	ret = msgbox_copy_arg(&c, sizeof(c), MSGBOX_CREATE_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if (c.flags & ~MSGBOX_CREATE_ALL || c.__pad || c.mode & ~0777)
		return -EINVAL;
	/* A drop policy needs a topic, and only one policy at a time. */
	if ((c.flags & (MSGBOX_CREATE_DROP_OLDEST | MSGBOX_CREATE_DROP_NEW)) &&
	    (!(c.flags & MSGBOX_CREATE_TOPIC) ||
	     (c.flags & MSGBOX_CREATE_DROP_OLDEST &&
	      c.flags & MSGBOX_CREATE_DROP_NEW)))
		return -EINVAL;
	/* Subscriptions take the topic's limits: they need a queue. */
	if ((c.flags & MSGBOX_CREATE_TOPIC) && !c.max_msgs)
		return -EINVAL;
	if (c.flags & MSGBOX_CREATE_ANON)
		ret = memchr_inv(c.name, 0, sizeof(c.name)) ? -EINVAL : 0;
	else
		ret = msgbox_name_check(c.name);
	if (ret)
		return ret;
	ret = msgbox_fd_flags_check(c.fd_flags, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
	if (ret)
		return ret;
	ret = msgbox_limits_check(c.max_msgs, c.max_msg_size, c.max_bytes);
	if (ret)
		return ret;

	mb = msgbox_alloc(&c);
	if (!mb)
		return -ENOMEM;
	fd = msgbox_open_new(mb, c.fd_flags, &file);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	/* Publish last: a failure above leaves no name behind. */
	if (!(c.flags & MSGBOX_CREATE_ANON)) {
		ret = msgbox_register(mb);
		if (ret)
			goto out_fput;
	}
	/* The file holds its own reference: drop the creator's. */
	if (c.flags & MSGBOX_CREATE_ANON)
		msgbox_put(mb);
	fd_install(fd, file);
	return fd;

out_fput:
	fput(file);
	put_unused_fd(fd);
out_put:
	msgbox_put(mb);
	return ret;
}

/*
 * A new descriptor on a mailbox found by a lookup, whose reference this
 * consumes; @counted as for msgbox_install_fd() (a counted lookup already
 * counted the descriptor, undone here on failure).
 */
static long msgbox_open_existing(struct msgbox *mb, u32 fd_flags, bool counted)
{
	struct file *file;
	int fd;

	fd = msgbox_permission(mb, fd_flags);
	if (!fd)
		fd = msgbox_install_fd(mb, fd_flags, counted, &file);
	if (fd < 0 && counted)
		msgbox_file_closed(mb);
	msgbox_put(mb);
	if (fd >= 0)
		fd_install(fd, file);
	return fd;
}

static long msgbox_ioc_open(unsigned int cmd, unsigned long arg)
{
	struct msgbox_open o;
	struct msgbox *mb;
	int ret;

	ret = msgbox_copy_arg(&o, sizeof(o), MSGBOX_OPEN_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_name_check(o.name);
	if (ret)
		return ret;
	ret = msgbox_fd_flags_check(o.fd_flags, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
	if (ret)
		return ret;
	if (o.flags)
		return -EINVAL;

	mb = msgbox_lookup_open(o.name);
	if (!mb)
		return -ENOENT;
	return msgbox_open_existing(mb, o.fd_flags, true);
}

static long msgbox_ioc_destroy(unsigned int cmd, unsigned long arg)
{
	struct msgbox_open o;
	int ret;

	ret = msgbox_copy_arg(&o, sizeof(o), MSGBOX_OPEN_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_name_check(o.name);
	if (ret)
		return ret;
	if (o.fd_flags || o.flags & ~MSGBOX_DESTROY_UNLINK)
		return -EINVAL;
	return msgbox_unregister(o.name, o.flags & MSGBOX_DESTROY_UNLINK);
}

/* MSGBOX_IOC_INBOX: the caller's personal inbox, a receiving descriptor. */
static long msgbox_ioc_inbox(unsigned int cmd, unsigned long arg)
{
	struct msgbox_create c;
	struct file *file;
	struct msgbox *mb;
	int fd;
	int ret;

	ret = msgbox_copy_arg(&c, sizeof(c), MSGBOX_CREATE_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if (c.flags || c.__pad || c.mode & ~0777 ||
	    memchr_inv(c.name, 0, sizeof(c.name)))
		return -EINVAL;
	if (msgbox_fd_flags_check(c.fd_flags, MSGBOX_FD_RECV))
		return -EINVAL;
	ret = msgbox_limits_check(c.max_msgs, c.max_msg_size, c.max_bytes);
	if (ret)
		return ret;

	c.flags = MSGBOX_CREATE_EPHEMERAL;
	mb = msgbox_alloc(&c);
	if (!mb)
		return -ENOMEM;
	fd = msgbox_open_new(mb, c.fd_flags, &file);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	ret = msgbox_inbox_register(mb);
	if (ret)
		goto out_fput;
	fd_install(fd, file);
	return fd;

out_fput:
	fput(file);
	put_unused_fd(fd);
out_put:
	msgbox_put(mb);
	return ret;
}

/* MSGBOX_IOC_OPEN_INBOX: a sending descriptor on another process's inbox. */
static long msgbox_ioc_open_inbox(unsigned int cmd, unsigned long arg)
{
	struct msgbox_inbox in;
	struct msgbox *mb;
	int ret;

	ret = msgbox_copy_arg(&in, sizeof(in), MSGBOX_INBOX_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if (in.__reserved || msgbox_fd_flags_check(in.fd_flags, MSGBOX_FD_SEND))
		return -EINVAL;
	if (in.pid <= 0)
		return -ESRCH;
	mb = msgbox_inbox_lookup(in.pid);
	if (!mb)
		return -ESRCH;
	return msgbox_open_existing(mb, in.fd_flags, false);
}

/* ioctls on /dev/msgbox itself. */
long msgbox_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (cmd == MSGBOX_IOC_VERSION)
		return MSGBOX_ABI_VERSION;

	switch (MSGBOX_IOC_BASE(cmd)) {
	case MSGBOX_IOC_BASE(MSGBOX_IOC_CREATE):
		return msgbox_ioc_create(cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_OPEN):
		return msgbox_ioc_open(cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_DESTROY):
		return msgbox_ioc_destroy(cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_INBOX):
		return msgbox_ioc_inbox(cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_OPEN_INBOX):
		return msgbox_ioc_open_inbox(cmd, arg);
	default:
		return -ENOTTY;
	}
}
