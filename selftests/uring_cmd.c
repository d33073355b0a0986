// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: io_uring level 2, IORING_OP_URING_CMD on a mailbox
 * descriptor.  A command is the ioctl of the same number run without
 * sleeping; a receive with nothing to take is parked (no thread, no io-wq
 * worker) until a message comes, a cancel, a destroy, or its ring or task
 * goes away.  The SQEs are built by hand here, independent of libmsgbox's
 * own helpers, so the ABI itself is what is tested.
 */
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "msgbox_uring_test.h"

FIXTURE(uc) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
	struct io_uring ring;
	bool ring_ok;
};

FIXTURE_SETUP(uc)
{
	int ret;

	self->fd = -1;
	self->ring_ok = false;
	mb_make_name(self->name, sizeof(self->name), "uc");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	ret = io_uring_queue_init(16, &self->ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	self->ring_ok = true;
	self->fd = mb_create(self->name, 8, 256, 2048, MB_RW);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(uc)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

/* Queue one URING_CMD: @op is the ioctl number, @arg its argument. */
static struct io_uring_sqe *cmd(struct io_uring *ring, int fd,
				unsigned int op, void *arg, __u32 tag,
				__u64 user_data)
{
	struct msgbox_uring_cmd c = { .arg = (uintptr_t)arg, .tag = tag };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;	/* after prep_rw: it aliases sqe->off */
	memcpy(sqe->cmd, &c, sizeof(c));
	sqe->user_data = user_data;
	return sqe;
}

/* Submit what is queued and return the first completion's result. */
static int run1(struct io_uring *ring)
{
	if (io_uring_submit(ring) != 1)
		return -EBADE;
	return mb_uring_reap(ring, MB_WAIT_MS, NULL);
}

TEST_F(uc, send_then_receive_inline_with_metadata)
{
	struct msgbox_msg s, r;
	char in[64] = { 0 };

	mb_msg_init(&s, "hello", 5, 7, 0);
	s.priority = 3;
	cmd(&self->ring, self->fd, MSGBOX_IOC_SEND, &s, 0, 1);
	ASSERT_EQ(0, run1(&self->ring));
	EXPECT_NE(0, s.id);
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 2);
	/* The result is the message's length, as read(2) would give. */
	ASSERT_EQ(5, run1(&self->ring));
	EXPECT_EQ(0, memcmp(in, "hello", 5));
	EXPECT_EQ(5, r.len);
	EXPECT_EQ(7, r.type);
	EXPECT_EQ(3, r.priority);
	EXPECT_EQ(s.id, r.id);
	EXPECT_EQ(getpid(), r.sender_pid);
	EXPECT_EQ(getuid(), r.sender_uid);
}

TEST_F(uc, parked_receive_completes_when_a_matching_message_arrives)
{
	struct msgbox_msg r;
	char in[64] = { 0 };
	pid_t pid;

	/* Type 2 only: a type 1 message must not complete it. */
	mb_msg_init(&r, in, sizeof(in), 2, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 9);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-ETIME, mb_uring_reap(&self->ring, 100, NULL));
	EXPECT_EQ(1, mb_recv_waiters(self->fd));
	EXPECT_EQ(0, mb_io_workers());
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg s;

		mb_msg_init(&s, "one", 3, 1, 0);
		CHILD_CHECK(msgbox_sendmsg(self->fd, &s) == 0, 2);
		mb_sleep_ms(50);
		mb_msg_init(&s, "two!", 4, 2, 0);
		CHILD_CHECK(msgbox_sendmsg(self->fd, &s) == 0, 3);
		_exit(0);
	}
	EXPECT_EQ(4, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "two!", 4));
	EXPECT_EQ(2, r.type);
	EXPECT_EQ(pid, r.sender_pid);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	/* The type 1 message is still there for someone else. */
	EXPECT_EQ(3, msgbox_recv(self->fd, in, sizeof(in), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
}

TEST_F(uc, many_parked_receives_are_served_in_arrival_order)
{
	struct msgbox_msg r[4];
	char in[4][16];
	__u64 ud;
	int i, res;

	for (i = 0; i < 4; i++) {
		mb_msg_init(&r[i], in[i], sizeof(in[i]), 0, 0);
		cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r[i], 0, i);
	}
	ASSERT_EQ(4, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 4, 0));
	for (i = 0; i < 4; i++) {
		char out[2] = { 'a' + i, 0 };

		ASSERT_EQ(0, msgbox_send(self->fd, out, 1, 0));
	}
	for (i = 0; i < 4; i++) {
		res = mb_uring_reap(&self->ring, MB_WAIT_MS, &ud);
		ASSERT_EQ(1, res);
		ASSERT_LT(ud, 4);
		/* The first parked got the first message, and so on. */
		EXPECT_EQ('a' + (int)ud, in[ud][0]);
	}
}

/* Issued from an io-wq worker (IOSQE_ASYNC), it parks and completes too. */
TEST_F(uc, receive_forced_into_a_worker_parks_and_completes)
{
	struct msgbox_msg r;
	char in[16] = { 0 };

	mb_msg_init(&r, in, sizeof(in), 0, 0);
	io_uring_sqe_set_flags(cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r,
				   0, 1), IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "async", 5, 0));
	EXPECT_EQ(5, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "async", 5));
}

TEST_F(uc, nonblocking_receive_fails_with_EAGAIN_and_parks_nothing)
{
	struct msgbox_msg r;
	char in[16];

	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_NONBLOCK);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	EXPECT_EQ(-EAGAIN, run1(&self->ring));
	/* A relative timeout of 0 means "try once" as for the ioctl. */
	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_TIMEOUT);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	EXPECT_EQ(-EAGAIN, run1(&self->ring));
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
	/* That answer needs no second try from an io-wq worker. */
	EXPECT_EQ(0, mb_io_workers());
}

