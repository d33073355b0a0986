// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: sending and receiving: order, boundaries, sizes,
 * read(2)/write(2), ids and sender credentials, argument validation,
 * descriptor direction, capacity and the info counters.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include "msgbox_test.h"

FIXTURE(sr) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
};

/* Default mailbox: 8 messages of up to 128 bytes, 1024 bytes in all. */
FIXTURE_SETUP(sr)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "sr");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 8, 128, 1024, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
}

/* In the harness's parent process: see "Teardown" in msgbox_test.h. */
FIXTURE_TEARDOWN_PARENT(sr)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

static void init_send(struct msgbox_msg *m, const void *buf, size_t len, __s64 type)
{
	memset(m, 0, sizeof(*m));
	m->data = (uintptr_t)buf;
	m->len = len;
	m->type = type;
	m->flags = MSGBOX_MSG_NONBLOCK;
}

static void init_recv(struct msgbox_msg *m, void *buf, size_t size)
{
	memset(m, 0, sizeof(*m));
	m->data = (uintptr_t)buf;
	m->len = size;
	m->flags = MSGBOX_MSG_NONBLOCK;
}

/* Send @len bytes of type @type; 0 (and the id in *@id if wanted) or -1. */
static int send_typed(int fd, const void *buf, size_t len, __s64 type, __u64 *id)
{
	struct msgbox_msg m;

	init_send(&m, buf, len, type);
	if (msgbox_sendmsg(fd, &m))
		return -1;
	if (id)
		*id = m.id;
	return 0;
}

/* ---- order, boundaries, sizes ------------------------------------------ */

TEST_F(sr, messages_come_out_in_fifo_order)
{
	unsigned int i, v;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, &i, sizeof(i), MSGBOX_MSG_NONBLOCK));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(sizeof(v), msgbox_recv(self->fd, &v, sizeof(v), MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ(i, v);
	}
	EXPECT_EQ(-1, msgbox_recv(self->fd, &v, sizeof(v), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(sr, datagram_boundaries_are_preserved)
{
	static const size_t sizes[] = { 1, 128, 17, 0, 64, 2, 127, 3 };
	unsigned char buf[4096];
	unsigned int i;

	for (i = 0; i < 8; i++) {
		mb_fill(buf, sizes[i], i);
		ASSERT_EQ(0, msgbox_send(self->fd, buf, sizes[i], MSGBOX_MSG_NONBLOCK));
	}
	for (i = 0; i < 8; i++) {
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ((ssize_t)sizes[i],
			  msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK))
			TH_LOG("message %u", i);
		EXPECT_TRUE(mb_check(buf, sizes[i], i)) TH_LOG("message %u content", i);
		/* Nothing of the next message leaked in behind it. */
		EXPECT_EQ(0, buf[sizes[i]]);
	}
}

TEST_F(sr, empty_message_is_delivered_as_a_message)
{
	struct msgbox_info info;
	struct msgbox_msg m;
	char buf[8];

	ASSERT_EQ(0, msgbox_send(self->fd, NULL, 0, MSGBOX_MSG_NONBLOCK));
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 0, MSGBOX_MSG_NONBLOCK));
	info = mb_info_of(self->fd);
	EXPECT_EQ(2, info.nr_msgs);
	EXPECT_EQ(0, info.nr_bytes);

	EXPECT_EQ(0, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	/* A zero-sized buffer is big enough for an empty message. */
	init_recv(&m, NULL, 0);
	m.len = 0;
	EXPECT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(0, m.len);
	EXPECT_EQ(MSGBOX_TYPE_DEFAULT, m.type);
	info = mb_info_of(self->fd);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(2, info.received);
}

TEST_F(sr, message_of_exactly_max_msg_size_round_trips)
{
	static unsigned char buf[65536], out[65536];

	ASSERT_EQ(0, mb_recreate(self->name, &self->fd, 4, MSGBOX_DEFAULT_MAX_MSG_SIZE,
				 4 * MSGBOX_DEFAULT_MAX_MSG_SIZE));
	mb_fill(buf, MSGBOX_DEFAULT_MAX_MSG_SIZE, 42);
	ASSERT_EQ(0, msgbox_send(self->fd, buf, MSGBOX_DEFAULT_MAX_MSG_SIZE, 0));
	ASSERT_EQ(MSGBOX_DEFAULT_MAX_MSG_SIZE, msgbox_recv(self->fd, out, sizeof(out), 0));
	EXPECT_TRUE(mb_check(out, MSGBOX_DEFAULT_MAX_MSG_SIZE, 42));

	/* Larger than a page, through read(2)/write(2) too. */
	mb_fill(buf, 5000, 7);
	ASSERT_EQ(5000, write(self->fd, buf, 5000));
	ASSERT_EQ(5000, read(self->fd, out, sizeof(out)));
	EXPECT_TRUE(mb_check(out, 5000, 7));
}

TEST_F(sr, message_of_module_max_size_round_trips)
{
	unsigned long long max;
	unsigned char *buf, *out;
	size_t len;

	if (!mb_param_get("max_msg_size", &max))
		SKIP(return, "max_msg_size not in /sys/module/msgbox/parameters");
	len = max < (16u << 20) ? max : (16u << 20);
	ASSERT_EQ(0, mb_recreate(self->name, &self->fd, 2, len, 2 * len));
	buf = malloc(len);
	out = malloc(len + 1);
	ASSERT_TRUE(buf && out);
	mb_fill(buf, len, 3);
	ASSERT_EQ(0, msgbox_send(self->fd, buf, len, 0)) TH_LOG("%zu bytes: %s", len, strerror(errno));
	mb_fill(buf, len, 4);
	ASSERT_EQ(0, msgbox_send(self->fd, buf, len, 0));
	ASSERT_EQ((ssize_t)len, msgbox_recv(self->fd, out, len + 1, 0));
	EXPECT_TRUE(mb_check(out, len, 3));
	ASSERT_EQ((ssize_t)len, read(self->fd, out, len));
	EXPECT_TRUE(mb_check(out, len, 4));
	free(buf);
	free(out);
}

/* A receive or read that faults delivered nothing: the count says so. */
TEST_F(sr, a_receive_that_faults_is_not_counted_as_a_delivery)
{
	char buf[16], *bad = mmap(NULL, 4096, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct msgbox_msg m;

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, msgbox_send(self->fd, "x", 1, 0));
	init_recv(&m, bad, sizeof(buf));
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, read(self->fd, bad, sizeof(buf)));
	EXPECT_EQ(EFAULT, errno);
	init_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(1, m.len);
	EXPECT_EQ(1, m.deliveries);
	munmap(bad, 4096);
}

