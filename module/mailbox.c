// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: the mailbox itself, its message queue and the blocking protocol.
 *
 * Locking protocol (one lock per mailbox, msgbox.lock, a plain spinlock: no
 * interrupt context ever touches a mailbox):
 *
 *  - Every change of the queue, the waiter lists, the counters and @dead
 *    happens under msgbox.lock.  Nothing sleeps under it, and payloads are
 *    copied in before the lock is taken and copied out after it is
 *    dropped; the one exception is a plain send of less than
 *    MSGBOX_DIRECT_MIN bytes into a receive ring, copied from the sender's
 *    buffer under the lock with page faults disabled, so it cannot sleep
 *    (msgbox_ring_put_user(); a payload not in memory takes the usual
 *    path).
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
 *  - Queue order: msgbox.msgs is an rbtree ordered by (priority
 *    descending, id ascending), the leftmost node cached, so the first
 *    message of the "any" selector is found in O(1) and an insertion costs
 *    O(log n).  Ids are given in acceptance order, so FIFO within a priority
 *    falls out of the order, and a message given back after a failed copy
 *    (msgbox_requeue()) returns to exactly its old place.  Type selectors
 *    other than "any" walk the tree in order, as SysV msgrcv does its list.
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
#include <linux/fault-inject-usercopy.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/cred.h>
#include <linux/ipc_namespace.h>
#include <linux/nsproxy.h>

#include "compat.h"
#include "msgbox.h"

static void msgbox_wake_list_init(struct msgbox_wake_list *wl)
{
	wl->first = NULL;
	wl->tail = &wl->first;
	wl->ring_done = NULL;
	wl->ring_mb = NULL;
}

/*
 * A message of up to MSGBOX_EMBED_MAX bytes is one object of
 * msgbox_small_cache: its header, then its payload (msgbox_embedded()).
 * One allocation per message, as mq's msg_msg; other messages, and the
 * headers of peeked copies and publications, come from msgbox_msg_cache.
 */
#define MSGBOX_EMBED_MAX	128
#define MSGBOX_SMALL_SIZE	(sizeof(struct msgbox_message) + \
				 struct_size_t(struct msgbox_payload, data, \
					       MSGBOX_EMBED_MAX))

static struct kmem_cache *msgbox_msg_cache;
static struct kmem_cache *msgbox_small_cache;

int __init msgbox_mailbox_init(void)
{
	msgbox_msg_cache = KMEM_CACHE(msgbox_message, SLAB_ACCOUNT);
	if (!msgbox_msg_cache)
		return -ENOMEM;
	/* Only the payload bytes are copied to and from userspace. */
	msgbox_small_cache =
		kmem_cache_create_usercopy("msgbox_message_small",
					   MSGBOX_SMALL_SIZE,
					   __alignof__(struct msgbox_message),
					   SLAB_ACCOUNT,
					   sizeof(struct msgbox_message) +
					   offsetof(struct msgbox_payload, data),
					   MSGBOX_EMBED_MAX, NULL);
	if (!msgbox_small_cache) {
		kmem_cache_destroy(msgbox_msg_cache);
		return -ENOMEM;
	}
	return 0;
}

void msgbox_mailbox_exit(void)
{
	kmem_cache_destroy(msgbox_small_cache);
	kmem_cache_destroy(msgbox_msg_cache);
}

struct msgbox *msgbox_alloc(const struct msgbox_create *args)
{
	struct msgbox *mb;

	mb = kzalloc(sizeof(*mb), GFP_KERNEL_ACCOUNT);
	if (!mb)
		return NULL;
	kref_init(&mb->ref);
	spin_lock_init(&mb->lock);
	spin_lock_init(&mb->pool_lock);
	mb->msgs = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&mb->by_age);
	INIT_LIST_HEAD(&mb->recv_waiters);
	INIT_LIST_HEAD(&mb->send_waiters);
	INIT_LIST_HEAD(&mb->sync_waiters);
	init_waitqueue_head(&mb->poll_wq);
	INIT_HLIST_NODE(&mb->hnode);
	INIT_LIST_HEAD(&mb->sub_node);
	mb->next_id = 1;
	mb->stats.ctime_ns = ktime_get_ns();
	mb->max_msgs = args->max_msgs;
	mb->max_msg_size = args->max_msg_size;
	mb->max_bytes = args->max_bytes;
	mb->mode = args->mode & ~current_umask() & 0777;
	mb->uid = current_euid();
	mb->gid = current_egid();
	mb->flags = args->flags;
	mb->ns = get_ipc_ns(current->nsproxy->ipc_ns);
	if (mb->flags & MSGBOX_CREATE_ANON)
		mb->flags |= MSGBOX_CREATE_EPHEMERAL;
	strscpy(mb->name, args->name, sizeof(mb->name));
	if ((mb->flags & MSGBOX_CREATE_TOPIC) && msgbox_topic_init(mb)) {
		msgbox_put_ipc_ns(mb->ns);
		kfree(mb);
		return NULL;
	}
	return mb;
}

/**
 * msgbox_limits_check() - are these limits within the module's bounds?
 * @max_msgs:     capacity in messages; 0 for a rendezvous channel.
 * @max_msg_size: largest payload.
 * @max_bytes:    capacity in bytes, at least @max_msg_size (0 if
 *                @max_msgs is 0).
 *
 * Return: 0 or -EINVAL.
 */
int msgbox_limits_check(u32 max_msgs, u32 max_msg_size, u64 max_bytes)
{
	/* Capacity 0: a rendezvous channel, which queues no bytes. */
	if (!max_msgs)
		return !max_msg_size ||
		       max_msg_size > READ_ONCE(msgbox_max_msg_size) ||
		       max_bytes ? -EINVAL : 0;
	if (max_msgs > READ_ONCE(msgbox_max_msgs) ||
	    !max_msg_size || max_msg_size > READ_ONCE(msgbox_max_msg_size) ||
	    max_bytes < max_msg_size ||
	    max_bytes > READ_ONCE(msgbox_max_mailbox_bytes))
		return -EINVAL;
	return 0;
}

/**
 * msgbox_permission() - may the caller open @mb with @fd_flags?
 * @mb:       the mailbox.
 * @fd_flags: MSGBOX_FD_*: RECV needs read, SEND write permission.
 *
 * File semantics: the owner's bits if the caller's effective uid owns it,
 * else the group's if the caller is in its group, else the others'.
 * CAP_IPC_OWNER in the mailbox's namespace overrides, as in ipc/util.c's
 * ipcperms().
 *
 * Return: 0 or -EACCES.
 */
int msgbox_permission(struct msgbox *mb, u32 fd_flags)
{
	umode_t mode = READ_ONCE(mb->mode);
	unsigned int want = 0;
	unsigned int granted;

	if (fd_flags & MSGBOX_FD_RECV)
		want |= 4;
	if (fd_flags & MSGBOX_FD_SEND)
		want |= 2;
	if (uid_eq(current_euid(), mb->uid))
		granted = mode >> 6;
	else if (in_group_p(mb->gid))
		granted = mode >> 3;
	else
		granted = mode;
	if (!(want & ~granted & 7) ||
	    ns_capable(mb->ns->user_ns, CAP_IPC_OWNER))
		return 0;
	return -EACCES;
}

/*
 * The owner, or CAP_SYS_ADMIN in the mailbox's namespace (as for IPC_RMID):
 * who may destroy @mb or change its attributes.
 */
bool msgbox_is_owner(struct msgbox *mb)
{
	return uid_eq(current_euid(), mb->uid) ||
	       ns_capable(mb->ns->user_ns, CAP_SYS_ADMIN);
}

void msgbox_get(struct msgbox *mb)
{
	kref_get(&mb->ref);
}

/* Take up to @nr pages from @mb's pool into @pages; returns how many. */
static unsigned int msgbox_pool_take(struct msgbox *mb, struct page **pages,
				     unsigned int nr)
{
	unsigned int n;

	spin_lock(&mb->pool_lock);
	n = min(nr, mb->nr_pool);
	mb->nr_pool -= n;
	memcpy(pages, &mb->pool[mb->nr_pool], n * sizeof(*pages));
	spin_unlock(&mb->pool_lock);
	return n;
}

/* Give @mb's pool what it has room for from @pages; returns how many. */
static unsigned int msgbox_pool_give(struct msgbox *mb, struct page **pages,
				     unsigned int nr)
{
	unsigned int limit = min_t(u64, MSGBOX_POOL_PAGES,
				   READ_ONCE(mb->max_bytes) >> PAGE_SHIFT);
	unsigned int n = 0;

	if (!msgbox_keeps_objects())
		return 0;
	spin_lock(&mb->pool_lock);
	if (mb->nr_pool < limit) {
		n = min(nr, limit - mb->nr_pool);
		memcpy(&mb->pool[mb->nr_pool], pages, n * sizeof(*pages));
		mb->nr_pool += n;
	}
	spin_unlock(&mb->pool_lock);
	return n;
}

static void msgbox_pool_free(struct msgbox *mb)
{
	unsigned int i;

	while (mb->nr_pool)
		__free_page(mb->pool[--mb->nr_pool]);
	for (i = 0; i < MSGBOX_SPARE_MSGS; i++)
		if (mb->spare[i])
			kmem_cache_free(msgbox_small_cache, mb->spare[i]);
	kfree(mb->spare_call);
	mb->spare_call = NULL;
}

/* Free every message of a tree no one else can see any more. */
static void msgbox_free_tree(struct rb_root_cached *root)
{
	struct msgbox_message *msg, *next;

	rbtree_postorder_for_each_entry_safe(msg, next, &root->rb_root, node)
		msgbox_message_free(msg);
	*root = RB_ROOT_CACHED;
}

static void msgbox_release(struct kref *ref)
{
	struct msgbox *mb = container_of(ref, struct msgbox, ref);

	/* No file and no registry entry left: nobody can wait on it. */
	WARN_ON_ONCE(!list_empty(&mb->recv_waiters) ||
		     !list_empty(&mb->send_waiters) ||
		     !list_empty(&mb->sync_waiters));
	msgbox_free_tree(&mb->msgs);
	msgbox_pool_free(mb);
	if (mb->charged)
		msgbox_uncharge(mb->uid, 1, mb->charged_bytes);
	msgbox_notifier_release(&mb->notify);
	if (mb->topic)
		msgbox_topic_free(mb);
	if (mb->parent)
		msgbox_put(mb->parent);
	if (mb->dead_letter)
		msgbox_put(mb->dead_letter);
	put_pid(mb->inbox_of);
	msgbox_put_ipc_ns(mb->ns);
	kfree(mb);
}

void msgbox_put(struct msgbox *mb)
{
	kref_put(&mb->ref, msgbox_release);
}

/*
 * A payload up to a page comes from kmalloc, whose size classes keep what
 * init_on_alloc zeroes close to the message's size.  A larger one is a
 * list of order-0 pages, taken from @mb's pool first (@mb may be NULL):
 * no high-order allocation, no vmalloc mapping, and a pooled page is not
 * zeroed again, since every byte of it that a receiver can see is
 * written by the sender first.
 */
static struct msgbox_payload *msgbox_payload_alloc(struct msgbox *mb,
						   size_t len)
{
	size_t size = struct_size_t(struct msgbox_payload, data, len);
	struct msgbox_payload *p;
	unsigned int nr, i;

	if (size <= PAGE_SIZE) {
		p = kmalloc(size, GFP_KERNEL_ACCOUNT);
		if (p)
			p->nr_pages = 0;
		return p;
	}
	nr = DIV_ROUND_UP(len, PAGE_SIZE);
	/* The size is the sender's to choose: its ENOMEM, no warning. */
	p = kvmalloc(struct_size(p, pages, nr),
		     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!p)
		return NULL;
	p->nr_pages = nr;
	i = mb ? msgbox_pool_take(mb, p->pages, nr) : 0;
	for (; i < nr; i++) {
		p->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!p->pages[i]) {
			while (i--)
				__free_page(p->pages[i]);
			kvfree(p);
			return NULL;
		}
	}
	return p;
}

static void msgbox_payload_free(struct msgbox_payload *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_pages; i++)
		if (p->pages[i])
			__free_page(p->pages[i]);
	kvfree(p);
}

/* Are @len bytes within payload @p?  A copy past it is a bug here. */
static bool msgbox_payload_holds(const struct msgbox_payload *p, size_t len)
{
	return !WARN_ON_ONCE(len > p->len);
}

/**
 * __msgbox_short_from_user() - copy a short payload in from user memory.
 * @dst: where, in kernel memory this module sized for at least @len bytes.
 * @src: the user buffer.
 * @len: at most MSGBOX_SHORT_COPY bytes.
 *
 * Short payloads cross word by word under one user_access_begin(), the
 * way unsafe_copy_to_user() moves filldir()'s names: no string
 * instruction start-up for a few words.  Otherwise as copy_from_user()
 * (might_fault(), fault injection), but for the hardened-usercopy check
 * of @dst, which the caller's own bound replaces (msgbox_short_may_copy()).
 * Works with page faults disabled: a fault then ends the copy
 * with -EFAULT, leaving part of @dst written and the rest as it was (not
 * zeroed: every caller discards or clears @dst on failure).
 *
 * Return: 0 or -EFAULT.
 */