TEST_F(uc, timed_parked_receive_ends_with_ETIMEDOUT_not_before)
{
	struct msgbox_info info;
	struct msgbox_msg r;
	uint64_t t0, t1;
	char in[16];

	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_TIMEOUT);
	r.timeout_ns = 200 * 1000000ull;
	t0 = mb_now_ns(CLOCK_MONOTONIC);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-ETIMEDOUT, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	t1 = mb_now_ns(CLOCK_MONOTONIC);
	EXPECT_GE(t1 - t0, r.timeout_ns);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.recv_waiters);
	EXPECT_EQ(1, info.timed_out);
	/* An absolute deadline already past: at once. */
	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_TIMEOUT |
		 MSGBOX_MSG_ABSTIME | MSGBOX_MSG_REALTIME);
	r.timeout_ns = mb_now_ns(CLOCK_REALTIME) - 1000000;
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	EXPECT_EQ(-ETIMEDOUT, run1(&self->ring));
	/* A message before the deadline wins, and the timer goes quietly. */
	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_TIMEOUT);
	r.timeout_ns = 300 * 1000000ull;
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "in time", 7, 0));
	EXPECT_EQ(7, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	mb_sleep_ms(400);
	EXPECT_EQ(-ETIME, mb_uring_reap(&self->ring, 10, NULL));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(2, info.timed_out);
}

TEST_F(uc, cancel_by_tag_completes_only_that_receive)
{
	struct msgbox_msg r1, r2;
	char in1[16], in2[16] = { 0 };
	int i, res;
	__u64 ud;

	mb_msg_init(&r1, in1, sizeof(in1), 0, 0);
	mb_msg_init(&r2, in2, sizeof(in2), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r1, 11, 1);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r2, 22, 2);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 2, 0));
	cmd(&self->ring, self->fd, MSGBOX_UCMD_CANCEL, NULL, 11, 3);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* Two completions: the cancel (one cancelled) and receive 1. */
	for (i = 0; i < 2; i++) {
		res = mb_uring_reap(&self->ring, MB_WAIT_MS, &ud);
		if (ud == 3) {
			EXPECT_EQ(1, res);
		} else {
			EXPECT_EQ(-ECANCELED, res);
		}
		EXPECT_NE(2, ud);
	}
	EXPECT_EQ(1, mb_recv_waiters(self->fd));
	/* An unknown tag cancels nothing. */
	cmd(&self->ring, self->fd, MSGBOX_UCMD_CANCEL, NULL, 99, 4);
	EXPECT_EQ(0, run1(&self->ring));
	ASSERT_EQ(0, msgbox_send(self->fd, "x", 1, 0));
	EXPECT_EQ(1, mb_uring_reap(&self->ring, MB_WAIT_MS, &ud));
	EXPECT_EQ(2, ud);
	EXPECT_EQ('x', in2[0]);
}

/*
 * Positive results (a length, a count) from an io-wq worker: 6.1's
 * io_uring_cmd() never completed them (the ring could not be torn down,
 * the mailbox never freed) until the module posted them itself.
 */
TEST_F(uc, positive_results_from_a_worker_complete)
{
	struct msgbox_msg r, r2, e[2];
	struct msgbox_batch b;
	char in[16] = { 0 }, in2[16], ins[2][16];
	int i, res, seen = 0;
	__u64 ud;

	/* A receive that finds its message: the length. */
	ASSERT_EQ(0, msgbox_send(self->fd, "worker", 6, 0));
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	io_uring_sqe_set_flags(cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r,
				   0, 1), IOSQE_ASYNC);
	ASSERT_EQ(6, run1(&self->ring));
	EXPECT_EQ(0, memcmp(in, "worker", 6));

	/* A batch receive: the count. */
	ASSERT_EQ(0, msgbox_send(self->fd, "a", 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "b", 1, 0));
	mb_msg_init(&e[0], ins[0], sizeof(ins[0]), 0, 0);
	mb_msg_init(&e[1], ins[1], sizeof(ins[1]), 0, 0);
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)e;
	b.count = 2;
	b.msg_size = sizeof(e[0]);
	io_uring_sqe_set_flags(cmd(&self->ring, self->fd, MSGBOX_IOC_RECV_BATCH,
				   &b, 0, 2), IOSQE_ASYNC);
	ASSERT_EQ(2, run1(&self->ring));
	EXPECT_EQ('a', ins[0][0]);
	EXPECT_EQ('b', ins[1][0]);

	/* A cancel of a parked receive: how many it cancelled. */
	mb_msg_init(&r2, in2, sizeof(in2), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r2, 7, 3);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	io_uring_sqe_set_flags(cmd(&self->ring, self->fd, MSGBOX_UCMD_CANCEL,
				   NULL, 7, 4), IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		res = mb_uring_reap(&self->ring, MB_WAIT_MS, &ud);
		ASSERT_NE(-ETIME, res) TH_LOG("completion %d never came", i + 1);
		if (ud == 4) {
			EXPECT_EQ(1, res);
		} else {
			EXPECT_EQ(-ECANCELED, res);
		}
		seen |= 1 << (ud - 3);
	}
	EXPECT_EQ(3, seen);
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
}

/*
 * A receive that succeeds inline does not fail its link: 6.1's
 * io_uring_cmd() posted a positive result as a failure, so the request
 * linked after it was cancelled.
 */
