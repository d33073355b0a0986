// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: libmsgbox's io_uring API (userlib/msgbox_uring.h).
 * The msgbox_prep_*() helpers on a ring of the test's own, and struct
 * msgbox_ring, the ring the library owns: cookies, one submission for
 * many operations, a full submission queue, completions reaped in
 * batches (more than the completion queue holds included), cancel,
 * batches, epoll on the ring, and the level probe.
 */
#include <sys/epoll.h>
#include <sys/time.h>
#include "msgbox_uring_test.h"
#include "msgbox_uring.h"

#define NOWAIT	0ULL
#define WAIT_NS	(MB_WAIT_MS * 1000000ULL)

FIXTURE(ul) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it, capacity 32 */
	struct msgbox_ring *r;	/* 8 entries */
};

FIXTURE_SETUP(ul)
{
	self->fd = -1;
	self->r = NULL;
	mb_make_name(self->name, sizeof(self->name), "ul");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->r = msgbox_ring_new(8, 0);
	if (!self->r && (errno == ENOSYS || errno == EPERM))
		SKIP(return, "io_uring unavailable: %s", strerror(errno));
	ASSERT_NE(NULL, self->r);
	self->fd = mb_create(self->name, 32, 256, 8192, MB_RW);
	ASSERT_LE(0, self->fd);
}

/* Process exit closes the ring and the descriptor; the name goes here. */
FIXTURE_TEARDOWN_PARENT(ul)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

/*
 * The helpers write every field of the SQE, whatever was in it before
 * (liburing 2.3 hands out SQEs as the last user left them).
 */
TEST(prep_helpers_fill_the_whole_sqe)
{
	struct msgbox_uring_cmd c;
	struct io_uring_sqe sqe;
	struct msgbox_msg m;
	struct msgbox_batch b;
	struct msgbox_call call;
	struct msgbox_reply_recv rr;
	struct msgbox_ack a;

	memset(&sqe, 0xa5, sizeof(sqe));
	msgbox_prep_recv(&sqe, 7, &m, 0x1234);
	EXPECT_EQ(IORING_OP_URING_CMD, sqe.opcode);
	EXPECT_EQ(0, sqe.flags);
	EXPECT_EQ(0, sqe.ioprio);
	EXPECT_EQ(7, sqe.fd);
	EXPECT_EQ(MSGBOX_IOC_RECV, sqe.cmd_op);
	EXPECT_EQ(0, sqe.__pad1);
	EXPECT_EQ(0, sqe.addr);
	EXPECT_EQ(0, sqe.len);
	EXPECT_EQ(0, sqe.uring_cmd_flags);
	EXPECT_EQ(0, sqe.buf_index);
	EXPECT_EQ(0, sqe.personality);
	EXPECT_EQ(0, sqe.file_index);
	memcpy(&c, sqe.cmd, sizeof(c));
	EXPECT_EQ((uintptr_t)&m, c.arg);
	EXPECT_EQ(0x1234, c.tag);
	EXPECT_EQ(0, c.__pad);

	memset(&sqe, 0xa5, sizeof(sqe));
	msgbox_prep_cancel(&sqe, 3, 99);
	memcpy(&c, sqe.cmd, sizeof(c));
	EXPECT_EQ(MSGBOX_UCMD_CANCEL, sqe.cmd_op);
	EXPECT_EQ(0, sqe.__pad1);
	EXPECT_EQ(0, c.arg);
	EXPECT_EQ(99, c.tag);
	EXPECT_EQ(0, c.__pad);

	/* The others: their ioctl number, their argument, tag 0. */
	memset(&sqe, 0xa5, sizeof(sqe));
	msgbox_prep_send(&sqe, 3, &m);
	memcpy(&c, sqe.cmd, sizeof(c));
	EXPECT_EQ(MSGBOX_IOC_SEND, sqe.cmd_op);
	EXPECT_EQ((uintptr_t)&m, c.arg);
	EXPECT_EQ(0, c.tag);
	msgbox_prep_reply(&sqe, 3, &m);
	EXPECT_EQ(MSGBOX_IOC_REPLY, sqe.cmd_op);
	memset(&sqe, 0xa5, sizeof(sqe));
	msgbox_prep_call(&sqe, 3, &call, 77);
	memcpy(&c, sqe.cmd, sizeof(c));
	EXPECT_EQ(MSGBOX_IOC_CALL, sqe.cmd_op);
	EXPECT_EQ(0, sqe.__pad1);
	EXPECT_EQ((uintptr_t)&call, c.arg);
	EXPECT_EQ(77, c.tag);
	EXPECT_EQ(0, c.__pad);
	memset(&sqe, 0xa5, sizeof(sqe));
	msgbox_prep_reply_recv(&sqe, 3, &rr, 78);
	memcpy(&c, sqe.cmd, sizeof(c));
	EXPECT_EQ(MSGBOX_IOC_REPLY_RECV, sqe.cmd_op);
	EXPECT_EQ((uintptr_t)&rr, c.arg);
	EXPECT_EQ(78, c.tag);
	EXPECT_EQ(0, c.__pad);
	msgbox_prep_ack(&sqe, 3, &a);
	memcpy(&c, sqe.cmd, sizeof(c));
	EXPECT_EQ(MSGBOX_IOC_ACK, sqe.cmd_op);
	EXPECT_EQ((uintptr_t)&a, c.arg);
	msgbox_prep_send_batch(&sqe, 3, &b);
	EXPECT_EQ(MSGBOX_IOC_SEND_BATCH, sqe.cmd_op);
	msgbox_prep_recv_batch(&sqe, 3, &b);
	memcpy(&c, sqe.cmd, sizeof(c));
	EXPECT_EQ(MSGBOX_IOC_RECV_BATCH, sqe.cmd_op);
	EXPECT_EQ((uintptr_t)&b, c.arg);

	/* Level 1: plain reads and writes of one message at offset 0. */
	memset(&sqe, 0xa5, sizeof(sqe));
	msgbox_prep_write(&sqe, 5, &m, 10);
	EXPECT_EQ(IORING_OP_WRITE, sqe.opcode);
	EXPECT_EQ(5, sqe.fd);
	EXPECT_EQ((uintptr_t)&m, sqe.addr);
	EXPECT_EQ(10, sqe.len);
	EXPECT_EQ(0, sqe.off);
	EXPECT_EQ(0, sqe.rw_flags);
	msgbox_prep_read(&sqe, 5, &m, 20);
	EXPECT_EQ(IORING_OP_READ, sqe.opcode);
	EXPECT_EQ(20, sqe.len);

	msgbox_batch_init(&b, &m, 5);
	EXPECT_EQ((uintptr_t)&m, b.msgs);
	EXPECT_EQ(5, b.count);
	EXPECT_EQ(sizeof(m), b.msg_size);
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(0, b.error);
	EXPECT_EQ(0, b.__reserved);
}

