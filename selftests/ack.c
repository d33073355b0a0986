// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: acknowledged delivery.  A message received with
 * MSGBOX_MSG_ACK stays in flight (holding its room) until acked; a NACK or
 * the receiver's death (SIGKILL included) redelivers it in its original
 * place with its delivery count raised; after max_deliveries it goes to
 * the dead-letter mailbox.  Nothing is lost, nothing is duplicated once
 * acked.
 */
#include "msgbox_test.h"

FIXTURE(ak) {
	char name[32];		/* unique to this test */
	char dlq[40];		/* a dead-letter mailbox's name */
	int fd;			/* RECV|SEND descriptor on it */
};

FIXTURE_SETUP(ak)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "ak");
	snprintf(self->dlq, sizeof(self->dlq), "%s-dlq", self->name);
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 4, 64, 256, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(ak)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
	EXPECT_EQ(0, mb_destroy_quiet(self->dlq));
}

/* Receive with @flags into an int; the value or -1.  *@m gets the rest. */
static int take(int fd, __u32 flags, struct msgbox_msg *out)
{
	struct msgbox_msg m;
	int v = -1;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&v;
	m.len = sizeof(v);
	m.flags = flags;
	if (msgbox_recvmsg(fd, &m))
		return -1;
	if (out)
		*out = m;
	return v;
}

static int put(int fd, int v)
{
	return msgbox_send(fd, &v, sizeof(v), MSGBOX_MSG_NONBLOCK);
}

#define ACKNB	(MSGBOX_MSG_ACK | MSGBOX_MSG_NONBLOCK)

TEST_F(ak, acked_message_is_gone_and_cannot_be_acked_twice)
{
	struct msgbox_msg m;

	ASSERT_EQ(0, put(self->fd, 7));
	EXPECT_EQ(7, take(self->fd, ACKNB, &m));
	EXPECT_EQ(1, m.deliveries);
	EXPECT_EQ(1, mb_info_of(self->fd).in_flight);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
	EXPECT_EQ(0, msgbox_ack(self->fd, m.id));
	EXPECT_EQ(0, mb_info_of(self->fd).in_flight);
	EXPECT_EQ(-1, msgbox_ack(self->fd, m.id));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, take(self->fd, ACKNB, NULL));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(ak, messages_in_flight_hold_their_room)
{
	struct msgbox_msg m;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, put(self->fd, i));
	EXPECT_EQ(0, take(self->fd, ACKNB, &m));
	/* Taken but not acked: the mailbox is still full. */
	EXPECT_EQ(-1, put(self->fd, 9));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, msgbox_ack(self->fd, m.id));
	EXPECT_EQ(0, put(self->fd, 9));
}

TEST_F(ak, nack_redelivers_at_once_in_the_original_place)
{
	struct msgbox_msg m;

	ASSERT_EQ(0, put(self->fd, 1));
	ASSERT_EQ(0, put(self->fd, 2));
	EXPECT_EQ(1, take(self->fd, ACKNB, &m));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));
	EXPECT_EQ(1, take(self->fd, ACKNB, &m));
	EXPECT_EQ(2, m.deliveries);
	EXPECT_EQ(0, msgbox_ack(self->fd, m.id));
	EXPECT_EQ(2, take(self->fd, MSGBOX_MSG_NONBLOCK, &m));
	EXPECT_EQ(1, m.deliveries);
	EXPECT_EQ(1, mb_info_of(self->fd).redelivered);
}

TEST_F(ak, receiver_killed_mid_message_loses_nothing)
{
	int ready[2], i;
	pid_t pid;
	char c;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, put(self->fd, 10 + i));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s = msgbox_open(self->name, MSGBOX_FD_RECV);

		CHILD_CHECK(s >= 0, 2);
		for (i = 0; i < 3; i++)
			CHILD_CHECK(take(s, ACKNB, NULL) == 10 + i, 3);
		CHILD_CHECK(write(ready[1], "r", 1) == 1, 4);
		pause();		/* dies before acking anything */
		_exit(5);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(3, mb_info_of(self->fd).in_flight);
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	for (i = 0; i < 3; i++) {
		struct msgbox_msg m;

		EXPECT_EQ(10 + i, take(self->fd, MSGBOX_MSG_NONBLOCK, &m));
		EXPECT_EQ(2, m.deliveries);
	}
	EXPECT_EQ(0, mb_info_of(self->fd).in_flight);
	EXPECT_EQ(3, mb_info_of(self->fd).redelivered);
	close(ready[0]);
	close(ready[1]);
}

