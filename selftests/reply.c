// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: request/reply.  A call's reply reaches exactly its
 * calling thread, with many callers and many servers at once; a server
 * that goes away without replying wakes its caller with ECONNRESET; a
 * caller that gives up makes the server's reply fail with EPIPE; tokens
 * are per descriptor and single-use.  MSGBOX_IOC_REPLY_RECV answers and
 * receives in one system call, each half checked before either acts.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include "msgbox_test.h"

FIXTURE(rr) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
};

FIXTURE_SETUP(rr)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "rr");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 16, 64, 1024, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(rr)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

/* Receive one request into @buf; its length, or -1.  *@token gets the token. */
static ssize_t serve_recv(int fd, char *buf, size_t size, __u64 *token,
			  __u32 flags)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = size;
	m.flags = flags;
	if (msgbox_recvmsg(fd, &m))
		return -1;
	*token = m.token;
	return m.len;
}

/* A server: answer @n requests "x" with "x!" then exit. */
static void server(int fd, int n)
{
	char buf[64], out[80];
	__u64 token;
	ssize_t len;

	while (n--) {
		len = serve_recv(fd, buf, sizeof(buf), &token, 0);
		CHILD_CHECK(len >= 0, 10);
		CHILD_CHECK(token != 0, 11);
		memcpy(out, buf, len);
		out[len] = '!';
		CHILD_CHECK(msgbox_reply(fd, token, out, len + 1) == 0, 12);
	}
	_exit(0);
}

/* @c, to call with "ping" (type 1) and take the reply into @rep. */
static void ping_init(struct msgbox_call *c, char *rep, size_t size)
{
	memset(c, 0, sizeof(*c));
	c->request.data = (uintptr_t)"ping";
	c->request.len = 4;
	c->request.type = 1;
	c->reply.data = (uintptr_t)rep;
	c->reply.len = size;
}

TEST_F(rr, call_gets_the_reply_of_the_server_that_took_it)
{
	struct msgbox_call c;
	char rep[64];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		server(self->fd, 1);
	ping_init(&c, rep, sizeof(rep));
	ASSERT_EQ(0, msgbox_callmsg(self->fd, &c)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(5, c.reply.len);
	EXPECT_EQ(0, memcmp(rep, "ping!", 5));
	EXPECT_EQ(pid, c.reply.sender_pid);
	EXPECT_NE(0, c.request.id);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	/* The reply never went through the mailbox. */
	EXPECT_EQ(-1, msgbox_recv(self->fd, rep, sizeof(rep), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
}

/* The reply carries the time its server sent it, not the call's. */
TEST_F(rr, a_reply_is_stamped_when_its_server_sends_it)
{
	struct msgbox_call c;
	uint64_t t0, t1;
	char rep[64];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[64];
		__u64 token;

		CHILD_CHECK(serve_recv(self->fd, buf, sizeof(buf), &token, 0) == 4, 10);
		usleep(50000);
		CHILD_CHECK(msgbox_reply(self->fd, token, "pong", 4) == 0, 11);
		_exit(0);
	}
	ping_init(&c, rep, sizeof(rep));
	t0 = mb_now_ns(CLOCK_REALTIME);
	ASSERT_EQ(0, msgbox_callmsg(self->fd, &c)) TH_LOG("%s", strerror(errno));
	t1 = mb_now_ns(CLOCK_REALTIME);
	EXPECT_LE(t0 + 50000000, c.reply.send_time_ns);
	EXPECT_GE(t1, c.reply.send_time_ns);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

#define CALLERS		4
#define CALLS_EACH	25
#define SERVERS		2

TEST_F(rr, concurrent_callers_each_get_their_own_replies)
{
	pid_t callers[CALLERS], servers[SERVERS];
	int i;

	for (i = 0; i < SERVERS; i++) {
		servers[i] = fork();
		ASSERT_LE(0, servers[i]);
		if (servers[i] == 0)
			server(self->fd, CALLERS * CALLS_EACH);	/* killed when done */
	}
	for (i = 0; i < CALLERS; i++) {
		callers[i] = fork();
		ASSERT_LE(0, callers[i]);
		if (callers[i] == 0) {
			char req[32], rep[64];
			ssize_t n;
			int j;

			for (j = 0; j < CALLS_EACH; j++) {
				int len = snprintf(req, sizeof(req), "c%d-%d-%d",
						   i, getpid(), j);

				n = msgbox_call(self->fd, req, len, rep,
						sizeof(rep), MSGBOX_FOREVER);
				CHILD_CHECK(n == len + 1, 2);
				CHILD_CHECK(!memcmp(rep, req, len) &&
					    rep[len] == '!', 3);
			}
			_exit(0);
		}
	}
	for (i = 0; i < CALLERS; i++)
		EXPECT_EQ(0, mb_reap(callers[i], 60000));
	for (i = 0; i < SERVERS; i++) {
		kill(servers[i], SIGKILL);
		mb_reap(servers[i], MB_WAIT_MS);
	}
}

TEST_F(rr, server_closing_without_reply_wakes_caller_with_ECONNRESET)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Its own open file: a forked copy of self->fd would be shared. */
		int s = msgbox_open(self->name, MB_RW);
		char buf[64];
		__u64 token;

		CHILD_CHECK(s >= 0, 4);
		CHILD_CHECK(serve_recv(s, buf, sizeof(buf), &token, 0) == 3, 2);
		_exit(0);	/* never replies: its descriptor goes with it */
	}
	EXPECT_EQ(-1, msgbox_call(self->fd, "req", 3, (char[8]){ 0 }, 8,
				  MSGBOX_FOREVER));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rr, server_killed_mid_request_wakes_caller_with_ECONNRESET)
{
	int got[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(got));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s = msgbox_open(self->name, MB_RW);
		char buf[64];
		__u64 token;

		CHILD_CHECK(s >= 0, 5);
		CHILD_CHECK(serve_recv(s, buf, sizeof(buf), &token, 0) == 3, 2);
		CHILD_CHECK(write(got[1], "g", 1) == 1, 3);
		pause();
		_exit(4);
	}
	pid_t killer = fork();

	ASSERT_LE(0, killer);
	if (killer == 0) {
		CHILD_CHECK(read(got[0], &c, 1) == 1, 2);
		kill(pid, SIGKILL);
		_exit(0);
	}
	EXPECT_EQ(-1, msgbox_call(self->fd, "req", 3, (char[8]){ 0 }, 8,
				  MSGBOX_FOREVER));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_reap(killer, MB_WAIT_MS));
}