/* The helpers on the caller's own ring, SQEs dirty from earlier use. */
TEST_F(ul, prep_helpers_on_the_callers_ring)
{
	struct msgbox_msg s, r;
	struct io_uring ring;
	struct msgbox_ack a = { 0 };
	char in[64] = { 0 };
	struct io_uring_sqe *sqe;
	__u64 ud = 0;
	int i;

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	/* Leave garbage in every SQE slot the helpers will get. */
	for (i = 0; i < 4; i++)
		memset(&ring.sq.sqes[i], 0xff, sizeof(ring.sq.sqes[i]));

	/* A receive parked first, of type 2 only... */
	mb_msg_init(&r, in, sizeof(in), 2, MSGBOX_MSG_ACK);
	sqe = io_uring_get_sqe(&ring);
	msgbox_prep_recv(sqe, self->fd, &r, 5);
	io_uring_sqe_set_data64(sqe, 1);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	/* ...completed by a send through the ring, with its metadata. */
	mb_msg_init(&s, "hello", 5, 2, 0);
	s.priority = 4;
	sqe = io_uring_get_sqe(&ring);
	msgbox_prep_send(sqe, self->fd, &s);
	io_uring_sqe_set_data64(sqe, 2);
	ASSERT_EQ(1, io_uring_submit(&ring));
	for (i = 0; i < 2; i++) {
		int res = mb_uring_reap(&ring, MB_WAIT_MS, &ud);

		if (ud == 2) {
			EXPECT_EQ(0, res);
		} else {
			ASSERT_EQ(1, ud);
			EXPECT_EQ(5, res);
		}
	}
	EXPECT_EQ(0, memcmp(in, "hello", 5));
	EXPECT_EQ(2, r.type);
	EXPECT_EQ(4, r.priority);
	EXPECT_EQ(s.id, r.id);
	EXPECT_EQ(getpid(), r.sender_pid);

	/* Taken with MSGBOX_MSG_ACK: acked through the ring, once. */
	a.id = r.id;
	sqe = io_uring_get_sqe(&ring);
	msgbox_prep_ack(sqe, self->fd, &a);
	ASSERT_EQ(1, io_uring_submit(&ring));
	EXPECT_EQ(0, mb_uring_reap(&ring, MB_WAIT_MS, NULL));
	sqe = io_uring_get_sqe(&ring);
	msgbox_prep_ack(sqe, self->fd, &a);
	ASSERT_EQ(1, io_uring_submit(&ring));
	EXPECT_EQ(-ENOENT, mb_uring_reap(&ring, MB_WAIT_MS, NULL));

	/* Level 1: a plain write and read of one message. */
	sqe = io_uring_get_sqe(&ring);
	msgbox_prep_write(sqe, self->fd, "plain", 5);
	ASSERT_EQ(1, io_uring_submit(&ring));
	EXPECT_EQ(5, mb_uring_reap(&ring, MB_WAIT_MS, NULL));
	memset(in, 0, sizeof(in));
	sqe = io_uring_get_sqe(&ring);
	msgbox_prep_read(sqe, self->fd, in, sizeof(in));
	ASSERT_EQ(1, io_uring_submit(&ring));
	EXPECT_EQ(5, mb_uring_reap(&ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, memcmp(in, "plain", 5));
	io_uring_queue_exit(&ring);
}

/* A server on its own ring: receive the request, reply through the ring. */
TEST_F(ul, prep_reply_answers_a_call)
{
	struct msgbox_msg r, rep;
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	char in[32];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char out[32];
		ssize_t n = msgbox_call(self->fd, "ping", 4, out, sizeof(out),
				       MSGBOX_FOREVER);

		CHILD_CHECK(n == 4 && !memcmp(out, "PONG", 4), 2);
		_exit(0);
	}
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	msgbox_prep_recv(io_uring_get_sqe(&ring), self->fd, &r, 0);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(4, mb_uring_reap(&ring, MB_WAIT_MS, NULL));
	EXPECT_NE(0, r.token);
	mb_msg_init(&rep, "PONG", 4, MSGBOX_TYPE_DEFAULT, 0);
	rep.token = r.token;
	sqe = io_uring_get_sqe(&ring);
	msgbox_prep_reply(sqe, self->fd, &rep);
	ASSERT_EQ(1, io_uring_submit(&ring));
	EXPECT_EQ(0, mb_uring_reap(&ring, MB_WAIT_MS, NULL));
	/* Answered: the token is gone. */
	msgbox_prep_reply(io_uring_get_sqe(&ring), self->fd, &rep);
	ASSERT_EQ(1, io_uring_submit(&ring));
	EXPECT_EQ(-ENOENT, mb_uring_reap(&ring, MB_WAIT_MS, NULL));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	io_uring_queue_exit(&ring);
}