TEST_F(sr, payload_is_copied_at_send_time)
{
	char buf[16] = "original";

	ASSERT_EQ(0, msgbox_send(self->fd, buf, 8, 0));
	memcpy(buf, "changed!", 8);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(8, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "original", 8));
}

TEST_F(sr, send_larger_than_max_msg_size_gives_EMSGSIZE)
{
	static char buf[4096];
	struct msgbox_info info;
	struct msgbox_msg m;

	EXPECT_EQ(-1, msgbox_send(self->fd, buf, 129, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, msgbox_send(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, write(self->fd, buf, 129));
	EXPECT_EQ(EMSGSIZE, errno);
	/* A length that cannot be a real buffer: still EMSGSIZE, no overflow. */
	init_send(&m, buf, 1ull << 63, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EMSGSIZE, errno);
	init_send(&m, buf, UINT64_MAX, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EMSGSIZE, errno);
	init_send(&m, buf, (1ull << 32) + 1, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EMSGSIZE, errno);

	info = mb_info_of(self->fd);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(0, info.sent);

	/* Exactly max_msg_size is fine. */
	EXPECT_EQ(0, msgbox_send(self->fd, buf, 128, MSGBOX_MSG_NONBLOCK));
}

TEST_F(sr, recv_with_too_small_buffer_gives_EMSGSIZE_and_keeps_message)
{
	struct msgbox_info info;
	struct msgbox_msg m;
	char buf[32];

	ASSERT_EQ(0, msgbox_send(self->fd, "0123456789", 10, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "next", 4, 0));

	EXPECT_EQ(-1, msgbox_recv(self->fd, buf, 9, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, msgbox_recv(self->fd, buf, 0, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EMSGSIZE, errno);
	init_recv(&m, buf, 1);
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EMSGSIZE, errno);

	info = mb_info_of(self->fd);
	EXPECT_EQ(2, info.nr_msgs);
	EXPECT_EQ(14, info.nr_bytes);
	EXPECT_EQ(0, info.received);

	/* A buffer of exactly the message's size is enough. */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(10, msgbox_recv(self->fd, buf, 10, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(4, msgbox_recv(self->fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "next", 4));
}

TEST_F(sr, recv_len_out_is_message_length)
{
	struct msgbox_msg m;
	char buf[100];

	ASSERT_EQ(0, msgbox_send(self->fd, "abcde", 5, 0));
	init_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(5, m.len);
	EXPECT_EQ(0, memcmp(buf, "abcde", 5));
}

/* ---- read(2) and write(2) ---------------------------------------------- */

TEST_F(sr, write_sends_one_message_of_default_type)
{
	struct msgbox_msg m;
	char buf[32];

	ASSERT_EQ(5, write(self->fd, "hello", 5));
	ASSERT_EQ(3, write(self->fd, "abc", 3));
	EXPECT_EQ(2, mb_info_of(self->fd).nr_msgs);

	init_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(5, m.len);
	EXPECT_EQ(MSGBOX_TYPE_DEFAULT, m.type);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
}

TEST_F(sr, read_returns_one_message_per_call)
{
	char buf[4096];

	ASSERT_EQ(0, msgbox_send(self->fd, "first", 5, 0));
	ASSERT_EQ(0, send_typed(self->fd, "second!", 7, 9, NULL));
	ASSERT_EQ(2, write(self->fd, "3d", 2));

	EXPECT_EQ(5, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "first", 5));
	EXPECT_EQ(7, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "second!", 7));
	EXPECT_EQ(2, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "3d", 2));
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
}

TEST_F(sr, read_with_too_small_buffer_gives_EMSGSIZE_and_keeps_message)
{
	char buf[32];

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	EXPECT_EQ(-1, read(self->fd, buf, 3));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, read(self->fd, buf, 9));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1, mb_info_of(self->fd).nr_msgs);
	EXPECT_EQ(0, mb_info_of(self->fd).received);
	EXPECT_EQ(10, read(self->fd, buf, 10));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
}

