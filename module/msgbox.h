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

#include <linux/atomic.h>
#include <linux/fault-inject-usercopy.h>
#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/msgbox.h>

struct eventfd_ctx;
struct file;
struct iov_iter;
struct ipc_namespace;
struct msgbox_waiter;
struct msgbox_pending_call;
struct msgbox_ring;
struct pid_namespace;
struct user_namespace;
struct msgbox_topic;
struct msgbox_track;
struct pid;

/* Module parameters (main.c): system-wide bounds on what a mailbox asks. */
extern unsigned int msgbox_max_mailboxes;
extern unsigned int msgbox_max_msgs;
extern unsigned int msgbox_max_msg_size;
extern unsigned long msgbox_max_mailbox_bytes;
extern unsigned long msgbox_max_total_bytes;
extern unsigned int msgbox_user_max_mailboxes;
extern unsigned long msgbox_user_max_bytes;
extern unsigned int msgbox_poll_ns;
extern atomic_long_t msgbox_poll_hits;
extern unsigned int msgbox_total_mailboxes;
extern unsigned long msgbox_total_bytes;

/**
 * struct msgbox_payload - the bytes of a message
 * @ref:  references: one per message header pointing here (a peeked copy
 *        shares the payload of the queued message).
 * @embedded: allocated in one object with the header of the message it
 *        was sent in (a small message, see msgbox_message_alloc_bare()):
 *        that object is freed with the last reference, not with its header.
 * @nr_pages: 0: the bytes are in @data; else a payload larger than a page,
 *        its bytes in the order-0 pages @pages[0..nr_pages), each full
 *        but the last (no vmalloc mapping to build and tear down).
 * @len:  length of the payload.
 * @data: the payload (@nr_pages 0).
 * @pages: the pages holding it (@nr_pages > 0).
 */
struct msgbox_payload {
	refcount_t ref;
	unsigned int embedded:1;
	unsigned int nr_pages:31;
	size_t len;
	union {
		DECLARE_FLEX_ARRAY(char, data);
		DECLARE_FLEX_ARRAY(struct page *, pages);
	};
};

/**
 * struct msgbox_message - one message
 * @node:      link in msgbox.msgs (under msgbox.lock) while queued.
 * @age:       link in msgbox.by_age while queued there, if it keeps one.
 * @next_done: once written into a receive ring, link in the wake list's
 *             chain of messages to free after the unlock.
 * @len:       payload length in bytes.
 * @id:        per-mailbox id, assigned when the mailbox accepts it.
 * @type:      message type (>= 1).
 * @priority:  0 to MSGBOX_PRIO_MAX.
 * @deliveries: times it was delivered (acknowledged delivery).
 * @send_time_ns: CLOCK_REALTIME at send.
 * @queued_ns: CLOCK_MONOTONIC when the mailbox accepted it (statistics).
 * @expires_ns: CLOCK_MONOTONIC after which it is discarded unseen, or 0.
 * @ack_deadline_ns: in flight: CLOCK_MONOTONIC after which it is
 *             redelivered, or 0 (under the holding file's inflight lock).
 * @tgid:      sender's thread group (pid reference, translated on receive).
 * @tid:       sender's thread (pid reference).
 * @uid:       sender's effective uid at send.
 * @gid:       sender's effective gid at send.
 * @sync:      while queued: the waiter of a rendezvous sender to complete
 *             when a receiver takes it (under msgbox.lock), else NULL.
 * @call:      a request sent by MSGBOX_IOC_CALL: the pending call (a
 *             reference), else NULL.
 * @track:     its delivery status, for a tracked message (a reference
 *             until the status is final), else NULL.
 * @payload:   the bytes; NULL for a message copied straight into its
 *             receiver's buffer (msgbox_send_direct()), which only that
 *             receiver ever holds.
 */
struct msgbox_message {
	union {
		struct rb_node node;
		struct msgbox_message *next_done;
	};
	struct list_head age;
	size_t len;
	u64 id;
	s64 type;
	u32 priority;
	u32 deliveries;
	u64 send_time_ns;
	u64 queued_ns;
	u64 expires_ns;
	u64 ack_deadline_ns;
	struct pid *tgid;
	struct pid *tid;
	kuid_t uid;
	kgid_t gid;
	struct msgbox_waiter *sync;
	struct msgbox_pending_call *call;
	struct msgbox_track *track;
	struct msgbox_payload *payload;
};

/* Receive selectors, decoded once from struct msgbox_msg.type and flags. */
enum msgbox_sel_mode {
	MSGBOX_SEL_ANY,		/* type 0 */
	MSGBOX_SEL_EQUAL,	/* type T > 0 */
	MSGBOX_SEL_NOTEQUAL,	/* type T > 0 with MSGBOX_MSG_EXCEPT */
	MSGBOX_SEL_LESSEQUAL,	/* type -T < 0: lowest type <= T */
};

/*
 * Messages of at least this many bytes go straight from the sender's
 * buffer into a sleeping receiver's when they can: one copy, no kernel
 * buffer (see msgbox_send_direct()).
 */
#define MSGBOX_DIRECT_MIN	(16 * 1024)
/* Payloads up to this cross word by word (msgbox_short_from_user()). */
#define MSGBOX_SHORT_COPY	256

