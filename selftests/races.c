// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: races between a receive whose copy-out fails and
 * another thread of the same open file acknowledging or answering the
 * message it held.  A receive that fails gives its message back: until
 * the receiver has the message's id or token, nobody else may settle it
 * through that id or token.  (Regression: the receive published the
 * message for ACK and REPLY before copying it out, so a concurrent ACK or
 * REPLY could free it or its call while the failing receive still used
 * it and then requeued it: use after free, seen by KASAN.)
 *
 * The receive's structure sits in a read-only page: the kernel reads it,
 * takes the message, copies the payload, and fails writing the result,
 * every time.  The ids and tokens are predictable: the first message of a
 * mailbox is id 1, and the k-th request a file receives (failed receives
 * count) has the token k << 24 | 1 while no other is unanswered there
 * (the test checks that it aimed right with the last receive's token).
 */
#include <pthread.h>
#include "msgbox_test.h"

#define ROUNDS		20000
#define ROUND_MS	4000

FIXTURE(rc) {
	char name[32];
	int fd;
	volatile int stop;
	volatile int round;	/* the receive failing now, from 1 */
	int won;		/* ACKs or REPLYs that succeeded */
	struct msgbox_msg *ro;	/* a receive's argument, read-only */
	char buf[64];
};

FIXTURE_SETUP(rc)
{
	void *p;

	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "rc");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 4, 64, 256, MB_RW);
	ASSERT_LE(0, self->fd);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	self->ro = p;
	self->stop = 0;
	self->won = 0;
}

FIXTURE_TEARDOWN_PARENT(rc)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

/* Make *self->ro a receive of @flags, then read-only. */
static int arm_ro(FIXTURE_DATA(rc) *self, __u32 flags)
{
	memset(self->ro, 0, sizeof(*self->ro));
	self->ro->data = (uintptr_t)self->buf;
	self->ro->len = sizeof(self->buf);
	self->ro->flags = flags | MSGBOX_MSG_NONBLOCK;
	return mprotect(self->ro, 4096, PROT_READ);
}