TEST_F(uc, successful_receive_runs_the_request_linked_after_it)
{
	struct io_uring_sqe *sqe;
	struct msgbox_msg r;
	char in[16];
	int i, res;
	__u64 ud;

	ASSERT_EQ(0, msgbox_send(self->fd, "link", 4, 0));
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	io_uring_sqe_set_flags(cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r,
				   0, 1), IOSQE_IO_LINK);
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_nop(sqe);
	sqe->user_data = 2;
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		res = mb_uring_reap(&self->ring, MB_WAIT_MS, &ud);
		EXPECT_EQ(ud == 1 ? 4 : 0, res) TH_LOG("user_data %llu",
						      (unsigned long long)ud);
	}
}

/*
 * A receive ring's descriptor has no read or write.  Through io_uring they
 * fail at once, even while the ring is readable: on 6.1 they used to be
 * punted to a poll that re-armed itself in task work for as long as the
 * ring stayed readable, a CPU spinning where SIGKILL could not end it.
 */
TEST_F(uc, read_and_write_on_a_ring_descriptor_fail_at_once)
{
	struct msgbox_ring_setup rs = { .size = 4096 };
	struct io_uring_sqe *sqe;
	char buf[64];
	int rfd, i, res;

	rfd = ioctl(self->fd, MSGBOX_IOC_RING_SETUP, &rs);
	ASSERT_LE(0, rfd);
	/* A record in the ring: it polls readable. */
	ASSERT_EQ(0, msgbox_send(self->fd, "ring", 4, 0));
	for (i = 0; i < 2; i++) {
		sqe = io_uring_get_sqe(&self->ring);
		if (i)
			io_uring_prep_write(sqe, rfd, buf, sizeof(buf), 0);
		else
			io_uring_prep_read(sqe, rfd, buf, sizeof(buf), 0);
		sqe->user_data = i;
		res = run1(&self->ring);
		EXPECT_NE(-ETIME, res) TH_LOG("no completion for op %d", i);
		EXPECT_GT(0, res);
		EXPECT_NE(-EAGAIN, res);
	}
	close(rfd);
}

TEST_F(uc, destroy_completes_parked_receives_with_EIDRM)
{
	struct msgbox_msg r;
	char in[16];

	mb_msg_init(&r, in, sizeof(in), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(-EIDRM, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
}

/*
 * Closing the ring cancels its parked receives (6.12: io_uring itself;
 * 6.1: the module's monitor): afterwards no message goes to them, none is
 * lost, none is duplicated.
 */
TEST_F(uc, ring_close_cancels_parked_receives_losing_nothing)
{
	struct msgbox_msg r[3];
	struct msgbox_info info;
	char in[3][16], buf[16];
	int i;

	for (i = 0; i < 3; i++) {
		mb_msg_init(&r[i], in[i], sizeof(in[i]), 0, 0);
		cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r[i], 0, i);
	}
	ASSERT_EQ(3, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 3, 0));
	io_uring_queue_exit(&self->ring);
	self->ring_ok = false;
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
	for (i = 0; i < 3; i++) {
		buf[0] = '0' + i;
		ASSERT_EQ(0, msgbox_send(self->fd, buf, 1, 0));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf),
					 MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ('0' + i, buf[0]);
	}
	EXPECT_EQ(-1, msgbox_recv(self->fd, buf, sizeof(buf),
				  MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(3, info.sent);
	EXPECT_EQ(3, info.received);
}

/* A task that exits with receives parked: they go, the mailbox is intact. */
TEST_F(uc, task_exit_cancels_parked_receives)
{
	char buf[16];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg r;
		struct io_uring ring;
		char in[16];

		CHILD_CHECK(io_uring_queue_init(4, &ring, 0) == 0, 2);
		mb_msg_init(&r, in, sizeof(in), 0, 0);
		cmd(&ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
		CHILD_CHECK(io_uring_submit(&ring) == 1, 3);
		CHILD_CHECK(mb_wait_waiters(self->fd, 1, 0) == 0, 4);
		_exit(0);	/* ring and receive left behind */
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "kept", 4, 0));
	EXPECT_EQ(4, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
}

struct blocking_recv {
	int fd;
	char buf[16];
	ssize_t n;
};

static void *blocking_recv_thread(void *p)
{
	struct blocking_recv *b = p;

	b->n = msgbox_recv(b->fd, b->buf, sizeof(b->buf), 0);
	return NULL;
}

/* A sleeping thread and a parked command share one FIFO of receivers. */
TEST_F(uc, blocking_and_uring_receivers_share_one_queue)
{
	struct blocking_recv b = { .fd = self->fd };
	struct msgbox_msg r;
	char in[16] = { 0 };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, blocking_recv_thread, &b));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 2, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "first", 5, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(5, b.n);
	EXPECT_EQ(0, memcmp(b.buf, "first", 5));
	EXPECT_EQ(-ETIME, mb_uring_reap(&self->ring, 50, NULL));
	ASSERT_EQ(0, msgbox_send(self->fd, "second", 6, 0));
	EXPECT_EQ(6, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "second", 6));
}

TEST_F(uc, parked_peek_completes_and_leaves_the_message)
{
	struct msgbox_msg r;
	char in[16] = { 0 }, buf[16];

	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_PEEK);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "peek", 4, 0));
	EXPECT_EQ(4, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "peek", 4));
	EXPECT_EQ(4, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
}