TEST_F(sr, read_and_write_with_bad_buffer_give_EFAULT)
{
	void *bad;

	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	EXPECT_EQ(-1, write(self->fd, bad, 10));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
	EXPECT_EQ(0, mb_info_of(self->fd).sent);

	ASSERT_EQ(4, write(self->fd, "data", 4));
	EXPECT_EQ(-1, read(self->fd, bad, 10));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, munmap(bad, 4096));
}

/* ---- ids and sender credentials ---------------------------------------- */

TEST_F(sr, send_ids_increase_and_recv_reports_them)
{
	__u64 ids[6], last = 0;
	struct msgbox_msg m;
	char buf[8];
	int fd2, i;
	pid_t pid;

	fd2 = msgbox_open(self->name, MSGBOX_FD_SEND);
	ASSERT_LE(0, fd2);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, send_typed(i % 2 ? fd2 : self->fd, "x", 1,
					MSGBOX_TYPE_DEFAULT, &ids[i]));
		if (i)
			EXPECT_LT(ids[i - 1], ids[i]);
	}
	/* A send from another process continues the same sequence. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(send_typed(fd2, "c", 1, MSGBOX_TYPE_DEFAULT, &ids[4]) == 0, 10);
		CHILD_CHECK(ids[4] > ids[3], 11);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, send_typed(self->fd, "y", 1, MSGBOX_TYPE_DEFAULT, &ids[5]));

	for (i = 0; i < 6; i++) {
		init_recv(&m, buf, sizeof(buf));
		ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
		EXPECT_LT(last, m.id) TH_LOG("message %d", i);
		if (i != 4)
			EXPECT_EQ(ids[i], m.id) TH_LOG("message %d", i);
		last = m.id;
	}
	EXPECT_EQ(0, close(fd2));
}

TEST_F(sr, recv_reports_credentials_of_forked_sender)
{
	uint64_t t0, t1;
	struct msgbox_msg m;
	char buf[8];
	pid_t pid;

	t0 = mb_now_ns(CLOCK_REALTIME);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_send(self->fd, "kid", 3, 0) == 0, 10);
		_exit(0);
	}
	ASSERT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	t1 = mb_now_ns(CLOCK_REALTIME);

	init_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(3, m.len);
	EXPECT_EQ(pid, m.sender_pid);
	EXPECT_EQ(pid, m.sender_tid);
	EXPECT_EQ(geteuid(), m.sender_uid);
	EXPECT_EQ(getegid(), m.sender_gid);
	EXPECT_EQ(0, m.priority);
	EXPECT_LE(t0, m.send_time_ns);
	EXPECT_GE(t1, m.send_time_ns);
	EXPECT_EQ(0, m.__reserved[0]);
	EXPECT_EQ(0, m.__reserved[1]);
}

struct thread_send {
	int fd;
	pid_t tid;
	int err;
};

static void *thread_sender(void *arg)
{
	struct thread_send *ts = arg;

	ts->tid = gettid();
	ts->err = msgbox_send(ts->fd, "thr", 3, 0) ? errno : 0;
	return NULL;
}

TEST_F(sr, recv_reports_thread_id_of_sending_thread)
{
	struct thread_send ts = { .fd = self->fd };
	struct msgbox_msg m;
	pthread_t thr;
	char buf[8];

	ASSERT_EQ(0, pthread_create(&thr, NULL, thread_sender, &ts));
	ASSERT_EQ(0, pthread_join(thr, NULL));
	ASSERT_EQ(0, ts.err);
	ASSERT_NE(getpid(), ts.tid);

	init_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(getpid(), m.sender_pid);
	EXPECT_EQ(ts.tid, m.sender_tid);
}

TEST_F(sr, sender_credentials_are_the_effective_ids)
{
	struct msgbox_msg m;
	char buf[8];
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to change ids");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Real ids stay 0, effective ones change. */
		CHILD_CHECK(setegid(1234) == 0, 10);
		CHILD_CHECK(seteuid(4321) == 0, 11);
		CHILD_CHECK(msgbox_send(self->fd, "e", 1, 0) == 0, 12);
		_exit(0);
	}
	ASSERT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	init_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(4321, m.sender_uid);
	EXPECT_EQ(1234, m.sender_gid);
	EXPECT_EQ(pid, m.sender_pid);
}