static void *acker(void *arg)
{
	FIXTURE_DATA(rc) *self = arg;

	while (!self->stop) {
		struct msgbox_ack a = { .id = 1 };

		if (ioctl(self->fd, MSGBOX_IOC_ACK, &a) == 0)
			__atomic_add_fetch(&self->won, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void *replier(void *arg)
{
	FIXTURE_DATA(rc) *self = arg;

	while (!self->stop) {
		/* The token of the request the failing receive holds now. */
		__u64 token = (__u64)self->round << 24 | 1;

		if (msgbox_reply(self->fd, token, "forged", 6) == 0)
			__atomic_add_fetch(&self->won, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* Fail receives until ROUNDS or ROUND_MS; the receives that failed. */
static int failing_receives(FIXTURE_DATA(rc) *self)
{
	uint64_t t0 = mb_now_ns(CLOCK_MONOTONIC);
	int i, bad = 0;

	for (i = 0; i < ROUNDS; i++) {
		self->round = i + 1;
		if (ioctl(self->fd, MSGBOX_IOC_RECV, self->ro) != -1 || errno != EFAULT) {
			fprintf(stderr, "# round %d: receive: %s\n", i, strerror(errno));
			bad++;
			break;
		}
		if (mb_now_ns(CLOCK_MONOTONIC) - t0 > ROUND_MS * 1000000ull)
			break;
	}
	printf("# %d failed receives raced\n", i);
	return bad;
}

TEST_F_TIMEOUT(rc, no_ack_can_settle_a_message_whose_ack_receive_failed, 120)
{
	struct msgbox_info info;
	pthread_t t;

	ASSERT_EQ(0, msgbox_send(self->fd, "x", 1, 0));
	ASSERT_EQ(0, arm_ro(self, MSGBOX_MSG_ACK));
	ASSERT_EQ(0, pthread_create(&t, NULL, acker, self));
	EXPECT_EQ(0, failing_receives(self));
	self->stop = 1;
	pthread_join(t, NULL);
	EXPECT_EQ(0, self->won);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(0, info.in_flight);
	EXPECT_EQ(1, msgbox_recv(self->fd, self->buf, sizeof(self->buf), MSGBOX_MSG_NONBLOCK));
}

TEST_F_TIMEOUT(rc, no_reply_can_answer_a_request_whose_receive_failed, 120)
{
	struct msgbox_msg q;
	pthread_t t;
	pid_t pid;
	char req[8];

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[16] = "";

		CHILD_CHECK(msgbox_call(self->fd, "q", 1, rep, sizeof(rep),
					4ull * MB_WAIT_MS * 1000000) == 5, 2);
		CHILD_CHECK(!memcmp(rep, "final", 5), 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_queued(self->fd));
	ASSERT_EQ(0, arm_ro(self, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, replier, self));
	EXPECT_EQ(0, failing_receives(self));
	self->stop = 1;
	pthread_join(t, NULL);
	EXPECT_EQ(0, self->won);
	/* The request is still there, and its caller gets the real answer. */
	memset(&q, 0, sizeof(q));
	q.data = (uintptr_t)req;
	q.len = sizeof(req);
	q.flags = MSGBOX_MSG_NONBLOCK;
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &q));
	/* The forged tokens had the right shape: this one is the next. */
	EXPECT_EQ((__u64)(self->round + 1) << 24 | 1, q.token);
	ASSERT_EQ(0, msgbox_reply(self->fd, q.token, "final", 5));
	EXPECT_EQ(0, mb_reap(pid, 4 * MB_WAIT_MS));
}

#define CALLS	200

struct duel {
	int fd;
	unsigned long long token;
	pthread_barrier_t start, done;
	int ok, enoent, other;
	volatile int stop;
};

static void *duelist(void *arg)
{
	struct duel *d = arg;

	for (;;) {
		pthread_barrier_wait(&d->start);
		if (d->stop)
			return NULL;
		if (msgbox_reply(d->fd, d->token, "b", 1) == 0)
			__atomic_add_fetch(&d->ok, 1, __ATOMIC_SEQ_CST);
		else if (errno == ENOENT)
			__atomic_add_fetch(&d->enoent, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_add_fetch(&d->other, 1, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&d->done);
	}
}

/*
 * Two threads answer the same token at once, CALLS times: exactly one
 * REPLY wins each time, the other finds no such token (ENOENT), and the
 * caller gets one answer per call.  (The losing REPLY used to read the
 * call after the winner could have freed it.)
 */
TEST_F_TIMEOUT(rc, two_replies_to_one_token_exactly_one_wins, 120)
{
	struct duel d = { .fd = self->fd };
	pthread_t t;
	pid_t pid;
	int i;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (i = 0; i < CALLS; i++) {
			char rep[4] = "";

			CHILD_CHECK(msgbox_call(self->fd, "q", 1, rep, sizeof(rep),
						4ull * MB_WAIT_MS * 1000000) == 1, 2);
			CHILD_CHECK(rep[0] == 'a' || rep[0] == 'b', 3);
		}
		_exit(0);
	}
	ASSERT_EQ(0, pthread_barrier_init(&d.start, NULL, 2));
	ASSERT_EQ(0, pthread_barrier_init(&d.done, NULL, 2));
	ASSERT_EQ(0, pthread_create(&t, NULL, duelist, &d));
	for (i = 0; i < CALLS; i++) {
		struct msgbox_msg q;
		char req[4];

		memset(&q, 0, sizeof(q));
		q.data = (uintptr_t)req;
		q.len = sizeof(req);
		q.flags = MSGBOX_MSG_TIMEOUT;
		q.timeout_ns = MB_WAIT_MS * 1000000ull;
		ASSERT_EQ(0, msgbox_recvmsg(self->fd, &q));
		d.token = q.token;
		pthread_barrier_wait(&d.start);
		if (msgbox_reply(self->fd, d.token, "a", 1) == 0)
			__atomic_add_fetch(&d.ok, 1, __ATOMIC_SEQ_CST);
		else if (errno == ENOENT)
			__atomic_add_fetch(&d.enoent, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_add_fetch(&d.other, 1, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&d.done);
	}
	d.stop = 1;
	pthread_barrier_wait(&d.start);
	pthread_join(t, NULL);
	EXPECT_EQ(CALLS, d.ok);
	EXPECT_EQ(CALLS, d.enoent);
	EXPECT_EQ(0, d.other);
	EXPECT_EQ(0, mb_reap(pid, 4 * MB_WAIT_MS));
}

TEST_HARNESS_MAIN