TEST_F(rr, reply_after_the_caller_timed_out_fails_with_EPIPE)
{
	char buf[64];
	__u64 token;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[8];

		CHILD_CHECK(msgbox_call(self->fd, "late", 4, rep, sizeof(rep),
					100000000) == -1, 2);
		CHILD_CHECK(errno == ETIMEDOUT, 3);
		_exit(0);
	}
	ASSERT_EQ(4, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-1, msgbox_reply(self->fd, token, "too late", 8));
	EXPECT_EQ(EPIPE, errno);
	/* The token is gone with it. */
	EXPECT_EQ(-1, msgbox_reply(self->fd, token, "x", 1));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(rr, reply_after_the_caller_was_killed_fails_with_EPIPE)
{
	char buf[64];
	__u64 token;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[8];

		msgbox_call(self->fd, "dies", 4, rep, sizeof(rep), MSGBOX_FOREVER);
		_exit(2);
	}
	ASSERT_EQ(4, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-1, msgbox_reply(self->fd, token, "nobody", 6));
	EXPECT_EQ(EPIPE, errno);
}

TEST_F(rr, abandoned_queued_request_is_discarded_unseen)
{
	struct msgbox_info info;
	char buf[64];
	__u64 token;

	/* Nobody serves: the call times out with its request queued. */
	EXPECT_EQ(-1, msgbox_call(self->fd, "gone", 4, buf, sizeof(buf), 50000000));
	EXPECT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(0, msgbox_send(self->fd, "plain", 5, 0));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(2, info.nr_msgs);
	/* A server never sees it: the next message is the plain one. */
	EXPECT_EQ(5, serve_recv(self->fd, buf, sizeof(buf), &token, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, token);
	EXPECT_EQ(-1, serve_recv(self->fd, buf, sizeof(buf), &token, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(rr, tokens_are_single_use_and_belong_to_the_receiving_descriptor)
{
	char buf[64];
	__u64 token;
	pid_t pid;
	int other;

	other = msgbox_open(self->name, MB_RW);
	ASSERT_LE(0, other);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[8];

		CHILD_CHECK(msgbox_call(self->fd, "tok", 3, rep, sizeof(rep),
					MSGBOX_FOREVER) == 2, 2);
		_exit(0);
	}
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	EXPECT_EQ(-1, msgbox_reply(other, token, "no", 2));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, msgbox_reply(self->fd, token + 1000, "no", 2));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, msgbox_reply(self->fd, 0, "no", 2));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, msgbox_reply(self->fd, token, "ok", 2));
	EXPECT_EQ(-1, msgbox_reply(self->fd, token, "ok", 2));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(other);
}

TEST_F(rr, reply_larger_than_the_callers_buffer_gives_EMSGSIZE_and_keeps_token)
{
	char buf[64];
	__u64 token;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[4];

		CHILD_CHECK(msgbox_call(self->fd, "small", 5, rep, sizeof(rep),
					MSGBOX_FOREVER) == 4, 2);
		CHILD_CHECK(memcmp(rep, "fits", 4) == 0, 3);
		_exit(0);
	}
	ASSERT_EQ(5, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	EXPECT_EQ(-1, msgbox_reply(self->fd, token, "too long", 8));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(0, msgbox_reply(self->fd, token, "fits", 4));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rr, destroy_with_the_request_queued_gives_the_caller_EIDRM)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[8];

		CHILD_CHECK(msgbox_call(self->fd, "q", 1, rep, sizeof(rep),
					MSGBOX_FOREVER) == -1, 2);
		CHILD_CHECK(errno == EIDRM, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_queued(self->fd));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rr, request_taken_by_read_cannot_be_answered_and_caller_learns)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[8];

		CHILD_CHECK(msgbox_call(self->fd, "rd", 2, rep, sizeof(rep),
					MSGBOX_FOREVER) == -1, 2);
		CHILD_CHECK(errno == ECONNRESET, 3);
		_exit(0);
	}
	char buf[8];

	EXPECT_EQ(2, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* Waits for a type-7 message; the reply below is type 7 too. */
static void *reader_thread(void *arg)
{
	int fd = *(int *)arg;
	struct msgbox_msg m;
	char buf[64];

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = sizeof(buf);
	m.type = 7;
	m.flags = MSGBOX_MSG_TIMEOUT;
	m.timeout_ns = 300000000;
	/* Must time out: the reply is for the calling thread only. */
	return (void *)(long)(msgbox_recvmsg(fd, &m) ? -errno : 0);
}

TEST_F(rr, reply_goes_to_the_calling_thread_not_to_other_readers)
{
	struct msgbox_call c;
	pthread_t t;
	char rep[64];
	void *res;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg r;
		char buf[64];
		__u64 token;

		CHILD_CHECK(serve_recv(self->fd, buf, sizeof(buf), &token, 0) == 3, 2);
		memset(&r, 0, sizeof(r));
		r.data = (uintptr_t)"mine";
		r.len = 4;
		r.type = 7;
		r.token = token;
		CHILD_CHECK(msgbox_replymsg(self->fd, &r) == 0, 3);
		_exit(0);
	}
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_thread, &self->fd));
	memset(&c, 0, sizeof(c));
	c.request.data = (uintptr_t)"who";
	c.request.len = 3;
	c.request.type = 1;
	c.reply.data = (uintptr_t)rep;
	c.reply.len = sizeof(rep);
	ASSERT_EQ(0, msgbox_callmsg(self->fd, &c));
	EXPECT_EQ(7, c.reply.type);
	EXPECT_EQ(4, c.reply.len);
	ASSERT_EQ(0, pthread_join(t, &res));
	EXPECT_EQ(-ETIMEDOUT, (long)res);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rr, call_arguments_are_validated)
{
	struct msgbox_call c;
	char rep[8];

	memset(&c, 0, sizeof(c));
	c.request.data = (uintptr_t)"v";
	c.request.len = 1;
	c.request.type = 1;
	c.reply.data = (uintptr_t)rep;
	c.reply.len = sizeof(rep);
	c.request.flags = MSGBOX_MSG_NONBLOCK;
	EXPECT_EQ(-1, msgbox_callmsg(self->fd, &c));
	EXPECT_EQ(EINVAL, errno);
	c.request.flags = MSGBOX_MSG_SYNC;
	EXPECT_EQ(-1, msgbox_callmsg(self->fd, &c));
	EXPECT_EQ(EINVAL, errno);
	c.request.flags = 0;
	c.reply.flags = MSGBOX_MSG_PEEK;
	EXPECT_EQ(-1, msgbox_callmsg(self->fd, &c));
	EXPECT_EQ(EINVAL, errno);
	c.reply.flags = 0;
	c.request.type = 0;
	EXPECT_EQ(-1, msgbox_callmsg(self->fd, &c));
	EXPECT_EQ(EINVAL, errno);
	/* A plain send may not carry a token. */
	struct msgbox_msg m = { .data = (uintptr_t)"t", .len = 1, .type = 1, .token = 5 };

	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EINVAL, errno);
	/* 192 bytes: a call structure with its reply's last 32 bytes cut off. */
	c.request.type = 1;
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(MSGBOX_IOC_MAGIC, 0x24, char[192]), &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
	EXPECT_EQ(0, msgbox_info(self->fd, &(struct msgbox_info){ 0 }));
}