TEST_F(uc, too_small_parked_receive_fails_with_EMSGSIZE_losing_nothing)
{
	struct msgbox_msg r;
	char in[2], buf[16];

	mb_msg_init(&r, in, sizeof(in), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "large", 5, 0));
	EXPECT_EQ(-EMSGSIZE, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(5, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
}

TEST_F(uc, ack_mode_receive_then_ack_through_the_ring)
{
	struct msgbox_info info;
	struct msgbox_ack a = { 0 };
	struct msgbox_msg r;
	char in[16];

	ASSERT_EQ(0, msgbox_send(self->fd, "job", 3, 0));
	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_ACK);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	ASSERT_EQ(3, run1(&self->ring));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.in_flight);
	a.id = r.id;
	cmd(&self->ring, self->fd, MSGBOX_IOC_ACK, &a, 0, 2);
	EXPECT_EQ(0, run1(&self->ring));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.in_flight);
	/* Acked once: a second ack finds nothing. */
	cmd(&self->ring, self->fd, MSGBOX_IOC_ACK, &a, 0, 3);
	EXPECT_EQ(-ENOENT, run1(&self->ring));
}

/* A server on a ring: receive the request, reply through the ring. */
TEST_F(uc, call_answered_by_a_uring_server)
{
	struct msgbox_msg r, rep;
	char in[32], out[32];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ssize_t n = msgbox_call(self->fd, "ping", 4, out, sizeof(out),
				       MSGBOX_FOREVER);

		CHILD_CHECK(n == 4 && !memcmp(out, "PONG", 4), 2);
		_exit(0);
	}
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, 1);
	ASSERT_EQ(4, run1(&self->ring));
	EXPECT_EQ(0, memcmp(in, "ping", 4));
	EXPECT_NE(0, r.token);
	mb_msg_init(&rep, "PONG", 4, 1, 0);
	rep.token = r.token;
	cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY, &rep, 0, 2);
	EXPECT_EQ(0, run1(&self->ring));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

#define RR_CALLS	3

/*
 * MSGBOX_IOC_REPLY_RECV through io_uring: a server answers each call and
 * takes the next in one SQE.  The first, answering nothing, parks until
 * the first call; each later one answers (its token reads 0 afterwards)
 * and receives the next; the last parks and is cancelled by its tag, its
 * reply delivered all the same.
 */
TEST_F(uc, reply_recv_answers_and_parks_for_the_next_call_in_one_sqe)
{
	struct msgbox_reply_recv rr;
	char in[32], out[32];
	int i, res;
	__u64 ud;
	pid_t pid;

	memset(&rr, 0, sizeof(rr));
	mb_msg_init(&rr.recv, in, sizeof(in), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY_RECV, &rr, 7, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (i = 0; i < RR_CALLS; i++) {
			char req[8], rep[8];
			ssize_t n;

			snprintf(req, sizeof(req), "c%d", i);
			n = msgbox_call(self->fd, req, 2, rep, sizeof(rep),
					MSGBOX_FOREVER);
			CHILD_CHECK(n == 3 && rep[0] == 'C' && rep[1] == req[1] &&
				    rep[2] == '!', 2 + i);
		}
		_exit(0);
	}
	for (i = 0; i < RR_CALLS; i++) {
		ASSERT_EQ(2, mb_uring_reap(&self->ring, MB_WAIT_MS, &ud));
		EXPECT_EQ(1, ud);
		EXPECT_EQ('c', in[0]);
		EXPECT_EQ('0' + i, in[1]);
		EXPECT_NE(0, rr.recv.token);
		EXPECT_EQ(0, rr.reply.token);
		snprintf(out, sizeof(out), "C%c!", in[1]);
		mb_msg_init(&rr.reply, out, 3, 1, 0);
		rr.reply.token = rr.recv.token;
		mb_msg_init(&rr.recv, in, sizeof(in), 0, 0);
		cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY_RECV, &rr, 7, 1);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
	}
	/* The last answer went; its receive waits for a call that never comes. */
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	EXPECT_EQ(0, rr.reply.token);
	cmd(&self->ring, self->fd, MSGBOX_UCMD_CANCEL, NULL, 7, 2);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		res = mb_uring_reap(&self->ring, MB_WAIT_MS, &ud);
		EXPECT_EQ(ud == 2 ? 1 : -ECANCELED, res);
	}
}

/*
 * A REPLY_RECV whose reply fails completes with the reply's error, its
 * token kept, and receives nothing; bad fields in either half change
 * nothing at all.
 */
TEST_F(uc, reply_recv_whose_reply_fails_receives_nothing)
{
	struct msgbox_reply_recv rr;
	char in[16] = { 0 };

	ASSERT_EQ(0, msgbox_send(self->fd, "x", 1, 0));
	memset(&rr, 0, sizeof(rr));
	mb_msg_init(&rr.reply, "no", 2, 1, 0);
	rr.reply.token = 12345;		/* no such call here */
	mb_msg_init(&rr.recv, in, sizeof(in), 0, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY_RECV, &rr, 0, 1);
	EXPECT_EQ(-ENOENT, run1(&self->ring));
	EXPECT_EQ(12345, rr.reply.token);
	EXPECT_EQ(0, in[0]);

	rr.reply.flags = MSGBOX_MSG_NONBLOCK;	/* a reply takes no flags */
	cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY_RECV, &rr, 0, 2);
	EXPECT_EQ(-EINVAL, run1(&self->ring));
	rr.reply.flags = 0;
	rr.reply.token = 0;
	rr.recv.__pad = 1;
	cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY_RECV, &rr, 0, 3);
	EXPECT_EQ(-EINVAL, run1(&self->ring));
	EXPECT_EQ(0, in[0]);

	/* Answering nothing, it receives what was queued all along. */
	rr.recv.__pad = 0;
	cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY_RECV, &rr, 0, 4);
	EXPECT_EQ(1, run1(&self->ring));
	EXPECT_EQ('x', in[0]);
}

/*
 * A REPLY_RECV whose reply went but whose receive fails (non-blocking, on
 * an empty mailbox) completes with the receive's -EAGAIN, its token 0: the
 * caller has its answer.
 */