static __always_inline int __msgbox_short_from_user(void *dst,
						    const void __user *src,
						    size_t len)
{
	const char __user *s = src;
	char *d = dst;

	if (!len)
		return 0;
	if (!msgbox_short_may_copy(len) ||
	    !user_read_access_begin(s, len))
		return -EFAULT;
	for (; len >= sizeof(u64); len -= sizeof(u64)) {
		u64 v;

		unsafe_get_user(v, (const u64 __user *)s, efault);
		memcpy(d, &v, sizeof(v));
		s += sizeof(u64);
		d += sizeof(u64);
	}
	for (; len; len--) {
		unsafe_get_user(*d, s, efault);
		s++;
		d++;
	}
	user_read_access_end();
	return 0;
efault:
	user_read_access_end();
	return -EFAULT;
}

/* The same, out of line, for the ring (ring.c). */
int msgbox_short_from_user(void *dst, const void __user *src, size_t len)
{
	return __msgbox_short_from_user(dst, src, len);
}

/* The same out to user memory (unsafe_copy_to_user() itself). */
static __always_inline int __msgbox_short_to_user(void __user *dst,
						  const void *src, size_t len)
{
	if (!len)
		return 0;
	if (!msgbox_short_may_copy(len) ||
	    !user_write_access_begin(dst, len))
		return -EFAULT;
	unsafe_copy_to_user(dst, src, len, efault);
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

int msgbox_short_to_user(void __user *dst, const void *src, size_t len)
{
	return __msgbox_short_to_user(dst, src, len);
}

/*
 * Copy @len bytes of a payload out to, or in from, an iterator; a short
 * count is a fault.  Each page of a paged payload is a separate copy.
 */
size_t __msgbox_hot msgbox_payload_to_iter(const struct msgbox_payload *p, size_t len,
					   struct iov_iter *to)
{
	size_t done, n, c;

	/* read(2)'s one user buffer: a short payload as the ioctls copy it. */
	if (!p->nr_pages && len <= MSGBOX_SHORT_COPY && iter_is_ubuf(to) &&
	    iov_iter_rw(to) == ITER_DEST && iov_iter_count(to) >= len) {
		if (!msgbox_payload_holds(p, len) ||
		    __msgbox_short_to_user(to->ubuf + to->iov_offset, p->data,
					   len))
			return 0;
		iov_iter_advance(to, len);
		return len;
	}
	if (!p->nr_pages)
		return copy_to_iter(p->data, len, to);
	for (done = 0; done < len; done += c) {
		n = min_t(size_t, len - done, PAGE_SIZE);
		c = copy_page_to_iter(p->pages[done >> PAGE_SHIFT], 0, n, to);
		if (c != n)
			return done + c;
	}
	return done;
}

size_t __msgbox_hot msgbox_payload_from_iter(struct msgbox_payload *p, size_t len,
					     struct iov_iter *from)
{
	size_t done, n, c;

	if (!p->nr_pages && len <= MSGBOX_SHORT_COPY && iter_is_ubuf(from) &&
	    iov_iter_rw(from) == ITER_SOURCE && iov_iter_count(from) >= len) {
		if (!msgbox_payload_holds(p, len) ||
		    __msgbox_short_from_user(p->data,
					     from->ubuf + from->iov_offset,
					     len))
			return 0;
		iov_iter_advance(from, len);
		return len;
	}
	if (!p->nr_pages)
		return copy_from_iter(p->data, len, from);
	for (done = 0; done < len; done += c) {
		n = min_t(size_t, len - done, PAGE_SIZE);
		c = copy_page_from_iter(p->pages[done >> PAGE_SHIFT], 0, n,
					from);
		if (c != n)
			return done + c;
	}
	return done;
}

/* The same from and to a user buffer: 0 or -EFAULT. */
int __msgbox_hot msgbox_payload_from_user(struct msgbox_payload *p,
					  const void __user *ubuf, size_t len)
{
	struct iov_iter it;

	if (!p->nr_pages && len <= MSGBOX_SHORT_COPY)
		return msgbox_payload_holds(p, len) ?
		       __msgbox_short_from_user(p->data, ubuf, len) : -EFAULT;
	if (!p->nr_pages)
		return copy_from_user(p->data, ubuf, len) ? -EFAULT : 0;
	iov_iter_ubuf(&it, ITER_SOURCE, (void __user *)ubuf, len);
	return msgbox_payload_from_iter(p, len, &it) == len ? 0 : -EFAULT;
}

int __msgbox_hot msgbox_payload_to_user(const struct msgbox_payload *p, void __user *ubuf,
					size_t len)
{
	struct iov_iter it;

	if (!p->nr_pages && len <= MSGBOX_SHORT_COPY)
		return msgbox_payload_holds(p, len) ?
		       __msgbox_short_to_user(ubuf, p->data, len) : -EFAULT;
	if (!p->nr_pages)
		return copy_to_user(ubuf, p->data, len) ? -EFAULT : 0;
	iov_iter_ubuf(&it, ITER_DEST, ubuf, len);
	return msgbox_payload_to_iter(p, len, &it) == len ? 0 : -EFAULT;
}

/* The payload allocated with @msg, a msgbox_small_cache object. */
static struct msgbox_payload *msgbox_embedded(struct msgbox_message *msg)
{
	return (struct msgbox_payload *)(msg + 1);
}

/* Does @msg's own object hold @p (a small message's embedded payload)? */
static bool msgbox_hosts(const struct msgbox_message *msg,
			 const struct msgbox_payload *p)
{
	return p && p->embedded && (const struct msgbox_message *)p - 1 == msg;
}

static void msgbox_payload_put(struct msgbox_payload *p)
{
	if (!refcount_dec_and_test(&p->ref))
		return;
	if (p->embedded)
		kmem_cache_free(msgbox_small_cache,
				(struct msgbox_message *)p - 1);
	else
		msgbox_payload_free(p);
}

/*
 * A small message object kept by @mb, or NULL.  The slots are lockless
 * (struct msgbox.spare): in a steady exchange the first one serves.
 */
static struct msgbox_message *msgbox_spare_take(struct msgbox *mb)
{
	struct msgbox_message *msg;
	unsigned int i;

	for (i = 0; i < MSGBOX_SPARE_MSGS; i++) {
		if (!READ_ONCE(mb->spare[i]))
			continue;
		msg = xchg(&mb->spare[i], NULL);
		if (msg)
			return msg;
	}
	return NULL;
}

/* Keep a small message object for @mb's next; false if there is no room. */
static bool msgbox_spare_give(struct msgbox *mb, struct msgbox_message *msg)
{
	unsigned int limit = min_t(u32, MSGBOX_SPARE_MSGS,
				   READ_ONCE(mb->max_msgs));
	unsigned int i;

	if (!msgbox_keeps_objects())
		return false;
	for (i = 0; i < limit; i++)
		if (!READ_ONCE(mb->spare[i]) &&
		    !cmpxchg(&mb->spare[i], NULL, msg))
			return true;
	return false;
}

/*
 * A header for a message of @len bytes, to be sent to @mb (NULL: none in
 * particular), without its payload yet: for msgbox_send_direct(), or
 * msgbox_message_add_payload() later.  A small message has its
 * (uninitialised) payload from the start, in an object @mb kept if it has
 * one.
 */
static __always_inline struct msgbox_message *
__msgbox_message_alloc_bare(struct msgbox *mb, size_t len, s64 type,
			    u32 priority)
{
	bool small = len <= MSGBOX_EMBED_MAX;
	struct msgbox_message *msg = NULL;

	/*
	 * Zeroed: no field can ever reach userspace uninitialised.  A kept
	 * object's payload bytes are not: a receiver sees only the @len of
	 * them the sender writes.
	 */
	if (small && mb)
		msg = msgbox_spare_take(mb);
	if (msg)
		memset(msg, 0, sizeof(*msg) + sizeof(struct msgbox_payload));
	else
		msg = kmem_cache_zalloc(small ? msgbox_small_cache :
					msgbox_msg_cache, GFP_KERNEL);
	if (!msg)
		return NULL;
	if (small) {
		msg->payload = msgbox_embedded(msg);
		refcount_set(&msg->payload->ref, 1);
		msg->payload->embedded = true;
		msg->payload->len = len;
	}
	RB_CLEAR_NODE(&msg->node);
	msg->len = len;
	msg->type = type;
	msg->priority = priority;
	msg->send_time_ns = ktime_get_real_ns();
	msg->tgid = get_pid(task_tgid(current));
	msg->tid = get_pid(task_pid(current));
	msg->uid = current_euid();
	msg->gid = current_egid();
	return msg;
}

__msgbox_hot struct msgbox_message *msgbox_message_alloc_bare(struct msgbox *mb,
							      size_t len, s64 type,
							      u32 priority)
{
	return __msgbox_message_alloc_bare(mb, len, type, priority);
}

/*
 * A message is a header and a reference-counted payload, both charged to
 * the sender's memory cgroup, in one allocation for a small message.  The
 * payload is shared by peeked copies and publications.
 */
__msgbox_hot struct msgbox_message *msgbox_message_alloc(struct msgbox *mb, size_t len,
							 s64 type, u32 priority)
{
	struct msgbox_message *msg = __msgbox_message_alloc_bare(mb, len, type,
								 priority);

	/* A small message has its payload (embedded) already. */
	if (msg && msgbox_message_add_payload(mb, msg)) {
		msgbox_message_free(msg);
		return NULL;
	}
	return msg;
}

/* See msgbox_message_add_payload(). */
int __msgbox_message_add_payload(struct msgbox *mb, struct msgbox_message *msg)
{
	msg->payload = msgbox_payload_alloc(mb, msg->len);
	if (!msg->payload)
		return -ENOMEM;
	refcount_set(&msg->payload->ref, 1);
	msg->payload->embedded = false;
	msg->payload->len = msg->len;
	return 0;
}

/* A bare header, for a peeked copy; freed with msgbox_message_header_free(). */
struct msgbox_message *msgbox_message_header_alloc(void)
{
	return kmem_cache_alloc(msgbox_msg_cache, GFP_KERNEL);
}

void msgbox_message_header_free(struct msgbox_message *msg)
{
	kmem_cache_free(msgbox_msg_cache, msg);
}

/* A second header sharing @msg's payload and metadata, for a peek. */
static void msgbox_message_clone(struct msgbox_message *copy,
				 const struct msgbox_message *msg)
{
	*copy = *msg;
	RB_CLEAR_NODE(&copy->node);
	copy->sync = NULL;
	copy->call = NULL;
	copy->track = NULL;
	refcount_inc(&copy->payload->ref);
	get_pid(copy->tgid);
	get_pid(copy->tid);
}

/* See msgbox_message_set_ttl(): @ttl_ns is not 0. */
void __msgbox_message_set_ttl(struct msgbox_message *msg, u64 ttl_ns)
{
	u64 now = ktime_get_ns();

	msg->expires_ns = ttl_ns > U64_MAX - now ? U64_MAX : now + ttl_ns;
}

/* A new header sharing @msg's payload and sender (a publication's copy). */
struct msgbox_message *msgbox_message_copy(const struct msgbox_message *msg)
{
	struct msgbox_message *copy = msgbox_message_header_alloc();

	if (copy)
		msgbox_message_clone(copy, msg);
	return copy;
}

/* Drop what a message holds besides its memory and its payload. */
static __always_inline void msgbox_message_put_refs(struct msgbox_message *msg)
{
	/* Freed while still tracked: it was received (ack mode: acked). */
	msgbox_track_set(msg, MSGBOX_STATUS_ACKED);
	/*
	 * A request still carrying its call when freed was never received:
	 * its mailbox is being destroyed (or its sender failed to queue it,
	 * and then the call has been abandoned already).
	 */
	if (msg->call) {
		msgbox_call_fail(msg->call, -EIDRM);
		msgbox_call_put(msg->call);
	}
	put_pid(msg->tgid);
	put_pid(msg->tid);
}

void __msgbox_hot msgbox_message_free(struct msgbox_message *msg)
{
	struct msgbox_payload *p = msg->payload;

	msgbox_message_put_refs(msg);
	/* A small message's object lives on while copies share its bytes. */
	if (!msgbox_hosts(msg, p))
		kmem_cache_free(msgbox_msg_cache, msg);
	if (p)
		msgbox_payload_put(p);
}

/*
 * Free a message just received from @mb, keeping its object (a small
 * message) or the pages of its payload (a large one) for the next
 * messages sent there, if no copy shares them.
 */
void __msgbox_hot msgbox_message_recycle(struct msgbox *mb, struct msgbox_message *msg)
{
	struct msgbox_payload *p = msg->payload;
	unsigned int n;

	/* The message is off every list: nothing can take a new reference. */
	if (p && refcount_read(&p->ref) == 1) {
		if (msgbox_hosts(msg, p)) {
			msgbox_message_put_refs(msg);
			if (!msgbox_spare_give(mb, msg))
				kmem_cache_free(msgbox_small_cache, msg);
			return;
		}
		if (p->nr_pages) {
			n = msgbox_pool_give(mb, p->pages, p->nr_pages);
			memset(p->pages, 0, n * sizeof(*p->pages));
		}
	}
	msgbox_message_free(msg);
}

/* Can @len more payload bytes be queued without exceeding a limit? */
static bool msgbox_has_room(const struct msgbox *mb, size_t len)
{
	lockdep_assert_held(&mb->lock);
	return mb->nr_msgs + mb->inflight_msgs < mb->max_msgs &&
	       mb->nr_bytes + mb->inflight_bytes + len <= mb->max_bytes;
}

/* Count a message of @len bytes sent at @now by process @sender. */
static void msgbox_count_sent(struct msgbox *mb, size_t len, pid_t sender,
			      u64 now)
{
	mb->last_len = len;
	mb->sent++;
	mb->stats.last_send_ns = now;
	mb->stats.last_send_pid = sender;
}

/* Count a message received at @now by process @receiver, @lat ns queued. */
static void msgbox_count_received(struct msgbox *mb, u64 lat, pid_t receiver,
				  u64 now)
{
	mb->received++;
	mb->stats.lat_hist[min(fls64(lat), MSGBOX_LAT_BUCKETS - 1)]++;
	mb->stats.last_recv_ns = now;
	mb->stats.last_recv_pid = receiver;
}

static void msgbox_accept(struct msgbox *mb, struct msgbox_message *msg)
{
	lockdep_assert_held(&mb->lock);
	msg->id = mb->next_id++;
	msg->queued_ns = ktime_get_ns();
	msgbox_count_sent(mb, msg->len, pid_nr(msg->tgid), msg->queued_ns);
}

static void waiter_claim(struct msgbox *mb, struct msgbox_wake_list *wl,
			 struct msgbox_waiter *w, int result);
static bool msgbox_admit_senders(struct msgbox *mb,
				 struct msgbox_wake_list *wl);
static void msgbox_wake_up(struct msgbox_wake_list *wl);
static inline void msgbox_wakes(struct msgbox *mb,
				const struct msgbox_wait *wait,
				struct msgbox_wake_list *wl, __poll_t mask);
static bool msgbox_ring_may_take(struct msgbox *mb, struct msgbox_ring *r,
				 const struct msgbox_message *msg);
static bool msgbox_ring_take(struct msgbox *mb, struct msgbox_ring *r,
			     struct msgbox_message *msg, bool accept,
			     struct msgbox_wake_list *wl);
static bool msgbox_ring_done(struct msgbox_wake_list *wl);

/*
 * Account a message taken by @receiver (a global tgid), from the queue,
 * handed over or written into a receive ring, and
 * complete its sender if that one waits for the take (rendezvous).  In ack
 * mode (@ack) it stays counted against the capacity while in flight.
 */
static __always_inline void msgbox_took_at(struct msgbox *mb,
					   struct msgbox_message *msg,
					   pid_t receiver, bool ack,
					   struct msgbox_wake_list *wl, u64 now)
{
	u64 lat = now > msg->queued_ns ? now - msg->queued_ns : 0;

	lockdep_assert_held(&mb->lock);
	msgbox_count_received(mb, lat, receiver, now);
	msg->deliveries++;
	if (ack) {
		mb->inflight_msgs++;
		mb->inflight_bytes += msg->len;
		msgbox_track_set(msg, MSGBOX_STATUS_DELIVERED);
	}
	if (msg->sync) {
		mb->nr_sync_waiters--;
		waiter_claim(mb, wl, msg->sync, 0);
		msg->sync = NULL;
	}
}

static void msgbox_took(struct msgbox *mb, struct msgbox_message *msg,
			struct task_struct *receiver, bool ack,
			struct msgbox_wake_list *wl)
{
	msgbox_took_at(mb, msg, task_tgid_nr(receiver), ack, wl, ktime_get_ns());
}

/* Accept @msg and account it taken at once: it never waited in line. */
static void msgbox_accept_took(struct msgbox *mb, struct msgbox_message *msg,
			       struct task_struct *receiver, bool ack,
			       struct msgbox_wake_list *wl)
{
	msgbox_accept(mb, msg);
	msgbox_took_at(mb, msg, task_tgid_nr(receiver), ack, wl,
		       msg->queued_ns);
}

/* Queue order: higher priority first, then lower id (older) first. */
static bool msgbox_msg_less(struct rb_node *a, const struct rb_node *b)
{
	const struct msgbox_message *ma = rb_entry(a, struct msgbox_message, node);
	const struct msgbox_message *mb = rb_entry(b, struct msgbox_message, node);

	if (ma->priority != mb->priority)
		return ma->priority > mb->priority;
	return ma->id < mb->id;
}

/* Does @mb keep its queue by age too (msgbox.by_age)? */
static bool msgbox_keeps_age(const struct msgbox *mb)
{
	return mb->parent && (mb->parent->flags & MSGBOX_CREATE_DROP_OLDEST);
}

/*
 * Into @mb->by_age, in id order: a new message is the youngest; one given
 * back (requeued, redelivered) goes among the older ones it came from.
 */
static void msgbox_age_add(struct msgbox *mb, struct msgbox_message *msg)
{
	struct msgbox_message *pos;

	if (list_empty(&mb->by_age) ||
	    list_last_entry(&mb->by_age, struct msgbox_message, age)->id <
	    msg->id) {
		list_add_tail(&msg->age, &mb->by_age);
		return;
	}
	list_for_each_entry(pos, &mb->by_age, age) {
		if (pos->id > msg->id)
			break;
	}
	list_add_tail(&msg->age, &pos->age);
}

static void msgbox_enqueue(struct msgbox *mb, struct msgbox_message *msg)
{
	lockdep_assert_held(&mb->lock);
	rb_add_cached(&msg->node, &mb->msgs, msgbox_msg_less);
	if (unlikely(msgbox_keeps_age(mb)))
		msgbox_age_add(mb, msg);
	/* A receive ring must not take later messages before this one. */
	if (mb->ring && msgbox_selects(&mb->ring->args, msg))
		mb->ring->behind = true;
	mb->nr_msgs++;
	mb->nr_bytes += msg->len;
	mb->nr_ttl += !!msg->expires_ns;
	mb->stats.hwm_msgs = max(mb->stats.hwm_msgs, mb->nr_msgs);
	mb->stats.hwm_bytes = max(mb->stats.hwm_bytes, mb->nr_bytes);
	/* No waiting receiver took it: tell the registered process. */
	if (unlikely(mb->nr_msgs == 1 && mb->notify.owner))
		msgbox_notify_fire(mb);
}

/* Take @msg out of the queue (received, or withdrawn by its sender). */
static void msgbox_unqueue(struct msgbox *mb, struct msgbox_message *msg)
{
	lockdep_assert_held(&mb->lock);
	rb_erase_cached(&msg->node, &mb->msgs);
	RB_CLEAR_NODE(&msg->node);
	if (unlikely(msgbox_keeps_age(mb)))
		list_del(&msg->age);
	mb->nr_msgs--;
	mb->nr_bytes -= msg->len;
	mb->nr_ttl -= !!msg->expires_ns;
}

/*
 * Take the queued messages whose time to live ran out into @expired, for
 * the caller to free after the unlock.  Costs nothing while no queued
 * message has a time to live, one walk of the queue otherwise.
 */
static void msgbox_expire(struct msgbox *mb, struct rb_root_cached *expired,
			  struct msgbox_wake_list *wl)
{
	struct msgbox_message *msg;
	struct rb_node *n, *next;
	u64 now;

	lockdep_assert_held(&mb->lock);
	if (!mb->nr_ttl)
		return;
	now = ktime_get_ns();
	for (n = rb_first_cached(&mb->msgs); n; n = next) {
		next = rb_next(n);
		msg = rb_entry(n, struct msgbox_message, node);
		if (!msg->expires_ns || msg->expires_ns > now)
			continue;
		msgbox_unqueue(mb, msg);
		mb->stats.expired++;
		msgbox_track_set(msg, MSGBOX_STATUS_EXPIRED);
		if (msg->sync) {
			/* Its rendezvous sender gets it back, and ETIMEDOUT. */
			mb->nr_sync_waiters--;
			waiter_claim(mb, wl, msg->sync, -ETIMEDOUT);
			msg->sync = NULL;
			continue;
		}
		rb_add_cached(&msg->node, expired, msgbox_msg_less);
	}
}

static void __msgbox_reap_expired(struct msgbox *mb)
{
	struct rb_root_cached expired = RB_ROOT_CACHED;
	struct msgbox_message *msg, *next;
	struct msgbox_wake_list wl;
	bool queued;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	msgbox_expire(mb, &expired, &wl);
	/* Freed room lets sleeping senders in. */
	queued = msgbox_admit_senders(mb, &wl);
	spin_unlock(&mb->lock);
	msgbox_wake_up(&wl);
	msgbox_wake_pollers(mb, EPOLLOUT | EPOLLWRNORM |
			    (queued ? EPOLLIN | EPOLLRDNORM : 0));
	rbtree_postorder_for_each_entry_safe(msg, next, &expired.rb_root, node)
		if (msg->call)
			msgbox_call_fail(msg->call, -ETIMEDOUT);
	msgbox_free_tree(&expired);
}

/* Discard what ran out of time before a receive looks at the queue. */
static __always_inline void msgbox_reap_expired(struct msgbox *mb)
{
	if (READ_ONCE(mb->nr_ttl))
		__msgbox_reap_expired(mb);
}

/**
 * msgbox_recv_args_init() - decode a receive selector.
 * @args:  filled in; the caller sets the remaining fields.
 * @type:  the selector of struct msgbox_msg.type.
 * @flags: MSGBOX_MSG_* of the receive.
 *
 * The four SysV modes are decoded once here, as ipc/msg.c's convert_mode()
 * does, and one predicate, msgbox_selects(), serves both the queue scan and
 * the direct hand-over, so the two can never disagree.
 */
void __msgbox_hot msgbox_recv_args_init(struct msgbox_recv_args *args, s64 type, u32 flags)
{
	memset(args, 0, sizeof(*args));
	if (!type) {
		args->mode = MSGBOX_SEL_ANY;
	} else if (type < 0) {
		args->mode = MSGBOX_SEL_LESSEQUAL;
		/* -S64_MIN does not exist; every type is <= S64_MAX. */
		args->type = type == S64_MIN ? S64_MAX : -type;
	} else {
		args->mode = flags & MSGBOX_MSG_EXCEPT ? MSGBOX_SEL_NOTEQUAL :
							 MSGBOX_SEL_EQUAL;
		args->type = type;
	}
	args->peek = flags & MSGBOX_MSG_PEEK;
	args->trunc = flags & MSGBOX_MSG_TRUNC;
	args->ack = flags & MSGBOX_MSG_ACK;
	args->after_ring = flags & MSGBOX_MSG_RING;
}

/* Does the selector of @args take messages of @type (sender aside)? */
static bool msgbox_selects_type(const struct msgbox_recv_args *args, s64 type)
{
	switch (args->mode) {
	case MSGBOX_SEL_EQUAL:
		return type == args->type;
	case MSGBOX_SEL_NOTEQUAL:
		return type != args->type;
	case MSGBOX_SEL_LESSEQUAL:
		return type <= args->type;
	default:
		return true;
	}
}

bool msgbox_selects(const struct msgbox_recv_args *args,
		    const struct msgbox_message *msg)
{
	if (args->from && msg->tgid != args->from)
		return false;
	return msgbox_selects_type(args, msg->type);
}

/*
 * The message a receive with @args takes now, or NULL; *@steps counts the
 * queued messages looked at (a selector may look at all of them).
 */
static __always_inline struct msgbox_message *
msgbox_find_counted(struct msgbox *mb, const struct msgbox_recv_args *args,
		    unsigned int *steps)
{
	struct msgbox_message *msg, *best = NULL;
	struct rb_node *n;

	lockdep_assert_held(&mb->lock);
	n = rb_first_cached(&mb->msgs);
	++*steps;
	if ((args->mode == MSGBOX_SEL_ANY && !args->from) || !n)
		return n ? rb_entry(n, struct msgbox_message, node) : NULL;

	for (; n; n = rb_next(n), ++*steps) {
		msg = rb_entry(n, struct msgbox_message, node);
		if (!msgbox_selects(args, msg))
			continue;
		if (args->mode != MSGBOX_SEL_LESSEQUAL)
			return msg;
		/* The lowest type wins; among equals, the first in order. */
		if (!best || msg->type < best->type)
			best = msg;
	}
	return best;
}

/* The message a receive with @args takes now, or NULL. */
static __msgbox_hot struct msgbox_message *msgbox_find(struct msgbox *mb,
						       const struct msgbox_recv_args *args)
{
	unsigned int steps = 0;

	return msgbox_find_counted(mb, args, &steps);
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
static void __msgbox_hot msgbox_wake_up(struct msgbox_wake_list *wl)
{
	struct msgbox_waiter *w = wl->first;

	if (msgbox_ring_done(wl))
		msgbox_wake_pollers(wl->ring_mb, EPOLLIN | EPOLLRDNORM);

	while (w) {
		struct msgbox_waiter *next = w->wake_next;
		struct task_struct *task;

		if (w->complete) {
			/* A parked command: no sleeper reads the state. */
			w->state = w->result;
			w->complete(w);
			w = next;
			continue;
		}
		task = get_task_struct(w->task);
		/* MSGBOX_BARRIER: publishes w->msg along with the state. */
		smp_store_release(&w->state, w->result);
		/* @w may be gone from here on. */
		wake_up_process(task);
		put_task_struct(task);
		w = next;
	}
}

/*
 * Offer @msg to the sleeping receivers in arrival order, skipping those
 * whose selector does not match.  If the message is to be queued when no
 * receiver takes it (@will_queue), a matching receiver whose buffer is too
 * small (and did not ask to truncate) is completed with -EMSGSIZE, as its
 * receive would fail on the queued message, and a peeking receiver is told
 * to look again; otherwise both are left asleep, since there would be
 * nothing for them to find.  A new message is accepted (given its id)
 * before a receiver can see it; a requeued one keeps its id.
 * Returns true if a receiver took the message.
 */
static bool __msgbox_hot msgbox_hand_over(struct msgbox *mb, struct msgbox_message *msg,
					  bool accept, bool will_queue,
					  struct msgbox_wake_list *wl)
{
	struct msgbox_waiter *w, *next;

	list_for_each_entry_safe(w, next, &mb->recv_waiters, list) {
		if (!msgbox_selects(w->args, msg))
			continue;
		/* In flight it would count against the capacity. */
		if (w->args->ack && !msgbox_has_room(mb, msg->len))
			continue;
		if (w->args->peek ||
		    (msg->len > w->args->size && !w->args->trunc)) {
			if (!will_queue)
				continue;
			mb->nr_recv_waiters--;
			waiter_claim(mb, wl, w, w->args->peek ? MSGBOX_RETRY :
								-EMSGSIZE);
			continue;
		}
		mb->nr_recv_waiters--;
		if (accept)
			msgbox_accept_took(mb, msg, w->task, w->args->ack, wl);
		else
			msgbox_took(mb, msg, w->task, w->args->ack, wl);
		w->msg = msg;
		waiter_claim(mb, wl, w, 0);
		return true;
	}
	/* No one asleep took it: a receive ring may (see below). */
	return mb->ring && msgbox_ring_may_take(mb, mb->ring, msg) &&
	       msgbox_ring_take(mb, mb->ring, msg, accept, wl);
}

/*
 * Receive rings (ring.c) as receivers.  A ring takes a message the way a
 * receiver waiting since forever would, in the order a receive would: so
 * not while anything it selects is queued or a sender sleeps ahead of the
 * message (MSGBOX_IOC_RING_ENTER moves those in first), and never a call
 * (its reply needs a token) or a tracked message.
 */
static bool msgbox_ring_in_line(struct msgbox *mb, struct msgbox_ring *r)
{
	lockdep_assert_held(&mb->lock);
	/* A record being copied in must stay the last one. */
	if (r->busy)
		return false;
	if (r->behind) {
		/* Only an empty queue is cheap to be sure of. */
		if (r->args.mode != MSGBOX_SEL_ANY ||
		    !RB_EMPTY_ROOT(&mb->msgs.rb_root))
			return false;
		r->behind = false;
	}
	return true;
}

/*
 * Would @mb's ring take any message a sender could send now, of any type
 * and up to max_msg_size bytes?  What makes a rendezvous channel, which
 * queues nothing, writable when its receiver is a ring.
 */
static bool msgbox_ring_takes_any(struct msgbox *mb)
{
	struct msgbox_ring *r = mb->ring;

	lockdep_assert_held(&mb->lock);
	return r && r->args.mode == MSGBOX_SEL_ANY &&
	       list_empty(&mb->send_waiters) && msgbox_ring_in_line(mb, r) &&
	       msgbox_ring_has_room(r, mb->max_msg_size);
}

static bool msgbox_ring_may_take(struct msgbox *mb, struct msgbox_ring *r,
				 const struct msgbox_message *msg)
{
	struct msgbox_waiter *w;

	if (msg->call || msg->track || !msgbox_selects(&r->args, msg) ||
	    !msgbox_ring_in_line(mb, r))
		return false;
	w = list_first_entry_or_null(&mb->send_waiters, struct msgbox_waiter,
				     list);
	return !w || w->msg == msg;
}

/*
 * @msg went into @r: account it received, and leave it to be freed after
 * the unlock, when the ring's pollers are woken (msgbox_ring_done()).
 */
static void msgbox_ring_took(struct msgbox *mb, struct msgbox_ring *r,
			     struct msgbox_message *msg,
			     struct msgbox_wake_list *wl, u64 now)
{
	msgbox_took_at(mb, msg, r->tgid, false, wl, now);
	r->taken++;
	msg->next_done = wl->ring_done;
	wl->ring_done = msg;
	wl->ring_mb = mb;
}

/* Write @msg (not queued) into @r and account it; false if it has no room. */
static bool msgbox_ring_take(struct msgbox *mb, struct msgbox_ring *r,
			     struct msgbox_message *msg, bool accept,
			     struct msgbox_wake_list *wl)
{
	/* The record carries the id msgbox_accept() is about to give. */
	if (accept)
		msg->id = mb->next_id;
	if (!msgbox_ring_put(r, msg))
		return false;
	if (accept)
		msgbox_accept(mb, msg);
	msgbox_ring_took(mb, r, msg, wl, ktime_get_ns());
	return true;
}

/**
 * msgbox_ring_send_user() - send messages straight from the caller's
 * memory into the mailbox's receive ring, under one lock.
 * @mb:   the mailbox.
 * @m:    the messages, checked; plain (not calls, not tracked).
 * @n:    how many.
 * @wait: for the wake-up of the ring's pollers (a batch's, maybe).
 * @ids:  the ids they were given.
 *
 * The ring takes a message only where msgbox_send() would hand it to the
 * ring: no receiver asleep (it would come first), nothing queued or
 * sleeping ahead of it.  Then there is one copy and no kernel buffer.
 * Stops at the first message the ring does not take now (no room, not
 * selected, its payload not in memory), which the caller sends the usual
 * way.
 *
 * Return: the messages sent, or -EIDRM.
 */
int msgbox_ring_send_user(struct msgbox *mb, const struct msgbox_msg *m,
			  unsigned int n, const struct msgbox_wait *wait,
			  u64 *ids)
{
	struct msgbox_ring_msg from = {};
	struct msgbox_wake_list wl;
	struct msgbox_ring *r;
	unsigned int i;
	pid_t sender;
	u64 now;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		spin_unlock(&mb->lock);
		return -EIDRM;
	}
	r = mb->ring;
	now = ktime_get_ns();
	sender = task_tgid_nr(current);
	for (i = 0; i < n; i++) {
		if (!r || !list_empty(&mb->recv_waiters) ||
		    !list_empty(&mb->send_waiters) ||
		    !msgbox_selects_type(&r->args, m[i].type) ||
		    !msgbox_ring_in_line(mb, r))
			break;
		if (!i)
			msgbox_ring_sender_current(r, &from);
		if (!msgbox_ring_put_user(r, &m[i], mb->next_id, &from))
			break;
		/* msgbox_accept() and msgbox_took_at(), without a message. */
		ids[i] = mb->next_id++;
		msgbox_count_sent(mb, m[i].len, sender, now);
		msgbox_count_received(mb, 0, r->tgid, now);
		r->taken++;
	}
	spin_unlock(&mb->lock);
	if (i)
		msgbox_wakes(mb, wait, &wl, EPOLLIN | EPOLLRDNORM);
	return i;
}

/* After the unlock: free what rings took, and wake their pollers. */
static bool msgbox_ring_done(struct msgbox_wake_list *wl)
{
	struct msgbox_message *msg = wl->ring_done, *next;

	if (!wl->ring_mb)
		return false;
	for (; msg; msg = next) {
		next = msg->next_done;
		msgbox_message_recycle(wl->ring_mb, msg);
	}
	wl->ring_done = NULL;
	return true;
}

/* Can @r ever take @msg (room aside)? */
static bool msgbox_ring_can_hold(const struct msgbox_ring *r,
				 const struct msgbox_message *msg)
{
	return !msg->call && !msg->track && msgbox_ring_holds(r, msg->len);
}

/*
 * What one MSGBOX_IOC_RING_ENTER does at most under the lock, once it has
 * moved a message: records of this many bytes (headers included: empty
 * messages count too), and this many queued messages looked at (a type
 * selector looks through the queue again for each message it moves,
 * past the ones it does not select, and MSGBOX_SEL_LESSEQUAL through all
 * of it).  The consumer enters again for the rest.
 */
#define MSGBOX_RING_REFILL_BYTES	(256 * 1024)
#define MSGBOX_RING_REFILL_STEPS	4096

/* Has a refill that moved @bytes and looked at @steps done its share? */
static bool msgbox_ring_refill_done(size_t bytes, unsigned int steps)
{
	return bytes && (bytes >= MSGBOX_RING_REFILL_BYTES ||
			 steps > MSGBOX_RING_REFILL_STEPS);
}

/*
 * Move into @r what it selects, in the order a receive would take it: the
 * queued messages, then those of senders sleeping for room (all of them on
 * a rendezvous channel, which queues nothing).  Stops at the first that
 * does not go in, or once it did its share (msgbox_ring_refill_done(): the
 * caller enters again).  Returns true if it stopped at one that can never
 * go in: a receive must take it (and later ones queue behind it
 * meanwhile).
 */
static bool msgbox_ring_refill(struct msgbox *mb, struct msgbox_ring *r,
			       struct msgbox_wake_list *wl)
{
	struct msgbox_waiter *w, *next;
	struct msgbox_message *msg;
	u64 now = ktime_get_ns();
	unsigned int steps = 0;
	size_t bytes = 0;

	lockdep_assert_held(&mb->lock);
	/* msgbox_ring_end() wakes the consumer, which enters again. */
	if (r->busy)
		return false;
	while ((msg = msgbox_find_counted(mb, &r->args, &steps))) {
		if (!msgbox_ring_can_hold(r, msg))
			return true;
		if (msgbox_ring_refill_done(bytes, steps) ||
		    !msgbox_ring_put(r, msg))
			return false;
		bytes += sizeof(struct msgbox_ring_msg) + msg->len;
		msgbox_unqueue(mb, msg);
		msgbox_ring_took(mb, r, msg, wl, now);
	}
	r->behind = false;
	list_for_each_entry_safe(w, next, &mb->send_waiters, list) {
		msg = w->msg;
		if (!msgbox_selects(&r->args, msg))
			continue;
		if (!msgbox_ring_can_hold(r, msg))
			return true;
		msg->id = mb->next_id;
		if (msgbox_ring_refill_done(bytes, ++steps) ||
		    !msgbox_ring_put(r, msg))
			return false;
		bytes += sizeof(struct msgbox_ring_msg) + msg->len;
		mb->nr_send_waiters--;
		msgbox_accept(mb, msg);
		w->id = msg->id;
		msgbox_ring_took(mb, r, msg, wl, now);
		waiter_claim(mb, wl, w, 0);
	}
	return false;
}

/**
 * msgbox_ring_enter() - MSGBOX_IOC_RING_ENTER: refill ring @r.
 * @mb:   its mailbox.
 * @r:    the ring.
 * @recv: set to whether the next message in line is one the ring cannot
 *        hold, for a receive to take.
 *
 * Return: the messages moved into the ring, or -EIDRM.
 */
long msgbox_ring_enter(struct msgbox *mb, struct msgbox_ring *r, bool *recv)
{
	bool queued = false, writable;
	struct msgbox_wake_list wl;
	u64 before;
	long n;

	msgbox_reap_expired(mb);
	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		/* A record accepted before the destroy is still on its way. */
		n = r->busy ? 0 : -EIDRM;
		spin_unlock(&mb->lock);
		*recv = false;
		return n;
	}
	before = r->taken;
	*recv = msgbox_ring_refill(mb, r, &wl);
	/* Room freed in the queue lets sleeping senders in, maybe the ring. */
	if (r->taken != before)
		queued = msgbox_admit_senders(mb, &wl);
	n = r->taken - before;
	/*
	 * Room the consumer made (it enters before it sleeps) makes a
	 * rendezvous channel writable: its pollers learn it here.
	 */
	writable = !mb->max_msgs && msgbox_ring_takes_any(mb);
	spin_unlock(&mb->lock);
	msgbox_wake_up(&wl);
	if (n || writable)
		msgbox_wake_pollers(mb, EPOLLOUT | EPOLLWRNORM |
				    (queued ? EPOLLIN | EPOLLRDNORM : 0));
	return n;
}