/* A caller in a child: call with a reply buffer of @size, exit with 0 on success. */
static pid_t caller_child(int fd, const char *req, size_t size)
{
	pid_t pid = fork();

	if (pid == 0) {
		char *rep = malloc(size);

		CHILD_CHECK(rep != NULL, 2);
		CHILD_CHECK(msgbox_call(fd, req, strlen(req), rep, size,
					MSGBOX_FOREVER) >= 0, 3);
		_exit(0);
	}
	return pid;
}

#define HELD	5

/* A caller of @req that exits 0 with its own reply, 7 on ECONNRESET. */
static pid_t held_caller(int fd, const char *req)
{
	pid_t pid = fork();
	char rep[64];
	ssize_t n;

	if (pid)
		return pid;
	n = msgbox_call(fd, req, strlen(req), rep, sizeof(rep), MSGBOX_FOREVER);
	if (n < 0)
		_exit(errno == ECONNRESET ? 7 : 2);
	CHILD_CHECK(n == (ssize_t)strlen(req) + 1, 3);
	CHILD_CHECK(!memcmp(rep, req, n - 1) && rep[n - 1] == '!', 4);
	_exit(0);
}

/* Receive a request "call <i>" on @s: <i>, or -1.  *@token gets its token. */
static int held_recv(int s, __u64 *token)
{
	char buf[64];
	ssize_t len;
	int who;

	len = serve_recv(s, buf, sizeof(buf) - 1, token, 0);
	if (len <= 0 || !*token)
		return -1;
	buf[len] = 0;
	if (sscanf(buf, "call %d", &who) != 1 || who < 0 || who >= HELD)
		return -1;
	return who;
}

/*
 * A server descriptor holding several unanswered calls at once (its first
 * in a slot of its own, the others in its table): each reply reaches its
 * own caller, in whatever order they go, the slot is answered and taken
 * again while the table holds calls, and closing the descriptor fails
 * exactly the calls still held, with ECONNRESET.
 */
TEST_F(rr, a_server_holding_several_calls_answers_each_and_its_close_fails_the_rest)
{
	char req[HELD][16], out[80];
	__u64 token[HELD];
	pid_t pid[HELD];
	int who[HELD], i, s, len;
	/* Answered, in this order: the last received, then the first. */
	const int answer[] = { HELD - 2, 0 };

	for (i = 0; i < HELD; i++)
		snprintf(req[i], sizeof(req[i]), "call %d", i);
	for (i = 0; i < HELD - 1; i++) {
		pid[i] = held_caller(self->fd, req[i]);
		ASSERT_LE(0, pid[i]);
	}
	/* Opened after the forks: the callers must not share its file. */
	s = msgbox_open(self->name, MB_RW);
	ASSERT_LE(0, s);
	/* Hold them all; who[k] is the caller of the k-th received. */
	for (i = 0; i < HELD - 1; i++) {
		who[i] = held_recv(s, &token[i]);
		ASSERT_LE(0, who[i]);
	}
	for (i = 0; i < 2; i++) {
		int k = answer[i];

		len = snprintf(out, sizeof(out), "%s!", req[who[k]]);
		EXPECT_EQ(0, msgbox_reply(s, token[k], out, len));
		EXPECT_EQ(0, mb_reap(pid[who[k]], MB_WAIT_MS));
		/* Answered: its token is gone. */
		EXPECT_EQ(-1, msgbox_reply(s, token[k], out, len));
		EXPECT_EQ(ENOENT, errno);
	}
	/* One more call while two are held: it gets its own reply. */
	pid[HELD - 1] = held_caller(self->fd, req[HELD - 1]);
	ASSERT_LE(0, pid[HELD - 1]);
	ASSERT_EQ(HELD - 1, held_recv(s, &token[HELD - 1]));
	for (i = 1; i < HELD - 2; i++)
		EXPECT_NE(token[i], token[HELD - 1]);
	len = snprintf(out, sizeof(out), "%s!", req[HELD - 1]);
	EXPECT_EQ(0, msgbox_reply(s, token[HELD - 1], out, len));
	EXPECT_EQ(0, mb_reap(pid[HELD - 1], MB_WAIT_MS));
	/* The first answered's token still names nothing. */
	EXPECT_EQ(-1, msgbox_reply(s, token[0], out, len));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, close(s));
	for (i = 1; i < HELD - 2; i++)
		EXPECT_EQ(7, mb_reap(pid[who[i]], MB_WAIT_MS));
}