/* Calls on the library's ring: one answered by another process, one cancelled. */
TEST_F(ul, ring_calls_complete_with_their_reply_or_cancelled)
{
	struct msgbox_completion c[4];
	struct msgbox_call ca, cb;
	char outa[32] = { 0 }, outb[32];
	int i, n, ck;
	pid_t pid;

	memset(&ca, 0, sizeof(ca));
	ca.request.data = (uintptr_t)"ping";
	ca.request.len = 4;
	ca.request.type = 1;
	ca.reply.data = (uintptr_t)outa;
	ca.reply.len = sizeof(outa);
	cb = ca;
	cb.reply.data = (uintptr_t)outb;
	ASSERT_EQ(0, msgbox_ring_call(self->r, self->fd, &ca, 0, &ca));
	ASSERT_EQ(1, msgbox_ring_submit(self->r));
	/* Parked: no reply yet. */
	EXPECT_EQ(0, msgbox_ring_wait(self->r, c, 4, 1, 50000000ULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg r;
		char in[32];

		mb_msg_init(&r, in, sizeof(in), 0, 0);
		CHILD_CHECK(msgbox_recvmsg(self->fd, &r) == 0, 2);
		CHILD_CHECK(r.len == 4 && !memcmp(in, "ping", 4) && r.token, 3);
		CHILD_CHECK(msgbox_reply(self->fd, r.token, "PONG!", 5) == 0, 4);
		_exit(0);
	}
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 4, 1, WAIT_NS));
	EXPECT_EQ(&ca, c[0].cookie);
	EXPECT_EQ(5, c[0].result);
	EXPECT_EQ(0, memcmp(outa, "PONG!", 5));
	EXPECT_EQ(5, ca.reply.len);
	EXPECT_EQ(pid, ca.reply.sender_pid);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));

	/* Nobody answers this one: cancelled by its tag. */
	ASSERT_EQ(0, msgbox_ring_call(self->r, self->fd, &cb, 9, &cb));
	ASSERT_EQ(1, msgbox_ring_submit(self->r));
	EXPECT_EQ(0, msgbox_ring_wait(self->r, c, 4, 1, 50000000ULL));
	ASSERT_EQ(0, msgbox_ring_cancel(self->r, self->fd, 9, &ck));
	n = msgbox_ring_wait(self->r, c, 4, 2, WAIT_NS);
	ASSERT_EQ(2, n);
	for (i = 0; i < n; i++) {
		if (c[i].cookie == &ck) {
			EXPECT_EQ(1, c[i].result);
		} else {
			EXPECT_EQ(&cb, c[i].cookie);
			EXPECT_EQ(-ECANCELED, c[i].result);
		}
	}
}

