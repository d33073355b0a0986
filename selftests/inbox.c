// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: direct addressing.  A process's personal inbox is
 * reached by its pid, with no name; it goes away with its process; a
 * receiver can take messages from one given sender only (symmetric
 * addressing) or from anyone (asymmetric).
 */
#include <grp.h>
#include <sys/stat.h>
#include "msgbox_test.h"

static int inbox(unsigned int mode)
{
	struct msgbox_attr attr;

	msgbox_attr_init(&attr);
	attr.mode = mode;
	return msgbox_inbox(&attr, MSGBOX_FD_RECV);
}

/* A child that sends @n messages "<tag><i>" to @pid's inbox, then exits. */
static pid_t sender(pid_t pid, char tag, int n)
{
	pid_t child = fork();

	if (child == 0) {
		int s = msgbox_open_inbox(pid, MSGBOX_FD_SEND);
		char buf[8];

		CHILD_CHECK(s >= 0, 2);
		for (int i = 0; i < n; i++) {
			int len = snprintf(buf, sizeof(buf), "%c%d", tag, i);

			CHILD_CHECK(msgbox_send(s, buf, len, 0) == 0, 3);
		}
		_exit(0);
	}
	return child;
}

TEST(inbox_is_reached_by_pid_without_a_name)
{
	struct msgbox_info info;
	char buf[8];
	pid_t pid;
	int in;

	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing");
	umask(0);
	in = inbox(0622);
	ASSERT_LE(0, in);
	ASSERT_EQ(0, msgbox_info(in, &info));
	EXPECT_EQ(getpid(), info.inbox_pid);
	EXPECT_STREQ("", info.name);
	pid = sender(getpid(), 'a', 1);
	ASSERT_LE(0, pid);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(2, msgbox_recv(in, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "a0", 2));
	/* The receiving descriptor cannot send, sending ones cannot receive. */
	EXPECT_EQ(-1, msgbox_send(in, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	close(in);
}

TEST(one_inbox_per_process_and_it_can_be_recreated)
{
	int in, again;

	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing");
	in = inbox(0600);
	ASSERT_LE(0, in);
	EXPECT_EQ(-1, inbox(0600));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, close(in));
	again = inbox(0600);
	EXPECT_LE(0, again);
	close(again);
}

TEST(process_without_inbox_gives_ESRCH)
{
	pid_t pid;

	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing");
	EXPECT_EQ(-1, msgbox_open_inbox(getpid(), MSGBOX_FD_SEND));
	EXPECT_EQ(ESRCH, errno);
	EXPECT_EQ(-1, msgbox_open_inbox(0, MSGBOX_FD_SEND));
	EXPECT_EQ(ESRCH, errno);
	EXPECT_EQ(-1, msgbox_open_inbox(-5, MSGBOX_FD_SEND));
	EXPECT_EQ(ESRCH, errno);
	/* A pid that no longer exists. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-1, msgbox_open_inbox(pid, MSGBOX_FD_SEND));
	EXPECT_EQ(ESRCH, errno);
}

TEST(inbox_goes_away_with_its_process_and_senders_learn)
{
	int ready[2], s;
	pid_t pid;
	char c;

	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing");
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(inbox(0600) >= 0, 2);
		CHILD_CHECK(write(ready[1], "r", 1) == 1, 3);
		pause();
		_exit(4);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	s = msgbox_open_inbox(pid, MSGBOX_FD_SEND);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, msgbox_send(s, "hi", 2, 0));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	/* The sending descriptor does not keep it alive. */
	EXPECT_EQ(-1, msgbox_send(s, "hi", 2, 0));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, msgbox_open_inbox(pid, MSGBOX_FD_SEND));
	EXPECT_EQ(ESRCH, errno);
	close(s);
	close(ready[0]);
	close(ready[1]);
}

static long recv_from(int fd, pid_t from, char *buf, size_t size)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = size;
	m.flags = MSGBOX_MSG_NONBLOCK | (from ? MSGBOX_MSG_FROM : 0);
	m.sender_pid = from;
	if (msgbox_recvmsg(fd, &m))
		return -1;
	return m.sender_pid;
}