TEST_F(rr, an_answered_token_is_not_handed_out_again_to_the_next_call)
{
	char buf[64];
	__u64 t1, t2;
	pid_t pid;

	pid = caller_child(self->fd, "one", 8);
	ASSERT_LE(0, pid);
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &t1, 0));
	ASSERT_EQ(0, msgbox_reply(self->fd, t1, "1", 1));
	ASSERT_EQ(0, mb_reap(pid, MB_WAIT_MS));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[8];

		/* Only the true reply may reach this caller. */
		CHILD_CHECK(msgbox_call(self->fd, "two", 3, rep, sizeof(rep),
					MSGBOX_FOREVER) == 3, 2);
		CHILD_CHECK(memcmp(rep, "two", 3) == 0, 3);
		_exit(0);
	}
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &t2, 0));
	EXPECT_NE(t1, t2);
	/* A late, duplicate answer to the first call goes nowhere. */
	EXPECT_EQ(-1, msgbox_reply(self->fd, t1, "bad", 3));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, msgbox_reply(self->fd, t2, "two", 3));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

struct slow_reply {
	int fd;
	__u64 token;
	void *data;
	size_t len;
	int ret, err;
};

static void *slow_reply_thread(void *arg)
{
	struct slow_reply *r = arg;

	r->ret = msgbox_reply(r->fd, r->token, r->data, r->len);
	r->err = errno;
	return NULL;
}

/*
 * A REPLY is checked against its call, then copies its payload, which may
 * sleep (here on a userfaultfd page).  Meanwhile another thread answers
 * the same call and the next call arrives with a small reply buffer: the
 * sleeping REPLY must fail with ENOENT, not land, oversized, in that one.
 */
TEST_F(rr, a_reply_that_slept_in_its_copy_cannot_reach_another_call)
{
	struct slow_reply r;
	char buf[64], *page;
	pthread_t th;
	__u64 t2;
	pid_t c1, c2;
	int uffd;

	uffd = mb_uffd_page(&page);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	c1 = caller_child(self->fd, "big", 64);	/* room for 60 */
	ASSERT_LE(0, c1);
	memset(&r, 0, sizeof(r));
	r.fd = self->fd;
	r.data = page;
	r.len = 60;
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &r.token, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, slow_reply_thread, &r));
	ASSERT_EQ(0, mb_uffd_wait(uffd));	/* it sleeps in the copy */

	ASSERT_EQ(0, msgbox_reply(self->fd, r.token, "ok", 2));
	EXPECT_EQ(0, mb_reap(c1, MB_WAIT_MS));
	c2 = fork();
	ASSERT_LE(0, c2);
	if (c2 == 0) {
		/* 8 bytes of room, guarded by a pattern behind them. */
		char rep[64];

		memset(rep, 0x5a, sizeof(rep));
		CHILD_CHECK(msgbox_call(self->fd, "sml", 3, rep, 8,
					MSGBOX_FOREVER) == 3, 2);
		CHILD_CHECK(memcmp(rep, "sml", 3) == 0, 3);
		for (int i = 8; i < (int)sizeof(rep); i++)
			CHILD_CHECK(rep[i] == 0x5a, 4);
		_exit(0);
	}
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &t2, 0));

	ASSERT_EQ(0, mb_uffd_serve(uffd, page, 'X'));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(ENOENT, r.err);
	EXPECT_EQ(0, msgbox_reply(self->fd, t2, "sml", 3));
	EXPECT_EQ(0, mb_reap(c2, MB_WAIT_MS));
}

TEST_F(rr, reply_arguments_are_validated)
{
	struct msgbox_msg m;
	char buf[64];
	__u64 token;
	pid_t pid;

	pid = caller_child(self->fd, "arg", 8);
	ASSERT_LE(0, pid);
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	mb_msg_init(&m, (void *)"r", 1, 1, 0);
	m.token = token;
	m.__pad = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_REPLY, &m));
	EXPECT_EQ(EINVAL, errno);
	m.__pad = 0;
	m.ttl_ns = 1000000;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_REPLY, &m));
	EXPECT_EQ(EINVAL, errno);
	m.ttl_ns = 0;
	m.flags = MSGBOX_MSG_NONBLOCK;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_REPLY, &m));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was answered by the bad ones. */
	m.flags = 0;
	EXPECT_EQ(0, ioctl(self->fd, MSGBOX_IOC_REPLY, &m));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* Callers in a child: "c0", "c1", ... each expecting "r0", "r1", ... */
static pid_t callers_child(int fd, int n)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (int i = 0; i < n; i++) {
			char req[4] = { 'c', '0' + i }, want[4] = { 'r', '0' + i };
			char rep[8] = "";

			CHILD_CHECK(msgbox_call(fd, req, 2, rep, sizeof(rep),
						MSGBOX_FOREVER) == 2, 2);
			CHILD_CHECK(memcmp(rep, want, 2) == 0, 3);
		}
		_exit(0);
	}
	return pid;
}

