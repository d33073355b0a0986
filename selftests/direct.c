// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: one-copy transfer of large messages.  A message of
 * 16 KiB or more sent while a receiver sleeps with a big enough buffer goes
 * from the sender's pages straight into the receiver's (struct
 * msgbox_info.direct counts them); everything a receive sees must be
 * exactly what the usual two-copy path gives: payload, metadata, order,
 * selectors, EMSGSIZE, faults on either side.
 *
 * A receive pins its buffer only when the last message sent to the
 * mailbox was large, and only for twice that message's size, so each test
 * first passes one large message through the queue ("priming").
 */
#include <pthread.h>
#include <sys/mman.h>

#include "msgbox_test.h"

#define BIG		(100 * 1024)
#define MIN_DIRECT	(16 * 1024)
#define PAGE		4096
#define AREA		(2 * BIG + 4 * PAGE)

/* Exit status of a receiver that got wrong data or metadata. */
#define BAD_DATA	250

FIXTURE(di) {
	char name[32];
	int fd;
	char *src;		/* AREA bytes for the sender */
	char *dst;		/* AREA bytes for receivers (MAP_SHARED) */
};

FIXTURE_SETUP(di)
{
	self->fd = -1;
	self->src = self->dst = MAP_FAILED;
	mb_make_name(self->name, sizeof(self->name), "di");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 4, 4 * BIG, 16 * BIG, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
	self->src = mmap(NULL, AREA, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->dst = mmap(NULL, AREA, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->dst);
}

FIXTURE_TEARDOWN_PARENT(di)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

static unsigned long long direct_count(int fd)
{
	struct msgbox_info info;

	if (msgbox_info(fd, &info))
		return ~0ull;
	return info.direct;
}

/* One large message through the queue: receives now pin their buffers. */
static int prime(FIXTURE_DATA(di) *self)
{
	mb_fill(self->src, BIG, 1);
	if (msgbox_send(self->fd, self->src, BIG, 0))
		return -1;
	if (msgbox_recv(self->fd, self->dst, BIG, MSGBOX_MSG_NONBLOCK) != BIG)
		return -1;
	return mb_check(self->dst, BIG, 1) ? 0 : -1;
}

/*
 * Fork a receiver: it receives (selector @type, buffer of @size bytes at
 * @roff in the shared area) and checks that it got @len bytes of message
 * @seq with type @want_type from the parent.  Exit status: 0, the errno of
 * a failed receive, or BAD_DATA.
 */
static pid_t receiver(FIXTURE_DATA(di) *self, long long type, size_t roff,
		      size_t size, size_t len, unsigned int seq,
		      long long want_type)
{
	pid_t parent = getpid(), pid = fork();
	struct msgbox_msg m;

	if (pid)
		return pid;
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)(self->dst + roff);
	m.len = size;
	m.type = type;
	if (msgbox_recvmsg(self->fd, &m))
		_exit(errno);
	CHILD_CHECK(m.len == len, BAD_DATA);
	CHILD_CHECK(m.type == want_type, BAD_DATA);
	CHILD_CHECK(m.sender_pid == parent, BAD_DATA);
	CHILD_CHECK(m.priority == 3, BAD_DATA);
	CHILD_CHECK(mb_check(self->dst + roff, len, seq), BAD_DATA);
	_exit(0);
}

static int send_big(FIXTURE_DATA(di) *self, size_t soff, size_t len,
		    unsigned int seq, long long type)
{
	struct msgbox_msg m;

	mb_fill(self->src + soff, len, seq);
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)(self->src + soff);
	m.len = len;
	m.type = type;
	m.priority = 3;
	return msgbox_sendmsg(self->fd, &m);
}