TEST_F(sr, sender_pid_is_seen_through_receiver_pid_namespace)
{
	struct msgbox_msg m;
	int pfd[2], st, i;
	char buf[8];
	pid_t pid, gpid = 0;

	if (geteuid() != 0)
		SKIP(return, "needs root for a pid namespace");
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t g;

		if (unshare(CLONE_NEWPID)) {
			g = -1;		/* no pid namespaces: the test skips */
			CHILD_CHECK(write(pfd[1], &g, sizeof(g)) == sizeof(g), 10);
			_exit(0);
		}
		g = fork();
		CHILD_CHECK(g >= 0, 11);
		if (g == 0) {
			/* pid 1 of a new namespace. */
			CHILD_CHECK(getpid() == 1, 12);
			CHILD_CHECK(msgbox_send(self->fd, "ns", 2, 0) == 0, 13);
			/* Once the test process has taken "ns", receive its
			 * reply: its sender is not visible in this namespace. */
			for (i = 0; i < MB_WAIT_MS; i++, mb_sleep_ms(1)) {
				struct msgbox_info info;

				CHILD_CHECK(msgbox_info(self->fd, &info) == 0, 18);
				if (info.received)
					break;
			}
			init_recv(&m, buf, sizeof(buf));
			m.flags = MSGBOX_MSG_TIMEOUT;
			m.timeout_ns = 10ull * 1000000000;
			CHILD_CHECK(msgbox_recvmsg(self->fd, &m) == 0, 14);
			CHILD_CHECK(m.sender_pid == 0, 15);
			CHILD_CHECK(m.sender_tid == 0, 16);
			_exit(0);
		}
		CHILD_CHECK(write(pfd[1], &g, sizeof(g)) == sizeof(g), 17);
		st = mb_reap(g, MB_WAIT_MS);
		_exit(st);
	}
	close(pfd[1]);
	ASSERT_EQ(sizeof(gpid), read(pfd[0], &gpid, sizeof(gpid)));
	close(pfd[0]);
	if (gpid < 0) {
		mb_reap(pid, MB_WAIT_MS);
		SKIP(return, "pid namespaces unavailable");
	}

	/* The grandchild's send shows its pid in our namespace. */
	init_recv(&m, buf, sizeof(buf));
	m.flags = MSGBOX_MSG_TIMEOUT;
	m.timeout_ns = 10ull * 1000000000;
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(gpid, m.sender_pid);
	EXPECT_EQ(gpid, m.sender_tid);
	EXPECT_NE(1, m.sender_pid);

	ASSERT_EQ(0, msgbox_send(self->fd, "hi", 2, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(sr, sender_uid_unmapped_in_receiver_user_namespace_is_overflowuid)
{
	unsigned int overflow_uid = 65534, overflow_gid = 65534;
	int pfd[2];
	pid_t pid;
	char c;
	FILE *f;

	f = fopen("/proc/sys/kernel/overflowuid", "r");
	if (f) {
		if (fscanf(f, "%u", &overflow_uid) != 1)
			overflow_uid = 65534;
		fclose(f);
	}
	f = fopen("/proc/sys/kernel/overflowgid", "r");
	if (f) {
		if (fscanf(f, "%u", &overflow_gid) != 1)
			overflow_gid = 65534;
		fclose(f);
	}
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg m;
		char buf[8];

		close(pfd[0]);
		/* A new user namespace with no mapping: our uid is unmapped. */
		if (unshare(CLONE_NEWUSER)) {
			c = 's';
			CHILD_CHECK(write(pfd[1], &c, 1) == 1, 10);
			_exit(0);
		}
		c = 'r';
		CHILD_CHECK(write(pfd[1], &c, 1) == 1, 11);
		init_recv(&m, buf, sizeof(buf));
		m.flags = MSGBOX_MSG_TIMEOUT;
		m.timeout_ns = 10ull * 1000000000;
		CHILD_CHECK(msgbox_recvmsg(self->fd, &m) == 0, 12);
		CHILD_CHECK(m.sender_uid == overflow_uid, 13);
		CHILD_CHECK(m.sender_gid == overflow_gid, 14);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	if (c == 's') {
		mb_reap(pid, MB_WAIT_MS);
		SKIP(return, "user namespaces unavailable");
	}
	ASSERT_EQ(0, msgbox_send(self->fd, "u", 1, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/* ---- types, priority, flags, reserved ---------------------------------- */

TEST_F(sr, recv_selector_0_takes_first_message_of_any_type)
{
	static const __s64 types[] = { 3, 1, 7, INT64_MAX, 2 };
	struct msgbox_msg m;
	unsigned int i, v;

	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, send_typed(self->fd, &i, sizeof(i), types[i], NULL))
			TH_LOG("send type %lld: %s", (long long)types[i], strerror(errno));
	for (i = 0; i < 5; i++) {
		init_recv(&m, &v, sizeof(v));
		m.type = 0;
		ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
		EXPECT_EQ(i, v);
		EXPECT_EQ(types[i], m.type);
	}
}

TEST_F(sr, send_type_below_1_gives_EINVAL)
{
	static const __s64 bad[] = { 0, -1, INT64_MIN };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-1, send_typed(self->fd, "x", 1, bad[i], NULL));
		EXPECT_EQ(EINVAL, errno) TH_LOG("type %lld", (long long)bad[i]);
	}
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
	EXPECT_EQ(0, mb_info_of(self->fd).sent);
}

TEST_F(sr, send_priority_above_max_gives_EINVAL)
{
	struct msgbox_msg m;

	init_send(&m, "p", 1, MSGBOX_TYPE_DEFAULT);
	m.priority = MSGBOX_PRIO_MAX + 1;
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EINVAL, errno);
	init_send(&m, "p", 1, MSGBOX_TYPE_DEFAULT);
	m.priority = UINT32_MAX;
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
}

TEST_F(sr, unknown_msg_flags_give_EINVAL)
{
	static const __u32 bad[] = { MSGBOX_MSG_ALL + 1, 1u << 31, ~0u };
	struct msgbox_msg m;
	unsigned int i;
	char buf[8];

	for (i = 0; i < 3; i++) {
		init_send(&m, "f", 1, MSGBOX_TYPE_DEFAULT);
		m.flags = bad[i];
		EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
		EXPECT_EQ(EINVAL, errno) TH_LOG("send flags %#x", bad[i]);
	}
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);

	ASSERT_EQ(0, msgbox_send(self->fd, "r", 1, 0));
	for (i = 0; i < 3; i++) {
		init_recv(&m, buf, sizeof(buf));
		m.flags = bad[i];
		EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
		EXPECT_EQ(EINVAL, errno) TH_LOG("recv flags %#x", bad[i]);
	}
	EXPECT_EQ(1, mb_info_of(self->fd).nr_msgs);
}

