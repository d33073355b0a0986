// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: io_uring level 1.  Plain IORING_OP_READ/WRITE on a
 * mailbox descriptor move whole messages and complete asynchronously
 * without io-wq worker threads: the file is NOWAIT-capable, so io_uring
 * tries with IOCB_NOWAIT, gets EAGAIN, arms poll and retries when the
 * mailbox becomes ready.  A worker would show up as an "iou-wrk-" thread
 * of this process while an operation is pending: the tests count them.
 */
#include "msgbox_uring_test.h"

FIXTURE(ur) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
	struct io_uring ring;
	bool ring_ok;
};

FIXTURE_SETUP(ur)
{
	int ret;

	self->fd = -1;
	self->ring_ok = false;
	mb_make_name(self->name, sizeof(self->name), "ur");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	ret = io_uring_queue_init(8, &self->ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	self->ring_ok = true;
	self->fd = mb_create(self->name, 2, 64, 128, MB_RW);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ur)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

static struct io_uring_sqe *prep(struct io_uring *ring, bool rd, int fd,
				 void *buf, unsigned int len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (rd)
		io_uring_prep_read(sqe, fd, buf, len, 0);
	else
		io_uring_prep_write(sqe, fd, buf, len, 0);
	return sqe;
}

TEST_F(ur, write_and_read_move_whole_messages)
{
	char in[64] = { 0 };

	/* io_uring orders linked operations only. */
	io_uring_sqe_set_flags(prep(&self->ring, false, self->fd, "first", 5),
			       IOSQE_IO_LINK);
	prep(&self->ring, false, self->fd, "second!", 7);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	EXPECT_EQ(5, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(7, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	prep(&self->ring, true, self->fd, in, sizeof(in));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(5, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "first", 5));
	/* A buffer too small for the next message: EMSGSIZE, nothing lost. */
	prep(&self->ring, true, self->fd, in, 3);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EMSGSIZE, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(7, msgbox_recv(self->fd, in, sizeof(in), MSGBOX_MSG_NONBLOCK));
}

TEST_F(ur, pending_read_completes_on_a_later_send_without_io_workers)
{
	char in[64] = { 0 };
	pid_t pid;

	prep(&self->ring, true, self->fd, in, sizeof(in));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* Pending: parked on the mailbox's poll queue, not in a worker. */
	EXPECT_EQ(-ETIME, mb_uring_reap(&self->ring, 100, NULL));
	EXPECT_EQ(0, mb_io_workers());
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_send(self->fd, "later", 5, 0) == 0, 2);
		_exit(0);
	}
	EXPECT_EQ(5, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "later", 5));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* The worker count above could miss workers: show that it sees one. */
TEST_F(ur, worker_count_sees_a_read_forced_into_a_worker)
{
	char in[64];
	int i, n = 0;

	io_uring_sqe_set_flags(prep(&self->ring, true, self->fd, in, sizeof(in)),
			       IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 100 && !n; i++) {
		mb_sleep_ms(10);
		n = mb_io_workers();
	}
	EXPECT_LE(1, n);
	ASSERT_EQ(0, msgbox_send(self->fd, "w", 1, 0));
	EXPECT_EQ(1, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
}

TEST_F(ur, pending_write_on_a_full_mailbox_completes_after_a_receive)
{
	char in[64];

	ASSERT_EQ(0, msgbox_send(self->fd, "a", 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "b", 1, 0));
	prep(&self->ring, false, self->fd, "c", 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-ETIME, mb_uring_reap(&self->ring, 100, NULL));
	EXPECT_EQ(0, mb_io_workers());
	EXPECT_EQ(1, msgbox_recv(self->fd, in, sizeof(in), 0));
	EXPECT_EQ(1, msgbox_recv(self->fd, in, sizeof(in), 0));
	EXPECT_EQ(1, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(1, msgbox_recv(self->fd, in, sizeof(in), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ('c', in[0]);
}

TEST_F(ur, pending_read_fails_with_EIDRM_on_destroy)
{
	char in[64];

	prep(&self->ring, true, self->fd, in, sizeof(in));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-ETIME, mb_uring_reap(&self->ring, 100, NULL));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(-EIDRM, mb_uring_reap(&self->ring, MB_WAIT_MS, NULL));
}

TEST_HARNESS_MAIN