TEST_F(ak, redelivery_goes_straight_to_a_waiting_receiver)
{
	struct msgbox_msg m;
	pid_t pid;
	int s;

	s = msgbox_open(self->name, MSGBOX_FD_RECV);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, put(self->fd, 5));
	EXPECT_EQ(5, take(s, ACKNB, &m));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg r;

		close(s);	/* the parent's close below must be the last */
		CHILD_CHECK(take(self->fd, MSGBOX_MSG_ACK, &r) == 5, 2);
		CHILD_CHECK(r.deliveries == 2, 3);
		CHILD_CHECK(msgbox_ack(self->fd, r.id) == 0, 4);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, close(s));		/* in flight on s: redelivered */
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_info_of(self->fd).in_flight);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
}

static int set_dead_letter(int fd, unsigned int max, int dlq_fd)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_DEAD_LETTER,
				     .max_deliveries = max,
				     .dead_letter_fd = dlq_fd };

	return msgbox_setattr(fd, &sa);
}

TEST_F(ak, too_many_deliveries_go_to_the_dead_letter_mailbox)
{
	struct msgbox_msg m;
	int dlq, i;

	dlq = mb_create(self->dlq, 4, 64, 256, MB_RW);
	ASSERT_LE(0, dlq);
	ASSERT_EQ(0, set_dead_letter(self->fd, 2, dlq));
	EXPECT_EQ(2, mb_info_of(self->fd).max_deliveries);
	ASSERT_EQ(0, put(self->fd, 42));
	for (i = 1; i <= 2; i++) {
		EXPECT_EQ(42, take(self->fd, ACKNB, &m));
		EXPECT_EQ(i, m.deliveries);
		ASSERT_EQ(0, msgbox_nack(self->fd, m.id));
	}
	/* Delivered twice, never acked: dead-lettered. */
	EXPECT_EQ(-1, take(self->fd, ACKNB, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, mb_info_of(self->fd).dead_lettered);
	/* The count goes on: two failed deliveries, and this one. */
	EXPECT_EQ(42, take(dlq, MSGBOX_MSG_NONBLOCK, &m));
	EXPECT_EQ(3, m.deliveries);

	/* Without a dead-letter mailbox the message is dropped, counted. */
	ASSERT_EQ(0, set_dead_letter(self->fd, 1, -1));
	ASSERT_EQ(0, put(self->fd, 43));
	EXPECT_EQ(43, take(self->fd, ACKNB, &m));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));
	EXPECT_EQ(-1, take(self->fd, ACKNB, NULL));
	EXPECT_EQ(1, mb_info_of(self->fd).dropped);
	close(dlq);
}

TEST_F(ak, an_unlinked_dead_letter_mailbox_goes_with_its_last_descriptor)
{
	struct msgbox_msg m;
	int dlq;

	dlq = mb_create(self->dlq, 4, 64, 256, MB_RW);
	ASSERT_LE(0, dlq);
	ASSERT_EQ(0, set_dead_letter(self->fd, 1, dlq));
	ASSERT_EQ(0, msgbox_unlink(self->dlq));

	/* Unlinked but open: dead letters still reach it. */
	ASSERT_EQ(0, put(self->fd, 1));
	EXPECT_EQ(1, take(self->fd, ACKNB, &m));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));
	EXPECT_EQ(1, mb_info_of(self->fd).dead_lettered);
	EXPECT_EQ(1, mb_nr_msgs(dlq));

	/*
	 * Its last descriptor closed, nothing could ever read it again: it
	 * is destroyed, though this mailbox still refers to it, and what
	 * would have gone there is dropped instead of piling up.
	 */
	EXPECT_EQ(0, close(dlq));
	ASSERT_EQ(0, put(self->fd, 2));
	EXPECT_EQ(2, take(self->fd, ACKNB, &m));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));
	EXPECT_EQ(1, mb_info_of(self->fd).dead_lettered);
	EXPECT_EQ(1, mb_info_of(self->fd).dropped);
}

