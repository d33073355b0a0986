// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: no uninitialised kernel bytes reach userspace.  Every
 * structure the kernel writes back is first filled with a pattern; after
 * the call, padding and reserved fields must read zero and no byte of the
 * pattern may survive where the kernel wrote.
 */
#include "msgbox_test.h"

#define PATTERN	0xa5

FIXTURE(lk) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
};

FIXTURE_SETUP(lk)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "lk");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 8, 64, 512, MB_RW);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(lk)
{
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

TEST_F(lk, info_has_zero_padding_and_a_zero_filled_name)
{
	struct msgbox_info info;
	size_t n, i;

	memset(&info, PATTERN, sizeof(info));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.__pad);
	EXPECT_EQ(0, info.__pad2);
	EXPECT_EQ(0, info.__pad3);
	EXPECT_EQ(0, info.__pad4);
	n = strlen(info.name);
	for (i = n; i < sizeof(info.name); i++)
		EXPECT_EQ(0, info.name[i]) TH_LOG("name byte %zu", i);
}

TEST_F(lk, received_message_has_zero_reserved_fields)
{
	struct msgbox_msg m;
	char buf[16];

	ASSERT_EQ(0, msgbox_send(self->fd, "leak?", 5, 0));
	memset(&m, PATTERN, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = sizeof(buf);
	m.type = 0;
	m.flags = 0;
	m.timeout_ns = 0;
	m.__reserved[0] = 0;
	m.__reserved[1] = 0;
	m.__pad = 0;
	m.token = 0;
	m.ttl_ns = 0;
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(0, m.__reserved[0]);
	EXPECT_EQ(0, m.__reserved[1]);
	EXPECT_EQ(0, m.__pad);
	EXPECT_EQ(0, m.token);
	EXPECT_EQ(1, m.deliveries);
	/* Every out field was written: none kept the pattern. */
	EXPECT_NE(0xa5a5a5a5a5a5a5a5ull, m.send_time_ns);
	EXPECT_NE((__s32)0xa5a5a5a5, m.sender_tid);
}

TEST_F(lk, larger_structure_than_the_kernel_knows_gets_a_zeroed_tail)
{
	struct {
		struct msgbox_info info;
		unsigned char tail[40];
	} big;
	unsigned long cmd = _IOC(_IOC_READ, MSGBOX_IOC_MAGIC, 0x22, sizeof(big));
	size_t i;

	memset(&big, PATTERN, sizeof(big));
	ASSERT_EQ(0, ioctl(self->fd, cmd, &big));
	for (i = 0; i < sizeof(big.tail); i++)
		EXPECT_EQ(0, big.tail[i]) TH_LOG("tail byte %zu", i);
}

TEST_F(lk, call_reply_and_batch_results_have_zero_padding)
{
	struct msgbox_call c;
	struct msgbox_batch b;
	struct msgbox_msg m[2];
	char rep[16], buf[2][16];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg r = { .data = (uintptr_t)buf[0], .len = 16 };

		CHILD_CHECK(msgbox_recvmsg(self->fd, &r) == 0, 2);
		CHILD_CHECK(msgbox_reply(self->fd, r.token, "ok", 2) == 0, 3);
		_exit(0);
	}
	memset(&c, 0, sizeof(c));
	memset(&c.reply, PATTERN, sizeof(c.reply));
	c.request.data = (uintptr_t)"q";
	c.request.len = 1;
	c.request.type = 1;
	c.reply.data = (uintptr_t)rep;
	c.reply.len = sizeof(rep);
	/* In-fields that must be zero; everything else is out-only. */
	c.reply.flags = 0;
	c.reply.token = 0;
	c.reply.__reserved[0] = c.reply.__reserved[1] = 0;
	c.reply.__pad = 0;
	c.reply.ttl_ns = 0;
	ASSERT_EQ(0, msgbox_callmsg(self->fd, &c));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, c.reply.__pad);
	EXPECT_EQ(1, c.reply.deliveries);
	EXPECT_EQ(0, c.reply.id);
	EXPECT_NE(0xa5a5a5a5a5a5a5a5ull, c.reply.send_time_ns);

	ASSERT_EQ(0, msgbox_send(self->fd, "b", 1, 0));
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 2; i++) {
		m[i].data = (uintptr_t)buf[i];
		m[i].len = sizeof(buf[i]);
		m[i].flags = MSGBOX_MSG_NONBLOCK;
	}
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)m;
	b.count = 2;
	b.msg_size = sizeof(m[0]);
	EXPECT_EQ(1, ioctl(self->fd, MSGBOX_IOC_RECV_BATCH, &b));
	EXPECT_EQ(1, b.done);
	EXPECT_EQ(0, b.error);
	EXPECT_EQ(0, b.__reserved);
}

TEST_F(lk, nonzero_padding_on_input_is_refused)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)"p";
	m.len = 1;
	m.type = 1;
	m.__pad = 1;
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(lk, status_has_zero_padding)
{
	struct msgbox_msg m;
	struct msgbox_status st;
	int v = 1;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)&v;
	m.len = sizeof(v);
	m.type = 1;
	m.flags = MSGBOX_MSG_TRACK;
	ASSERT_EQ(0, msgbox_sendmsg(self->fd, &m));
	memset(&st, PATTERN, sizeof(st));
	st.id = m.id;
	st.__pad = 0;
	ASSERT_EQ(0, ioctl(self->fd, MSGBOX_IOC_STATUS, &st));
	EXPECT_EQ(MSGBOX_STATUS_PENDING, st.status);
	EXPECT_EQ(0, st.__pad);
}

