// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: receive rings, mapped into the receiving process.
 *
 * A ring is one more receiver of its mailbox, one that never sleeps: when
 * msgbox_hand_over() finds no sleeping receiver for a message the ring
 * selects, it writes the message into the ring (msgbox_ring_put()) and the
 * message is received.  The consumer reads the records in its own address
 * space and moves the head; it enters the kernel only when the ring is
 * empty (MSGBOX_IOC_RING_ENTER, poll).  So a stream of small messages
 * costs the receiver no system call per message and the kernel no queueing
 * per message.  A plain send (MSGBOX_IOC_SEND, a batch's entries) that
 * finds the ring in line copies its payload from the sender's buffer
 * straight into the ring, under the mailbox lock with page faults
 * disabled (msgbox_ring_put_user()): one copy, no kernel buffer.  A large
 * one (MSGBOX_DIRECT_MIN bytes and more) is pinned in the sender's memory
 * instead, its record reserved under the lock and copied after the unlock
 * (msgbox_ring_begin(), msgbox_ring_end()): one copy too, with no lock
 * held however large it is.  Any other message reaches the ring from its
 * kernel copy (msgbox_ring_put()).
 *
 * Layout of the mapping (struct msgbox_ring_setup reports the offsets):
 * the header page holds the consumer's head at offset 0 and the kernel's
 * tail one cache line further, so the two sides do not share a line; the
 * data area follows, @size bytes.  The mapping is vmalloc memory of its
 * own, zeroed, charged to the memory cgroup of the process that set the
 * ring up (as well as to its owner's msgbox quota), and only ever written
 * by the kernel with records for this consumer.
 *
 * Trust: the consumer can write anything into the whole mapping.  The
 * kernel reads only the head, once per record it writes, and checks it
 * against its own tail (which it keeps in struct msgbox_ring, never
 * reading it back): a head that claims more room than there is, or is not
 * aligned, makes the ring refuse records, nothing more.
 *
 * Lifetime: the ring file holds the ring, the ring a reference on its
 * mailbox; a mapping holds the file.  So the memory is freed only after the
 * last munmap(2) and close(2), in ->release, which first unhooks the ring
 * from the mailbox under msgbox.lock (no record is written after that but
 * one still being copied in, which ->release waits for).
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/user_namespace.h>
#include <linux/vmalloc.h>
#include <linux/wait_bit.h>

#include "compat.h"
#include "msgbox.h"

/* Offsets in the mapping; the header page holds both positions. */
#define MSGBOX_RING_HEAD_OFF	0
#define MSGBOX_RING_TAIL_OFF	64

/* Bytes a record with a @len-byte payload takes in the ring. */
static u32 msgbox_ring_rec_size(size_t len)
{
	return ALIGN(sizeof(struct msgbox_ring_msg) + len, MSGBOX_RING_ALIGN);
}

/* Write a padding record of @size bytes at the tail and pass it. */
static void msgbox_ring_pad(struct msgbox_ring *r, u32 size)
{
	struct msgbox_ring_msg *rec = r->data + (r->tail & (r->size - 1));

	/* Only these two fit for sure: @size may be MSGBOX_RING_ALIGN. */
	rec->size = size;
	rec->flags = MSGBOX_RING_PAD;
	r->tail += size;
}

/*
 * Does @r take messages of @len bytes copied under the mailbox lock (from
 * a kernel copy, or a short one from the sender)?  MSGBOX_RING_MSG_MAX
 * bounds that copy.  A MSGBOX_RING_LARGE ring takes larger ones too, but
 * only from a sender's pinned memory, copied after the unlock
 * (msgbox_ring_begin()).
 */
bool msgbox_ring_holds(const struct msgbox_ring *r, size_t len)
{
	return len <= MSGBOX_RING_MSG_MAX &&
	       len <= r->size - sizeof(struct msgbox_ring_msg);
}

/*
 * Room in @r for a record with a @len-byte payload, at the tail: the
 * record's header, its size in *@needp, or NULL if there is no room now.  A record never wraps
 * around the end of the data area: one that would is preceded by a padding
 * record up to the end.  That padding is published even when the record
 * itself does not fit yet, so that a record larger than the room left
 * before the end still fits once the consumer passed it.  The caller
 * fills the record and commits it (msgbox_ring_commit()), or gives up
 * (restoring the tail it saw: an unpublished padding goes too): nothing is
 * visible until then.  Sizes and the tail are the kernel's own: nothing is
 * read back from the mapping but the head.
 */
/*
 * Bytes of @r the consumer has not passed yet, into *@usedp; false if its
 * head makes no sense (the consumer broke its own ring).
 */
static bool msgbox_ring_used(const struct msgbox_ring *r, u32 *usedp)
{
	u32 used;

	lockdep_assert_held(&r->mb->lock);
	/* Pairs with the consumer's release: its reads of the records are done. */
	used = r->tail - smp_load_acquire(r->head);
	*usedp = used;
	return used <= r->size && !(used & (MSGBOX_RING_ALIGN - 1));
}

static struct msgbox_ring_msg *msgbox_ring_reserve(struct msgbox_ring *r,
						   size_t len, u32 *needp)
{
	u32 used, need, off, pad = 0;
	struct msgbox_ring_msg *rec;

	if (len > r->size - sizeof(*rec) || !msgbox_ring_used(r, &used))
		return NULL;
	need = msgbox_ring_rec_size(len);
	off = r->tail & (r->size - 1);
	if (off + need > r->size) {
		pad = r->size - off;
		if (r->size - used < pad)
			return NULL;
		msgbox_ring_pad(r, pad);
		used += pad;
		off = 0;
	}
	if (r->size - used < need) {
		if (pad) {
			/* The padding, then the tail that lets it be passed. */
			smp_store_release(r->tail_pub, r->tail);
		}
		return NULL;
	}
	rec = r->data + off;
	rec->size = need;
	rec->flags = 0;
	rec->len = len;
	rec->__pad = 0;
	*needp = need;
	return rec;
}

/*
 * Would a record with a @len-byte payload fit in @r now (with the padding
 * msgbox_ring_reserve() would write before it)?
 */
bool msgbox_ring_has_room(const struct msgbox_ring *r, size_t len)
{
	u32 used, need, off;

	if (!msgbox_ring_holds(r, len) || !msgbox_ring_used(r, &used))
		return false;
	need = msgbox_ring_rec_size(len);
	off = r->tail & (r->size - 1);
	if (off + need > r->size)
		need += r->size - off;
	return r->size - used >= need;
}

/* Make the @need-byte record msgbox_ring_reserve() gave visible. */
static void msgbox_ring_commit(struct msgbox_ring *r, u32 need)
{
	r->tail += need;
	/* The record, then the tail that makes it visible. */
	smp_store_release(r->tail_pub, r->tail);
}

/*
 * A record's sender and send time, as @r's consumer sees them, into
 * @from: the fields msgbox_ring_fill() copies.
 */
static void msgbox_ring_sender(const struct msgbox_ring *r,
			       struct msgbox_ring_msg *from, struct pid *tgid,
			       struct pid *tid, kuid_t uid, kgid_t gid,
			       u64 time_ns)
{
	from->send_time_ns = time_ns;
	from->sender_pid = pid_nr_ns(tgid, r->pid_ns);
	from->sender_tid = pid_nr_ns(tid, r->pid_ns);
	from->sender_uid = from_kuid_munged(r->user_ns, uid);
	from->sender_gid = from_kgid_munged(r->user_ns, gid);
}

/**
 * msgbox_ring_sender_current() - the current task as the sender of the
 * records it writes into @r now.
 * @r:    the ring, attached to a mailbox whose lock is held.
 * @from: filled for msgbox_ring_put_user().
 *
 * Once per lock section: the records of one batch chunk share their
 * sender and their send time.
 */
void msgbox_ring_sender_current(const struct msgbox_ring *r,
				struct msgbox_ring_msg *from)
{
	msgbox_ring_sender(r, from, task_tgid(current), task_pid(current),
			   current_euid(), current_egid(), ktime_get_real_ns());
}

/* The metadata of reserved record @rec; @from gives sender and time. */
static void msgbox_ring_fill(struct msgbox_ring_msg *rec,
			     const struct msgbox_ring_msg *from, s64 type,
			     u32 priority, u64 id, u32 deliveries)
{
	rec->priority = priority;
	rec->type = type;
	rec->id = id;
	rec->send_time_ns = from->send_time_ns;
	rec->sender_pid = from->sender_pid;
	rec->sender_tid = from->sender_tid;
	rec->sender_uid = from->sender_uid;
	rec->sender_gid = from->sender_gid;
	rec->deliveries = deliveries;
}

/**
 * msgbox_ring_put() - write @msg into ring @r, if it has room.
 * @r:   the ring, attached to a mailbox whose lock is held.
 * @msg: an accepted message with a payload in kernel memory.
 *
 * Return: true if the record is written and published.
 */
bool msgbox_ring_put(struct msgbox_ring *r, const struct msgbox_message *msg)
{
	struct msgbox_ring_msg *rec, from = {};
	u32 need;

	if (!msg->payload || !msgbox_ring_holds(r, msg->len))
		return false;
	rec = msgbox_ring_reserve(r, msg->len, &need);
	if (!rec)
		return false;
	msgbox_ring_sender(r, &from, msg->tgid, msg->tid, msg->uid, msg->gid,
			   msg->send_time_ns);
	/* Counted by msgbox_took_at() once the record is in. */
	msgbox_ring_fill(rec, &from, msg->type, msg->priority, msg->id,
			 msg->deliveries + 1);
	if (!msg->payload->nr_pages) {
		memcpy(rec + 1, msg->payload->data, msg->len);
	} else {
		struct kvec kv = { .iov_base = rec + 1, .iov_len = msg->len };
		struct iov_iter it;

		iov_iter_kvec(&it, ITER_DEST, &kv, 1, msg->len);
		msgbox_payload_to_iter(msg->payload, msg->len, &it);
	}
	msgbox_ring_commit(r, need);
	return true;
}

/*
 * Copy @len bytes from user buffer @src to @dst in the ring with page
 * faults disabled (the mailbox lock is held): 0, or nonzero if the bytes
 * are not all there.
 */
static int msgbox_ring_copy_in(void *dst, const void __user *src, size_t len)
{
	int ret;

	pagefault_disable();
	if (len <= MSGBOX_SHORT_COPY)
		ret = msgbox_short_from_user(dst, src, len);
	else	/* The inatomic copy checks nothing: this is a user range. */
		ret = !access_ok(src, len) ||
		      __copy_from_user_inatomic(dst, src, len);
	pagefault_enable();
	return ret;
}

/**
 * msgbox_ring_put_user() - write a message straight from the sender's
 * memory into ring @r, if it has room and the bytes are there.
 * @r:    the ring, attached to a mailbox whose lock is held.
 * @m:    the message as the current task sends it (data, len, type,
 *        priority), checked, less than MSGBOX_DIRECT_MIN bytes.
 * @id:   the id it is to have.
 * @from: its sender and time (msgbox_ring_sender_current()).
 *
 * One copy, from the sender's buffer into the ring, with no kernel
 * buffer in between.  The lock is held, so the copy cannot sleep: a
 * payload not in memory (or not readable) fails it, and the caller sends
 * the message the usual way, which faults it in (or fails with EFAULT).
 * A failed copy leaves nothing behind: what it wrote is cleared, and the
 * tail is as it was.
 *
 * Return: true if the record is written and published.
 */
bool msgbox_ring_put_user(struct msgbox_ring *r, const struct msgbox_msg *m,
			  u64 id, const struct msgbox_ring_msg *from)
{
	struct msgbox_ring_msg *rec;
	u32 tail = r->tail;
	u32 need;

	if (WARN_ON_ONCE(m->len >= MSGBOX_DIRECT_MIN) ||
	    !msgbox_ring_holds(r, m->len))
		return false;
	rec = msgbox_ring_reserve(r, m->len, &need);
	if (!rec)
		return false;
	if (msgbox_ring_copy_in(rec + 1, u64_to_user_ptr(m->data), m->len)) {
		memset(rec, 0, sizeof(*rec) + m->len);
		r->tail = tail;
		return false;
	}
	msgbox_ring_fill(rec, from, m->type, m->priority, id, 1);
	msgbox_ring_commit(r, need);
	return true;
}

/*
 * Does @r hold records the consumer has not passed yet, or one being
 * copied in (which comes before anything still queued)?
 */
bool msgbox_ring_nonempty(const struct msgbox_ring *r)
{
	return msgbox_ring_readable(r) || READ_ONCE(r->busy);
}

/* Does @r hold published records the consumer has not passed yet? */
bool msgbox_ring_readable(const struct msgbox_ring *r)
{
	return READ_ONCE(*r->head) != READ_ONCE(r->tail);
}

/**
 * msgbox_ring_begin() - reserve a record to be filled after the unlock.
 * @r:     the ring, attached to a mailbox whose lock is held, and not busy.
 * @len:   the payload's length: any that fits in the ring.
 * @needp: the record's size, for msgbox_ring_end().
 *
 * For a large payload (MSGBOX_DIRECT_MIN bytes and more, into a ring set
 * up with MSGBOX_RING_LARGE), pinned in the sender's memory so that its
 * copy cannot fail.  The ring is busy until msgbox_ring_end(): nothing
 * else is written into it meanwhile (msgbox_ring_in_line() says no, and a
 * refill waits), so the record is the last one and is published alone,
 * and ->release waits for it.  A padding written before the record is
 * published now, so that the tail the kernel keeps is the published one
 * while the ring is busy.
 *
 * Return: the record, header to be completed with msgbox_ring_label(), or
 * NULL if there is no room now (nothing changed but maybe a padding).
 */
struct msgbox_ring_msg *msgbox_ring_begin(struct msgbox_ring *r, size_t len,
					  u32 *needp)
{
	u32 tail = r->tail;
	struct msgbox_ring_msg *rec;

	lockdep_assert_held(&r->mb->lock);
	if (WARN_ON_ONCE(r->busy))
		return NULL;
	rec = msgbox_ring_reserve(r, len, needp);
	if (!rec)
		return NULL;
	if (r->tail != tail) {
		/* The padding, then the tail that lets it be passed. */
		smp_store_release(r->tail_pub, r->tail);
	}
	/* ->release reads it unlocked. */
	WRITE_ONCE(r->busy, true);
	return rec;
}

/**
 * msgbox_ring_label() - the header of a record from msgbox_ring_begin().
 * @r:   the ring, whose mailbox's lock is held.
 * @rec: the record.
 * @msg: its message, accepted (it has its id), not yet taken.
 */
void msgbox_ring_label(struct msgbox_ring *r, struct msgbox_ring_msg *rec,
		       const struct msgbox_message *msg)
{
	struct msgbox_ring_msg from = {};

	msgbox_ring_sender(r, &from, msg->tgid, msg->tid, msg->uid, msg->gid,
			   msg->send_time_ns);
	msgbox_ring_fill(rec, &from, msg->type, msg->priority, msg->id,
			 msg->deliveries + 1);
}

/**
 * msgbox_ring_end() - publish the record msgbox_ring_begin() reserved,
 * now filled, and end the busy time.
 * @r:    the ring, whose mailbox's lock is held.
 * @need: the record's size.
 *
 * The caller wakes ->release with wake_up_var(&r->busy) after the unlock
 * and a full barrier, and touches @r no more: once it is not busy, a
 * closed ring may be freed (wake_up_var() only hashes the address).
 */
void msgbox_ring_end(struct msgbox_ring *r, u32 need)
{
	lockdep_assert_held(&r->mb->lock);
	msgbox_ring_commit(r, need);
	/* The record's bytes, then the flag ->release frees them after. */
	smp_store_release(&r->busy, false);
}

static __poll_t msgbox_ring_poll(struct file *file, poll_table *wait)
{
	struct msgbox_ring *r = file->private_data;

	poll_wait(file, &r->mb->poll_wq, wait);
	/* As msgbox_poll_mask(): see the poll paragraph in mailbox.c. */
	return msgbox_ring_poll_mask(r->mb, r);
}

static long msgbox_ring_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct msgbox_ring *r = file->private_data;
	bool recv;
	long n;

	if (cmd != MSGBOX_IOC_RING_ENTER)
		return -ENOTTY;
	n = msgbox_ring_enter(r->mb, r, &recv);
	/* Moved or not, the messages are in the ring: the count is what is lost. */
	if (n >= 0 && arg &&
	    put_user(recv ? MSGBOX_RING_RECV : 0, (u32 __user *)arg))
		return -EFAULT;
	return n;
}

static int msgbox_ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct msgbox_ring *r = file->private_data;
	unsigned long off;
	int ret;

	/* A private copy would keep the consumer's head from the kernel. */
	if (!(vma->vm_flags & VM_SHARED) || vma->vm_pgoff ||
	    vma_pages(vma) > r->charged >> PAGE_SHIFT)
		return -EINVAL;
	/*
	 * What remap_vmalloc_range() does, which takes only vmalloc_user()
	 * memory, whose pages no memory cgroup is charged for.
	 */
	for (off = 0; off < vma->vm_end - vma->vm_start; off += PAGE_SIZE) {
		ret = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page(r->base + off));
		if (ret)
			return ret;
	}
	msgbox_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

