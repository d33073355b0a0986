// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: the mailbox itself, its message queue and the blocking protocol.
 *
 * Locking protocol (one lock per mailbox, msgbox.lock, a plain spinlock: no
 * interrupt context ever touches a mailbox):
 *
 *  - Every change of the queue, the waiter lists, the counters and @dead
 *    happens under msgbox.lock.  Nothing sleeps and nothing touches user
 *    memory under it: payloads are copied in before the lock is taken and
 *    copied out after it is dropped.
 *
 *  - Sleepers are not on a wait_queue_head but on msgbox.recv_waiters and
 *    msgbox.send_waiters, in arrival order (FIFO fairness), each a struct
 *    msgbox_waiter on the sleeper's stack.  The waker does all the work for
 *    the sleeper while holding the lock ("pipelined" send and receive, as in
 *    ipc/mqueue.c):
 *
 *      sender finds a receiver waiting: it hands the message straight to
 *        that receiver (waiter.msg), which returns without queueing or
 *        re-taking the lock;
 *      receiver frees room and a sender waits: it moves that sender's
 *        message into the queue for it;
 *      destroy: every waiter is completed with -EIDRM.
 *
 *    Completing a waiter takes two steps, since the kernel's wake_q is not
 *    exported to modules.  Under the lock, waiter_claim() unlinks the
 *    waiter, records its result and marks it MSGBOX_CLAIMED, linking it on
 *    the waker's private struct msgbox_wake_list.  After the unlock,
 *    msgbox_wake_up() publishes each result with smp_store_release() and
 *    wakes the task.  A CLAIMED waiter cannot return (it waits in
 *    msgbox_wait_claimed() for the result), so its stack frame stays valid
 *    until the store; the waker touches it no more after that, and holds a
 *    task reference for the wake-up itself.
 *
 *  - MSGBOX_BARRIER: a sleeper that wakes (timeout, signal, spurious) reads
 *    waiter.state with smp_load_acquire(), pairing with the release above,
 *    so a completed waiter also sees waiter.msg.  If the state is still
 *    WAITING it takes the lock and checks again: then either no waker has
 *    claimed it and the sleeper unlinks itself, or one has, and the sleeper
 *    waits for the result.  A message is thus never both handed over and
 *    abandoned.
 *
 *  - Pollers sleep on msgbox.poll_wq.  msgbox_poll_mask() computes the mask
 *    under msgbox.lock after poll_wait() queued the poller; every state
 *    change that can raise a mask bit happens under msgbox.lock and is
 *    followed by wake_up_poll() after the unlock (guarded by
 *    wq_has_sleeper(), whose barrier pairs with the poller's queueing).
 *    Either the poller's lock section comes after the change (it sees the
 *    new state) or before it (then the poller is already on poll_wq when the
 *    waker checks it): no wakeup is lost.
 */
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/cred.h>

#include "msgbox.h"

/*
 * waiter.state: WAITING, then CLAIMED under the lock by a waker, then the
 * result, 0 (done) or a negative errno, stored after the unlock.
 */
#define MSGBOX_WAITING	1
#define MSGBOX_CLAIMED	2

/**
 * struct msgbox_waiter - a task sleeping in send or receive
 * @list:  link in msgbox.recv_waiters or msgbox.send_waiters.
 * @task:  the sleeping task.
 * @msg:   receiver: the message handed over; sender: the message to send.
 * @size:  receiver: its buffer size (a larger message is not handed over).
 * @id:    sender: the id its message was given (the message itself may be
 *         received and freed before the sender runs again).
 * @state: MSGBOX_WAITING, MSGBOX_CLAIMED, 0 or -errno; see MSGBOX_BARRIER.
 * @result: the result a waker will store into @state.
 * @wake_next: link in a struct msgbox_wake_list once claimed.
 */
struct msgbox_waiter {
	struct list_head list;
	struct task_struct *task;
	struct msgbox_message *msg;
	size_t size;
	u64 id;
	int state;
	int result;
	struct msgbox_waiter *wake_next;
};

/* Waiters claimed under the lock, to be woken after it, in claim order. */
struct msgbox_wake_list {
	struct msgbox_waiter *first;
	struct msgbox_waiter **tail;
};

static void msgbox_wake_list_init(struct msgbox_wake_list *wl)
{
	wl->first = NULL;
	wl->tail = &wl->first;
}

