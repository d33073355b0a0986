// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: fault injection.  Each operation is run again and
 * again with /proc/thread-self/fail-nth armed at 1, 2, 3...: the N-th
 * fault point the system call meets (a slab allocation with FAILSLAB, a
 * user copy with FAULT_INJECTION_USERCOPY) fails.  For every N until the
 * call meets fewer than N points, a failed call must return a clean errno
 * (ENOMEM or EFAULT) and leave the state as it was: no message lost,
 * duplicated or half-sent, no descriptor, charge or subscription left
 * behind.  A call that succeeds although a point failed (a failure the
 * kernel absorbed, e.g. kmemleak's metadata) must have fully happened.
 * The runner scans kmemleak at the end: no error path may leak.
 *
 * Needs CONFIG_FAULT_INJECTION (the debug kernel): on kernels without
 * fail-nth every test is skipped.  Each test prints the fault points it
 * walked ("# fault points: ...").
 */
#include <dirent.h>
#include "msgbox_test.h"

/* No operation here meets more fault points than that. */
#define NTH_MAX		5000
#define DEBUGFS		"/sys/kernel/debug/"

FIXTURE(ft) {
	char name[32];		/* unique to this test */
	char name2[40];		/* a second mailbox, when one is needed */
	int nth;		/* /proc/thread-self/fail-nth */
	int ctl;		/* /dev/msgbox */
};

FIXTURE_SETUP(ft)
{
	self->nth = self->ctl = -1;
	mb_make_name(self->name, sizeof(self->name), "ft");
	snprintf(self->name2, sizeof(self->name2), "%s-2", self->name);
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (self->nth < 0)
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	/*
	 * GFP_KERNEL allocations are spared unless told otherwise, and
	 * every injected fault would dump a stack trace on the console,
	 * where the runner looks for kernel reports.
	 */
	mb_knob(DEBUGFS "failslab/ignore-gfp-wait", "N");
	mb_knob(DEBUGFS "failslab/verbose", "0");
	mb_knob(DEBUGFS "fail_usercopy/verbose", "0");
	mb_knob(DEBUGFS "fail_page_alloc/verbose", "0");
	self->ctl = open(MSGBOX_DEVICE, O_RDWR);
	ASSERT_LE(0, self->ctl);
}

FIXTURE_TEARDOWN_PARENT(ft)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
	EXPECT_EQ(0, mb_destroy_quiet(self->name2));
}

static bool clean_errno(int e)
{
	return e == ENOMEM || e == EFAULT;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

static unsigned long long param(const char *p)
{
	unsigned long long v = ~0ull;

	mb_param_get(p, &v);
	return v;
}

static void report(const char *what, int points)
{
	printf("# fault points: %s %d\n", what, points);
	fflush(stdout);
}

/* A struct msgbox_msg for @len bytes at @buf. */
static struct msgbox_msg msg_of(void *buf, size_t len, __u32 flags)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = len;
	m.type = 1;
	m.flags = flags;
	return m;
}

/* Receive one message without waiting; its length, or -1. */
static ssize_t take(int fd, void *buf, size_t size)
{
	return msgbox_recv(fd, buf, size, MSGBOX_MSG_NONBLOCK);
}

