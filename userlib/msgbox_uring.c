// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmsgbox over io_uring: a ring the library owns, and the level probe.
 * See msgbox_uring.h.  The SQE preparation is all in the header (inline,
 * usable on any ring); this file only manages struct msgbox_ring: queue
 * with a cookie, submit in one call, reap completions in batches.
 *
 * Errors are errno-style here, as everywhere in libmsgbox; liburing's
 * -errno returns are converted at each call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msgbox_uring.h"

#define MSGBOX_API __attribute__((visibility("default")))

struct msgbox_ring {
	struct io_uring ring;
};

/* Completions taken from the CQ per liburing call. */
#define REAP_CHUNK	64

MSGBOX_API struct msgbox_ring *msgbox_ring_new(unsigned int entries,
					       unsigned int flags)
{
	struct msgbox_ring *r;
	int ret;

	if (flags & IORING_SETUP_IOPOLL) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	ret = io_uring_queue_init(entries, &r->ring, flags);
	if (ret < 0) {
		free(r);
		errno = -ret;
		return NULL;
	}
	return r;
}

MSGBOX_API void msgbox_ring_free(struct msgbox_ring *r)
{
	int saved = errno;

	if (!r)
		return;
	io_uring_queue_exit(&r->ring);
	free(r);
	errno = saved;
}

MSGBOX_API int msgbox_ring_fd(const struct msgbox_ring *r)
{
	return r->ring.ring_fd;
}

MSGBOX_API struct io_uring *msgbox_ring_uring(struct msgbox_ring *r)
{
	return &r->ring;
}

MSGBOX_API struct io_uring_sqe *msgbox_ring_get_sqe(struct msgbox_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	int ret;

	if (sqe)
		return sqe;
	/* Full: submit what is queued to make room. */
	ret = io_uring_submit(&r->ring);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	/* With SQPOLL the room comes once the kernel thread took them. */
	if (r->ring.flags & IORING_SETUP_SQPOLL) {
		ret = io_uring_sqring_wait(&r->ring);
		if (ret < 0) {
			errno = -ret;
			return NULL;
		}
	}
	sqe = io_uring_get_sqe(&r->ring);
	if (!sqe)
		errno = EBUSY;
	return sqe;
}

static int ring_queue(struct msgbox_ring *r, int fd, unsigned int op,
		      const void *arg, unsigned int tag, void *cookie)
{
	struct io_uring_sqe *sqe = msgbox_ring_get_sqe(r);

	if (!sqe)
		return -1;
	msgbox_prep_cmd(sqe, fd, op, arg, tag);
	io_uring_sqe_set_data(sqe, cookie);
	return 0;
}

MSGBOX_API int msgbox_ring_send(struct msgbox_ring *r, int fd,
				struct msgbox_msg *m, void *cookie)
{
	return ring_queue(r, fd, MSGBOX_IOC_SEND, m, 0, cookie);
}

MSGBOX_API int msgbox_ring_recv(struct msgbox_ring *r, int fd,
				struct msgbox_msg *m, unsigned int tag,
				void *cookie)
{
	return ring_queue(r, fd, MSGBOX_IOC_RECV, m, tag, cookie);
}

MSGBOX_API int msgbox_ring_call(struct msgbox_ring *r, int fd,
				struct msgbox_call *c, unsigned int tag,
				void *cookie)
{
	return ring_queue(r, fd, MSGBOX_IOC_CALL, c, tag, cookie);
}

MSGBOX_API int msgbox_ring_cancel(struct msgbox_ring *r, int fd,
				  unsigned int tag, void *cookie)
{
	return ring_queue(r, fd, MSGBOX_UCMD_CANCEL, NULL, tag, cookie);
}

MSGBOX_API int msgbox_ring_send_batch(struct msgbox_ring *r, int fd,
				      struct msgbox_batch *b, void *cookie)
{
	return ring_queue(r, fd, MSGBOX_IOC_SEND_BATCH, b, 0, cookie);
}

MSGBOX_API int msgbox_ring_recv_batch(struct msgbox_ring *r, int fd,
				      struct msgbox_batch *b, void *cookie)
{
	return ring_queue(r, fd, MSGBOX_IOC_RECV_BATCH, b, 0, cookie);
}

