// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: MSGBOX_IOC_NOTIFY, mq_notify(3) for a mailbox.  One
 * process at a time is registered, for one notification, which comes when
 * a message is queued in the empty mailbox and no waiting receiver takes
 * it; closing a descriptor of the mailbox ends the closer's registration.
 */
#include <sys/eventfd.h>

#include "msgbox_test.h"

FIXTURE(nt) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
	int efd;		/* a non-blocking eventfd */
};

FIXTURE_SETUP(nt)
{
	self->fd = -1;
	self->efd = -1;
	mb_make_name(self->name, sizeof(self->name), "nt");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 4, 64, 256, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
	self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN_PARENT(nt)
{
	char sub[40];

	EXPECT_EQ(0, mb_destroy_quiet(self->name));
	snprintf(sub, sizeof(sub), "%s-t", self->name);
	EXPECT_EQ(0, mb_destroy_quiet(sub));
}

/* What the eventfd counted since the last call (and resets it), or -1. */
static long long fired(int efd)
{
	uint64_t n;

	if (read(efd, &n, sizeof(n)) == sizeof(n))
		return (long long)n;
	return errno == EAGAIN ? 0 : -1;
}

static int put(int fd, const char *s)
{
	return msgbox_send(fd, s, strlen(s), MSGBOX_MSG_NONBLOCK);
}

static int raw_notify(int fd, __u32 how, __s32 efd)
{
	struct msgbox_notify n = { .how = how, .efd = efd };

	return ioctl(fd, MSGBOX_IOC_NOTIFY, &n);
}

TEST_F(nt, eventfd_is_signalled_once_when_a_message_reaches_the_empty_mailbox)
{
	EXPECT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(0, fired(self->efd));
	ASSERT_EQ(0, put(self->fd, "a"));
	EXPECT_EQ(1, fired(self->efd));
	/* One notification: the registration is gone. */
	ASSERT_EQ(0, put(self->fd, "b"));
	EXPECT_EQ(0, fired(self->efd));
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_OFF, 0));
	EXPECT_EQ(ENOENT, errno);
	/* Registering again is allowed, and fires on the next arrival. */
	EXPECT_EQ(2, mb_nr_msgs(self->fd));
	EXPECT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	ASSERT_EQ(0, put(self->fd, "c"));
	EXPECT_EQ(0, fired(self->efd)) TH_LOG("fired on a non-empty mailbox");
}

TEST_F(nt, only_an_arrival_in_the_empty_mailbox_fires)
{
	char buf[8];

	ASSERT_EQ(0, put(self->fd, "a"));
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	ASSERT_EQ(0, put(self->fd, "b"));
	EXPECT_EQ(0, fired(self->efd));
	EXPECT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	/* Emptying the mailbox is no event; the next arrival is. */
	EXPECT_EQ(0, fired(self->efd));
	ASSERT_EQ(0, put(self->fd, "c"));
	EXPECT_EQ(1, fired(self->efd));
}

TEST_F(nt, a_waiting_receiver_comes_first_and_the_registration_stands)
{
	pid_t pid;

	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];

		CHILD_CHECK(msgbox_recv_timeout(self->fd, buf, sizeof(buf),
						MB_WAIT_MS * 1000000ull) == 1, 2);
		CHILD_CHECK(buf[0] == 'x', 3);
		/* Its close of the inherited descriptor is not the owner's. */
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, put(self->fd, "x"));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, fired(self->efd));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
	/* Still registered: the next message, with nobody waiting, fires. */
	ASSERT_EQ(0, put(self->fd, "y"));
	EXPECT_EQ(1, fired(self->efd));
}

TEST_F(nt, a_second_registration_gives_EBUSY_even_to_the_owner)
{
	pid_t pid;

	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_NONE, 0));
	EXPECT_EQ(EBUSY, errno);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = msgbox_open(self->name, MSGBOX_FD_RECV);

		CHILD_CHECK(fd >= 0, 2);
		CHILD_CHECK(msgbox_notify(fd, MSGBOX_NOTIFY_NONE, 0) == -1, 3);
		CHILD_CHECK(errno == EBUSY, 4);
		/* Nor may another process remove it. */
		CHILD_CHECK(msgbox_notify(fd, MSGBOX_NOTIFY_OFF, 0) == -1, 5);
		CHILD_CHECK(errno == ENOENT, 6);
		CHILD_CHECK(close(fd) == 0, 7);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	/* The child's calls and closes left the owner's registration. */
	ASSERT_EQ(0, put(self->fd, "a"));
	EXPECT_EQ(1, fired(self->efd));
}