/*
 * What copy_{from,to}_user() do before a copy of @len bytes (might_fault(),
 * fault injection); false if the copy is to fail.  Not their
 * hardened-usercopy check of the kernel side: every caller has bounded
 * the copy by that object's own size (msgbox_payload_holds(), a ring
 * record reserved for the bytes), stricter than the slab object or
 * vmalloc area check_object_size() looks up, and free.  That lookup cost
 * 624 of call/reply's 13.1k kernel instructions per round trip (four
 * copies), more than any function of the module.
 */
static inline bool msgbox_short_may_copy(size_t len)
{
	might_fault();
	return !WARN_ON_ONCE(len > MSGBOX_SHORT_COPY) && !should_fail_usercopy();
}

/*
 * The functions every message goes through (send, receive, call, reply,
 * read, write), packed into one section of their own: a message touches
 * a few pages of module text rather than most of them.  Each switch
 * between address spaces costs a TLB refill for every page touched after
 * it, and under emulation (TCG flushes its whole TLB on a CR3 write) that
 * was a measurable part of a round trip.
 */
#define __msgbox_hot	__section(".text.msgbox_hot")

/**
 * struct msgbox_direct - a user buffer pinned for a one-copy transfer
 * @ubuf:     the buffer's user address.
 * @pages:    its pinned pages, or NULL.
 * @nr_pages: length of @pages.
 * @len:      bytes of the buffer pinned, from @ubuf.
 * @tried:    pinning was attempted (it is not attempted twice).
 * @filled:   a sender copied a message into it: dirty its pages.
 *
 * Owned by one send or receive.  A receiver's is read by the sender that
 * claimed the receiver's waiter under msgbox.lock; the receiver waits for
 * that sender to publish the result before it releases the pages.
 */
struct msgbox_direct {
	void __user *ubuf;
	struct page **pages;
	unsigned int nr_pages;
	size_t len;
	bool tried;
	bool filled;
};

/**
 * struct msgbox_recv_args - what a receive asks for
 * @size:  the caller's buffer size.
 * @mode:  enum msgbox_sel_mode.
 * @type:  the type @mode compares with.
 * @from:  take only messages from this sender (a reference), or NULL.
 * @peek:  leave the message queued.
 * @ack:   acknowledged delivery: the message stays in flight, counted
 *         against the capacity, until settled (msgbox_settle()).
 * @trunc: take a message larger than @size.
 * @after_ring: only while the mailbox's receive ring is empty.
 * @direct: a receive into a user buffer, which may be pinned before it
 *         sleeps so that a large message is copied there directly, or
 *         NULL.
 */
struct msgbox_recv_args {
	size_t size;
	enum msgbox_sel_mode mode;
	s64 type;
	struct pid *from;
	bool peek;
	bool ack;
	bool trunc;
	bool after_ring;
	struct msgbox_direct *direct;
};

/*
 * waiter.state: WAITING, then CLAIMED under the lock by a waker, then the
 * result stored after the unlock: 0 (done), MSGBOX_RETRY (a peeking
 * receiver: look again) or a negative errno.
 */
#define MSGBOX_WAITING	1
#define MSGBOX_CLAIMED	2
#define MSGBOX_RETRY	3

/* What a waiter waits for, and so which list it is on. */
enum msgbox_waiter_kind {
	MSGBOX_W_RECV,		/* a message: msgbox.recv_waiters */
	MSGBOX_W_SEND,		/* room for its message: msgbox.send_waiters */
	MSGBOX_W_SYNC,		/* its queued message to be taken: sync_waiters */
};

/**
 * struct msgbox_waiter - a task sleeping in send or receive
 * @list:  link in the list of its @kind.
 * @kind:  enum msgbox_waiter_kind, changed only under msgbox.lock.
 * @sync:  sender: wait until a receiver takes the message (rendezvous).
 * @task:  the sleeping task; for a parked io_uring receive, its submitter
 *         (a reference held by the command).
 * @msg:   receiver: the message handed over; sender: the message to send.
 * @args:  receiver: what it asked for (buffer size, selector, peek...).
 * @id:    sender: the id its message was given (the message itself may be
 *         received and freed before the sender runs again).
 * @state: MSGBOX_WAITING, MSGBOX_CLAIMED or the result; see MSGBOX_BARRIER.
 * @result: the result a waker will store into @state.
 * @wake_next: link in a struct msgbox_wake_list once claimed.
 * @complete: NULL for a sleeping task.  Otherwise the waiter is a parked
 *         io_uring command (uring.c), not a sleeper: after the unlock the
 *         waker calls @complete instead of waking @task, and @complete
 *         owns the waiter from then on (see MSGBOX_BARRIER in mailbox.c).
 */
struct msgbox_waiter {
	struct list_head list;
	enum msgbox_waiter_kind kind;
	bool sync;
	struct task_struct *task;
	struct msgbox_message *msg;
	const struct msgbox_recv_args *args;
	u64 id;
	int state;
	int result;
	struct msgbox_waiter *wake_next;
	void (*complete)(struct msgbox_waiter *w);
};

/*
 * Waiters claimed under the lock, to be woken after it, in claim order; and
 * messages a receive ring took, to be freed after it (their ring's pollers
 * woken), all of one mailbox, @ring_mb.
 */
struct msgbox_wake_list {
	struct msgbox_waiter *first;
	struct msgbox_waiter **tail;
	struct msgbox_message *ring_done;
	struct msgbox *ring_mb;
};

#define MSGBOX_WAKE_BATCH_TASKS	16

