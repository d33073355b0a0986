// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: ownership, permission bits, umask, who may destroy or
 * change attributes, unforgeable credentials, and lifetimes: ephemeral
 * mailboxes (gone with their last descriptor, SIGKILL included) and
 * anonymous ones (shared by fork and SCM_RIGHTS only).
 *
 * The tests run as root in the VM; "another user" is a forked child that
 * drops to uid/gid 1000 (setresuid drops every capability with it).
 */
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "msgbox_test.h"

#define OTHER_UID	1000
#define OTHER_GID	1000

FIXTURE(ac) {
	char name[32];		/* unique to this test */
};

FIXTURE_SETUP(ac)
{
	mb_make_name(self->name, sizeof(self->name), "ac");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
}

FIXTURE_TEARDOWN(ac)
{
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

static int create_mode(const char *name, unsigned int mode, unsigned int flags)
{
	struct msgbox_attr attr;

	msgbox_attr_init(&attr);
	attr.max_msgs = 4;
	attr.mode = mode;
	attr.flags = flags;
	return msgbox_create(name, &attr, MB_RW);
}

TEST_F(ac, mode_0600_denies_other_users_both_directions_with_EACCES)
{
	int fd;
	pid_t pid;

	umask(0);
	fd = create_mode(self->name, 0600, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(mb_become(OTHER_UID, OTHER_GID) == 0, 2);
		CHILD_CHECK(msgbox_open(self->name, MSGBOX_FD_RECV) == -1, 3);
		CHILD_CHECK(errno == EACCES, 4);
		CHILD_CHECK(msgbox_open(self->name, MSGBOX_FD_SEND) == -1, 5);
		CHILD_CHECK(errno == EACCES, 6);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(fd);
}

TEST_F(ac, other_bits_0604_allow_receive_but_not_send)
{
	int fd;
	pid_t pid;

	umask(0);
	fd = create_mode(self->name, 0604, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "hi", 2, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];
		int r;

		CHILD_CHECK(mb_become(OTHER_UID, OTHER_GID) == 0, 2);
		r = msgbox_open(self->name, MSGBOX_FD_RECV);
		CHILD_CHECK(r >= 0, 3);
		CHILD_CHECK(msgbox_recv(r, buf, sizeof(buf), 0) == 2, 4);
		CHILD_CHECK(msgbox_open(self->name, MSGBOX_FD_SEND) == -1, 5);
		CHILD_CHECK(errno == EACCES, 6);
		CHILD_CHECK(msgbox_open(self->name, MB_RW) == -1, 7);
		CHILD_CHECK(errno == EACCES, 8);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(fd);
}

TEST_F(ac, group_bits_apply_to_members_of_the_owner_group)
{
	int fd;
	pid_t pid;

	umask(0);
	fd = create_mode(self->name, 0620, 0);	/* creator's egid is 0 */
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s;

		CHILD_CHECK(mb_become(OTHER_UID, 0) == 0, 2);	/* uid 1000, gid 0 */
		s = msgbox_open(self->name, MSGBOX_FD_SEND);
		CHILD_CHECK(s >= 0, 3);
		CHILD_CHECK(msgbox_send(s, "g", 1, 0) == 0, 4);
		CHILD_CHECK(msgbox_open(self->name, MSGBOX_FD_RECV) == -1, 5);
		CHILD_CHECK(errno == EACCES, 6);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	close(fd);
}

TEST_F(ac, umask_masks_the_mode_and_info_reports_owner)
{
	struct msgbox_info info;
	int fd;

	umask(022);
	fd = create_mode(self->name, 0666, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(0644, info.mode);
	EXPECT_EQ(0, info.owner_uid);
	EXPECT_EQ(0, info.owner_gid);
	EXPECT_EQ(0, info.flags);
	close(fd);
}

TEST_F(ac, mode_above_0777_gives_EINVAL)
{
	EXPECT_EQ(-1, create_mode(self->name, 01000, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(ac, only_the_owner_may_destroy_others_get_EPERM)
{
	int fd;
	pid_t pid;

	umask(0);
	fd = create_mode(self->name, 0666, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char mine[40];
		int m;

		CHILD_CHECK(mb_become(OTHER_UID, OTHER_GID) == 0, 2);
		CHILD_CHECK(msgbox_destroy(self->name) == -1, 3);
		CHILD_CHECK(errno == EPERM, 4);
		/* A user destroys its own mailbox, and info names it owner. */
		snprintf(mine, sizeof(mine), "%s-own", self->name);
		m = create_mode(mine, 0600, 0);
		CHILD_CHECK(m >= 0, 5);
		struct msgbox_info info;

		CHILD_CHECK(msgbox_info(m, &info) == 0, 6);
		CHILD_CHECK(info.owner_uid == OTHER_UID, 7);
		CHILD_CHECK(info.owner_gid == OTHER_GID, 8);
		CHILD_CHECK(msgbox_destroy(mine) == 0, 9);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	/* Still there for everyone, and root (CAP_SYS_ADMIN) may destroy. */
	EXPECT_EQ(0, msgbox_send(fd, "x", 1, 0));
	close(fd);
}

TEST_F(ac, non_owner_setattr_gives_EPERM_and_owner_can_open_it_up)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_MODE, .mode = 0606 };
	struct msgbox_info info;
	int fd, go[2], done[2];
	pid_t pid;
	char c;

	umask(0);
	fd = create_mode(self->name, 0604, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int r;

		CHILD_CHECK(mb_become(OTHER_UID, OTHER_GID) == 0, 2);
		r = msgbox_open(self->name, MSGBOX_FD_RECV);
		CHILD_CHECK(r >= 0, 3);
		CHILD_CHECK(msgbox_setattr(r, &sa) == -1, 4);
		CHILD_CHECK(errno == EPERM, 5);
		CHILD_CHECK(msgbox_open(self->name, MSGBOX_FD_SEND) == -1, 6);
		CHILD_CHECK(errno == EACCES, 7);
		/* Now the owner opens it up. */
		CHILD_CHECK(write(done[1], "d", 1) == 1, 8);
		CHILD_CHECK(read(go[0], &c, 1) == 1, 9);
		CHILD_CHECK(msgbox_open(self->name, MSGBOX_FD_SEND) >= 0, 10);
		_exit(0);
	}
	ASSERT_EQ(1, read(done[0], &c, 1));
	ASSERT_EQ(0, msgbox_info(fd, &info));
	ASSERT_EQ(0604, info.mode);
	ASSERT_EQ(0, msgbox_setattr(fd, &sa));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(0606, info.mode);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	close(fd);
}

TEST_F(ac, setattr_validates_every_field_and_changes_nothing_on_error)
{
	struct msgbox_setattr bad[] = {
		{ .mask = 0 },
		{ .mask = 1u << 7 },
		{ .mask = MSGBOX_SETATTR_MODE, .mode = 01000 },
		{ .mask = MSGBOX_SETATTR_MODE, .mode = 0600, .max_msgs = 3 },
		{ .mask = MSGBOX_SETATTR_LIMITS, .max_msgs = 0, .max_msg_size = 8, .max_bytes = 64 },
		{ .mask = MSGBOX_SETATTR_LIMITS, .max_msgs = 2, .max_msg_size = 0, .max_bytes = 64 },
		{ .mask = MSGBOX_SETATTR_LIMITS, .max_msgs = 2, .max_msg_size = 64, .max_bytes = 8 },
		{ .mask = MSGBOX_SETATTR_LIMITS | MSGBOX_SETATTR_MODE, .mode = 0700,
		  .max_msgs = 2, .max_msg_size = 64, .max_bytes = 8 },
	};
	struct msgbox_info before, after;
	unsigned int i;
	int fd;

	umask(0);
	fd = create_mode(self->name, 0600, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_info(fd, &before));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, msgbox_setattr(fd, &bad[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("case %u", i);
	}
	ASSERT_EQ(0, msgbox_info(fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	close(fd);
}

TEST_F(ac, raising_max_msgs_admits_a_blocked_sender_and_lowering_keeps_queued)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_LIMITS,
				     .max_msgs = 8, .max_msg_size = 8192,
				     .max_bytes = 1 << 20 };
	struct msgbox_info info;
	int fd, i;
	pid_t pid;

	fd = create_mode(self->name, 0600, 0);	/* 4 messages */
	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, msgbox_send(fd, "q", 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_send(fd, "5", 1, 0) == 0, 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(fd, 0, 1));
	ASSERT_EQ(0, msgbox_setattr(fd, &sa));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(5, info.nr_msgs);
	EXPECT_EQ(8, info.max_msgs);

	sa.max_msgs = 2;
	ASSERT_EQ(0, msgbox_setattr(fd, &sa));
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(5, info.nr_msgs);
	EXPECT_EQ(-1, msgbox_send(fd, "6", 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

TEST_F(ac, sender_credentials_are_stamped_by_the_kernel_not_the_sender)
{
	struct msgbox_msg m;
	char buf[8];
	int fd;
	pid_t pid;

	umask(0);
	fd = create_mode(self->name, 0666, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_msg f;
		int s;

		CHILD_CHECK(mb_become(OTHER_UID, OTHER_GID) == 0, 2);
		s = msgbox_open(self->name, MSGBOX_FD_SEND);
		CHILD_CHECK(s >= 0, 3);
		/* Out-only fields filled in by a would-be forger are ignored. */
		memset(&f, 0, sizeof(f));
		f.data = (uintptr_t)"forged";
		f.len = 6;
		f.type = 1;
		f.sender_pid = 1;
		f.sender_tid = 1;
		f.sender_uid = 0;
		f.sender_gid = 0;
		CHILD_CHECK(msgbox_sendmsg(s, &f) == 0, 4);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = sizeof(buf);
	ASSERT_EQ(0, msgbox_recvmsg(fd, &m));
	EXPECT_EQ(OTHER_UID, m.sender_uid);
	EXPECT_EQ(OTHER_GID, m.sender_gid);
	EXPECT_EQ(pid, m.sender_pid);
	EXPECT_EQ(pid, m.sender_tid);
	close(fd);
}

TEST_F(ac, ephemeral_mailbox_goes_with_its_last_descriptor)
{
	struct msgbox_info info;
	int fd, fd2;

	fd = create_mode(self->name, 0600, MSGBOX_CREATE_EPHEMERAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(MSGBOX_CREATE_EPHEMERAL, info.flags);
	fd2 = msgbox_open(self->name, MB_RW);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, close(fd));
	/* One descriptor left: still there by name. */
	ASSERT_EQ(0, msgbox_send(fd2, "e", 1, 0));
	fd = msgbox_open(self->name, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(fd2));
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);
	/* The name is free again. */
	fd = create_mode(self->name, 0600, 0);
	EXPECT_LE(0, fd);
	close(fd);
}

TEST_F(ac, ephemeral_mailbox_of_a_SIGKILLed_holder_disappears)
{
	int p[2], fd;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int e = create_mode(self->name, 0600, MSGBOX_CREATE_EPHEMERAL);
		char buf[8];

		CHILD_CHECK(e >= 0, 2);
		CHILD_CHECK(write(p[1], "r", 1) == 1, 3);
		msgbox_recv(e, buf, sizeof(buf), 0);	/* sleeps until killed */
		_exit(4);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	fd = msgbox_open(self->name, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mb_wait_waiters(fd, 1, 0));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);
	close(p[0]);
}

TEST_F(ac, anonymous_mailbox_is_shared_by_fork_and_has_no_name)
{
	struct msgbox_info info;
	char buf[8];
	int fd;
	pid_t pid;

	fd = msgbox_create_anon(NULL, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_STREQ("", info.name);
	EXPECT_EQ(MSGBOX_CREATE_ANON | MSGBOX_CREATE_EPHEMERAL, info.flags);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_send(fd, "anon", 4, 0) == 0, 2);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(4, msgbox_recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "anon", 4));
	close(fd);
}

TEST_F(ac, anonymous_mailbox_with_a_name_gives_EINVAL)
{
	struct msgbox_attr attr;

	msgbox_attr_init(&attr);
	attr.flags = MSGBOX_CREATE_ANON;
	EXPECT_EQ(-1, msgbox_create(self->name, &attr, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);
}

/* Pass @fd over a Unix socket. */
static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

TEST_F(ac, anonymous_mailbox_passed_over_a_unix_socket_outlives_its_creator)
{
	char buf[8];
	int sv[2], fd;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int a = msgbox_create_anon(NULL, MB_RW);

		CHILD_CHECK(a >= 0, 2);
		CHILD_CHECK(msgbox_send(a, "scm", 3, 0) == 0, 3);
		CHILD_CHECK(send_fd(sv[1], a) == 0, 4);
		pause();	/* killed below */
		_exit(5);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(3, msgbox_recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "scm", 3));
	EXPECT_EQ(0, msgbox_send(fd, "more", 4, 0));
	close(fd);
	close(sv[0]);
}

TEST_F(ac, ipc_namespaces_do_not_see_each_others_mailboxes)
{
	struct msgbox_msg m;
	char buf[8];
	int fd;
	pid_t pid;

	fd = create_mode(self->name, 0666, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int mine;

		CHILD_CHECK(unshare(CLONE_NEWIPC) == 0, 2);
		CHILD_CHECK(msgbox_open(self->name, MB_RW) == -1, 3);
		CHILD_CHECK(errno == ENOENT, 4);
		CHILD_CHECK(msgbox_destroy(self->name) == -1, 5);
		CHILD_CHECK(errno == ENOENT, 6);
		/* The same name is free in the new namespace. */
		mine = create_mode(self->name, 0600, 0);
		CHILD_CHECK(mine >= 0, 7);
		CHILD_CHECK(msgbox_send(mine, "ns", 2, 0) == 0, 8);
		CHILD_CHECK(msgbox_destroy(self->name) == 0, 9);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	/* The parent's mailbox is untouched. */
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = sizeof(buf);
	m.flags = MSGBOX_MSG_NONBLOCK;
	EXPECT_EQ(-1, msgbox_recvmsg(fd, &m));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
	fd = msgbox_open(self->name, MB_RW);
	EXPECT_LE(0, fd);
	close(fd);
}

TEST_HARNESS_MAIN
