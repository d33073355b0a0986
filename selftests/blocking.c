// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: sleeping and waking, across processes: blocking receive
 * and send, non-blocking modes, timeouts, signals, destroy with sleepers,
 * and many producers and consumers.
 *
 * A test knows another process is asleep in the mailbox from the
 * recv_waiters/send_waiters counts of MSGBOX_IOC_INFO, never from a sleep.
 */
#include "msgbox_test.h"

#define NSEC_PER_MSEC	1000000ull
#define NSEC_PER_SEC	1000000000ull

/* Exit status of a helper whose operation succeeded but saw wrong data. */
#define BAD_DATA	250

FIXTURE(bl) {
	char name[32];		/* unique to this test */
	int fd;			/* blocking RECV|SEND descriptor */
};

/* 4 messages of up to 64 bytes, 256 bytes in all. */
FIXTURE_SETUP(bl)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "bl");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 4, 64, 256, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
}

/* In the harness's parent process: see "Teardown" in msgbox_test.h. */
FIXTURE_TEARDOWN_PARENT(bl)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

/* What a helper process does: one send or one receive, maybe timed. */
struct op {
	bool send;		/* send @payload, else receive and expect it */
	const char *payload;
	bool timed;		/* use MSGBOX_MSG_TIMEOUT with @timeout_ns */
	bool abstime;		/* ... a CLOCK_MONOTONIC deadline */
	unsigned long long timeout_ns;
	bool handler;		/* install a SIGUSR1 handler first */
	int sa_flags;		/* ... with these flags (SA_RESTART or 0) */
	int notify_fd;		/* the handler writes a byte here, if >= 0 */
};

static volatile sig_atomic_t handled;
static int handler_notify_fd = -1;

static void on_sigusr1(int sig)
{
	char c = 's';

	(void)sig;
	handled++;
	if (handler_notify_fd >= 0 && write(handler_notify_fd, &c, 1) != 1)
		_exit(252);
}

static int install_handler(int sa_flags, int notify_fd)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = sa_flags;
	sigemptyset(&sa.sa_mask);
	handler_notify_fd = notify_fd;
	return sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Fork a helper that performs @op on @fd and exits with 0 on success, the
 * errno on failure, or BAD_DATA if it received something else.
 */
static pid_t spawn_op(int fd, const struct op *op)
{
	struct msgbox_msg m;
	char buf[256];
	size_t len = strlen(op->payload);
	pid_t pid;
	int ret;

	pid = fork();
	if (pid)
		return pid;

	if (op->handler && install_handler(op->sa_flags, op->notify_fd))
		_exit(251);
	memset(&m, 0, sizeof(m));
	if (op->timed) {
		m.flags = MSGBOX_MSG_TIMEOUT;
		if (op->abstime)
			m.flags |= MSGBOX_MSG_ABSTIME;
		m.timeout_ns = op->timeout_ns;
	}
	if (op->send) {
		m.data = (uintptr_t)op->payload;
		m.len = len;
		m.type = MSGBOX_TYPE_DEFAULT;
		ret = msgbox_sendmsg(fd, &m);
	} else {
		m.data = (uintptr_t)buf;
		m.len = sizeof(buf);
		ret = msgbox_recvmsg(fd, &m);
	}
	if (ret)
		_exit(errno);
	if (!op->send && (m.len != len || memcmp(buf, op->payload, len))) {
		fprintf(stderr, "# child %d: got %llu bytes '%.*s', want '%s'\n",
			(int)getpid(), (unsigned long long)m.len,
			(int)(m.len < sizeof(buf) ? m.len : sizeof(buf)), buf,
			op->payload);
		_exit(BAD_DATA);
	}
	_exit(0);
}

static pid_t spawn_recv(int fd, const char *expect)
{
	struct op op = { .payload = expect, .notify_fd = -1 };

	return spawn_op(fd, &op);
}

static pid_t spawn_send(int fd, const char *payload)
{
	struct op op = { .send = true, .payload = payload, .notify_fd = -1 };

	return spawn_op(fd, &op);
}

/* Fill the mailbox to its message limit with "f0", "f1", ... */
static int fill(int fd, unsigned int n)
{
	char buf[8];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "f%u", i);
		if (msgbox_send(fd, buf, strlen(buf), MSGBOX_MSG_NONBLOCK))
			return -1;
	}
	return 0;
}

/* ---- blocking receive and send ----------------------------------------- */