/* Is a message @r selects queued?  Under msgbox.lock. */
bool msgbox_ring_selected_queued(struct msgbox *mb, struct msgbox_ring *r)
{
	lockdep_assert_held(&mb->lock);
	return msgbox_find(mb, &r->args);
}

/*
 * Readiness of ring @r: readable while it holds records or anything it
 * selects waits (queued, or a sleeping sender's), hung up once destroyed.
 */
__poll_t msgbox_ring_poll_mask(struct msgbox *mb, struct msgbox_ring *r)
{
	struct msgbox_waiter *w;
	__poll_t mask = 0;

	spin_lock(&mb->lock);
	/*
	 * While a record is copied in, what waits behind it is not for the
	 * consumer yet: msgbox_ring_end() wakes it.
	 */
	if (msgbox_ring_readable(r) ||
	    (!r->busy && msgbox_find(mb, &r->args)))
		mask = EPOLLIN | EPOLLRDNORM;
	list_for_each_entry(w, &mb->send_waiters, list) {
		if (!r->busy && msgbox_selects(&r->args, w->msg)) {
			mask = EPOLLIN | EPOLLRDNORM;
			break;
		}
	}
	/* Not while a record accepted before the destroy is on its way. */
	if (mb->dead && !r->busy)
		mask |= EPOLLHUP;
	spin_unlock(&mb->lock);
	return mask;
}

