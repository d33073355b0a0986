// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: readiness through poll(2), select(2) and epoll(7):
 * readable while a message waits, writable while a max_msg_size message
 * fits, pollers woken by other processes, hang-up after destroy.
 *
 * Pollers have no waiter count: a test knows a helper is asleep in
 * poll/epoll_wait from /proc/<pid>/stat and /proc/<pid>/syscall.
 */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include "msgbox_test.h"

#define POLL_ERRS	(POLLERR | POLLHUP | POLLNVAL)

static const long poll_syscalls[] = { SYS_poll, SYS_ppoll, -1 };
static const long epoll_syscalls[] = {
	SYS_epoll_wait, SYS_epoll_pwait,
#ifdef SYS_epoll_pwait2
	SYS_epoll_pwait2,
#endif
	-1
};

FIXTURE(po) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor */
	int ep;			/* epoll instance watching fd */
};

/* 4 messages of up to 100 bytes, 250 bytes in all. */
FIXTURE_SETUP(po)
{
	self->fd = -1;
	self->ep = -1;
	mb_make_name(self->name, sizeof(self->name), "po");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 4, 100, 250, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
	self->ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->ep);
}

/* In the harness's parent process: see "Teardown" in msgbox_test.h. */
FIXTURE_TEARDOWN_PARENT(po)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

/* revents of one poll(2) of @fd for @events, waiting at most @ms. */
static short poll1(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, ms);

	if (n < 0)
		return -1;
	return n ? p.revents : 0;
}

/* Events of one epoll_wait(2) on @ep (one fd registered), waiting @ms. */
static int epoll1(int ep, int ms)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, ms);

	if (n < 0)
		return -1;
	return n ? (int)ev.events : 0;
}

static int epoll_add(int ep, int fd, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- readiness --------------------------------------------------------- */

TEST_F(po, empty_mailbox_is_writable_not_readable)
{
	short re = poll1(self->fd, POLLIN | POLLOUT, 0);

	ASSERT_LE(0, re);
	EXPECT_EQ(0, re & POLLIN);
	EXPECT_EQ(POLLOUT, re & POLLOUT);
	EXPECT_EQ(0, re & POLL_ERRS);
}

TEST_F(po, POLLIN_only_while_a_message_waits)
{
	char buf[100];

	EXPECT_EQ(0, poll1(self->fd, POLLIN, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "m1", 2, 0));
	EXPECT_EQ(POLLIN, poll1(self->fd, POLLIN, 0) & (POLLIN | POLL_ERRS));
	ASSERT_EQ(0, msgbox_send(self->fd, "m2", 2, 0));
	EXPECT_EQ(POLLIN, poll1(self->fd, POLLIN, 0) & (POLLIN | POLL_ERRS));
	ASSERT_EQ(2, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLIN, poll1(self->fd, POLLIN, 0) & (POLLIN | POLL_ERRS));
	ASSERT_EQ(2, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, poll1(self->fd, POLLIN, 0));

	/* An empty message is a message too. */
	ASSERT_EQ(0, msgbox_send(self->fd, NULL, 0, 0));
	EXPECT_EQ(POLLIN, poll1(self->fd, POLLIN, 0) & POLLIN);
}

TEST_F(po, POLLOUT_only_while_a_max_size_message_fits)
{
	static char buf[100];
	short re;

	/* 200 of 250 bytes used: a 50-byte send would fit, 100 would not. */
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 100, 0));
	EXPECT_EQ(POLLOUT, poll1(self->fd, POLLOUT, 0) & POLLOUT);
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 100, 0));
	re = poll1(self->fd, POLLIN | POLLOUT, 0);
	EXPECT_EQ(0, re & POLLOUT);
	EXPECT_EQ(POLLIN, re & POLLIN);

	ASSERT_EQ(100, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLOUT, poll1(self->fd, POLLOUT, 0) & POLLOUT);
}

TEST_F(po, no_POLLOUT_when_full_by_count)
{
	unsigned int i;

	for (i = 0; i < 4; i++) {
		EXPECT_EQ(POLLOUT, poll1(self->fd, POLLOUT, 0) & POLLOUT) TH_LOG("%u queued", i);
		ASSERT_EQ(0, msgbox_send(self->fd, "s", 1, 0));
	}
	EXPECT_EQ(0, poll1(self->fd, POLLOUT, 0) & POLLOUT);
}

