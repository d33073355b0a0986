// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: io_uring commands on a mailbox file (IORING_OP_URING_CMD).
 *
 * A command is the ioctl of the same number, run without sleeping (see
 * struct msgbox_uring_cmd).  Everything but a receive completes inline.  A
 * receive that finds nothing is parked, as ublk parks its fetch commands:
 * a struct msgbox_ucmd joins the mailbox's receivers with an embedded
 * waiter whose @complete hook replaces the wake-up, so a sender hands a
 * message to a parked command exactly as to a sleeping task.
 *
 * Life of a parked receive, and who completes it (exactly one path):
 *
 *   issue:   msgbox_ucmd_recv() allocates the msgbox_ucmd, links it on
 *            msgbox_ucmd_list, and parks it in msgbox_recv().
 *   claim:   whoever unlinks the waiter under msgbox.lock owns it: a sender
 *            or destroy (waiter_claim(), then ->complete after the unlock),
 *            or a canceller (msgbox_waiter_cancel()).  A claimed command
 *            is only ever finished from task work, in its submitter:
 *            msgbox_ucmd_tw() copies the message out there (only there is
 *            the receiver's memory at hand), or gives it back to the
 *            mailbox if the task is gone, then calls io_uring_cmd_done().
 *   cancel:  6.12: io_uring calls ->uring_cmd with IO_URING_F_CANCEL for a
 *            command marked cancelable, under its ring lock, and the
 *            command is finished there if still unclaimed.  6.1 has no such
 *            call: a monitor work scans msgbox_ucmd_list while it is not
 *            empty and cancels the commands of dying rings and tasks.
 *            MSGBOX_UCMD_CANCEL cancels by tag on both.
 *
 * The command holds its file (io_uring's reference), so the mailbox file
 * and the module stay while it is parked; destroy completes it (-EIDRM).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "msgbox.h"

/**
 * struct msgbox_ucmd - a command that may be parked: a receive or a call
 * @cmd:     the io_uring command.
 * @file:    the mailbox file it was issued on (pinned by io_uring).
 * @mb:      its mailbox (the file's reference).
 * @tag:     struct msgbox_uring_cmd.tag.
 * @is_call: a MSGBOX_IOC_CALL waiting for its reply, else a receive.
 * @node:    link in msgbox_ucmd_list, from parking until finished.
 * @kick:    link in a canceller's private list, once it claimed the command.
 * @w:       receive: its waiter on the mailbox (w.task: the submitter, a
 *           reference; w.result: the outcome once claimed).
 * @timeout: a receive or call with a deadline: ends it with -ETIMEDOUT
 *           (jiffy resolution, after the deadline, never before).
 * @rq:      receive: the receive.
 * @call:    call: the pending call (the caller's reference).
 * @cwait:   call: how it waits for the reply (its deadline).
 * @c:       call: the caller's struct msgbox_call.
 * @uarg:    call: where @c goes back to.
 * @usize:   call: the caller's size of it.
 * @cancel_err: call: a canceller abandoned it, with this error (the task
 *           work reports it).
 * @armed:   call: listed, so cancellable and notifiable (under
 *           msgbox_ucmd_lock).
 * @settled_early: call: it settled before it was armed; arming finishes it.
 */
struct msgbox_ucmd {
	struct io_uring_cmd *cmd;
	struct file *file;
	struct msgbox *mb;
	u32 tag;
	bool is_call;
	struct list_head node;
	struct list_head kick;
	struct delayed_work timeout;
	union {
		struct {
			struct msgbox_waiter w;
			struct msgbox_recv_req rq;
		};
		struct {
			struct msgbox_pending_call *call;
			struct msgbox_wait cwait;
			struct msgbox_call c;
			void __user *uarg;
			size_t usize;
			int cancel_err;
			bool armed;
			bool settled_early;
		};
	};
};

/*
 * Every parked command not yet finished, for cancellation by tag and the
 * 6.1 monitor.  msgbox_ucmd_lock nests outside msgbox.lock and call->lock.
 */
static LIST_HEAD(msgbox_ucmd_list);
static DEFINE_SPINLOCK(msgbox_ucmd_lock);

static void msgbox_ucmd_monitor(struct work_struct *work);
static DECLARE_DELAYED_WORK(msgbox_ucmd_monitor_work, msgbox_ucmd_monitor);
#define MSGBOX_UCMD_MONITOR_PERIOD	(HZ / 10)

/* How the command waits: its deadline, if any. */
static const struct msgbox_wait *msgbox_ucmd_wait(const struct msgbox_ucmd *u)
{
	return u->is_call ? &u->cwait : &u->rq.wait;
}

/* Post the result and free everything; @u must be claimed or unparked. */
static void msgbox_ucmd_finish(struct msgbox_ucmd *u, int res,
			       unsigned int issue_flags)
{
	spin_lock(&msgbox_ucmd_lock);
	list_del(&u->node);
	spin_unlock(&msgbox_ucmd_lock);
	/* Its timeout work may still look at it: wait for that. */
	if (msgbox_ucmd_wait(u)->timed)
		cancel_delayed_work_sync(&u->timeout);
	if (u->is_call) {
		msgbox_call_put_keep(u->call, u->mb);
	} else {
		msgbox_recv_req_release(&u->rq);
		put_task_struct(u->w.task);
	}
	msgbox_iou_done(u->cmd, res, issue_flags);
	kfree(u);
}

/* Jiffies from now until just past a timed command's deadline. */
static unsigned long msgbox_ucmd_delay(const struct msgbox_ucmd *u)
{
	const struct msgbox_wait *wait = msgbox_ucmd_wait(u);
	ktime_t now = wait->clock == CLOCK_REALTIME ? ktime_get_real() :
						      ktime_get();
	s64 left = ktime_to_ns(ktime_sub(wait->deadline, now));

	return left > 0 ? nsecs_to_jiffies(left) + 1 : 0;
}

/* A delivered receive reports the message's length. */
static int msgbox_ucmd_result(const struct msgbox_ucmd *u)
{
	return min_t(u64, u->rq.m.len, INT_MAX);
}

/* Receive now, or park; -EIOCBQUEUED if parked. */
static int msgbox_ucmd_try(struct msgbox_ucmd *u)
{
	int ret = msgbox_recv_req_run(u->file, &u->rq);

	return ret ? ret : msgbox_ucmd_result(u);
}

/*
 * Can the result still reach anyone?  Not if the task is gone (no memory
 * to copy to) nor if the ring is closing (the completion would be lost).
 */
static bool msgbox_ucmd_gone(struct msgbox_ucmd *u)
{
	return msgbox_iou_task_dead() || msgbox_iou_ring_dying(u->cmd);
}

/* Task work in the submitter: finish a settled or cancelled call. */
static void msgbox_ucall_tw(struct msgbox_ucmd *u, unsigned int issue_flags)
{
	struct msgbox_message *reply;
	int ret = u->cancel_err;

	if (!ret) {
		ret = msgbox_call_end(u->call, -ECANCELED, -ECANCELED, &reply);
		if (!ret && msgbox_ucmd_gone(u)) {
			msgbox_message_free(reply);
			ret = -ECANCELED;
		} else if (!ret) {
			ret = msgbox_call_finish(u->mb, &u->c, reply, u->uarg,
						 u->usize);
			if (!ret)
				ret = min_t(u64, u->c.reply.len, INT_MAX);
		}
	}
	msgbox_ucmd_finish(u, ret, issue_flags);
}

/* Task work in the submitter: finish a claimed command. */
static void msgbox_ucmd_tw(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct msgbox_ucmd *u = *msgbox_iou_pdu(cmd);
	struct msgbox_message *msg;
	int ret;

	if (u->is_call) {
		msgbox_ucall_tw(u, issue_flags);
		return;
	}
	msg = u->w.msg;
	ret = u->w.result;

	if (msgbox_ucmd_gone(u)) {
		/* Nobody to copy to: the message goes back untouched. */
		if (!ret && msg)
			msgbox_recv_req_return(u->file, &u->rq, msg);
		ret = -ECANCELED;
	} else if (ret == MSGBOX_RETRY) {
		/* A peek was told to look again. */
		ret = msgbox_ucmd_try(u);
	} else if (!ret) {
		ret = msgbox_recv_req_deliver(u->file, &u->rq, msg);
		if (ret == 1)
			ret = msgbox_ucmd_try(u);	/* abandoned request */
		else if (!ret)
			ret = msgbox_ucmd_result(u);
	}
	if (ret == -EIOCBQUEUED)
		return;		/* parked again */
	msgbox_ucmd_finish(u, ret, issue_flags);
}

/* The waiter's @complete: claimed under msgbox.lock, now finish in task. */
static void msgbox_ucmd_wake(struct msgbox_waiter *w)
{
	struct msgbox_ucmd *u = container_of(w, struct msgbox_ucmd, w);

	msgbox_iou_to_task(u->cmd, msgbox_ucmd_tw);
}

/*
 * End @u with @err if still parked; false if a waker claimed it (a message
 * came, the call settled) first, and then that completion stands.
 */
static bool msgbox_ucmd_claim_cancel(struct msgbox_ucmd *u, int err)
{
	lockdep_assert_held(&msgbox_ucmd_lock);
	if (u->is_call) {
		if (!u->armed || !msgbox_call_abandon(u->call))
			return false;
		u->cancel_err = err;
		return true;
	}
	if (!msgbox_waiter_cancel(u->mb, &u->w, err == -ETIMEDOUT))
		return false;
	u->w.msg = NULL;
	u->w.result = err;
	return true;
}

/*
 * A parked command's deadline: claim it and end it in task (its finish
 * cancels this work synchronously, so it cannot vanish meanwhile).  A
 * CLOCK_REALTIME deadline is looked at again, should the clock have been
 * set back since the work was queued.  A call not yet armed (its request
 * just sent) is looked at again a jiffy later: it is armed at once.
 */
static void msgbox_ucmd_timeout(struct work_struct *work)
{
	struct msgbox_ucmd *u = container_of(to_delayed_work(work),
					     struct msgbox_ucmd, timeout);
	unsigned long delay = msgbox_ucmd_delay(u);
	bool mine;

	spin_lock(&msgbox_ucmd_lock);
	if (u->is_call && !u->armed && !delay)
		delay = 1;
	mine = !delay && msgbox_ucmd_claim_cancel(u, -ETIMEDOUT);
	spin_unlock(&msgbox_ucmd_lock);
	if (delay) {
		queue_delayed_work(system_wq, &u->timeout, delay);
		return;
	}
	if (mine)
		msgbox_iou_to_task(u->cmd, msgbox_ucmd_tw);
}

/* The call's @notify: it settled, finish in the submitter. */
static void msgbox_ucall_notify(void *data)
{
	struct msgbox_ucmd *u = data;
	bool armed;

	spin_lock(&msgbox_ucmd_lock);
	armed = u->armed;
	if (!armed)
		u->settled_early = true;
	spin_unlock(&msgbox_ucmd_lock);
	if (armed)
		msgbox_iou_to_task(u->cmd, msgbox_ucmd_tw);
}

static void msgbox_ucmd_arm_monitor(void)
{
	if (!MSGBOX_IOU_CORE_CANCELS)
		queue_delayed_work(system_wq, &msgbox_ucmd_monitor_work,
				   MSGBOX_UCMD_MONITOR_PERIOD);
}

/*
 * 6.1: cancel the parked commands whose ring or task is going away, and
 * look again later while any command is left.
 */
static void msgbox_ucmd_monitor(struct work_struct *work)
{
	struct msgbox_ucmd *u, *next;
	LIST_HEAD(kick);
	bool more;

	spin_lock(&msgbox_ucmd_lock);
	list_for_each_entry(u, &msgbox_ucmd_list, node)
		if (msgbox_iou_abandoned(u->cmd) && msgbox_ucmd_claim_cancel(u, -ECANCELED))
			list_add_tail(&u->kick, &kick);
	more = !list_empty(&msgbox_ucmd_list);
	spin_unlock(&msgbox_ucmd_lock);
	/*
	 * Claimed, they stay until their task work runs (in the task or in
	 * io_uring's fallback), which finishes them.
	 */
	list_for_each_entry_safe(u, next, &kick, kick)
		msgbox_iou_to_task(u->cmd, msgbox_ucmd_tw);
	if (more)
		msgbox_ucmd_arm_monitor();
}

/* MSGBOX_UCMD_CANCEL: cancel the receives parked on @file with @tag. */
static int msgbox_ucmd_cancel_tag(struct file *file, u32 tag)
{
	struct msgbox_ucmd *u, *next;
	LIST_HEAD(kick);
	int n = 0;

	spin_lock(&msgbox_ucmd_lock);
	list_for_each_entry(u, &msgbox_ucmd_list, node)
		if (u->file == file && u->tag == tag &&
		    msgbox_ucmd_claim_cancel(u, -ECANCELED)) {
			list_add_tail(&u->kick, &kick);
			n++;
		}
	spin_unlock(&msgbox_ucmd_lock);
	list_for_each_entry_safe(u, next, &kick, kick)
		msgbox_iou_to_task(u->cmd, msgbox_ucmd_tw);
	return n;
}

/*
 * Run receive @rq, set up for @cmd (released here): now, or parked until
 * a message comes.
 */
static int msgbox_ucmd_recv_run(struct io_uring_cmd *cmd,
				const struct msgbox_uring_cmd *uc,
				unsigned int issue_flags,
				struct msgbox_recv_req *rq)
{
	struct file *file = cmd->file;
	struct msgbox_ucmd *u;
	bool nonblock;
	int ret;

	/* First without parking: most receives end here, inline. */
	nonblock = rq->wait.nonblock;
	rq->wait.nonblock = true;
	ret = msgbox_recv_req_run(file, rq);
	if (ret != -EAGAIN || nonblock) {
		if (!ret)
			ret = min_t(u64, rq->m.len, INT_MAX);
		msgbox_recv_req_release(rq);
		return ret;
	}

	/* Nothing yet: the receive moves to the heap, to be parked. */
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u) {
		msgbox_recv_req_release(rq);
		return -ENOMEM;
	}
	u->rq = *rq;
	/* A parked receive is completed by its waker, never directly. */
	u->rq.args.direct = NULL;
	u->file = file;
	u->w.task = get_task_struct(current);
	u->w.complete = msgbox_ucmd_wake;
	u->cmd = cmd;
	u->mb = msgbox_file_mailbox(file);
	u->tag = uc->tag;
	*msgbox_iou_pdu(cmd) = u;
	/* Listed before it can be parked, unlisted when finished. */
	spin_lock(&msgbox_ucmd_lock);
	list_add_tail(&u->node, &msgbox_ucmd_list);
	spin_unlock(&msgbox_ucmd_lock);
	/*
	 * Cancelable before it is parked: once parked, its task work may
	 * run (in the submitter, while this runs in io-wq or SQPOLL) and
	 * complete it.  From here on it completes through
	 * io_uring_cmd_done() only, which also unmarks it.
	 */
	msgbox_iou_mark_cancelable(cmd, issue_flags);
	/*
	 * The deadline's work, queued before parking: should it run first,
	 * the parking itself sees the deadline passed (both under the
	 * mailbox lock) and fails with -ETIMEDOUT.
	 */
	if (u->rq.wait.timed) {
		INIT_DELAYED_WORK(&u->timeout, msgbox_ucmd_timeout);
		queue_delayed_work(system_wq, &u->timeout, msgbox_ucmd_delay(u));
	}
	u->rq.wait.nonblock = false;
	u->rq.wait.park = &u->w;
	ret = msgbox_ucmd_try(u);
	if (ret != -EIOCBQUEUED)
		msgbox_ucmd_finish(u, ret, issue_flags);
	else
		msgbox_ucmd_arm_monitor();
	return -EIOCBQUEUED;
}

/* MSGBOX_IOC_RECV: receive now, or park until a message comes. */
static int msgbox_ucmd_recv(struct io_uring_cmd *cmd,
			    const struct msgbox_uring_cmd *uc,
			    unsigned int issue_flags)
{
	struct msgbox_recv_req rq;
	struct msgbox_msg m;
	int ret;

	ret = msgbox_copy_arg(&m, sizeof(m), MSGBOX_MSG_SIZE_VER0, cmd->cmd_op,
			      uc->arg);
	if (ret)
		return ret;
	ret = msgbox_recv_req_init(cmd->file, &rq, &m, u64_to_user_ptr(uc->arg),
				   _IOC_SIZE(cmd->cmd_op), false);
	if (ret)
		return ret;
	return msgbox_ucmd_recv_run(cmd, uc, issue_flags, &rq);
}

/*
 * MSGBOX_IOC_REPLY_RECV: answer at once, then receive as MSGBOX_IOC_RECV
 * does (the result is the receive's, the token says whether the reply
 * went, as for the ioctl).
 */
static int msgbox_ucmd_reply_recv(struct io_uring_cmd *cmd,
				  const struct msgbox_uring_cmd *uc,
				  unsigned int issue_flags)
{
	struct msgbox_recv_req rq;
	int ret;

	ret = msgbox_reply_recv_start(cmd->file, cmd->cmd_op, uc->arg, &rq);
	if (ret)
		return ret;
	return msgbox_ucmd_recv_run(cmd, uc, issue_flags, &rq);
}

/* MSGBOX_IOC_CALL: send the request now, complete when the reply comes. */
static int msgbox_ucmd_call(struct io_uring_cmd *cmd,
			    const struct msgbox_uring_cmd *uc,
			    unsigned int issue_flags)
{
	struct msgbox_ucmd *u;
	bool early;
	int ret;

	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;
	ret = msgbox_copy_arg(&u->c, sizeof(u->c), MSGBOX_CALL_SIZE_VER0,
			      cmd->cmd_op, uc->arg);
	if (ret)
		goto out_free;
	u->is_call = true;
	u->cmd = cmd;
	u->file = cmd->file;
	u->mb = msgbox_file_mailbox(cmd->file);
	u->tag = uc->tag;
	u->uarg = u64_to_user_ptr(uc->arg);
	u->usize = _IOC_SIZE(cmd->cmd_op);
	*msgbox_iou_pdu(cmd) = u;
	/* Before the send: the reply may settle it at once. */
	msgbox_iou_mark_cancelable(cmd, issue_flags);
	ret = msgbox_call_start(cmd->file, &u->c, &u->cwait,
				msgbox_ucall_notify, u, &u->call);
	if (ret) {
		/* Nothing sent: no notification, no canceller. */
		if (u->call)
			msgbox_call_put(u->call);
		msgbox_iou_done(cmd, ret, issue_flags);
		kfree(u);
		return -EIOCBQUEUED;
	}
	/* The deadline for the reply: see msgbox_ucmd_timeout(). */
	if (u->cwait.timed) {
		INIT_DELAYED_WORK(&u->timeout, msgbox_ucmd_timeout);
		queue_delayed_work(system_wq, &u->timeout, msgbox_ucmd_delay(u));
	}
	/*
	 * Armed and listed together: a reply that came meanwhile left the
	 * finishing to us, later ones and cancels find it armed.
	 */
	spin_lock(&msgbox_ucmd_lock);
	list_add_tail(&u->node, &msgbox_ucmd_list);
	u->armed = true;
	early = u->settled_early;
	spin_unlock(&msgbox_ucmd_lock);
	if (early)
		msgbox_iou_to_task(cmd, msgbox_ucmd_tw);
	msgbox_ucmd_arm_monitor();
	return -EIOCBQUEUED;

out_free:
	kfree(u);
	return ret;
}

/* The command itself: its result, or -EIOCBQUEUED if parked or done. */
static int msgbox_ucmd_issue(struct io_uring_cmd *cmd,
			     unsigned int issue_flags)
{
	struct msgbox_uring_cmd uc;

	if (msgbox_iou_is_cancel(issue_flags)) {
		struct msgbox_ucmd *u = *msgbox_iou_pdu(cmd);
		bool mine;

		/* Only parked receives and calls are marked cancelable. */
		spin_lock(&msgbox_ucmd_lock);
		mine = msgbox_ucmd_claim_cancel(u, -ECANCELED);
		spin_unlock(&msgbox_ucmd_lock);
		if (mine)
			msgbox_ucmd_finish(u, -ECANCELED, issue_flags);
		return 0;
	}
	if (issue_flags & IO_URING_F_IOPOLL)
		return -EOPNOTSUPP;
	/* The SQ ring slot may be reused once this call returns: copy it. */
	memcpy(&uc, msgbox_iou_payload(cmd), sizeof(uc));
	if (uc.__pad)
		return -EINVAL;

	switch (cmd->cmd_op) {
	case MSGBOX_UCMD_CANCEL:
		if (uc.arg)
			return -EINVAL;
		return msgbox_ucmd_cancel_tag(cmd->file, uc.tag);
	default:
		if (_IOC_TYPE(cmd->cmd_op) != MSGBOX_IOC_MAGIC)
			return -EOPNOTSUPP;
		break;
	}
	/* Ioctl numbers, whatever the size their caller knows. */
	if (_IOC_NR(cmd->cmd_op) == _IOC_NR(MSGBOX_IOC_RECV) &&
	    _IOC_DIR(cmd->cmd_op) == _IOC_DIR(MSGBOX_IOC_RECV))
		return msgbox_ucmd_recv(cmd, &uc, issue_flags);
	if (_IOC_NR(cmd->cmd_op) == _IOC_NR(MSGBOX_IOC_CALL) &&
	    _IOC_DIR(cmd->cmd_op) == _IOC_DIR(MSGBOX_IOC_CALL))
		return msgbox_ucmd_call(cmd, &uc, issue_flags);
	if (_IOC_NR(cmd->cmd_op) == _IOC_NR(MSGBOX_IOC_REPLY_RECV) &&
	    _IOC_DIR(cmd->cmd_op) == _IOC_DIR(MSGBOX_IOC_REPLY_RECV))
		return msgbox_ucmd_reply_recv(cmd, &uc, issue_flags);
	if (uc.tag)
		return -EINVAL;
	return msgbox_file_ioctl_nowait(cmd->file, cmd->cmd_op, uc.arg);
}

/**
 * msgbox_uring_cmd() - the mailbox file's ->uring_cmd.
 * @cmd:         the command; cmd->cmd_op is an ioctl number.
 * @issue_flags: IO_URING_F_*, passed on as they came.
 *
 * A command never waits, so -EAGAIN (a full mailbox, nothing to receive
 * for a non-blocking receive) is its answer.  Returned from ->uring_cmd it
 * would mean "issue again from an io-wq worker", which could only get the
 * same answer a thread switch later: complete with it here instead.
 *
 * So is a positive result (a length, a count).  6.1's io_uring_cmd()
 * passes it up as if it were not a result: issued inline, the request is
 * completed as failed (which cancels the requests linked after it); in an
 * io-wq worker (IOSQE_ASYNC) it is never completed at all, and the ring
 * can then never be torn down, nor the mailbox file released.  0 and
 * errors are io_uring's to post on every kernel.
 *
 * Return: the result of a command completed inline (0 or an error), or
 * -EIOCBQUEUED for a parked one or one completed here.
 */
int msgbox_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	int ret = msgbox_ucmd_issue(cmd, issue_flags);

	if (ret != -EAGAIN && ret <= 0)
		return ret;
	msgbox_iou_done(cmd, ret, issue_flags);
	return -EIOCBQUEUED;
}

/* Module exit: no command can be left (each pins the module). */
void msgbox_uring_exit(void)
{
	cancel_delayed_work_sync(&msgbox_ucmd_monitor_work);
}