/*
 * A caller of the one-byte request @req that expects the answer @want,
 * whose request is then received through @ring: its pid, @rr set up to
 * answer it with @want and receive into @in (@flags), or -1.
 */
static pid_t rr_take_call(struct io_uring *ring, int fd, char req, char *want,
			  struct msgbox_reply_recv *rr, char *in, size_t size,
			  __u32 flags)
{
	struct msgbox_msg r;
	pid_t pid = fork();

	if (pid == 0) {
		char rep[8];

		CHILD_CHECK(msgbox_call(fd, &req, 1, rep, sizeof(rep),
					MSGBOX_FOREVER) == 1 && rep[0] == *want, 2);
		_exit(0);
	}
	if (pid < 0)
		return -1;
	mb_msg_init(&r, in, size, 0, 0);
	cmd(ring, fd, MSGBOX_IOC_RECV, &r, 0, 1);
	if (run1(ring) != 1 || !r.token || in[0] != req)
		return -1;
	memset(rr, 0, sizeof(*rr));
	mb_msg_init(&rr->reply, want, 1, 1, 0);
	rr->reply.token = r.token;
	mb_msg_init(&rr->recv, in, size, 0, flags);
	return pid;
}

TEST_F(uc, reply_recv_whose_receive_fails_after_the_reply_still_answers)
{
	struct msgbox_reply_recv rr;
	char in[16];
	pid_t pid;

	pid = rr_take_call(&self->ring, self->fd, 'q', "a", &rr, in, sizeof(in),
			   MSGBOX_MSG_NONBLOCK);
	ASSERT_LE(0, pid);
	cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY_RECV, &rr, 0, 2);
	EXPECT_EQ(-EAGAIN, run1(&self->ring));
	EXPECT_EQ(0, rr.reply.token);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
}

/*
 * A REPLY_RECV forced into an io-wq worker: the reply goes from there (its
 * token cleared in the submitter's memory), then the receive parks and
 * completes when a message comes.
 */
