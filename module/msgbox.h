/* SPDX-License-Identifier: GPL-2.0 */
/*
 * msgbox internals shared by the module's files.
 *
 * Objects and references:
 *   struct msgbox      one mailbox.  Referenced (kref) by the registry while
 *                      it has a name, and by every open mailbox file.
 *   struct msgbox_message
 *                      one message.  Owned by exactly one place at a time:
 *                      the sender until queued or handed over, the
 *                      mailbox's queue, a waiting receiver, or the receiver
 *                      copying it out.  Never shared, so never refcounted.
 */
#ifndef _MSGBOX_INTERNAL_H
#define _MSGBOX_INTERNAL_H

#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/msgbox.h>

struct file;
struct pid;

/* Module parameters (main.c): system-wide bounds on what a mailbox asks. */
extern unsigned int msgbox_max_mailboxes;
extern unsigned int msgbox_max_msgs;
extern unsigned int msgbox_max_msg_size;
extern unsigned long msgbox_max_mailbox_bytes;

/**
 * struct msgbox_message - one queued message
 * @list:      link in msgbox.msgs (under msgbox.lock) while queued.
 * @len:       payload length in bytes.
 * @id:        per-mailbox id, assigned when the mailbox accepts it.
 * @type:      message type (>= 1).
 * @priority:  message priority.
 * @send_time_ns: CLOCK_REALTIME at send.
 * @tgid:      sender's thread group (pid reference, translated on receive).
 * @tid:       sender's thread (pid reference).
 * @uid:       sender's effective uid at send.
 * @gid:       sender's effective gid at send.
 * @data:      the payload.
 */
struct msgbox_message {
	struct list_head list;
	size_t len;
	u64 id;
	s64 type;
	u32 priority;
	u64 send_time_ns;
	struct pid *tgid;
	struct pid *tid;
	kuid_t uid;
	kgid_t gid;
	char data[];
};

/**
 * struct msgbox - one mailbox
 *
 * Locking: @lock protects every field from @msgs to @dead.  It is never
 * held while sleeping or copying to or from userspace; tasks are woken only
 * after it is dropped (wake_q), see mailbox.c for the protocol.  The limits
 * and @name are set before the mailbox is published and never change.
 * @hnode is protected by the registry mutex (registry.c).
 *
 * @ref:          kref; see the top of this file.
 * @lock:         protects the queue, waiters and counters below.
 * @msgs:         queued messages, oldest first.
 * @recv_waiters: struct msgbox_waiter of sleeping receivers, in arrival order.
 * @send_waiters: struct msgbox_waiter of sleeping senders, in arrival order.
 * @nr_msgs:      number of messages in @msgs.
 * @nr_bytes:     payload bytes in @msgs.
 * @nr_recv_waiters: length of @recv_waiters.
 * @nr_send_waiters: length of @send_waiters.
 * @next_id:      id of the next accepted message.
 * @sent:         messages accepted.
 * @received:     messages taken.
 * @dead:         set once by destroy; no message is accepted afterwards.
 * @poll_wq:      poll/epoll waiters (has its own lock).
 * @max_msgs:     capacity in messages.
 * @max_msg_size: largest payload.
 * @max_bytes:    capacity in payload bytes.
 * @hnode:        link in the registry's name hash.
 * @name:         NUL-terminated name.
 */
struct msgbox {
	struct kref ref;
	spinlock_t lock;		/* see the comment above */
	struct list_head msgs;
	struct list_head recv_waiters;
	struct list_head send_waiters;
	u32 nr_msgs;
	u64 nr_bytes;
	u32 nr_recv_waiters;
	u32 nr_send_waiters;
	u64 next_id;
	u64 sent;
	u64 received;
	bool dead;

	wait_queue_head_t poll_wq;

	u32 max_msgs;
	u32 max_msg_size;
	u64 max_bytes;

	struct hlist_node hnode;
	char name[MSGBOX_NAME_MAX];
};

/* mailbox.c */
struct msgbox *msgbox_alloc(const struct msgbox_create *args);
void msgbox_get(struct msgbox *mb);
void msgbox_put(struct msgbox *mb);
void msgbox_kill(struct msgbox *mb);

struct msgbox_message *msgbox_message_alloc(size_t len, s64 type, u32 priority);
void msgbox_message_free(struct msgbox_message *msg);

int msgbox_send(struct msgbox *mb, struct msgbox_message *msg, bool nonblock,
		const ktime_t *deadline, int sig_err, u64 *idp);
int msgbox_recv(struct msgbox *mb, size_t size, bool nonblock,
		const ktime_t *deadline, int sig_err,
		struct msgbox_message **msgp);
void msgbox_requeue(struct msgbox *mb, struct msgbox_message *msg);
__poll_t msgbox_poll_mask(struct msgbox *mb);
int msgbox_fill_info(struct msgbox *mb, struct msgbox_info *info);

/* registry.c */
int msgbox_name_check(const char *name);
int msgbox_register(struct msgbox *mb);
struct msgbox *msgbox_lookup(const char *name);
int msgbox_unregister(const char *name);
void msgbox_registry_exit(void);

/* file.c */
int msgbox_install_fd(struct msgbox *mb, u32 fd_flags, struct file **filep);
long msgbox_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int msgbox_copy_arg(void *karg, size_t ksize, size_t ver0, unsigned int cmd,
		    unsigned long arg);

#endif /* _MSGBOX_INTERNAL_H */