TEST_F(po, select_sees_the_same_readiness)
{
	struct timeval tv = { 0, 0 };
	fd_set r, w;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(self->fd, &r);
	FD_SET(self->fd, &w);
	ASSERT_EQ(1, select(self->fd + 1, &r, &w, NULL, &tv));
	EXPECT_FALSE(FD_ISSET(self->fd, &r));
	EXPECT_TRUE(FD_ISSET(self->fd, &w));

	ASSERT_EQ(0, msgbox_send(self->fd, "s", 1, 0));
	FD_SET(self->fd, &r);
	FD_SET(self->fd, &w);
	tv.tv_sec = tv.tv_usec = 0;
	ASSERT_EQ(2, select(self->fd + 1, &r, &w, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(self->fd, &r));
	EXPECT_TRUE(FD_ISSET(self->fd, &w));
}

TEST_F(po, epoll_reports_EPOLLIN_and_EPOLLOUT_like_poll)
{
	static char buf[100];
	int ev;

	ASSERT_EQ(0, epoll_add(self->ep, self->fd, EPOLLIN | EPOLLOUT));
	ev = epoll1(self->ep, 0);
	EXPECT_EQ(EPOLLOUT, ev & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP));

	ASSERT_EQ(0, msgbox_send(self->fd, buf, 100, 0));
	ev = epoll1(self->ep, 0);
	EXPECT_EQ(EPOLLIN | EPOLLOUT, ev & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP));

	ASSERT_EQ(0, msgbox_send(self->fd, buf, 100, 0));
	ev = epoll1(self->ep, 0);
	EXPECT_EQ(EPOLLIN, ev & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP));

	ASSERT_EQ(100, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(100, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ev = epoll1(self->ep, 0);
	EXPECT_EQ(EPOLLOUT, ev & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP));
}

TEST_F(po, epoll_edge_triggered_reports_new_message_after_drain)
{
	char buf[100];

	ASSERT_EQ(0, epoll_add(self->ep, self->fd, EPOLLIN | EPOLLET));
	EXPECT_EQ(0, epoll1(self->ep, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "a", 1, 0));
	EXPECT_EQ(EPOLLIN, epoll1(self->ep, 0) & EPOLLIN);
	/* Edge-triggered: reported once. */
	EXPECT_EQ(0, epoll1(self->ep, 0));
	ASSERT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "b", 1, 0));
	EXPECT_EQ(EPOLLIN, epoll1(self->ep, 0) & EPOLLIN);
}

/* ---- woken by another process ------------------------------------------ */

/* A poller's exit status as event bits; none if it failed or was killed. */
static int bits(int st)
{
	return st < 0 || st >= 128 ? 0x100 : st;
}

/*
 * Fork a helper that waits (poll or epoll, up to 60 s) for @events on @fd
 * and exits with the low byte of what it saw (0 for nothing, 255 on error).
 */
static pid_t spawn_poller(int fd, int ep, short events)
{
	pid_t pid = fork();
	int re;

	if (pid)
		return pid;
	if (ep >= 0)
		re = epoll1(ep, 60000);
	else
		re = poll1(fd, events, 60000);
	if (re < 0)
		_exit(255);
	_exit(re & 0xff);
}

TEST_F(po, blocked_poll_is_woken_by_send_from_another_process)
{
	pid_t pid;
	int st;

	pid = spawn_poller(self->fd, -1, POLLIN);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_in_syscall(pid, poll_syscalls));
	EXPECT_FALSE(mb_exited(pid, &st));
	ASSERT_EQ(0, msgbox_send(self->fd, "wake", 4, 0));
	st = mb_reap(pid, MB_WAIT_MS);
	EXPECT_EQ(POLLIN, bits(st) & (POLLIN | POLL_ERRS)) TH_LOG("poller exit %d", st);
}