/* REPLY_RECV argument: answer @token with @rep, then receive into @buf. */
static void rr_init(struct msgbox_reply_recv *rr, __u64 token, const char *rep,
		    char *buf, size_t size)
{
	memset(rr, 0, sizeof(*rr));
	mb_msg_init(&rr->reply, (void *)rep, rep ? strlen(rep) : 0, 1, 0);
	rr->reply.token = token;
	mb_msg_init(&rr->recv, buf, size, 0, 0);
}

TEST_F(rr, reply_recv_answers_each_call_and_takes_the_next_in_one_step)
{
	struct msgbox_reply_recv rr;
	char buf[64], rep[4] = "r";
	__u64 token = 0;
	pid_t pid;
	int i;

	pid = callers_child(self->fd, 4);
	ASSERT_LE(0, pid);
	for (i = 0; i < 4; i++) {
		rr_init(&rr, token, i ? rep : NULL, buf, sizeof(buf));
		ASSERT_EQ(0, msgbox_reply_recvmsg(self->fd, &rr));
		EXPECT_EQ(0, rr.reply.token);	/* answered (or nothing to answer) */
		ASSERT_EQ(2, rr.recv.len);
		EXPECT_EQ('0' + i, buf[1]);
		EXPECT_NE(0, rr.recv.token);
		EXPECT_EQ(pid, rr.recv.sender_pid);
		token = rr.recv.token;
		rep[1] = '0' + i;
	}
	EXPECT_EQ(0, msgbox_reply(self->fd, token, rep, 2));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
}

TEST_F(rr, reply_recv_whose_reply_fails_receives_nothing_and_keeps_its_token)
{
	struct msgbox_reply_recv rr;
	char buf[64];
	__u64 token;
	pid_t pid;

	pid = caller_child(self->fd, "one", 8);
	ASSERT_LE(0, pid);
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	ASSERT_EQ(0, msgbox_reply(self->fd, token, "1", 1));
	ASSERT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, msgbox_send(self->fd, "next", 4, 0));

	/* The token was answered already: ENOENT, and "next" stays queued. */
	rr_init(&rr, token, "again", buf, sizeof(buf));
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(token, rr.reply.token);
	EXPECT_EQ(sizeof(buf), rr.recv.len);
	EXPECT_EQ(1, mb_nr_msgs(self->fd));

	/* Larger than the caller accepts: EMSGSIZE, and the token stays valid. */
	pid = caller_child(self->fd, "two", 2);
	ASSERT_LE(0, pid);
	ASSERT_EQ(4, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "more", 4, 0));
	rr_init(&rr, token, "toolong", buf, sizeof(buf));
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(token, rr.reply.token);
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	rr_init(&rr, token, "ok", buf, sizeof(buf));
	EXPECT_EQ(0, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(0, rr.reply.token);
	EXPECT_EQ(4, rr.recv.len);
	EXPECT_EQ(0, memcmp(buf, "more", 4));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* A receive that fails after the reply went is the receive's error. */
TEST_F(rr, reply_recv_reports_the_receives_error_once_the_reply_went)
{
	struct msgbox_reply_recv rr;
	char buf[64];
	__u64 token;
	pid_t pid;

	pid = caller_child(self->fd, "one", 8);
	ASSERT_LE(0, pid);
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	rr_init(&rr, token, "1", buf, sizeof(buf));
	rr.recv.flags = MSGBOX_MSG_NONBLOCK;
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, rr.reply.token);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	/* The library's form says the same through its token. */
	pid = caller_child(self->fd, "two", 8);
	ASSERT_LE(0, pid);
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	mb_msg_init(&rr.recv, buf, sizeof(buf), 0, MSGBOX_MSG_NONBLOCK);
	EXPECT_EQ(-1, msgbox_reply_recv(self->fd, &token, "2", 1, &rr.recv));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, token);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rr, reply_recv_checks_both_halves_before_either_acts)
{
	struct msgbox_reply_recv rr;
	char buf[64];
	__u64 token;
	int status;
	pid_t pid;

	pid = callers_child(self->fd, 1);
	ASSERT_LE(0, pid);
	ASSERT_EQ(2, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "queued", 6, 0));

	/* A bad receive: the reply must not go. */
	rr_init(&rr, token, "r0", buf, sizeof(buf));
	rr.recv.flags = 1u << 31;
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(EINVAL, errno);
	rr_init(&rr, token, "r0", buf, sizeof(buf));
	rr.recv.__reserved[1] = 1;
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(EINVAL, errno);
	/* A bad reply: nothing is received. */
	rr_init(&rr, token, "r0", buf, sizeof(buf));
	rr.reply.flags = MSGBOX_MSG_NONBLOCK;
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(EINVAL, errno);
	rr_init(&rr, token, "r0", buf, sizeof(buf));
	rr.reply.type = 0;
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(EINVAL, errno);
	/* Too short an argument. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(MSGBOX_IOC_MAGIC, 0x2e, char[200]), &rr));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	EXPECT_FALSE(mb_exited(pid, &status));	/* still waiting for "r0" */

	/* The token still answers, and the queued message is still there. */
	rr_init(&rr, token, "r0", buf, sizeof(buf));
	EXPECT_EQ(0, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(6, rr.recv.len);
	EXPECT_EQ(0, rr.recv.token);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

/*
 * A signal (SA_RESTART) arrives while REPLY_RECV waits in its receive,
 * after its reply went: the restarted system call only receives.  (Were
 * the token not cleared, the restart would answer again and fail with
 * ENOENT.)
 */
TEST_F(rr, reply_recv_interrupted_after_its_reply_restarts_as_a_receive)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	struct msgbox_reply_recv rr;
	pid_t parent = getpid(), pid;
	char buf[64];
	__u64 token;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	usr1_seen = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[8] = "";

		CHILD_CHECK(msgbox_call(self->fd, "q", 1, rep, sizeof(rep),
					MSGBOX_FOREVER) == 1, 2);
		CHILD_CHECK(rep[0] == 'a', 3);
		usleep(200000);		/* the server sleeps in its receive */
		CHILD_CHECK(kill(parent, SIGUSR1) == 0, 4);
		usleep(200000);
		CHILD_CHECK(msgbox_send(self->fd, "after", 5, 0) == 0, 5);
		_exit(0);
	}
	ASSERT_EQ(1, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	rr_init(&rr, token, "a", buf, sizeof(buf));
	/* An absolute deadline: restartable, and the test cannot hang. */
	rr.recv.flags = MSGBOX_MSG_TIMEOUT | MSGBOX_MSG_ABSTIME;
	rr.recv.timeout_ns = mb_now_ns(CLOCK_MONOTONIC) + 4ull * MB_WAIT_MS * 1000000;
	EXPECT_EQ(0, msgbox_reply_recvmsg(self->fd, &rr)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(1, usr1_seen);
	EXPECT_EQ(0, rr.reply.token);
	EXPECT_EQ(5, rr.recv.len);
	EXPECT_EQ(0, memcmp(buf, "after", 5));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	signal(SIGUSR1, SIG_DFL);
}

/* Wait until @fd holds @n messages: 0, or -1 after MB_WAIT_MS. */
static int wait_nr_msgs(int fd, unsigned int n)
{
	for (int i = 0; i < MB_WAIT_MS; i++, mb_sleep_ms(1))
		if (mb_info_of(fd).nr_msgs == n)
			return 0;
	return -1;
}

/*
 * A child calls on @fd ("q", its handler of SIGUSR1 given @sa_flags) and
 * expects the reply "ok" after one signal; the parent sees it asleep in
 * the call with its request queued.
 */
static pid_t caller_asleep(struct __test_metadata *_metadata, int fd,
			   int sa_flags)
{
	static const long ioctl_nr[] = { SYS_ioctl, -1 };
	pid_t pid = fork();

	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1,
					.sa_flags = sa_flags };
		char rep[8] = "";

		usr1_seen = 0;
		CHILD_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, 2);
		CHILD_CHECK(msgbox_call(fd, "q", 1, rep, sizeof(rep),
					MSGBOX_FOREVER) == 2, 3);
		CHILD_CHECK(!memcmp(rep, "ok", 2), 4);
		_exit(usr1_seen <= 1 ? 0 : 5);
	}
	EXPECT_LE(0, pid);
	EXPECT_EQ(0, mb_wait_queued(fd));
	EXPECT_EQ(0, mb_wait_in_syscall(pid, ioctl_nr));
	return pid;
}