struct msgbox *msgbox_alloc(const struct msgbox_create *args)
{
	struct msgbox *mb;

	mb = kzalloc(sizeof(*mb), GFP_KERNEL_ACCOUNT);
	if (!mb)
		return NULL;
	kref_init(&mb->ref);
	spin_lock_init(&mb->lock);
	INIT_LIST_HEAD(&mb->msgs);
	INIT_LIST_HEAD(&mb->recv_waiters);
	INIT_LIST_HEAD(&mb->send_waiters);
	init_waitqueue_head(&mb->poll_wq);
	INIT_HLIST_NODE(&mb->hnode);
	mb->next_id = 1;
	mb->max_msgs = args->max_msgs;
	mb->max_msg_size = args->max_msg_size;
	mb->max_bytes = args->max_bytes;
	strscpy(mb->name, args->name, sizeof(mb->name));
	return mb;
}

void msgbox_get(struct msgbox *mb)
{
	kref_get(&mb->ref);
}

static void msgbox_free_list(struct list_head *head)
{
	struct msgbox_message *msg, *next;

	list_for_each_entry_safe(msg, next, head, list)
		msgbox_message_free(msg);
}

static void msgbox_release(struct kref *ref)
{
	struct msgbox *mb = container_of(ref, struct msgbox, ref);

	/* No file and no registry entry left: nobody can wait on it. */
	WARN_ON_ONCE(!list_empty(&mb->recv_waiters) ||
		     !list_empty(&mb->send_waiters));
	msgbox_free_list(&mb->msgs);
	kfree(mb);
}

void msgbox_put(struct msgbox *mb)
{
	kref_put(&mb->ref, msgbox_release);
}

/*
 * Messages are one allocation, header and payload, charged to the sender's
 * memory cgroup.  kvmalloc() falls back to vmalloc for large payloads, so a
 * large message never needs a high-order allocation.
 */
struct msgbox_message *msgbox_message_alloc(size_t len, s64 type, u32 priority)
{
	struct msgbox_message *msg;

	msg = kvmalloc(struct_size(msg, data, len), GFP_KERNEL_ACCOUNT);
	if (!msg)
		return NULL;
	INIT_LIST_HEAD(&msg->list);
	msg->len = len;
	msg->id = 0;
	msg->type = type;
	msg->priority = priority;
	msg->send_time_ns = ktime_get_real_ns();
	msg->tgid = get_pid(task_tgid(current));
	msg->tid = get_pid(task_pid(current));
	msg->uid = current_euid();
	msg->gid = current_egid();
	return msg;
}

void msgbox_message_free(struct msgbox_message *msg)
{
	put_pid(msg->tgid);
	put_pid(msg->tid);
	kvfree(msg);
}

/* Can @len more payload bytes be queued without exceeding a limit? */
static bool msgbox_has_room(const struct msgbox *mb, size_t len)
{
	lockdep_assert_held(&mb->lock);
	return mb->nr_msgs < mb->max_msgs &&
	       mb->nr_bytes + len <= mb->max_bytes;
}

/* Account a message the mailbox accepts; it is queued or handed over. */
static void msgbox_accept(struct msgbox *mb, struct msgbox_message *msg)
{
	lockdep_assert_held(&mb->lock);
	msg->id = mb->next_id++;
	mb->sent++;
}

static void msgbox_enqueue(struct msgbox *mb, struct msgbox_message *msg)
{
	lockdep_assert_held(&mb->lock);
	list_add_tail(&msg->list, &mb->msgs);
	mb->nr_msgs++;
	mb->nr_bytes += msg->len;
}

static void msgbox_dequeue(struct msgbox *mb, struct msgbox_message *msg)
{
	lockdep_assert_held(&mb->lock);
	list_del_init(&msg->list);
	mb->nr_msgs--;
	mb->nr_bytes -= msg->len;
	mb->received++;
}

/* Claim @w for completion with @result; see the locking protocol above. */
static void waiter_claim(struct msgbox *mb, struct msgbox_wake_list *wl,
			 struct msgbox_waiter *w, int result)
{
	lockdep_assert_held(&mb->lock);
	list_del(&w->list);
	w->result = result;
	w->wake_next = NULL;
	WRITE_ONCE(w->state, MSGBOX_CLAIMED);
	*wl->tail = w;
	wl->tail = &w->wake_next;
}

