// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: queued messages and what a mailbox recycles.  A
 * payload larger than a page is held in a list of pages, and a mailbox
 * keeps the pages of the large messages received from it, and the objects
 * of the small ones, for the next ones sent to it, without zeroing them.  Whatever the path in or out (ioctl, batch, read/write, readv and
 * writev, peek, publication), a receiver must see exactly the bytes sent,
 * nothing of an earlier message, and a fault must queue nothing.
 *
 * Every message here is queued before anyone receives it, so none takes
 * the one-copy path of direct.c.
 */
#include <sys/mman.h>
#include <sys/uio.h>

#include "msgbox_test.h"

#define PAGE		4096
#define MAX_SIZE	(256 * 1024)
#define AREA		(MAX_SIZE + 4 * PAGE)
#define CANARY		0xc5

FIXTURE(pg) {
	char name[32];
	int fd;
	unsigned char *src;	/* AREA bytes for senders */
	unsigned char *dst;	/* AREA bytes for receivers */
};

FIXTURE_SETUP(pg)
{
	self->fd = -1;
	self->src = self->dst = MAP_FAILED;
	mb_make_name(self->name, sizeof(self->name), "pg");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 8, MAX_SIZE, 4 * MAX_SIZE, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
	self->src = mmap(NULL, AREA, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->dst = mmap(NULL, AREA, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->dst);
}

FIXTURE_TEARDOWN(pg)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->src != MAP_FAILED)
		munmap(self->src, AREA);
	if (self->dst != MAP_FAILED)
		munmap(self->dst, AREA);
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

/* The receive area is all canary bytes again. */
static void scrub(FIXTURE_DATA(pg) *self)
{
	memset(self->dst, CANARY, AREA);
}

/* Bytes [from, to) of the receive area were not written. */
static bool untouched(FIXTURE_DATA(pg) *self, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (self->dst[i] != CANARY)
			return false;
	return true;
}

static int send_at(FIXTURE_DATA(pg) *self, size_t off, size_t len,
		   unsigned int seq)
{
	mb_fill(self->src + off, len, seq);
	return msgbox_send(self->fd, self->src + off, len, MSGBOX_MSG_NONBLOCK);
}

/* Around the page a payload and its header fill, and well beyond. */
static const size_t lengths[] = {
	PAGE - 64, PAGE - 17, PAGE - 16, PAGE - 15, PAGE, PAGE + 1,
	2 * PAGE - 1, 3 * PAGE + 123, 100 * 1024, MAX_SIZE,
};

TEST_F(pg, queued_messages_of_every_length_arrive_intact_and_exact)
{
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		size_t len = lengths[i], soff = (i * 37) % PAGE;
		size_t roff = (i * 53 + 5) % PAGE;
		ssize_t got;

		ASSERT_EQ(0, send_at(self, soff, len, i)) TH_LOG("len %zu", len);
		scrub(self);
		got = msgbox_recv(self->fd, self->dst + roff, AREA - roff,
				  MSGBOX_MSG_NONBLOCK);
		ASSERT_EQ((ssize_t)len, got) TH_LOG("len %zu", len);
		EXPECT_TRUE(mb_check(self->dst + roff, len, i))
			TH_LOG("len %zu: payload differs", len);
		EXPECT_TRUE(untouched(self, 0, roff));
		EXPECT_TRUE(untouched(self, roff + len, AREA))
			TH_LOG("len %zu: written past the message", len);
	}
}

/*
 * A large message received leaves its pages in the mailbox; the next one
 * reuses them unzeroed.  A shorter message after a longer one must show
 * its own bytes only, by every way of receiving it.
 */
TEST_F(pg, reused_pages_show_nothing_of_an_earlier_message)
{
	size_t shorter[] = { 3 * PAGE + 1, PAGE + 100, 20000 };
	struct msgbox_msg m;
	unsigned int seq = 10;

	for (size_t i = 0; i < 3; i++, seq += 2) {
		size_t len = shorter[i];

		/* A long one through the mailbox, its pages kept there. */
		ASSERT_EQ(0, send_at(self, 0, 100 * 1024, seq));
		scrub(self);
		ASSERT_EQ(100 * 1024, msgbox_recv(self->fd, self->dst, AREA,
						  MSGBOX_MSG_NONBLOCK));
		ASSERT_TRUE(mb_check(self->dst, 100 * 1024, seq));

		ASSERT_EQ(0, send_at(self, 0, len, seq + 1));
		scrub(self);
		switch (i) {
		case 0:		/* ioctl */
			ASSERT_EQ((ssize_t)len,
				  msgbox_recv(self->fd, self->dst, AREA,
					      MSGBOX_MSG_NONBLOCK));
			break;
		case 1:		/* read(2) */
			ASSERT_EQ((ssize_t)len, read(self->fd, self->dst, AREA));
			break;
		case 2:		/* a receive batch */
			mb_msg_init(&m, self->dst, AREA, 0, MSGBOX_MSG_NONBLOCK);
			ASSERT_EQ(1, msgbox_recv_batch(self->fd, &m, 1, NULL));
			ASSERT_EQ(len, m.len);
			break;
		}
		EXPECT_TRUE(mb_check(self->dst, len, seq + 1)) TH_LOG("way %zu", i);
		EXPECT_TRUE(untouched(self, len, AREA)) TH_LOG("way %zu", i);
	}
}