/* Cookies come back with their own results; cancel takes only its tag. */
TEST_F(ul, ring_send_receive_and_cancel_by_cookie)
{
	struct msgbox_completion c[4];
	struct msgbox_msg ra, rb, s;
	char ina[16], inb[16] = { 0 };
	int ck[4], n, i;

	mb_msg_init(&ra, ina, sizeof(ina), 0, 0);
	mb_msg_init(&rb, inb, sizeof(inb), 0, 0);
	ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &ra, 5, &ck[0]));
	ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &rb, 6, &ck[1]));
	/* Queued only: nothing reached the kernel yet. */
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
	EXPECT_EQ(2, msgbox_ring_submit(self->r));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 2, 0));
	/* Nothing has completed: a short wait times out empty. */
	EXPECT_EQ(0, msgbox_ring_wait(self->r, c, 4, 1, 50000000ULL));

	ASSERT_EQ(0, msgbox_ring_cancel(self->r, self->fd, 5, &ck[2]));
	n = msgbox_ring_wait(self->r, c, 4, 2, WAIT_NS);
	ASSERT_EQ(2, n);
	for (i = 0; i < n; i++) {
		if (c[i].cookie == &ck[2]) {
			EXPECT_EQ(1, c[i].result);	/* one cancelled */
		} else {
			EXPECT_EQ(&ck[0], c[i].cookie);
			EXPECT_EQ(-ECANCELED, c[i].result);
		}
		EXPECT_EQ(0, c[i].flags);
	}
	EXPECT_EQ(1, mb_recv_waiters(self->fd));

	mb_msg_init(&s, "tagged", 6, 3, 0);
	ASSERT_EQ(0, msgbox_ring_send(self->r, self->fd, &s, &ck[3]));
	n = msgbox_ring_wait(self->r, c, 4, 2, WAIT_NS);
	ASSERT_EQ(2, n);
	for (i = 0; i < n; i++) {
		if (c[i].cookie == &ck[3]) {
			EXPECT_EQ(0, c[i].result);
		} else {
			EXPECT_EQ(&ck[1], c[i].cookie);
			EXPECT_EQ(6, c[i].result);
		}
	}
	EXPECT_EQ(0, memcmp(inb, "tagged", 6));
	EXPECT_EQ(3, rb.type);
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
}

/* A receive parked on the library's ring, and a sender that comes later. */
TEST_F(ul, parked_receive_completes_when_another_process_sends)
{
	struct msgbox_completion c[2];
	struct msgbox_msg r;
	char in[32] = { 0 };
	pid_t pid;

	mb_msg_init(&r, in, sizeof(in), 0, 0);
	ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &r, 0, &r));
	/* The wait submits it; nothing there yet. */
	EXPECT_EQ(0, msgbox_ring_wait(self->r, c, 2, 0, NOWAIT));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		mb_sleep_ms(100);
		CHILD_CHECK(msgbox_send(self->fd, "later", 5, 0) == 0, 2);
		_exit(0);
	}
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, MSGBOX_FOREVER));
	EXPECT_EQ(&r, c[0].cookie);
	EXPECT_EQ(5, c[0].result);
	EXPECT_EQ(0, memcmp(in, "later", 5));
	EXPECT_EQ(pid, r.sender_pid);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/*
 * 32 receives on a ring of 16 entries (the 17th msgbox_ring_recv()
 * submits the first 16 to make room), served in order by one batch send
 * from another process, all reaped by one wait.
 */
TEST_F(ul, many_parked_receives_complete_in_one_wait)
{
	enum { N = 32 };
	struct msgbox_completion c[N];
	struct msgbox_msg r[N];
	struct msgbox_ring *big;
	int in[N], seen[N] = { 0 }, i, n;
	pid_t pid;

	/* CQ of 32: room for all the completions at once. */
	big = msgbox_ring_new(16, 0);
	ASSERT_NE(NULL, big);
	for (i = 0; i < N; i++) {
		in[i] = -1;
		mb_msg_init(&r[i], &in[i], sizeof(in[i]), 0, 0);
		ASSERT_EQ(0, msgbox_ring_recv(big, self->fd, &r[i], 0, &r[i]));
	}
	EXPECT_EQ(N - 16, msgbox_ring_submit(big));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, N, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg s[N];
		int v[N], err;

		for (i = 0; i < N; i++) {
			v[i] = 1000 + i;
			mb_msg_init(&s[i], &v[i], sizeof(v[i]), 1, 0);
		}
		CHILD_CHECK(msgbox_send_batch(self->fd, s, N, &err) == N, 2);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	n = msgbox_ring_wait(big, c, N, N, WAIT_NS);
	ASSERT_EQ(N, n);
	for (i = 0; i < N; i++) {
		struct msgbox_msg *m = c[i].cookie;
		int k = m - r;

		ASSERT_LE(0, k);
		ASSERT_GT(N, k);
		EXPECT_EQ(sizeof(int), c[i].result);
		/* Parked receivers are served in the order they were issued. */
		EXPECT_EQ(1000 + k, in[k]);
		seen[k]++;
	}
	for (i = 0; i < N; i++)
		EXPECT_EQ(1, seen[i]);
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
	msgbox_ring_free(big);
}