/* Lengths and buffer offsets crossing page boundaries on both sides. */
TEST_F(di, large_message_to_a_sleeping_receiver_is_copied_directly)
{
	static const struct { size_t len, soff, roff; } cases[] = {
		/* Each at most twice the last (see the top of this file). */
		{ BIG, 7, PAGE - 3 },
		{ 2 * BIG, 0, 5 },
		{ MIN_DIRECT + PAGE - 1, PAGE - 1, 1 },
		{ MIN_DIRECT, 0, 0 },
	};
	unsigned int i;

	ASSERT_EQ(0, prime(self));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t pid = receiver(self, 0, cases[i].roff, 2 * BIG, cases[i].len,
				     10 + i, MSGBOX_TYPE_DEFAULT);
		struct msgbox_info info;

		ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
		ASSERT_EQ(0, send_big(self, cases[i].soff, cases[i].len, 10 + i,
				      MSGBOX_TYPE_DEFAULT));
		EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS)) TH_LOG("case %u", i);
		ASSERT_EQ(0, msgbox_info(self->fd, &info));
		EXPECT_EQ(i + 1, info.direct) TH_LOG("case %u", i);
		EXPECT_EQ(0, info.nr_msgs);
		EXPECT_EQ(i + 2, info.received);
	}
}

/*
 * Below the threshold, beyond what the receiver pinned (twice the last
 * message), or with nobody waiting, the queue carries it.
 */
TEST_F(di, small_or_queued_messages_take_the_usual_path)
{
	pid_t pid;

	ASSERT_EQ(0, prime(self));
	pid = receiver(self, 0, 0, 2 * BIG, MIN_DIRECT - 1, 2, MSGBOX_TYPE_DEFAULT);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, send_big(self, 0, MIN_DIRECT - 1, 2, MSGBOX_TYPE_DEFAULT));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, direct_count(self->fd));

	/* The last message was 16 KiB - 1: no pinning at all. */
	pid = receiver(self, 0, 0, 2 * BIG, BIG, 3, MSGBOX_TYPE_DEFAULT);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, send_big(self, 0, BIG, 3, MSGBOX_TYPE_DEFAULT));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, direct_count(self->fd));

	/* The last was 100 KiB: 200 KiB pinned, but 200 KiB + 1 sent. */
	pid = receiver(self, 0, 0, 2 * BIG + 1, 2 * BIG + 1, 4, MSGBOX_TYPE_DEFAULT);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, send_big(self, 0, 2 * BIG + 1, 4, MSGBOX_TYPE_DEFAULT));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, direct_count(self->fd));

	ASSERT_EQ(0, send_big(self, 0, BIG, 3, MSGBOX_TYPE_DEFAULT));
	pid = receiver(self, 0, 0, 2 * BIG, BIG, 3, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, direct_count(self->fd));
}

/* A buffer too small still means EMSGSIZE, the message left queued. */
TEST_F(di, too_small_a_buffer_gets_EMSGSIZE_and_the_message_stays)
{
	pid_t pid;

	ASSERT_EQ(0, prime(self));
	pid = receiver(self, 0, 0, BIG - 1, BIG, 4, MSGBOX_TYPE_DEFAULT);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, send_big(self, 0, BIG, 4, MSGBOX_TYPE_DEFAULT));
	EXPECT_EQ(EMSGSIZE, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, direct_count(self->fd));
	pid = receiver(self, 0, 0, BIG, BIG, 4, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* A receiver's selector decides, as for any message. */
TEST_F(di, selector_passes_over_other_types)
{
	struct msgbox_info info;
	pid_t pid;

	ASSERT_EQ(0, prime(self));
	pid = receiver(self, 2, 0, 2 * BIG, BIG, 6, 2);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, send_big(self, 0, BIG, 5, 1));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(1, info.recv_waiters);
	ASSERT_EQ(0, send_big(self, 0, BIG, 6, 2));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(1, direct_count(self->fd));
	/* The type-1 message is still there, intact. */
	pid = receiver(self, 1, 0, 2 * BIG, BIG, 5, 1);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* A sender's bad buffer fails its send and reaches nobody. */
TEST_F(di, sender_fault_delivers_nothing)
{
	struct msgbox_info info;
	struct msgbox_msg m;
	pid_t pid;

	ASSERT_EQ(0, prime(self));
	pid = receiver(self, 0, 0, 2 * BIG, BIG, 7, MSGBOX_TYPE_DEFAULT);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	/* The second half of the source is unreadable. */
	ASSERT_EQ(0, mprotect(self->src + BIG, BIG, PROT_NONE));
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)self->src;
	m.len = 2 * BIG;
	m.type = MSGBOX_TYPE_DEFAULT;
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.recv_waiters);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(1, info.sent);
	ASSERT_EQ(0, mprotect(self->src + BIG, BIG, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, send_big(self, 0, BIG, 7, MSGBOX_TYPE_DEFAULT));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(1, direct_count(self->fd));
}

