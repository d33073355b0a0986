// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: publish/subscribe.
 *
 * A topic is a mailbox created with MSGBOX_CREATE_TOPIC.  Each subscription
 * is an anonymous mailbox of its own (so receive, poll and read work on it
 * unchanged) linked into the topic's list.  A publish sends one message
 * header per subscription, all sharing the publisher's reference-counted
 * payload: the bytes are copied from userspace once, whatever the number
 * of subscribers.
 *
 * Order: publishes are serialised by the topic's mutex, so every
 * subscription receives them in the same order.  Only publishes add to a
 * subscription's queue (its descriptors are receive-only), so under the
 * mutex the room in a subscription can only grow: the BLOCK policy first
 * waits until every subscription has room, then delivers to all, and a
 * publish is never delivered to some subscriptions only.
 *
 * References: the topic's list holds one on each subscription and each
 * subscription one on its topic.  The cycle is broken when the
 * subscription's last descriptor closes (msgbox_unsubscribe()) or the
 * topic is destroyed (msgbox_topic_kill()).
 *
 * Locking: msgbox_topic.lock (a mutex: a blocking publish sleeps holding
 * it) protects the list and @dead; it nests outside every msgbox.lock.
 * Nothing that must not wait for a blocked publisher waits for it: a
 * subscription's last close kills the subscription first (which wakes a
 * publisher blocked on its room), then only tries the mutex; if that is
 * taken, the subscription goes on the lock-free @gone list, which whoever
 * holds the mutex empties before letting go (msgbox_topic_unlock()).
 * Destroying the topic marks the topic's mailbox dead and wakes its
 * pollers before taking the mutex; msgbox_wait_room() watches both.
 * Subscribing and publishing wait for the mutex interruptibly.
 */
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "msgbox.h"

/**
 * struct msgbox_topic - publish/subscribe state of a topic
 * @lock:    serialises publishes; protects @subs, @nr_subs and @dead.
 * @subs:    subscriptions (msgbox.sub_node), each a reference.
 * @nr_subs: length of @subs.
 * @dead:    the topic was destroyed: no more subscriptions.
 * @gone:    subscriptions (msgbox.gone_node) whose last descriptor closed
 *           while @lock was taken, still on @subs: the holder of @lock
 *           unlinks them, unless the topic is dead (then
 *           msgbox_topic_kill() has them, and nobody reads @gone again).
 */
struct msgbox_topic {
	struct mutex lock;	/* see the comment above */
	struct list_head subs;
	unsigned int nr_subs;
	bool dead;
	struct llist_head gone;
};

int msgbox_topic_init(struct msgbox *mb)
{
	struct msgbox_topic *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	mutex_init(&t->lock);
	INIT_LIST_HEAD(&t->subs);
	init_llist_head(&t->gone);
	mb->topic = t;
	return 0;
}

/* At release: every subscription has let go of the topic by then. */
void msgbox_topic_free(struct msgbox *mb)
{
	WARN_ON_ONCE(!list_empty(&mb->topic->subs));
	mutex_destroy(&mb->topic->lock);
	kfree(mb->topic);
}

unsigned int msgbox_topic_subscribers(struct msgbox *mb)
{
	return mb->topic ? READ_ONCE(mb->topic->nr_subs) : 0;
}

/*
 * Let go of the topic's mutex, unlinking first the subscriptions that
 * closed meanwhile.  Their list references are put after the unlock.
 * Someone who queued one while this held the mutex saw it taken: look
 * again once it is released (the barrier pairs with llist_add()'s), and
 * take care of it if nobody else holds the mutex by then.
 */
static void msgbox_topic_unlock(struct msgbox_topic *t)
{
	struct msgbox *sub, *next;
	struct llist_node *gone;
	LIST_HEAD(puts);

	do {
		if (!t->dead) {
			gone = llist_del_all(&t->gone);
			llist_for_each_entry_safe(sub, next, gone, gone_node) {
				list_move(&sub->sub_node, &puts);
				WRITE_ONCE(t->nr_subs, t->nr_subs - 1);
			}
		}
		mutex_unlock(&t->lock);
		list_for_each_entry_safe(sub, next, &puts, sub_node) {
			list_del_init(&sub->sub_node);
			msgbox_put(sub);
		}
		/*
		 * Pairs with the full barrier of llist_add() before an
		 * unsubscriber's mutex_trylock(): it saw the mutex taken, or
		 * this sees its entry.
		 */
		smp_mb();
	} while (!llist_empty(&t->gone) && !READ_ONCE(t->dead) &&
		 mutex_trylock(&t->lock));
}

/* The topic is destroyed: end every subscription. */
void msgbox_topic_kill(struct msgbox *mb)
{
	struct msgbox_topic *t = mb->topic;
	struct msgbox *sub, *next;
	LIST_HEAD(subs);

	mutex_lock(&t->lock);
	t->dead = true;
	list_splice_init(&t->subs, &subs);
	t->nr_subs = 0;
	mutex_unlock(&t->lock);

	list_for_each_entry_safe(sub, next, &subs, sub_node) {
		list_del_init(&sub->sub_node);
		msgbox_kill(sub);
		msgbox_put(sub);
	}
}