/*
 * After its restart, the call's new request is the only one a server gets
 * (the first, abandoned, is discarded unseen); its reply ends the call.
 */
static void serve_the_restarted_call(struct __test_metadata *_metadata,
				     int fd, pid_t pid)
{
	__u64 token = 0;
	char buf[64];

	EXPECT_EQ(0, wait_nr_msgs(fd, 2));
	EXPECT_EQ(1, serve_recv(fd, buf, sizeof(buf), &token, 0));
	EXPECT_EQ(0, msgbox_reply(fd, token, "ok", 2));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-1, serve_recv(fd, buf, sizeof(buf), &token,
				 MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * A signal (SA_RESTART) before any receive took the call's request: no
 * server saw it, so the call restarts, sending it anew, where it used to
 * fail with EINTR.
 */
TEST_F(rr, call_interrupted_before_its_request_was_taken_restarts)
{
	pid_t pid = caller_asleep(_metadata, self->fd, SA_RESTART);

	ASSERT_LE(0, pid);
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	serve_the_restarted_call(_metadata, self->fd, pid);
}

/* The same for a stop and continue (^Z, a debugger attaching). */
TEST_F(rr, call_survives_a_stop_and_continue_before_its_request_was_taken)
{
	pid_t pid = caller_asleep(_metadata, self->fd, 0);

	ASSERT_LE(0, pid);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	serve_the_restarted_call(_metadata, self->fd, pid);
}

/*
 * Once a receive took the request, a server may be acting on it: the same
 * signal ends the call with EINTR (a restart would send it twice), and the
 * late reply fails with EPIPE.
 */
TEST_F(rr, call_interrupted_after_its_request_was_taken_fails_with_EINTR)
{
	char buf[64];
	__u64 token;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1,
					.sa_flags = SA_RESTART };
		char rep[8];

		CHILD_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, 2);
		CHILD_CHECK(msgbox_call(self->fd, "q", 1, rep, sizeof(rep),
					MSGBOX_FOREVER) == -1 && errno == EINTR, 3);
		_exit(0);
	}
	ASSERT_EQ(1, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-1, msgbox_reply(self->fd, token, "ok", 2));
	EXPECT_EQ(EPIPE, errno);
}

/*
 * A receive that took the request but faulted copying it out gave it
 * back: no server saw it, so the call may restart on a signal again.
 */