TEST_F(bl, receiver_sleeps_until_sender_sends)
{
	int st;
	pid_t pid;

	pid = spawn_recv(self->fd, "wake up");
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	/* Asleep, not finished: there is nothing to receive yet. */
	EXPECT_FALSE(mb_exited(pid, &st));

	ASSERT_EQ(0, msgbox_send(self->fd, "wake up", 7, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
}

TEST_F(bl, read_sleeps_until_write)
{
	pid_t pid;
	int st;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[64];

		CHILD_CHECK(read(self->fd, buf, sizeof(buf)) == 5, 10);
		CHILD_CHECK(!memcmp(buf, "wrote", 5), 11);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	EXPECT_FALSE(mb_exited(pid, &st));
	ASSERT_EQ(5, write(self->fd, "wrote", 5));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(bl, timed_receiver_gets_message_sent_before_timeout)
{
	struct op op = {
		.payload = "in time", .timed = true,
		.timeout_ns = 60 * NSEC_PER_SEC, .notify_fd = -1,
	};
	pid_t pid;

	pid = spawn_op(self->fd, &op);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "in time", 7, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(bl, huge_timeout_waits_like_untimed)
{
	static const unsigned long long huge[] = {
		UINT64_MAX, 1ull << 63, (unsigned long long)INT64_MAX,
	};
	unsigned int i;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		struct op op = {
			.payload = "late", .timed = true,
			.timeout_ns = huge[i], .notify_fd = -1,
		};

		pid = spawn_op(self->fd, &op);
		ASSERT_LE(0, pid);
		ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0))
			TH_LOG("timeout %llu did not sleep", huge[i]);
		ASSERT_EQ(0, msgbox_send(self->fd, "late", 4, 0));
		EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS)) TH_LOG("timeout %llu", huge[i]);
	}
}

TEST_F(bl, sender_sleeps_while_full_until_receiver_takes_one)
{
	char buf[64];
	pid_t pid;
	int st;

	ASSERT_EQ(0, fill(self->fd, 4));
	pid = spawn_send(self->fd, "late");
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	EXPECT_FALSE(mb_exited(pid, &st));
	EXPECT_EQ(4, mb_nr_msgs(self->fd));

	ASSERT_EQ(2, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "f0", 2));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));

	/* The late message queued behind the others. */
	ASSERT_EQ(2, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(2, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(2, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "f3", 2));
	ASSERT_EQ(4, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "late", 4));
}

/* A message's send time is that of its send, before any wait for room. */
TEST_F(bl, a_sender_that_waited_for_room_keeps_the_time_of_its_send)
{
	struct msgbox_msg m;
	uint64_t t0, room;
	char buf[64];
	pid_t pid;
	int i;

	ASSERT_EQ(0, fill(self->fd, 4));
	t0 = mb_now_ns(CLOCK_REALTIME);
	pid = spawn_send(self->fd, "late");
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	usleep(20000);
	room = mb_now_ns(CLOCK_REALTIME);
	for (i = 0; i < 5; i++) {
		mb_msg_init(&m, buf, sizeof(buf), 0, 0);
		ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	}
	EXPECT_EQ(0, memcmp(buf, "late", 4));
	EXPECT_LE(t0, m.send_time_ns);
	EXPECT_GT(room, m.send_time_ns);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(bl, sender_sleeps_until_enough_bytes_are_free)
{
	static char buf[64], big[64];
	pid_t pid;
	int st;

	/* 128 bytes: 10 + 54 + 64 fill it exactly. */
	ASSERT_EQ(0, mb_recreate(self->name, &self->fd, 16, 64, 128));
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 10, MSGBOX_MSG_NONBLOCK));
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 54, MSGBOX_MSG_NONBLOCK));
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 64, MSGBOX_MSG_NONBLOCK));

	memset(big, 'B', sizeof(big) - 1);
	pid = spawn_send(self->fd, big);	/* 63 bytes */
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));

	/* 10 bytes free are not enough for 63: it must keep sleeping. */
	ASSERT_EQ(10, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	mb_sleep_ms(100);
	EXPECT_FALSE(mb_exited(pid, &st)) TH_LOG("sender finished with %d", st);
	EXPECT_EQ(0, mb_wait_waiters(self->fd, 0, 1));

	/* 64 bytes free are. */
	ASSERT_EQ(54, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(64, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(63, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, big, 63));
}

TEST_F(bl, one_message_wakes_exactly_one_of_several_receivers)
{
	pid_t pids[3];
	int i, st, done = -1, n;

	for (i = 0; i < 3; i++) {
		pids[i] = spawn_recv(self->fd, "one");
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 3, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "one", 3, 0));

	/* Exactly one receiver finishes, with the message... */
	for (n = 0; n < MB_WAIT_MS && done < 0; n++, mb_sleep_ms(1))
		for (i = 0; i < 3 && done < 0; i++)
			if (mb_exited(pids[i], &st))
				done = i;
	ASSERT_LE(0, done) TH_LOG("no receiver got the message");
	EXPECT_EQ(0, st);
	/* ...and the other two go back to sleep. */
	EXPECT_EQ(0, mb_wait_waiters(self->fd, 2, 0));
	for (i = 0; i < 3; i++)
		if (i != done)
			EXPECT_FALSE(mb_exited(pids[i], &st));

	ASSERT_EQ(0, msgbox_send(self->fd, "one", 3, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "one", 3, 0));
	for (i = 0; i < 3; i++)
		if (i != done)
			EXPECT_EQ(0, mb_reap(pids[i], MB_WAIT_MS));
	EXPECT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
}

