// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: publish/subscribe.  Every subscriber sees every
 * publication in one publish order; a full subscriber blocks the publisher
 * (all or nothing), or loses its oldest or the new message as the topic's
 * policy says, counted in its statistics; filters; subscriptions end with
 * their descriptor, and all of them with the topic.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include "msgbox_test.h"

FIXTURE(ps) {
	char name[32];		/* the topic's name, unique to this test */
};

FIXTURE_SETUP(ps)
{
	mb_make_name(self->name, sizeof(self->name), "ps");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
}

FIXTURE_TEARDOWN_PARENT(ps)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

static int topic(const char *name, unsigned int max_msgs, unsigned int flags)
{
	struct msgbox_attr attr;

	msgbox_attr_init(&attr);
	attr.max_msgs = max_msgs;
	attr.max_msg_size = 64;
	attr.max_bytes = 4096;
	attr.flags = MSGBOX_CREATE_TOPIC | flags;
	return msgbox_create(name, &attr, MB_RW);
}

static void on_alarm(int sig __attribute__((unused)))
{
}

static int publish(int t, unsigned int v, __s64 type, __u32 flags)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&v;
	m.len = sizeof(v);
	m.type = type;
	m.flags = flags;
	return msgbox_sendmsg(t, &m);
}

/* The next value on subscription @s, or -1 (errno set). */
static long next(int s, __u32 flags)
{
	unsigned int v;

	if (msgbox_recv(s, &v, sizeof(v), flags) != sizeof(v))
		return -1;
	return v;
}

#define SUBS		3
#define PUBS		2
#define EACH		60

TEST_F(ps, every_subscriber_sees_every_publication_in_the_same_order)
{
	int t, subs[SUBS];
	pid_t readers[SUBS], pubs[PUBS];
	int i;

	t = topic(self->name, 256, 0);
	ASSERT_LE(0, t);
	for (i = 0; i < SUBS; i++) {
		subs[i] = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
		ASSERT_LE(0, subs[i]);
	}
	EXPECT_EQ(SUBS, mb_info_of(t).subscribers);
	for (i = 0; i < PUBS; i++) {
		pubs[i] = fork();
		ASSERT_LE(0, pubs[i]);
		if (pubs[i] == 0) {
			for (unsigned int j = 0; j < EACH; j++)
				CHILD_CHECK(publish(t, (i << 16) | j, 1, 0) == 0, 2);
			_exit(0);
		}
	}
	for (i = 0; i < PUBS; i++)
		EXPECT_EQ(0, mb_reap(pubs[i], MB_WAIT_MS));

	/* Each subscriber checks per-publisher order and writes a digest. */
	int digest[2];

	ASSERT_EQ(0, pipe(digest));
	for (i = 0; i < SUBS; i++) {
		readers[i] = fork();
		ASSERT_LE(0, readers[i]);
		if (readers[i] == 0) {
			unsigned long long h = 1469598103934665603ull;
			unsigned int last[PUBS] = { 0 }, seen = 0;
			long v;

			while ((v = next(subs[i], MSGBOX_MSG_NONBLOCK)) >= 0) {
				unsigned int p = v >> 16, j = v & 0xffff;

				CHILD_CHECK(p < PUBS && j == last[p], 2);
				last[p]++;
				seen++;
				h = (h ^ (unsigned long long)v) * 1099511628211ull;
			}
			CHILD_CHECK(errno == EAGAIN && seen == PUBS * EACH, 3);
			CHILD_CHECK(write(digest[1], &h, sizeof(h)) == sizeof(h), 4);
			_exit(0);
		}
	}
	unsigned long long h[SUBS];

	for (i = 0; i < SUBS; i++) {
		EXPECT_EQ(0, mb_reap(readers[i], MB_WAIT_MS));
		ASSERT_EQ(sizeof(h[i]), read(digest[0], &h[i], sizeof(h[i])));
	}
	/* The same order everywhere: the same digest. */
	EXPECT_EQ(h[0], h[1]);
	EXPECT_EQ(h[0], h[2]);
	EXPECT_EQ(PUBS * EACH, mb_info_of(t).sent);
	for (i = 0; i < SUBS; i++)
		close(subs[i]);
	close(digest[0]);
	close(digest[1]);
	close(t);
}