/**
 * struct msgbox_wake_batch - wake-ups a batch holds back (mailbox.c)
 * @wl:       claimed waiters whose results are not published yet.
 * @mb:       the mailbox of the batch.
 * @mask:     poll events to announce.
 * @nr_tasks: entries in @tasks.
 * @tasks:    tasks of waiters whose results are published, still to be
 *            woken (a reference each).
 */
struct msgbox_wake_batch {
	struct msgbox_wake_list wl;
	struct msgbox *mb;
	__poll_t mask;
	unsigned int nr_tasks;
	struct task_struct *tasks[MSGBOX_WAKE_BATCH_TASKS];
};

/**
 * struct msgbox_wait - how an operation may wait
 * @nonblock: fail with -EAGAIN instead of sleeping.
 * @timed:    @deadline applies.
 * @poll:     busy-poll before sleeping (MSGBOX_MSG_POLL, msgbox_poll()).
 * @deadline: absolute time on @clock.
 * @clock:    CLOCK_MONOTONIC or CLOCK_REALTIME.
 * @sig_err:  the error for a signal: -ERESTARTSYS for untimed waits (so
 *            SA_RESTART restarts them), -EINTR for timed ones.
 * @park:     receive only: instead of sleeping, link this waiter (an
 *            io_uring command's, with @complete set) and return
 *            -EIOCBQUEUED; the waker completes it.
 * @batch:    within a batch: collect wake-ups there rather than wake now.
 */
struct msgbox_wait {
	bool nonblock;
	bool timed;
	bool poll;
	ktime_t deadline;
	clockid_t clock;
	int sig_err;
	struct msgbox_waiter *park;
	struct msgbox_wake_batch *batch;
};

u64 msgbox_poll_budget(const struct msgbox_wait *wait);

/*
 * Sleep, the task state already set, until woken or until @wait's
 * deadline (a copy of it in @expires).  Returns 0 once the deadline
 * passed, else -EINTR, as schedule_hrtimeout_range_clock(), which an
 * untimed wait skips: it would only call schedule().
 */
static inline int msgbox_sleep(const struct msgbox_wait *wait,
			       ktime_t *expires)
{
	if (!wait->timed) {
		schedule();
		return -EINTR;
	}
	return schedule_hrtimeout_range_clock(expires, 0, HRTIMER_MODE_ABS,
					      wait->clock);
}

/*
 * msgbox_poll() - busy-poll until @cond holds, before @wait sleeps.
 *
 * As KVM's halt polling: for at most msgbox_poll_ns and never past the
 * wait's deadline (msgbox_poll_budget()), and only while this CPU has
 * nothing else to run and no signal is pending (on a CPU shared with the
 * peer, polling would only delay it).  The caller then goes on to its
 * usual sleep, which checks the condition again: polling only delays a
 * sleep, and saves it, with its wake-up, when @cond comes true meanwhile
 * (a message, room or a reply from another CPU; counted in
 * msgbox_poll_hits).
 */
#define msgbox_poll(cond, wait)						\
do {									\
	u64 __budget = msgbox_poll_budget(wait);			\
	u64 __end = local_clock() + __budget;				\
									\
	while (__budget && single_task_running() && !need_resched() &&	\
	       !signal_pending(current) && local_clock() < __end) {	\
		cpu_relax();						\
		if (cond) {						\
			atomic_long_inc(&msgbox_poll_hits);		\
			break;						\
		}							\
	}								\
} while (0)

/**
 * struct msgbox_stats - a mailbox's statistics, under msgbox.lock
 * @hwm_msgs:      most messages queued at once.
 * @hwm_bytes:     most payload bytes queued at once.
 * @timed_out:     operations that ended in -ETIMEDOUT.
 * @rejected:      non-blocking sends refused for want of room.
 * @ctime_ns:      CLOCK_MONOTONIC at creation.
 * @last_send_ns:  CLOCK_MONOTONIC of the last accepted message.
 * @last_recv_ns:  CLOCK_MONOTONIC of the last receive.
 * @last_send_pid: global tgid of the last sender (translated on read).
 * @last_recv_pid: global tgid of the last receiver.
 * @dropped:       messages dropped by a topic's drop policy, or dead
 *                 letters with no dead-letter mailbox to go to.
 * @dead_lettered: messages moved to the dead-letter mailbox.
 * @redelivered:   messages put back for redelivery.
 * @expired:       messages discarded because their time to live ran out.
 * @direct:        messages copied straight into a receiver's buffer.
 * @lat_hist:      queueing latency histogram, see struct msgbox_info.
 */
struct msgbox_stats {
	u32 hwm_msgs;
	u64 hwm_bytes;
	u64 timed_out;
	u64 rejected;
	u64 ctime_ns;
	u64 last_send_ns;
	u64 last_recv_ns;
	pid_t last_send_pid;
	pid_t last_recv_pid;
	u64 dropped;
	u64 dead_lettered;
	u64 redelivered;
	u64 expired;
	u64 direct;
	u64 lat_hist[MSGBOX_LAT_BUCKETS];
};

/**
 * struct msgbox_notifier - a MSGBOX_IOC_NOTIFY registration (notify.c)
 * @owner: the registered process (a reference to its struct pid), or NULL
 *         when none is.
 * @efd:   the eventfd to signal (a reference), or NULL for
 *         MSGBOX_NOTIFY_NONE.
 */
struct msgbox_notifier {
	struct pid *owner;
	struct eventfd_ctx *efd;
};