TEST_F(ak, dead_letter_configuration_is_validated)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_MODE, .mode = 0600,
				     .max_deliveries = 3 };
	int dlq, ro, p[2];

	dlq = mb_create(self->dlq, 4, 64, 256, MB_RW);
	ASSERT_LE(0, dlq);
	/* Fields without their mask bit. */
	EXPECT_EQ(-1, msgbox_setattr(self->fd, &sa));
	EXPECT_EQ(EINVAL, errno);
	/* Not itself; not a mailbox with a dead-letter mailbox of its own. */
	EXPECT_EQ(-1, set_dead_letter(self->fd, 2, self->fd));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, set_dead_letter(self->fd, 2, dlq));
	EXPECT_EQ(-1, set_dead_letter(dlq, 2, self->fd));
	EXPECT_EQ(EINVAL, errno);
	/* A descriptor that is no mailbox, or cannot send. */
	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, set_dead_letter(self->fd, 2, p[0]));
	EXPECT_EQ(EINVAL, errno);
	ro = msgbox_open(self->dlq, MSGBOX_FD_RECV);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-1, set_dead_letter(self->fd, 2, ro));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, set_dead_letter(self->fd, 2, 9999));
	EXPECT_EQ(EBADF, errno);
	close(ro);
	close(p[0]);
	close(p[1]);
	close(dlq);
}

TEST_F(ak, ack_arguments_are_validated)
{
	struct msgbox_ack a = { .id = 1, .flags = 4 };
	struct msgbox_msg m;

	ASSERT_EQ(0, put(self->fd, 1));
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_ACK, &a));
	EXPECT_EQ(EINVAL, errno);
	a.flags = 0;
	a.__pad = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_ACK, &a));
	EXPECT_EQ(EINVAL, errno);
	/* Ack mode and peek do not mix. */
	EXPECT_EQ(-1, take(self->fd, ACKNB | MSGBOX_MSG_PEEK, NULL));
	EXPECT_EQ(EINVAL, errno);
	/* A message received without ACK is not in flight. */
	EXPECT_EQ(1, take(self->fd, MSGBOX_MSG_NONBLOCK, &m));
	EXPECT_EQ(-1, msgbox_ack(self->fd, m.id));
	EXPECT_EQ(ENOENT, errno);
}

static int set_ack_timeout(int fd, unsigned long long ns)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_ACK_TIMEOUT,
				     .ack_timeout_ns = ns };

	return msgbox_setattr(fd, &sa);
}

TEST_F(ak, ack_deadline_redelivers_from_a_receiver_still_alive)
{
	struct msgbox_msg m, r;
	int s;

	ASSERT_EQ(0, set_ack_timeout(self->fd, 100000000));
	EXPECT_EQ(100000000, mb_info_of(self->fd).ack_timeout_ns);
	s = msgbox_open(self->name, MSGBOX_FD_RECV);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, put(self->fd, 8));
	EXPECT_EQ(8, take(s, ACKNB, &m));
	/* s stays open and alive, but does not ack in time. */
	for (int i = 0; i < 100 && mb_info_of(self->fd).nr_msgs == 0; i++)
		mb_sleep_ms(20);
	EXPECT_EQ(8, take(self->fd, ACKNB, &r));
	EXPECT_EQ(2, r.deliveries);
	EXPECT_EQ(-1, msgbox_ack(s, m.id));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, msgbox_ack(self->fd, r.id));
	close(s);
}