/*
 * Twenty receives on a ring whose completion queue holds 8: the kernel
 * keeps the surplus and later waits take it; nothing lost or doubled.
 */
TEST_F(ul, more_completions_than_the_queue_holds_are_all_reaped)
{
	enum { N = 20 };
	struct msgbox_completion c[N];
	struct msgbox_msg r[N];
	struct msgbox_ring *small;
	int in[N], seen[N] = { 0 }, i, got, n;
	struct msgbox_msg s[N];
	int v[N];

	small = msgbox_ring_new(4, 0);
	ASSERT_NE(NULL, small);
	for (i = 0; i < N; i++) {
		in[i] = -1;
		mb_msg_init(&r[i], &in[i], sizeof(in[i]), 0, 0);
		ASSERT_EQ(0, msgbox_ring_recv(small, self->fd, &r[i], 0, &r[i]));
	}
	EXPECT_EQ(0, msgbox_ring_wait(small, c, N, 0, NOWAIT));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, N, 0));
	/* More than 8 at once is refused: it could never be there. */
	EXPECT_EQ(-1, msgbox_ring_wait(small, c, N, 9, WAIT_NS));
	EXPECT_EQ(EINVAL, errno);
	for (i = 0; i < N; i++) {
		v[i] = 2000 + i;
		mb_msg_init(&s[i], &v[i], sizeof(v[i]), 1, 0);
	}
	/*
	 * From this very task: each hand-off to a parked receive queues task
	 * work here, which the module's batch loop takes for a signal (it
	 * stops early, error EINTR), so send what is left until all went.
	 */
	for (got = 0; got < N; got += n) {
		n = msgbox_send_batch(self->fd, s + got, N - got, NULL);
		ASSERT_LT(0, n);
	}
	for (got = 0; got < N; got += n) {
		n = msgbox_ring_wait(small, c + got, N - got, 1, WAIT_NS);
		ASSERT_LT(0, n);
	}
	EXPECT_EQ(N, got);
	/* And no more. */
	EXPECT_EQ(0, msgbox_ring_wait(small, c, N, 0, NOWAIT));
	for (i = 0; i < N; i++) {
		int k = (struct msgbox_msg *)c[i].cookie - r;

		ASSERT_LE(0, k);
		ASSERT_GT(N, k);
		EXPECT_EQ(sizeof(int), c[i].result);
		EXPECT_EQ(2000 + k, in[k]);
		seen[k]++;
	}
	for (i = 0; i < N; i++)
		EXPECT_EQ(1, seen[i]);
	msgbox_ring_free(small);
}