TEST_F(pg, truncated_receive_copies_only_what_the_buffer_holds)
{
	size_t len = 10 * PAGE + 7, size = 3 * PAGE + 11;
	struct msgbox_msg m;

	ASSERT_EQ(0, send_at(self, 3, len, 21));
	scrub(self);
	mb_msg_init(&m, self->dst + 1, size, 0,
		    MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_TRUNC);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(len, m.len);
	EXPECT_TRUE(mb_check(self->dst + 1, size, 21));
	EXPECT_TRUE(untouched(self, 0, 1));
	EXPECT_TRUE(untouched(self, 1 + size, AREA));
}

TEST_F(pg, writev_and_readv_carry_a_paged_message_across_iovecs)
{
	struct iovec in[3] = {
		{ self->src + 1, 5000 }, { self->src + 9000, 1 },
		{ self->src + 20000, 3 * PAGE + 5 },
	};
	size_t len = 5000 + 1 + 3 * PAGE + 5;
	struct iovec out[2] = {
		{ self->dst + 7, 7000 }, { self->dst + 30000, 50000 },
	};
	unsigned char *want = malloc(len);
	unsigned char *got = malloc(len);
	size_t n = 0;

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	mb_fill(self->src, AREA, 31);
	for (int i = 0; i < 3; i++) {
		memcpy(want + n, in[i].iov_base, in[i].iov_len);
		n += in[i].iov_len;
	}
	ASSERT_EQ((ssize_t)len, writev(self->fd, in, 3));
	scrub(self);
	ASSERT_EQ((ssize_t)len, readv(self->fd, out, 2));
	memcpy(got, out[0].iov_base, 7000);
	memcpy(got + 7000, out[1].iov_base, len - 7000);
	EXPECT_EQ(0, memcmp(want, got, len));
	EXPECT_TRUE(untouched(self, 30000 + len - 7000, AREA));
	free(want);
	free(got);
}

