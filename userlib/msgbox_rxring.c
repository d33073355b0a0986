// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmsgbox: receive rings (see "Receive rings" in <linux/msgbox.h>).
 *
 * The consumer's side of the protocol: the tail is loaded with acquire
 * semantics (the kernel stores it with release after writing the record),
 * the head stored with release semantics once a record has been read (the
 * kernel loads it with acquire before reusing the room).  The library
 * keeps its own copy of the head, which only it writes.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "msgbox.h"

#define MSGBOX_API __attribute__((visibility("default")))

struct msgbox_rxring {
	int fd;			/* the mailbox descriptor (the caller's) */
	int ring_fd;
	void *map;
	size_t map_size;
	uint32_t *head;
	const uint32_t *tail;
	const char *data;
	uint32_t size;
	uint32_t pos;		/* our head */
	long long type;
	unsigned int flags;
};

MSGBOX_API struct msgbox_rxring *msgbox_rxring_open(int fd, size_t size,
						    long long type,
						    unsigned int flags)
{
	struct msgbox_ring_setup rs;
	struct msgbox_rxring *rx;
	int saved;

	if (!size)
		size = MSGBOX_RXRING_DEFAULT_SIZE;
	if (size > MSGBOX_RING_SIZE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return NULL;
	memset(&rs, 0, sizeof(rs));
	rs.size = (uint32_t)size;
	rs.flags = flags;
	rs.type = type;
	rs.fd_flags = MSGBOX_FD_CLOEXEC;
	rx->ring_fd = ioctl(fd, MSGBOX_IOC_RING_SETUP, &rs);
	if (rx->ring_fd < 0)
		goto out_free;
	rx->map = mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       rx->ring_fd, 0);
	if (rx->map == MAP_FAILED)
		goto out_close;
	rx->fd = fd;
	rx->map_size = rs.mmap_size;
	rx->head = (uint32_t *)((char *)rx->map + rs.head_offset);
	rx->tail = (const uint32_t *)((char *)rx->map + rs.tail_offset);
	rx->data = (const char *)rx->map + rs.data_offset;
	rx->size = rs.size;
	rx->pos = __atomic_load_n(rx->head, __ATOMIC_RELAXED);
	rx->type = type;
	rx->flags = flags;
	return rx;

out_close:
	saved = errno;
	close(rx->ring_fd);
	errno = saved;
out_free:
	free(rx);
	return NULL;
}

MSGBOX_API void msgbox_rxring_close(struct msgbox_rxring *rx)
{
	if (!rx)
		return;
	munmap(rx->map, rx->map_size);
	close(rx->ring_fd);
	free(rx);
}

MSGBOX_API int msgbox_rxring_fd(const struct msgbox_rxring *rx)
{
	return rx->ring_fd;
}

static void msgbox_rxring_advance(struct msgbox_rxring *rx, uint32_t size)
{
	rx->pos += size;
	/* Our reads of the record are done before the kernel may reuse it. */
	__atomic_store_n(rx->head, rx->pos, __ATOMIC_RELEASE);
}

MSGBOX_API const struct msgbox_ring_msg *
msgbox_rxring_next(struct msgbox_rxring *rx)
{
	const struct msgbox_ring_msg *rec;

	/* The record is complete once the tail covers it. */
	while (rx->pos != __atomic_load_n(rx->tail, __ATOMIC_ACQUIRE)) {
		rec = (const void *)(rx->data + (rx->pos & (rx->size - 1)));
		if (!(rec->flags & MSGBOX_RING_PAD))
			return rec;
		msgbox_rxring_advance(rx, rec->size);
	}
	return NULL;
}

MSGBOX_API void msgbox_rxring_consume(struct msgbox_rxring *rx,
				      const struct msgbox_ring_msg *rec)
{
	msgbox_rxring_advance(rx, rec->size);
}

/* Copy @rec out as a receive would: 0, or -1 with EMSGSIZE. */
static int msgbox_rxring_copy(struct msgbox_rxring *rx,
			      const struct msgbox_ring_msg *rec,
			      struct msgbox_msg *msg)
{
	uint64_t len = rec->len;

