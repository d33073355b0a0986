/* SPDX-License-Identifier: GPL-2.0 */
/*
 * msgbox: every difference between the kernels msgbox supports (Debian 12's
 * 6.1 and 6.12), as inline functions, so no .c file tests a version.
 */
#ifndef _MSGBOX_COMPAT_H
#define _MSGBOX_COMPAT_H

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/ipc_namespace.h>
#include <linux/mm.h>
#include <linux/percpu-refcount.h>
#include <linux/proc_ns.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
/* Kbuild defines it when the kernel tree has the header (6.7+). */
#ifdef MSGBOX_HAVE_IOU_CMD_H
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#endif
#include <linux/io_uring_types.h>

/*
 * struct fd became an opaque word in 6.12, read through fd_file(); 6.1
 * has the plain member.
 */
#ifndef fd_file
#define fd_file(f)	((f).file)
#endif

/*
 * Drop a reference taken with get_ipc_ns().  put_ipc_ns() is exported to
 * modules in 6.12 but not in 6.1; on both, the namespace's own operations
 * (what nsfs uses) lead to the same function, so that one path serves.
 */
static inline void msgbox_put_ipc_ns(struct ipc_namespace *ns)
{
	ns->ns.ops->put(&ns->ns);
}

/*
 * io_uring's ->uring_cmd.  Debian's 6.1 (6.1.23 and later have the
 * issue_flags backport, which every Debian 12 point release carries) and
 * 6.12 share the hooks' prototypes and io_uring_cmd_done()'s four
 * arguments; they differ in where the command bytes are, in how the
 * completion is deferred to the submitter, and in cancellation.  Between
 * the two kernels msgbox supports, IORING_URING_CMD_CANCELABLE (6.7+) tells
 * the newer interface (whole SQE, since 6.5; cancelable commands) apart.
 */
#ifdef IORING_URING_CMD_CANCELABLE
/* The 16 command bytes, inside the whole SQE. */
static inline const void *msgbox_iou_payload(const struct io_uring_cmd *cmd)
{
	return io_uring_sqe_cmd(cmd->sqe);
}
#else
static inline const void *msgbox_iou_payload(const struct io_uring_cmd *cmd)
{
	return cmd->cmd;
}
#endif

/* The driver's 32 bytes of per-command scratch hold one pointer here. */
static inline void **msgbox_iou_pdu(struct io_uring_cmd *cmd)
{
	BUILD_BUG_ON(sizeof(void *) > sizeof(cmd->pdu));
	return (void **)cmd->pdu;
}

static inline void msgbox_iou_done(struct io_uring_cmd *cmd, int res,
				   unsigned int issue_flags)
{
	io_uring_cmd_done(cmd, res, 0, issue_flags);
}

/*
 * Run @cb in the submitting task (6.1: an exported function; 6.12: an
 * inline over __io_uring_cmd_do_in_task()).
 */
static inline void msgbox_iou_to_task(struct io_uring_cmd *cmd,
				      void (*cb)(struct io_uring_cmd *,
						 unsigned int))
{
	io_uring_cmd_complete_in_task(cmd, cb);
}

/*
 * A task-work callback runs in the submitter unless that task is exiting,
 * in which case io_uring runs it from a kernel thread: either way there is
 * no user memory of the submitter's to copy to.  (6.12.49+ also says so
 * with IO_URING_F_TASK_DEAD; 6.1 does not, so test the task itself.)
 */
static inline bool msgbox_iou_task_dead(void)
{
	return current->flags & (PF_EXITING | PF_KTHREAD);
}

/*
 * The command's ring is being torn down (closed): a completion posted now
 * is lost.  Its cancellation comes later (6.12: io_uring's exit work; 6.1:
 * uring.c's monitor), so a message handed to the command meanwhile must go
 * back.  io_uring offers no accessor; the ring's reference count, killed
 * at close on both kernels, says it.
 */
static inline bool msgbox_iou_ring_dying(struct io_uring_cmd *cmd)
{
	return percpu_ref_is_dying(&cmd_to_io_kiocb(cmd)->ctx->refs);
}