/**
 * msgbox_subscribe() - link a new subscription @sub into @topic.
 * @topic: the topic.
 * @sub:   the subscription mailbox; the list takes a reference.
 *
 * Return: 0, or -EIDRM if the topic was destroyed.
 */
int msgbox_subscribe(struct msgbox *topic, struct msgbox *sub)
{
	struct msgbox_topic *t = topic->topic;
	int ret = 0;

	/* A publisher may hold it, blocked for as long as a reader waits. */
	if (mutex_lock_interruptible(&t->lock))
		return -ERESTARTSYS;
	if (t->dead) {
		ret = -EIDRM;
	} else {
		msgbox_get(sub);
		list_add_tail(&sub->sub_node, &t->subs);
		WRITE_ONCE(t->nr_subs, t->nr_subs + 1);
		sub->subscribed = true;
	}
	msgbox_topic_unlock(t);
	return ret;
}

/*
 * The subscription's last descriptor closed (it is dead already).  This
 * must not wait for a publisher blocked on another subscription: if the
 * mutex is taken, the holder unlinks it (see msgbox_topic_unlock()).
 */
void msgbox_unsubscribe(struct msgbox *sub)
{
	struct msgbox_topic *t = sub->parent->topic;

	/* Never linked: its SUBSCRIBE failed. */
	if (!sub->subscribed)
		return;
	if (!mutex_trylock(&t->lock)) {
		llist_add(&sub->gone_node, &t->gone);
		if (!mutex_trylock(&t->lock))
			return;
	} else if (!t->dead && !list_empty(&sub->sub_node)) {
		/*
		 * Once the topic is dead, msgbox_topic_kill() owns what was
		 * the list (unlinked there without this lock), with its
		 * references; before, queue it as if the mutex had been
		 * taken, for the one unlinking path below.
		 */
		llist_add(&sub->gone_node, &t->gone);
	}
	msgbox_topic_unlock(t);
}

/**
 * msgbox_publish() - send @msg to every subscription of topic @mb.
 * @mb:   the topic.
 * @msg:  the message; the topic owns it on success.
 * @wait: how a BLOCK topic waits for room (and whether it may).
 * @idp:  on success, the publication's sequence number in the topic.
 *
 * Return: 0, or -EIDRM, -EMSGSIZE, -EAGAIN, -ETIMEDOUT, @wait->sig_err,
 * -ENOMEM; on error nothing was delivered and the caller still owns @msg.
 */
int msgbox_publish(struct msgbox *mb, struct msgbox_message *msg,
		   const struct msgbox_wait *wait, u64 *idp)
{
	u32 policy = mb->flags & (MSGBOX_CREATE_DROP_OLDEST |
				  MSGBOX_CREATE_DROP_NEW);
	struct msgbox_topic *t = mb->topic;
	struct msgbox_message **copies, key;
	unsigned int n = 0, i = 0;
	struct msgbox *sub;
	int ret = 0;

	if (wait->nonblock) {
		if (!mutex_trylock(&t->lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&t->lock)) {
		return wait->sig_err;
	}
	if (t->dead || READ_ONCE(mb->dead)) {
		ret = -EIDRM;
		goto out_unlock;
	}
	list_for_each_entry(sub, &t->subs, sub_node)
		n += msgbox_selects(&sub->filter, msg);

	/* All or nothing: first room everywhere, then delivery. */
	if (!policy) {
		list_for_each_entry(sub, &t->subs, sub_node) {
			if (!msgbox_selects(&sub->filter, msg))
				continue;
			ret = msgbox_wait_room(sub, msg->len, wait);
			/* A subscription closed meanwhile is skipped. */
			if (ret == -EIDRM && !READ_ONCE(mb->dead))
				ret = 0;
			if (ret)
				goto out_unlock;
		}
	}

	/* One header per subscription, the first being @msg itself. */
	copies = kmalloc_array(max(n, 1U), sizeof(*copies), GFP_KERNEL);
	if (!copies) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	copies[0] = msg;
	for (i = 1; i < n; i++) {
		copies[i] = msgbox_message_copy(msg);
		if (!copies[i]) {
			ret = -ENOMEM;
			goto out_free;
		}
	}

	msgbox_note_publish(mb, msg->len, idp);
	/*
	 * What the filters look at, kept aside: once delivered, @msg (the
	 * first copy) may be received and freed at once (a waiting receiver,
	 * a receive ring).
	 */
	key.type = msg->type;
	key.tgid = msg->tgid;
	i = 0;
	list_for_each_entry(sub, &t->subs, sub_node) {
		if (!msgbox_selects(&sub->filter, &key))
			continue;
		if (msgbox_deliver(sub, copies[i], policy)) {
			msgbox_count_drops(sub, 1);
			msgbox_count_drops(mb, 1);
			msgbox_message_free(copies[i]);
		}
		i++;
	}
	if (!n)		/* no subscriber: the publication goes nowhere */
		msgbox_message_free(msg);
	kfree(copies);
	msgbox_topic_unlock(t);
	return 0;

out_free:
	while (--i > 0)
		msgbox_message_free(copies[i]);
	kfree(copies);
out_unlock:
	msgbox_topic_unlock(t);
	return ret;
}
