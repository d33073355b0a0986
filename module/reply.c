// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: request/reply.
 *
 * MSGBOX_IOC_CALL sends a request message carrying a struct msgbox_call
 * (the pending call) and sleeps on the call, not on the mailbox.  The
 * server's MSGBOX_IOC_RECV moves the call from the message into the
 * receiving file's table (struct msgbox_file.calls) and hands back its
 * index there as the reply token; MSGBOX_IOC_REPLY on that file takes it out
 * again and completes the call with the reply.  The reply thus reaches the
 * calling thread and nobody else, whatever else reads the mailbox.
 *
 * The call's state settles exactly once, under call->lock:
 *   PENDING    -> 0           replied (call->reply holds the message);
 *   PENDING    -> -errno      failed: the server's file was released
 *                             (-ECONNRESET) or the queued request freed
 *                             with its mailbox (-EIDRM);
 *   PENDING    -> ABANDONED   the caller gave up; a later reply fails with
 *                             -EPIPE and a queued request is discarded by
 *                             the receive that reaches it.
 *
 * A caller interrupted by a signal before any receive took its request
 * (call->taken, set under call->lock by the receive that checks for
 * ABANDONED) gave nothing to a server: it may restart as any interrupted
 * wait does, sending the request anew, the first one being discarded.
 * Once a receive took the request, a server may be acting on it, and the
 * caller ends with -EINTR instead: a restart would send it twice.
 *
 * References: the caller holds one, and the request message or the
 * server's file table holds the other, whichever has the call now.
 *
 * Locking: call->lock is a leaf lock, never held across anything else.
 * The caller sleeps in msgbox_call_wait() as the only waiter there can be:
 * whoever settles the call takes a reference on the caller's task under
 * call->lock (while the state is PENDING the caller cannot have returned:
 * msgbox_call_end() takes the lock first) and wakes it after the unlock,
 * without a wait queue.  Such a wake-up may come late, once the caller
 * has left the call (it saw the state change first): every sleep takes a
 * spurious wake-up, as with the kernel's wake_q.
 *
 * A mailbox keeps one freed call for its next (struct msgbox.spare_call):
 * a call and its reply then cost no allocation in a steady exchange.
 */
#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "msgbox.h"

/**
 * msgbox_call_alloc() - a new call of the current task.
 * @mb:         the mailbox it is made on, whose kept call it may reuse.
 * @reply_size: the largest reply the caller takes.
 *
 * Return: the call, with one reference (the caller's), or NULL.
 */
__msgbox_hot struct msgbox_pending_call *msgbox_call_alloc(struct msgbox *mb,
							   size_t reply_size)
{
	struct msgbox_pending_call *call = msgbox_spare_call_take(mb);

	/* Every field set here: one per call, no memset of the whole. */
	if (!call)
		call = kmalloc(sizeof(*call), GFP_KERNEL_ACCOUNT);
	if (!call)
		return NULL;
	refcount_set(&call->ref, 1);
	spin_lock_init(&call->lock);
	call->state = MSGBOX_CALL_PENDING;
	call->reply_size = reply_size;
	call->token = 0;
	call->taken = false;
	call->reply = NULL;
	call->task = current;
	call->notify = NULL;
	call->notify_data = NULL;
	return call;
}

/**
 * msgbox_call_put_keep() - drop a reference to @call, keeping it for @mb.
 * @call: the call.
 * @mb:   a mailbox whose next call may reuse it if this was the last
 *        reference (NULL: none).
 */
void __msgbox_hot msgbox_call_put_keep(struct msgbox_pending_call *call,
				       struct msgbox *mb)
{
	if (!refcount_dec_and_test(&call->ref))
		return;
	if (call->reply)
		msgbox_message_free(call->reply);
	if (!mb || !msgbox_spare_call_give(mb, call))
		kfree(call);
}

/*
 * Under call->lock, settling @call: the task to wake after the unlock (a
 * reference), or NULL for an io_uring caller.
 */
static __msgbox_hot struct task_struct *
msgbox_call_waker(struct msgbox_pending_call *call)
{
	return call->notify ? NULL : get_task_struct(call->task);
}

/*
 * After the unlock: tell the caller its call settled.  The settler holds a
 * reference, so the call outlives this; the io_uring caller's hook only
 * queues work.  @task is msgbox_call_waker()'s.
 */
static __always_inline void msgbox_call_wake(struct msgbox_pending_call *call,
					     struct task_struct *task)
{
	if (!task) {
		call->notify(call->notify_data);
		return;
	}
	wake_up_process(task);
	put_task_struct(task);
}

/**
 * msgbox_call_set_notify() - make @call an io_uring caller's.
 * @call:   a call whose request is not sent yet.
 * @notify: called once when the call settles.
 * @data:   its argument.
 */
void msgbox_call_set_notify(struct msgbox_pending_call *call,
			    void (*notify)(void *data), void *data)
{
	call->notify = notify;
	call->notify_data = data;
	call->task = NULL;	/* it never sleeps on the call */
}

/* Settle a pending call with @err; no effect on a settled one. */
void msgbox_call_fail(struct msgbox_pending_call *call, int err)
{
	struct task_struct *task = NULL;
	bool pending;

	spin_lock(&call->lock);
	pending = call->state == MSGBOX_CALL_PENDING;
	if (pending) {
		task = msgbox_call_waker(call);
		WRITE_ONCE(call->state, err);
	}
	spin_unlock(&call->lock);
	if (pending)
		msgbox_call_wake(call, task);
}