TEST_F_TIMEOUT(ft, create_fails_cleanly_at_every_fault_point, 600)
{
	static const __u32 flags[] = {
		0, MSGBOX_CREATE_EPHEMERAL, MSGBOX_CREATE_ANON,
		MSGBOX_CREATE_TOPIC,
	};
	int total = 0;

	for (size_t v = 0; v < ARRAY_SIZE(flags); v++) {
		unsigned long long boxes0 = param("total_mailboxes");
		unsigned long long bytes0 = param("total_bytes");
		int fds0 = count_fds(), n, r, e;
		struct msgbox_create c;
		bool fired;

		for (n = 1; n < NTH_MAX; n++) {
			memset(&c, 0, sizeof(c));
			c.max_msgs = 4;
			c.max_msg_size = 64;
			c.max_bytes = 256;
			c.fd_flags = MB_RW;
			c.flags = flags[v];
			c.mode = 0600;
			if (!(flags[v] & MSGBOX_CREATE_ANON))
				strcpy(c.name, self->name);
			ASSERT_EQ(0, mb_fi_arm(self->nth, n));
			r = ioctl(self->ctl, MSGBOX_IOC_CREATE, &c);
			e = errno;
			fired = mb_fi_fired(self->nth);
			if (r < 0) {
				ASSERT_TRUE(fired) TH_LOG("flags %#x: %s", flags[v], strerror(e));
				ASSERT_TRUE(clean_errno(e)) TH_LOG("flags %#x point %d: errno %d", flags[v], n, e);
				/* Nothing left: no name, no charge, no descriptor. */
				ASSERT_EQ(fds0, count_fds());
				ASSERT_EQ(boxes0, param("total_mailboxes"));
				ASSERT_EQ(bytes0, param("total_bytes"));
				ASSERT_EQ(-1, msgbox_open(self->name, MB_RW));
				ASSERT_EQ(ENOENT, errno);
				continue;
			}
			ASSERT_EQ(boxes0 + 1, param("total_mailboxes"));
			ASSERT_EQ(0, msgbox_send(r, "x", 1, MSGBOX_MSG_NONBLOCK));
			if (!(flags[v] & MSGBOX_CREATE_ANON))
				ASSERT_EQ(0, msgbox_destroy(self->name));
			close(r);
			ASSERT_EQ(boxes0, param("total_mailboxes"));
			if (!fired)
				break;
		}
		ASSERT_LT(1, n);
		ASSERT_LT(n, NTH_MAX);
		total += n - 1;
	}
	report("create", total);
}

TEST_F_TIMEOUT(ft, open_and_inbox_fail_cleanly_at_every_fault_point, 600)
{
	struct msgbox_attr attr;
	int total = 0, n, r, e;
	bool fired;

	for (int ephemeral = 0; ephemeral < 2; ephemeral++) {
		int fd, fds0;

		msgbox_attr_init(&attr);
		attr.max_msgs = 4;
		attr.flags = ephemeral ? MSGBOX_CREATE_EPHEMERAL : 0;
		fd = msgbox_create(self->name, &attr, MB_RW);
		ASSERT_LE(0, fd);
		fds0 = count_fds();
		for (n = 1; n < NTH_MAX; n++) {
			struct msgbox_open o = { .fd_flags = MB_RW };

			strcpy(o.name, self->name);
			ASSERT_EQ(0, mb_fi_arm(self->nth, n));
			r = ioctl(self->ctl, MSGBOX_IOC_OPEN, &o);
			e = errno;
			fired = mb_fi_fired(self->nth);
			if (r < 0) {
				ASSERT_TRUE(fired);
				ASSERT_TRUE(clean_errno(e)) TH_LOG("point %d: errno %d", n, e);
				ASSERT_EQ(fds0, count_fds());
				continue;
			}
			ASSERT_EQ(0, msgbox_send(r, "o", 1, MSGBOX_MSG_NONBLOCK));
			ASSERT_EQ(1, take(fd, &e, sizeof(e)));
			close(r);
			if (!fired)
				break;
		}
		ASSERT_LT(1, n);
		total += n - 1;
		close(fd);
		/*
		 * A failed open must not have counted a descriptor: the
		 * ephemeral mailbox went with the last real one.
		 */
		if (ephemeral) {
			EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
			EXPECT_EQ(ENOENT, errno);
		} else {
			ASSERT_EQ(0, msgbox_destroy(self->name));
		}
	}

	/* The process inbox: a failed creation leaves no inbox behind. */
	for (n = 1; n < NTH_MAX; n++) {
		struct msgbox_create c = {
			.max_msgs = 4, .max_msg_size = 64, .max_bytes = 256,
			.fd_flags = MSGBOX_FD_RECV, .mode = 0600,
		};
		int fds0 = count_fds();

		ASSERT_EQ(0, mb_fi_arm(self->nth, n));
		r = ioctl(self->ctl, MSGBOX_IOC_INBOX, &c);
		e = errno;
		fired = mb_fi_fired(self->nth);
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(clean_errno(e)) TH_LOG("inbox point %d: errno %d", n, e);
			ASSERT_EQ(fds0, count_fds());
			ASSERT_EQ(-1, msgbox_open_inbox(getpid(), MSGBOX_FD_SEND));
			ASSERT_EQ(ESRCH, errno);
			continue;
		}
		close(r);
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	total += n - 1;
	report("open+inbox", total);
}