/* Pages a mailbox keeps for reuse: one 100 KB message's worth, and more. */
#define MSGBOX_POOL_PAGES	32
/* Small message objects a mailbox keeps for reuse: a batch's worth. */
#define MSGBOX_SPARE_MSGS	32

/**
 * struct msgbox - one mailbox
 *
 * Locking: @lock protects every field from @msgs to @max_bytes.  It is
 * never held while sleeping or copying to or from userspace (but for the
 * bounded, non-faulting copy into a receive ring, see mailbox.c); tasks are
 * woken only after it is dropped, see mailbox.c for the protocol.  Limits
 * and @mode change only by MSGBOX_IOC_SETATTR, under @lock; the lockless
 * readers (a size check before allocating, a permission check at open) use
 * READ_ONCE and tolerate a value just replaced.  @uid, @gid, @flags and
 * @name are set before the mailbox is published and never change.
 * @hnode, @nr_files and @unlinked are protected by the registry mutex
 * (registry.c).
 *
 * @ref:          kref; see the top of this file.
 * @lock:         protects the queue, waiters and counters below.
 * @msgs:         queued messages in receive order (see mailbox.c).
 * @by_age:       a DROP_OLDEST topic's subscription only: the same queued
 *                messages by id (struct msgbox_message.age), oldest first,
 *                so that dropping the oldest finds it at once.
 * @recv_waiters: struct msgbox_waiter of sleeping receivers, in arrival order.
 * @send_waiters: struct msgbox_waiter of sleeping senders, in arrival order.
 * @sync_waiters: rendezvous senders whose message is queued, waiting for a
 *                receiver to take it.
 * @nr_msgs:      number of messages in @msgs.
 * @nr_bytes:     payload bytes in @msgs.
 * @nr_ttl:       messages in @msgs with a time to live.
 * @nr_recv_waiters: length of @recv_waiters.
 * @nr_send_waiters: length of @send_waiters.
 * @nr_sync_waiters: length of @sync_waiters.
 * @last_len:     length of the last accepted message: a hint whether a
 *                receive should pin its buffer (msgbox_want_direct()).
 * @next_id:      id of the next accepted message.
 * @sent:         messages accepted.
 * @received:     messages taken.
 * @inflight_msgs: messages received in ack mode, not yet settled; they
 *                count against the capacity.
 * @inflight_bytes: their payload bytes.
 * @dead:         set once by destroy; no message is accepted afterwards.
 * @notify:       the MSGBOX_IOC_NOTIFY registration, fired when a message is
 *                queued in the empty mailbox.
 * @stats:        counters for MSGBOX_IOC_INFO, kept under @lock (no atomics
 *                on the data path).
 * @max_msgs:     capacity in messages.
 * @max_msg_size: largest payload.
 * @max_bytes:    capacity in payload bytes.
 * @mode:         permission bits.
 * @max_deliveries: deliveries after which a message is dead-lettered (0:
 *                never); with @dead_letter, set under msgbox_setattr_lock
 *                and @lock, read under @lock.
 * @dead_letter:  the dead-letter mailbox (a reference), or NULL.
 * @ack_timeout_ns: ack deadline of messages received in ack mode (0:
 *                none); written under @lock, read with READ_ONCE.
 * @poll_wq:      poll/epoll waiters (has its own lock).
 * @uid:          owner.
 * @gid:          owner's group.
 * @flags:        MSGBOX_CREATE_* (ANON implies EPHEMERAL).
 * @charged_bytes: max_bytes charged to @uid (quota.c), changed only under
 *                msgbox_setattr_lock; 0 with !@charged.
 * @charged:      the mailbox is charged to @uid.
 * @ns:           the IPC namespace of its creator (a reference): names are
 *                looked up only there, see registry.c.
 * @topic:        publish/subscribe state of a TOPIC mailbox, else NULL.
 * @parent:       a subscription's topic (a reference), else NULL.
 * @sub_node:     a subscription's link in its topic's list (under the
 *                topic's mutex); empty once unsubscribed.
 * @ring:         the receive ring attached (ring.c), or NULL; set and
 *                cleared under @lock.
 * @ring_large:   @ring takes large records (MSGBOX_RING_LARGE): written
 *                with @ring, read unlocked before pinning a large send.
 * @gone_node:    a subscription's link in its topic's list of those whose
 *                last descriptor closed while the mutex was taken (see
 *                pubsub.c).
 * @subscribed:   the subscription was linked into its topic (set under
 *                the topic's mutex before its descriptor exists).
 * @filter:       a subscription's selector.
 * @inbox_of:     for a process's inbox, that process (a reference).
 * @nr_files:     open descriptors (for an inbox, only the receiving ones).
 * @unlinked:     its name was removed by MSGBOX_DESTROY_UNLINK: it is
 *                destroyed with its last descriptor.
 * @hnode:        link in the registry's name hash.
 * @name:         NUL-terminated name, empty if anonymous.
 * @pool_lock:    protects @nr_pool and @pool, and nests inside nothing.
 * @nr_pool:      pages in @pool.
 * @pool:         pages of large messages received from here, kept for the
 *                next ones sent here as a pipe keeps its spare page: no
 *                page allocation, and no zeroing of a page whose bytes
 *                are all overwritten (msgbox_pool_take()).  At most
 *                MSGBOX_POOL_PAGES, and never more than @max_bytes.
 * @spare:        the same for small messages: objects of received ones,
 *                their references dropped, reused whole by the next small
 *                messages sent here (no slab round trip, and only the
 *                header cleared).  Slots, NULL when empty, without a lock:
 *                an object is put in with cmpxchg() into an empty slot
 *                and taken out with xchg(), both fully ordered, so whoever
 *                takes it sees what was written before it was put in.
 *                Only the first @max_msgs slots are filled.  Replies to
 *                calls made here come from and return to @pool and @spare
 *                too.
 * @spare_call:   a freed struct msgbox_pending_call, for the next call
 *                made here (reply.c), or NULL; a slot as those of @spare.
 *
 * What @pool, @spare and @spare_call keep stays charged to the memory
 * cgroup of whoever allocated it (a sender, a server, a caller): bounded
 * as above, and freed with the mailbox.  Under KASAN nothing is kept
 * (msgbox_keeps_objects()).
 */