TEST_F(uc, reply_recv_forced_into_a_worker_answers_and_parks)
{
	struct msgbox_reply_recv rr;
	char in[16] = { 0 };
	pid_t pid;

	pid = rr_take_call(&self->ring, self->fd, 'w', "W", &rr, in, sizeof(in),
			   0);
	ASSERT_LE(0, pid);
	io_uring_sqe_set_flags(cmd(&self->ring, self->fd, MSGBOX_IOC_REPLY_RECV,
				   &rr, 0, 2), IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	EXPECT_EQ(0, rr.reply.token);
	ASSERT_EQ(0, msgbox_send(self->fd, "m", 1, 0));
	EXPECT_EQ(1, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ('m', in[0]);
}

static void call_init(struct msgbox_call *c, const char *req, void *rep,
		      size_t rep_size)
{
	memset(c, 0, sizeof(*c));
	c->request.data = (uintptr_t)req;
	c->request.len = strlen(req);
	c->request.type = 1;
	c->reply.data = (uintptr_t)rep;
	c->reply.len = rep_size;
}

/* A caller on a ring: the call completes when the reply comes. */
TEST_F(uc, uring_call_completes_with_the_reply)
{
	struct msgbox_call c;
	char out[32] = { 0 }, in[32];
	struct msgbox_msg r;
	pid_t pid;

	call_init(&c, "ping", out, sizeof(out));
	cmd(&self->ring, self->fd, MSGBOX_IOC_CALL, &c, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-ETIME, mb_uring_reap(&self->ring, 100, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		mb_msg_init(&r, in, sizeof(in), 0, 0);
		CHILD_CHECK(msgbox_recvmsg(self->fd, &r) == 0, 2);
		CHILD_CHECK(r.len == 4 && !memcmp(in, "ping", 4) && r.token, 3);
		CHILD_CHECK(msgbox_reply(self->fd, r.token, "PONG!", 5) == 0, 4);
		_exit(0);
	}
	EXPECT_EQ(5, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(out, "PONG!", 5));
	EXPECT_EQ(5, c.reply.len);
	EXPECT_EQ(pid, c.reply.sender_pid);
	/* Written back with the reply, as the ioctl does. */
	EXPECT_NE(0, c.request.id);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/*
 * The two tests below: a receive parked on @ring for mailbox @fd (tag 7,
 * into @in), then a child that takes the request of the caller's blocking
 * call on @b and completes that receive while the caller waits, queueing
 * task work for it (TIF_NOTIFY_SIGNAL); the child goes on with @then(b,
 * its token).  Returns the child's pid.
 */
static pid_t park_then_complete_during_call(struct __test_metadata *_metadata,
					    struct io_uring *ring, int fd,
					    struct msgbox_msg *r, char *in,
					    size_t size, int b,
					    int (*then)(int b, __u64 token))
{
	pid_t pid;

	mb_msg_init(r, in, size, 0, 0);
	cmd(ring, fd, MSGBOX_IOC_RECV, r, 0, 7);
	EXPECT_EQ(1, io_uring_submit(ring));
	EXPECT_EQ(-ETIME, mb_uring_reap(ring, 100, NULL));
	pid = fork();
	if (pid == 0) {
		struct msgbox_msg q;
		char qb[8];

		mb_msg_init(&q, qb, sizeof(qb), 0, 0);
		CHILD_CHECK(msgbox_recvmsg(b, &q) == 0 && q.token, 2);
		CHILD_CHECK(msgbox_send(fd, "tw", 2, 0) == 0, 3);
		mb_sleep_ms(200);	/* the caller sleeps again, work pending */
		_exit(then(b, q.token));
	}
	return pid;
}

static int reply_done(int b, __u64 token)
{
	CHILD_CHECK(msgbox_reply(b, token, "done", 4) == 0, 4);
	return 0;
}

/*
 * A blocking CALL by a thread whose ring gets a completion meanwhile: the
 * completion's task work is no signal and must not end the call with
 * EINTR, which would abandon it (the reply then fails with EPIPE) since a
 * call, once sent, cannot restart.
 */
TEST_F(uc, ring_completion_during_a_blocking_call_does_not_interrupt_it)
{
	char in[32] = { 0 }, rep[32] = { 0 };
	struct msgbox_msg r;
	pid_t pid;
	int b;

	b = msgbox_create_anon(NULL, MB_RW);
	ASSERT_LE(0, b);
	pid = park_then_complete_during_call(_metadata, &self->ring, self->fd,
					     &r, in, sizeof(in), b, reply_done);
	ASSERT_LE(0, pid);
	EXPECT_EQ(4, msgbox_call(b, "q", 1, rep, sizeof(rep), MSGBOX_FOREVER))
		TH_LOG("call: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(rep, "done", 4));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(2, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "tw", 2));
	close(b);
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

/* Signal the caller (the child's parent), then find the call abandoned. */
static int signal_then_reply_late(int b, __u64 token)
{
	CHILD_CHECK(kill(getppid(), SIGUSR1) == 0, 4);
	mb_sleep_ms(500);
	/* Nobody waits for this reply any more. */
	CHILD_CHECK(msgbox_reply(b, token, "late", 4) == -1 && errno == EPIPE, 5);
	return 0;
}

/*
 * The other half: while that completion's task work waits for the call to
 * return, an ordinary signal still ends the call (EINTR, the call
 * abandoned: the late reply fails with EPIPE), and the task work then runs
 * on the way out (its completion is posted before the call returns).
 */
TEST_F(uc, signal_after_a_ring_completion_still_interrupts_a_blocking_call)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	char in[32] = { 0 }, rep[32] = { 0 };
	struct msgbox_msg r;
	pid_t pid;
	int b;

	b = msgbox_create_anon(NULL, MB_RW);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	usr1_seen = 0;
	pid = park_then_complete_during_call(_metadata, &self->ring, self->fd,
					     &r, in, sizeof(in), b,
					     signal_then_reply_late);
	ASSERT_LE(0, pid);
	EXPECT_EQ(-1, msgbox_call(b, "q", 1, rep, sizeof(rep),
				  4ull * MB_WAIT_MS * 1000000));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, usr1_seen);
	EXPECT_EQ(1, io_uring_cq_ready(&self->ring));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(2, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "tw", 2));
	signal(SIGUSR1, SIG_DFL);
	close(b);
}

/*
 * A timed call on a ring ends with -ETIMEDOUT once its deadline passed
 * without a reply, never before, as the ioctl does; the server's late
 * reply then fails with EPIPE.
 */
TEST_F(uc, uring_call_times_out_and_a_late_reply_fails)
{
	struct msgbox_call c;
	char out[32], in[32];
	struct msgbox_msg r;
	uint64_t t0;

	call_init(&c, "slow", out, sizeof(out));
	c.request.flags = MSGBOX_MSG_TIMEOUT;
	c.request.timeout_ns = 200000000;
	t0 = mb_now_ns(CLOCK_MONOTONIC);
	cmd(&self->ring, self->fd, MSGBOX_IOC_CALL, &c, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &r));
	ASSERT_NE(0, r.token);
	EXPECT_EQ(-ETIMEDOUT, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_LE(200000000, mb_now_ns(CLOCK_MONOTONIC) - t0);
	EXPECT_EQ(-1, msgbox_reply(self->fd, r.token, "late", 4));
	EXPECT_EQ(EPIPE, errno);

	/* Answered in time, a timed call completes with its reply. */
	call_init(&c, "fast", out, sizeof(out));
	c.request.flags = MSGBOX_MSG_TIMEOUT;
	c.request.timeout_ns = 60ull * 1000000000;
	cmd(&self->ring, self->fd, MSGBOX_IOC_CALL, &c, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	mb_msg_init(&r, in, sizeof(in), 0, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &r));
	ASSERT_EQ(0, msgbox_reply(self->fd, r.token, "ok", 2));
	EXPECT_EQ(2, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(out, "ok", 2));
}

/* A server gone without replying: the parked call learns ECONNRESET. */
TEST_F(uc, uring_call_fails_with_ECONNRESET_when_the_server_goes)
{
	struct msgbox_call c;
	char out[32];
	pid_t pid;

	call_init(&c, "hello?", out, sizeof(out));
	cmd(&self->ring, self->fd, MSGBOX_IOC_CALL, &c, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char in[32];
		int fd = msgbox_open(self->name, MSGBOX_FD_RECV);

		CHILD_CHECK(fd >= 0, 2);
		CHILD_CHECK(msgbox_recv(fd, in, sizeof(in), 0) == 6, 3);
		_exit(0);	/* the request dies with its file */
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-ECONNRESET, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
}

/* Cancelled by tag: a reply that comes later fails with EPIPE. */
TEST_F(uc, cancelled_uring_call_makes_a_late_reply_fail_with_EPIPE)
{
	struct msgbox_call c;
	struct msgbox_msg r;
	char out[32], in[32];
	__u64 ud;
	int i, res;

	call_init(&c, "slow", out, sizeof(out));
	cmd(&self->ring, self->fd, MSGBOX_IOC_CALL, &c, 5, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &r));
	ASSERT_NE(0, r.token);
	cmd(&self->ring, self->fd, MSGBOX_UCMD_CANCEL, NULL, 5, 2);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		res = mb_uring_reap(&self->ring, MB_WAIT_MS, &ud);
		if (ud == 2) {
			EXPECT_EQ(1, res);
		} else {
			EXPECT_EQ(-ECANCELED, res);
		}
	}
	EXPECT_EQ(-1, msgbox_reply(self->fd, r.token, "late", 4));
	EXPECT_EQ(EPIPE, errno);
}

/* A ring closed with a call parked: the call goes, the server sees EPIPE. */
TEST_F(uc, ring_close_cancels_a_parked_call)
{
	struct msgbox_call c;
	struct msgbox_msg r;
	char out[32], in[32];

	call_init(&c, "bye", out, sizeof(out));
	cmd(&self->ring, self->fd, MSGBOX_IOC_CALL, &c, 0, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &r));
	io_uring_queue_exit(&self->ring);
	self->ring_ok = false;
	/*
	 * Ring teardown is asynchronous (and on 6.1 the module's monitor
	 * looks every 100 ms): a reply attempted now could still win.  Give
	 * it ten monitor periods.
	 */
	mb_sleep_ms(1000);
	EXPECT_EQ(-1, msgbox_reply(self->fd, r.token, "x", 1));
	EXPECT_EQ(EPIPE, errno);
}

TEST_F(uc, batches_through_one_sqe_each)
{
	struct msgbox_msg s[8], r[8];
	struct msgbox_batch b;
	char out[8][4], in[8][16];
	int i;

	for (i = 0; i < 8; i++) {
		snprintf(out[i], sizeof(out[i]), "m%d", i);
		mb_msg_init(&s[i], out[i], 2, 1, 0);
		mb_msg_init(&r[i], in[i], sizeof(in[i]), 0, 0);
	}
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)s;
	b.count = 8;
	b.msg_size = sizeof(s[0]);
	cmd(&self->ring, self->fd, MSGBOX_IOC_SEND_BATCH, &b, 0, 1);
	/* Capacity 8: all of them. */
	ASSERT_EQ(8, run1(&self->ring));
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)r;
	b.count = 8;
	b.msg_size = sizeof(r[0]);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV_BATCH, &b, 0, 2);
	ASSERT_EQ(8, run1(&self->ring));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, memcmp(in[i], out[i], 2));
	/* Empty: a uring receive batch never waits. */
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)r;
	b.count = 8;
	b.msg_size = sizeof(r[0]);
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV_BATCH, &b, 0, 3);
	EXPECT_EQ(-EAGAIN, run1(&self->ring));
}