/* A full submission queue is submitted to make room, in order. */
TEST_F(ul, full_submission_queue_is_submitted_to_make_room)
{
	enum { N = 6 };
	struct msgbox_completion c[N];
	struct msgbox_msg s[N];
	struct msgbox_ring *small;
	int v[N], i, k, buf;

	small = msgbox_ring_new(4, 0);
	ASSERT_NE(NULL, small);
	for (i = 0; i < N; i++) {
		v[i] = 300 + i;
		mb_msg_init(&s[i], &v[i], sizeof(v[i]), 1, 0);
		ASSERT_EQ(0, msgbox_ring_send(small, self->fd, &s[i], &s[i]));
	}
	/* The fifth send made room by submitting the first four. */
	EXPECT_EQ(4, mb_nr_msgs(self->fd));
	ASSERT_EQ(N, msgbox_ring_wait(small, c, N, N, WAIT_NS));
	for (i = 0; i < N; i++) {
		k = (struct msgbox_msg *)c[i].cookie - s;
		ASSERT_LE(0, k);
		ASSERT_GT(N, k);
		EXPECT_EQ(0, c[i].result);
	}
	for (i = 0; i < N; i++) {
		ASSERT_EQ(sizeof(buf), msgbox_recv(self->fd, &buf, sizeof(buf),
						   MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ(300 + i, buf);
	}
	msgbox_ring_free(small);
}

/* Batches through the ring, partial success as for the ioctls. */
TEST_F(ul, ring_batches_report_partial_success)
{
	enum { N = 40 };
	struct msgbox_completion c[2];
	struct msgbox_msg s[N], r[N];
	struct msgbox_batch bs, br;
	int v[N], in[N], i;

	for (i = 0; i < N; i++) {
		v[i] = 500 + i;
		mb_msg_init(&s[i], &v[i], sizeof(v[i]), 1 + i % 2, 0);
		mb_msg_init(&r[i], &in[i], sizeof(in[i]), 0, 0);
	}
	/* Capacity 32: the batch stops there, full. */
	msgbox_batch_init(&bs, s, N);
	ASSERT_EQ(0, msgbox_ring_send_batch(self->r, self->fd, &bs, &bs));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(&bs, c[0].cookie);
	EXPECT_EQ(32, c[0].result);
	EXPECT_EQ(32, bs.done);
	EXPECT_EQ(-EAGAIN, bs.error);

	msgbox_batch_init(&br, r, N);
	ASSERT_EQ(0, msgbox_ring_recv_batch(self->r, self->fd, &br, &br));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(&br, c[0].cookie);
	EXPECT_EQ(32, c[0].result);
	EXPECT_EQ(32, br.done);
	for (i = 0; i < 32; i++) {
		EXPECT_EQ(500 + i, in[i]);
		EXPECT_EQ(1 + i % 2, r[i].type);
	}
	/* Empty: a receive batch never waits on a ring. */
	msgbox_batch_init(&br, r, N);
	ASSERT_EQ(0, msgbox_ring_recv_batch(self->r, self->fd, &br, &br));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(-EAGAIN, c[0].result);
}

/* The ring's descriptor in an epoll set: readable once a receive completes. */
TEST_F(ul, ring_fd_in_epoll_reports_completions)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct msgbox_completion c[2];
	struct msgbox_msg r;
	char in[16];
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, msgbox_ring_fd(self->r), &ev));
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &r, 0, &r));
	ASSERT_EQ(1, msgbox_ring_submit(self->r));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 50));
	ASSERT_EQ(0, msgbox_send(self->fd, "ev", 2, 0));
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, MB_WAIT_MS));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 0, NOWAIT));
	EXPECT_EQ(2, c[0].result);
	EXPECT_EQ(0, memcmp(in, "ev", 2));
	close(ep);
}

/* Operations of the caller's own, queued on the same ring, come out too. */
TEST_F(ul, callers_own_operations_share_the_ring)
{
	struct msgbox_completion c[4];
	struct io_uring_sqe *sqe;
	struct msgbox_msg s;
	int ck[2], i, n;

	sqe = msgbox_ring_get_sqe(self->r);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, &ck[0]);
	sqe = msgbox_ring_get_sqe(self->r);
	ASSERT_NE(NULL, sqe);
	msgbox_prep_write(sqe, self->fd, "raw", 3);
	io_uring_sqe_set_data(sqe, &ck[1]);
	mb_msg_init(&s, "lib", 3, 1, 0);
	ASSERT_EQ(0, msgbox_ring_send(self->r, self->fd, &s, &s));
	ASSERT_EQ(-1, msgbox_ring_wait(self->r, c, 4, 5, WAIT_NS));
	EXPECT_EQ(EINVAL, errno);
	n = msgbox_ring_wait(self->r, c, 4, 3, WAIT_NS);
	ASSERT_EQ(3, n);
	for (i = 0; i < n; i++) {
		if (c[i].cookie == &ck[0]) {
			EXPECT_EQ(0, c[i].result);
		} else if (c[i].cookie == &ck[1]) {
			EXPECT_EQ(3, c[i].result);
		} else {
			EXPECT_EQ(&s, c[i].cookie);
			EXPECT_EQ(0, c[i].result);
		}
	}
	EXPECT_EQ(msgbox_ring_uring(self->r)->ring_fd, msgbox_ring_fd(self->r));
	EXPECT_EQ(2, mb_nr_msgs(self->fd));
}