#ifdef IORING_URING_CMD_CANCELABLE
/*
 * 6.7+: io_uring cancels marked commands itself when their ring or task
 * goes, calling ->uring_cmd with IO_URING_F_CANCEL.
 */
#define MSGBOX_IOU_CORE_CANCELS	true

static inline bool msgbox_iou_is_cancel(unsigned int issue_flags)
{
	return issue_flags & IO_URING_F_CANCEL;
}

static inline void msgbox_iou_mark_cancelable(struct io_uring_cmd *cmd,
					      unsigned int issue_flags)
{
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
}

static inline bool msgbox_iou_abandoned(struct io_uring_cmd *cmd)
{
	return false;
}
#else
/*
 * 6.1 never cancels a parked command: closing its ring would wait for it
 * forever (and warn after five minutes), exec(2) would hang.  The module
 * looks for itself (uring.c's monitor, as ublk on 6.1 does): the ring is
 * being torn down (its refs killed), the task is exiting, or the task is
 * cancelling its requests (exec, exit: io_uring_task.in_idle).
 */
#define MSGBOX_IOU_CORE_CANCELS	false

static inline bool msgbox_iou_is_cancel(unsigned int issue_flags)
{
	return false;
}

static inline void msgbox_iou_mark_cancelable(struct io_uring_cmd *cmd,
					      unsigned int issue_flags)
{
}

static inline bool msgbox_iou_abandoned(struct io_uring_cmd *cmd)
{
	struct io_kiocb *req = cmd_to_io_kiocb(cmd);
	struct io_uring_task *tctx = READ_ONCE(req->task->io_uring);

	return msgbox_iou_ring_dying(cmd) || (req->task->flags & PF_EXITING) ||
	       (tctx && atomic_read(&tctx->in_idle));
}
#endif

/*
 * Add 1 to an eventfd.  eventfd_signal() lost its count argument in 6.8
 * (every caller passed 1); no symbol tells the two apart, so Kbuild reads
 * the prototype.
 */
static inline void msgbox_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef MSGBOX_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * Set flags of a mapping being set up.  6.3 made vm_flags writable only
 * through vm_flags_set(); Kbuild looks for it.
 */
static inline void msgbox_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#ifdef MSGBOX_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * A wait that cannot end in -ERESTARTSYS and begin again (a call whose
 * request a receive took, a send waiting for its ack) must not be ended by
 * io_uring's task work for this thread: TIF_NOTIFY_SIGNAL, set by a ring's
 * completion, makes signal_pending() true without a signal, and returning
 * to run that work would abandon what is waited for.  Debian's 6.1 and
 * 6.12 carry PF_NO_NOTIFY_SIGNAL (a stable backport) for such waits:
 * between msgbox_unrestartable_begin() and _end() the task sleeps
 * interruptibly past the flag, an ordinary signal still ends the wait, and
 * the work runs once the system call returns.  A kernel without it sleeps
 * killable while only task work is pending (a signal then waits for the
 * next wake-up).
 */
#ifdef PF_NO_NOTIFY_SIGNAL
static inline unsigned int msgbox_unrestartable_begin(void)
{
	return no_notify_signal_save();
}

static inline void msgbox_unrestartable_end(unsigned int flags)
{
	no_notify_signal_restore(flags);
}

/* The state to sleep in, set again before each check of the condition. */
static inline unsigned int msgbox_unrestartable_state(void)
{
	return TASK_INTERRUPTIBLE;
}
#else
static inline unsigned int msgbox_unrestartable_begin(void)
{
	return 0;
}

static inline void msgbox_unrestartable_end(unsigned int flags)
{
}

static inline unsigned int msgbox_unrestartable_state(void)
{
	return signal_pending(current) && !task_sigpending(current) ?
	       TASK_KILLABLE : TASK_INTERRUPTIBLE;
}
#endif

#endif /* _MSGBOX_COMPAT_H */