TEST_F(bl, blocked_receiver_with_small_buffer_gets_EMSGSIZE_and_message_stays)
{
	char buf[64];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* 4 bytes of room, then a 10-byte message arrives. */
		CHILD_CHECK(msgbox_recv(self->fd, buf, 4, 0) == -1, 10);
		CHILD_CHECK(errno == EMSGSIZE, 11);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "0123456789", 10, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	/* Nothing lost: the message is still queued for a bigger buffer. */
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	EXPECT_EQ(10, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
}

TEST_F(bl, oversize_send_on_full_mailbox_gives_EMSGSIZE_without_sleeping)
{
	static char big[65];

	ASSERT_EQ(0, fill(self->fd, 4));
	/* It can never fit: EMSGSIZE at once, not EAGAIN, not a sleep. */
	EXPECT_EQ(-1, msgbox_send(self->fd, big, sizeof(big), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, msgbox_send_timeout(self->fd, big, sizeof(big), 5 * NSEC_PER_SEC));
	EXPECT_EQ(EMSGSIZE, errno);
}

TEST_F(bl, wrong_direction_on_empty_mailbox_gives_EBADF_without_sleeping)
{
	char buf[64];
	int fd;

	fd = msgbox_open(self->name, MSGBOX_FD_SEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, msgbox_recv_timeout(fd, buf, sizeof(buf), 5 * NSEC_PER_SEC));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, close(fd));

	ASSERT_EQ(0, fill(self->fd, 4));
	fd = msgbox_open(self->name, MSGBOX_FD_RECV);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, msgbox_send_timeout(fd, "x", 1, 5 * NSEC_PER_SEC));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, close(fd));
}

/*
 * Stop and continue the receiver @op describes while it waits: no handler
 * runs, so the wait must resume as if nothing happened.
 */