struct msgbox {
	struct kref ref;
	spinlock_t lock;		/* see the comment above */
	struct rb_root_cached msgs;
	struct list_head by_age;
	struct list_head recv_waiters;
	struct list_head send_waiters;
	struct list_head sync_waiters;
	u32 nr_msgs;
	u64 nr_bytes;
	u32 nr_ttl;
	u32 nr_recv_waiters;
	u32 nr_send_waiters;
	u32 nr_sync_waiters;
	u64 last_len;
	u64 next_id;
	u64 sent;
	u64 received;
	u32 inflight_msgs;
	u64 inflight_bytes;
	bool dead;
	struct msgbox_notifier notify;
	struct msgbox_stats stats;
	u32 max_msgs;
	u32 max_msg_size;
	u64 max_bytes;
	umode_t mode;
	u32 max_deliveries;
	struct msgbox *dead_letter;
	u64 ack_timeout_ns;

	wait_queue_head_t poll_wq;
	kuid_t uid;
	kgid_t gid;
	u32 flags;
	u64 charged_bytes;
	bool charged;

	struct ipc_namespace *ns;
	struct msgbox_topic *topic;
	struct msgbox *parent;
	struct list_head sub_node;
	struct llist_node gone_node;
	struct msgbox_ring *ring;
	bool ring_large;
	bool subscribed;
	struct msgbox_recv_args filter;
	struct pid *inbox_of;
	unsigned int nr_files;
	bool unlinked;
	struct hlist_node hnode;
	char name[MSGBOX_NAME_MAX];

	spinlock_t pool_lock;		/* protects the two below */
	unsigned int nr_pool;
	struct page *pool[MSGBOX_POOL_PAGES];
	struct msgbox_message *spare[MSGBOX_SPARE_MSGS];	/* lockless */
	struct msgbox_pending_call *spare_call;			/* lockless */
};

/* mailbox.c */
int msgbox_mailbox_init(void);
void msgbox_mailbox_exit(void);
struct msgbox *msgbox_alloc(const struct msgbox_create *args);
void msgbox_get(struct msgbox *mb);
void msgbox_put(struct msgbox *mb);
void msgbox_kill(struct msgbox *mb);

struct msgbox_message *msgbox_message_alloc(struct msgbox *mb, size_t len,
					    s64 type, u32 priority);
struct msgbox_message *msgbox_message_alloc_bare(struct msgbox *mb,
						 size_t len, s64 type,
						 u32 priority);
int __msgbox_message_add_payload(struct msgbox *mb, struct msgbox_message *msg);

/*
 * Give a bare header its (uninitialised) payload of msg->len bytes, for a
 * message to be sent to @mb (whose page pool it may use; NULL for none).
 * A small message has its payload, embedded, from the start.
 */
static inline int msgbox_message_add_payload(struct msgbox *mb,
					     struct msgbox_message *msg)
{
	return msg->payload ? 0 : __msgbox_message_add_payload(mb, msg);
}

int msgbox_short_from_user(void *dst, const void __user *src, size_t len);
int msgbox_short_to_user(void __user *dst, const void *src, size_t len);
int msgbox_payload_from_user(struct msgbox_payload *p,
			     const void __user *ubuf, size_t len);
int msgbox_payload_to_user(const struct msgbox_payload *p, void __user *ubuf,
			   size_t len);
size_t msgbox_payload_from_iter(struct msgbox_payload *p, size_t len,
				struct iov_iter *from);
size_t msgbox_payload_to_iter(const struct msgbox_payload *p, size_t len,
			      struct iov_iter *to);
void msgbox_message_recycle(struct msgbox *mb, struct msgbox_message *msg);
/*
 * Does a mailbox keep freed objects for reuse (struct msgbox.pool, .spare,
 * .spare_call)?  Not under KASAN, which cannot see a use after free of an
 * object kept (mempool poisons its elements through KASAN functions that
 * modules do not get): the debug kernel's runs then check every message's
 * and call's lifetime against the allocator.  The keeping itself is
 * arrays under a lock that nests inside nothing, tested on the stock
 * kernels.
 */
static inline bool msgbox_keeps_objects(void)
{
	return !IS_ENABLED(CONFIG_KASAN);
}

int msgbox_direct_pin(struct msgbox_direct *d, size_t len, bool write);
void __msgbox_direct_release(struct msgbox_direct *d);

/* Unpin what msgbox_direct_pin() pinned, dirtying what a sender filled. */
static inline void msgbox_direct_release(struct msgbox_direct *d)
{
	if (d->pages)
		__msgbox_direct_release(d);
}

int msgbox_send_direct(struct msgbox *mb, struct msgbox_message *msg,
		       const struct msgbox_direct *src,
		       const struct msgbox_wait *wait, u64 *idp);