TEST_F_TIMEOUT(ft, send_and_write_fail_cleanly_at_every_fault_point, 600)
{
	/* A slab payload, a kmalloc one and a vmalloc one. */
	static const size_t sizes[] = { 16, 1000, 8192 };
	static char buf[8192], out[8192];
	int fd, total = 0;

	fd = mb_create(self->name, 8, sizeof(buf), 8 * sizeof(buf), MB_RW);
	ASSERT_LE(0, fd);
	for (int how = 0; how < 3; how++) {
		for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
			size_t len = sizes[s];
			unsigned int seq = how * 16 + s;
			struct msgbox_info i0, i1;
			struct msgbox_msg m;
			int n, r, e;
			bool fired;

			for (n = 1; n < NTH_MAX; n++) {
				mb_fill(buf, len, seq);
				memset(out, 0, sizeof(out));
				i0 = mb_info_of(fd);
				ASSERT_EQ(0, i0.nr_msgs);
				m = msg_of(buf, len, how == 2 ? MSGBOX_MSG_TRACK : 0);
				ASSERT_EQ(0, mb_fi_arm(self->nth, n));
				if (how == 0)
					r = write(fd, buf, len) == (ssize_t)len ? 0 : -1;
				else
					r = ioctl(fd, MSGBOX_IOC_SEND, &m);
				e = errno;
				fired = mb_fi_fired(self->nth);
				i1 = mb_info_of(fd);
				if (r < 0) {
					ASSERT_TRUE(fired);
					ASSERT_TRUE(clean_errno(e)) TH_LOG("how %d len %zu point %d: errno %d", how, len, n, e);
					/* Not sent, not even half. */
					ASSERT_EQ(0, i1.nr_msgs);
					ASSERT_EQ(i0.sent, i1.sent);
					continue;
				}
				ASSERT_EQ(1, i1.nr_msgs);
				ASSERT_EQ(i0.sent + 1, i1.sent);
				ASSERT_EQ((ssize_t)len, take(fd, out, sizeof(out)));
				ASSERT_TRUE(mb_check(out, len, seq));
				if (!fired)
					break;
			}
			ASSERT_LT(1, n);
			total += n - 1;
		}
	}
	close(fd);
	report("send", total);
}