static int msgbox_ring_release(struct inode *inode, struct file *file)
{
	struct msgbox_ring *r = file->private_data;
	struct msgbox *mb = r->mb;

	spin_lock(&mb->lock);
	if (mb->ring == r) {
		mb->ring = NULL;
		WRITE_ONCE(mb->ring_large, false);
	}
	spin_unlock(&mb->lock);
	/* A sender still copying a record in: the memory is its until then. */
	wait_var_event(&r->busy, !smp_load_acquire(&r->busy));
	vfree(r->base);
	msgbox_uncharge(r->uid, 0, r->charged);
	put_pid_ns(r->pid_ns);
	put_user_ns(r->user_ns);
	msgbox_put(mb);
	kfree(r);
	return 0;
}

static void msgbox_ring_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct msgbox_ring *r = file->private_data;

	seq_printf(m, "msgbox-ring-size:\t%u\n", r->size);
	seq_printf(m, "msgbox-ring-head:\t%u\n", READ_ONCE(*r->head));
	seq_printf(m, "msgbox-ring-tail:\t%u\n", READ_ONCE(r->tail));
}

static const struct file_operations msgbox_ring_fops = {
	.owner		= THIS_MODULE,
	.poll		= msgbox_ring_poll,
	.unlocked_ioctl	= msgbox_ring_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= msgbox_ring_mmap,
	.release	= msgbox_ring_release,
	.show_fdinfo	= msgbox_ring_show_fdinfo,
};