TEST_F(rr, call_whose_request_a_faulting_receive_gave_back_restarts)
{
	pid_t pid = caller_asleep(_metadata, self->fd, SA_RESTART);
	__u64 token = 0;

	ASSERT_LE(0, pid);
	EXPECT_EQ(-1, serve_recv(self->fd, (char *)8, 64, &token, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	serve_the_restarted_call(_metadata, self->fd, pid);
}

/*
 * A newer caller's longer structures: zero tails are accepted and written
 * back as zero, a non-zero tail is E2BIG before anything happens.  (At
 * the size the module knows, both structures cross field by field; these
 * take the other path.)
 */
struct call_next {
	struct msgbox_call c;
	__u64 tail[2];
};

struct reply_recv_next {
	struct msgbox_reply_recv rr;
	__u64 tail[2];
};

#define IOC_CALL_NEXT	_IOWR(MSGBOX_IOC_MAGIC, 0x24, struct call_next)
#define IOC_REPLY_RECV_NEXT _IOWR(MSGBOX_IOC_MAGIC, 0x2e, struct reply_recv_next)

TEST_F(rr, longer_call_and_reply_recv_structures_are_extensible)
{
	struct reply_recv_next x;
	char buf[64];
	__u64 token;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct call_next cn;
		char rep[8] = "";

		memset(&cn, 0, sizeof(cn));
		mb_msg_init(&cn.c.request, (void *)"one", 3, 1, 0);
		mb_msg_init(&cn.c.reply, rep, sizeof(rep), 0, 0);
		cn.tail[1] = 1;
		CHILD_CHECK(ioctl(self->fd, IOC_CALL_NEXT, &cn) == -1, 2);
		CHILD_CHECK(errno == E2BIG, 3);
		cn.tail[1] = 0;
		memset(&cn.c.reply.id, 0xff, sizeof(cn.c.reply.id));
		CHILD_CHECK(ioctl(self->fd, IOC_CALL_NEXT, &cn) == 0, 4);
		CHILD_CHECK(cn.c.reply.len == 2 && !memcmp(rep, "r1", 2), 5);
		CHILD_CHECK(cn.c.request.id != 0 && cn.c.reply.id == 0, 6);
		CHILD_CHECK(cn.tail[0] == 0 && cn.tail[1] == 0, 7);
		CHILD_CHECK(msgbox_call(self->fd, "two", 3, rep, sizeof(rep),
					MSGBOX_FOREVER) == 2, 8);
		_exit(0);
	}
	/* Only one request ever arrives before the answer: the E2BIG sent none. */
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));

	memset(&x, 0, sizeof(x));
	rr_init(&x.rr, token, "r1", buf, sizeof(buf));
	x.tail[0] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOC_REPLY_RECV_NEXT, &x));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(token, x.rr.reply.token);
	x.tail[0] = 0;
	x.rr.recv.sender_uid = 77;	/* out-only: overwritten */
	ASSERT_EQ(0, ioctl(self->fd, IOC_REPLY_RECV_NEXT, &x)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, x.rr.reply.token);
	EXPECT_EQ(3, x.rr.recv.len);
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	EXPECT_EQ(getuid(), x.rr.recv.sender_uid);
	EXPECT_NE(0, x.rr.recv.token);
	EXPECT_EQ(0, x.tail[0]);
	EXPECT_EQ(0, x.tail[1]);
	EXPECT_EQ(0, msgbox_reply(self->fd, x.rr.recv.token, "r2", 2));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* Pin the calling process to @cpu; false if it cannot run there. */
static bool pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/* May this process run on CPUs 0 and 1 (all the polling tests need)? */
static bool have_cpus_0_and_1(void)
{
	cpu_set_t set;

	return sysconf(_SC_NPROCESSORS_ONLN) >= 2 &&
	       sched_getaffinity(0, sizeof(set), &set) == 0 &&
	       CPU_ISSET(0, &set) && CPU_ISSET(1, &set);
}

/* The poll_hits parameter, or ~0 if it cannot be read. */
static unsigned long long poll_hits(void)
{
	unsigned long long v;

	return mb_param_get("poll_hits", &v) ? v : ~0ULL;
}

/*
 * @n calls from this process on CPU 0 to a server on @server_cpu, both
 * polling (MSGBOX_MSG_POLL): the server answers each request, its
 * sequence number plus one, with the receive of the next.  Every answer
 * must be the right one: polling only delays a sleep.  0 if all went.
 */
static int polled_calls(int fd, int server_cpu, int n)
{
	cpu_set_t all;
	int i, status, bad = 0;
	pid_t pid;

	if (sched_getaffinity(0, sizeof(all), &all))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct msgbox_reply_recv rr;
		__u32 req, rep = 0;

		CHILD_CHECK(pin_to(server_cpu), 2);
		memset(&rr, 0, sizeof(rr));
		for (i = 0; i <= n; i++) {
			mb_msg_init(&rr.reply, &rep, sizeof(rep), 1, 0);
			rr.reply.token = i ? rr.recv.token : 0;
			mb_msg_init(&rr.recv, &req, sizeof(req), 0,
				    MSGBOX_MSG_POLL | MSGBOX_MSG_TIMEOUT);
			rr.recv.timeout_ns = 4ull * MB_WAIT_MS * 1000000;
			if (i == n) {	/* the last answer alone */
				CHILD_CHECK(msgbox_replymsg(fd, &rr.reply) == 0, 3);
				break;
			}
			CHILD_CHECK(msgbox_reply_recvmsg(fd, &rr) == 0, 4);
			CHILD_CHECK(rr.recv.len == sizeof(req) && req == (__u32)i, 5);
			CHILD_CHECK(rr.recv.token != 0, 6);
			rep = req + 1;
		}
		_exit(0);
	}
	if (!pin_to(0))
		bad++;
	for (i = 0; i < n && !bad; i++) {
		struct msgbox_call c;
		__u32 req = i, rep = 0;

		memset(&c, 0, sizeof(c));
		mb_msg_init(&c.request, &req, sizeof(req), 1,
			    MSGBOX_MSG_POLL | MSGBOX_MSG_TIMEOUT);
		c.request.timeout_ns = 4ull * MB_WAIT_MS * 1000000;
		mb_msg_init(&c.reply, &rep, sizeof(rep), 0, 0);
		if (msgbox_callmsg(fd, &c) || c.reply.len != sizeof(rep) ||
		    rep != req + 1)
			bad++;
	}
	status = mb_reap(pid, 4 * MB_WAIT_MS);
	sched_setaffinity(0, sizeof(all), &all);
	return bad ? -1 : status;
}