static void stop_and_continue_case(struct __test_metadata *_metadata, int fd,
				   const struct op *op)
{
	int st;
	pid_t pid;

	pid = spawn_op(fd, op);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_waiters(fd, 1, 0));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &st, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(st));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(pid, waitpid(pid, &st, WCONTINUED));
	ASSERT_TRUE(WIFCONTINUED(st));

	ASSERT_EQ(0, mb_wait_waiters(fd, 1, 0));
	ASSERT_EQ(0, msgbox_send(fd, op->payload, strlen(op->payload), 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(bl, stop_and_continue_do_not_interrupt_untimed_recv)
{
	struct op op = { .payload = "after stop", .notify_fd = -1 };

	stop_and_continue_case(_metadata, self->fd, &op);
}

/*
 * A deadline survives a restart, so a wait with one is resumed after a
 * stop and continue (Ctrl-Z, fg; a debugger attaching), as an untimed
 * one is, instead of failing with EINTR.
 */
TEST_F(bl, stop_and_continue_do_not_interrupt_a_wait_with_a_deadline)
{
	struct op op = {
		.payload = "after stop", .timed = true, .abstime = true,
		.notify_fd = -1,
	};

	op.timeout_ns = mb_now_ns(CLOCK_MONOTONIC) + 60 * NSEC_PER_SEC;
	stop_and_continue_case(_metadata, self->fd, &op);
}

TEST_F(bl, killed_sleeper_leaves_mailbox_usable)
{
	char buf[8];
	pid_t pid;

	pid = spawn_recv(self->fd, "never");
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_wait_waiters(self->fd, 0, 0));

	/* Nothing was lost to the dead receiver. */
	ASSERT_EQ(0, msgbox_send(self->fd, "kept", 4, 0));
	EXPECT_EQ(4, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
}

/* ---- non-blocking ------------------------------------------------------ */

TEST_F(bl, nonblock_fd_gives_EAGAIN)
{
	char buf[64];
	int fd;

	fd = msgbox_open(self->name, MB_RW | MSGBOX_FD_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, msgbox_recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, fill(fd, 4));
	EXPECT_EQ(-1, msgbox_send(fd, "x", 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(4, mb_nr_msgs(fd));
	EXPECT_EQ(0, close(fd));
}

TEST_F(bl, o_nonblock_set_by_fcntl_gives_EAGAIN)
{
	char buf[64];
	int fl;

	fl = fcntl(self->fd, F_GETFL);
	ASSERT_LE(0, fl);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fill(self->fd, 4));
	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(bl, msg_nonblock_flag_gives_EAGAIN)
{
	char buf[64];

	EXPECT_EQ(-1, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fill(self->fd, 4));
	EXPECT_EQ(-1, msgbox_send(self->fd, "x", 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
}

/* ---- timeouts ---------------------------------------------------------- */

TEST_F(bl, recv_timeout_expires_with_ETIMEDOUT)
{
	const unsigned long long want = 200 * NSEC_PER_MSEC;
	uint64_t t0, el;
	char buf[64];

	t0 = mb_now_ns(CLOCK_MONOTONIC);
	EXPECT_EQ(-1, msgbox_recv_timeout(self->fd, buf, sizeof(buf), want));
	EXPECT_EQ(ETIMEDOUT, errno);
	el = mb_now_ns(CLOCK_MONOTONIC) - t0;
	/* Not earlier than asked (1 ms of clock slack), not absurdly later. */
	EXPECT_LE(want - NSEC_PER_MSEC, el) TH_LOG("woke after %llu ns", (unsigned long long)el);
	EXPECT_GT(want + 10 * NSEC_PER_SEC, el) TH_LOG("woke after %llu ns", (unsigned long long)el);
	EXPECT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
}

TEST_F(bl, send_timeout_expires_with_ETIMEDOUT)
{
	const unsigned long long want = 200 * NSEC_PER_MSEC;
	struct msgbox_info info;
	uint64_t t0, el;

	ASSERT_EQ(0, fill(self->fd, 4));
	t0 = mb_now_ns(CLOCK_MONOTONIC);
	EXPECT_EQ(-1, msgbox_send_timeout(self->fd, "x", 1, want));
	EXPECT_EQ(ETIMEDOUT, errno);
	el = mb_now_ns(CLOCK_MONOTONIC) - t0;
	EXPECT_LE(want - NSEC_PER_MSEC, el) TH_LOG("woke after %llu ns", (unsigned long long)el);
	EXPECT_GT(want + 10 * NSEC_PER_SEC, el) TH_LOG("woke after %llu ns", (unsigned long long)el);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(4, info.sent);
	EXPECT_EQ(4, info.nr_msgs);
	EXPECT_EQ(0, info.send_waiters);
}

TEST_F(bl, timeout_0_tries_once_with_EAGAIN)
{
	char buf[64];

	EXPECT_EQ(-1, msgbox_recv_timeout(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, msgbox_send_timeout(self->fd, "ok", 2, 0));
	EXPECT_EQ(2, msgbox_recv_timeout(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, fill(self->fd, 4));
	EXPECT_EQ(-1, msgbox_send_timeout(self->fd, "x", 1, 0));
	EXPECT_EQ(EAGAIN, errno);
}

/* ---- signals ----------------------------------------------------------- */

/* Spawn @op, wait until it sleeps, signal it, and return its exit status. */
static int signal_sleeper(int fd, const struct op *op, bool sender)
{
	pid_t pid = spawn_op(fd, op);

	if (pid < 0)
		return -100;
	if (mb_wait_waiters(fd, sender ? 0 : 1, sender ? 1 : 0)) {
		kill(pid, SIGKILL);
		mb_reap(pid, MB_WAIT_MS);
		return -101;
	}
	kill(pid, SIGUSR1);
	return mb_reap(pid, MB_WAIT_MS);
}

TEST_F(bl, signal_without_SA_RESTART_interrupts_untimed_recv_with_EINTR)
{
	struct op op = { .payload = "x", .handler = true, .notify_fd = -1 };

	EXPECT_EQ(EINTR, signal_sleeper(self->fd, &op, false));
	EXPECT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
}

TEST_F(bl, signal_interrupts_timed_recv_with_EINTR)
{
	struct op op = {
		.payload = "x", .timed = true, .timeout_ns = 60 * NSEC_PER_SEC,
		.handler = true, .notify_fd = -1,
	};

	EXPECT_EQ(EINTR, signal_sleeper(self->fd, &op, false));
}

TEST_F(bl, signal_interrupts_timed_recv_with_EINTR_even_with_SA_RESTART)
{
	struct op op = {
		.payload = "x", .timed = true, .timeout_ns = 60 * NSEC_PER_SEC,
		.handler = true, .sa_flags = SA_RESTART, .notify_fd = -1,
	};

	EXPECT_EQ(EINTR, signal_sleeper(self->fd, &op, false));
}

TEST_F(bl, signal_without_SA_RESTART_interrupts_blocked_send_with_EINTR)
{
	struct op op = {
		.send = true, .payload = "x", .handler = true, .notify_fd = -1,
	};
	struct msgbox_info info;

	ASSERT_EQ(0, fill(self->fd, 4));
	EXPECT_EQ(EINTR, signal_sleeper(self->fd, &op, true));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(4, info.sent);
	EXPECT_EQ(0, info.send_waiters);
}

TEST_F(bl, signal_interrupts_timed_send_with_EINTR_even_with_SA_RESTART)
{
	struct op op = {
		.send = true, .payload = "x", .timed = true,
		.timeout_ns = 60 * NSEC_PER_SEC, .handler = true,
		.sa_flags = SA_RESTART, .notify_fd = -1,
	};

	ASSERT_EQ(0, fill(self->fd, 4));
	EXPECT_EQ(EINTR, signal_sleeper(self->fd, &op, true));
	EXPECT_EQ(4, mb_nr_msgs(self->fd));
}

/*
 * With SA_RESTART, an untimed wait is restarted after the handler: the
 * helper goes back to sleep and then completes normally.
 */
static void restart_case(struct __test_metadata *_metadata, int fd, bool sender)
{
	struct op op = {
		.send = sender, .payload = "after signal", .handler = true,
		.sa_flags = SA_RESTART,
	};
	unsigned int rw = sender ? 0 : 1, sw = sender ? 1 : 0;
	char buf[64], c;
	int pfd[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	op.notify_fd = pfd[1];
	pid = spawn_op(fd, &op);
	ASSERT_LE(0, pid);
	close(pfd[1]);
	ASSERT_EQ(0, mb_wait_waiters(fd, rw, sw));
	ASSERT_EQ(0, kill(pid, SIGUSR1));

	/* The handler ran, so the first wait is over... */
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	/* ...and the restarted call sleeps again. */
	ASSERT_EQ(0, mb_wait_waiters(fd, rw, sw));
	if (sender) {
		ASSERT_EQ(2, msgbox_recv(fd, buf, sizeof(buf), 0));
	} else {
		ASSERT_EQ(0, msgbox_send(fd, "after signal", 12, 0));
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	if (sender) {
		/* f1, f2, f3, then the helper's message. */
		ASSERT_EQ(2, msgbox_recv(fd, buf, sizeof(buf), 0));
		ASSERT_EQ(2, msgbox_recv(fd, buf, sizeof(buf), 0));
		ASSERT_EQ(2, msgbox_recv(fd, buf, sizeof(buf), 0));
		ASSERT_EQ(12, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ(0, memcmp(buf, "after signal", 12));
	}
}

/* A deadline does not move on a restart: SA_RESTART restarts the wait. */
TEST_F(bl, signal_with_SA_RESTART_restarts_a_wait_with_a_deadline)
{
	struct op op = {
		.payload = "after signal", .timed = true, .abstime = true,
		.handler = true, .sa_flags = SA_RESTART,
	};
	char c;
	int pfd[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	op.notify_fd = pfd[1];
	op.timeout_ns = mb_now_ns(CLOCK_MONOTONIC) + 60 * NSEC_PER_SEC;
	pid = spawn_op(self->fd, &op);
	ASSERT_LE(0, pid);
	close(pfd[1]);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "after signal", 12, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(bl, signal_with_SA_RESTART_restarts_untimed_recv)
{
	restart_case(_metadata, self->fd, false);
}

TEST_F(bl, signal_with_SA_RESTART_restarts_untimed_send)
{
	ASSERT_EQ(0, fill(self->fd, 4));
	restart_case(_metadata, self->fd, true);
}

/* ---- destroy ----------------------------------------------------------- */

TEST_F(bl, destroy_wakes_blocked_receivers_with_EIDRM)
{
	struct op timed = {
		.payload = "x", .timed = true, .timeout_ns = 60 * NSEC_PER_SEC,
		.notify_fd = -1,
	};
	pid_t pids[4];
	int i;

	pids[0] = spawn_recv(self->fd, "x");
	pids[1] = spawn_recv(self->fd, "x");
	pids[2] = spawn_op(self->fd, &timed);
	pids[3] = fork();
	if (pids[3] == 0) {
		char buf[64];

		/* Sleeping in read(2) rather than the ioctl. */
		if (read(self->fd, buf, sizeof(buf)) >= 0)
			_exit(0);
		_exit(errno);
	}
	for (i = 0; i < 4; i++)
		ASSERT_LE(0, pids[i]);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 4, 0));

	ASSERT_EQ(0, msgbox_destroy(self->name));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(EIDRM, mb_reap(pids[i], MB_WAIT_MS)) TH_LOG("receiver %d", i);
}

TEST_F(bl, destroy_wakes_blocked_senders_with_EIDRM)
{
	struct op timed = {
		.send = true, .payload = "x", .timed = true,
		.timeout_ns = 60 * NSEC_PER_SEC, .notify_fd = -1,
	};
	pid_t pids[4];
	int i;

	ASSERT_EQ(0, fill(self->fd, 4));
	pids[0] = spawn_send(self->fd, "x");
	pids[1] = spawn_send(self->fd, "y");
	pids[2] = spawn_op(self->fd, &timed);
	pids[3] = fork();
	if (pids[3] == 0) {
		/* Sleeping in write(2) rather than the ioctl. */
		if (write(self->fd, "w", 1) >= 0)
			_exit(0);
		_exit(errno);
	}
	for (i = 0; i < 4; i++)
		ASSERT_LE(0, pids[i]);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 4));

	ASSERT_EQ(0, msgbox_destroy(self->name));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(EIDRM, mb_reap(pids[i], MB_WAIT_MS)) TH_LOG("sender %d", i);
}

TEST_F(bl, every_op_after_destroy_gives_EIDRM)
{
	struct msgbox_info info;
	struct msgbox_msg m;
	char buf[64];
	int nb;

	ASSERT_EQ(0, msgbox_send(self->fd, "queued", 6, 0));
	nb = msgbox_open(self->name, MB_RW | MSGBOX_FD_NONBLOCK);
	ASSERT_LE(0, nb);
	ASSERT_EQ(0, msgbox_destroy(self->name));

	/* Even with a message queued before: destroy dropped it. */
	EXPECT_EQ(-1, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, msgbox_recv_timeout(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, msgbox_recv_timeout(self->fd, buf, sizeof(buf), NSEC_PER_SEC));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, msgbox_send(self->fd, "x", 1, 0));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, msgbox_send_timeout(self->fd, "x", 1, NSEC_PER_SEC));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, msgbox_info(self->fd, &info));
	EXPECT_EQ(EIDRM, errno);

	/* O_NONBLOCK does not turn EIDRM into EAGAIN. */
	EXPECT_EQ(-1, read(nb, buf, sizeof(buf)));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, write(nb, "x", 1));
	EXPECT_EQ(EIDRM, errno);
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = sizeof(buf);
	EXPECT_EQ(-1, msgbox_recvmsg(nb, &m));
	EXPECT_EQ(EIDRM, errno);

	EXPECT_EQ(0, close(nb));
}

/* ---- many producers and consumers --------------------------------------- */

enum { NPROD = 4, NCONS = 3, NMSG = 400 };

struct pc_msg {
	__u32 prod;
	__u32 seq;
	__u64 check;
};

struct pc_shared {
	unsigned int seen[NPROD][NMSG];	/* times each message was received */
	unsigned long long sum[NCONS];	/* sum of the checks each consumer saw */
	unsigned int count[NCONS];
	unsigned int bad[NCONS];	/* malformed or out-of-order messages */
};

static __u64 pc_check(unsigned int prod, unsigned int seq)
{
	return (prod + 1) * 1000003ull + seq * 7919ull;
}

static void producer(int fd, unsigned int prod)
{
	struct pc_msg pm;
	unsigned int seq;

	for (seq = 0; seq < NMSG; seq++) {
		pm.prod = prod;
		pm.seq = seq;
		pm.check = pc_check(prod, seq);
		CHILD_CHECK(msgbox_send_timeout(fd, &pm, sizeof(pm), 60 * NSEC_PER_SEC) == 0, 10);
	}
	_exit(0);
}

static void consumer(int fd, unsigned int cons, struct pc_shared *sh)
{
	int last[NPROD];
	struct msgbox_msg m;
	struct pc_msg pm;
	unsigned int i;

	for (i = 0; i < NPROD; i++)
		last[i] = -1;
	for (;;) {
		memset(&m, 0, sizeof(m));
		m.data = (uintptr_t)&pm;
		m.len = sizeof(pm);
		m.flags = MSGBOX_MSG_TIMEOUT;
		m.timeout_ns = 60 * NSEC_PER_SEC;
		CHILD_CHECK(msgbox_recvmsg(fd, &m) == 0, 20);
		if (m.type == 2)	/* end marker, one per consumer */
			_exit(0);
		if (m.len != sizeof(pm) || pm.prod >= NPROD || pm.seq >= NMSG ||
		    pm.check != pc_check(pm.prod, pm.seq) ||
		    (int)pm.seq <= last[pm.prod]) {
			sh->bad[cons]++;
			continue;
		}
		/* One producer's messages reach any consumer in send order. */
		last[pm.prod] = pm.seq;
		__atomic_fetch_add(&sh->seen[pm.prod][pm.seq], 1, __ATOMIC_RELAXED);
		sh->sum[cons] += pm.check;
		sh->count[cons]++;
	}
}

TEST_F_TIMEOUT(bl, many_producers_and_consumers_receive_each_message_once, 120)
{
	unsigned long long want_sum = 0, sum = 0;
	pid_t prods[NPROD], cons[NCONS];
	struct msgbox_info info;
	struct msgbox_msg end;
	struct pc_shared *sh;
	unsigned int p, s, c, count = 0, dup = 0, lost = 0;

	ASSERT_EQ(0, mb_recreate(self->name, &self->fd, 8, sizeof(struct pc_msg),
				 8 * sizeof(struct pc_msg)));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));

	for (c = 0; c < NCONS; c++) {
		cons[c] = fork();
		ASSERT_LE(0, cons[c]);
		if (cons[c] == 0)
			consumer(self->fd, c, sh);
	}
	for (p = 0; p < NPROD; p++) {
		prods[p] = fork();
		ASSERT_LE(0, prods[p]);
		if (prods[p] == 0)
			producer(self->fd, p);
	}
	for (p = 0; p < NPROD; p++)
		EXPECT_EQ(0, mb_reap(prods[p], 100000)) TH_LOG("producer %u", p);
	for (c = 0; c < NCONS; c++) {
		memset(&end, 0, sizeof(end));
		end.type = 2;
		ASSERT_EQ(0, msgbox_sendmsg(self->fd, &end));
	}
	for (c = 0; c < NCONS; c++)
		EXPECT_EQ(0, mb_reap(cons[c], 100000)) TH_LOG("consumer %u", c);

	for (p = 0; p < NPROD; p++) {
		for (s = 0; s < NMSG; s++) {
			want_sum += pc_check(p, s);
			if (sh->seen[p][s] == 0)
				lost++;
			else if (sh->seen[p][s] > 1)
				dup++;
		}
	}
	for (c = 0; c < NCONS; c++) {
		EXPECT_EQ(0, sh->bad[c]) TH_LOG("consumer %u: bad or out-of-order messages", c);
		count += sh->count[c];
		sum += sh->sum[c];
	}
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(NPROD * NMSG, count)
		TH_LOG("consumers received %u, %u, %u", sh->count[0], sh->count[1], sh->count[2]);
	EXPECT_EQ(want_sum, sum);

	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(NPROD * NMSG + NCONS, info.sent);
	EXPECT_EQ(NPROD * NMSG + NCONS, info.received);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(0, info.nr_bytes);
	EXPECT_EQ(0, info.recv_waiters);
	EXPECT_EQ(0, info.send_waiters);
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
