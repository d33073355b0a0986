// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: synchronous (rendezvous) send.  MSGBOX_MSG_SYNC returns
 * only once a receiver has taken that exact message; on timeout, signal or
 * destroy the message is withdrawn.  A mailbox of capacity 0 is a pure
 * rendezvous channel, like an unbuffered Go channel.
 */
#include <poll.h>
#include "msgbox_test.h"

FIXTURE(rv) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
};

FIXTURE_SETUP(rv)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "rv");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 8, 64, 512, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
}

FIXTURE_TEARDOWN(rv)
{
	if (self->fd >= 0)
		EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

static int sync_send(int fd, const char *s, __u32 flags, __u64 timeout_ns)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)s;
	m.len = strlen(s);
	m.type = 1;
	m.flags = MSGBOX_MSG_SYNC | flags;
	m.timeout_ns = timeout_ns;
	return msgbox_sendmsg(fd, &m);
}

/* Is there something to read on @fd within @ms? */
static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void on_usr1(int sig __attribute__((unused)))
{
}

TEST_F(rv, sync_send_returns_only_after_the_message_is_received)
{
	int done[2];
	char buf[8];
	pid_t pid;

	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(sync_send(self->fd, "sync", 0, 0) == 0, 2);
		CHILD_CHECK(write(done[1], "d", 1) == 1, 3);
		_exit(0);
	}
	/* Queued, and its sender still asleep. */
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	EXPECT_EQ(1, mb_info_of(self->fd).nr_msgs);
	EXPECT_FALSE(readable(done[0], 100));
	EXPECT_EQ(4, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_TRUE(readable(done[0], MB_WAIT_MS));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(done[0]);
	close(done[1]);
}

