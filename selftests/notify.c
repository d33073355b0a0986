// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: MSGBOX_IOC_NOTIFY, mq_notify(3) for a mailbox.  One
 * process at a time is registered, for one notification, which comes when
 * a message is queued in the empty mailbox and no waiting receiver takes
 * it; closing a descriptor of the mailbox ends the closer's registration.
 */
#include <pthread.h>
#include <sys/eventfd.h>

#include "msgbox_test.h"

/* How long each racing thread runs (TCG and the debug kernel are slow). */
#define RACE_MS		1500

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

TEST_F(nt, info_names_the_registered_process)
{
	pid_t pid;

	EXPECT_EQ(0, mb_info_of(self->fd).notify_pid);
	ASSERT_EQ(0, msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd));
	EXPECT_EQ(getpid(), mb_info_of(self->fd).notify_pid);
	/* Whoever gets EBUSY can see whom to blame. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_notify(self->fd, MSGBOX_NOTIFY_NONE, 0) == -1, 2);
		CHILD_CHECK(errno == EBUSY, 3);
		CHILD_CHECK(mb_info_of(self->fd).notify_pid == getppid(), 4);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, put(self->fd, "a"));
	EXPECT_EQ(1, fired(self->efd));
	EXPECT_EQ(0, mb_info_of(self->fd).notify_pid);
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

/* Racing threads share this: the mailbox, the eventfd, a stop flag. */
struct race {
	int fd;
	int efd;
	const char *name;
	volatile int stop;
	long registered;	/* successful registrations */
	long removed;		/* successful OFFs */
	long cycles;		/* send-receive cycles */
};

static void *race_register(void *arg)
{
	struct race *r = arg;

	while (!r->stop)
		if (!msgbox_notify(r->fd, MSGBOX_NOTIFY_EVENTFD, r->efd))
			r->registered++;
	return NULL;
}

static void *race_remove(void *arg)
{
	struct race *r = arg;

	while (!r->stop)
		if (!msgbox_notify(r->fd, MSGBOX_NOTIFY_OFF, 0))
			r->removed++;
	return NULL;
}

/* Empty, one message, empty again: each arrival may fire. */
static void *race_traffic(void *arg)
{
	struct race *r = arg;
	char buf[8];

	while (!r->stop) {
		if (put(r->fd, "t") ||
		    msgbox_recv(r->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK) != 1)
			return (void *)1;
		r->cycles++;
	}
	return NULL;
}

/* Closing any descriptor of the mailbox ends this process's registration. */
static void *race_close(void *arg)
{
	struct race *r = arg;

	while (!r->stop) {
		int fd = msgbox_open(r->name, MSGBOX_FD_SEND);

		if (fd < 0 || close(fd))
			return (void *)1;
	}
	return NULL;
}

/* Run the threads @fns for RACE_MS; 0 if every one ended well. */
static int race_run(struct race *r, void *(**fns)(void *), int n)
{
	pthread_t t[4];
	int i, bad = 0;

	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fns[i], r))
			return -1;
	mb_sleep_ms(RACE_MS);
	r->stop = 1;
	for (i = 0; i < n; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		bad |= ret != NULL;
	}
	return bad ? -1 : 0;
}

TEST_F_TIMEOUT(nt, each_registration_ends_exactly_once_under_races, 120)
{
	void *(*fns[])(void *) = { race_register, race_remove, race_traffic };
	struct race r = { .fd = self->fd, .efd = self->efd, .name = self->name };
	long long fires;
	int left;

	ASSERT_EQ(0, race_run(&r, fns, 3));
	fires = fired(self->efd);
	left = msgbox_notify(self->fd, MSGBOX_NOTIFY_OFF, 0) == 0;
	TH_LOG("%ld registrations, %lld fired, %ld removed, %d left, %ld cycles",
	       r.registered, fires, r.removed, left, r.cycles);
	/* A registration fires, is removed or is still there: one of them. */
	EXPECT_EQ(r.registered, fires + r.removed + left);
	EXPECT_LT(0, r.cycles);
}

TEST_F_TIMEOUT(nt, closes_and_destroy_racing_arrivals_fire_nothing_twice, 120)
{
	void *(*fns[])(void *) = { race_register, race_remove, race_traffic,
				  race_close };
	struct race r = { .fd = self->fd, .efd = self->efd, .name = self->name };
	long long fires;

	ASSERT_EQ(0, race_run(&r, fns, 4));
	fires = fired(self->efd);
	TH_LOG("%ld registrations, %lld fired, %ld removed, %ld cycles",
	       r.registered, fires, r.removed, r.cycles);
	/* Closes end some registrations silently: never more than one end. */
	EXPECT_LE(fires + r.removed, r.registered);
	EXPECT_LT(0, r.cycles);

	/* Destroy ends the last one unfired; nothing fires afterwards. */
	msgbox_notify(self->fd, MSGBOX_NOTIFY_EVENTFD, self->efd);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(-1, put(self->fd, "x"));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(0, fired(self->efd));
}

TEST_HARNESS_MAIN