void msgbox_message_free(struct msgbox_message *msg);
struct msgbox_message *msgbox_message_copy(const struct msgbox_message *msg);
void __msgbox_message_set_ttl(struct msgbox_message *msg, u64 ttl_ns);

/* Give @msg a time to live of @ttl_ns from now; 0: it never expires. */
static inline void msgbox_message_set_ttl(struct msgbox_message *msg,
					  u64 ttl_ns)
{
	if (ttl_ns)
		__msgbox_message_set_ttl(msg, ttl_ns);
	else
		msg->expires_ns = 0;
}

bool msgbox_selects(const struct msgbox_recv_args *args,
		    const struct msgbox_message *msg);
struct msgbox_message *msgbox_message_header_alloc(void);
void msgbox_message_header_free(struct msgbox_message *msg);

void msgbox_recv_args_init(struct msgbox_recv_args *args, s64 type, u32 flags);
int msgbox_send(struct msgbox *mb, struct msgbox_message *msg,
		const struct msgbox_wait *wait, bool sync, u64 *idp);
int msgbox_send_many(struct msgbox *mb, struct msgbox_message **msgs,
		     unsigned int n, const struct msgbox_wait *wait, u64 *ids);
int msgbox_recv_many(struct msgbox *mb, const struct msgbox_msg *m,
		     unsigned int n, const struct msgbox_wait *wait,
		     struct msgbox_message **msgs);
int msgbox_recv(struct msgbox *mb, const struct msgbox_recv_args *args,
		const struct msgbox_wait *wait, struct msgbox_message *copy,
		struct msgbox_message **msgp);
void msgbox_requeue(struct msgbox *mb, struct msgbox_message *msg);
void msgbox_wake_batch_init(struct msgbox_wake_batch *b, struct msgbox *mb);
void msgbox_wake_batch_publish(struct msgbox_wake_batch *b);
void msgbox_wake_batch_flush(struct msgbox_wake_batch *b);
bool msgbox_waiter_cancel(struct msgbox *mb, struct msgbox_waiter *w,
			  bool timed_out);
__poll_t msgbox_poll_mask(struct msgbox *mb);
int msgbox_fill_info(struct msgbox *mb, struct msgbox_info *info);

int msgbox_set_attr(struct msgbox *mb, const struct msgbox_setattr *sa,
		    struct msgbox *dlq);

/* How msgbox_settle() ends a message's flight. */
enum msgbox_settle_how {
	MSGBOX_SETTLE_ACK,	/* acknowledged: gone */
	MSGBOX_SETTLE_REDELIVER,/* NACK or receiver gone: deliver again */
	MSGBOX_SETTLE_RETURN,	/* never reached the receiver (copy fault) */
};

void msgbox_settle(struct msgbox *mb, struct msgbox_message *msg,
		   enum msgbox_settle_how how);
int msgbox_permission(struct msgbox *mb, u32 fd_flags);
bool msgbox_is_owner(struct msgbox *mb);
int msgbox_limits_check(u32 max_msgs, u32 max_msg_size, u64 max_bytes);

/* quota.c */
int msgbox_charge(kuid_t uid, unsigned int mailboxes, u64 bytes);
void msgbox_uncharge(kuid_t uid, unsigned int mailboxes, u64 bytes);

int msgbox_wait_room(struct msgbox *mb, size_t len,
		     const struct msgbox_wait *wait);
int msgbox_deliver(struct msgbox *mb, struct msgbox_message *msg, u32 policy);
void msgbox_count_drops(struct msgbox *mb, unsigned int nr);
void msgbox_note_publish(struct msgbox *mb, size_t len, u64 *idp);

/* pubsub.c */
int msgbox_topic_init(struct msgbox *mb);
void msgbox_topic_free(struct msgbox *mb);
void msgbox_topic_kill(struct msgbox *mb);
int msgbox_subscribe(struct msgbox *topic, struct msgbox *sub);
void msgbox_unsubscribe(struct msgbox *sub);
unsigned int msgbox_topic_subscribers(struct msgbox *mb);
int msgbox_publish(struct msgbox *mb, struct msgbox_message *msg,
		   const struct msgbox_wait *wait, u64 *idp);

/**
 * struct msgbox_track - the delivery status of one tracked message
 * @ref:    one for the message while its status is not final, one for the
 *          sender's file list, one for a waiting sender.
 * @node:   link in the sender's msgbox_file.tracked (under its lock).
 * @id:     the message's id.
 * @status: MSGBOX_STATUS_*, written under the message's mailbox lock.
 * @wq:     a WAIT_ACK sender sleeps here.
 */
struct msgbox_track {
	refcount_t ref;
	struct list_head node;
	u64 id;
	u32 status;
	wait_queue_head_t wq;
};

/* track.c */
struct msgbox_track *msgbox_track_alloc(void);
struct msgbox_track *msgbox_track_get(struct msgbox_track *t);
void msgbox_track_put(struct msgbox_track *t);
u32 msgbox_track_status(const struct msgbox_track *t);
bool msgbox_status_final(u32 status);
void __msgbox_track_set(struct msgbox_message *msg, u32 status);

/* Most messages are not tracked: no call into track.c for them. */
static inline void msgbox_track_set(struct msgbox_message *msg, u32 status)
{
	if (msg->track)
		__msgbox_track_set(msg, status);
}

int msgbox_track_wait(struct msgbox_track *t, const struct msgbox_wait *wait);

