// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: delivery tracking.
 *
 * A message sent with MSGBOX_MSG_TRACK or MSGBOX_MSG_WAIT_ACK carries a
 * struct msgbox_track, shared with its sender: the sender's open file
 * keeps it by message id for MSGBOX_IOC_STATUS, and a WAIT_ACK sender
 * sleeps on it.  The mailbox moves the status along as the message goes:
 *
 *   PENDING      queued (again, after a redelivery);
 *   DELIVERED    in flight with a receiver in ack mode;
 *   ACKED        acknowledged, or received without ack mode;   final
 *   DEAD_LETTER  moved to the dead-letter mailbox, or dropped;  final
 *   EXPIRED      its time to live ran out while queued;         final
 *   DESTROYED    its mailbox was destroyed first;               final
 *
 * The message drops its reference once the status is final.  Statuses
 * change under the mailbox lock of the message's mailbox and are read
 * with READ_ONCE; the waiter is woken after every final change.
 */
#include <linux/hrtimer.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "compat.h"
#include "msgbox.h"

struct msgbox_track *msgbox_track_alloc(void)
{
	struct msgbox_track *t = kmalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);

	if (!t)
		return NULL;
	refcount_set(&t->ref, 1);
	INIT_LIST_HEAD(&t->node);
	t->id = 0;
	t->status = MSGBOX_STATUS_PENDING;
	init_waitqueue_head(&t->wq);
	return t;
}

struct msgbox_track *msgbox_track_get(struct msgbox_track *t)
{
	refcount_inc(&t->ref);
	return t;
}

void msgbox_track_put(struct msgbox_track *t)
{
	if (refcount_dec_and_test(&t->ref))
		kfree(t);
}

u32 msgbox_track_status(const struct msgbox_track *t)
{
	return READ_ONCE(t->status);
}

bool msgbox_status_final(u32 status)
{
	return status != MSGBOX_STATUS_PENDING &&
	       status != MSGBOX_STATUS_DELIVERED;
}

/* Move @msg's tracked status to @status; a final one ends the tracking. */
void __msgbox_track_set(struct msgbox_message *msg, u32 status)
{
	struct msgbox_track *t = msg->track;

	WRITE_ONCE(t->status, status);
	if (!msgbox_status_final(status))
		return;
	msg->track = NULL;
	wake_up(&t->wq);
	msgbox_track_put(t);
}

/**
 * msgbox_track_wait() - sleep until @t is final, the deadline or a signal.
 * @t:    the status.
 * @wait: the deadline and clock of the send.
 *
 * Return: 0 if acknowledged; -EPIPE dead-lettered; -ETIME expired;
 * -EIDRM destroyed; -ETIMEDOUT or -EINTR if the sender stopped waiting
 * (the message goes on, untracked by this waiter).
 */
int msgbox_track_wait(struct msgbox_track *t, const struct msgbox_wait *wait)
{
	ktime_t expires = wait->deadline;
	DEFINE_WAIT(entry);
	unsigned int pflags;
	int ret = 0;

	pflags = msgbox_unrestartable_begin();
	for (;;) {
		prepare_to_wait(&t->wq, &entry, msgbox_unrestartable_state());
		if (msgbox_status_final(READ_ONCE(t->status)))
			break;
		if (task_sigpending(current)) {
			ret = -EINTR;
			break;
		}
		if (!msgbox_sleep(wait, &expires)) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	finish_wait(&t->wq, &entry);
	msgbox_unrestartable_end(pflags);
	switch (READ_ONCE(t->status)) {
	case MSGBOX_STATUS_ACKED:
		return 0;
	case MSGBOX_STATUS_DEAD_LETTER:
		return -EPIPE;
	case MSGBOX_STATUS_EXPIRED:
		return -ETIME;
	case MSGBOX_STATUS_DESTROYED:
		return -EIDRM;
	default:
		return ret;
	}
}