struct fault_recv {
	int fd;
	struct msgbox_msg *m;	/* in its own page, made read-only */
	int err;
};

static void *fault_receiver(void *arg)
{
	struct fault_recv *r = arg;

	r->err = msgbox_recvmsg(r->fd, r->m) ? errno : 0;
	return NULL;
}

/*
 * A thread of this process asleep in a receive of up to 2 * BIG bytes
 * into self->dst, its struct msgbox_msg alone on a page made read-only
 * once it sleeps: writing the metadata back will fault.
 */
static int fault_receiver_start(FIXTURE_DATA(di) *self, struct fault_recv *r,
				pthread_t *t)
{
	r->fd = self->fd;
	r->m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->m == MAP_FAILED)
		return -1;
	memset(r->m, 0, sizeof(*r->m));
	r->m->data = (uintptr_t)self->dst;
	r->m->len = 2 * BIG;
	if (pthread_create(t, NULL, fault_receiver, r) ||
	    mb_wait_waiters(self->fd, 1, 0))
		return -1;
	return mprotect(r->m, PAGE, PROT_READ);
}

/*
 * The payload is in the receiver's pages when writing its metadata back
 * faults.  Those bytes are the receiver's to change (a thread of it could
 * scribble over them meanwhile): requeued, they would reach the next
 * receiver under the sender's stamped credentials, so a receiver with
 * read access only could inject messages.  The message is dropped.
 */
TEST_F(di, metadata_fault_after_a_direct_copy_drops_the_message)
{
	struct msgbox_info info;
	struct fault_recv r;
	struct msgbox_msg m;
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, prime(self));
	ASSERT_EQ(0, fault_receiver_start(self, &r, &t));
	pid = fork();
	if (pid == 0)
		_exit(send_big(self, 3, BIG, 8, MSGBOX_TYPE_DEFAULT) ? errno : 0);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(EFAULT, r.err);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.direct);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(1, info.dropped);
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)self->dst;
	m.len = 2 * BIG;
	m.flags = MSGBOX_MSG_NONBLOCK;
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EAGAIN, errno);
	munmap(r.m, PAGE);
}

/*
 * That drop is what a tracked sender learns: waiting for the outcome, it
 * gets EPIPE (dead-lettered or dropped), not 0 (received).
 */