/**
 * msgbox_direct_pin() - pin the first @len bytes of a user buffer.
 * @d:     the buffer (@d->ubuf set); on success @d->pages and the rest.
 * @len:   bytes to pin, at most the mailbox's message size limit.
 * @write: the kernel will write into it (a receiver's buffer).
 *
 * Return: 0, -ENOMEM or -EFAULT (nothing pinned then).
 */
int msgbox_direct_pin(struct msgbox_direct *d, size_t len, bool write)
{
	unsigned long addr = (unsigned long)d->ubuf;
	unsigned int nr = DIV_ROUND_UP(offset_in_page(addr) + len, PAGE_SIZE);
	int got;

	d->tried = true;
	d->pages = kvmalloc_array(nr, sizeof(*d->pages), GFP_KERNEL);
	if (!d->pages)
		return -ENOMEM;
	/*
	 * A receiver's pin lasts as long as it sleeps, which may be for
	 * ever: a long-term pin, kept off movable and CMA memory (and
	 * refused where it cannot be, the receive then copying as usual).
	 */
	got = pin_user_pages_fast(addr & PAGE_MASK, nr,
				  write ? FOLL_WRITE | FOLL_LONGTERM : 0,
				  d->pages);
	if (got != nr) {
		if (got > 0)
			unpin_user_pages(d->pages, got);
		kvfree(d->pages);
		d->pages = NULL;
		return got < 0 ? got : -EFAULT;
	}
	d->nr_pages = nr;
	d->len = len;
	return 0;
}