TEST_F(ak, extending_the_deadline_keeps_the_message_in_flight)
{
	struct msgbox_ack ext = { .flags = MSGBOX_ACK_EXTEND };
	struct msgbox_msg m;
	int i;

	ASSERT_EQ(0, set_ack_timeout(self->fd, 300000000));
	ASSERT_EQ(0, put(self->fd, 9));
	EXPECT_EQ(9, take(self->fd, ACKNB, &m));
	ext.id = m.id;
	for (i = 0; i < 6; i++) {	/* 600 ms in all, twice the deadline */
		mb_sleep_ms(100);
		ASSERT_EQ(0, ioctl(self->fd, MSGBOX_IOC_ACK, &ext));
	}
	EXPECT_EQ(1, mb_info_of(self->fd).in_flight);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
	EXPECT_EQ(0, mb_info_of(self->fd).redelivered);
	EXPECT_EQ(0, msgbox_ack(self->fd, m.id));
	ext.flags = MSGBOX_ACK_EXTEND | MSGBOX_ACK_NACK;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_ACK, &ext));
	EXPECT_EQ(EINVAL, errno);
	ext.flags = MSGBOX_ACK_EXTEND;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_ACK, &ext));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(ak, a_huge_ack_timeout_means_never_not_at_once)
{
	struct msgbox_msg m;

	ASSERT_EQ(0, set_ack_timeout(self->fd, ~0ULL));
	ASSERT_EQ(0, put(self->fd, 10));
	EXPECT_EQ(10, take(self->fd, ACKNB, &m));
	mb_sleep_ms(300);
	EXPECT_EQ(1, mb_info_of(self->fd).in_flight);
	EXPECT_EQ(0, mb_info_of(self->fd).redelivered);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
	EXPECT_EQ(0, msgbox_ack(self->fd, m.id));
}

TEST_F(ak, a_lowered_ack_timeout_pulls_in_the_armed_deadline)
{
	struct msgbox_msg m1, m2, r;
	int i;

	/* The deadline work is armed for 60 s from now... */
	ASSERT_EQ(0, set_ack_timeout(self->fd, 60ULL * 1000000000));
	ASSERT_EQ(0, put(self->fd, 11));
	EXPECT_EQ(11, take(self->fd, ACKNB, &m1));
	/* ...and a message received after the timeout went down to 100 ms
	 * must come back after about that, not 60 s. */
	ASSERT_EQ(0, set_ack_timeout(self->fd, 100000000));
	ASSERT_EQ(0, put(self->fd, 12));
	EXPECT_EQ(12, take(self->fd, ACKNB, &m2));
	for (i = 0; i < 150 && mb_info_of(self->fd).nr_msgs == 0; i++)
		mb_sleep_ms(20);
	EXPECT_EQ(1, mb_info_of(self->fd).redelivered);
	EXPECT_EQ(12, take(self->fd, ACKNB, &r));
	EXPECT_EQ(2, r.deliveries);
	EXPECT_EQ(0, msgbox_ack(self->fd, m1.id));
	EXPECT_EQ(0, msgbox_ack(self->fd, r.id));
}

TEST_F(ak, ack_timeout_needs_its_mask_bit)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_MODE, .mode = 0600,
				     .ack_timeout_ns = 5 };

	EXPECT_EQ(-1, msgbox_setattr(self->fd, &sa));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_info_of(self->fd).ack_timeout_ns);
}

/* Send @v with @flags (TRACK, WAIT_ACK...) and @ttl_ns; the id, or 0. */
static __u64 put_tracked(int fd, int v, __u32 flags, __u64 ttl_ns)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&v;
	m.len = sizeof(v);
	m.type = 1;
	m.flags = flags;
	m.ttl_ns = ttl_ns;
	return msgbox_sendmsg(fd, &m) ? 0 : m.id;
}

static int status_of(int fd, __u64 id)
{
	struct msgbox_status st = { .id = id };

	if (ioctl(fd, MSGBOX_IOC_STATUS, &st))
		return -errno;
	return st.status;
}