TEST_F_TIMEOUT(ft, receive_and_read_fail_cleanly_at_every_fault_point, 600)
{
	static const size_t sizes[] = { 16, 8192 };
	static char buf[8192], out[8192];
	unsigned int seq = 0;
	int fd, total = 0;

	fd = mb_create(self->name, 8, sizeof(buf), 8 * sizeof(buf), MB_RW);
	ASSERT_LE(0, fd);
	/* how: 0 read(2), 1 RECV, 2 RECV|PEEK, 3 RECV|ACK, 4 RECV|TRUNC */
	for (int how = 0; how < 5; how++) {
		for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
			size_t len = sizes[s];
			struct msgbox_info i0, i1;
			struct msgbox_msg m;
			bool queued = false, fired;
			int n, r, e;

			for (n = 1; n < NTH_MAX; n++) {
				__u32 fl = (__u32[]){ 0, 0, MSGBOX_MSG_PEEK,
						      MSGBOX_MSG_ACK,
						      MSGBOX_MSG_TRUNC }[how];
				size_t room = how == 4 ? len / 2 : sizeof(out);

				if (!queued) {
					mb_fill(buf, len, ++seq);
					ASSERT_EQ(0, msgbox_send(fd, buf, len, MSGBOX_MSG_NONBLOCK));
					queued = true;
				}
				memset(out, 0, sizeof(out));
				m = msg_of(out, room, fl | MSGBOX_MSG_NONBLOCK);
				m.type = 0;
				i0 = mb_info_of(fd);
				ASSERT_EQ(1, i0.nr_msgs);
				ASSERT_EQ(0, mb_fi_arm(self->nth, n));
				if (how == 0)
					r = read(fd, out, room) == (ssize_t)len ? 0 : -1;
				else
					r = ioctl(fd, MSGBOX_IOC_RECV, &m);
				e = errno;
				fired = mb_fi_fired(self->nth);
				i1 = mb_info_of(fd);
				if (r < 0) {
					ASSERT_TRUE(fired);
					ASSERT_TRUE(clean_errno(e)) TH_LOG("how %d len %zu point %d: errno %d", how, len, n, e);
					/* Still queued, in place, not in flight. */
					ASSERT_EQ(1, i1.nr_msgs);
					ASSERT_EQ(0, i1.in_flight);
					ASSERT_EQ(i0.received, i1.received);
					/*
					 * No memory is no fault of the buffer: the
					 * caller got nothing of what it will see
					 * again (no duplicate after redelivery).
					 */
					if (e == ENOMEM)
						for (size_t k = 0; k < len; k++)
							ASSERT_EQ(0, out[k]) TH_LOG("how %d point %d", how, n);
					continue;
				}
				ASSERT_TRUE(mb_check(out, how == 4 ? room : len, seq));
				if (how)
					ASSERT_EQ(len, m.len);
				if (how == 2) {
					ASSERT_EQ(1, i1.nr_msgs);	/* peeked */
				} else {
					ASSERT_EQ(0, i1.nr_msgs);
					ASSERT_EQ(i0.received + 1, i1.received);
					queued = false;
				}
				if (how == 3) {
					ASSERT_EQ(1, i1.in_flight);
					ASSERT_EQ(1, m.deliveries);
					ASSERT_EQ(0, msgbox_ack(fd, m.id));
				}
				if (!fired)
					break;
			}
			ASSERT_LT(1, n);
			total += n - 1;
			if (queued) {
				ASSERT_EQ((ssize_t)len, take(fd, out, sizeof(out)));
				ASSERT_TRUE(mb_check(out, len, seq));
			}
			ASSERT_EQ(0, mb_info_of(fd).nr_msgs);
			ASSERT_EQ(0, mb_info_of(fd).in_flight);
		}
	}
	close(fd);
	report("receive", total);
}

/* A server answering "q<seq>" with "r<seq>" until it gets type 2. */
static void serve(int fd, int *served)
{
	char req[32], rep[32];

	for (;;) {
		struct msgbox_msg m = msg_of(req, sizeof(req), MSGBOX_MSG_TIMEOUT);

		m.type = 0;
		m.timeout_ns = MB_WAIT_MS * 1000000ull;
		memset(req, 0, sizeof(req));
		CHILD_CHECK(msgbox_recvmsg(fd, &m) == 0, 2);
		if (m.type == 2)
			_exit(0);
		CHILD_CHECK(m.token != 0 && req[0] == 'q', 3);
		memcpy(rep, req, sizeof(rep));
		rep[0] = 'r';
		__atomic_add_fetch(served, 1, __ATOMIC_SEQ_CST);
		CHILD_CHECK(msgbox_reply(fd, m.token, rep, m.len) == 0, 4);
	}
}

TEST_F_TIMEOUT(ft, call_fails_cleanly_at_every_fault_point, 600)
{
	int *served, fd, n, r, e;
	char req[32], rep[32];
	struct msgbox_call c;
	bool fired;
	pid_t pid;

	served = mmap(NULL, sizeof(*served), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, served);
	fd = mb_create(self->name, 4, 32, 128, MB_RW);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		serve(fd, served);

	for (n = 1; n < NTH_MAX; n++) {
		int before = __atomic_load_n(served, __ATOMIC_SEQ_CST);

		ASSERT_EQ(0, mb_wait_waiters(fd, 1, 0));
		snprintf(req, sizeof(req), "q%d", n);
		memset(rep, 0, sizeof(rep));
		memset(&c, 0, sizeof(c));
		c.request = msg_of(req, strlen(req) + 1, MSGBOX_MSG_TIMEOUT);
		c.request.timeout_ns = MB_WAIT_MS * 1000000ull;
		c.reply.data = (uintptr_t)rep;
		c.reply.len = sizeof(rep);
		ASSERT_EQ(0, mb_fi_arm(self->nth, n));
		r = ioctl(fd, MSGBOX_IOC_CALL, &c);
		e = errno;
		fired = mb_fi_fired(self->nth);
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(clean_errno(e)) TH_LOG("point %d: errno %d", n, e);
			/*
			 * Nothing left queued; an allocation failure comes
			 * before the request is sent.  A fault copying the
			 * reply out comes after the server answered.
			 */
			ASSERT_EQ(0, mb_wait_waiters(fd, 1, 0));
			ASSERT_EQ(0, mb_info_of(fd).nr_msgs);
			if (e == ENOMEM)
				ASSERT_EQ(before, __atomic_load_n(served, __ATOMIC_SEQ_CST));
			continue;
		}
		ASSERT_EQ(before + 1, __atomic_load_n(served, __ATOMIC_SEQ_CST));
		ASSERT_EQ('r', rep[0]);
		ASSERT_EQ(0, strcmp(req + 1, rep + 1));
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	report("call", n - 1);
	/* Type 2 stops the server. */
	c.request = msg_of("", 0, 0);
	c.request.type = 2;
	ASSERT_EQ(0, msgbox_sendmsg(fd, &c.request));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(fd);
}