void __msgbox_direct_release(struct msgbox_direct *d)
{
	unpin_user_pages_dirty_lock(d->pages, d->nr_pages, d->filled);
	kvfree(d->pages);
	d->pages = NULL;
	d->nr_pages = 0;
	d->len = 0;
}

/* Copy @len bytes of a pinned buffer to kernel memory (no fault occurs). */
static void msgbox_direct_copy_to(void *dst, const struct msgbox_direct *src,
				  size_t len)
{
	size_t soff = offset_in_page(src->ubuf), done = 0;

	while (done < len) {
		size_t s = soff + done;
		size_t n = min(len - done, PAGE_SIZE - offset_in_page(s));

		memcpy_from_page(dst + done, src->pages[s >> PAGE_SHIFT],
				 offset_in_page(s), n);
		done += n;
		cond_resched();
	}
}

/*
 * msgbox_send_direct() into the receive ring, with mb->lock held (dropped
 * on return): where msgbox_send() would hand @msg to the ring, reserve its
 * record under the lock and copy the payload in after the unlock.  The
 * message is accepted and received (by the ring) at once, as any the ring
 * takes; its record is published when the copy is done, and nothing is
 * written into the ring meanwhile (msgbox_ring_begin()).
 */
static int msgbox_ring_send_pinned(struct msgbox *mb,
				   struct msgbox_message *msg,
				   const struct msgbox_direct *src,
				   const struct msgbox_wait *wait, u64 *idp)
	__releases(&mb->lock)
{
	struct msgbox_ring *r = mb->ring;
	struct msgbox_ring_msg *rec;
	struct msgbox_wake_list wl;
	__poll_t mask;
	u32 need;

	lockdep_assert_held(&mb->lock);
	if (!r || !r->large || !msgbox_ring_may_take(mb, r, msg)) {
		spin_unlock(&mb->lock);
		return -EAGAIN;
	}
	rec = msgbox_ring_begin(r, msg->len, &need);
	if (!rec) {
		spin_unlock(&mb->lock);
		return -EAGAIN;
	}
	msgbox_wake_list_init(&wl);
	msgbox_accept(mb, msg);
	mb->stats.direct++;
	msgbox_ring_label(r, rec, msg);
	msgbox_ring_took(mb, r, msg, &wl, msg->queued_ns);
	*idp = msg->id;
	spin_unlock(&mb->lock);

	msgbox_direct_copy_to(rec + 1, src, msg->len);

	spin_lock(&mb->lock);
	msgbox_ring_end(r, need);
	/* A rendezvous channel's writers waited for the ring to be free. */
	mask = !mb->max_msgs && msgbox_ring_takes_any(mb) ?
	       EPOLLOUT | EPOLLWRNORM : 0;
	/* The hang-up poll withheld while the record was on its way. */
	if (mb->dead)
		mask |= EPOLLHUP | EPOLLERR | EPOLLIN | EPOLLRDNORM;
	spin_unlock(&mb->lock);
	/* busy's store before wake_up_var()'s look at the queue: a full barrier. */
	smp_mb();
	wake_up_var(&r->busy);
	/* Frees the header and wakes the consumer (msgbox_ring_done()). */
	msgbox_wakes(mb, wait, &wl, mask);
	return 0;
}

/* Copy @len bytes between two pinned buffers (no fault can occur). */
static void msgbox_direct_copy(const struct msgbox_direct *dst,
			       const struct msgbox_direct *src, size_t len)
{
	size_t doff = offset_in_page(dst->ubuf), soff = offset_in_page(src->ubuf);
	size_t done = 0;

	while (done < len) {
		size_t d = doff + done, s = soff + done;
		size_t n = min3(len - done, PAGE_SIZE - offset_in_page(d),
				PAGE_SIZE - offset_in_page(s));

		memcpy_page(dst->pages[d >> PAGE_SHIFT], offset_in_page(d),
			    src->pages[s >> PAGE_SHIFT], offset_in_page(s), n);
		done += n;
		cond_resched();
	}
}

/**
 * msgbox_send_direct() - copy a message straight into a sleeping receiver
 * or the receive ring.
 * @mb:   the mailbox.
 * @msg:  a bare header (msgbox_message_alloc_bare()).
 * @src:  the sender's buffer holding the payload, pinned.
 * @wait: how the send waits (only its batch, if any, is used).
 * @idp:  on success, the id the message was given.
 *
 * Binder's one copy, for receivers that are already waiting: if the
 * receiver that msgbox_hand_over() would choose sleeps with its buffer
 * pinned, it is claimed under the lock and the payload goes from page to
 * page after the unlock, with no kernel buffer between (and no allocation
 * of one: under init_on_alloc that is a second pass over the bytes too).
 * The claimed receiver waits for the result without a timeout; the copy
 * cannot fault, both buffers being pinned, so that wait is short.
 * With no receiver asleep that selects the message, the receive ring comes
 * next, as in msgbox_hand_over(): its record is reserved under the lock and
 * the payload copied in after the unlock (msgbox_ring_send_pinned()).
 * Anything else (no such receiver or ring, senders asleep ahead of this
 * one, a receiver in ack or peek mode, with a selector, buffer or mode the
 * plain path must judge, a ring without room or not in line) is left to
 * msgbox_send().
 *
 * Return: 0 (the mailbox owns @msg), -EAGAIN (send it the usual way) or
 * -EIDRM.
 */
int msgbox_send_direct(struct msgbox *mb, struct msgbox_message *msg,
		       const struct msgbox_direct *src,
		       const struct msgbox_wait *wait, u64 *idp)
{
	struct msgbox_wake_list wl;
	struct msgbox_waiter *w;
	struct msgbox_direct *dst = NULL;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		spin_unlock(&mb->lock);
		return -EIDRM;
	}
	if (!list_empty(&mb->send_waiters))
		goto out_again;
	list_for_each_entry(w, &mb->recv_waiters, list) {
		if (!msgbox_selects(w->args, msg))
			continue;
		/* The receiver msgbox_hand_over() would pick: direct or not. */
		dst = w->args->direct;
		if (w->complete || w->args->peek || w->args->ack || !dst ||
		    !dst->pages || dst->len < msg->len)
			goto out_again;
		break;
	}
	/* No receiver asleep selects it: the ring, if any, comes next. */
	if (!dst)
		return msgbox_ring_send_pinned(mb, msg, src, wait, idp);
	mb->nr_recv_waiters--;
	msgbox_accept_took(mb, msg, w->task, false, &wl);
	mb->stats.direct++;
	w->msg = msg;
	dst->filled = true;
	waiter_claim(mb, &wl, w, 0);
	*idp = msg->id;
	spin_unlock(&mb->lock);
	msgbox_direct_copy(dst, src, msg->len);
	msgbox_wakes(mb, wait, &wl, 0);
	return 0;

out_again:
	spin_unlock(&mb->lock);
	return -EAGAIN;
}

/* @w's message is queued: from now on @w waits for a receiver to take it. */
static void msgbox_wait_for_take(struct msgbox *mb, struct msgbox_waiter *w)
{
	lockdep_assert_held(&mb->lock);
	list_move_tail(&w->list, &mb->sync_waiters);
	w->kind = MSGBOX_W_SYNC;
	w->msg->sync = w;
	mb->nr_sync_waiters++;
}

/*
 * After room appeared: move the messages of waiting senders in, oldest
 * sender first, straight to a waiting receiver where one selects it.  Stop
 * at the first that does not fit, so a large message is not starved by
 * smaller ones behind it.  Returns true if a message was queued.
 */
static bool msgbox_admit_senders(struct msgbox *mb, struct msgbox_wake_list *wl)
{
	struct msgbox_waiter *w, *next;
	bool queued = false;

	list_for_each_entry_safe(w, next, &mb->send_waiters, list) {
		if (!msgbox_has_room(mb, w->msg->len))
			break;
		mb->nr_send_waiters--;
		if (msgbox_hand_over(mb, w->msg, true, true, wl)) {
			w->id = w->msg->id;
			waiter_claim(mb, wl, w, 0);
			continue;
		}
		msgbox_accept(mb, w->msg);
		w->id = w->msg->id;
		msgbox_enqueue(mb, w->msg);
		queued = true;
		if (w->sync)
			msgbox_wait_for_take(mb, w);
		else
			waiter_claim(mb, wl, w, 0);
	}
	return queued;
}

/*
 * A receive that finds nothing queued may still match the message of a
 * sender sleeping on a full mailbox (queued messages of other types fill
 * it): take that message directly rather than sleep beside it.
 */
static struct msgbox_waiter *
msgbox_find_sender(struct msgbox *mb, const struct msgbox_recv_args *args)
{
	struct msgbox_waiter *w;

	lockdep_assert_held(&mb->lock);
	list_for_each_entry(w, &mb->send_waiters, list)
		if (msgbox_selects(args, w->msg))
			return w;
	return NULL;
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

/* Has a waker set @w's final result? */
static bool msgbox_waiter_done(struct msgbox_waiter *w)
{
	int state = READ_ONCE(w->state);

	return state != MSGBOX_WAITING && state != MSGBOX_CLAIMED;
}

/**
 * msgbox_poll_budget() - how long @wait may busy-poll.
 * @wait: a wait with MSGBOX_MSG_POLL.
 *
 * Return: the poll_ns parameter, or less to end by the wait's deadline
 * (0 once it passed).
 */
u64 msgbox_poll_budget(const struct msgbox_wait *wait)
{
	u64 budget = READ_ONCE(msgbox_poll_ns);
	ktime_t left;

	if (!wait->timed || !budget)
		return budget;
	left = ktime_sub(wait->deadline, wait->clock == CLOCK_REALTIME ?
				       ktime_get_real() : ktime_get());
	return ktime_to_ns(left) > 0 ? min_t(u64, budget, ktime_to_ns(left)) : 0;
}

/*
 * A waiter gives up (timeout, signal): unlink it.  A rendezvous sender's
 * message, still queued since nobody claimed the waiter, is withdrawn: the
 * caller gets it back, as if it had never been sent.
 */
static void msgbox_waiter_abort(struct msgbox *mb, struct msgbox_waiter *w)
{
	lockdep_assert_held(&mb->lock);
	list_del(&w->list);
	switch (w->kind) {
	case MSGBOX_W_RECV:
		mb->nr_recv_waiters--;
		break;
	case MSGBOX_W_SEND:
		mb->nr_send_waiters--;
		break;
	case MSGBOX_W_SYNC:
		mb->nr_sync_waiters--;
		msgbox_unqueue(mb, w->msg);
		w->msg->sync = NULL;
		break;
	}
}

/*
 * Sleep until a waker completes @w, the deadline passes or a signal comes.
 * Entered with mb->lock held and @w queued, returns with the lock released.
 * @wake: poll events this wait makes true (a receiver waiting makes a
 * rendezvous send possible), announced to pollers before sleeping.
 * Returns the waiter's result, -ETIMEDOUT or @wait->sig_err; in the last
 * two cases @w has been unlinked here and the caller still owns whatever
 * it put into @w.
 */
static int __msgbox_hot msgbox_wait(struct msgbox *mb, struct msgbox_waiter *w,
				    const struct msgbox_wait *wait,
				    __poll_t wake)
	__releases(&mb->lock)
{
	ktime_t expires = wait->deadline;
	bool poll = wait->poll;
	int timer = -EINTR;
	int ret;

	for (;;) {
		spin_unlock(&mb->lock);
		/* Never sleep on wake-ups a batch has held back. */
		if (wait->batch)
			msgbox_wake_batch_flush(wait->batch);
		if (wake) {
			msgbox_wake_pollers(mb, wake);
			wake = 0;
		}
		/*
		 * Once, before the first sleep, until the waiter's result is
		 * final (a claimed one is being completed); a waker meanwhile
		 * finds the task running.
		 */
		if (poll) {
			msgbox_poll(msgbox_waiter_done(w), wait);
			poll = false;
		}
		/* Pairs with msgbox_wake_up(): state store, then wake-up. */
		set_current_state(TASK_INTERRUPTIBLE);
		if (READ_ONCE(w->state) == MSGBOX_WAITING)
			timer = msgbox_sleep(wait, &expires);
		__set_current_state(TASK_RUNNING);
		/* MSGBOX_BARRIER: pairs with msgbox_wake_up(). */
		ret = smp_load_acquire(&w->state);
		if (ret != MSGBOX_WAITING && ret != MSGBOX_CLAIMED)
			return ret;

		spin_lock(&mb->lock);
		ret = READ_ONCE(w->state);
		if (ret != MSGBOX_WAITING) {
			spin_unlock(&mb->lock);
			return ret == MSGBOX_CLAIMED ? msgbox_wait_claimed(w) :
			       ret;
		}
		if (signal_pending(current)) {
			/*
			 * Only task work (io_uring's TIF_NOTIFY_SIGNAL): no
			 * signal to report, the call restarts once it ran.
			 */
			ret = task_sigpending(current) ? wait->sig_err :
							 -ERESTARTSYS;
			break;
		}
		if (timer == 0) {
			ret = -ETIMEDOUT;
			mb->stats.timed_out++;
			break;
		}
	}
	msgbox_waiter_abort(mb, w);
	if (w->kind != MSGBOX_W_RECV) {
		struct msgbox_wake_list wl;
		bool queued;

		/*
		 * A withdrawn rendezvous message frees its room; a sender
		 * leaving the head of the line lets the next one try.
		 */
		msgbox_wake_list_init(&wl);
		queued = msgbox_admit_senders(mb, &wl);
		spin_unlock(&mb->lock);
		msgbox_wake_up(&wl);
		msgbox_wake_pollers(mb, EPOLLOUT | EPOLLWRNORM |
				    (queued ? EPOLLIN | EPOLLRDNORM : 0));
		return ret;
	}
	spin_unlock(&mb->lock);
	return ret;
}

/* Wake @mb's pollers with @mask, if any sleep. */
void msgbox_wake_pollers(struct msgbox *mb, __poll_t mask)
{
	if (wq_has_sleeper(&mb->poll_wq))
		wake_up_poll(&mb->poll_wq, mask);
}

/**
 * msgbox_wake_batch_init() - hold back the wake-ups of a batch.
 * @b:  the batch.
 * @mb: the mailbox all of its operations act on.
 *
 * A batch ioctl moves many messages; waking the peer for each (a sender
 * freed by every receive of a full mailbox, a receiver handed each sent
 * message) would cost a context switch per message.  Its operations
 * instead collect whom to wake in @b, and the batch wakes them all once,
 * at its end, or before any of its operations sleeps.
 *
 * A claimed waiter that wakes by itself (timeout, signal) waits
 * uninterruptibly for its result (see MSGBOX_BARRIER), so results are not
 * held back like the wake-ups: msgbox_wake_batch_publish() stores them
 * after each chunk of entries moved under the lock, before the batch
 * touches user memory again (a fault there can take as long as its pager
 * wants, and the batch's caller controls that).
 */
void msgbox_wake_batch_init(struct msgbox_wake_batch *b, struct msgbox *mb)
{
	msgbox_wake_list_init(&b->wl);
	b->mb = mb;
	b->mask = 0;
	b->nr_tasks = 0;
}

/* Wake the tasks whose results a batch published. */
static void msgbox_wake_batch_tasks(struct msgbox_wake_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_tasks; i++) {
		wake_up_process(b->tasks[i]);
		put_task_struct(b->tasks[i]);
	}
	b->nr_tasks = 0;
}

