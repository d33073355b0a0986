// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: what an unprivileged user cannot do to another user's
 * mailboxes, or to the system.  access.c covers the permission bits; here:
 * no way at all into a private mailbox (open in any mode, destroy, change
 * attributes, its inbox, the /proc/msgbox listing), no forged credentials
 * on any path that carries them (batches, calls, replies, write(2)), no
 * way past the per-user quotas (anonymous mailboxes, subscriptions,
 * inboxes and raised limits all count), and no module parameter changes.
 *
 * The tests run as root in the VM; "a user" is a forked child that drops
 * to uid/gid 1000 or 1001 (setresuid drops every capability with it).
 */
#include <sched.h>
#include <sys/stat.h>
#include "msgbox_test.h"

#define U1	1000
#define U2	1001

FIXTURE(sec) {
	char name[32];			/* unique to this test */
	char name2[40];
	unsigned long long quota[2];	/* user_max_mailboxes, user_max_bytes */
	bool saved;
};

FIXTURE_SETUP(sec)
{
	self->saved = false;
	mb_make_name(self->name, sizeof(self->name), "sec");
	snprintf(self->name2, sizeof(self->name2), "%s-b", self->name);
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	ASSERT_TRUE(mb_param_get("user_max_mailboxes", &self->quota[0]));
	ASSERT_TRUE(mb_param_get("user_max_bytes", &self->quota[1]));
	self->saved = true;
}

FIXTURE_TEARDOWN_PARENT(sec)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
	EXPECT_EQ(0, mb_destroy_quiet(self->name2));
	if (self->saved) {
		EXPECT_TRUE(mb_param_set("user_max_mailboxes", self->quota[0]));
		EXPECT_TRUE(mb_param_set("user_max_bytes", self->quota[1]));
	}
}

static int create_mode(const char *name, unsigned int mode, unsigned int flags)
{
	struct msgbox_attr attr;

	msgbox_attr_init(&attr);
	attr.max_msgs = 4;
	attr.max_msg_size = 64;
	attr.max_bytes = 256;
	attr.mode = mode;
	attr.flags = flags;
	return msgbox_create(name, &attr, MB_RW);
}

/* Does /proc/msgbox, read by the caller, list @name? 1, 0, or -1. */
static int listed(const char *name)
{
	char line[512], first[128];
	FILE *f = fopen("/proc/msgbox", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s", first) == 1 && !strcmp(first, name))
			found = 1;
	fclose(f);
	return found;
}

TEST_F(sec, a_private_mailbox_is_closed_to_another_user_in_every_way)
{
	static const __u32 modes[] = {
		MSGBOX_FD_RECV, MSGBOX_FD_SEND, MB_RW,
		MSGBOX_FD_RECV | MSGBOX_FD_NONBLOCK | MSGBOX_FD_CLOEXEC,
	};
	int ready[2], go[2];
	pid_t owner, other;
	char c;

	umask(0);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	/* A user with a private mailbox (a message in it) and a private inbox. */
	owner = fork();
	ASSERT_LE(0, owner);
	if (owner == 0) {
		struct msgbox_attr attr;
		char buf[8];
		int fd, in;

		CHILD_CHECK(mb_become(U1, U1) == 0, 2);
		fd = create_mode(self->name, 0600, 0);
		CHILD_CHECK(fd >= 0, 3);
		CHILD_CHECK(msgbox_send(fd, "secret", 6, 0) == 0, 4);
		CHILD_CHECK(listed(self->name) == 1, 5);	/* its owner sees it */
		msgbox_attr_init(&attr);
		attr.mode = 0600;
		in = msgbox_inbox(&attr, MSGBOX_FD_RECV);
		CHILD_CHECK(in >= 0, 6);
		CHILD_CHECK(write(ready[1], "r", 1) == 1, 7);
		CHILD_CHECK(read(go[0], &c, 1) == 1, 8);
		/* Still intact for its owner. */
		CHILD_CHECK(msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK) == 6, 9);
		CHILD_CHECK(msgbox_destroy(self->name) == 0, 10);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Another user: nothing works. */
	other = fork();
	ASSERT_LE(0, other);
	if (other == 0) {
		CHILD_CHECK(mb_become(U2, U2) == 0, 2);
		for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
			CHILD_CHECK(msgbox_open(self->name, modes[i]) == -1, 3);
			CHILD_CHECK(errno == EACCES, 4);
		}
		CHILD_CHECK(msgbox_destroy(self->name) == -1, 5);
		CHILD_CHECK(errno == EPERM, 6);
		CHILD_CHECK(listed(self->name) == 0, 7);
		CHILD_CHECK(msgbox_open_inbox(owner, MSGBOX_FD_SEND) == -1, 8);
		CHILD_CHECK(errno == EACCES, 9);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(other, MB_WAIT_MS));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, mb_reap(owner, MB_WAIT_MS));
}

