// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: the name registry, and its listing in /proc/msgbox.
 *
 * Names are per IPC namespace, as for POSIX and SysV queues: a mailbox is
 * found only from the IPC namespace of its creator (unshare -i gives a
 * process a namespace of its own).  A module cannot hook into the
 * namespace's lifetime the way ipc/ does, so each mailbox holds a
 * reference on its namespace instead: named mailboxes left in a namespace
 * keep it alive until they are destroyed (or the module is unloaded).
 * EPHEMERAL mailboxes, gone with their last descriptor, are the right
 * choice inside containers.
 *
 * Named mailboxes live in a hash table keyed by name.  The registry holds one
 * reference on each, taken over from the creator at msgbox_register() and
 * dropped at msgbox_unregister() (destroy) or module exit.
 *
 * A mailbox counts its descriptors in msgbox.nr_files, under the registry
 * mutex, so that an open by name cannot race with the close of the last
 * descriptor of an EPHEMERAL or unlinked mailbox: whichever takes the mutex
 * first decides.
 *
 * Locking: msgbox_registry_lock (a mutex: lookups are rare, next to the
 * message path) protects the table, every msgbox.hnode, msgbox.nr_files and
 * msgbox.unlinked.  It nests outside msgbox.lock.
 */
#include <linux/ctype.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/cred.h>
#include <linux/ipc_namespace.h>
#include <linux/user_namespace.h>
#include <linux/string.h>
#include <linux/stringhash.h>

#include "msgbox.h"

#define MSGBOX_HASH_BITS	8

static DEFINE_MUTEX(msgbox_registry_lock);
static DEFINE_HASHTABLE(msgbox_names, MSGBOX_HASH_BITS);
/* Process inboxes, keyed by the owning process's struct pid. */
static DEFINE_HASHTABLE(msgbox_inboxes, MSGBOX_HASH_BITS);

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

		/* Not isalnum(): the kernel's ctype takes Latin-1 letters. */
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-')
			return -EINVAL;
	}
	return 0;
}

static struct ipc_namespace *msgbox_current_ns(void)
{
	return current->nsproxy->ipc_ns;
}

static u32 msgbox_name_hash(const struct ipc_namespace *ns, const char *name)
{
	return full_name_hash(ns, name, strlen(name));
}

/* The mailbox called @name in the caller's IPC namespace, or NULL. */
static struct msgbox *msgbox_find_locked(const char *name)
{
	struct ipc_namespace *ns = msgbox_current_ns();
	struct msgbox *mb;

	lockdep_assert_held(&msgbox_registry_lock);
	hash_for_each_possible(msgbox_names, mb, hnode,
			       msgbox_name_hash(ns, name))
		if (mb->ns == ns && !strcmp(mb->name, name))
			return mb;
	return NULL;
}

/**
 * msgbox_register() - publish a mailbox under its name.
 * @mb: the mailbox; the registry takes over the caller's reference on
 *      success.
 *
 * Return: 0, or -EEXIST if the name is taken.
 */