MSGBOX_API int msgbox_ring_submit(struct msgbox_ring *r)
{
	int ret = io_uring_submit(&r->ring);

	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/* Take up to @max completions already posted; never waits. */
static unsigned int ring_reap(struct msgbox_ring *r,
			      struct msgbox_completion *out, unsigned int max)
{
	struct io_uring_cqe *cqes[REAP_CHUNK];
	unsigned int n = 0, got, i;

	while (n < max) {
		/* Also flushes completions the kernel held back on overflow. */
		got = io_uring_peek_batch_cqe(&r->ring, cqes,
					      max - n < REAP_CHUNK ? max - n : REAP_CHUNK);
		if (!got)
			break;
		for (i = 0; i < got; i++) {
			/* liburing's own timeouts (kernels before 5.11) */
			if (cqes[i]->user_data == LIBURING_UDATA_TIMEOUT)
				continue;
			out[n].cookie = io_uring_cqe_get_data(cqes[i]);
			out[n].result = cqes[i]->res;
			out[n].flags = cqes[i]->flags;
			n++;
		}
		io_uring_cq_advance(&r->ring, got);
	}
	return n;
}

MSGBOX_API int msgbox_ring_wait(struct msgbox_ring *r,
				struct msgbox_completion *out,
				unsigned int max, unsigned int min,
				unsigned long long timeout_ns)
{
	struct __kernel_timespec ts, *tsp = NULL;
	struct io_uring_cqe *cqe;
	unsigned int n;
	int ret;

	/* More than the CQ holds could never be there at once. */
	if (!max || min > max || min > r->ring.cq.ring_entries) {
		errno = EINVAL;
		return -1;
	}
	ret = io_uring_submit(&r->ring);
	n = ring_reap(r, out, max);
	if (ret < 0 && !n) {
		errno = -ret;
		return -1;
	}
	if (n >= min || !timeout_ns)
		return n;
	if (timeout_ns != MSGBOX_FOREVER) {
		ts.tv_sec = timeout_ns / 1000000000ULL;
		ts.tv_nsec = timeout_ns % 1000000000ULL;
		tsp = &ts;
	}
	/*
	 * One wait for the rest: the kernel returns once @min - @n more
	 * completions are posted, on the timeout, or on a signal.
	 */
	if (tsp)
		ret = io_uring_submit_and_wait_timeout(&r->ring, &cqe, min - n,
						       tsp, NULL);
	else
		ret = io_uring_submit_and_wait(&r->ring, min - n);
	n += ring_reap(r, out + n, max - n);
	if (ret < 0 && ret != -ETIME && !n) {
		errno = -ret;
		return -1;
	}
	return n;
}

MSGBOX_API int msgbox_uring_level(int fd)
{
	struct msgbox_info info;
	struct io_uring_probe *probe;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int level = MSGBOX_URING_NONE;
	int ret;

	/*
	 * A mailbox first: other files answer io_uring commands too
	 * (/dev/null completes every one with 0).
	 */
	if (msgbox_info(fd, &info))
		return -1;
	ret = io_uring_queue_init(2, &ring, 0);
	if (ret < 0) {
		errno = -ret;
		return MSGBOX_URING_NONE;
	}
	probe = io_uring_get_probe_ring(&ring);
	if (!probe) {
		errno = ENOSYS;		/* before 5.6: no probe, no READ either */
		goto out;
	}
	if (!io_uring_opcode_supported(probe, IORING_OP_READ) ||
	    !io_uring_opcode_supported(probe, IORING_OP_WRITE)) {
		errno = ENOSYS;
		goto out;
	}
	level = MSGBOX_URING_RW;
	if (!io_uring_opcode_supported(probe, IORING_OP_URING_CMD))
		goto out;
	/*
	 * A cancel with an argument: the module refuses it (-EINVAL) without
	 * touching anything; a file without ->uring_cmd gives -EOPNOTSUPP.
	 * The probe said the opcode exists, so -EINVAL is the module's.
	 */
	sqe = io_uring_get_sqe(&ring);
	msgbox_prep_cmd(sqe, fd, MSGBOX_UCMD_CANCEL, &info, 0);
	if (io_uring_submit_and_wait(&ring, 1) < 0 ||
	    io_uring_wait_cqe(&ring, &cqe) < 0)
		goto out;
	if (cqe->res == -EINVAL)
		level = MSGBOX_URING_CMD;
	io_uring_cqe_seen(&ring, cqe);
out:
	if (probe)
		io_uring_free_probe(probe);
	io_uring_queue_exit(&ring);
	return level;
}