TEST_F_TIMEOUT(ft, reply_fails_cleanly_at_every_fault_point_and_the_caller_gets_it, 600)
{
	int fd, n, r, e, seq = 0;
	char req[32], rep[32];
	struct msgbox_msg m, q;
	bool pending = false, fired;
	pid_t pid;

	fd = mb_create(self->name, 4, 32, 128, MB_RW);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Call until the answer says "last"; each answer must match. */
		for (int i = 1; ; i++) {
			char a[32], b[32];
			ssize_t got;

			snprintf(a, sizeof(a), "q%d", i);
			memset(b, 0, sizeof(b));
			got = msgbox_call(fd, a, strlen(a) + 1, b, sizeof(b),
					  MSGBOX_FOREVER);
			CHILD_CHECK(got > 0, 2);
			if (!strcmp(b, "last"))
				_exit(0);
			CHILD_CHECK(b[0] == 'r' && !strcmp(a + 1, b + 1), 3);
		}
	}
	for (n = 1; n < NTH_MAX; n++) {
		if (!pending) {
			q = msg_of(req, sizeof(req), MSGBOX_MSG_TIMEOUT);
			q.type = 0;
			q.timeout_ns = MB_WAIT_MS * 1000000ull;
			ASSERT_EQ(0, msgbox_recvmsg(fd, &q));
			ASSERT_NE(0, q.token);
			ASSERT_EQ(++seq, atoi(req + 1));
			pending = true;
		}
		memcpy(rep, req, sizeof(rep));
		rep[0] = 'r';
		m = msg_of(rep, q.len, 0);
		m.token = q.token;
		ASSERT_EQ(0, mb_fi_arm(self->nth, n));
		r = ioctl(fd, MSGBOX_IOC_REPLY, &m);
		e = errno;
		fired = mb_fi_fired(self->nth);
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(clean_errno(e)) TH_LOG("point %d: errno %d", n, e);
			continue;	/* the token stays: reply again */
		}
		pending = false;
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	report("reply", n - 1);
	q = msg_of(req, sizeof(req), MSGBOX_MSG_TIMEOUT);
	q.type = 0;
	q.timeout_ns = MB_WAIT_MS * 1000000ull;
	ASSERT_EQ(0, msgbox_recvmsg(fd, &q));
	ASSERT_EQ(0, msgbox_reply(fd, q.token, "last", 5));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(fd);
}

