// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: the message model.  Priorities (higher first, FIFO
 * within one), SysV type selectors (any, exact, any-but, lowest <= T),
 * peek, truncate, absolute timeouts on both clocks, and the direct
 * hand-over to a sleeping receiver whose selector matches.
 */
#include "msgbox_test.h"

FIXTURE(ty) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
};

/* 16 messages of up to 64 bytes. */
FIXTURE_SETUP(ty)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "ty");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 16, 64, 1024, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
}

FIXTURE_TEARDOWN(ty)
{
	if (self->fd >= 0)
		EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

/* Send the int @tag as a message of @type and @prio, without blocking. */
static int put(int fd, int tag, __s64 type, __u32 prio)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&tag;
	m.len = sizeof(tag);
	m.type = type;
	m.priority = prio;
	m.flags = MSGBOX_MSG_NONBLOCK;
	return msgbox_sendmsg(fd, &m);
}

/* Receive with selector @type and @flags; the tag, or -1 with errno. */
static int get(int fd, __s64 type, __u32 flags, struct msgbox_msg *out)
{
	struct msgbox_msg m;
	int tag = -1;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&tag;
	m.len = sizeof(tag);
	m.type = type;
	m.flags = flags | MSGBOX_MSG_NONBLOCK;
	if (msgbox_recvmsg(fd, &m))
		return -1;
	if (out)
		*out = m;
	return tag;
}