static int msgbox_ring_check(const struct msgbox_ring_setup *rs)
{
	if (!is_power_of_2(rs->size) || rs->size < PAGE_SIZE ||
	    rs->size > MSGBOX_RING_SIZE_MAX ||
	    rs->size > READ_ONCE(msgbox_max_mailbox_bytes))
		return -EINVAL;
	if ((rs->flags & ~(MSGBOX_MSG_EXCEPT | MSGBOX_RING_LARGE)) ||
	    ((rs->flags & MSGBOX_MSG_EXCEPT) && rs->type <= 0))
		return -EINVAL;
	if ((rs->fd_flags & ~MSGBOX_FD_CLOEXEC) || rs->mmap_size ||
	    rs->head_offset || rs->tail_offset || rs->data_offset ||
	    rs->__reserved[0] || rs->__reserved[1])
		return -EINVAL;
	return 0;
}

/**
 * msgbox_ring_file() - a new ring and its file, not attached yet.
 * @mb: the mailbox (the caller checked it may receive from it).
 * @rs: the request, checked here; its out fields are filled in.
 *
 * The caller tells userspace where things are, then attaches the ring
 * (msgbox_ring_attach()) before installing the file: once attached, the
 * ring receives messages, which nobody must be unable to read.  fput() of
 * the file undoes everything.
 *
 * Return: the file, or an ERR_PTR().
 */