/* Publish the results of the waiters a batch claimed; wake them later. */
void msgbox_wake_batch_publish(struct msgbox_wake_batch *b)
{
	struct msgbox_waiter *w = b->wl.first;

	while (w) {
		struct msgbox_waiter *next = w->wake_next;

		if (w->complete) {
			/* A parked command: no sleeper reads the state. */
			w->state = w->result;
			w->complete(w);
		} else {
			if (b->nr_tasks == ARRAY_SIZE(b->tasks))
				msgbox_wake_batch_tasks(b);
			b->tasks[b->nr_tasks++] = get_task_struct(w->task);
			/* MSGBOX_BARRIER: as in msgbox_wake_up(). */
			smp_store_release(&w->state, w->result);
			/* @w may be gone from here on. */
		}
		w = next;
	}
	msgbox_wake_list_init(&b->wl);
}

/* Wake what a batch held back. */
void msgbox_wake_batch_flush(struct msgbox_wake_batch *b)
{
	msgbox_wake_batch_publish(b);
	msgbox_wake_batch_tasks(b);
	if (b->mask)
		msgbox_wake_pollers(b->mb, b->mask);
	b->mask = 0;
}

/*
 * After the unlock: wake the waiters claimed in @wl and the pollers of
 * @mask, now or, within a batch, at its end.
 */
static __always_inline void msgbox_wakes(struct msgbox *mb,
					 const struct msgbox_wait *wait,
					 struct msgbox_wake_list *wl,
					 __poll_t mask)
{
	struct msgbox_wake_batch *b = wait->batch;

	if (!b) {
		msgbox_wake_up(wl);
		if (mask)
			msgbox_wake_pollers(mb, mask);
		return;
	}
	if (msgbox_ring_done(wl))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (wl->first) {
		*b->wl.tail = wl->first;
		b->wl.tail = wl->tail;
	}
	b->mask |= mask;
}

/* May the caller sleep? 0, or the error to fail with now. */
static __always_inline int msgbox_may_wait(struct msgbox *mb,
					   const struct msgbox_wait *wait)
{
	lockdep_assert_held(&mb->lock);
	if (wait->nonblock)
		return -EAGAIN;
	if (wait->timed) {
		ktime_t now = wait->clock == CLOCK_REALTIME ? ktime_get_real() :
							      ktime_get();

		if (ktime_compare(wait->deadline, now) <= 0) {
			mb->stats.timed_out++;
			return -ETIMEDOUT;
		}
	}
	return 0;
}

/*
 * A sender about to sleep with @msg, which no receiver took: the sleeping
 * receivers that select it but whose buffers are too small get EMSGSIZE
 * now, as a receive that comes later and finds this sender does (a peek,
 * which looks at queued messages only, sleeps on).  True if it claimed
 * any (in @wl).
 */
static bool msgbox_refuse_small(struct msgbox *mb,
				const struct msgbox_message *msg,
				struct msgbox_wake_list *wl)
{
	struct msgbox_waiter *w, *next;
	bool any = false;

	lockdep_assert_held(&mb->lock);
	list_for_each_entry_safe(w, next, &mb->recv_waiters, list) {
		if (w->args->peek || w->args->trunc ||
		    msg->len <= w->args->size || !msgbox_selects(w->args, msg))
			continue;
		mb->nr_recv_waiters--;
		waiter_claim(mb, wl, w, -EMSGSIZE);
		any = true;
	}
	return any;
}

/**
 * msgbox_send() - send @msg; on success the mailbox owns it.
 * @mb:   the mailbox.
 * @msg:  the message, payload already copied in.
 * @wait: how to wait while the mailbox is full.
 * @sync: rendezvous: return only once a receiver has taken the message.
 * @idp:  on success, the id the message was given.
 *
 * Senders keep arrival order: while one sleeps, a later sender does not
 * overtake it even if its smaller message would fit.  A rendezvous send
 * that fails (timeout, signal, destroy) withdraws its message: it was
 * never received, and the caller owns it again.
 * Return: 0, or -EIDRM, -EAGAIN, -ETIMEDOUT, @wait->sig_err; on error the
 * caller still owns @msg.
 */
int __msgbox_hot msgbox_send(struct msgbox *mb, struct msgbox_message *msg,
			     const struct msgbox_wait *wait, bool sync, u64 *idp)
{
	struct msgbox_wake_list wl;
	struct msgbox_waiter w;
	bool can_queue;
	int ret = 0;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		ret = -EIDRM;
		goto out_unlock;
	}
	/* A rendezvous send that may not sleep can only hand over. */
	can_queue = list_empty(&mb->send_waiters) &&
		    msgbox_has_room(mb, msg->len) && !(sync && wait->nonblock);
	if (msgbox_hand_over(mb, msg, true, can_queue, &wl)) {
		*idp = msg->id;
		goto out_unlock;
	}

	w.task = current;
	w.msg = msg;
	w.args = NULL;
	w.id = 0;
	w.sync = sync;
	w.state = MSGBOX_WAITING;
	w.complete = NULL;
	if (can_queue) {
		msgbox_accept(mb, msg);
		*idp = msg->id;
		msgbox_enqueue(mb, msg);
		if (!sync) {
			spin_unlock(&mb->lock);
			msgbox_wakes(mb, wait, &wl, EPOLLIN | EPOLLRDNORM);
			return 0;
		}
		/* Rendezvous: wait until a receiver takes this message. */
		INIT_LIST_HEAD(&w.list);
		msgbox_wait_for_take(mb, &w);
		if (wl.first) {
			/* Never sleep on waiters claimed above. */
			spin_unlock(&mb->lock);
			msgbox_wake_up(&wl);
			spin_lock(&mb->lock);
		}
		return msgbox_wait(mb, &w, wait, EPOLLIN | EPOLLRDNORM);
	}
	ret = msgbox_may_wait(mb, wait);
	if (ret) {
		if (ret == -EAGAIN)
			mb->stats.rejected++;
		goto out_unlock;
	}
	/* Without can_queue, msgbox_hand_over() claimed no one. */
	w.kind = MSGBOX_W_SEND;
	list_add_tail(&w.list, &mb->send_waiters);
	mb->nr_send_waiters++;
	if (msgbox_refuse_small(mb, msg, &wl)) {
		/* Never sleep on waiters claimed above. */
		spin_unlock(&mb->lock);
		msgbox_wake_up(&wl);
		spin_lock(&mb->lock);
	}
	/* A receive can now take this message: tell pollers so. */
	ret = msgbox_wait(mb, &w, wait, EPOLLIN | EPOLLRDNORM);
	if (ret == 0)
		*idp = w.id;
	return ret;

out_unlock:
	spin_unlock(&mb->lock);
	msgbox_wakes(mb, wait, &wl, 0);
	return ret;
}

/*
 * Is a receive about to sleep worth pinning its buffer for?  Once per
 * receive, when the last message sent here was large enough for
 * msgbox_send_direct() and the buffer could hold such a message: a
 * stream of large messages is the case it serves.
 */
static bool msgbox_want_direct(struct msgbox *mb,
			       const struct msgbox_recv_args *args)
{
	struct msgbox_direct *d = args->direct;

	lockdep_assert_held(&mb->lock);
	return d && !d->tried && !args->peek && !args->ack &&
	       args->size >= MSGBOX_DIRECT_MIN &&
	       mb->last_len >= MSGBOX_DIRECT_MIN;
}

/**
 * msgbox_send_many() - queue messages of a batch under one lock.
 * @mb:   the mailbox.
 * @msgs: the messages, payloads copied in, none a rendezvous.
 * @n:    how many.
 * @wait: their wait, for its batch of wake-ups (nothing here sleeps).
 * @ids:  the ids given to the messages accepted.
 *
 * Each message in turn is accepted exactly as msgbox_send() would accept
 * it without sleeping: handed to a waiting receiver, or queued if it fits
 * and no sender sleeps ahead of it.  Stops at the first that is not.
 *
 * Return: the messages accepted (the mailbox owns them), or -EIDRM.
 */
int msgbox_send_many(struct msgbox *mb, struct msgbox_message **msgs,
		     unsigned int n, const struct msgbox_wait *wait, u64 *ids)
{
	struct msgbox_wake_list wl;
	__poll_t mask = 0;
	unsigned int i;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		spin_unlock(&mb->lock);
		return -EIDRM;
	}
	for (i = 0; i < n; i++) {
		struct msgbox_message *msg = msgs[i];
		bool can_queue = list_empty(&mb->send_waiters) &&
				 msgbox_has_room(mb, msg->len);

		if (msgbox_hand_over(mb, msg, true, can_queue, &wl)) {
			ids[i] = msg->id;
			continue;
		}
		if (!can_queue)
			break;
		msgbox_accept(mb, msg);
		ids[i] = msg->id;
		msgbox_enqueue(mb, msg);
		mask = EPOLLIN | EPOLLRDNORM;
	}
	spin_unlock(&mb->lock);
	msgbox_wakes(mb, wait, &wl, mask);
	return i;
}

/**
 * msgbox_recv_many() - take the messages ready for many receives at once.
 * @mb:   the mailbox.
 * @m:    the receives, in order, as struct msgbox_msg (its type, flags and
 *        len), checked already; none peeks, acknowledges or filters by
 *        sender.
 * @n:    how many.
 * @wait: their wait, for its batch of wake-ups (nothing here sleeps).
 * @msgs: the messages taken, in order; the caller owns them.
 *
 * Under one lock, each receive in turn takes the message msgbox_recv()
 * would take for it now without sleeping.  Stops at the first receive for
 * which no queued message is ready, or whose message msgbox_recv() must
 * handle itself: a call, a rendezvous, or one too long for the buffer.
 *
 * Return: the messages taken, or -EIDRM.
 */
int msgbox_recv_many(struct msgbox *mb, const struct msgbox_msg *m,
		     unsigned int n, const struct msgbox_wait *wait,
		     struct msgbox_message **msgs)
{
	struct msgbox_recv_args args;
	struct msgbox_wake_list wl;
	struct msgbox_message *msg;
	bool queued = false;
	unsigned int i;
	u64 now;