/* After the unlock: publish each claimed waiter's result and wake it. */
static void msgbox_wake_up(struct msgbox_wake_list *wl)
{
	struct msgbox_waiter *w = wl->first;

	while (w) {
		struct msgbox_waiter *next = w->wake_next;
		struct task_struct *task = get_task_struct(w->task);

		/* MSGBOX_BARRIER: publishes w->msg along with the state. */
		smp_store_release(&w->state, w->result);
		/* @w may be gone from here on. */
		wake_up_process(task);
		put_task_struct(task);
		w = next;
	}
}

/*
 * After room appeared: move the messages of waiting senders into the queue,
 * oldest sender first, stopping at the first that does not fit so a large
 * message is not starved by smaller ones behind it.
 */
static void msgbox_admit_senders(struct msgbox *mb, struct msgbox_wake_list *wl)
{
	struct msgbox_waiter *w, *next;

	list_for_each_entry_safe(w, next, &mb->send_waiters, list) {
		if (!msgbox_has_room(mb, w->msg->len))
			break;
		msgbox_accept(mb, w->msg);
		w->id = w->msg->id;
		msgbox_enqueue(mb, w->msg);
		mb->nr_send_waiters--;
		waiter_claim(mb, wl, w, 0);
	}
}

/*
 * Offer @msg to the sleeping receivers in arrival order.  A receiver whose
 * buffer is too small is completed with -EMSGSIZE (the message stays for
 * others, as its receive would have found it queued).  A new message is
 * accepted (given its id) before the receiver can see it; a requeued one
 * keeps its id.  Returns true if a receiver took the message.
 */
static bool msgbox_hand_over(struct msgbox *mb, struct msgbox_message *msg,
			     bool accept, struct msgbox_wake_list *wl)
{
	struct msgbox_waiter *w, *next;

	list_for_each_entry_safe(w, next, &mb->recv_waiters, list) {
		mb->nr_recv_waiters--;
		if (msg->len > w->size) {
			waiter_claim(mb, wl, w, -EMSGSIZE);
			continue;
		}
		if (accept)
			msgbox_accept(mb, msg);
		mb->received++;
		w->msg = msg;
		waiter_claim(mb, wl, w, 0);
		return true;
	}
	return false;
}

/* A claimed waiter waits, briefly, for the waker to publish its result. */
static int msgbox_wait_claimed(struct msgbox_waiter *w)
{
	int state;

	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		/* MSGBOX_BARRIER: pairs with msgbox_wake_up(). */
		state = smp_load_acquire(&w->state);
		if (state != MSGBOX_CLAIMED)
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return state;
}

/*
 * Sleep until a waker completes @w, the deadline passes or a signal comes.
 * Entered with mb->lock held, returns with it released.  Returns the
 * waiter's result, -ETIMEDOUT or @sig_err; in the last two cases @w has been
 * unlinked here and the caller still owns whatever it put into @w.
 */
static int msgbox_wait(struct msgbox *mb, struct msgbox_waiter *w,
		       u32 *nr_waiters, const ktime_t *deadline, int sig_err)
	__releases(&mb->lock)
{
	ktime_t expires = deadline ? *deadline : 0;
	int timer;
	int ret;

	for (;;) {
		__set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&mb->lock);
		timer = schedule_hrtimeout_range_clock(deadline ? &expires : NULL,
						       0, HRTIMER_MODE_ABS,
						       CLOCK_MONOTONIC);
		/* MSGBOX_BARRIER: pairs with msgbox_wake_up(). */
		ret = smp_load_acquire(&w->state);
		if (ret <= 0)
			return ret;

		spin_lock(&mb->lock);
		ret = READ_ONCE(w->state);
		if (ret != MSGBOX_WAITING) {
			spin_unlock(&mb->lock);
			return ret == MSGBOX_CLAIMED ? msgbox_wait_claimed(w) :
			       ret;
		}
		if (signal_pending(current)) {
			ret = sig_err;
			break;
		}
		if (timer == 0) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	list_del(&w->list);
	(*nr_waiters)--;
	spin_unlock(&mb->lock);
	return ret;
}

static void msgbox_wake_pollers(struct msgbox *mb, __poll_t mask)
{
	if (wq_has_sleeper(&mb->poll_wq))
		wake_up_poll(&mb->poll_wq, mask);
}