TEST_F(rv, peek_does_not_complete_a_sync_send)
{
	struct msgbox_msg m;
	char buf[8];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(sync_send(self->fd, "pk", 0, 0) == 0, 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = sizeof(buf);
	m.flags = MSGBOX_MSG_PEEK;
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	mb_sleep_ms(50);
	EXPECT_EQ(1, mb_info_of(self->fd).send_waiters);
	EXPECT_EQ(2, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rv, sync_send_timeout_withdraws_the_message)
{
	struct msgbox_info info;

	EXPECT_EQ(-1, sync_send(self->fd, "late", MSGBOX_MSG_TIMEOUT, 50000000));
	EXPECT_EQ(ETIMEDOUT, errno);
	info = mb_info_of(self->fd);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(0, info.nr_bytes);
	EXPECT_EQ(0, info.send_waiters);
	EXPECT_EQ(-1, msgbox_recv(self->fd, (char[8]){ 0 }, 8, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * A sync sender that gives up withdraws its message: the room it held
 * must go to the sender sleeping behind it, at once, not only when some
 * receiver happens to come.
 */
TEST_F(rv, a_withdrawn_sync_message_lets_the_next_sender_in)
{
	struct msgbox_attr attr;
	unsigned int before;
	char buf[16];
	pid_t a, b;
	int fd, i;

	msgbox_attr_init(&attr);
	attr.max_msgs = 1;
	attr.max_msg_size = 16;
	attr.max_bytes = 16;
	fd = msgbox_create_anon(&attr, MB_RW);
	ASSERT_LE(0, fd);
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		CHILD_CHECK(sync_send(fd, "sync", MSGBOX_MSG_TIMEOUT, 300000000) == -1 &&
			    errno == ETIMEDOUT, 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_queued(fd));
	before = mb_info_of(fd).send_waiters;
	b = fork();
	ASSERT_LE(0, b);
	if (b == 0) {
		struct msgbox_msg m;

		mb_msg_init(&m, (void *)"plain", 5, 1, MSGBOX_MSG_TIMEOUT);
		m.timeout_ns = 30ULL * 1000000000;
		CHILD_CHECK(msgbox_sendmsg(fd, &m) == 0, 3);
		_exit(0);
	}
	for (i = 0; i < MB_WAIT_MS && mb_info_of(fd).send_waiters == before; i++)
		mb_sleep_ms(1);
	EXPECT_EQ(before + 1, mb_info_of(fd).send_waiters);
	EXPECT_EQ(0, mb_reap(a, MB_WAIT_MS));
	/* Well before its own 30 s timeout. */
	EXPECT_EQ(0, mb_reap(b, 5000));
	EXPECT_EQ(5, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "plain", 5));
	close(fd);
}

TEST_F(rv, sync_send_interrupted_by_a_signal_withdraws_the_message)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };

		sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART */
		CHILD_CHECK(sync_send(self->fd, "sig", 0, 0) == -1, 2);
		CHILD_CHECK(errno == EINTR, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
	EXPECT_EQ(0, mb_info_of(self->fd).send_waiters);
}

TEST_F(rv, a_channel_refuses_ack_mode_receives)
{
	struct msgbox_attr attr;
	struct msgbox_msg m;
	char buf[8];
	int fd;

	msgbox_attr_init(&attr);
	attr.max_msgs = 0;
	attr.max_msg_size = 64;
	attr.max_bytes = 0;
	fd = msgbox_create_anon(&attr, MB_RW);
	ASSERT_LE(0, fd);
	mb_msg_init(&m, buf, sizeof(buf), 0, MSGBOX_MSG_ACK | MSGBOX_MSG_NONBLOCK);
	EXPECT_EQ(-1, msgbox_recvmsg(fd, &m));
	EXPECT_EQ(EINVAL, errno);
	/* A blocking one too, rather than wait for room that never comes. */
	mb_msg_init(&m, buf, sizeof(buf), 0, MSGBOX_MSG_ACK);
	EXPECT_EQ(-1, msgbox_recvmsg(fd, &m));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_info_of(fd).recv_waiters);
	close(fd);
}

TEST_F(rv, destroy_wakes_a_sync_sender_with_EIDRM)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(sync_send(self->fd, "gone", 0, 0) == -1, 2);
		CHILD_CHECK(errno == EIDRM, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rv, library_send_sync_times_out_and_withdraws)
{
	EXPECT_EQ(-1, msgbox_send_sync(self->fd, "lib", 3, 30000000));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
}

TEST_F(rv, nonblocking_sync_send_needs_a_waiting_receiver)
{
	pid_t pid;

	EXPECT_EQ(-1, sync_send(self->fd, "nb", MSGBOX_MSG_NONBLOCK, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];

		CHILD_CHECK(msgbox_recv(self->fd, buf, sizeof(buf), 0) == 2, 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	EXPECT_EQ(0, sync_send(self->fd, "nb", MSGBOX_MSG_NONBLOCK, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rv, capacity_0_mailbox_is_an_unbuffered_channel)
{
	struct pollfd p;
	char buf[8];
	pid_t pid;
	int ch;

	close(self->fd);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	/* Capacity 0 queues no bytes: max_bytes must be 0. */
	EXPECT_EQ(-1, mb_create(self->name, 0, 64, 64, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	ch = self->fd = mb_create(self->name, 0, 64, 0, MB_RW);
	ASSERT_LE(0, ch);

	/* Nobody receiving: a non-blocking send cannot complete. */
	EXPECT_EQ(-1, msgbox_send(ch, "x", 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	p = (struct pollfd){ .fd = ch, .events = POLLIN | POLLOUT };
	EXPECT_EQ(0, poll(&p, 1, 0));

	/* A sender blocks until a receiver comes, then hands over. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_send(ch, "go", 2, 0) == 0, 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(ch, 0, 1));
	EXPECT_EQ(0, mb_info_of(ch).nr_msgs);
	p = (struct pollfd){ .fd = ch, .events = POLLIN | POLLOUT };
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN, p.revents);
	EXPECT_EQ(2, msgbox_recv(ch, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "go", 2));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));

	/* A receiver waits; the channel is then writable. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_recv(ch, buf, sizeof(buf), 0) == 3, 2);
		CHILD_CHECK(memcmp(buf, "yes", 3) == 0, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(ch, 1, 0));
	p = (struct pollfd){ .fd = ch, .events = POLLIN | POLLOUT };
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLOUT, p.revents);
	EXPECT_EQ(0, msgbox_send(ch, "yes", 3, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(2, mb_info_of(ch).sent);
	EXPECT_EQ(0, mb_info_of(ch).hwm_msgs);
}

/*
 * A receiver asleep on a channel with a buffer too small for the message
 * a sender brings gets EMSGSIZE then, as one arriving after the sender
 * does, and the message waits with its sender for a receiver it fits.
 */
TEST_F(rv, a_waiting_receiver_too_small_for_a_channels_message_gets_EMSGSIZE)
{
	char buf[64];
	pid_t r, s;
	int ch;

	close(self->fd);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	ch = self->fd = mb_create(self->name, 0, 64, 0, MB_RW);
	ASSERT_LE(0, ch);
	r = fork();
	ASSERT_LE(0, r);
	if (r == 0) {
		CHILD_CHECK(msgbox_recv_timeout(ch, buf, 4,
						10000000000ull) == -1, 2);
		CHILD_CHECK(errno == EMSGSIZE, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(ch, 1, 0));
	s = fork();
	ASSERT_LE(0, s);
	if (s == 0) {
		CHILD_CHECK(msgbox_send(ch, "too long", 8, 0) == 0, 2);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(r, 5000));
	ASSERT_EQ(0, mb_wait_waiters(ch, 0, 1));
	EXPECT_EQ(8, msgbox_recv(ch, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "too long", 8));
	EXPECT_EQ(0, mb_reap(s, MB_WAIT_MS));
}

TEST_F(rv, blocked_poll_on_a_channel_wakes_when_a_receiver_arrives)
{
	struct pollfd p;
	pid_t pid;
	int ch;

	close(self->fd);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	ch = self->fd = mb_create(self->name, 0, 64, 0, MB_RW);
	ASSERT_LE(0, ch);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];

		mb_sleep_ms(100);
		CHILD_CHECK(msgbox_recv(ch, buf, sizeof(buf), 0) == 1, 2);
		_exit(0);
	}
	p = (struct pollfd){ .fd = ch, .events = POLLOUT };
	EXPECT_EQ(1, poll(&p, 1, MB_WAIT_MS));
	EXPECT_EQ(0, msgbox_send(ch, "w", 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_HARNESS_MAIN