TEST_F(ps, every_subscriber_sees_the_time_of_the_publication)
{
	struct msgbox_msg m;
	int t, subs[SUBS], i;
	uint64_t t0, t1, when = 0;
	unsigned int v;

	t = topic(self->name, 4, 0);
	ASSERT_LE(0, t);
	for (i = 0; i < SUBS; i++) {
		subs[i] = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
		ASSERT_LE(0, subs[i]);
	}
	t0 = mb_now_ns(CLOCK_REALTIME);
	ASSERT_EQ(0, publish(t, 7, 1, 0));
	t1 = mb_now_ns(CLOCK_REALTIME);
	for (i = 0; i < SUBS; i++) {
		mb_msg_init(&m, &v, sizeof(v), 0, 0);
		ASSERT_EQ(0, msgbox_recvmsg(subs[i], &m));
		EXPECT_EQ(7, v);
		if (i == 0)
			when = m.send_time_ns;
		/* One time, not one per subscription. */
		EXPECT_EQ(when, m.send_time_ns);
		close(subs[i]);
	}
	EXPECT_LE(t0, when);
	EXPECT_GE(t1, when);
	close(t);
}

TEST_F(ps, full_subscriber_blocks_the_publisher_and_delivery_is_all_or_nothing)
{
	int t, a, b;
	pid_t pid;

	t = topic(self->name, 2, 0);
	ASSERT_LE(0, t);
	a = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	b = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, publish(t, 1, 1, 0));
	ASSERT_EQ(0, publish(t, 2, 1, 0));
	EXPECT_EQ(1, next(b, 0));
	EXPECT_EQ(2, next(b, 0));
	/* a is full, b empty: a non-blocking publish reaches neither. */
	EXPECT_EQ(-1, publish(t, 3, 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, next(b, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(publish(t, 4, 1, 0) == 0, 2);
		_exit(0);
	}
	mb_sleep_ms(100);
	EXPECT_EQ(0, mb_info_of(b).nr_msgs);	/* still blocked on a */
	EXPECT_EQ(1, next(a, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(4, next(b, 0));
	EXPECT_EQ(2, next(a, 0));
	EXPECT_EQ(4, next(a, 0));
	close(a);
	close(b);
	close(t);
}

TEST_F(ps, drop_oldest_keeps_the_newest_and_counts_the_loss)
{
	int t, s;

	t = topic(self->name, 2, MSGBOX_CREATE_DROP_OLDEST);
	ASSERT_LE(0, t);
	s = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, s);
	for (unsigned int v = 1; v <= 5; v++)
		ASSERT_EQ(0, publish(t, v, 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(3, mb_info_of(s).dropped);
	EXPECT_EQ(3, mb_info_of(t).dropped);
	EXPECT_EQ(4, next(s, 0));
	EXPECT_EQ(5, next(s, 0));
	close(s);
	close(t);
}

static int publish_prio(int t, unsigned int v, __u32 prio)
{
	struct msgbox_msg m;

	mb_msg_init(&m, &v, sizeof(v), 1, 0);
	m.priority = prio;
	return msgbox_sendmsg(t, &m);
}

/*
 * The oldest is the first published, whatever its priority, also once a
 * faulting read gave it back to the queue behind younger ones.
 */
TEST_F(ps, drop_oldest_drops_by_age_across_priorities_and_requeues)
{
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	int t, s, i;

	ASSERT_NE(MAP_FAILED, bad);
	t = topic(self->name, 4, MSGBOX_CREATE_DROP_OLDEST);
	ASSERT_LE(0, t);
	s = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, publish_prio(t, 1, 5));
	ASSERT_EQ(0, publish_prio(t, 2, 0));
	ASSERT_EQ(0, publish_prio(t, 3, 9));
	EXPECT_EQ(3, next(s, MSGBOX_MSG_NONBLOCK));
	/* 1 (priority 5) is next: taken, the copy faults, it is back. */
	EXPECT_EQ(-1, read(s, bad, sizeof(unsigned int)));
	EXPECT_EQ(EFAULT, errno);
	for (i = 4; i <= 6; i++)	/* 6 finds it full and drops 1 */
		ASSERT_EQ(0, publish_prio(t, i, 1));
	EXPECT_EQ(1, mb_info_of(s).dropped);
	for (i = 4; i <= 6; i++)
		EXPECT_EQ(i, next(s, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(2, next(s, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(-1, next(s, MSGBOX_MSG_NONBLOCK));
	munmap(bad, 4096);
	close(s);
	close(t);
}

TEST_F(ps, drop_new_keeps_the_oldest_and_counts_the_loss)
{
	int t, s;

	t = topic(self->name, 2, MSGBOX_CREATE_DROP_NEW);
	ASSERT_LE(0, t);
	s = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, s);
	for (unsigned int v = 1; v <= 5; v++)
		ASSERT_EQ(0, publish(t, v, 1, 0));	/* never blocks */
	EXPECT_EQ(3, mb_info_of(s).dropped);
	EXPECT_EQ(3, mb_info_of(t).dropped);
	EXPECT_EQ(1, next(s, 0));
	EXPECT_EQ(2, next(s, 0));
	close(s);
	close(t);
}

TEST_F(ps, subscription_filters_select_by_type)
{
	int t, five, notfive, low;

	t = topic(self->name, 16, 0);
	ASSERT_LE(0, t);
	five = msgbox_subscribe(t, 5, MSGBOX_FD_RECV);
	low = msgbox_subscribe(t, -3, MSGBOX_FD_RECV);
	struct msgbox_subscribe sa = { .fd_flags = MSGBOX_FD_RECV,
				       .flags = MSGBOX_MSG_EXCEPT, .type = 5 };

	notfive = ioctl(t, MSGBOX_IOC_SUBSCRIBE, &sa);
	ASSERT_LE(0, five);
	ASSERT_LE(0, notfive);
	ASSERT_LE(0, low);
	ASSERT_EQ(0, publish(t, 10, 5, 0));
	ASSERT_EQ(0, publish(t, 11, 2, 0));
	ASSERT_EQ(0, publish(t, 12, 7, 0));
	EXPECT_EQ(10, next(five, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(-1, next(five, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(11, next(notfive, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(12, next(notfive, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(11, next(low, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(-1, next(low, MSGBOX_MSG_NONBLOCK));
	close(five);
	close(notfive);
	close(low);
	close(t);
}

TEST_F(ps, subscription_ends_with_its_descriptor_even_after_SIGKILL)
{
	int t, s;
	pid_t pid;
	int ready[2];
	char c;

	t = topic(self->name, 4, 0);
	ASSERT_LE(0, t);
	s = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, s);
	ASSERT_EQ(1, mb_info_of(t).subscribers);
	ASSERT_EQ(0, close(s));
	EXPECT_EQ(0, mb_info_of(t).subscribers);
	/* No subscriber: the publication goes nowhere, successfully. */
	EXPECT_EQ(0, publish(t, 1, 1, MSGBOX_MSG_NONBLOCK));

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_subscribe(t, 0, MSGBOX_FD_RECV) >= 0, 2);
		CHILD_CHECK(write(ready[1], "r", 1) == 1, 3);
		pause();
		_exit(4);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(1, mb_info_of(t).subscribers);
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_info_of(t).subscribers);
	close(ready[0]);
	close(ready[1]);
	close(t);
}

TEST_F(ps, destroying_the_topic_ends_every_subscription)
{
	int t, s;
	pid_t pid;

	t = topic(self->name, 4, 0);
	ASSERT_LE(0, t);
	s = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, s);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(next(s, 0) == -1 && errno == EIDRM, 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(s, 1, 0));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-1, msgbox_subscribe(t, 0, MSGBOX_FD_RECV));
	EXPECT_EQ(EIDRM, errno);
	close(s);
	close(t);
}

TEST_F(ps, closing_a_full_subscription_releases_a_blocked_publisher)
{
	int t, a, b;
	pid_t pid;

	t = topic(self->name, 1, 0);
	ASSERT_LE(0, t);
	a = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	b = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, publish(t, 1, 1, 0));
	EXPECT_EQ(1, next(b, 0));		/* b has room again, a is full */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(a);
		CHILD_CHECK(publish(t, 2, 1, 0) == 0, 2);
		_exit(0);
	}
	mb_sleep_ms(100);
	EXPECT_EQ(0, mb_info_of(b).nr_msgs);	/* the publisher waits for a */
	/* The last close of a must not wait for the publisher, nor it for a. */
	ASSERT_EQ(0, close(a));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(2, next(b, 0));
	EXPECT_EQ(1, mb_info_of(t).subscribers);
	close(b);
	close(t);
}

/*
 * A publisher blocked on one full subscription holds the topic: the last
 * close of another subscription must not wait for it (a process exiting
 * would hang unkillable), and a SUBSCRIBE waiting for it is interruptible.
 */
TEST_F(ps, a_publisher_blocked_on_one_subscription_holds_up_no_other_close)
{
	int t, a, b, st = -1, i;
	pid_t pub, closer;
	bool gone = false;

	t = topic(self->name, 1, 0);
	ASSERT_LE(0, t);
	a = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	b = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, publish(t, 1, 1, 0));	/* both full now */
	pub = fork();
	ASSERT_LE(0, pub);
	if (pub == 0) {
		close(a);
		close(b);
		CHILD_CHECK(publish(t, 2, 1, 0) == 0, 2);
		_exit(0);
	}
	mb_sleep_ms(200);
	EXPECT_EQ(1, next(b, 0));		/* b has room, a holds it up */
	closer = fork();
	ASSERT_LE(0, closer);
	if (closer == 0) {
		close(a);
		close(b);			/* b's last descriptor */
		_exit(0);
	}
	close(b);
	for (i = 0; i < 3000 && !(gone = mb_exited(closer, &st)); i++)
		mb_sleep_ms(1);
	EXPECT_TRUE(gone);
	EXPECT_EQ(0, gone ? st : 0);

	/* A new SUBSCRIBE waits for the publisher, but a signal ends that. */
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(1);
	EXPECT_EQ(-1, msgbox_subscribe(t, 0, MSGBOX_FD_RECV));
	EXPECT_EQ(EINTR, errno);
	alarm(0);

	EXPECT_EQ(1, next(a, 0));		/* room in a: the publish goes on */
	EXPECT_EQ(0, mb_reap(pub, MB_WAIT_MS));
	if (!gone)
		EXPECT_EQ(0, mb_reap(closer, MB_WAIT_MS));
	EXPECT_EQ(2, next(a, MSGBOX_MSG_NONBLOCK));
	/* b was unlinked by the publisher on its way out. */
	EXPECT_EQ(1, mb_info_of(t).subscribers);
	close(a);
	close(t);
}

TEST_F(ps, destroying_a_topic_wakes_a_blocked_publisher_with_EIDRM)
{
	int t, a;
	pid_t pid;

	t = topic(self->name, 1, 0);
	ASSERT_LE(0, t);
	a = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, publish(t, 1, 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(publish(t, 2, 1, 0) == -1, 2);
		CHILD_CHECK(errno == EIDRM, 3);
		_exit(0);
	}
	mb_sleep_ms(100);
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(a);
	close(t);
}

static int set_limits(int fd, __u32 max_msgs, __u32 max_msg_size,
		      __u64 max_bytes)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_LIMITS,
				     .max_msgs = max_msgs,
				     .max_msg_size = max_msg_size,
				     .max_bytes = max_bytes };

	return msgbox_setattr(fd, &sa);
}

/* Publish @len bytes, giving up after 2 s instead of blocking for good. */
static int publish_len(int t, size_t len)
{
	static char buf[1024];
	struct msgbox_msg m;

	mb_msg_init(&m, buf, len, 1, MSGBOX_MSG_TIMEOUT);
	m.timeout_ns = 2000000000ull;
	return msgbox_sendmsg(t, &m);
}

TEST_F(ps, topics_and_subscriptions_cannot_become_rendezvous_channels)
{
	int t, s;

	t = topic(self->name, 4, 0);
	ASSERT_LE(0, t);
	s = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, s);
	EXPECT_EQ(-1, set_limits(t, 0, 64, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_limits(s, 0, 64, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(4, mb_info_of(s).max_msgs);
	EXPECT_EQ(0, set_limits(s, 8, 64, 4096));
	close(s);
	close(t);
}

/*
 * A subscription keeps the limits it was made with.  Once the topic's
 * are raised, a publication one of them can never hold fails at once
 * with EMSGSIZE and reaches no one (rather than blocking for good), and
 * under DROP_OLDEST empties no queue for a message that could never go
 * in.
 */
TEST_F(ps, a_publication_a_subscription_can_never_hold_reaches_no_one)
{
	int t, a, b;

	t = topic(self->name, 4, 0);
	ASSERT_LE(0, t);
	a = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, set_limits(t, 4, 1024, 4096));
	b = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, b);
	EXPECT_EQ(1024, mb_info_of(b).max_msg_size);
	EXPECT_EQ(-1, publish_len(t, 512));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(0, mb_info_of(a).nr_msgs);
	EXPECT_EQ(0, mb_info_of(b).nr_msgs);
	EXPECT_EQ(0, publish_len(t, 64));
	EXPECT_EQ(1, mb_info_of(a).nr_msgs);
	EXPECT_EQ(1, mb_info_of(b).nr_msgs);
	close(a);
	close(b);
	close(t);
}

TEST_F(ps, drop_oldest_drops_nothing_for_a_publication_that_cannot_fit)
{
	int t, a, i;

	t = topic(self->name, 4, MSGBOX_CREATE_DROP_OLDEST);
	ASSERT_LE(0, t);
	a = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, a);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, publish(t, i, 1, 0));
	ASSERT_EQ(0, set_limits(t, 4, 1024, 4096));
	EXPECT_EQ(0, publish_len(t, 512));
	EXPECT_EQ(3, mb_info_of(a).nr_msgs);
	EXPECT_EQ(1, mb_info_of(a).dropped);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(i, next(a, MSGBOX_MSG_NONBLOCK));
	close(a);
	close(t);
}

TEST_F(ps, misuse_gets_precise_errors)
{
	struct msgbox_attr attr;
	int t, m;

	t = topic(self->name, 4, 0);
	ASSERT_LE(0, t);
	/* A topic queues nothing to receive. */
	EXPECT_EQ(-1, next(t, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EOPNOTSUPP, errno);
	/* Subscriptions are receive-only. */
	EXPECT_EQ(-1, msgbox_subscribe(t, 0, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	/* A publication has no single receiver to rendezvous with. */
	EXPECT_EQ(-1, publish(t, 1, 1, MSGBOX_MSG_SYNC));
	EXPECT_EQ(EINVAL, errno);

	msgbox_attr_init(&attr);
	attr.flags = MSGBOX_CREATE_DROP_NEW;			/* no topic */
	EXPECT_EQ(-1, msgbox_create_anon(&attr, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	attr.flags = MSGBOX_CREATE_TOPIC | MSGBOX_CREATE_DROP_NEW |
		     MSGBOX_CREATE_DROP_OLDEST;
	EXPECT_EQ(-1, msgbox_create_anon(&attr, MB_RW));
	EXPECT_EQ(EINVAL, errno);

	m = msgbox_create_anon(NULL, MB_RW);
	ASSERT_LE(0, m);
	EXPECT_EQ(-1, msgbox_subscribe(m, 0, MSGBOX_FD_RECV));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(m);
	close(t);
}

struct closer {
	int *fds;
	int n;
	pthread_barrier_t *go;
};

static void *close_all(void *arg)
{
	struct closer *c = arg;

	pthread_barrier_wait(c->go);
	for (int i = 0; i < c->n; i++)
		close(c->fds[i]);
	return NULL;
}

/*
 * Destroying a topic ends its subscriptions while their last descriptors
 * close on another CPU: each subscription must be unlinked and released
 * exactly once (list debugging and KASAN, on the debug kernel, watch).
 */
TEST_F(ps, destroying_a_topic_while_its_subscriptions_close_is_safe)
{
	pthread_barrier_t go;
	struct closer c;
	int subs[8], t;
	pthread_t th;

	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 2));
	for (int round = 0; round < 200; round++) {
		t = topic(self->name, 4, 0);
		ASSERT_LE(0, t);
		for (int i = 0; i < 8; i++) {
			subs[i] = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
			ASSERT_LE(0, subs[i]);
		}
		ASSERT_EQ(0, publish(t, round, 1, 0));
		c = (struct closer){ .fds = subs, .n = 8, .go = &go };
		ASSERT_EQ(0, pthread_create(&th, NULL, close_all, &c));
		pthread_barrier_wait(&go);
		ASSERT_EQ(0, msgbox_destroy(self->name));
		ASSERT_EQ(0, pthread_join(th, NULL));
		close(t);
	}
	pthread_barrier_destroy(&go);
}

TEST_F(ps, a_topic_cannot_be_a_dead_letter_mailbox)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_DEAD_LETTER,
				     .max_deliveries = 2 };
	int t, m;

	t = topic(self->name, 4, 0);
	ASSERT_LE(0, t);
	m = msgbox_create_anon(NULL, MB_RW);
	ASSERT_LE(0, m);
	sa.dead_letter_fd = t;
	EXPECT_EQ(-1, msgbox_setattr(m, &sa));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_info_of(m).max_deliveries);
	close(m);
	close(t);
}

TEST_HARNESS_MAIN