TEST_F(nt, off_removes_the_registration)
{
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_OFF, 0));
	ASSERT_EQ(0, put(self->fd, "a"));
	EXPECT_EQ(0, fired(self->efd));
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_OFF, 0));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(nt, the_owner_closing_any_descriptor_ends_its_registration)
{
	int fd2, dup_fd;

	fd2 = msgbox_open(self->name, MSGBOX_FD_SEND);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	/* Another mailbox's descriptor is no descriptor of this one. */
	int other = msgbox_create_anon(NULL, MB_RW);

	ASSERT_LE(0, other);
	EXPECT_EQ(0, close(other));
	ASSERT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_NONE, 0));
	ASSERT_EQ(EBUSY, errno);
	/* Closing a second descriptor of the mailbox ends it, as mq_close. */
	EXPECT_EQ(0, close(fd2));
	ASSERT_EQ(0, put(self->fd, "a"));
	EXPECT_EQ(0, fired(self->efd));

	/* So does closing a dup of the very descriptor registered with. */
	char buf[8];

	EXPECT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	dup_fd = dup(self->fd);
	ASSERT_LE(0, dup_fd);
	EXPECT_EQ(0, close(dup_fd));
	ASSERT_EQ(0, put(self->fd, "b"));
	EXPECT_EQ(0, fired(self->efd));
	EXPECT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_NONE, 0));
}

TEST_F(nt, the_owner_exiting_ends_its_registration)
{
	int ready[2], go[2];
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = msgbox_open(self->name, MSGBOX_FD_RECV);

		CHILD_CHECK(fd >= 0, 2);
		CHILD_CHECK(msgbox_notify(fd, MSGBOX_NOTIFY_NONE, 0) == 0, 3);
		CHILD_CHECK(write(ready[1], "r", 1) == 1, 4);
		CHILD_CHECK(read(go[0], &c, 1) == 1, 5);
		_exit(0);	/* with fd still open */
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* While the child lives its registration stands... */
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	/* ... and its exit closed its descriptor, ending it. */
	EXPECT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	ASSERT_EQ(0, put(self->fd, "a"));
	EXPECT_EQ(1, fired(self->efd));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

TEST_F(nt, none_signals_nothing_and_is_used_up_by_an_arrival)
{
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_NONE, 0));
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, put(self->fd, "a"));
	EXPECT_EQ(0, fired(self->efd));
	/* Used up: free for a new registration. */
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_OFF, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
}

TEST_F(nt, a_batch_into_the_empty_mailbox_notifies_once)
{
	struct msgbox_msg m[3];
	char p[3] = { 'a', 'b', 'c' };
	int i, err = -1;

	for (i = 0; i < 3; i++)
		mb_msg_init(&m[i], &p[i], 1, 1, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(3, msgbox_send_batch(self->fd, m, 3, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(1, fired(self->efd));
	EXPECT_EQ(3, mb_nr_msgs(self->fd));
}

TEST_F(nt, a_message_put_back_into_the_empty_mailbox_notifies)
{
	struct msgbox_msg m;
	char buf[8];

	ASSERT_EQ(0, put(self->fd, "a"));
	mb_msg_init(&m, buf, sizeof(buf), 0, MSGBOX_MSG_ACK | MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	ASSERT_EQ(0, msgbox_nack(self->fd, m.id));
	EXPECT_EQ(1, fired(self->efd));
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
}

TEST_F(nt, a_subscription_notifies_when_a_publish_reaches_it)
{
	struct msgbox_attr a;
	char tname[40];
	int topic, sub;

	snprintf(tname, sizeof(tname), "%s-t", self->name);
	msgbox_attr_init(&a);
	a.flags = MSGBOX_CREATE_TOPIC;
	topic = msgbox_create(tname, &a, MB_RW);
	ASSERT_LE(0, topic);
	sub = msgbox_subscribe(topic, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, sub);
	/* The topic itself queues nothing. */
	EXPECT_EQ(-1, msgbox_notify(topic, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(0, msgbox_notify(sub, MSGBOX_NOTIFY_EVENTFD, self->efd));
	ASSERT_EQ(0, put(topic, "news"));
	EXPECT_EQ(1, fired(self->efd));
	EXPECT_EQ(1, mb_nr_msgs(sub));
	close(sub);
	close(topic);
}

TEST_F(nt, destroy_ends_the_registration_unfired)
{
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(0, fired(self->efd));
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_OFF, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(EIDRM, errno);
}

TEST_F(nt, bad_arguments_give_precise_errors_and_register_nothing)
{
	int p[2], tx;

	ASSERT_EQ(0, pipe(p));
	tx = msgbox_open(self->name, MSGBOX_FD_SEND);
	ASSERT_LE(0, tx);

	EXPECT_EQ(-1, raw_notify(self->fd, 3, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, raw_notify(self->fd, ~0u, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, raw_notify(self->fd, MSGBOX_NOTIFY_NONE, self->efd));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, raw_notify(self->fd, MSGBOX_NOTIFY_OFF, self->efd));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, raw_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, -1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, raw_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, p[0]));
	EXPECT_EQ(EINVAL, errno);
	/* A mailbox descriptor is no eventfd either. */
	EXPECT_EQ(-1, raw_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->fd));
	EXPECT_EQ(EINVAL, errno);
	/* Only a receiving descriptor may ask. */
	EXPECT_EQ(-1, raw_notify(tx, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, raw_notify(tx, MSGBOX_NOTIFY_OFF, 0));
	EXPECT_EQ(EBADF, errno);

	/* Nothing was registered by any of them. */
	EXPECT_EQ(-1, msgbox_notify(self->fd, MSGBOX_NOTIFY_OFF, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	ASSERT_EQ(0, put(tx, "a"));
	EXPECT_EQ(1, fired(self->efd));
	close(tx);
	close(p[0]);
	close(p[1]);
}

TEST_HARNESS_MAIN