/**
 * msgbox_call_take() - a receive took @call's request.
 * @call: the call.
 *
 * Return: true if the caller gave up meanwhile: the request is to be
 * discarded.  Otherwise it is the receiver's from now on, and the caller
 * can no longer withdraw it (it may reach a server).
 */
bool __msgbox_hot msgbox_call_take(struct msgbox_pending_call *call)
{
	bool abandoned;

	spin_lock(&call->lock);
	abandoned = call->state == MSGBOX_CALL_ABANDONED;
	call->taken = true;
	spin_unlock(&call->lock);
	return abandoned;
}

/**
 * msgbox_call_untake() - the receive that took @call's request gave it back.
 * @call: the call.
 *
 * Its copy-out failed before any server saw the request, which is queued
 * again: the caller, as before the take, may restart on a signal.
 */
void msgbox_call_untake(struct msgbox_pending_call *call)
{
	spin_lock(&call->lock);
	call->taken = false;
	spin_unlock(&call->lock);
}

/**
 * msgbox_call_complete() - deliver @reply to the caller.
 * @call:  the call, taken out of the server's table.
 * @reply: the reply message; the call owns it on success.
 *
 * Return: 0, or -EPIPE if the caller is gone (the caller of this keeps
 * @reply).
 */
int __msgbox_hot msgbox_call_complete(struct msgbox_pending_call *call,
				      struct msgbox_message *reply)
{
	struct task_struct *task = NULL;
	int ret = -EPIPE;

	spin_lock(&call->lock);
	if (call->state == MSGBOX_CALL_PENDING) {
		task = msgbox_call_waker(call);
		call->reply = reply;
		WRITE_ONCE(call->state, 0);
		ret = 0;
	}
	spin_unlock(&call->lock);
	if (!ret)
		msgbox_call_wake(call, task);
	return ret;
}

/**
 * msgbox_call_wait() - the caller sleeps until the call settles.
 * @call:   the call.
 * @wait:   deadline and clock (non-blocking is not used for calls).
 * @replyp: on success, the reply, now owned by the caller.
 *
 * A caller that stops waiting (deadline, signal) abandons the call, unless
 * it settled meanwhile, in which case that outcome is returned.  A signal
 * before any receive took the request gives @wait->sig_err (the call may
 * restart), after it -EINTR.
 *
 * Return: 0, -ETIMEDOUT, -EINTR, @wait->sig_err, or the error the call
 * failed with.
 */
int __msgbox_hot msgbox_call_wait(struct msgbox_pending_call *call,
				  const struct msgbox_wait *wait,
				  struct msgbox_message **replyp)
{
	ktime_t expires = wait->deadline;
	unsigned int pflags;
	int err = 0, unseen_err;

	/* Only the thread that made the call sleeps on it. */
	WARN_ON_ONCE(call->task != current);
	if (wait->poll)
		msgbox_poll(READ_ONCE(call->state) != MSGBOX_CALL_PENDING, wait);
	pflags = msgbox_unrestartable_begin();
	for (;;) {
		/*
		 * The state is read after ours is set (a full barrier); the
		 * settler sets the call's before wake_up_process() reads ours:
		 * no wake-up is lost.
		 */
		set_current_state(msgbox_unrestartable_state());
		if (READ_ONCE(call->state) != MSGBOX_CALL_PENDING)
			break;
		if (task_sigpending(current)) {
			err = -EINTR;
			break;
		}
		if (!msgbox_sleep(wait, &expires)) {
			err = -ETIMEDOUT;
			break;
		}
	}
	__set_current_state(TASK_RUNNING);
	msgbox_unrestartable_end(pflags);
	unseen_err = err == -EINTR ? wait->sig_err : err;
	return msgbox_call_end(call, err, unseen_err, replyp);
}

/**
 * msgbox_call_end() - the caller is done with @call.
 * @call:   the call.
 * @err:    why it stops waiting, should the call still be pending.
 * @unseen_err: the same, should no receive have taken its request yet.
 * @replyp: on success, the reply, now owned by the caller.
 *
 * A call still pending is abandoned (a later reply fails with -EPIPE, a
 * queued request is discarded); one that settled meanwhile reports that
 * outcome.
 *
 * Return: 0, @err, @unseen_err, or the error the call failed with.
 */
int msgbox_call_end(struct msgbox_pending_call *call, int err, int unseen_err,
		    struct msgbox_message **replyp)
{
	int ret;

	spin_lock(&call->lock);
	if (call->state == MSGBOX_CALL_PENDING) {
		WRITE_ONCE(call->state, MSGBOX_CALL_ABANDONED);
		if (!call->taken)
			err = unseen_err;
	}
	ret = call->state == MSGBOX_CALL_ABANDONED ? err : call->state;
	if (!ret) {
		*replyp = call->reply;
		call->reply = NULL;
	}
	spin_unlock(&call->lock);
	return ret;
}

/**
 * msgbox_call_abandon() - an io_uring caller cancels @call.
 * @call: the call.
 *
 * Return: true if it was pending and is now abandoned (the canceller
 * completes the command), false if it settled first (its notification
 * completes the command).
 */
bool msgbox_call_abandon(struct msgbox_pending_call *call)
{
	bool pending;

	spin_lock(&call->lock);
	pending = call->state == MSGBOX_CALL_PENDING;
	if (pending)
		WRITE_ONCE(call->state, MSGBOX_CALL_ABANDONED);
	spin_unlock(&call->lock);
	return pending;
}