TEST_F(ul, errors_come_back_as_results_or_errno)
{
	struct msgbox_completion c[2];
	struct msgbox_call cl;
	struct msgbox_msg m;
	char in[16];
	int devnull, p[2];

	/* A bad descriptor: queued fine, fails as its result. */
	mb_msg_init(&m, in, sizeof(in), 0, 0);
	ASSERT_EQ(0, msgbox_ring_recv(self->r, -1, &m, 0, &m));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(-EBADF, c[0].result);
	/* A timed receive with nothing to take runs out. */
	mb_msg_init(&m, in, sizeof(in), 0, MSGBOX_MSG_TIMEOUT);
	m.timeout_ns = 1000000;
	ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &m, 0, &m));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(-ETIMEDOUT, c[0].result);
	/* A timed call nobody answers runs out; its request is dropped. */
	memset(&cl, 0, sizeof(cl));
	cl.request.data = (uintptr_t)"q";
	cl.request.len = 1;
	cl.request.type = 1;
	cl.request.flags = MSGBOX_MSG_TIMEOUT;
	cl.request.timeout_ns = 1000000;
	ASSERT_EQ(0, msgbox_ring_call(self->r, self->fd, &cl, 0, &cl));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(-ETIMEDOUT, c[0].result);
	EXPECT_EQ(-1, msgbox_recv(self->fd, in, sizeof(in), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	/* A msgbox command on a file that is no mailbox. */
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, msgbox_ring_cancel(self->r, p[0], 1, NULL));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(-EOPNOTSUPP, c[0].result);
	/* Bad arguments to the library. */
	EXPECT_EQ(-1, msgbox_ring_wait(self->r, c, 0, 0, NOWAIT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_ring_wait(self->r, c, 1, 2, NOWAIT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, msgbox_ring_new(0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, msgbox_ring_new(8, IORING_SETUP_IOPOLL));
	EXPECT_EQ(EINVAL, errno);
	msgbox_ring_free(NULL);
	/* The probe wants a mailbox. */
	EXPECT_EQ(-1, msgbox_uring_level(-1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, msgbox_uring_level(p[0]));
	EXPECT_EQ(ENOTTY, errno);
	/*
	 * /dev/null answers every io_uring command with 0 (6.1 and 6.12:
	 * uring_cmd_null), so only a mailbox's own ioctl tells a mailbox.
	 */
	devnull = open("/dev/null", O_RDWR);
	ASSERT_LE(0, devnull);
	EXPECT_EQ(-1, msgbox_uring_level(devnull));
	EXPECT_EQ(ENOTTY, errno);
	close(devnull);
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
}

static void on_alarm(int sig __attribute__((unused)))
{
}

/* A signal ends an untimed wait that has nothing to return. */
TEST_F(ul, signal_interrupts_a_wait_with_nothing_done)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	struct msgbox_completion c[2];
	struct msgbox_msg r;
	char in[16];

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	mb_msg_init(&r, in, sizeof(in), 0, 0);
	ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &r, 0, &r));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-1, msgbox_ring_wait(self->r, c, 2, 1, MSGBOX_FOREVER));
	EXPECT_EQ(EINTR, errno);
	/* The receive was submitted and stays parked. */
	EXPECT_EQ(1, mb_recv_waiters(self->fd));
	ASSERT_EQ(0, msgbox_send(self->fd, "go", 2, 0));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(2, c[0].result);
}

/* This module has both levels on both kernels; the probe changes nothing. */
TEST_F(ul, level_probe_finds_uring_cmd_and_changes_nothing)
{
	struct msgbox_completion c[2];
	struct msgbox_msg r;
	char in[16] = { 0 };
	int sfd;

	mb_msg_init(&r, in, sizeof(in), 0, 0);
	ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &r, 0, &r));
	ASSERT_EQ(1, msgbox_ring_submit(self->r));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	/* Tag 0 is the parked receive's: the probe must not cancel it. */
	EXPECT_EQ(MSGBOX_URING_CMD, msgbox_uring_level(self->fd));
	sfd = msgbox_open(self->name, MSGBOX_FD_SEND);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(MSGBOX_URING_CMD, msgbox_uring_level(sfd));
	EXPECT_EQ(1, mb_recv_waiters(self->fd));
	ASSERT_EQ(0, msgbox_send(sfd, "still", 5, 0));
	ASSERT_EQ(1, msgbox_ring_wait(self->r, c, 2, 1, WAIT_NS));
	EXPECT_EQ(5, c[0].result);
	close(sfd);
}

/*
 * Freeing a ring with receives parked loses nothing: once they are gone
 * (at once on 6.12, within ~100 ms on 6.1), messages stay for others.
 */
TEST_F(ul, ring_free_with_parked_receives_loses_nothing)
{
	struct msgbox_msg r[3];
	struct msgbox_info info;
	char in[3][16], buf[16];
	int i;

	for (i = 0; i < 3; i++) {
		mb_msg_init(&r[i], in[i], sizeof(in[i]), 0, 0);
		ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &r[i], i, NULL));
	}
	ASSERT_EQ(3, msgbox_ring_submit(self->r));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 3, 0));
	msgbox_ring_free(self->r);
	self->r = NULL;
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
	for (i = 0; i < 3; i++) {
		buf[0] = 'a' + i;
		ASSERT_EQ(0, msgbox_send(self->fd, buf, 1, 0));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf),
					 MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ('a' + i, buf[0]);
	}
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(3, info.received);
}