	msgbox_reap_expired(mb);
	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		spin_unlock(&mb->lock);
		return -EIDRM;
	}
	now = ktime_get_ns();
	for (i = 0; i < n; i++) {
		msgbox_recv_args_init(&args, m[i].type, m[i].flags);
		args.size = min_t(u64, m[i].len, SIZE_MAX);
		msg = msgbox_find(mb, &args);
		if (!msg || msg->call || msg->sync ||
		    (msg->len > args.size && !args.trunc))
			break;
		msgbox_unqueue(mb, msg);
		msgbox_took_at(mb, msg, task_tgid_nr(current), false, &wl,
			       now);
		msgs[i] = msg;
		/* As after each msgbox_recv(): the next receive sees them. */
		queued |= msgbox_admit_senders(mb, &wl);
	}
	spin_unlock(&mb->lock);
	if (i)
		msgbox_wakes(mb, wait, &wl, EPOLLOUT | EPOLLWRNORM |
			     (queued ? EPOLLIN | EPOLLRDNORM : 0));
	return i;
}

/**
 * msgbox_recv() - take (or peek at) the first message @args selects.
 * @mb:   the mailbox.
 * @args: buffer size, selector, peek and truncate.
 * @wait: how to wait while nothing matches.
 * @copy: for a peek, a header allocated by the caller, filled in as a copy
 *        sharing the payload; otherwise unused.
 * @msgp: on success, the message (or @copy), now owned by the caller.
 *
 * Return: 0, or -EIDRM, -EMSGSIZE, -EAGAIN, -ETIMEDOUT, @wait->sig_err.
 */
int __msgbox_hot msgbox_recv(struct msgbox *mb, const struct msgbox_recv_args *args,
			     const struct msgbox_wait *wait, struct msgbox_message *copy,
			     struct msgbox_message **msgp)
{
	struct msgbox_wake_list wl;
	struct msgbox_message *msg;
	struct msgbox_waiter w;
	bool queued;
	int ret;

again:
	msgbox_reap_expired(mb);
	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	/*
	 * The ring's consumer: what the ring holds comes first, and after a
	 * destroy a record accepted before it and still being copied in.
	 */
	if (args->after_ring && mb->ring && msgbox_ring_nonempty(mb->ring) &&
	    (!mb->dead || mb->ring->busy)) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	if (mb->dead) {
		ret = -EIDRM;
		goto out_unlock;
	}
	msg = msgbox_find(mb, args);
	if (msg) {
		if (msg->len > args->size && !args->trunc) {
			ret = -EMSGSIZE;
			goto out_unlock;
		}
		if (args->peek) {
			msgbox_message_clone(copy, msg);
			*msgp = copy;
			ret = 0;
			goto out_unlock;
		}
		msgbox_unqueue(mb, msg);
		msgbox_took(mb, msg, current, args->ack, &wl);
		/* In flight, an acked message still holds its room. */
		queued = !args->ack && msgbox_admit_senders(mb, &wl);
		spin_unlock(&mb->lock);
		msgbox_wakes(mb, wait, &wl, args->ack ? 0 : EPOLLOUT |
			     EPOLLWRNORM | (queued ? EPOLLIN | EPOLLRDNORM : 0));
		*msgp = msg;
		return 0;
	}
	if (!args->peek) {
		struct msgbox_waiter *sender = msgbox_find_sender(mb, args);

		/* In ack mode the message must fit the capacity too. */
		if (sender && args->ack && !msgbox_has_room(mb, sender->msg->len))
			sender = NULL;
		if (sender) {
			msg = sender->msg;
			if (msg->len > args->size && !args->trunc) {
				ret = -EMSGSIZE;
				goto out_unlock;
			}
			msgbox_accept_took(mb, msg, current, args->ack, &wl);
			sender->id = msg->id;
			mb->nr_send_waiters--;
			waiter_claim(mb, &wl, sender, 0);
			/* That sender may have held up the line behind it. */
			queued = msgbox_admit_senders(mb, &wl);
			spin_unlock(&mb->lock);
			msgbox_wakes(mb, wait, &wl, queued ? EPOLLIN |
				     EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM : 0);
			*msgp = msg;
			return 0;
		}
	}
	ret = msgbox_may_wait(mb, wait);
	if (ret)
		goto out_unlock;

	if (wait->park) {
		/* An io_uring receive: its waker completes it later. */
		struct msgbox_waiter *pw = wait->park;

		pw->msg = NULL;
		pw->args = args;
		pw->kind = MSGBOX_W_RECV;
		pw->state = MSGBOX_WAITING;
		list_add_tail(&pw->list, &mb->recv_waiters);
		mb->nr_recv_waiters++;
		spin_unlock(&mb->lock);
		msgbox_wake_pollers(mb, EPOLLOUT | EPOLLWRNORM);
		return -EIOCBQUEUED;
	}
	if (msgbox_want_direct(mb, args)) {
		/* Room for a message up to twice the last one's size. */
		size_t len = min3(args->size, (size_t)mb->max_msg_size,
				  (size_t)(2 * mb->last_len));

		/* Pinning may sleep: pin, then look again. */
		spin_unlock(&mb->lock);
		msgbox_direct_pin(args->direct, len, true);
		goto again;
	}
	w.task = current;
	w.msg = NULL;
	w.args = args;
	w.id = 0;
	w.sync = false;
	w.kind = MSGBOX_W_RECV;
	w.state = MSGBOX_WAITING;
	w.complete = NULL;
	list_add_tail(&w.list, &mb->recv_waiters);
	mb->nr_recv_waiters++;
	/* A rendezvous send can now complete: tell pollers so. */
	ret = msgbox_wait(mb, &w, wait, EPOLLOUT | EPOLLWRNORM);
	if (ret == MSGBOX_RETRY)
		goto again;
	if (ret == 0)
		*msgp = w.msg;
	return ret;

out_unlock:
	spin_unlock(&mb->lock);
	return ret;
}

/**
 * msgbox_waiter_cancel() - take back a parked waiter nobody has claimed.
 * @mb: the mailbox it was parked on.
 * @w:  the waiter (struct msgbox_wait.park of an earlier msgbox_recv()).
 * @timed_out: its deadline passed (counted in the statistics).
 *
 * Exactly one of the waker and the canceller completes a parked waiter:
 * the one that unlinks it under msgbox.lock.
 *
 * Return: true if @w was still waiting and is now unlinked (the caller
 * completes it), false if a waker claimed it first (its @complete runs).
 */
bool msgbox_waiter_cancel(struct msgbox *mb, struct msgbox_waiter *w,
			  bool timed_out)
{
	bool waiting;

	spin_lock(&mb->lock);
	waiting = w->state == MSGBOX_WAITING;
	if (waiting) {
		msgbox_waiter_abort(mb, w);
		w->state = MSGBOX_CLAIMED;
		mb->stats.timed_out += timed_out;
	}
	spin_unlock(&mb->lock);
	return waiting;
}

/**
 * msgbox_requeue() - give back a message whose copy-out failed.
 * @mb:  the mailbox it was received from.
 * @msg: the message, owned by the caller until now.
 *
 * It returns to exactly its old place in the queue (its id keeps it there)
 * or to a receiver already waiting, so a fault in the receiver's buffer
 * loses nothing.  This may exceed the capacity by the messages being
 * requeued, one per receiver in flight: bounded, and gone as they are
 * received.  It was not delivered: its delivery count goes back, and a
 * request's caller may again restart on a signal (no server saw it).
 */
void msgbox_requeue(struct msgbox *mb, struct msgbox_message *msg)
{
	struct msgbox_wake_list wl;
	bool dead;

	if (msg->call)
		msgbox_call_untake(msg->call);
	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	msg->deliveries--;
	dead = mb->dead;
	if (!dead) {
		/* Not received after all (its latency sample stays). */
		mb->received--;
		if (!msgbox_hand_over(mb, msg, false, true, &wl))
			msgbox_enqueue(mb, msg);
	}
	spin_unlock(&mb->lock);
	msgbox_wake_up(&wl);
	if (dead) {
		msgbox_track_set(msg, MSGBOX_STATUS_DESTROYED);
		msgbox_message_free(msg);
	} else {
		msgbox_wake_pollers(mb, EPOLLIN | EPOLLRDNORM);
	}
}

/**
 * msgbox_kill() - refuse further messages, drop the queued ones, wake all.
 * @mb: the mailbox being destroyed; the registry has dropped its name.
 *
 * Every sleeper wakes with -EIDRM and every poller with EPOLLHUP.
 */
void msgbox_kill(struct msgbox *mb)
{
	struct msgbox_message *msg, *nmsg;
	struct msgbox_waiter *w, *next;
	struct msgbox_notifier notify;
	struct rb_root_cached dropped;
	struct msgbox_wake_list wl;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	WRITE_ONCE(mb->dead, true);
	/* No message will come: the registration ends unfired. */
	msgbox_notify_take(mb, &notify);
	/* Rendezvous senders get their queued messages back. */
	list_for_each_entry_safe(w, next, &mb->sync_waiters, list) {
		msgbox_unqueue(mb, w->msg);
		msgbox_track_set(w->msg, MSGBOX_STATUS_DESTROYED);
		w->msg->sync = NULL;
		waiter_claim(mb, &wl, w, -EIDRM);
	}
	mb->nr_sync_waiters = 0;
	dropped = mb->msgs;
	mb->msgs = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&mb->by_age);
	rbtree_postorder_for_each_entry_safe(msg, nmsg, &dropped.rb_root, node)
		msgbox_track_set(msg, MSGBOX_STATUS_DESTROYED);
	mb->nr_msgs = 0;
	mb->nr_bytes = 0;
	mb->nr_ttl = 0;
	list_for_each_entry_safe(w, next, &mb->recv_waiters, list)
		waiter_claim(mb, &wl, w, -EIDRM);
	list_for_each_entry_safe(w, next, &mb->send_waiters, list)
		waiter_claim(mb, &wl, w, -EIDRM);
	mb->nr_recv_waiters = 0;
	mb->nr_send_waiters = 0;
	spin_unlock(&mb->lock);

	msgbox_wake_up(&wl);
	/* This also wakes publishers waiting for room in its subscriptions. */
	msgbox_wake_pollers(mb, EPOLLHUP | EPOLLERR | EPOLLIN | EPOLLOUT);
	msgbox_free_tree(&dropped);
	msgbox_notifier_release(&notify);
	if (mb->topic)
		msgbox_topic_kill(mb);
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
		/* A sleeping sender's message can be taken directly. */
		if (mb->nr_msgs || mb->nr_send_waiters)
			mask |= EPOLLIN | EPOLLRDNORM;
		/*
		 * A rendezvous channel is writable while a receiver waits,
		 * or a ring would take the message.
		 */
		if ((list_empty(&mb->send_waiters) &&
		     msgbox_has_room(mb, mb->max_msg_size)) ||
		    (!mb->max_msgs && (mb->nr_recv_waiters ||
				       msgbox_ring_takes_any(mb))))
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	spin_unlock(&mb->lock);
	return mask;
}

/* The bucket upper bound below which @permille of the receives fell. */
static u64 msgbox_lat_percentile(const u64 *hist, u64 total, u64 permille)
{
	u64 want = div_u64(total * permille + 999, 1000);
	u64 seen = 0;
	int i;

	for (i = 0; i < MSGBOX_LAT_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= want)
			return i ? 1ULL << i : 1;
	}
	return 1ULL << (MSGBOX_LAT_BUCKETS - 1);
}

/* Monotonic to realtime nanoseconds, with the current offset; 0 stays 0. */
static u64 msgbox_mono_to_real(u64 mono)
{
	return mono ? ktime_to_ns(ktime_mono_to_real(ns_to_ktime(mono))) : 0;
}

/* Called under mb->lock; pids are translated into the caller's namespace. */
static void msgbox_fill_stats(const struct msgbox_stats *st,
			      struct msgbox_info *info)
{
	u64 total = 0;
	int i;

	info->hwm_msgs = st->hwm_msgs;
	info->hwm_bytes = st->hwm_bytes;
	info->timed_out = st->timed_out;
	info->rejected = st->rejected;
	info->ctime_ns = msgbox_mono_to_real(st->ctime_ns);
	info->last_send_ns = msgbox_mono_to_real(st->last_send_ns);
	info->last_recv_ns = msgbox_mono_to_real(st->last_recv_ns);
	rcu_read_lock();
	info->last_send_pid = st->last_send_pid ?
		pid_vnr(find_pid_ns(st->last_send_pid, &init_pid_ns)) : 0;
	info->last_recv_pid = st->last_recv_pid ?
		pid_vnr(find_pid_ns(st->last_recv_pid, &init_pid_ns)) : 0;
	rcu_read_unlock();
	for (i = 0; i < MSGBOX_LAT_BUCKETS; i++) {
		info->lat_hist[i] = st->lat_hist[i];
		total += st->lat_hist[i];
	}
	info->dropped = st->dropped;
	info->dead_lettered = st->dead_lettered;
	info->redelivered = st->redelivered;
	info->expired = st->expired;
	info->direct = st->direct;
	if (total) {
		info->lat_p50_ns = msgbox_lat_percentile(st->lat_hist, total, 500);
		info->lat_p90_ns = msgbox_lat_percentile(st->lat_hist, total, 900);
		info->lat_p99_ns = msgbox_lat_percentile(st->lat_hist, total, 990);
	}
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
	info->send_waiters = mb->nr_send_waiters + mb->nr_sync_waiters;
	info->max_msgs = mb->max_msgs;
	info->max_msg_size = mb->max_msg_size;
	info->max_bytes = mb->max_bytes;
	info->mode = mb->mode;
	info->in_flight = mb->inflight_msgs;
	info->max_deliveries = mb->max_deliveries;
	info->ack_timeout_ns = mb->ack_timeout_ns;
	/* Under the lock: the registration holds the only reference. */
	info->notify_pid = mb->notify.owner ? pid_vnr(mb->notify.owner) : 0;
	msgbox_fill_stats(&mb->stats, info);
	spin_unlock(&mb->lock);
	info->owner_uid = from_kuid_munged(current_user_ns(), mb->uid);
	info->owner_gid = from_kgid_munged(current_user_ns(), mb->gid);
	info->flags = mb->flags;
	info->subscribers = msgbox_topic_subscribers(mb);
	info->inbox_pid = mb->inbox_of ? pid_vnr(mb->inbox_of) : 0;
	strscpy(info->name, mb->name, sizeof(info->name));
	return ret;
}