TEST_F(di, a_message_dropped_after_a_direct_copy_is_not_reported_received)
{
	struct fault_recv r;
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, prime(self));
	ASSERT_EQ(0, fault_receiver_start(self, &r, &t));
	pid = fork();
	if (pid == 0) {
		struct msgbox_msg m;

		mb_fill(self->src, BIG, 9);
		memset(&m, 0, sizeof(m));
		m.data = (uintptr_t)self->src;
		m.len = BIG;
		m.type = MSGBOX_TYPE_DEFAULT;
		m.flags = MSGBOX_MSG_TRACK | MSGBOX_MSG_WAIT_ACK;
		_exit(msgbox_sendmsg(self->fd, &m) ? errno : 0);
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(EFAULT, r.err);
	EXPECT_EQ(EPIPE, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(1, mb_info_of(self->fd).direct);
	EXPECT_EQ(1, mb_info_of(self->fd).dropped);
	munmap(r.m, PAGE);
}

/* A receiver killed while its buffer is pinned leaves the message queued. */
TEST_F(di, receiver_killed_while_waiting_loses_nothing)
{
	struct msgbox_info info;
	pid_t pid;

	ASSERT_EQ(0, prime(self));
	pid = receiver(self, 0, 0, 2 * BIG, BIG, 9, MSGBOX_TYPE_DEFAULT);
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
	ASSERT_EQ(0, send_big(self, 0, BIG, 9, MSGBOX_TYPE_DEFAULT));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.direct);
	EXPECT_EQ(1, info.nr_msgs);
	pid = receiver(self, 0, 0, 2 * BIG, BIG, 9, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* The first entry of a receive batch sleeps like a receive: direct too. */
TEST_F(di, receive_batch_first_entry_gets_it_directly)
{
	pid_t pid;

	ASSERT_EQ(0, prime(self));
	pid = fork();
	if (pid == 0) {
		struct msgbox_msg m[2];
		int n;

		memset(m, 0, sizeof(m));
		m[0].data = (uintptr_t)self->dst;
		m[0].len = BIG;
		m[1].data = (uintptr_t)(self->dst + BIG);
		m[1].len = BIG;
		n = msgbox_recv_batch(self->fd, m, 2, NULL);
		CHILD_CHECK(n == 1, BAD_DATA);
		CHILD_CHECK(m[0].len == BIG, BAD_DATA);
		CHILD_CHECK(mb_check(self->dst, BIG, 11), BAD_DATA);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	ASSERT_EQ(0, send_big(self, 0, BIG, 11, MSGBOX_TYPE_DEFAULT));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(1, direct_count(self->fd));
}

/* read(2) and write(2) take the one-copy path too, either side. */
TEST_F(di, read_and_write_copy_directly)
{
	unsigned int round;

	ASSERT_EQ(0, prime(self));
	for (round = 0; round < 2; round++) {
		pid_t pid = fork();

		if (pid == 0) {
			ssize_t n;

			if (round == 0) {	/* read() here, write() there */
				n = read(self->fd, self->dst + 1, 2 * BIG);
			} else {
				struct msgbox_msg m;

				memset(&m, 0, sizeof(m));
				m.data = (uintptr_t)(self->dst + 1);
				m.len = 2 * BIG;
				n = msgbox_recvmsg(self->fd, &m) ? -1 : (ssize_t)m.len;
			}
			CHILD_CHECK(n == BIG, BAD_DATA);
			CHILD_CHECK(mb_check(self->dst + 1, BIG, 20 + round), BAD_DATA);
			_exit(0);
		}
		ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
		mb_fill(self->src + 2, BIG, 20 + round);
		if (round == 0) {
			ASSERT_EQ(0, send_big(self, 2, BIG, 20, MSGBOX_TYPE_DEFAULT));
		} else {
			ASSERT_EQ(BIG, write(self->fd, self->src + 2, BIG));
		}
		EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS)) TH_LOG("round %u", round);
		EXPECT_EQ(round + 1, direct_count(self->fd)) TH_LOG("round %u", round);
	}
}

/*
 * Two senders and three receivers, messages of 16 to 48 KiB with their
 * sender, sequence number and length inside, one receiver killed on the
 * way: every message arrives exactly once and intact, whichever path
 * (direct or queued) each took.
 */
#define ST_SENDERS	2
#define ST_MSGS		60

struct st_hdr {
	unsigned int sender, seq, len;
};

static size_t st_len(unsigned int sender, unsigned int seq)
{
	return MIN_DIRECT + ((seq * 7919 + sender * 104729) % (32 * 1024));
}

TEST_F(di, concurrent_senders_and_receivers_lose_and_corrupt_nothing)
{
	unsigned char *seen = mmap(NULL, ST_SENDERS * ST_MSGS, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t senders[ST_SENDERS], receivers[3];
	unsigned int i, s, total = 0;
	struct msgbox_info info;
	char *buf;

	ASSERT_NE(MAP_FAILED, seen);
	memset(seen, 0, ST_SENDERS * ST_MSGS);
	ASSERT_EQ(0, prime(self));
	for (i = 0; i < 3; i++) {
		receivers[i] = fork();
		ASSERT_LE(0, receivers[i]);
		if (receivers[i])
			continue;
		buf = malloc(2 * BIG);
		CHILD_CHECK(buf, 2);
		for (;;) {
			struct st_hdr h;
			ssize_t n = msgbox_recv(self->fd, buf + i, 2 * BIG, 0);

			CHILD_CHECK(n >= (ssize_t)sizeof(h), 3);
			memcpy(&h, buf + i, sizeof(h));
			if (h.len == 0)		/* the parent's stop message */
				_exit(0);
			CHILD_CHECK(h.sender < ST_SENDERS && h.seq < ST_MSGS, BAD_DATA);
			CHILD_CHECK(h.len == n && h.len == st_len(h.sender, h.seq), BAD_DATA);
			CHILD_CHECK(mb_check(buf + i + sizeof(h), n - sizeof(h),
					     h.sender * ST_MSGS + h.seq), BAD_DATA);
			__atomic_add_fetch(&seen[h.sender * ST_MSGS + h.seq], 1,
					   __ATOMIC_SEQ_CST);
		}
	}
	for (s = 0; s < ST_SENDERS; s++) {
		senders[s] = fork();
		ASSERT_LE(0, senders[s]);
		if (senders[s])
			continue;
		buf = malloc(2 * BIG);
		CHILD_CHECK(buf, 2);
		for (i = 0; i < ST_MSGS; i++) {
			struct st_hdr h = { s, i, st_len(s, i) };

			memcpy(buf + s, &h, sizeof(h));
			mb_fill(buf + s + sizeof(h), h.len - sizeof(h), s * ST_MSGS + i);
			CHILD_CHECK(msgbox_send(self->fd, buf + s, h.len, 0) == 0, 4);
		}
		_exit(0);
	}
	/* One receiver dies on the way; the others take its share. */
	mb_sleep_ms(50);
	ASSERT_EQ(0, kill(receivers[2], SIGKILL));
	EXPECT_EQ(128 + SIGKILL, mb_reap(receivers[2], MB_WAIT_MS));
	for (s = 0; s < ST_SENDERS; s++)
		EXPECT_EQ(0, mb_reap(senders[s], 10 * MB_WAIT_MS));
	/* Everything sent; wait until it is all taken, then stop the rest. */
	for (i = 0; i < MB_WAIT_MS; i++) {
		ASSERT_EQ(0, msgbox_info(self->fd, &info));
		if (info.nr_msgs == 0 && info.recv_waiters == 2)
			break;
		mb_sleep_ms(1);
	}
	for (i = 0; i < 2; i++) {
		struct st_hdr stop = { 0, 0, 0 };

		ASSERT_EQ(0, msgbox_send(self->fd, &stop, sizeof(stop), 0));
	}
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, mb_reap(receivers[i], MB_WAIT_MS));
	/* The killed receiver may have taken a message with it, no more. */
	for (i = 0; i < ST_SENDERS * ST_MSGS; i++) {
		EXPECT_GE(1, seen[i]) TH_LOG("message %u twice", i);
		total += seen[i];
	}
	EXPECT_LE(ST_SENDERS * ST_MSGS - 1, total);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	TH_LOG("%u messages, %llu copied directly", total,
	       (unsigned long long)info.direct);
	munmap(seen, ST_SENDERS * ST_MSGS);
}

TEST_HARNESS_MAIN