TEST_F(sec, listing_shows_others_only_what_they_may_open)
{
	int priv, pub;
	pid_t pid;

	umask(0);
	priv = create_mode(self->name, 0600, 0);
	ASSERT_LE(0, priv);
	pub = create_mode(self->name2, 0604, 0);
	ASSERT_LE(0, pub);
	ASSERT_EQ(1, listed(self->name));	/* root sees everything it owns */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(mb_become(U1, U1) == 0, 2);
		CHILD_CHECK(listed(self->name) == 0, 3);
		CHILD_CHECK(listed(self->name2) == 1, 4);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(priv);
	close(pub);
}

/* Receive one message of @type (0: any); its credentials in *m. */
static int recv_creds(int fd, struct msgbox_msg *m, long long type)
{
	static char buf[64];

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->data = (uintptr_t)buf;
	m->len = sizeof(buf);
	m->flags = MSGBOX_MSG_TIMEOUT;
	m->timeout_ns = MB_WAIT_MS * 1000000ull;
	return msgbox_recvmsg(fd, m);
}

static void forge(struct msgbox_msg *m, const char *data)
{
	memset(m, 0, sizeof(*m));
	m->data = (uintptr_t)data;
	m->len = strlen(data);
	m->type = 1;
	m->sender_pid = 1;
	m->sender_tid = 1;
	m->sender_uid = 0;
	m->sender_gid = 0;
	m->send_time_ns = 1;
	m->deliveries = 7;
}

TEST_F(sec, credentials_cannot_be_forged_on_batches_calls_replies_or_write)
{
	struct msgbox_msg m;
	struct msgbox_call c;
	char rep[16];
	int fd, i;
	pid_t pid;

	umask(0);
	fd = create_mode(self->name, 0666, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg b[2], q;
		int s;

		CHILD_CHECK(mb_become(U1, U1) == 0, 2);
		s = msgbox_open(self->name, MB_RW);
		CHILD_CHECK(s >= 0, 3);
		forge(&b[0], "b0");
		forge(&b[1], "b1");
		CHILD_CHECK(msgbox_send_batch(s, b, 2, NULL) == 2, 4);
		CHILD_CHECK(write(s, "w", 1) == 1, 5);
		/* The parent's call: answer it with forged fields. */
		CHILD_CHECK(recv_creds(s, &q, 3) == 0 && q.token, 6);
		CHILD_CHECK(q.sender_uid == 0 && q.sender_pid == getppid(), 8);
		forge(&m, "ans");
		m.token = q.token;
		CHILD_CHECK(msgbox_replymsg(s, &m) == 0, 7);
		_exit(0);
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, recv_creds(fd, &m, 1));
		EXPECT_EQ(U1, m.sender_uid);
		EXPECT_EQ(U1, m.sender_gid);
		EXPECT_EQ(pid, m.sender_pid);
		EXPECT_EQ(pid, m.sender_tid);
		EXPECT_EQ(1, m.deliveries);
		EXPECT_NE(1, m.send_time_ns);
	}
	/* A call whose request carries forged fields: the child sees ours. */
	memset(&c, 0, sizeof(c));
	forge(&c.request, "call");
	c.request.type = 3;
	c.request.sender_uid = U1;
	c.reply.data = (uintptr_t)rep;
	c.reply.len = sizeof(rep);
	c.request.flags = MSGBOX_MSG_TIMEOUT;
	c.request.timeout_ns = MB_WAIT_MS * 1000000ull;
	ASSERT_EQ(0, msgbox_callmsg(fd, &c));
	EXPECT_EQ(U1, c.reply.sender_uid);
	EXPECT_EQ(U1, c.reply.sender_gid);
	EXPECT_EQ(pid, c.reply.sender_pid);
	EXPECT_EQ(3, c.reply.len);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(fd);
}