/*
 * Across CPUs the waits poll (counted in poll_hits) and every answer is
 * right; with poll_ns 0 nothing polls.  The window is set to its largest,
 * 1 ms, which under emulation is what 50 us is on hardware.
 */
TEST_F(rr, polling_calls_across_cpus_poll_and_get_every_answer)
{
	unsigned long long saved, before;

	if (!have_cpus_0_and_1())
		SKIP(return, "CPUs 0 and 1 not both available");
	if (!mb_param_get("poll_ns", &saved) || !mb_param_set("poll_ns", 1000000))
		SKIP(return, "poll_ns not writable (not root?)");
	before = poll_hits();
	EXPECT_EQ(0, polled_calls(self->fd, 1, 300));
	EXPECT_LT(before, poll_hits());
	EXPECT_GT(~0ULL, poll_hits());

	ASSERT_TRUE(mb_param_set("poll_ns", 0));
	before = poll_hits();
	EXPECT_EQ(0, polled_calls(self->fd, 1, 100));
	EXPECT_EQ(before, poll_hits());
	EXPECT_TRUE(mb_param_set("poll_ns", saved));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
}

/* On one CPU nothing polls (the peer must run): no poll, no loss. */
TEST_F(rr, polling_calls_on_one_cpu_do_not_poll_and_get_every_answer)
{
	unsigned long long before = poll_hits();

	EXPECT_EQ(0, polled_calls(self->fd, 0, 300));
	EXPECT_EQ(before, poll_hits());
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
}

/* MSGBOX_MSG_POLL leaves every wait's outcome as it was. */
TEST_F(rr, polling_waits_end_as_they_would_without_it)
{
	__u32 poll_timed = MSGBOX_MSG_POLL | MSGBOX_MSG_TIMEOUT;
	unsigned long long v;
	struct msgbox_call c;
	struct msgbox_msg m;
	char buf[64];
	int i;

	/* An empty mailbox: EAGAIN at once, ETIMEDOUT after the timeout. */
	mb_msg_init(&m, buf, sizeof(buf), 0, MSGBOX_MSG_POLL | MSGBOX_MSG_NONBLOCK);
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EAGAIN, errno);
	mb_msg_init(&m, buf, sizeof(buf), 0, poll_timed);
	m.timeout_ns = 20000000;
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(ETIMEDOUT, errno);
	/* A full one (16 messages): a polling send times out, the queue intact. */
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, "f", 1, 0));
	mb_msg_init(&m, (void *)"x", 1, 1, poll_timed);
	m.timeout_ns = 20000000;
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(16, mb_nr_msgs(self->fd));
	/* A polling receive takes what is there. */
	mb_msg_init(&m, buf, sizeof(buf), 0, MSGBOX_MSG_POLL);
	EXPECT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(1, m.len);
	while (msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK) >= 0)
		;
	/* A call nobody answers: ETIMEDOUT, polling or not. */
	memset(&c, 0, sizeof(c));
	mb_msg_init(&c.request, (void *)"q", 1, 1, poll_timed);
	c.request.timeout_ns = 20000000;
	mb_msg_init(&c.reply, buf, sizeof(buf), 0, 0);
	EXPECT_EQ(-1, msgbox_callmsg(self->fd, &c));
	EXPECT_EQ(ETIMEDOUT, errno);
	/* NONBLOCK stays refused for a call. */
	c.request.flags |= MSGBOX_MSG_NONBLOCK;
	EXPECT_EQ(-1, msgbox_callmsg(self->fd, &c));
	EXPECT_EQ(EINVAL, errno);
	/* The bound is a parameter of at most 1 ms. */
	if (!mb_param_get("poll_ns", &v))
		SKIP(return, "no poll_ns parameter readable");
	EXPECT_GE(1000000, v);
	EXPECT_FALSE(mb_param_set("poll_ns", 1000001));
}

/*
 * The reply's token is probed writable before the reply goes: on a
 * read-only argument REPLY_RECV fails with EFAULT having answered nothing,
 * and the token still answers.
 */
TEST_F(rr, reply_recv_on_a_read_only_argument_answers_nothing)
{
	struct msgbox_reply_recv *ro;
	char buf[64], rep[2] = "r";
	__u64 token;
	pid_t pid;

	pid = caller_child(self->fd, "one", 8);
	ASSERT_LE(0, pid);
	ASSERT_EQ(3, serve_recv(self->fd, buf, sizeof(buf), &token, 0));
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	rr_init(ro, token, rep, buf, sizeof(buf));
	ro->recv.flags = MSGBOX_MSG_NONBLOCK;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_FALSE(mb_exited(pid, &(int){ 0 }));	/* still waiting */
	EXPECT_EQ(0, msgbox_reply(self->fd, token, "ok", 2));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	munmap(ro, 4096);
}

/* Answering nothing, the reply's other fields must still be 0. */
TEST_F(rr, reply_recv_answering_nothing_still_checks_the_reply)
{
	struct msgbox_reply_recv rr;
	char buf[64];

	ASSERT_EQ(0, msgbox_send(self->fd, "m", 1, 0));
	rr_init(&rr, 0, NULL, buf, sizeof(buf));
	rr.reply.flags = MSGBOX_MSG_POLL;
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(EINVAL, errno);
	rr_init(&rr, 0, NULL, buf, sizeof(buf));
	rr.reply.ttl_ns = 1;
	EXPECT_EQ(-1, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	/* Type, priority and payload are not looked at. */
	rr_init(&rr, 0, NULL, buf, sizeof(buf));
	rr.reply.type = 0;
	rr.reply.priority = MSGBOX_PRIO_MAX + 1;
	rr.reply.data = 1;
	EXPECT_EQ(0, msgbox_reply_recvmsg(self->fd, &rr));
	EXPECT_EQ(1, rr.recv.len);
}

TEST_HARNESS_MAIN