TEST_F(uc, send_to_a_full_mailbox_fails_with_EAGAIN_never_waits)
{
	struct msgbox_msg s;
	int i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, "f", 1, 0));
	mb_msg_init(&s, "g", 1, 1, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_SEND, &s, 0, 1);
	EXPECT_EQ(-EAGAIN, run1(&self->ring));
	EXPECT_EQ(0, mb_io_workers());
	EXPECT_EQ(8, mb_nr_msgs(self->fd));
}

TEST_F(uc, bad_commands_fail_precisely_and_change_nothing)
{
	struct msgbox_uring_cmd uc = { 0 };
	struct io_uring_sqe *sqe;
	struct msgbox_info info;
	struct msgbox_msg m;
	char in[16];
	int rfd;

	/* Not one of msgbox's ioctl numbers. */
	cmd(&self->ring, self->fd, _IO('x', 1), NULL, 0, 1);
	EXPECT_EQ(-EOPNOTSUPP, run1(&self->ring));
	/* INFO is an ioctl but not a command. */
	cmd(&self->ring, self->fd, MSGBOX_IOC_INFO, &info, 0, 1);
	EXPECT_EQ(-EOPNOTSUPP, run1(&self->ring));
	/* Non-zero padding. */
	mb_msg_init(&m, in, sizeof(in), 0, 0);
	uc.arg = (uintptr_t)&m;
	uc.__pad = 1;
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, self->fd, NULL, 0, 0);
	sqe->cmd_op = MSGBOX_IOC_RECV;
	memcpy(sqe->cmd, &uc, sizeof(uc));
	EXPECT_EQ(-EINVAL, run1(&self->ring));
	/* A tag on anything but a receive or a cancel. */
	mb_msg_init(&m, "t", 1, 1, 0);
	cmd(&self->ring, self->fd, MSGBOX_IOC_SEND, &m, 5, 1);
	EXPECT_EQ(-EINVAL, run1(&self->ring));
	/* A send that would wait for its ack. */
	mb_msg_init(&m, "t", 1, 1, MSGBOX_MSG_WAIT_ACK);
	cmd(&self->ring, self->fd, MSGBOX_IOC_SEND, &m, 0, 1);
	EXPECT_EQ(-EINVAL, run1(&self->ring));
	/* A bad argument pointer. */
	cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, (void *)8, 0, 1);
	EXPECT_EQ(-EFAULT, run1(&self->ring));
	/* A cancel with an argument. */
	cmd(&self->ring, self->fd, MSGBOX_UCMD_CANCEL, &m, 1, 1);
	EXPECT_EQ(-EINVAL, run1(&self->ring));
	/* Receiving on a send-only descriptor. */
	rfd = msgbox_open(self->name, MSGBOX_FD_SEND);
	ASSERT_LE(0, rfd);
	mb_msg_init(&m, in, sizeof(in), 0, 0);
	cmd(&self->ring, rfd, MSGBOX_IOC_RECV, &m, 0, 1);
	EXPECT_EQ(-EBADF, run1(&self->ring));
	close(rfd);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.sent);
	EXPECT_EQ(0, info.recv_waiters);
}

/*
 * Parked receives and racing senders and cancels: every message is
 * received exactly once, by a completed command or by the final drain.
 */