TEST_F(sr, nonzero_reserved_gives_EINVAL)
{
	struct msgbox_msg m;
	char buf[8];
	int i;

	for (i = 0; i < 2; i++) {
		init_send(&m, "r", 1, MSGBOX_TYPE_DEFAULT);
		m.__reserved[i] = 1;
		EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
		EXPECT_EQ(EINVAL, errno) TH_LOG("send __reserved[%d]", i);
	}
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);

	ASSERT_EQ(0, msgbox_send(self->fd, "r", 1, 0));
	for (i = 0; i < 2; i++) {
		init_recv(&m, buf, sizeof(buf));
		m.__reserved[i] = 1ull << 63;
		EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
		EXPECT_EQ(EINVAL, errno) TH_LOG("recv __reserved[%d]", i);
	}
	EXPECT_EQ(1, mb_info_of(self->fd).nr_msgs);
}

TEST_F(sr, send_with_bad_data_pointer_gives_EFAULT_and_queues_nothing)
{
	struct msgbox_msg m;
	void *bad;

	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	init_send(&m, bad, 16, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EFAULT, errno);
	init_send(&m, NULL, 16, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);
	EXPECT_EQ(0, mb_info_of(self->fd).sent);
	EXPECT_EQ(0, munmap(bad, 4096));
}