TEST(receive_from_one_sender_only_or_from_anyone)
{
	pid_t a, b;
	char buf[8];
	int in;

	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing");
	umask(0);
	in = inbox(0622);
	ASSERT_LE(0, in);
	a = sender(getpid(), 'a', 2);
	ASSERT_EQ(0, mb_reap(a, MB_WAIT_MS));
	b = sender(getpid(), 'b', 2);
	ASSERT_EQ(0, mb_reap(b, MB_WAIT_MS));
	/* The senders have exited: their messages still carry their pids,
	 * but FROM needs a live process to name. */
	EXPECT_EQ(-1, recv_from(in, b, buf, sizeof(buf)));
	EXPECT_EQ(ESRCH, errno);
	EXPECT_EQ(-1, msgbox_recv_from(in, b, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(ESRCH, errno);

	/* Live senders this time: children that stay until killed. */
	int go[2];

	ASSERT_EQ(0, pipe(go));
	pid_t live[2];

	for (int i = 0; i < 2; i++) {
		live[i] = fork();
		ASSERT_LE(0, live[i]);
		if (live[i] == 0) {
			int s = msgbox_open_inbox(getppid(), MSGBOX_FD_SEND);

			CHILD_CHECK(s >= 0, 2);
			CHILD_CHECK(msgbox_send(s, i ? "y" : "x", 1, 0) == 0, 3);
			CHILD_CHECK(write(go[1], "s", 1) == 1, 4);
			pause();
			_exit(5);
		}
	}
	char c;

	ASSERT_EQ(1, read(go[0], &c, 1));
	ASSERT_EQ(1, read(go[0], &c, 1));
	/* Symmetric: only live[1]'s message, although older ones wait. */
	EXPECT_EQ(1, msgbox_recv_from(in, live[1], buf, sizeof(buf),
				      MSGBOX_MSG_PEEK | MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ('y', buf[0]);
	EXPECT_EQ(live[1], recv_from(in, live[1], buf, sizeof(buf)));
	EXPECT_EQ('y', buf[0]);
	EXPECT_EQ(-1, recv_from(in, live[1], buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	/* Asymmetric: anyone, oldest first. */
	EXPECT_EQ(a, recv_from(in, 0, buf, sizeof(buf)));
	EXPECT_EQ(a, recv_from(in, 0, buf, sizeof(buf)));
	EXPECT_EQ(b, recv_from(in, 0, buf, sizeof(buf)));
	EXPECT_EQ(b, recv_from(in, 0, buf, sizeof(buf)));
	EXPECT_EQ(live[0], recv_from(in, 0, buf, sizeof(buf)));
	for (int i = 0; i < 2; i++) {
		kill(live[i], SIGKILL);
		mb_reap(live[i], MB_WAIT_MS);
	}
	close(go[0]);
	close(go[1]);
	close(in);
}

TEST(inbox_mode_decides_who_may_send)
{
	pid_t pid;
	int in;

	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing");
	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	umask(0);
	in = inbox(0600);
	ASSERT_LE(0, in);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(setgroups(0, NULL) == 0, 2);
		CHILD_CHECK(setresgid(1000, 1000, 1000) == 0, 3);
		CHILD_CHECK(setresuid(1000, 1000, 1000) == 0, 4);
		CHILD_CHECK(msgbox_open_inbox(getppid(), MSGBOX_FD_SEND) == -1, 5);
		CHILD_CHECK(errno == EACCES, 6);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(in);
}

TEST(inbox_arguments_are_validated)
{
	struct msgbox_create c;
	struct msgbox_inbox in;
	int dev;

	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing");
	dev = open(MSGBOX_DEVICE, O_RDWR);
	ASSERT_LE(0, dev);
	memset(&c, 0, sizeof(c));
	c.max_msgs = 4;
	c.max_msg_size = 64;
	c.max_bytes = 256;
	c.fd_flags = MSGBOX_FD_RECV | MSGBOX_FD_SEND;	/* an inbox only receives */
	EXPECT_EQ(-1, ioctl(dev, MSGBOX_IOC_INBOX, &c));
	EXPECT_EQ(EINVAL, errno);
	c.fd_flags = MSGBOX_FD_RECV;
	strcpy(c.name, "named");			/* inboxes have no name */
	EXPECT_EQ(-1, ioctl(dev, MSGBOX_IOC_INBOX, &c));
	EXPECT_EQ(EINVAL, errno);
	memset(c.name, 0, sizeof(c.name));
	c.flags = MSGBOX_CREATE_TOPIC;
	EXPECT_EQ(-1, ioctl(dev, MSGBOX_IOC_INBOX, &c));
	EXPECT_EQ(EINVAL, errno);

	memset(&in, 0, sizeof(in));
	in.pid = getpid();
	in.fd_flags = MSGBOX_FD_RECV;			/* only senders open it */
	EXPECT_EQ(-1, ioctl(dev, MSGBOX_IOC_OPEN_INBOX, &in));
	EXPECT_EQ(EINVAL, errno);
	in.fd_flags = MSGBOX_FD_SEND;
	in.__reserved = 1;
	EXPECT_EQ(-1, ioctl(dev, MSGBOX_IOC_OPEN_INBOX, &in));
	EXPECT_EQ(EINVAL, errno);
	close(dev);
}

TEST_HARNESS_MAIN