TEST_F(ak, tracked_status_goes_pending_delivered_acked_then_is_forgotten)
{
	struct msgbox_msg m;
	__u64 id;

	id = put_tracked(self->fd, 1, MSGBOX_MSG_TRACK, 0);
	ASSERT_NE(0, id);
	EXPECT_EQ(MSGBOX_STATUS_PENDING, status_of(self->fd, id));
	EXPECT_EQ(1, take(self->fd, ACKNB, &m));
	EXPECT_EQ(MSGBOX_STATUS_DELIVERED, status_of(self->fd, id));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));
	EXPECT_EQ(MSGBOX_STATUS_PENDING, status_of(self->fd, id));
	EXPECT_EQ(1, take(self->fd, ACKNB, &m));
	ASSERT_EQ(0, msgbox_ack(self->fd, m.id));
	EXPECT_EQ(MSGBOX_STATUS_ACKED, status_of(self->fd, id));
	EXPECT_EQ(-ENOENT, status_of(self->fd, id));
	/* Only the sending open file tracks it. */
	id = put_tracked(self->fd, 2, MSGBOX_MSG_TRACK, 0);
	int other = msgbox_open(self->name, MB_RW);

	ASSERT_LE(0, other);
	EXPECT_EQ(-ENOENT, status_of(other, id));
	close(other);
	/* A plain receive counts as acknowledged. */
	EXPECT_EQ(2, take(self->fd, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(MSGBOX_STATUS_ACKED, status_of(self->fd, id));
}

TEST_F(ak, tracked_status_reports_expired_dead_lettered_and_destroyed)
{
	struct msgbox_msg m;
	__u64 exp, dead, gone;

	exp = put_tracked(self->fd, 1, MSGBOX_MSG_TRACK, 20000000);
	ASSERT_NE(0, exp);
	mb_sleep_ms(60);
	EXPECT_EQ(-1, take(self->fd, ACKNB, NULL));	/* reaps it */
	EXPECT_EQ(MSGBOX_STATUS_EXPIRED, status_of(self->fd, exp));

	ASSERT_EQ(0, set_dead_letter(self->fd, 1, -1));
	dead = put_tracked(self->fd, 2, MSGBOX_MSG_TRACK, 0);
	EXPECT_EQ(2, take(self->fd, ACKNB, &m));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));
	EXPECT_EQ(MSGBOX_STATUS_DEAD_LETTER, status_of(self->fd, dead));

	gone = put_tracked(self->fd, 3, MSGBOX_MSG_TRACK, 0);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(MSGBOX_STATUS_DESTROYED, status_of(self->fd, gone));
}

TEST_F(ak, wait_ack_sender_returns_only_once_its_message_is_acked)
{
	struct msgbox_msg m;
	pid_t pid;
	int st;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(put_tracked(self->fd, 5, MSGBOX_MSG_WAIT_ACK, 0) != 0, 2);
		_exit(0);
	}
	for (int i = 0; i < MB_WAIT_MS && !mb_info_of(self->fd).nr_msgs; i++)
		mb_sleep_ms(1);
	EXPECT_EQ(5, take(self->fd, ACKNB, &m));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));	/* not yet */
	EXPECT_EQ(5, take(self->fd, ACKNB, &m));
	mb_sleep_ms(100);
	EXPECT_FALSE(mb_exited(pid, &st));
	ASSERT_EQ(0, msgbox_ack(self->fd, m.id));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(ak, wait_ack_reports_a_dead_letter_and_a_timeout)
{
	struct msgbox_msg m;
	pid_t pid;

	ASSERT_EQ(0, set_dead_letter(self->fd, 1, -1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg s;
		int v = 6;

		memset(&s, 0, sizeof(s));
		s.data = (uintptr_t)&v;
		s.len = sizeof(v);
		s.type = 1;
		s.flags = MSGBOX_MSG_WAIT_ACK;
		CHILD_CHECK(msgbox_sendmsg(self->fd, &s) == -1, 2);
		CHILD_CHECK(errno == EPIPE, 3);
		_exit(0);
	}
	for (int i = 0; i < MB_WAIT_MS && !mb_info_of(self->fd).nr_msgs; i++)
		mb_sleep_ms(1);
	EXPECT_EQ(6, take(self->fd, ACKNB, &m));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));	/* dead-lettered */
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));

	/* Nobody receives: the sender stops waiting, the message stays. */
	struct msgbox_msg s;
	int v = 7;

	memset(&s, 0, sizeof(s));
	s.data = (uintptr_t)&v;
	s.len = sizeof(v);
	s.type = 1;
	s.flags = MSGBOX_MSG_WAIT_ACK | MSGBOX_MSG_TIMEOUT;
	s.timeout_ns = 50000000;
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &s));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(1, mb_info_of(self->fd).nr_msgs);
}