TEST_F(sec, every_kind_of_mailbox_counts_against_the_user_quota)
{
	pid_t pid;

	ASSERT_TRUE(mb_param_set("user_max_mailboxes", 4));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_attr attr;
		int t, s;

		CHILD_CHECK(mb_become(U1, U1) == 0, 2);
		msgbox_attr_init(&attr);
		attr.max_msgs = 4;
		attr.max_msg_size = 64;
		attr.max_bytes = 256;
		CHILD_CHECK(msgbox_create_anon(&attr, MB_RW) >= 0, 3);	/* 1 */
		CHILD_CHECK(msgbox_inbox(&attr, MSGBOX_FD_RECV) >= 0, 4);	/* 2 */
		attr.flags = MSGBOX_CREATE_TOPIC | MSGBOX_CREATE_EPHEMERAL;
		t = msgbox_create(self->name, &attr, MB_RW);			/* 3 */
		CHILD_CHECK(t >= 0, 5);
		s = msgbox_subscribe(t, 0, MSGBOX_FD_RECV);			/* 4 */
		CHILD_CHECK(s >= 0, 6);
		CHILD_CHECK(msgbox_subscribe(t, 0, MSGBOX_FD_RECV) == -1, 7);
		CHILD_CHECK(errno == EDQUOT, 8);
		attr.flags = 0;
		CHILD_CHECK(msgbox_create_anon(&attr, MB_RW) == -1, 9);
		CHILD_CHECK(errno == EDQUOT, 10);
		/* Closing the subscription gives its place back. */
		close(s);
		s = msgbox_create_anon(&attr, MB_RW);
		CHILD_CHECK(s >= 0, 11);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(sec, raising_limits_is_charged_and_memory_stays_bounded)
{
	pid_t pid;

	ASSERT_TRUE(mb_param_set("user_max_bytes", 4096));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_setattr sa = {
			.mask = MSGBOX_SETATTR_LIMITS, .max_msgs = 64,
			.max_msg_size = 64, .max_bytes = 8192,
		};
		struct msgbox_attr attr;
		char msg[64] = "";
		int fd, i;

		CHILD_CHECK(mb_become(U1, U1) == 0, 2);
		msgbox_attr_init(&attr);
		attr.max_msgs = 128;
		attr.max_msg_size = 64;
		attr.max_bytes = 4096;
		fd = msgbox_create_anon(&attr, MB_RW);
		CHILD_CHECK(fd >= 0, 3);
		/* Past the quota: neither a second mailbox nor a raise. */
		attr.max_bytes = 64;
		CHILD_CHECK(msgbox_create_anon(&attr, MB_RW) == -1, 4);
		CHILD_CHECK(errno == EDQUOT, 5);
		CHILD_CHECK(msgbox_setattr(fd, &sa) == -1, 6);
		CHILD_CHECK(errno == EDQUOT, 7);
		/* What it may queue is what it was charged for, no more. */
		for (i = 0; i < 128; i++)
			if (msgbox_send(fd, msg, sizeof(msg), MSGBOX_MSG_NONBLOCK))
				break;
		CHILD_CHECK(i == 4096 / 64, 8);
		CHILD_CHECK(errno == EAGAIN, 9);
		/* Module parameters are root's. */
		CHILD_CHECK(!mb_param_set("user_max_bytes", 1ull << 40), 10);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	{
		unsigned long long v = 0;

		EXPECT_TRUE(mb_param_get("user_max_bytes", &v));
		EXPECT_EQ(4096, v);
	}
}

/* An inbox open to everyone is still not reachable from another IPC namespace. */
TEST_F(sec, an_inbox_is_not_reachable_from_another_ipc_namespace)
{
	struct msgbox_attr attr;
	pid_t me = getpid(), pid;
	int in, to;

	msgbox_attr_init(&attr);
	attr.mode = 0622;
	in = msgbox_inbox(&attr, MSGBOX_FD_RECV);
	ASSERT_LE(0, in);
	to = msgbox_open_inbox(me, MSGBOX_FD_SEND);	/* same namespace: fine */
	ASSERT_LE(0, to);
	close(to);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(unshare(CLONE_NEWIPC) == 0, 2);
		CHILD_CHECK(msgbox_open_inbox(me, MSGBOX_FD_SEND) == -1, 3);
		CHILD_CHECK(errno == ESRCH, 4);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, mb_nr_msgs(in));
	close(in);
}

/*
 * Dead letters keep their senders' stamped credentials.  A user who may
 * only write to someone's mailbox must not make it the dead-letter
 * mailbox of their own, or they could pass other users' messages on to
 * it, credentials and all, whenever they like (receive with ACK, NACK).
 */
TEST_F(sec, only_the_owner_of_a_mailbox_may_make_it_a_dead_letter_mailbox)
{
	int ready[2], go[2];
	pid_t owner, other;
	char c;

	umask(0);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	owner = fork();
	ASSERT_LE(0, owner);
	if (owner == 0) {
		int fd;

		CHILD_CHECK(mb_become(U1, U1) == 0, 2);
		fd = create_mode(self->name, 0622, 0);	/* others may send */
		CHILD_CHECK(fd >= 0, 3);
		CHILD_CHECK(write(ready[1], "r", 1) == 1, 4);
		CHILD_CHECK(read(go[0], &c, 1) == 1, 5);
		CHILD_CHECK(mb_nr_msgs(fd) == 0, 6);
		CHILD_CHECK(msgbox_destroy(self->name) == 0, 7);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	other = fork();
	ASSERT_LE(0, other);
	if (other == 0) {
		struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_DEAD_LETTER,
					     .max_deliveries = 1 };
		int mine, svc;

		CHILD_CHECK(mb_become(U2, U2) == 0, 2);
		mine = create_mode(self->name2, 0622, 0);
		CHILD_CHECK(mine >= 0, 3);
		svc = msgbox_open(self->name, MSGBOX_FD_SEND);
		CHILD_CHECK(svc >= 0, 4);
		sa.dead_letter_fd = svc;
		CHILD_CHECK(msgbox_setattr(mine, &sa) == -1, 5);
		CHILD_CHECK(errno == EPERM, 6);
		CHILD_CHECK(mb_info_of(mine).max_deliveries == 0, 7);
		CHILD_CHECK(msgbox_destroy(self->name2) == 0, 8);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(other, MB_WAIT_MS));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, mb_reap(owner, MB_WAIT_MS));
}

TEST_HARNESS_MAIN