	if (len > msg->len && !(msg->flags & MSGBOX_MSG_TRUNC)) {
		msg->len = len;
		errno = EMSGSIZE;
		return -1;
	}
	if (len > msg->len)
		len = msg->len;
	memcpy((void *)(uintptr_t)msg->data, rec + 1, len);
	msg->len = rec->len;
	msg->type = rec->type;
	msg->priority = rec->priority;
	msg->id = rec->id;
	msg->send_time_ns = rec->send_time_ns;
	msg->sender_pid = rec->sender_pid;
	msg->sender_tid = rec->sender_tid;
	msg->sender_uid = rec->sender_uid;
	msg->sender_gid = rec->sender_gid;
	msg->token = 0;
	msg->deliveries = rec->deliveries;
	msgbox_rxring_advance(rx, rec->size);
	return 0;
}

/* Milliseconds left until @deadline on @clock, for poll(2); -1: none. */
static int msgbox_rxring_left(const struct timespec *deadline, clockid_t clock)
{
	struct timespec now;
	long long ms;

	if (!deadline)
		return -1;
	clock_gettime(clock, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	     (deadline->tv_nsec - now.tv_nsec + 999999) / 1000000;
	if (ms < 0)
		return 0;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

MSGBOX_API int msgbox_rxring_recvmsg(struct msgbox_rxring *rx,
				     struct msgbox_msg *msg)
{
	const unsigned int known = MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_TRUNC |
				   MSGBOX_MSG_TIMEOUT | MSGBOX_MSG_ABSTIME |
				   MSGBOX_MSG_REALTIME;
	const struct msgbox_ring_msg *rec;
	struct timespec deadline, *dl = NULL;
	clockid_t clock = CLOCK_MONOTONIC;
	struct msgbox_msg m;
	struct pollfd pfd;
	uint32_t pos;
	__u32 next;
	int n;

	if ((msg->flags & ~known) ||
	    ((msg->flags & (MSGBOX_MSG_ABSTIME | MSGBOX_MSG_REALTIME)) &&
	     !(msg->flags & MSGBOX_MSG_TIMEOUT))) {
		errno = EINVAL;
		return -1;
	}
	if (msg->flags & MSGBOX_MSG_TIMEOUT) {
		if (msg->flags & MSGBOX_MSG_REALTIME)
			clock = CLOCK_REALTIME;
		if (msg->flags & MSGBOX_MSG_ABSTIME) {
			deadline.tv_sec = msg->timeout_ns / 1000000000ULL;
			deadline.tv_nsec = msg->timeout_ns % 1000000000ULL;
		} else {
			clock_gettime(clock, &deadline);
			deadline.tv_sec += msg->timeout_ns / 1000000000ULL;
			deadline.tv_nsec += msg->timeout_ns % 1000000000ULL;
			if (deadline.tv_nsec >= 1000000000L) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000L;
			}
		}
		dl = &deadline;
	}
	for (;;) {
		rec = msgbox_rxring_next(rx);
		if (rec)
			return msgbox_rxring_copy(rx, rec, msg);
		/* Empty: move in what queued while it was full. */
		next = 0;
		n = ioctl(rx->ring_fd, MSGBOX_IOC_RING_ENTER, &next);
		if (n < 0 && errno != EIDRM)
			return -1;
		/*
		 * A padding record alone came in: the next message did not
		 * fit before the end, and fits once it is passed.
		 */
		pos = rx->pos;
		if (n > 0 || msgbox_rxring_next(rx) || rx->pos != pos)
			continue;
		/*
		 * What the ring cannot hold, if that is next in line: later
		 * messages queue behind it, so a receive takes it in order.
		 * Once destroyed, the receive says EIDRM.
		 */
		if (n == 0 && !(next & MSGBOX_RING_RECV))
			goto wait;
		m = *msg;
		m.type = rx->type;
		/* Only while the ring is empty: else it holds older ones. */
		m.flags = MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_RING |
			  (rx->flags & MSGBOX_MSG_EXCEPT) |
			  (msg->flags & MSGBOX_MSG_TRUNC);
		m.timeout_ns = 0;
		if (ioctl(rx->fd, MSGBOX_IOC_RECV, &m) == 0) {
			m.flags = msg->flags;
			m.timeout_ns = msg->timeout_ns;
			*msg = m;
			return 0;
		}
		if (errno != EAGAIN)
			return -1;	/* EIDRM once destroyed, EMSGSIZE... */
		continue;	/* taken, or the ring has more: look again */
wait:
		if (msg->flags & MSGBOX_MSG_NONBLOCK) {
			errno = EAGAIN;
			return -1;
		}
		pfd.fd = rx->ring_fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, msgbox_rxring_left(dl, clock));
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}