TEST_F_TIMEOUT(ft, subscribe_and_publish_fail_cleanly_at_every_fault_point, 600)
{
	struct msgbox_subscribe sa = { .fd_flags = MSGBOX_FD_RECV };
	struct msgbox_attr attr;
	int t, a, b, n, r, e, fds0, total = 0;
	char buf[64], out[64];
	bool fired;

	msgbox_attr_init(&attr);
	attr.max_msgs = 4;
	attr.max_msg_size = 64;
	attr.max_bytes = 256;
	attr.flags = MSGBOX_CREATE_TOPIC;
	t = msgbox_create(self->name, &attr, MB_RW);
	ASSERT_LE(0, t);
	fds0 = count_fds();
	for (n = 1; n < NTH_MAX; n++) {
		ASSERT_EQ(0, mb_fi_arm(self->nth, n));
		r = ioctl(t, MSGBOX_IOC_SUBSCRIBE, &sa);
		e = errno;
		fired = mb_fi_fired(self->nth);
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(clean_errno(e)) TH_LOG("subscribe point %d: errno %d", n, e);
			ASSERT_EQ(0, mb_info_of(t).subscribers);
			ASSERT_EQ(fds0, count_fds());
			continue;
		}
		ASSERT_EQ(1, mb_info_of(t).subscribers);
		close(r);
		ASSERT_EQ(0, mb_info_of(t).subscribers);
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	total += n - 1;

	a = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	b = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	for (n = 1; n < NTH_MAX; n++) {
		struct msgbox_msg m;

		mb_fill(buf, sizeof(buf), n);
		m = msg_of(buf, sizeof(buf), MSGBOX_MSG_NONBLOCK);
		ASSERT_EQ(0, mb_fi_arm(self->nth, n));
		r = ioctl(t, MSGBOX_IOC_SEND, &m);
		e = errno;
		fired = mb_fi_fired(self->nth);
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(clean_errno(e)) TH_LOG("publish point %d: errno %d", n, e);
			/* All or nothing. */
			ASSERT_EQ(0, mb_info_of(a).nr_msgs);
			ASSERT_EQ(0, mb_info_of(b).nr_msgs);
			continue;
		}
		ASSERT_EQ(1, mb_info_of(a).nr_msgs);
		ASSERT_EQ(1, mb_info_of(b).nr_msgs);
		ASSERT_EQ((ssize_t)sizeof(out), take(a, out, sizeof(out)));
		ASSERT_TRUE(mb_check(out, sizeof(out), n));
		ASSERT_EQ((ssize_t)sizeof(out), take(b, out, sizeof(out)));
		ASSERT_TRUE(mb_check(out, sizeof(out), n));
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	total += n - 1;
	close(a);
	close(b);
	close(t);
	report("subscribe+publish", total);
}

TEST_F_TIMEOUT(ft, ack_nack_extend_fail_cleanly_at_every_fault_point, 600)
{
	static const __u32 how[] = { 0, MSGBOX_ACK_NACK, MSGBOX_ACK_EXTEND };
	int fd, v, total = 0;

	fd = mb_create(self->name, 4, 32, 128, MB_RW);
	ASSERT_LE(0, fd);
	for (size_t h = 0; h < ARRAY_SIZE(how); h++) {
		struct msgbox_ack a;
		struct msgbox_msg m;
		bool held = false, fired;
		int n, r, e;

		for (n = 1; n < NTH_MAX; n++) {
			if (!held) {
				v = n;
				ASSERT_EQ(0, msgbox_send(fd, &v, sizeof(v), MSGBOX_MSG_NONBLOCK));
				m = msg_of(&v, sizeof(v), MSGBOX_MSG_ACK | MSGBOX_MSG_NONBLOCK);
				m.type = 0;
				ASSERT_EQ(0, msgbox_recvmsg(fd, &m));
				ASSERT_EQ(n, v);
				held = true;
			}
			memset(&a, 0, sizeof(a));
			a.id = m.id;
			a.flags = how[h];
			ASSERT_EQ(0, mb_fi_arm(self->nth, n));
			r = ioctl(fd, MSGBOX_IOC_ACK, &a);
			e = errno;
			fired = mb_fi_fired(self->nth);
			if (r < 0) {
				ASSERT_TRUE(fired);
				ASSERT_TRUE(clean_errno(e)) TH_LOG("flags %#x point %d: errno %d", how[h], n, e);
				ASSERT_EQ(1, mb_info_of(fd).in_flight);
				ASSERT_EQ(0, mb_info_of(fd).nr_msgs);
				continue;
			}
			if (how[h] == MSGBOX_ACK_EXTEND) {
				ASSERT_EQ(1, mb_info_of(fd).in_flight);
				ASSERT_EQ(0, msgbox_ack(fd, m.id));
			} else if (how[h] == MSGBOX_ACK_NACK) {
				ASSERT_EQ(0, mb_info_of(fd).in_flight);
				ASSERT_EQ(1, mb_info_of(fd).nr_msgs);
				m = msg_of(&v, sizeof(v), MSGBOX_MSG_NONBLOCK);
				m.type = 0;
				v = -1;
				ASSERT_EQ(0, msgbox_recvmsg(fd, &m));
				ASSERT_EQ(2, m.deliveries);
			}
			held = false;
			ASSERT_EQ(0, mb_info_of(fd).in_flight);
			ASSERT_EQ(0, mb_info_of(fd).nr_msgs);
			if (!fired)
				break;
		}
		ASSERT_LT(1, n);
		total += n - 1;
	}
	close(fd);
	report("ack", total);
}

