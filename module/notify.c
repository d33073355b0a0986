// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: being told that a message arrived in an empty mailbox
 * (MSGBOX_IOC_NOTIFY), what mq_notify(3) offers on a POSIX queue.
 *
 * One process at a time may be registered on a mailbox, for one
 * notification.  It fires when a message is queued while the mailbox is
 * empty: msgbox_hand_over() gives a message to a waiting receiver without
 * queueing it, so, as for mq_notify, receivers waiting in a receive come
 * first.  Firing signals the eventfd, if one was given, and ends the
 * registration.  It ends as well when its process removes it, closes any
 * descriptor of the mailbox (->flush, as mqueue_flush_file() does) or
 * when the mailbox is destroyed.
 *
 * mq_notify's signal and thread variants are left to userspace: a module
 * cannot send a process-directed signal with a siginfo of its choosing
 * (do_send_sig_info() is not exported), while an eventfd lets a library
 * raise exactly that signal, start a thread, or wake an event loop.
 *
 * Locking: msgbox.notify is under msgbox.lock.  Only the check made at
 * every close (is this process the one registered?) reads @owner without
 * it; a stale answer there only orders the close before a registration
 * that another thread of the process makes at the same moment, and the
 * answer that counts is taken again under the lock.  The eventfd is
 * signalled under the lock, as ipc/mqueue.c notifies under its spinlock:
 * eventfd_signal() only takes the eventfd's own lock (irq-safe, so
 * nesting it inside msgbox.lock is fine) and never sleeps.
 */
#include <linux/eventfd.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "msgbox.h"
#include "compat.h"

/* Drop the references of a registration detached from its mailbox. */
void msgbox_notifier_release(struct msgbox_notifier *n)
{
	if (n->efd)
		eventfd_ctx_put(n->efd);
	put_pid(n->owner);
}

/* Under msgbox.lock: detach @mb's registration into @old (maybe none). */
void msgbox_notify_take(struct msgbox *mb, struct msgbox_notifier *old)
{
	lockdep_assert_held(&mb->lock);
	*old = mb->notify;
	/* Pairs with the lockless check in msgbox_notify_clear(). */
	WRITE_ONCE(mb->notify.owner, NULL);
	mb->notify.efd = NULL;
}

/**
 * msgbox_notify_set() - register the calling process.
 * @mb:  the mailbox.
 * @efd: the eventfd to signal (its reference passes to the mailbox on
 *       success), or NULL.
 *
 * Return: 0, -EBUSY if a process is registered, -EIDRM if @mb is destroyed.
 */
int msgbox_notify_set(struct msgbox *mb, struct eventfd_ctx *efd)
{
	int ret = 0;

	spin_lock(&mb->lock);
	if (mb->dead) {
		ret = -EIDRM;
	} else if (mb->notify.owner) {
		ret = -EBUSY;
	} else {
		WRITE_ONCE(mb->notify.owner, get_pid(task_tgid(current)));
		mb->notify.efd = efd;
	}
	spin_unlock(&mb->lock);
	return ret;
}

/**
 * msgbox_notify_clear() - remove the calling process's registration.
 * @mb: the mailbox.
 *
 * Return: 0, or -ENOENT if the caller's process is not the one registered.
 */
int msgbox_notify_clear(struct msgbox *mb)
{
	struct pid *me = task_tgid(current);
	struct msgbox_notifier old = { };

	/* Every close comes here: most find nothing of theirs. */
	if (READ_ONCE(mb->notify.owner) != me)
		return -ENOENT;
	spin_lock(&mb->lock);
	if (mb->notify.owner == me)
		msgbox_notify_take(mb, &old);
	spin_unlock(&mb->lock);
	if (!old.owner)
		return -ENOENT;
	msgbox_notifier_release(&old);
	return 0;
}

/**
 * msgbox_notify_fire() - a message was queued in the empty @mb.
 * @mb: the mailbox, locked, with a registration.
 */
void msgbox_notify_fire(struct msgbox *mb)
{
	struct msgbox_notifier n;

	msgbox_notify_take(mb, &n);
	if (n.efd)
		msgbox_eventfd_signal(n.efd);
	/* The process holds the eventfd open: rarely the last reference. */
	msgbox_notifier_release(&n);
}