TEST_F(uc, cancel_racing_sends_loses_and_duplicates_nothing)
{
	enum { ROUNDS = 50, PARK = 4 };
	unsigned char seen[ROUNDS * PARK] = { 0 };
	struct msgbox_msg r[PARK];
	unsigned int in[PARK];
	unsigned int sent = 0, v;
	int round, i, got, res;
	__u64 ud;

	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < PARK; i++) {
			mb_msg_init(&r[i], &in[i], sizeof(in[i]), 0, 0);
			cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r[i], 7, i);
		}
		ASSERT_EQ(PARK, io_uring_submit(&self->ring));
		/* Some messages now, a cancel in the middle of them. */
		for (i = 0; i < round % (PARK + 1); i++, sent++)
			ASSERT_EQ(0, msgbox_send(self->fd, &sent, sizeof(sent), 0));
		cmd(&self->ring, self->fd, MSGBOX_UCMD_CANCEL, NULL, 7, 100);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		for (i = 0; i < round % 3; i++, sent++)
			ASSERT_EQ(0, msgbox_send(self->fd, &sent, sizeof(sent), 0));
		for (got = 0; got < PARK + 1; got++) {
			res = mb_uring_reap(&self->ring, MB_WAIT_MS, &ud);
			ASSERT_NE(-ETIME, res);
			if (ud == 100 || res == -ECANCELED)
				continue;
			ASSERT_EQ(sizeof(unsigned int), res);
			v = in[ud];
			ASSERT_LT(v, sent);
			EXPECT_EQ(0, seen[v]);
			seen[v] = 1;
		}
		while (msgbox_recv(self->fd, &v, sizeof(v), MSGBOX_MSG_NONBLOCK) ==
		       sizeof(v)) {
			ASSERT_LT(v, sent);
			EXPECT_EQ(0, seen[v]);
			seen[v] = 1;
		}
		ASSERT_EQ(0, mb_recv_waiters(self->fd));
	}
	for (v = 0; v < sent; v++)
		EXPECT_EQ(1, seen[v]);
}

/*
 * Fault injection (debug kernel only): a receive command issued with its
 * N-th fault point failing, inline (a message waits) or parked (none
 * yet), for every N until none is met.  Failing, it must fail cleanly
 * (the submission: ENOMEM, EFAULT or EAGAIN; the completion: -ENOMEM or
 * -EFAULT) and leave the message where it was; succeeding, it must
 * deliver it intact.  kmemleak, scanned by the runner, checks the rest.
 */
TEST_F_TIMEOUT(uc, uring_receive_fails_cleanly_at_every_fault_point, 600)
{
	int nth, total = 0;

	nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth < 0)
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	mb_knob("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	mb_knob("/sys/kernel/debug/failslab/verbose", "0");
	mb_knob("/sys/kernel/debug/fail_usercopy/verbose", "0");
	for (int parked = 0; parked < 2; parked++) {
		unsigned int seq = 0;
		bool queued = false;
		int n;

		for (n = 1; n < 5000; n++) {
			struct msgbox_info info;
			char buf[64], in[64];
			struct msgbox_msg r;
			bool fired;
			int ret, e, res;

			if (!parked && !queued) {
				mb_fill(buf, sizeof(buf), ++seq);
				ASSERT_EQ(0, msgbox_send(self->fd, buf, sizeof(buf), 0));
				queued = true;
			}
			memset(in, 0, sizeof(in));
			mb_msg_init(&r, in, sizeof(in), 0, 0);
			cmd(&self->ring, self->fd, MSGBOX_IOC_RECV, &r, 0, n);
			ASSERT_EQ(0, mb_fi_arm(nth, n));
			ret = io_uring_submit(&self->ring);
			e = -ret;
			fired = mb_fi_fired(nth);
			if (ret < 0) {
				/* Not taken: submitted again, unharmed. */
				ASSERT_TRUE(fired);
				ASSERT_TRUE(e == ENOMEM || e == EFAULT || e == EAGAIN)
					TH_LOG("point %d: submit errno %d", n, e);
				ASSERT_EQ(1, io_uring_submit(&self->ring));
			} else {
				ASSERT_EQ(1, ret);
			}
			if (parked) {
				res = mb_uring_reap(&self->ring, 20, NULL);
				if (res == -ETIME) {
					/* Parked: a message completes it. */
					ASSERT_EQ(1, mb_recv_waiters(self->fd));
					mb_fill(buf, sizeof(buf), ++seq);
					ASSERT_EQ(0, msgbox_send(self->fd, buf,
								 sizeof(buf), 0));
					res = mb_uring_reap(&self->ring, MB_WAIT_MS, NULL);
					ASSERT_EQ(sizeof(buf), res);
					ASSERT_TRUE(mb_check(in, sizeof(buf), seq));
				} else {
					ASSERT_TRUE(fired);
					ASSERT_TRUE(res == -ENOMEM || res == -EFAULT)
						TH_LOG("point %d: result %d", n, res);
				}
			} else {
				res = mb_uring_reap(&self->ring, MB_WAIT_MS, NULL);
				if (res == sizeof(buf)) {
					ASSERT_TRUE(mb_check(in, sizeof(buf), seq));
					queued = false;
				} else {
					ASSERT_TRUE(fired);
					ASSERT_TRUE(res == -ENOMEM || res == -EFAULT)
						TH_LOG("point %d: result %d", n, res);
				}
			}
			ASSERT_EQ(0, msgbox_info(self->fd, &info));
			ASSERT_EQ(queued ? 1 : 0, info.nr_msgs);
			ASSERT_EQ(0, info.recv_waiters);
			if (!fired)
				break;
		}
		ASSERT_LT(1, n);
		total += n - 1;
	}
	close(nth);
	printf("# fault points: uring receive %d\n", total);
}

TEST_HARNESS_MAIN