/*
 * The safe way to close a ring while messages keep coming (see
 * msgbox_ring_free()): cancel, reap everything, then free.  Whatever a
 * receive took was reaped with it; the rest stays in the mailbox.
 */
TEST_F(ul, cancel_and_reap_before_free_loses_nothing)
{
	struct msgbox_completion c[8];
	struct msgbox_msg r[4];
	char in[4][16], buf[16];
	int i, n, got = 0, taken = 0, cancelled = 0, ck;

	for (i = 0; i < 4; i++) {
		mb_msg_init(&r[i], in[i], sizeof(in[i]), 0, 0);
		ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &r[i], 1, &r[i]));
	}
	ASSERT_EQ(4, msgbox_ring_submit(self->r));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 4, 0));
	/* Two messages race the cancel: two receives take them. */
	ASSERT_EQ(0, msgbox_send(self->fd, "x", 1, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "y", 1, 0));
	ASSERT_EQ(0, msgbox_ring_cancel(self->r, self->fd, 1, &ck));
	while (got < 5) {
		n = msgbox_ring_wait(self->r, c, 8, 1, WAIT_NS);
		ASSERT_LT(0, n);
		for (i = 0; i < n; i++) {
			if (c[i].cookie == &ck) {
				EXPECT_EQ(2, c[i].result);
			} else if (c[i].result == -ECANCELED) {
				cancelled++;
			} else {
				EXPECT_EQ(1, c[i].result);
				taken++;
			}
		}
		got += n;
	}
	EXPECT_EQ(5, got);
	EXPECT_EQ(2, taken);
	EXPECT_EQ(2, cancelled);
	msgbox_ring_free(self->r);
	self->r = NULL;
	/* Sent at once after the free: all of them stay in the mailbox. */
	for (i = 0; i < 4; i++) {
		buf[0] = 'a' + i;
		ASSERT_EQ(0, msgbox_send(self->fd, buf, 1, 0));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf),
					 MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ('a' + i, buf[0]);
	}
	EXPECT_EQ(0, mb_recv_waiters(self->fd));
}

/*
 * A message sent the moment the ring is freed, while its receive may still
 * be parked (6.1 notices a closed ring only within ~100 ms): it is either
 * back in the mailbox or was never taken, never lost.
 */
TEST_F(ul, message_sent_right_after_ring_free_is_not_lost)
{
	struct msgbox_msg r[4];
	char in[4][16], buf[16];
	int i, round;

	for (round = 0; round < 5; round++) {
		struct msgbox_ring *ring = msgbox_ring_new(4, 0);

		ASSERT_NE(NULL, ring);
		for (i = 0; i < 4; i++) {
			mb_msg_init(&r[i], in[i], sizeof(in[i]), 0, 0);
			ASSERT_EQ(0, msgbox_ring_recv(ring, self->fd, &r[i], 0, NULL));
		}
		ASSERT_EQ(4, msgbox_ring_submit(ring));
		ASSERT_EQ(0, mb_wait_waiters(self->fd, 4, 0));
		msgbox_ring_free(ring);
		for (i = 0; i < 4; i++) {
			buf[0] = 'a' + i;
			ASSERT_EQ(0, msgbox_send(self->fd, buf, 1, 0));
		}
		ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 0));
		for (i = 0; i < 4; i++) {
			ASSERT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf),
						 MSGBOX_MSG_NONBLOCK))
				TH_LOG("round %d: message %d lost", round, i);
			EXPECT_EQ('a' + i, buf[0]);
		}
	}
}

/*
 * A send batch from the task whose receives are parked on the mailbox:
 * every entry is handed to a parked receive, and the batch must not stop
 * early (the task work each hand-off queues is no signal).
 */
TEST_F(ul, send_batch_to_own_parked_receives_is_not_cut_short)
{
	struct msgbox_completion c[4];
	struct msgbox_msg r[4], s[4];
	char in[4][16];
	int v[4], i, err = 0;

	for (i = 0; i < 4; i++) {
		mb_msg_init(&r[i], in[i], sizeof(in[i]), 0, 0);
		ASSERT_EQ(0, msgbox_ring_recv(self->r, self->fd, &r[i], 0, &r[i]));
		v[i] = i;
		mb_msg_init(&s[i], &v[i], sizeof(v[i]), 1, 0);
	}
	ASSERT_EQ(4, msgbox_ring_submit(self->r));
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 4, 0));
	EXPECT_EQ(4, msgbox_send_batch(self->fd, s, 4, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(4, msgbox_ring_wait(self->r, c, 4, 4, WAIT_NS));
}

TEST_HARNESS_MAIN
