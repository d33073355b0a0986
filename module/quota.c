// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: system-wide limits and per-user quotas.
 *
 * A mailbox is charged its worst case, one mailbox and max_bytes of
 * payload, to its owner and to the system totals when it is created,
 * adjusted when MSGBOX_IOC_SETATTR changes max_bytes, and released when it
 * is freed: the way ipc/mqueue.c charges RLIMIT_MSGQUEUE.  The message path
 * does no accounting at all; per-mailbox limits already bound what a
 * mailbox can hold, and message memory is charged to the sender's memory
 * cgroup by the allocator.
 *
 * Exceeding a system-wide limit (max_mailboxes, max_total_bytes) fails
 * with ENOSPC; exceeding a user's quota (user_max_mailboxes,
 * user_max_bytes) fails with EDQUOT, which says what ran out and cannot be
 * mistaken for a descriptor limit.  CAP_SYS_RESOURCE lifts the per-user
 * quotas, not the system-wide limits.
 *
 * Locking: msgbox_quota_lock (a spinlock: mailboxes are also released from
 * contexts that hold other locks' order constraints, never in IRQ context)
 * protects the user table and the totals.  Nothing nests inside it.
 */
#include <linux/capability.h>
#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>

#include "msgbox.h"

#define MSGBOX_USER_HASH_BITS	6

/**
 * struct msgbox_user - what one user's mailboxes are charged
 * @node:      link in msgbox_users.
 * @uid:       the owner.
 * @mailboxes: mailboxes owned.
 * @bytes:     sum of their max_bytes.
 */
struct msgbox_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int mailboxes;
	u64 bytes;
};

static DEFINE_SPINLOCK(msgbox_quota_lock);
static DEFINE_HASHTABLE(msgbox_users, MSGBOX_USER_HASH_BITS);
/* Read locklessly as the read-only parameters total_mailboxes, total_bytes. */
unsigned int msgbox_total_mailboxes;
unsigned long msgbox_total_bytes;

static struct msgbox_user *msgbox_user_find(kuid_t uid)
{
	struct msgbox_user *u;

	lockdep_assert_held(&msgbox_quota_lock);
	hash_for_each_possible(msgbox_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/**
 * msgbox_charge() - charge @mailboxes mailboxes and @bytes bytes to @uid.
 * @uid:       the owner.
 * @mailboxes: 0 or 1.
 * @bytes:     max_bytes being added.
 *
 * Return: 0, -ENOSPC (a system-wide limit), -EDQUOT (the user's quota) or
 * -ENOMEM.  Nothing is charged on error.
 */
int msgbox_charge(kuid_t uid, unsigned int mailboxes, u64 bytes)
{
	bool unlimited = capable(CAP_SYS_RESOURCE);
	struct msgbox_user *u, *spare;
	int ret = 0;

	spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
	if (!spare)
		return -ENOMEM;

	spin_lock(&msgbox_quota_lock);
	if (msgbox_total_mailboxes + mailboxes > READ_ONCE(msgbox_max_mailboxes) ||
	    msgbox_total_bytes + bytes > READ_ONCE(msgbox_max_total_bytes)) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	u = msgbox_user_find(uid);
	if (!unlimited &&
	    ((u ? u->mailboxes : 0) + mailboxes > READ_ONCE(msgbox_user_max_mailboxes) ||
	     (u ? u->bytes : 0) + bytes > READ_ONCE(msgbox_user_max_bytes))) {
		ret = -EDQUOT;
		goto out_unlock;
	}
	if (!u) {
		u = spare;
		spare = NULL;
		u->uid = uid;
		hash_add(msgbox_users, &u->node, __kuid_val(uid));
	}
	u->mailboxes += mailboxes;
	u->bytes += bytes;
	WRITE_ONCE(msgbox_total_mailboxes, msgbox_total_mailboxes + mailboxes);
	WRITE_ONCE(msgbox_total_bytes, msgbox_total_bytes + bytes);
out_unlock:
	spin_unlock(&msgbox_quota_lock);
	kfree(spare);
	return ret;
}

/**
 * msgbox_uncharge() - release what msgbox_charge() charged.
 * @uid:       the owner.
 * @mailboxes: as charged.
 * @bytes:     as charged.
 */
void msgbox_uncharge(kuid_t uid, unsigned int mailboxes, u64 bytes)
{
	struct msgbox_user *u;

	spin_lock(&msgbox_quota_lock);
	u = msgbox_user_find(uid);
	if (!WARN_ON_ONCE(!u || u->mailboxes < mailboxes || u->bytes < bytes)) {
		u->mailboxes -= mailboxes;
		u->bytes -= bytes;
		WRITE_ONCE(msgbox_total_mailboxes,
			   msgbox_total_mailboxes - mailboxes);
		WRITE_ONCE(msgbox_total_bytes, msgbox_total_bytes - bytes);
		if (!u->mailboxes && !u->bytes) {
			hash_del(&u->node);
			kfree(u);
		}
	}
	spin_unlock(&msgbox_quota_lock);
}