/* reply.c */
#define MSGBOX_CALL_PENDING	1
#define MSGBOX_CALL_ABANDONED	2

/**
 * struct msgbox_pending_call - a request waiting for its reply
 * @ref:        see reply.c.
 * @lock:       protects @state and @reply.
 * @state:      see reply.c.
 * @reply_size: largest reply the caller accepts.
 * @reply:      the reply once @state is 0, until the caller takes it.
 * @task:       the calling task, which sleeps in msgbox_call_wait(); not
 *              referenced (see reply.c).  Unused when @notify is set.
 * @notify:     an io_uring caller, which does not sleep: called once when
 *              the call settles (replied or failed), else NULL.  Set
 *              before the request is sent, never changed afterwards.
 * @notify_data: its argument.
 * @token:      its reply token once received: set by the receiving file
 *              before the call is published in its table, then constant.
 * @taken:      a receive took the request (msgbox_call_take()): the
 *              caller can no longer withdraw it; cleared if that receive
 *              gave it back (msgbox_call_untake()).  Under @lock.
 */
struct msgbox_pending_call {
	refcount_t ref;
	spinlock_t lock;		/* protects @state and @reply */
	int state;
	size_t reply_size;
	u64 token;
	bool taken;
	struct msgbox_message *reply;
	struct task_struct *task;
	void (*notify)(void *data);
	void *notify_data;
};

static inline struct msgbox_pending_call *
msgbox_call_get(struct msgbox_pending_call *call)
{
	refcount_inc(&call->ref);
	return call;
}

static inline size_t
msgbox_call_reply_size(const struct msgbox_pending_call *call)
{
	return call->reply_size;
}

/* The receiving file names @call by @token (see struct msgbox_file). */
static inline void msgbox_call_set_token(struct msgbox_pending_call *call,
					 u64 token)
{
	call->token = token;
}

static inline u64 msgbox_call_token(const struct msgbox_pending_call *call)
{
	return call->token;
}

/* The call @mb kept (struct msgbox.spare_call), or NULL. */
static inline struct msgbox_pending_call *
msgbox_spare_call_take(struct msgbox *mb)
{
	return READ_ONCE(mb->spare_call) ? xchg(&mb->spare_call, NULL) : NULL;
}

/* Keep a freed call for @mb's next; false if it keeps one already. */
static inline bool msgbox_spare_call_give(struct msgbox *mb,
					  struct msgbox_pending_call *call)
{
	return msgbox_keeps_objects() && !READ_ONCE(mb->spare_call) &&
	       !cmpxchg(&mb->spare_call, NULL, call);
}

struct msgbox_pending_call *msgbox_call_alloc(struct msgbox *mb,
					      size_t reply_size);
void msgbox_call_put_keep(struct msgbox_pending_call *call, struct msgbox *mb);

static inline void msgbox_call_put(struct msgbox_pending_call *call)
{
	msgbox_call_put_keep(call, NULL);
}

void msgbox_call_fail(struct msgbox_pending_call *call, int err);
bool msgbox_call_take(struct msgbox_pending_call *call);
void msgbox_call_untake(struct msgbox_pending_call *call);
int msgbox_call_complete(struct msgbox_pending_call *call,
			 struct msgbox_message *reply);
int msgbox_call_wait(struct msgbox_pending_call *call,
		     const struct msgbox_wait *wait,
		     struct msgbox_message **replyp);
int msgbox_call_end(struct msgbox_pending_call *call, int err, int unseen_err,
		    struct msgbox_message **replyp);
void msgbox_call_set_notify(struct msgbox_pending_call *call,
			    void (*notify)(void *data), void *data);
bool msgbox_call_abandon(struct msgbox_pending_call *call);

/**
 * struct msgbox_recv_req - one receive, decoded (file.c)
 * @m:     the caller's struct msgbox_msg; the result is built here.
 * @args:  what it selects.
 * @wait:  how it waits.
 * @copy:  for a peek, the header the peeked copy goes into, else NULL.
 * @uarg:  where the result goes.
 * @usize: the caller's size of struct msgbox_msg.
 * @direct: the caller's buffer, if pinned for a direct copy.
 */
struct msgbox_recv_req {
	struct msgbox_msg m;
	struct msgbox_recv_args args;
	struct msgbox_wait wait;
	struct msgbox_direct direct;
	struct msgbox_message *copy;
	void __user *uarg;
	size_t usize;
};

/* file.c */
int msgbox_recv_req_init(struct file *file, struct msgbox_recv_req *rq,
			 const struct msgbox_msg *mp, void __user *uarg,
			 size_t usize, bool nowait);
void msgbox_recv_req_release(struct msgbox_recv_req *rq);
int msgbox_recv_req_run(struct file *file, struct msgbox_recv_req *rq);
int msgbox_reply_recv_start(struct file *file, unsigned int cmd,
			    unsigned long arg, struct msgbox_recv_req *rq);
int msgbox_recv_req_deliver(struct file *file, struct msgbox_recv_req *rq,
			    struct msgbox_message *msg);
void msgbox_recv_req_return(struct file *file, struct msgbox_recv_req *rq,
			    struct msgbox_message *msg);
long msgbox_file_ioctl_nowait(struct file *file, unsigned int cmd,
			      unsigned long arg);
struct msgbox *msgbox_file_mailbox(struct file *file);
int msgbox_call_start(struct file *file, struct msgbox_call *c,
		      struct msgbox_wait *wait, void (*notify)(void *data),
		      void *data, struct msgbox_pending_call **callp);