/*
 * Every structure the kernel writes back, given larger than the kernel
 * knows it: the bytes past the kernel's structure are zeroed, never left
 * as they were nor filled from kernel memory.
 */
#define TAIL	40

static void expect_zero_tail(struct __test_metadata *_metadata,
			     const unsigned char *tail, const char *what)
{
	for (size_t i = 0; i < TAIL; i++) {
		EXPECT_EQ(0, tail[i]) TH_LOG("%s tail byte %zu", what, i);
	}
}

TEST_F(lk, oversized_recv_status_and_batch_results_get_zeroed_tails)
{
	struct {
		struct msgbox_msg m;
		unsigned char tail[TAIL];
	} r;
	struct {
		struct msgbox_status st;
		unsigned char tail[TAIL];
	} s;
	struct {
		struct msgbox_batch b;
		unsigned char tail[TAIL];
	} b;
	struct {
		struct msgbox_msg m;
		unsigned char tail[TAIL];
	} e[2];
	struct msgbox_msg t;
	char buf[16];
	int v = 1;

	/* RECV */
	ASSERT_EQ(0, msgbox_send(self->fd, "r", 1, 0));
	memset(&r, 0, sizeof(r));
	memset(r.tail, PATTERN, sizeof(r.tail));
	r.m.data = (uintptr_t)buf;
	r.m.len = sizeof(buf);
	/*
	 * In-out structures must come with zero bytes past what the kernel
	 * knows; what comes back there must still be zero, not kernel bytes.
	 */
	ASSERT_EQ(-1, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, MSGBOX_IOC_MAGIC,
					   0x21, sizeof(r)), &r));
	ASSERT_EQ(E2BIG, errno);
	memset(r.tail, 0, sizeof(r.tail));
	ASSERT_EQ(0, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, MSGBOX_IOC_MAGIC,
					  0x21, sizeof(r)), &r));
	EXPECT_EQ(1, r.m.len);
	expect_zero_tail(_metadata, r.tail, "recv");

	/* STATUS */
	memset(&t, 0, sizeof(t));
	t.data = (uintptr_t)&v;
	t.len = sizeof(v);
	t.type = 1;
	t.flags = MSGBOX_MSG_TRACK;
	ASSERT_EQ(0, msgbox_sendmsg(self->fd, &t));
	memset(&s, 0, sizeof(s));
	s.st.id = t.id;
	ASSERT_EQ(0, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, MSGBOX_IOC_MAGIC,
					  0x28, sizeof(s)), &s));
	EXPECT_EQ(MSGBOX_STATUS_PENDING, s.st.status);
	expect_zero_tail(_metadata, s.tail, "status");

	/* RECV_BATCH, its entries larger too: each entry's tail zeroed. */
	ASSERT_EQ(0, msgbox_send(self->fd, "e", 1, 0));
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 2; i++) {
		e[i].m.data = (uintptr_t)buf;
		e[i].m.len = sizeof(buf);
		e[i].m.flags = MSGBOX_MSG_NONBLOCK;
	}
	memset(&b, 0, sizeof(b));
	b.b.msgs = (uintptr_t)e;
	b.b.count = 2;
	b.b.msg_size = sizeof(e[0]);
	ASSERT_EQ(2, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, MSGBOX_IOC_MAGIC,
					  0x2a, sizeof(b)), &b));
	EXPECT_EQ(2, b.b.done);
	expect_zero_tail(_metadata, b.tail, "batch");
	expect_zero_tail(_metadata, e[0].tail, "entry 0");
	expect_zero_tail(_metadata, e[1].tail, "entry 1");
	EXPECT_EQ(0, e[0].m.__pad);
	EXPECT_EQ(0, e[1].m.__pad);
}

TEST_F(lk, oversized_call_result_gets_a_zeroed_tail_and_zero_reply_padding)
{
	struct {
		struct msgbox_call c;
		unsigned char tail[TAIL];
	} c;
	char rep[16], req[16];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg r = { .data = (uintptr_t)req, .len = sizeof(req) };

		CHILD_CHECK(msgbox_recvmsg(self->fd, &r) == 0, 2);
		CHILD_CHECK(msgbox_reply(self->fd, r.token, "ok", 2) == 0, 3);
		_exit(0);
	}
	memset(&c, 0, sizeof(c));
	c.c.request.data = (uintptr_t)"q";
	c.c.request.len = 1;
	c.c.request.type = 1;
	c.c.reply.data = (uintptr_t)rep;
	c.c.reply.len = sizeof(rep);
	ASSERT_EQ(0, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, MSGBOX_IOC_MAGIC,
					  0x24, sizeof(c)), &c));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(2, c.c.reply.len);
	EXPECT_EQ(0, c.c.reply.__pad);
	EXPECT_EQ(0, c.c.reply.__reserved[0]);
	EXPECT_EQ(0, c.c.reply.__reserved[1]);
	EXPECT_EQ(0, c.c.reply.token);
	expect_zero_tail(_metadata, c.tail, "call");
}

TEST_HARNESS_MAIN