/*
 * Not in the uapi header but promised by the module (msgbox_requeue): a
 * receive whose copy-out faults gives the message back, so nothing is lost.
 */
TEST_F(sr, recv_into_bad_buffer_gives_EFAULT_and_loses_nothing)
{
	struct msgbox_info info;
	struct msgbox_msg m;
	__u64 id, id2;
	char buf[16];
	void *bad;

	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, send_typed(self->fd, "first", 5, 4, &id));
	ASSERT_EQ(0, send_typed(self->fd, "second", 6, 1, &id2));

	init_recv(&m, bad, 16);
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, read(self->fd, bad, 16));
	EXPECT_EQ(EFAULT, errno);

	info = mb_info_of(self->fd);
	EXPECT_EQ(2, info.nr_msgs);
	EXPECT_EQ(11, info.nr_bytes);
	EXPECT_EQ(0, info.received);

	/* Still first in line, with its id and type. */
	init_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(5, m.len);
	EXPECT_EQ(0, memcmp(buf, "first", 5));
	EXPECT_EQ(id, m.id);
	EXPECT_EQ(4, m.type);
	init_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(6, m.len);
	EXPECT_EQ(id2, m.id);
	EXPECT_EQ(0, munmap(bad, 4096));
}

/*
 * Short payloads cross word by word, then byte by byte: every length from
 * 0 to past the word-copy bound (MSGBOX_SHORT_COPY, 256), from and into
 * buffers at many alignments, arrives intact, through the ioctls and
 * through read(2)/write(2); nothing is read past the end of the source
 * (it ends where an unmapped page starts) and nothing lands past the
 * length in the destination.
 */
TEST(every_length_to_300_bytes_crosses_intact_at_any_alignment)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char src[300 + 8], dst[300 + 16];
	unsigned char *g, *edge;
	struct msgbox_attr a;
	size_t len, i;
	int fd;

	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	g = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g);
	ASSERT_EQ(0, mprotect(g + page, page, PROT_NONE));
	msgbox_attr_init(&a);
	a.max_msgs = 2;
	a.max_msg_size = 300;
	a.max_bytes = 600;
	fd = msgbox_create_anon(&a, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
	ASSERT_LE(0, fd);
	for (len = 0; len <= 300; len++) {
		/* Offsets independent of the length's tail: 64 pairs. */
		unsigned int so = (len / 8) % 8, ro = 1 + (len / 64 + len) % 8;

		edge = g + page - len;	/* its last byte ends the mapping */
		mb_fill(src + so, len, len);
		mb_fill(edge, len, len + 1);
		memset(dst, 0xa5, sizeof(dst));
		ASSERT_EQ(0, msgbox_send(fd, src + so, len, MSGBOX_MSG_NONBLOCK));
		ASSERT_EQ((ssize_t)len, msgbox_recv(fd, dst + ro, len,
						     MSGBOX_MSG_NONBLOCK))
			TH_LOG("length %zu", len);
		EXPECT_TRUE(mb_check(dst + ro, len, len)) TH_LOG("length %zu", len);
		for (i = 0; i < sizeof(dst); i++)
			if (i < ro || i >= ro + len)
				ASSERT_EQ(0xa5, dst[i]) TH_LOG("length %zu: byte %zu", len, i);
		if (!len)
			continue;	/* write(2) of nothing sends nothing */
		/* From the edge of the mapping, back into it. */
		ASSERT_EQ((ssize_t)len, write(fd, edge, len)) TH_LOG("length %zu", len);
		memset(edge, 0, len);
		ASSERT_EQ((ssize_t)len, read(fd, edge, len)) TH_LOG("length %zu", len);
		EXPECT_TRUE(mb_check(edge, len, len + 1)) TH_LOG("length %zu", len);
		memset(dst, 0xa5, sizeof(dst));
		ASSERT_EQ((ssize_t)len, write(fd, src + so, len));
		ASSERT_EQ((ssize_t)len, read(fd, dst + ro, len)) TH_LOG("length %zu", len);
		EXPECT_TRUE(mb_check(dst + ro, len, len)) TH_LOG("length %zu", len);
		for (i = 0; i < sizeof(dst); i++)
			if (i < ro || i >= ro + len)
				ASSERT_EQ(0xa5, dst[i]) TH_LOG("length %zu: byte %zu", len, i);
	}
	EXPECT_EQ(0, mb_nr_msgs(fd));
	close(fd);
	EXPECT_EQ(0, munmap(g, 2 * page));
}

