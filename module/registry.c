// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: the name registry.
 *
 * Named mailboxes live in a hash table keyed by name.  The registry holds one
 * reference on each, taken over from the creator at msgbox_register() and
 * dropped at msgbox_unregister() (destroy) or module exit.
 *
 * Locking: msgbox_registry_lock (a mutex: lookups are rare, next to the
 * message path) protects the table, every msgbox.hnode and
 * msgbox_nr_mailboxes.  It nests outside msgbox.lock.
 */
#include <linux/ctype.h>
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/stringhash.h>

#include "msgbox.h"

#define MSGBOX_HASH_BITS	8

static DEFINE_MUTEX(msgbox_registry_lock);
static DEFINE_HASHTABLE(msgbox_names, MSGBOX_HASH_BITS);
static unsigned int msgbox_nr_mailboxes;

/**
 * msgbox_name_check() - validate a name field of MSGBOX_NAME_MAX bytes.
 * @name: the field, as copied from userspace.
 *
 * Return: 0; -ENAMETOOLONG if there is no NUL in the field; -EINVAL if empty,
 * "." or "..", or containing a byte outside [A-Za-z0-9._-].
 */
int msgbox_name_check(const char *name)
{
	size_t len = strnlen(name, MSGBOX_NAME_MAX);
	size_t i;

	if (len == MSGBOX_NAME_MAX)
		return -ENAMETOOLONG;
	if (!len || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return -EINVAL;
	}
	return 0;
}

static u32 msgbox_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

static struct msgbox *msgbox_find_locked(const char *name)
{
	struct msgbox *mb;

	lockdep_assert_held(&msgbox_registry_lock);
	hash_for_each_possible(msgbox_names, mb, hnode, msgbox_name_hash(name))
		if (!strcmp(mb->name, name))
			return mb;
	return NULL;
}

/**
 * msgbox_register() - publish a mailbox under its name.
 * @mb: the mailbox; the registry takes over the caller's reference on
 *      success.
 *
 * Return: 0, -EEXIST if the name is taken, -ENOSPC if max_mailboxes
 * mailboxes exist already.
 */
int msgbox_register(struct msgbox *mb)
{
	int ret = 0;

	mutex_lock(&msgbox_registry_lock);
	if (msgbox_find_locked(mb->name)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (msgbox_nr_mailboxes >= READ_ONCE(msgbox_max_mailboxes)) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	hash_add(msgbox_names, &mb->hnode, msgbox_name_hash(mb->name));
	msgbox_nr_mailboxes++;
out_unlock:
	mutex_unlock(&msgbox_registry_lock);
	return ret;
}

/**
 * msgbox_lookup() - find a mailbox by name.
 * @name: a validated name.
 *
 * Return: the mailbox with a new reference, or NULL.
 */
struct msgbox *msgbox_lookup(const char *name)
{
	struct msgbox *mb;

	mutex_lock(&msgbox_registry_lock);
	mb = msgbox_find_locked(name);
	if (mb)
		msgbox_get(mb);
	mutex_unlock(&msgbox_registry_lock);
	return mb;
}

/**
 * msgbox_unregister() - destroy a mailbox by name.
 * @name: a validated name.
 *
 * Return: 0, or -ENOENT.
 */
int msgbox_unregister(const char *name)
{
	struct msgbox *mb;

	mutex_lock(&msgbox_registry_lock);
	mb = msgbox_find_locked(name);
	if (mb) {
		hash_del(&mb->hnode);
		msgbox_nr_mailboxes--;
	}
	mutex_unlock(&msgbox_registry_lock);
	if (!mb)
		return -ENOENT;

	msgbox_kill(mb);
	msgbox_put(mb);
	return 0;
}

/* Module exit: no file is open any more, so these are the last references. */
void msgbox_registry_exit(void)
{
	struct hlist_node *tmp;
	struct msgbox *mb;
	int bkt;

	mutex_lock(&msgbox_registry_lock);
	hash_for_each_safe(msgbox_names, bkt, tmp, mb, hnode) {
		hash_del(&mb->hnode);
		msgbox_nr_mailboxes--;
		msgbox_kill(mb);
		msgbox_put(mb);
	}
	mutex_unlock(&msgbox_registry_lock);
}