TEST_F(po, blocked_epoll_wait_is_woken_by_send_from_another_process)
{
	pid_t pid;
	int st;

	ASSERT_EQ(0, epoll_add(self->ep, self->fd, EPOLLIN));
	pid = spawn_poller(self->fd, self->ep, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_in_syscall(pid, epoll_syscalls));
	EXPECT_FALSE(mb_exited(pid, &st));
	ASSERT_EQ(0, msgbox_send(self->fd, "wake", 4, 0));
	st = mb_reap(pid, MB_WAIT_MS);
	EXPECT_EQ(EPOLLIN, bits(st) & (EPOLLIN | EPOLLERR | EPOLLHUP)) TH_LOG("poller exit %d", st);
}

TEST_F(po, blocked_poll_for_POLLOUT_is_woken_by_recv)
{
	char buf[100];
	pid_t pid;
	int i, st;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, "f", 1, 0));
	pid = spawn_poller(self->fd, -1, POLLOUT);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_in_syscall(pid, poll_syscalls));
	EXPECT_FALSE(mb_exited(pid, &st));
	ASSERT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	st = mb_reap(pid, MB_WAIT_MS);
	EXPECT_EQ(POLLOUT, bits(st) & (POLLOUT | POLL_ERRS)) TH_LOG("poller exit %d", st);
}

TEST_F(po, blocked_epoll_for_EPOLLOUT_is_woken_by_recv_in_another_process)
{
	pid_t pid, rpid;
	int i, st;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, "f", 1, 0));
	ASSERT_EQ(0, epoll_add(self->ep, self->fd, EPOLLOUT));
	pid = spawn_poller(self->fd, self->ep, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_in_syscall(pid, epoll_syscalls));

	rpid = fork();
	ASSERT_LE(0, rpid);
	if (rpid == 0) {
		char buf[100];

		CHILD_CHECK(msgbox_recv(self->fd, buf, sizeof(buf), 0) == 1, 10);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(rpid, MB_WAIT_MS));
	st = mb_reap(pid, MB_WAIT_MS);
	EXPECT_EQ(EPOLLOUT, bits(st) & (EPOLLOUT | EPOLLERR | EPOLLHUP)) TH_LOG("poller exit %d", st);
}

/* ---- destroy ----------------------------------------------------------- */

TEST_F(po, poll_after_destroy_reports_POLLHUP_and_POLLERR)
{
	short re;

	ASSERT_EQ(0, msgbox_send(self->fd, "m", 1, 0));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	re = poll1(self->fd, POLLIN | POLLOUT, 0);
	ASSERT_LT(0, re);
	EXPECT_EQ(POLLHUP, re & POLLHUP);
	EXPECT_EQ(POLLERR, re & POLLERR);
	/* Hang-up is reported even when not asked for. */
	re = poll1(self->fd, 0, 0);
	EXPECT_EQ(POLLHUP, re & POLLHUP);
}

TEST_F(po, epoll_after_destroy_reports_EPOLLHUP_and_EPOLLERR)
{
	int ev;

	ASSERT_EQ(0, epoll_add(self->ep, self->fd, EPOLLIN));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	ev = epoll1(self->ep, 0);
	ASSERT_LT(0, ev);
	EXPECT_EQ(EPOLLHUP, ev & EPOLLHUP);
	EXPECT_EQ(EPOLLERR, ev & EPOLLERR);
}

TEST_F(po, blocked_poll_is_woken_by_destroy_with_POLLHUP)
{
	pid_t pid;
	int st;

	pid = spawn_poller(self->fd, -1, POLLIN);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_in_syscall(pid, poll_syscalls));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	st = mb_reap(pid, MB_WAIT_MS);
	EXPECT_EQ(POLLHUP, bits(st) & POLLHUP) TH_LOG("poller exit %d", st);
}

TEST_F(po, blocked_epoll_wait_is_woken_by_destroy_with_EPOLLHUP)
{
	pid_t pid;
	int st;

	ASSERT_EQ(0, epoll_add(self->ep, self->fd, EPOLLIN));
	pid = spawn_poller(self->fd, self->ep, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, mb_wait_in_syscall(pid, epoll_syscalls));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	st = mb_reap(pid, MB_WAIT_MS);
	EXPECT_EQ(EPOLLHUP, bits(st) & EPOLLHUP) TH_LOG("poller exit %d", st);
}

TEST_HARNESS_MAIN