/*
 * A buffer whose last bytes lie in an unmapped page faults partway through
 * the copy (inside a word, or in the bytes after the last word): a send
 * then sends nothing, and a receive keeps the message.
 */
TEST_F(sr, a_fault_partway_through_a_payload_sends_or_takes_nothing)
{
	static const unsigned int readable[] = { 90, 97 };
	long page = sysconf(_SC_PAGESIZE);
	unsigned char good[100];
	unsigned char *p, *edge;
	struct msgbox_msg m;
	unsigned int k;

	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + page, page, PROT_NONE));
	for (k = 0; k < 2; k++) {
		edge = p + page - readable[k];	/* 100 bytes from here fault */
		mb_fill(edge, readable[k], 1);
		init_send(&m, edge, 100, MSGBOX_TYPE_DEFAULT);
		EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(-1, write(self->fd, edge, 100));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(k, mb_info_of(self->fd).sent);
		EXPECT_EQ(0, mb_nr_msgs(self->fd));

		mb_fill(good, sizeof(good), 2 + k);
		ASSERT_EQ(0, msgbox_send(self->fd, good, sizeof(good), MSGBOX_MSG_NONBLOCK));
		init_recv(&m, edge, 100);
		EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(-1, read(self->fd, edge, 100));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(1, mb_nr_msgs(self->fd));
		EXPECT_EQ(k, mb_info_of(self->fd).received);

		memset(good, 0, sizeof(good));
		ASSERT_EQ(100, msgbox_recv(self->fd, good, sizeof(good), MSGBOX_MSG_NONBLOCK));
		EXPECT_TRUE(mb_check(good, sizeof(good), 2 + k));
		/* The sent count only moves for the good one. */
		EXPECT_EQ(k + 1, mb_info_of(self->fd).sent);
	}
	EXPECT_EQ(0, munmap(p, 2 * page));
}

/* ---- descriptor direction ---------------------------------------------- */

TEST_F(sr, send_only_fd_cannot_receive_EBADF)
{
	struct msgbox_msg m;
	char buf[8];
	int fd;

	fd = msgbox_open(self->name, MSGBOX_FD_SEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "s", 1, 0));

	EXPECT_EQ(-1, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	init_recv(&m, buf, sizeof(buf));
	m.flags = 0;	/* would block if it got that far */
	EXPECT_EQ(-1, msgbox_recvmsg(fd, &m));
	EXPECT_EQ(EBADF, errno);

	/* INFO needs no direction. */
	EXPECT_EQ(1, mb_info_of(fd).nr_msgs);
	EXPECT_EQ(0, close(fd));
}

TEST_F(sr, recv_only_fd_cannot_send_EBADF)
{
	struct msgbox_msg m;
	char buf[8];
	int fd;

	fd = msgbox_open(self->name, MSGBOX_FD_RECV);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, msgbox_send(fd, "r", 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, write(fd, "r", 1));
	EXPECT_EQ(EBADF, errno);
	init_send(&m, "r", 1, MSGBOX_TYPE_DEFAULT);
	EXPECT_EQ(-1, msgbox_sendmsg(fd, &m));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, mb_info_of(fd).nr_msgs);
	EXPECT_EQ(0, mb_info_of(fd).sent);

	ASSERT_EQ(0, msgbox_send(self->fd, "ok", 2, 0));
	EXPECT_EQ(2, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, close(fd));
}