/**
 * msgbox_set_attr() - MSGBOX_IOC_SETATTR, fields already validated.
 * @mb:  the mailbox.
 * @sa:  what to change.
 * @dlq: with MSGBOX_SETATTR_DEAD_LETTER, the new dead-letter mailbox (the
 *       caller's reference, which this takes over on success) or NULL.
 *
 * Raised limits may let sleeping senders in, so they are admitted here.
 * A dead-letter mailbox must be another one with none of its own: checked
 * under msgbox_setattr_lock, which serialises every change, so no chain of
 * dead-letter mailboxes can ever loop.
 *
 * Return: 0, -EIDRM, -EPERM, -EINVAL (dead-letter mailbox), -EDQUOT,
 * -ENOSPC.
 */
int msgbox_set_attr(struct msgbox *mb, const struct msgbox_setattr *sa,
		    struct msgbox *dlq)
{
	struct msgbox *old_dlq = NULL;
	static DEFINE_MUTEX(msgbox_setattr_lock);
	struct msgbox_wake_list wl;
	bool queued = false;
	u64 old = 0;
	int ret = 0;

	if (!msgbox_is_owner(mb))
		return -EPERM;
	/* Serialises quota changes and dead-letter links of SETATTRs. */
	mutex_lock(&msgbox_setattr_lock);
	if ((sa->mask & MSGBOX_SETATTR_DEAD_LETTER) && dlq &&
	    (dlq == mb || dlq->topic || READ_ONCE(dlq->dead_letter))) {
		ret = -EINVAL;
		goto out_mutex;
	}
	/*
	 * Dead letters keep their senders' stamped credentials: only the
	 * owner of the dead-letter mailbox may route other users' messages
	 * into it, never a sender who may merely write there.
	 */
	if ((sa->mask & MSGBOX_SETATTR_DEAD_LETTER) && dlq &&
	    !msgbox_is_owner(dlq)) {
		ret = -EPERM;
		goto out_mutex;
	}
	if (sa->mask & MSGBOX_SETATTR_LIMITS) {
		old = mb->charged_bytes;
		if (sa->max_bytes > old)
			ret = msgbox_charge(mb->uid, 0, sa->max_bytes - old);
		if (ret)
			goto out_mutex;
	}
	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	if (mb->dead) {
		ret = -EIDRM;
		goto out_unlock;
	}
	if (sa->mask & MSGBOX_SETATTR_MODE)
		WRITE_ONCE(mb->mode, sa->mode);
	if (sa->mask & MSGBOX_SETATTR_ACK_TIMEOUT)
		WRITE_ONCE(mb->ack_timeout_ns, sa->ack_timeout_ns);
	if (sa->mask & MSGBOX_SETATTR_DEAD_LETTER) {
		old_dlq = mb->dead_letter;
		WRITE_ONCE(mb->dead_letter, dlq);
		mb->max_deliveries = sa->max_deliveries;
		dlq = NULL;
	}
	if (sa->mask & MSGBOX_SETATTR_LIMITS) {
		WRITE_ONCE(mb->max_msgs, sa->max_msgs);
		WRITE_ONCE(mb->max_msg_size, sa->max_msg_size);
		WRITE_ONCE(mb->max_bytes, sa->max_bytes);
		queued = msgbox_admit_senders(mb, &wl);
	}
out_unlock:
	spin_unlock(&mb->lock);
	if (sa->mask & MSGBOX_SETATTR_LIMITS) {
		/* Keep the charge that matches the limit in force. */
		u64 keep = ret ? old : sa->max_bytes;

		if (sa->max_bytes > old && ret)
			msgbox_uncharge(mb->uid, 0, sa->max_bytes - old);
		else if (keep < old)
			msgbox_uncharge(mb->uid, 0, old - keep);
		mb->charged_bytes = keep;
	}
	msgbox_wake_up(&wl);
	/* New limits may leave room for senders that poll. */
	if (!ret && (sa->mask & MSGBOX_SETATTR_LIMITS))
		msgbox_wake_pollers(mb, EPOLLOUT | EPOLLWRNORM |
				    (queued ? EPOLLIN | EPOLLRDNORM : 0));
out_mutex:
	mutex_unlock(&msgbox_setattr_lock);
	if (old_dlq)
		msgbox_put(old_dlq);
	if (ret && dlq)
		msgbox_put(dlq);
	return ret;
}

/* Can @mb ever hold a message of @len bytes, whatever it receives? */
static bool msgbox_can_ever_hold(const struct msgbox *mb, size_t len)
{
	return len <= READ_ONCE(mb->max_msg_size) &&
	       len <= READ_ONCE(mb->max_bytes);
}

/**
 * msgbox_wait_room() - wait until @len bytes could be sent to @mb now.
 * @mb:   a subscription.
 * @len:  the payload length.
 * @wait: how to wait.
 *
 * Waits on the pollers' queue, which every receive wakes.  Only the
 * topic's (serialised) publishes add to a subscription, so room found here
 * stays until the caller delivers.
 *
 * Return: 0, -EIDRM, -EMSGSIZE (it never can), -EAGAIN, -ETIMEDOUT or
 * @wait->sig_err.
 */
int msgbox_wait_room(struct msgbox *mb, size_t len,
		     const struct msgbox_wait *wait)
{
	ktime_t expires = wait->deadline;
	DEFINE_WAIT(entry);
	DEFINE_WAIT(topic_entry);
	int ret;

	for (;;) {
		prepare_to_wait(&mb->poll_wq, &entry, TASK_INTERRUPTIBLE);
		/* Destroying the topic must wake a publisher waiting here. */
		if (mb->parent)
			prepare_to_wait(&mb->parent->poll_wq, &topic_entry,
					TASK_INTERRUPTIBLE);
		spin_lock(&mb->lock);
		ret = mb->dead ? -EIDRM : 0;
		/* Its limits, set apart from the topic's, may never allow it. */
		if (!ret && !msgbox_can_ever_hold(mb, len))
			ret = -EMSGSIZE;
		if (!ret && !msgbox_has_room(mb, len)) {
			ret = msgbox_may_wait(mb, wait);
			if (!ret)
				ret = 1;
		}
		spin_unlock(&mb->lock);
		if (ret == 1 && mb->parent && READ_ONCE(mb->parent->dead))
			ret = -EIDRM;
		if (ret <= 0)
			break;
		if (signal_pending(current)) {
			ret = wait->sig_err;
			break;
		}
		if (!msgbox_sleep(wait, &expires)) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	finish_wait(&mb->poll_wq, &entry);
	if (mb->parent)
		finish_wait(&mb->parent->poll_wq, &topic_entry);
	return ret;
}

/*
 * The oldest message queued in @mb, a DROP_OLDEST topic's subscription:
 * the lowest id, whatever its priority (msgbox.by_age).
 */
static struct msgbox_message *msgbox_oldest(struct msgbox *mb)
{
	lockdep_assert_held(&mb->lock);
	return list_first_entry_or_null(&mb->by_age, struct msgbox_message,
					age);
}

/**
 * msgbox_deliver() - deliver a publication to subscription @mb, never
 * sleeping.
 * @mb:     the subscription.
 * @msg:    the message; @mb owns it on success.
 * @policy: the topic's MSGBOX_CREATE_DROP_* policy (0: room was ensured).
 *
 * DROP_OLDEST drops the oldest queued messages until @msg fits, counting
 * them; DROP_NEW (or no room) leaves @msg to the caller, who counts it.
 *
 * Return: 0, or -EMSGSIZE (more than its limits allow), -EAGAIN or -EIDRM
 * if @msg was not delivered.
 */
int msgbox_deliver(struct msgbox *mb, struct msgbox_message *msg, u32 policy)
{
	struct rb_root_cached dropped = RB_ROOT_CACHED;
	struct msgbox_wait nowait = { .nonblock = true };
	struct msgbox_message *old;
	unsigned int nr = 0;
	u64 id;

	/* Its own limits, set apart from the topic's, may never allow it. */
	if (!msgbox_can_ever_hold(mb, msg->len))
		return -EMSGSIZE;
	if (policy & MSGBOX_CREATE_DROP_OLDEST) {
		spin_lock(&mb->lock);
		while (!mb->dead && !msgbox_has_room(mb, msg->len) &&
		       (old = msgbox_oldest(mb))) {
			msgbox_unqueue(mb, old);
			rb_add_cached(&old->node, &dropped, msgbox_msg_less);
			mb->stats.dropped++;
			nr++;
		}
		spin_unlock(&mb->lock);
		msgbox_free_tree(&dropped);
		if (nr && mb->parent)
			msgbox_count_drops(mb->parent, nr);
	}
	return msgbox_send(mb, msg, &nowait, false, &id);
}

/* @nr publications @mb dropped. */
void msgbox_count_drops(struct msgbox *mb, unsigned int nr)
{
	spin_lock(&mb->lock);
	mb->stats.dropped += nr;
	spin_unlock(&mb->lock);
}

/* A publication on topic @mb: its sequence number and statistics. */
void msgbox_note_publish(struct msgbox *mb, size_t len, u64 *idp)
{
	spin_lock(&mb->lock);
	*idp = mb->next_id++;
	msgbox_count_sent(mb, len, task_tgid_nr(current), ktime_get_ns());
	spin_unlock(&mb->lock);
}

/**
 * msgbox_settle() - end the flight of a message received in ack mode.
 * @mb:  the mailbox it was received from.
 * @msg: the message, owned by the caller until now.
 * @how: acknowledged, to be redelivered, or returned undelivered.
 *
 * Its room, held while in flight, is released.  A redelivered message
 * goes back to its old place in the queue (its id keeps it there) or to a
 * waiting receiver; once it was delivered max_deliveries times it goes to
 * the dead-letter mailbox, or is dropped if there is none.
 */
void msgbox_settle(struct msgbox *mb, struct msgbox_message *msg,
		   enum msgbox_settle_how how)
{
	struct msgbox *dlq = NULL;
	struct msgbox_wake_list wl;
	bool dead, drop = false, freed = false;
	__poll_t wake = 0;
	u64 id;

	msgbox_wake_list_init(&wl);
	spin_lock(&mb->lock);
	mb->inflight_msgs--;
	mb->inflight_bytes -= msg->len;
	dead = mb->dead;
	if (dead || how == MSGBOX_SETTLE_ACK) {
		msgbox_track_set(msg, dead ? MSGBOX_STATUS_DESTROYED :
					     MSGBOX_STATUS_ACKED);
		drop = true;
	} else {
		if (how == MSGBOX_SETTLE_RETURN)
			msg->deliveries--;
		else
			mb->stats.redelivered++;
		mb->received--;
		if (how == MSGBOX_SETTLE_REDELIVER && mb->max_deliveries &&
		    msg->deliveries >= mb->max_deliveries) {
			msgbox_track_set(msg, MSGBOX_STATUS_DEAD_LETTER);
			dlq = mb->dead_letter;
			if (dlq)
				msgbox_get(dlq);
			else
				mb->stats.dropped++;
			drop = true;
		} else {
			msgbox_track_set(msg, MSGBOX_STATUS_PENDING);
			if (msgbox_hand_over(mb, msg, false, true, &wl)) {
				/* Gone, unless an ack receiver holds it. */
				freed = true;
			} else {
				msgbox_enqueue(mb, msg);
				wake |= EPOLLIN | EPOLLRDNORM;
			}
		}
	}
	/* Room came back unless the message took it again. */
	if ((drop || freed) && !dead) {
		if (msgbox_admit_senders(mb, &wl))
			wake |= EPOLLIN | EPOLLRDNORM;
		wake |= EPOLLOUT | EPOLLWRNORM;
	}
	spin_unlock(&mb->lock);
	msgbox_wake_up(&wl);
	if (wake)
		msgbox_wake_pollers(mb, wake);
	if (!drop)
		return;
	if (dlq) {
		struct msgbox_wait nowait = { .nonblock = true };

		/* Its limits, as for any send: too large to go there, dropped. */
		if (msg->len > READ_ONCE(dlq->max_msg_size) ||
		    msgbox_send(dlq, msg, &nowait, false, &id)) {
			msgbox_count_drops(mb, 1);
		} else {
			spin_lock(&mb->lock);
			mb->stats.dead_lettered++;
			spin_unlock(&mb->lock);
			msg = NULL;
		}
		msgbox_put(dlq);
	}
	if (msg)
		msgbox_message_free(msg);
}