struct file *msgbox_ring_file(struct msgbox *mb, struct msgbox_ring_setup *rs)
{
	struct msgbox_ring *r;
	struct file *file;
	int ret;

	if (mb->topic)
		return ERR_PTR(-EOPNOTSUPP);
	ret = msgbox_ring_check(rs);
	if (ret)
		return ERR_PTR(ret);
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->size = rs->size;
	r->charged = PAGE_SIZE + (u64)rs->size;
	r->uid = current_euid();
	ret = msgbox_charge(r->uid, 0, r->charged);
	if (ret)
		goto out_free;
	/*
	 * Page-aligned, where vmalloc_user() aligns to SHMLBA: the same on
	 * the architectures without aliasing data caches that msgbox is
	 * built for (amd64, arm64).  A ring beyond what the setter's memory
	 * cgroup has room for fails with ENOMEM rather than invoke the OOM
	 * killer on the cgroup, as a BPF map's area does.
	 */
	r->base = __vmalloc(r->charged, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
			    __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!r->base) {
		ret = -ENOMEM;
		goto out_uncharge;
	}
	r->head = r->base + MSGBOX_RING_HEAD_OFF;
	r->tail_pub = r->base + MSGBOX_RING_TAIL_OFF;
	r->data = r->base + PAGE_SIZE;
	msgbox_recv_args_init(&r->args, rs->type, rs->flags & MSGBOX_MSG_EXCEPT);
	r->large = rs->flags & MSGBOX_RING_LARGE;
	r->pid_ns = get_pid_ns(task_active_pid_ns(current));
	r->user_ns = get_user_ns(current_user_ns());
	r->tgid = task_tgid_nr(current);
	msgbox_get(mb);
	r->mb = mb;
	file = anon_inode_getfile("[msgbox-ring]", &msgbox_ring_fops, r,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_put;
	}
	/*
	 * It has no read or write to block in.  Said so, io_uring fails a
	 * READ or WRITE on it at once; otherwise it punts them for a
	 * blocking retry through poll, and 6.1 re-arms that poll in task
	 * work for as long as the ring is readable: a CPU spun in the
	 * submitter's task work, where SIGKILL cannot reach it.
	 */
	file->f_mode |= FMODE_NOWAIT;
	/* From here on ->release frees @r. */
	rs->mmap_size = r->charged;
	rs->head_offset = MSGBOX_RING_HEAD_OFF;
	rs->tail_offset = MSGBOX_RING_TAIL_OFF;
	rs->data_offset = PAGE_SIZE;
	return file;

out_put:
	msgbox_put(mb);
	put_pid_ns(r->pid_ns);
	put_user_ns(r->user_ns);
	vfree(r->base);
out_uncharge:
	msgbox_uncharge(r->uid, 0, r->charged);
out_free:
	kfree(r);
	return ERR_PTR(ret);
}

/* Hook the ring of @file into its mailbox: 0, -EBUSY or -EIDRM. */
int msgbox_ring_attach(struct file *file)
{
	struct msgbox_ring *r = file->private_data;
	struct msgbox *mb = r->mb;
	int ret = 0;

	spin_lock(&mb->lock);
	if (mb->dead) {
		ret = -EIDRM;
	} else if (mb->ring) {
		ret = -EBUSY;
	} else {
		mb->ring = r;
		WRITE_ONCE(mb->ring_large, r->large);
	}
	/* What is queued already goes in first (MSGBOX_IOC_RING_ENTER). */
	r->behind = msgbox_ring_selected_queued(mb, r);
	spin_unlock(&mb->lock);
	/* A receiver at last: a rendezvous channel may be writable now. */
	if (!ret && !READ_ONCE(mb->max_msgs))
		msgbox_wake_pollers(mb, EPOLLOUT | EPOLLWRNORM);
	return ret;
}