/* ---- capacity ---------------------------------------------------------- */

TEST_F(sr, capacity_by_count_full_then_EAGAIN)
{
	struct msgbox_info info;
	unsigned int i, v;

	ASSERT_EQ(0, mb_recreate(self->name, &self->fd, 4, 16, 1024));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, &i, sizeof(i), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(-1, msgbox_send(self->fd, &i, sizeof(i), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	/* Even an empty message needs a slot. */
	EXPECT_EQ(-1, msgbox_send(self->fd, NULL, 0, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	info = mb_info_of(self->fd);
	EXPECT_EQ(4, info.nr_msgs);
	EXPECT_EQ(4, info.sent);

	/* One out makes room for exactly one. */
	ASSERT_EQ(sizeof(v), msgbox_recv(self->fd, &v, sizeof(v), 0));
	EXPECT_EQ(0, v);
	EXPECT_EQ(0, msgbox_send(self->fd, &i, sizeof(i), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(-1, msgbox_send(self->fd, &i, sizeof(i), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	for (i = 1; i <= 4; i++) {
		ASSERT_EQ(sizeof(v), msgbox_recv(self->fd, &v, sizeof(v), 0));
		EXPECT_EQ(i, v);
	}
}

TEST_F(sr, capacity_by_bytes_full_then_EAGAIN)
{
	static char buf[100];
	struct msgbox_info info;
	int fd;

	ASSERT_EQ(0, mb_recreate(self->name, &self->fd, 100, 100, 250));
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 100, MSGBOX_MSG_NONBLOCK));
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 100, MSGBOX_MSG_NONBLOCK));
	/* 51 bytes do not fit in the 50 left, 50 do: exactly full. */
	EXPECT_EQ(-1, msgbox_send(self->fd, buf, 51, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, msgbox_send(self->fd, buf, 50, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(-1, msgbox_send(self->fd, buf, 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	fd = msgbox_open(self->name, MSGBOX_FD_SEND | MSGBOX_FD_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, write(fd, buf, 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, close(fd));
	info = mb_info_of(self->fd);
	EXPECT_EQ(3, info.nr_msgs);
	EXPECT_EQ(250, info.nr_bytes);
	EXPECT_EQ(3, info.sent);

	ASSERT_EQ(100, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, msgbox_send(self->fd, buf, 100, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(-1, msgbox_send(self->fd, buf, 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(250, mb_info_of(self->fd).nr_bytes);
}

TEST_F(sr, info_counters_track_sends_and_receives)
{
	struct msgbox_info info;
	static char buf[128];
	size_t total = 0;
	unsigned int i;

	for (i = 1; i <= 6; i++) {
		ASSERT_EQ(0, msgbox_send(self->fd, buf, i * 10, 0));
		total += i * 10;
		info = mb_info_of(self->fd);
		EXPECT_EQ(i, info.nr_msgs);
		EXPECT_EQ(total, info.nr_bytes);
		EXPECT_EQ(i, info.sent);
		EXPECT_EQ(0, info.received);
	}
	for (i = 1; i <= 4; i++) {
		ASSERT_EQ((ssize_t)i * 10, msgbox_recv(self->fd, buf, sizeof(buf), 0));
		total -= i * 10;
		info = mb_info_of(self->fd);
		EXPECT_EQ(6 - i, info.nr_msgs);
		EXPECT_EQ(total, info.nr_bytes);
		EXPECT_EQ(6, info.sent);
		EXPECT_EQ(i, info.received);
	}
	/* Counters are per mailbox, whatever the descriptor. */
	{
		int fd2 = msgbox_open(self->name, MSGBOX_FD_RECV);

		ASSERT_LE(0, fd2);
		info = mb_info_of(fd2);
		EXPECT_EQ(2, info.nr_msgs);
		EXPECT_EQ(110, info.nr_bytes);
		EXPECT_EQ(6, info.sent);
		EXPECT_EQ(4, info.received);
		EXPECT_EQ(0, info.recv_waiters);
		EXPECT_EQ(0, info.send_waiters);
		EXPECT_EQ(0, close(fd2));
	}
}

TEST_HARNESS_MAIN