TEST_F(ty, higher_priority_is_received_first_and_fifo_within_a_priority)
{
	static const __u32 prio[] = { 0, 5, 5, 1, MSGBOX_PRIO_MAX, 0, 5 };
	/* Expected order of tags: by priority descending, then send order. */
	static const int order[] = { 4, 1, 2, 6, 3, 0, 5 };
	struct msgbox_msg m;
	unsigned int i;

	for (i = 0; i < 7; i++)
		ASSERT_EQ(0, put(self->fd, i, 1, prio[i]));
	for (i = 0; i < 7; i++) {
		EXPECT_EQ(order[i], get(self->fd, 0, 0, &m));
		EXPECT_EQ(prio[order[i]], m.priority);
	}
	EXPECT_EQ(-1, get(self->fd, 0, 0, NULL));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(ty, priority_above_max_gives_EINVAL_and_queues_nothing)
{
	struct msgbox_info info;

	EXPECT_EQ(-1, put(self->fd, 1, 1, MSGBOX_PRIO_MAX + 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.nr_msgs);
}

TEST_F(ty, read_takes_the_highest_priority_first)
{
	int tag = -1;

	ASSERT_EQ(0, put(self->fd, 10, 1, 0));
	ASSERT_EQ(0, put(self->fd, 11, 2, 9));
	ASSERT_EQ((ssize_t)sizeof(tag), read(self->fd, &tag, sizeof(tag)));
	EXPECT_EQ(11, tag);
}

TEST_F(ty, selector_exact_type_takes_first_of_that_type_only)
{
	ASSERT_EQ(0, put(self->fd, 0, 3, 0));
	ASSERT_EQ(0, put(self->fd, 1, 7, 0));
	ASSERT_EQ(0, put(self->fd, 2, 3, 0));
	ASSERT_EQ(0, put(self->fd, 3, 7, 2));
	EXPECT_EQ(3, get(self->fd, 7, 0, NULL));	/* priority first */
	EXPECT_EQ(1, get(self->fd, 7, 0, NULL));
	EXPECT_EQ(-1, get(self->fd, 7, 0, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, get(self->fd, 3, 0, NULL));
	EXPECT_EQ(2, get(self->fd, 3, 0, NULL));
}

TEST_F(ty, selector_except_takes_any_other_type)
{
	ASSERT_EQ(0, put(self->fd, 0, 4, 0));
	ASSERT_EQ(0, put(self->fd, 1, 4, 0));
	ASSERT_EQ(0, put(self->fd, 2, 9, 0));
	EXPECT_EQ(2, get(self->fd, 4, MSGBOX_MSG_EXCEPT, NULL));
	EXPECT_EQ(-1, get(self->fd, 4, MSGBOX_MSG_EXCEPT, NULL));
	EXPECT_EQ(EAGAIN, errno);
	/* EXCEPT needs a positive type. */
	EXPECT_EQ(-1, get(self->fd, 0, MSGBOX_MSG_EXCEPT, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, get(self->fd, -4, MSGBOX_MSG_EXCEPT, NULL));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(ty, selector_negative_takes_lowest_type_up_to_its_magnitude)
{
	struct msgbox_msg m;

	ASSERT_EQ(0, put(self->fd, 0, 5, 0));
	ASSERT_EQ(0, put(self->fd, 1, 2, 0));
	ASSERT_EQ(0, put(self->fd, 2, 8, 9));
	ASSERT_EQ(0, put(self->fd, 3, 2, 4));	/* same type, higher prio */
	EXPECT_EQ(3, get(self->fd, -6, 0, &m));
	EXPECT_EQ(2, m.type);
	EXPECT_EQ(1, get(self->fd, -6, 0, NULL));
	EXPECT_EQ(0, get(self->fd, -6, 0, NULL));
	EXPECT_EQ(-1, get(self->fd, -6, 0, NULL));	/* only type 8 left */
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(2, get(self->fd, INT64_MIN, 0, NULL));
}

TEST_F(ty, peek_leaves_the_message_queued)
{
	struct msgbox_msg m1, m2;
	struct msgbox_info info;

	ASSERT_EQ(0, put(self->fd, 42, 6, 1));
	EXPECT_EQ(42, get(self->fd, 0, MSGBOX_MSG_PEEK, &m1));
	EXPECT_EQ(42, get(self->fd, 6, MSGBOX_MSG_PEEK, NULL));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(0, info.received);
	EXPECT_EQ(42, get(self->fd, 0, 0, &m2));
	EXPECT_EQ(m1.id, m2.id);
	EXPECT_EQ(m1.sender_pid, m2.sender_pid);
	EXPECT_EQ(m1.send_time_ns, m2.send_time_ns);
}

TEST_F(ty, blocking_peek_wakes_on_a_matching_send_and_leaves_it_queued)
{
	struct msgbox_info info;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg m;
		int tag = -1;

		memset(&m, 0, sizeof(m));
		m.data = (uintptr_t)&tag;
		m.len = sizeof(tag);
		m.type = 8;
		m.flags = MSGBOX_MSG_PEEK;
		CHILD_CHECK(msgbox_recvmsg(self->fd, &m) == 0, 2);
		CHILD_CHECK(tag == 77, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, put(self->fd, 76, 3, 0));	/* not selected */
	ASSERT_EQ(0, put(self->fd, 77, 8, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(2, info.nr_msgs);
}

TEST_F(ty, trunc_takes_a_too_large_message_and_reports_its_length)
{
	char big[40], buf[8];
	struct msgbox_msg m;
	struct msgbox_info info;

	mb_fill(big, sizeof(big), 3);
	ASSERT_EQ(0, msgbox_send(self->fd, big, sizeof(big), 0));
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = sizeof(buf);
	m.flags = MSGBOX_MSG_NONBLOCK;
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EMSGSIZE, errno);
	m.flags |= MSGBOX_MSG_TRUNC;
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(sizeof(big), m.len);
	EXPECT_TRUE(mb_check(buf, sizeof(buf), 3));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.nr_msgs);
}

TEST_F(ty, sleeping_receiver_gets_only_the_type_it_selects)
{
	struct msgbox_info info;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg m;
		int tag = -1;

		memset(&m, 0, sizeof(m));
		m.data = (uintptr_t)&tag;
		m.len = sizeof(tag);
		m.type = 5;
		CHILD_CHECK(msgbox_recvmsg(self->fd, &m) == 0, 2);
		CHILD_CHECK(tag == 2 && m.type == 5, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, put(self->fd, 1, 4, 0));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));	/* still asleep */
	ASSERT_EQ(0, put(self->fd, 2, 5, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(1, get(self->fd, 0, 0, NULL));
}

/* A full mailbox of type 1; a sender blocked with type 2; a type-2 receive. */
TEST_F(ty, receive_takes_a_matching_message_from_a_blocked_sender)
{
	struct msgbox_info info;
	int fd, i;
	pid_t pid;

	close(self->fd);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	fd = self->fd = mb_create(self->name, 2, 64, 1024, MB_RW);
	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, put(fd, i, 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg m;
		int tag = 9;

		memset(&m, 0, sizeof(m));
		m.data = (uintptr_t)&tag;
		m.len = sizeof(tag);
		m.type = 2;
		CHILD_CHECK(msgbox_sendmsg(fd, &m) == 0, 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(fd, 0, 1));
	EXPECT_EQ(9, get(fd, 2, 0, NULL));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(2, info.nr_msgs);
	EXPECT_EQ(3, info.sent);
}

static int recv_abs(int fd, __u32 clockflag, __u64 deadline)
{
	struct msgbox_msg m;
	int tag;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&tag;
	m.len = sizeof(tag);
	m.flags = MSGBOX_MSG_TIMEOUT | MSGBOX_MSG_ABSTIME | clockflag;
	m.timeout_ns = deadline;
	return msgbox_recvmsg(fd, &m);
}

TEST_F(ty, absolute_deadline_on_monotonic_clock_expires_with_ETIMEDOUT)
{
	__u64 start = mb_now_ns(CLOCK_MONOTONIC);

	EXPECT_EQ(-1, recv_abs(self->fd, 0, start + 50000000ull));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(start + 50000000ull, mb_now_ns(CLOCK_MONOTONIC));
}

TEST_F(ty, absolute_deadline_on_realtime_clock_expires_with_ETIMEDOUT)
{
	__u64 start = mb_now_ns(CLOCK_REALTIME);

	EXPECT_EQ(-1, recv_abs(self->fd, MSGBOX_MSG_REALTIME, start + 50000000ull));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(start + 50000000ull, mb_now_ns(CLOCK_REALTIME));
}

TEST_F(ty, expired_deadline_still_takes_a_waiting_message)
{
	ASSERT_EQ(0, put(self->fd, 5, 1, 0));
	EXPECT_EQ(0, recv_abs(self->fd, 0, 1));
	EXPECT_EQ(-1, recv_abs(self->fd, 0, 1));
	EXPECT_EQ(ETIMEDOUT, errno);
}

TEST_F(ty, timeout_flags_are_validated)
{
	struct msgbox_msg m;
	int tag;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&tag;
	m.len = sizeof(tag);
	m.flags = MSGBOX_MSG_ABSTIME;		/* without TIMEOUT */
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EINVAL, errno);
	m.flags = MSGBOX_MSG_TIMEOUT | MSGBOX_MSG_REALTIME;	/* without ABSTIME */
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EINVAL, errno);
	m.flags = MSGBOX_MSG_PEEK;		/* receive-only flag on send */
	m.type = 1;
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EINVAL, errno);
}

static int put_ttl(int fd, int tag, __u64 ttl_ns, __u32 flags)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&tag;
	m.len = sizeof(tag);
	m.type = 1;
	m.flags = flags;
	m.ttl_ns = ttl_ns;
	return msgbox_sendmsg(fd, &m);
}

TEST_F(ty, message_past_its_time_to_live_is_discarded_unseen)
{
	struct msgbox_info info;

	ASSERT_EQ(0, put_ttl(self->fd, 1, 50000000, MSGBOX_MSG_NONBLOCK));
	ASSERT_EQ(0, put_ttl(self->fd, 2, 0, MSGBOX_MSG_NONBLOCK));
	ASSERT_EQ(0, put_ttl(self->fd, 3, 60ull * 1000000000, MSGBOX_MSG_NONBLOCK));
	mb_sleep_ms(100);
	EXPECT_EQ(2, get(self->fd, 0, 0, NULL));
	EXPECT_EQ(3, get(self->fd, 0, 0, NULL));
	EXPECT_EQ(-1, get(self->fd, 0, 0, NULL));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.expired);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(0, info.nr_bytes);
}

TEST_F(ty, expiry_frees_room_for_a_blocked_sender)
{
	pid_t pid;
	int i;

	close(self->fd);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	self->fd = mb_create(self->name, 2, 64, 1024, MB_RW);
	ASSERT_LE(0, self->fd);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, put_ttl(self->fd, 10 + i, 50000000, MSGBOX_MSG_NONBLOCK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(put_ttl(self->fd, 99, 0, 0) == 0, 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	mb_sleep_ms(100);
	/* The receive discards both, which lets the sender in. */
	EXPECT_EQ(99, get(self->fd, 0, 0, NULL));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(ty, rendezvous_message_that_expires_gives_its_sender_ETIMEDOUT)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(put_ttl(self->fd, 7, 50000000, MSGBOX_MSG_SYNC) == -1, 2);
		CHILD_CHECK(errno == ETIMEDOUT, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	mb_sleep_ms(100);
	EXPECT_EQ(-1, get(self->fd, 0, 0, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_HARNESS_MAIN