TEST_F(pg, a_fault_partway_through_a_large_send_queues_nothing)
{
	size_t len = 8 * PAGE;
	struct iovec iov[2];
	unsigned char *hole;

	/* The fourth page of the sender's buffer is not mapped. */
	mb_fill(self->src, len, 41);
	hole = self->src + 3 * PAGE;
	ASSERT_EQ(0, munmap(hole, PAGE));
	EXPECT_EQ(-1, msgbox_send(self->fd, self->src, len,
				  MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, write(self->fd, self->src, len));
	EXPECT_EQ(EFAULT, errno);
	iov[0] = (struct iovec){ self->src, PAGE };
	iov[1] = (struct iovec){ self->src + 2 * PAGE, 2 * PAGE };
	EXPECT_EQ(-1, writev(self->fd, iov, 2));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
	EXPECT_EQ(0, mb_info_of(self->fd).sent);

	/* The mailbox goes on: the same pages serve the next message. */
	ASSERT_EQ(hole, mmap(hole, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_EQ(0, send_at(self, 0, len, 42));
	scrub(self);
	ASSERT_EQ((ssize_t)len, msgbox_recv(self->fd, self->dst, AREA,
					    MSGBOX_MSG_NONBLOCK));
	EXPECT_TRUE(mb_check(self->dst, len, 42));
}

TEST_F(pg, receive_fault_requeues_the_message_whole)
{
	size_t len = 6 * PAGE + 3;

	ASSERT_EQ(0, send_at(self, 0, len, 51));
	/* The receive buffer's third page is not mapped. */
	ASSERT_EQ(0, munmap(self->dst + 2 * PAGE, PAGE));
	EXPECT_EQ(-1, msgbox_recv(self->fd, self->dst, len,
				  MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, read(self->fd, self->dst, len));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	ASSERT_EQ(self->dst + 2 * PAGE,
		  mmap(self->dst + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	scrub(self);
	ASSERT_EQ((ssize_t)len, msgbox_recv(self->fd, self->dst, AREA,
					    MSGBOX_MSG_NONBLOCK));
	EXPECT_TRUE(mb_check(self->dst, len, 51));
}

/* Peeked copies share the payload: receiving must not recycle it early. */
TEST_F(pg, peeked_message_keeps_its_bytes_while_another_takes_it)
{
	size_t len = 5 * PAGE + 9;

	ASSERT_EQ(0, send_at(self, 0, len, 61));
	scrub(self);
	ASSERT_EQ((ssize_t)len, msgbox_recv(self->fd, self->dst, AREA,
					    MSGBOX_MSG_NONBLOCK |
					    MSGBOX_MSG_PEEK));
	EXPECT_TRUE(mb_check(self->dst, len, 61));
	scrub(self);
	ASSERT_EQ((ssize_t)len, msgbox_recv(self->fd, self->dst, AREA,
					    MSGBOX_MSG_NONBLOCK));
	EXPECT_TRUE(mb_check(self->dst, len, 61));
	/* Its pages now serve the next message, which must be its own. */
	ASSERT_EQ(0, send_at(self, 0, len, 62));
	scrub(self);
	ASSERT_EQ((ssize_t)len, msgbox_recv(self->fd, self->dst, AREA,
					    MSGBOX_MSG_NONBLOCK));
	EXPECT_TRUE(mb_check(self->dst, len, 62));
}

/*
 * A publication's payload is shared by every subscription: the first
 * subscriber to take it must not hand its pages to the next message while
 * the second still has it queued.
 */
TEST_F(pg, publication_pages_stay_until_every_subscriber_took_them)
{
	struct msgbox_attr attr;
	size_t len = 7 * PAGE + 1;
	char topic[40];
	int t, a, b;

	snprintf(topic, sizeof(topic), "%s-t", self->name);
	msgbox_attr_init(&attr);
	attr.max_msgs = 4;
	attr.max_msg_size = MAX_SIZE;
	attr.max_bytes = 4 * MAX_SIZE;
	attr.flags = MSGBOX_CREATE_TOPIC;
	t = msgbox_create(topic, &attr, MB_RW);
	ASSERT_LE(0, t) TH_LOG("topic: %s", strerror(errno));
	a = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	b = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);

	mb_fill(self->src, len, 71);
	ASSERT_EQ(0, msgbox_send(t, self->src, len, 0));
	scrub(self);
	ASSERT_EQ((ssize_t)len, msgbox_recv(a, self->dst, AREA,
					    MSGBOX_MSG_NONBLOCK));
	EXPECT_TRUE(mb_check(self->dst, len, 71));
	/* A new publication while b still holds the first one. */
	mb_fill(self->src, len, 72);
	ASSERT_EQ(0, msgbox_send(t, self->src, len, 0));
	scrub(self);
	ASSERT_EQ((ssize_t)len, msgbox_recv(b, self->dst, AREA,
					    MSGBOX_MSG_NONBLOCK));
	EXPECT_TRUE(mb_check(self->dst, len, 71));
	for (int s = 0; s < 2; s++) {
		scrub(self);
		ASSERT_EQ((ssize_t)len, msgbox_recv(s ? b : a, self->dst, AREA,
						    MSGBOX_MSG_NONBLOCK));
		EXPECT_TRUE(mb_check(self->dst, len, 72)) TH_LOG("subscriber %d", s);
	}
	close(a);
	close(b);
	close(t);
	EXPECT_EQ(0, mb_destroy_quiet(topic));
}

/*
 * Small messages: a received one's object is kept by its mailbox and
 * reused whole by the next one sent there, its payload bytes uncleared.
 */
TEST_F(pg, reused_small_objects_show_nothing_of_an_earlier_message)
{
	struct msgbox_msg m;

	for (unsigned int i = 0; i < 40; i++) {
		size_t len = 128 - (i * 7) % 128;

		ASSERT_EQ(0, send_at(self, i, len, 100 + i));
		scrub(self);
		mb_msg_init(&m, self->dst + 3, 256, 0, MSGBOX_MSG_NONBLOCK);
		ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m)) TH_LOG("message %u", i);
		ASSERT_EQ(len, m.len);
		EXPECT_EQ(1, m.deliveries);
		EXPECT_EQ(getpid(), m.sender_pid);
		EXPECT_TRUE(mb_check(self->dst + 3, len, 100 + i));
		EXPECT_TRUE(untouched(self, 3 + len, 3 + 256)) TH_LOG("len %zu", len);
	}
}

TEST_F(pg, reused_small_object_carries_no_state_of_the_last_message)
{
	struct msgbox_msg m;
	unsigned int v = 7;

	/* Type, priority and a time to live, received before it runs out. */
	mb_msg_init(&m, &v, sizeof(v), 5, MSGBOX_MSG_NONBLOCK);
	m.priority = 9;
	m.ttl_ns = 200 * 1000 * 1000ull;
	ASSERT_EQ(0, msgbox_sendmsg(self->fd, &m));
	ASSERT_EQ(sizeof(v), msgbox_recv(self->fd, &v, sizeof(v),
					 MSGBOX_MSG_NONBLOCK));

	/* The next message, in the same object, has none of them. */
	v = 8;
	ASSERT_EQ(0, msgbox_send(self->fd, &v, sizeof(v), MSGBOX_MSG_NONBLOCK));
	mb_sleep_ms(400);	/* past the first one's time to live */
	v = 0;
	mb_msg_init(&m, &v, sizeof(v), 0, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(8, v);
	EXPECT_EQ(MSGBOX_TYPE_DEFAULT, m.type);
	EXPECT_EQ(0, m.priority);
	EXPECT_EQ(1, m.deliveries);
	EXPECT_EQ(0, mb_info_of(self->fd).expired);
}

TEST_HARNESS_MAIN