TEST_F(ak, tracking_is_refused_on_topics)
{
	struct msgbox_attr attr;
	int t;

	msgbox_attr_init(&attr);
	attr.flags = MSGBOX_CREATE_TOPIC;
	t = msgbox_create_anon(&attr, MB_RW);
	ASSERT_LE(0, t);
	EXPECT_EQ(0, put_tracked(t, 1, MSGBOX_MSG_TRACK, 0));
	EXPECT_EQ(EINVAL, errno);
	close(t);
}

#define STRESS_MSGS	200

TEST_F(ak, consumers_killed_at_random_lose_and_duplicate_nothing)
{
	unsigned char acked[STRESS_MSGS] = { 0 };
	int done[2], i, got = 0, kills = 0;


	close(self->fd);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	self->fd = mb_create(self->name, 64, 64, 4096, MB_RW);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pipe(done));
	srand(1234);
	/* A producer process. */
	pid_t prod = fork();

	ASSERT_LE(0, prod);
	if (prod == 0) {
		for (i = 0; i < STRESS_MSGS; i++)
			CHILD_CHECK(msgbox_send(self->fd, &i, sizeof(i), 0) == 0, 2);
		_exit(0);
	}
	/*
	 * Consumers in turn: each acks a few (reporting each after its ack),
	 * takes one more, says so (-1) and is killed with it in flight.
	 */
	while (got < STRESS_MSGS && kills < 100) {
		int v, left = STRESS_MSGS - got;
		pid_t c = fork();

		ASSERT_LE(0, c);
		if (c == 0) {
			int s = msgbox_open(self->name, MSGBOX_FD_RECV);
			int n = rand() % 8, park = -1;

			CHILD_CHECK(s >= 0, 2);
			for (;;) {
				struct msgbox_msg m;

				v = take(s, MSGBOX_MSG_ACK, &m);
				CHILD_CHECK(v >= 0, 3);
				if (n-- == 0 && left > 1) {
					CHILD_CHECK(write(done[1], &park, sizeof(park)) ==
						    sizeof(park), 4);
					pause();	/* killed with v in flight */
				}
				CHILD_CHECK(msgbox_ack(s, m.id) == 0, 5);
				CHILD_CHECK(write(done[1], &v, sizeof(v)) == sizeof(v), 6);
				left--;
				if (!left)
					_exit(0);
			}
		}
		for (;;) {
			ASSERT_EQ(sizeof(v), read(done[0], &v, sizeof(v)));
			if (v < 0)
				break;
			ASSERT_GT(STRESS_MSGS, v);
			EXPECT_EQ(0, acked[v]) TH_LOG("message %d acked twice", v);
			acked[v] = 1;
			if (++got == STRESS_MSGS)
				break;
		}
		kill(c, SIGKILL);
		mb_reap(c, MB_WAIT_MS);
		kills++;
	}
	EXPECT_EQ(0, mb_reap(prod, MB_WAIT_MS));
	/* Whatever was never acked is still there: nothing was lost. */
	struct msgbox_msg m;
	int v;

	while ((v = take(self->fd, MSGBOX_MSG_NONBLOCK, &m)) >= 0) {
		EXPECT_EQ(0, acked[v]) TH_LOG("acked message %d came back", v);
		acked[v] = 1;
	}
	for (i = 0; i < STRESS_MSGS; i++)
		EXPECT_EQ(1, acked[i]) TH_LOG("message %d lost", i);
	EXPECT_EQ(0, mb_info_of(self->fd).in_flight);
	close(done[0]);
	close(done[1]);
}

TEST_HARNESS_MAIN