int msgbox_call_finish(struct msgbox *mb, struct msgbox_call *c,
		       struct msgbox_message *reply, void __user *uarg,
		       size_t usize);

/* notify.c */
int msgbox_notify_set(struct msgbox *mb, struct eventfd_ctx *efd);
int msgbox_notify_clear(struct msgbox *mb);
void msgbox_notify_fire(struct msgbox *mb);
void msgbox_notify_take(struct msgbox *mb, struct msgbox_notifier *old);
void msgbox_notifier_release(struct msgbox_notifier *n);

/**
 * struct msgbox_ring - a receive ring (ring.c)
 * @mb:       its mailbox (a reference).
 * @args:     its selector.
 * @base:     the mapping, from __vmalloc() (see ring.c): header page,
 *            then data.
 * @head:     the consumer's position, in @base: read with
 *            smp_load_acquire() and checked, never trusted.
 * @tail_pub: the published tail, in @base.
 * @data:     the data area, @size bytes.
 * @size:     a power of two.
 * @tail:     the kernel's tail, under msgbox.lock: where the next record
 *            goes (the consumer's copy is only written, never read).
 * @taken:    messages written into it, under msgbox.lock.
 * @behind:   under msgbox.lock: a message the ring selects was queued
 *            since a refill last left none, so new ones must queue behind
 *            it rather than overtake it into the ring.
 * @large:    set up with MSGBOX_RING_LARGE: takes records larger than
 *            MSGBOX_RING_MSG_MAX from msgbox_ring_begin().
 * @busy:     a sender copies a record in after the unlock
 *            (msgbox_ring_begin()): set and cleared under msgbox.lock, and
 *            while set nothing else is written into the ring, so no
 *            record can be published behind one still being filled;
 *            cleared with smp_store_release() for ->release, which waits
 *            for it (wait_var_event()) before freeing the memory.
 * @pid_ns:   where sender pids are translated (a reference).
 * @user_ns:  where sender uids and gids are translated (a reference).
 * @tgid:     the global tgid of the process that set it up (statistics).
 * @uid:      the user the mapping is charged to (quota.c).
 * @charged:  bytes charged: the whole mapping.
 */
struct msgbox_ring {
	struct msgbox *mb;
	struct msgbox_recv_args args;
	void *base;
	u32 *head;
	u32 *tail_pub;
	void *data;
	u32 size;
	u32 tail;
	u64 taken;
	bool behind;
	bool busy;
	bool large;
	struct pid_namespace *pid_ns;
	struct user_namespace *user_ns;
	pid_t tgid;
	kuid_t uid;
	u64 charged;
};

/* ring.c */
struct file *msgbox_ring_file(struct msgbox *mb, struct msgbox_ring_setup *rs);
int msgbox_ring_attach(struct file *file);
bool msgbox_ring_put(struct msgbox_ring *r, const struct msgbox_message *msg);
void msgbox_ring_sender_current(const struct msgbox_ring *r,
				struct msgbox_ring_msg *from);
bool msgbox_ring_put_user(struct msgbox_ring *r, const struct msgbox_msg *m,
			  u64 id, const struct msgbox_ring_msg *from);
bool msgbox_ring_nonempty(const struct msgbox_ring *r);
bool msgbox_ring_readable(const struct msgbox_ring *r);
struct msgbox_ring_msg *msgbox_ring_begin(struct msgbox_ring *r, size_t len,
					  u32 *needp);
void msgbox_ring_label(struct msgbox_ring *r, struct msgbox_ring_msg *rec,
		       const struct msgbox_message *msg);
void msgbox_ring_end(struct msgbox_ring *r, u32 need);
bool msgbox_ring_holds(const struct msgbox_ring *r, size_t len);
bool msgbox_ring_has_room(const struct msgbox_ring *r, size_t len);
/* mailbox.c */
void msgbox_wake_pollers(struct msgbox *mb, __poll_t mask);
bool msgbox_ring_selected_queued(struct msgbox *mb, struct msgbox_ring *r);
__poll_t msgbox_ring_poll_mask(struct msgbox *mb, struct msgbox_ring *r);
long msgbox_ring_enter(struct msgbox *mb, struct msgbox_ring *r, bool *recv);
int msgbox_ring_send_user(struct msgbox *mb, const struct msgbox_msg *m,
			  unsigned int n, const struct msgbox_wait *wait,
			  u64 *ids);

/* uring.c */
struct io_uring_cmd;
int msgbox_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);
void msgbox_uring_exit(void);

/* registry.c */
int msgbox_name_check(const char *name);
int msgbox_register(struct msgbox *mb);
struct msgbox *msgbox_lookup_open(const char *name);
int msgbox_unregister(const char *name, bool unlink);
void msgbox_file_closed(struct msgbox *mb);
int msgbox_inbox_register(struct msgbox *mb);
struct msgbox *msgbox_inbox_lookup(pid_t nr);
int msgbox_registry_init(void);
void msgbox_registry_exit(void);
bool msgbox_visible(struct msgbox *mb);

/* file.c */
int msgbox_install_fd(struct msgbox *mb, u32 fd_flags, bool counted,
		      struct file **filep);
long msgbox_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int msgbox_copy_arg(void *karg, size_t ksize, size_t ver0, unsigned int cmd,
		    unsigned long arg);

#endif /* _MSGBOX_INTERNAL_H */