#define BATCH	4

TEST_F_TIMEOUT(ft, batches_fail_cleanly_or_partly_at_every_fault_point, 600)
{
	struct msgbox_msg m[BATCH];
	struct msgbox_batch b;
	int fd, n, r, e, total = 0;
	int vals[BATCH], out[BATCH];
	bool fired;

	fd = mb_create(self->name, 2 * BATCH, 32, 256, MB_RW);
	ASSERT_LE(0, fd);
	/* Send: entries 0..k-1 sent, in order, nothing of the others. */
	for (n = 1; n < NTH_MAX; n++) {
		for (int i = 0; i < BATCH; i++) {
			vals[i] = n * 16 + i;
			m[i] = msg_of(&vals[i], sizeof(vals[i]), MSGBOX_MSG_NONBLOCK);
		}
		memset(&b, 0, sizeof(b));
		b.msgs = (uintptr_t)m;
		b.count = BATCH;
		b.msg_size = sizeof(m[0]);
		ASSERT_EQ(0, mb_fi_arm(self->nth, n));
		r = ioctl(fd, MSGBOX_IOC_SEND_BATCH, &b);
		e = errno;
		fired = mb_fi_fired(self->nth);
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(clean_errno(e)) TH_LOG("send batch point %d: errno %d", n, e);
			r = 0;
		} else {
			ASSERT_TRUE(r == BATCH || fired);
		}
		ASSERT_EQ(r, mb_info_of(fd).nr_msgs);
		for (int i = 0; i < r; i++) {
			int v = -1;

			ASSERT_EQ((ssize_t)sizeof(v), take(fd, &v, sizeof(v)));
			ASSERT_EQ(n * 16 + i, v);
		}
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	total += n - 1;

	/* Receive: the first k taken in order, the others still queued. */
	for (n = 1; n < NTH_MAX; n++) {
		for (int i = 0; i < BATCH; i++) {
			vals[i] = n * 16 + i;
			ASSERT_EQ(0, msgbox_send(fd, &vals[i], sizeof(vals[i]), MSGBOX_MSG_NONBLOCK));
			out[i] = -1;
			m[i] = msg_of(&out[i], sizeof(out[i]), MSGBOX_MSG_NONBLOCK);
			m[i].type = 0;
		}
		memset(&b, 0, sizeof(b));
		b.msgs = (uintptr_t)m;
		b.count = BATCH;
		b.msg_size = sizeof(m[0]);
		ASSERT_EQ(0, mb_fi_arm(self->nth, n));
		r = ioctl(fd, MSGBOX_IOC_RECV_BATCH, &b);
		e = errno;
		fired = mb_fi_fired(self->nth);
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(clean_errno(e)) TH_LOG("recv batch point %d: errno %d", n, e);
			r = 0;
		} else {
			ASSERT_TRUE(r == BATCH || fired);
		}
		ASSERT_EQ(BATCH - r, mb_info_of(fd).nr_msgs);
		ASSERT_EQ(0, mb_info_of(fd).in_flight);
		for (int i = 0; i < r; i++)
			ASSERT_EQ(n * 16 + i, out[i]);
		for (int i = r; i < BATCH; i++) {
			int v = -1;

			ASSERT_EQ((ssize_t)sizeof(v), take(fd, &v, sizeof(v)));
			ASSERT_EQ(n * 16 + i, v);
		}
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	total += n - 1;
	close(fd);
	report("batch", total);
}

TEST_HARNESS_MAIN