int msgbox_register(struct msgbox *mb)
{
	int ret = 0;

	mutex_lock(&msgbox_registry_lock);
	if (msgbox_find_locked(mb->name)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	hash_add(msgbox_names, &mb->hnode, msgbox_name_hash(mb->ns, mb->name));
out_unlock:
	mutex_unlock(&msgbox_registry_lock);
	return ret;
}

/**
 * msgbox_lookup_open() - find a mailbox by name, for a new descriptor.
 * @name: a validated name.
 *
 * The caller opens a descriptor on it or, failing, calls
 * msgbox_file_closed() as if one had been closed.
 *
 * Return: the mailbox with a new reference, or NULL.
 */
struct msgbox *msgbox_lookup_open(const char *name)
{
	struct msgbox *mb;

	mutex_lock(&msgbox_registry_lock);
	mb = msgbox_find_locked(name);
	if (mb) {
		msgbox_get(mb);
		mb->nr_files++;
	}
	mutex_unlock(&msgbox_registry_lock);
	return mb;
}

/* Unpublish @mb if it is still registered; true if this call did. */
static bool msgbox_unhash_locked(struct msgbox *mb)
{
	lockdep_assert_held(&msgbox_registry_lock);
	if (hlist_unhashed(&mb->hnode))
		return false;
	hash_del(&mb->hnode);
	return true;
}

/**
 * msgbox_file_closed() - a descriptor of @mb went away.
 * @mb: the mailbox.
 *
 * The last descriptor of an EPHEMERAL or unlinked mailbox destroys it, and
 * ends a subscription.  (An unlinked mailbox has no name to be opened by
 * again, but a mailbox naming it as its dead-letter mailbox would keep it,
 * and what it is sent, alive.)
 */
void msgbox_file_closed(struct msgbox *mb)
{
	bool last = false;
	bool kill;
	bool none;

	mutex_lock(&msgbox_registry_lock);
	none = !--mb->nr_files;
	if (none && (mb->flags & MSGBOX_CREATE_EPHEMERAL))
		last = msgbox_unhash_locked(mb);
	kill = last || (none && mb->unlinked);
	mutex_unlock(&msgbox_registry_lock);
	/*
	 * A subscription ends with its last descriptor: killed first, which
	 * wakes a publisher blocked on its room, which holds the topic's
	 * mutex that unsubscribing takes.
	 */
	if (none && mb->parent) {
		msgbox_kill(mb);
		msgbox_unsubscribe(mb);
	}
	if (kill)
		msgbox_kill(mb);
	if (last)
		msgbox_put(mb);
}

/**
 * msgbox_unregister() - destroy a mailbox by name.
 * @name:   a validated name.
 * @unlink: remove only the name: the mailbox goes with its last descriptor.
 *
 * Return: 0, -ENOENT, or -EPERM if the caller does not own it.
 */
int msgbox_unregister(const char *name, bool unlink)
{
	struct msgbox *mb;
	bool kill = true;
	int ret = 0;

	mutex_lock(&msgbox_registry_lock);
	mb = msgbox_find_locked(name);
	if (!mb) {
		ret = -ENOENT;
	} else if (!msgbox_is_owner(mb)) {
		ret = -EPERM;
	} else {
		msgbox_unhash_locked(mb);
		if (unlink && mb->nr_files) {
			mb->unlinked = true;
			kill = false;
		}
	}
	mutex_unlock(&msgbox_registry_lock);
	if (ret)
		return ret;

	if (kill)
		msgbox_kill(mb);
	msgbox_put(mb);
	return 0;
}

static struct msgbox *msgbox_inbox_find_locked(struct pid *pid)
{
	struct msgbox *mb;

	lockdep_assert_held(&msgbox_registry_lock);
	hash_for_each_possible(msgbox_inboxes, mb, hnode, hash_ptr(pid, 32))
		if (mb->inbox_of == pid)
			return mb;
	return NULL;
}

/**
 * msgbox_inbox_register() - publish @mb as the caller's process inbox.
 * @mb: the new inbox; the registry takes over the caller's reference.
 *
 * Return: 0, or -EEXIST if the process has an inbox already.
 */
int msgbox_inbox_register(struct msgbox *mb)
{
	struct pid *pid = task_tgid(current);
	int ret = 0;

	mutex_lock(&msgbox_registry_lock);
	if (msgbox_inbox_find_locked(pid)) {
		ret = -EEXIST;
	} else {
		mb->inbox_of = get_pid(pid);
		hash_add(msgbox_inboxes, &mb->hnode, hash_ptr(pid, 32));
	}
	mutex_unlock(&msgbox_registry_lock);
	return ret;
}

/**
 * msgbox_inbox_lookup() - the inbox of the process @nr (caller's pid
 * namespace), with a new reference, for a sending descriptor.  Only an
 * inbox created in the caller's IPC namespace is found.
 * @nr: the pid.
 *
 * Return: the inbox, or NULL (no such process, or it has no inbox).
 */
struct msgbox *msgbox_inbox_lookup(pid_t nr)
{
	struct msgbox *mb = NULL;
	struct pid *pid;

	pid = find_get_pid(nr);
	if (!pid)
		return NULL;
	mutex_lock(&msgbox_registry_lock);
	mb = msgbox_inbox_find_locked(pid);
	/* Inboxes are per IPC namespace, as names are. */
	if (mb && mb->ns != msgbox_current_ns())
		mb = NULL;
	if (mb)
		msgbox_get(mb);
	mutex_unlock(&msgbox_registry_lock);
	put_pid(pid);
	return mb;
}

/* May the reader see @mb in listings?  Its owner, or anyone who may open it. */
bool msgbox_visible(struct msgbox *mb)
{
	return mb->ns == msgbox_current_ns() &&
	       (uid_eq(current_euid(), mb->uid) ||
		!msgbox_permission(mb, MSGBOX_FD_RECV) ||
		!msgbox_permission(mb, MSGBOX_FD_SEND));
}

/*
 * /proc/msgbox: one line per named mailbox of the reader's IPC namespace
 * that the reader may see, like /proc/sysvipc/msg.  The columns are stable
 * (new ones are only ever appended):
 *   name uid gid mode(octal) msgs max_msgs bytes max_bytes max_msg_size
 *   sent received flags(hex)
 */
static int msgbox_proc_show(struct seq_file *m, void *v)
{
	struct user_namespace *uns = seq_user_ns(m);
	struct msgbox_info info;
	struct msgbox *mb;
	int bkt;

	seq_puts(m, "name uid gid mode msgs max_msgs bytes max_bytes max_msg_size sent received flags\n");
	mutex_lock(&msgbox_registry_lock);
	hash_for_each(msgbox_names, bkt, mb, hnode) {
		if (!msgbox_visible(mb))
			continue;
		msgbox_fill_info(mb, &info);
		seq_printf(m, "%s %u %u %04o %u %u %llu %llu %u %llu %llu %x\n",
			   mb->name, from_kuid_munged(uns, mb->uid),
			   from_kgid_munged(uns, mb->gid), info.mode,
			   info.nr_msgs, info.max_msgs, info.nr_bytes,
			   info.max_bytes, info.max_msg_size, info.sent,
			   info.received, info.flags);
	}
	mutex_unlock(&msgbox_registry_lock);
	return 0;
}

int msgbox_registry_init(void)
{
	if (!proc_create_single("msgbox", 0444, NULL, msgbox_proc_show))
		return -ENOMEM;
	return 0;
}

/* Module exit: no file is open any more, so these are the last references. */
void msgbox_registry_exit(void)
{
	struct hlist_node *tmp;
	struct msgbox *mb;
	int bkt;

	remove_proc_entry("msgbox", NULL);
	mutex_lock(&msgbox_registry_lock);
	hash_for_each_safe(msgbox_names, bkt, tmp, mb, hnode) {
		msgbox_unhash_locked(mb);
		msgbox_kill(mb);
		msgbox_put(mb);
	}
	mutex_unlock(&msgbox_registry_lock);
}