/**
 * msgbox_send() - send @msg; on success the mailbox owns it.
 * @mb:       the mailbox.
 * @msg:      the message, payload already copied in.
 * @nonblock: fail with -EAGAIN instead of sleeping.
 * @deadline: CLOCK_MONOTONIC deadline, or NULL to wait without limit.
 * @sig_err:  error for a signal (-ERESTARTSYS or -EINTR).
 * @idp:      on success, the id the message was given.
 *
 * Senders keep arrival order: while one sleeps, a later sender does not
 * overtake it even if its smaller message would fit.
 * Return: 0, or -EIDRM, -EAGAIN, -ETIMEDOUT, @sig_err; on error the caller
 * still owns @msg.
 */
int msgbox_send(struct msgbox *mb, struct msgbox_message *msg, bool nonblock,
		const ktime_t *deadline, int sig_err, u64 *idp)
{
	struct msgbox_waiter w;
	struct msgbox_wake_list wl;
	__poll_t wake = 0;
	int ret = 0;

again:
	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		ret = -EIDRM;
		goto out_unlock;
	}
	if (list_empty(&mb->send_waiters)) {
		/* Receivers sleep only on an empty queue: hand over directly. */
		if (msgbox_hand_over(mb, msg, true, &wl)) {
			*idp = msg->id;
			goto out_unlock;
		}
		if (msgbox_has_room(mb, msg->len)) {
			msgbox_accept(mb, msg);
			*idp = msg->id;
			msgbox_enqueue(mb, msg);
			wake = EPOLLIN | EPOLLRDNORM;
			goto out_unlock;
		}
	}
	if (nonblock) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	if (unlikely(wl.first)) {
		/*
		 * Receivers turned away with -EMSGSIZE wait for this task to
		 * publish their result: never sleep before doing so.  (Not
		 * expected: receivers sleep only on an empty queue, which
		 * always has room.)
		 */
		spin_unlock(&mb->lock);
		msgbox_wake_up(&wl);
		goto again;
	}

	w.task = current;
	w.msg = msg;
	w.size = 0;
	w.id = 0;
	w.state = MSGBOX_WAITING;
	list_add_tail(&w.list, &mb->send_waiters);
	mb->nr_send_waiters++;
	/* A sender is admitted by a receiver, which wakes the pollers. */
	ret = msgbox_wait(mb, &w, &mb->nr_send_waiters, deadline, sig_err);
	if (ret == 0)
		*idp = w.id;
	return ret;

out_unlock:
	spin_unlock(&mb->lock);
	msgbox_wake_up(&wl);
	if (wake)
		msgbox_wake_pollers(mb, wake);
	return ret;
}

/**
 * msgbox_recv() - take the first message.
 * @mb:       the mailbox.
 * @size:     the caller's buffer size; a larger message stays queued.
 * @nonblock: fail with -EAGAIN instead of sleeping.
 * @deadline: CLOCK_MONOTONIC deadline, or NULL.
 * @sig_err:  error for a signal.
 * @msgp:     on success, the message, now owned by the caller.
 *
 * Return: 0, or -EIDRM, -EMSGSIZE, -EAGAIN, -ETIMEDOUT, @sig_err.
 */
int msgbox_recv(struct msgbox *mb, size_t size, bool nonblock,
		const ktime_t *deadline, int sig_err,
		struct msgbox_message **msgp)
{
	struct msgbox_message *msg;
	struct msgbox_waiter w;
	struct msgbox_wake_list wl;
	int ret = 0;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		ret = -EIDRM;
		goto out_unlock;
	}
	msg = list_first_entry_or_null(&mb->msgs, struct msgbox_message, list);
	if (msg) {
		if (msg->len > size) {
			ret = -EMSGSIZE;
			goto out_unlock;
		}
		msgbox_dequeue(mb, msg);
		msgbox_admit_senders(mb, &wl);
		spin_unlock(&mb->lock);
		msgbox_wake_up(&wl);
		msgbox_wake_pollers(mb, EPOLLOUT | EPOLLWRNORM);
		*msgp = msg;
		return 0;
	}
	if (nonblock) {
		ret = -EAGAIN;
		goto out_unlock;
	}

	w.task = current;
	w.msg = NULL;
	w.size = size;
	w.id = 0;
	w.state = MSGBOX_WAITING;
	list_add_tail(&w.list, &mb->recv_waiters);
	mb->nr_recv_waiters++;
	ret = msgbox_wait(mb, &w, &mb->nr_recv_waiters, deadline, sig_err);
	if (ret == 0)
		*msgp = w.msg;
	return ret;

out_unlock:
	spin_unlock(&mb->lock);
	return ret;
}

/**
 * msgbox_requeue() - give back a message whose copy-out failed.
 * @mb:  the mailbox it was received from.
 * @msg: the message, owned by the caller until now.
 *
 * It returns to the head of the queue (it was the oldest when taken) or to
 * a receiver already waiting, so a fault in the receiver's buffer loses
 * nothing.  This may exceed the capacity by the messages being requeued,
 * one per receiver in flight: bounded, and gone as they are received.
 */
void msgbox_requeue(struct msgbox *mb, struct msgbox_message *msg)
{
	struct msgbox_wake_list wl;
	bool dead;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	dead = mb->dead;
	if (!dead) {
		mb->received--;
		if (!msgbox_hand_over(mb, msg, false, &wl)) {
			list_add(&msg->list, &mb->msgs);
			mb->nr_msgs++;
			mb->nr_bytes += msg->len;
		}
	}
	spin_unlock(&mb->lock);
	msgbox_wake_up(&wl);
	if (dead)
		msgbox_message_free(msg);
	else
		msgbox_wake_pollers(mb, EPOLLIN | EPOLLRDNORM);
}

/**
 * msgbox_kill() - refuse further messages, drop the queued ones, wake all.
 * @mb: the mailbox being destroyed; the registry has dropped its name.
 *
 * Every sleeper wakes with -EIDRM and every poller with EPOLLHUP.
 */
void msgbox_kill(struct msgbox *mb)
{
	struct msgbox_waiter *w, *next;
	struct msgbox_wake_list wl;
	LIST_HEAD(dropped);

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	mb->dead = true;
	list_splice_init(&mb->msgs, &dropped);
	mb->nr_msgs = 0;
	mb->nr_bytes = 0;
	list_for_each_entry_safe(w, next, &mb->recv_waiters, list)
		waiter_claim(mb, &wl, w, -EIDRM);
	list_for_each_entry_safe(w, next, &mb->send_waiters, list)
		waiter_claim(mb, &wl, w, -EIDRM);
	mb->nr_recv_waiters = 0;
	mb->nr_send_waiters = 0;
	spin_unlock(&mb->lock);

	msgbox_wake_up(&wl);
	msgbox_wake_pollers(mb, EPOLLHUP | EPOLLERR | EPOLLIN | EPOLLOUT);
	msgbox_free_list(&dropped);
}

/**
 * msgbox_poll_mask() - readiness of a mailbox.
 * @mb: the mailbox.
 *
 * See the poll paragraph of the locking protocol.  EPOLLOUT promises that a
 * message of max_msg_size bytes would be accepted now, so a writer woken by
 * it does not spin on EAGAIN.
 *
 * Return: the EPOLL* mask.
 */
__poll_t msgbox_poll_mask(struct msgbox *mb)
{
	__poll_t mask = 0;

	spin_lock(&mb->lock);
	if (mb->dead) {
		mask = EPOLLHUP | EPOLLERR;
	} else {
		if (mb->nr_msgs)
			mask |= EPOLLIN | EPOLLRDNORM;
		if (list_empty(&mb->send_waiters) &&
		    msgbox_has_room(mb, mb->max_msg_size))
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	spin_unlock(&mb->lock);
	return mask;
}

/* Return: 0, or -EIDRM once the mailbox is destroyed (info still filled). */
int msgbox_fill_info(struct msgbox *mb, struct msgbox_info *info)
{
	int ret;

	memset(info, 0, sizeof(*info));
	spin_lock(&mb->lock);
	ret = mb->dead ? -EIDRM : 0;
	info->nr_msgs = mb->nr_msgs;
	info->nr_bytes = mb->nr_bytes;
	info->sent = mb->sent;
	info->received = mb->received;
	info->recv_waiters = mb->nr_recv_waiters;
	info->send_waiters = mb->nr_send_waiters;
	spin_unlock(&mb->lock);
	info->max_msgs = mb->max_msgs;
	info->max_msg_size = mb->max_msg_size;
	info->max_bytes = mb->max_bytes;
	strscpy(info->name, mb->name, sizeof(info->name));
	return ret;
}
