// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: creating, opening and destroying mailboxes; name, limit
 * and flag validation; the ABI version; malformed ioctls.
 */
#include "msgbox_test.h"

/* Extra names "<name>-<n>" a test may create; teardown destroys them all. */
#define CO_NEXTRA	64

/* The 63-byte name of this test: its unique name padded with 'x'. */
static void long_name(char *buf, const char *base)
{
	memset(buf, 'x', MSGBOX_NAME_MAX);
	memcpy(buf, base, strlen(base));
	buf[MSGBOX_NAME_MAX - 1] = '\0';
}

FIXTURE(co) {
	char name[32];			/* unique to this test, free at start */
	int ctl;			/* /dev/msgbox, for raw ioctls */
	int nmany;			/* "<name>-m<n>" created by the ENOSPC test */
	unsigned long long saved_max;	/* max_mailboxes to restore, or 0 */
};

FIXTURE_SETUP(co)
{
	self->ctl = -1;
	self->nmany = 0;
	self->saved_max = 0;
	mb_make_name(self->name, sizeof(self->name), "co");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->ctl = open(MSGBOX_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl) TH_LOG("open %s: %s", MSGBOX_DEVICE, strerror(errno));
}

/* In the harness's parent process: see "Teardown" in msgbox_test.h. */
FIXTURE_TEARDOWN_PARENT(co)
{
	char n[MSGBOX_NAME_MAX + 16];
	int i;

	EXPECT_EQ(0, mb_destroy_quiet(self->name));
	long_name(n, self->name);
	EXPECT_EQ(0, mb_destroy_quiet(n));
	for (i = 0; i < CO_NEXTRA; i++) {
		snprintf(n, sizeof(n), "%s-%d", self->name, i);
		EXPECT_EQ(0, mb_destroy_quiet(n));
	}
	for (i = 0; i < self->nmany; i++) {
		snprintf(n, sizeof(n), "%s-m%d", self->name, i);
		EXPECT_EQ(0, mb_destroy_quiet(n));
	}
	if (self->saved_max)
		EXPECT_TRUE(mb_param_set("max_mailboxes", self->saved_max));
}

/* Name "<base>-<i>" into @buf. */
static void extra_name(char *buf, const char *base, int i)
{
	snprintf(buf, MSGBOX_NAME_MAX, "%s-%d", base, i);
}

/* @name into a name field, truncated to leave a NUL (callers zero it). */
static void copy_name(char field[MSGBOX_NAME_MAX], const char *name)
{
	size_t n = strlen(name);

	memcpy(field, name, n < MSGBOX_NAME_MAX ? n : MSGBOX_NAME_MAX - 1);
}

static void fill_create(struct msgbox_create *c, const char *name,
			unsigned int max_msgs, unsigned int max_msg_size,
			unsigned long long max_bytes, unsigned int fd_flags)
{
	memset(c, 0, sizeof(*c));
	c->max_msgs = max_msgs;
	c->max_msg_size = max_msg_size;
	c->max_bytes = max_bytes;
	c->fd_flags = fd_flags;
	copy_name(c->name, name);
}

static void fill_open(struct msgbox_open *o, const char *name, unsigned int fd_flags)
{
	memset(o, 0, sizeof(*o));
	o->fd_flags = fd_flags;
	copy_name(o->name, name);
}

/* Does a mailbox of that name exist?  1 yes, 0 no, -1 unexpected error. */
static int mb_exists(const char *name)
{
	int fd = msgbox_open(name, MSGBOX_FD_RECV);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == ENOENT ? 0 : -1;
}

/* ---- create / open / destroy ------------------------------------------- */

TEST_F(co, create_returns_fd_and_info_reports_limits_and_name)
{
	struct msgbox_info info;
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(errno));
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(4, info.max_msgs);
	EXPECT_EQ(100, info.max_msg_size);
	EXPECT_EQ(300, info.max_bytes);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(0, info.nr_bytes);
	EXPECT_EQ(0, info.sent);
	EXPECT_EQ(0, info.received);
	EXPECT_EQ(0, info.recv_waiters);
	EXPECT_EQ(0, info.send_waiters);
	EXPECT_STREQ(self->name, info.name);
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, create_with_default_attr_uses_library_defaults)
{
	struct msgbox_info info;
	int fd;

	fd = msgbox_create(self->name, NULL, MB_RW);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(errno));
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(MSGBOX_DEFAULT_MAX_MSGS, info.max_msgs);
	EXPECT_EQ(MSGBOX_DEFAULT_MAX_MSG_SIZE, info.max_msg_size);
	EXPECT_EQ(MSGBOX_DEFAULT_MAX_BYTES, info.max_bytes);
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, create_duplicate_gives_EEXIST_and_keeps_original)
{
	struct msgbox_info info;
	char buf[16];
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "keep", 4, 0));

	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 300, MB_RW));
	EXPECT_EQ(EEXIST, errno);
	/* Other limits do not matter: the name is taken. */
	EXPECT_EQ(-1, mb_create(self->name, 9, 50, 50, MSGBOX_FD_SEND));
	EXPECT_EQ(EEXIST, errno);

	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(4, info.max_msgs);
	EXPECT_EQ(100, info.max_msg_size);
	EXPECT_EQ(300, info.max_bytes);
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(4, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "keep", 4));
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, open_existing_gives_fd_on_same_mailbox)
{
	struct msgbox_info info;
	char buf[16];
	int fd, fd2;

	fd = mb_create(self->name, 4, 100, 300, MSGBOX_FD_SEND);
	ASSERT_LE(0, fd);
	fd2 = msgbox_open(self->name, MSGBOX_FD_RECV);
	ASSERT_LE(0, fd2) TH_LOG("open: %s", strerror(errno));
	EXPECT_NE(fd, fd2);

	ASSERT_EQ(0, msgbox_send(fd, "hello", 5, 0));
	EXPECT_EQ(5, msgbox_recv(fd2, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(0, msgbox_info(fd2, &info));
	EXPECT_STREQ(self->name, info.name);
	EXPECT_EQ(4, info.max_msgs);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(fd2));
}

TEST_F(co, open_missing_gives_ENOENT)
{
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(co, destroy_missing_gives_ENOENT)
{
	EXPECT_EQ(-1, msgbox_destroy(self->name));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(co, destroy_removes_name_at_once_and_name_can_be_reused)
{
	struct msgbox_info info;
	int fd, fd2;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "old", 3, 0));
	ASSERT_EQ(0, msgbox_destroy(self->name));

	/* The name is gone although a descriptor is still open. */
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, msgbox_destroy(self->name));
	EXPECT_EQ(ENOENT, errno);

	/* A new mailbox of that name is a different, empty one. */
	fd2 = mb_create(self->name, 2, 10, 20, MB_RW);
	ASSERT_LE(0, fd2) TH_LOG("re-create: %s", strerror(errno));
	ASSERT_EQ(0, msgbox_info(fd2, &info));
	EXPECT_EQ(2, info.max_msgs);
	EXPECT_EQ(10, info.max_msg_size);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(0, info.sent);

	/* The old descriptor still refers to the destroyed mailbox. */
	EXPECT_EQ(-1, msgbox_send(fd, "x", 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EIDRM, errno);
	ASSERT_EQ(0, msgbox_info(fd2, &info));
	EXPECT_EQ(0, info.nr_msgs);

	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(fd2));
}

TEST_F(co, unlink_removes_only_the_name_and_descriptors_go_on)
{
	char buf[16];
	int fd, fd2;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "kept", 4, 0));
	ASSERT_EQ(0, msgbox_unlink(self->name));

	/* The name is gone... */
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, msgbox_unlink(self->name));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, msgbox_destroy(self->name));
	EXPECT_EQ(ENOENT, errno);

	/* ... the mailbox is not: its message is there, it takes new ones. */
	EXPECT_EQ(1, mb_nr_msgs(fd));
	EXPECT_EQ(4, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "kept", 4));
	EXPECT_EQ(0, msgbox_send(fd, "more", 4, MSGBOX_MSG_NONBLOCK));

	/* The name serves a new, separate mailbox at once. */
	fd2 = mb_create(self->name, 2, 10, 20, MB_RW);
	ASSERT_LE(0, fd2) TH_LOG("re-create: %s", strerror(errno));
	EXPECT_EQ(0, mb_nr_msgs(fd2));
	EXPECT_EQ(0, msgbox_send(fd2, "new", 3, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(4, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "more", 4));
	EXPECT_EQ(-1, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, mb_nr_msgs(fd2));

	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(fd2));
}

TEST_F(co, unlink_leaves_a_sleeping_receiver_asleep)
{
	pid_t pid;
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16];

		CHILD_CHECK(msgbox_recv_timeout(fd, buf, sizeof(buf),
						MB_WAIT_MS * 1000000ull) == 4, 2);
		CHILD_CHECK(memcmp(buf, "late", 4) == 0, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(fd, 1, 0));
	ASSERT_EQ(0, msgbox_unlink(self->name));
	/* Not woken with EIDRM: it still waits, and gets what comes. */
	EXPECT_EQ(1, mb_recv_waiters(fd));
	ASSERT_EQ(0, msgbox_send(fd, "late", 4, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, unlink_of_a_mailbox_with_no_descriptor_destroys_it)
{
	struct msgbox_attr a;
	char buf[4];
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "x", 1, 0));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, msgbox_unlink(self->name));
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);

	/* An ephemeral one, unlinked, still goes with its last descriptor. */
	msgbox_attr_init(&a);
	a.flags = MSGBOX_CREATE_EPHEMERAL;
	fd = msgbox_create(self->name, &a, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_unlink(self->name));
	EXPECT_EQ(0, msgbox_send(fd, "e", 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(1, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(co, unlink_with_fd_flags_and_open_with_unlink_give_EINVAL)
{
	struct msgbox_open o;
	int fd, fd2;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	memset(&o, 0, sizeof(o));
	copy_name(o.name, self->name);
	o.flags = MSGBOX_DESTROY_UNLINK;
	o.fd_flags = MB_RW;
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_DESTROY, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_OPEN, &o));
	EXPECT_EQ(EINVAL, errno);
	/* None of them touched the mailbox or its name. */
	EXPECT_EQ(0, msgbox_send(fd, "x", 1, MSGBOX_MSG_NONBLOCK));
	fd2 = msgbox_open(self->name, MB_RW);
	EXPECT_LE(0, fd2);
	EXPECT_EQ(1, mb_nr_msgs(fd2));
	close(fd2);
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, named_mailbox_outlives_its_descriptors)
{
	char buf[16];
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "persist", 7, 0));
	ASSERT_EQ(0, close(fd));

	fd = msgbox_open(self->name, MB_RW);
	ASSERT_LE(0, fd) TH_LOG("open after last close: %s", strerror(errno));
	EXPECT_EQ(7, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "persist", 7));
	EXPECT_EQ(0, close(fd));
}

/* ---- names ------------------------------------------------------------- */

TEST_F(co, name_empty_gives_EINVAL)
{
	EXPECT_EQ(-1, mb_create("", 4, 100, 300, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_open("", MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_destroy(""));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(co, name_of_max_length_63_is_accepted)
{
	char name[MSGBOX_NAME_MAX];
	struct msgbox_info info;
	int fd, fd2;

	long_name(name, self->name);
	ASSERT_EQ(MSGBOX_NAME_MAX - 1, strlen(name));

	fd = mb_create(name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd) TH_LOG("create 63-byte name: %s", strerror(errno));
	fd2 = msgbox_open(name, MB_RW);
	EXPECT_LE(0, fd2);
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_STREQ(name, info.name);
	EXPECT_EQ(0, msgbox_destroy(name));
	EXPECT_EQ(0, close(fd));
	if (fd2 >= 0)
		EXPECT_EQ(0, close(fd2));
}

TEST_F(co, name_without_nul_in_field_gives_ENAMETOOLONG)
{
	struct msgbox_create c;
	struct msgbox_open o;

	fill_create(&c, "", 4, 100, 300, MB_RW);
	memset(c.name, 'n', sizeof(c.name));
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_CREATE, &c));
	EXPECT_EQ(ENAMETOOLONG, errno);

	fill_open(&o, "", MB_RW);
	memset(o.name, 'n', sizeof(o.name));
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_OPEN, &o));
	EXPECT_EQ(ENAMETOOLONG, errno);

	fill_open(&o, "", 0);
	memset(o.name, 'n', sizeof(o.name));
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_DESTROY, &o));
	EXPECT_EQ(ENAMETOOLONG, errno);
}

TEST_F(co, name_longer_than_field_gives_ENAMETOOLONG)
{
	char name[200];

	memset(name, 'L', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	EXPECT_EQ(-1, mb_create(name, 4, 100, 300, MB_RW));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(-1, msgbox_open(name, MB_RW));
	EXPECT_EQ(ENAMETOOLONG, errno);

	/* 64 bytes plus NUL: exactly one too many. */
	name[MSGBOX_NAME_MAX] = '\0';
	EXPECT_EQ(-1, mb_create(name, 4, 100, 300, MB_RW));
	EXPECT_EQ(ENAMETOOLONG, errno);
}

/*
 * The name ends at its NUL.  Bytes after it may be refused (EINVAL) but
 * must never make a second mailbox that looks like the same name.
 */
TEST_F(co, name_bytes_after_nul_never_make_a_second_name)
{
	struct msgbox_create c;
	struct msgbox_info info;
	int fd, fd2;

	fill_create(&c, self->name, 4, 100, 300, MB_RW);
	memset(c.name + strlen(self->name) + 1, 'g', 8);
	fd = ioctl(self->ctl, MSGBOX_IOC_CREATE, &c);
	if (fd < 0) {
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, mb_exists(self->name));
		return;
	}
	fd2 = msgbox_open(self->name, MB_RW);
	EXPECT_LE(0, fd2) TH_LOG("open of the plain name: %s", strerror(errno));
	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 300, MB_RW));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_STREQ(self->name, info.name);
	EXPECT_EQ(0, memcmp(info.name, self->name, strlen(self->name) + 1));
	EXPECT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(0, mb_exists(self->name));
	EXPECT_EQ(0, close(fd));
	if (fd2 >= 0)
		EXPECT_EQ(0, close(fd2));
}

TEST_F(co, name_with_bad_characters_gives_EINVAL)
{
	static const char *const bad[] = {
		"a/b", "/abs", "sp ace", "tab\t", "new\nline", "star*", "q?",
		"col:on", "back\\slash", "del\x7f", "\xc3\xa9t\xc3\xa9", "pct%",
		"quo\"te", "semi;",
		"\xc9t\xe9",	/* Latin-1 letters: the kernel's isalnum() takes them */
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, mb_create(bad[i], 4, 100, 300, MB_RW))
			TH_LOG("name '%s' accepted", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("create '%s'", bad[i]);
		errno = 0;
		EXPECT_EQ(-1, msgbox_open(bad[i], MB_RW));
		EXPECT_EQ(EINVAL, errno) TH_LOG("open '%s'", bad[i]);
		errno = 0;
		EXPECT_EQ(-1, msgbox_destroy(bad[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("destroy '%s'", bad[i]);
	}
}

TEST_F(co, name_dot_and_dotdot_give_EINVAL)
{
	EXPECT_EQ(-1, mb_create(".", 4, 100, 300, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create("..", 4, 100, 300, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_open(".", MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_open("..", MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_destroy(".."));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(co, name_with_every_allowed_character_is_accepted)
{
	/* Dots are fine as long as the name is not exactly "." or "..". */
	const char *const fixed[] = { "...", ".-", "_", "-" };
	char name[MSGBOX_NAME_MAX];
	unsigned int i;
	int fd;

	snprintf(name, sizeof(name), "AZaz09._-%d", (int)getpid());
	fd = mb_create(name, 1, 1, 1, MB_RW);
	ASSERT_LE(0, fd) TH_LOG("create '%s': %s", name, strerror(errno));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, msgbox_destroy(name));

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		fd = mb_create(fixed[i], 1, 1, 1, MB_RW);
		EXPECT_LE(0, fd) TH_LOG("create '%s': %s", fixed[i], strerror(errno));
		if (fd >= 0) {
			EXPECT_EQ(0, close(fd));
			EXPECT_EQ(0, msgbox_destroy(fixed[i]));
		}
	}
}

/* ---- limits ------------------------------------------------------------ */

TEST_F(co, limits_zero_max_msgs_gives_EINVAL)
{
	EXPECT_EQ(-1, mb_create(self->name, 0, 100, 300, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_exists(self->name));
}

TEST_F(co, limits_zero_max_msg_size_gives_EINVAL)
{
	EXPECT_EQ(-1, mb_create(self->name, 4, 0, 300, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 4, 0, 0, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_exists(self->name));
}

TEST_F(co, limits_max_bytes_below_max_msg_size_gives_EINVAL)
{
	int fd;

	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 99, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 0, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_exists(self->name));

	/* Equal is the smallest valid value. */
	fd = mb_create(self->name, 4, 100, 100, MB_RW);
	EXPECT_LE(0, fd) TH_LOG("max_bytes == max_msg_size: %s", strerror(errno));
	if (fd >= 0)
		EXPECT_EQ(0, close(fd));
}

TEST_F(co, limits_huge_values_give_EINVAL)
{
	EXPECT_EQ(-1, mb_create(self->name, UINT32_MAX, 100, 300, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 4, UINT32_MAX, UINT64_MAX, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 4, 100, UINT64_MAX, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 1ull << 63, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, UINT32_MAX, UINT32_MAX, UINT64_MAX, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_exists(self->name));
}

TEST_F(co, limits_at_module_maximum_accepted_one_above_EINVAL)
{
	unsigned long long max_msgs, max_msg_size, max_bytes;
	struct msgbox_info info;
	int fd;

	if (!mb_param_get("max_msgs", &max_msgs) ||
	    !mb_param_get("max_msg_size", &max_msg_size) ||
	    !mb_param_get("max_mailbox_bytes", &max_bytes))
		SKIP(return, "module limits not in /sys/module/msgbox/parameters");
	ASSERT_LE(max_msg_size, max_bytes);

	EXPECT_EQ(-1, mb_create(self->name, max_msgs + 1, 1, max_bytes, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 1, max_msg_size + 1, max_bytes, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 1, 1, max_bytes + 1, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_exists(self->name));

	fd = mb_create(self->name, max_msgs, max_msg_size, max_bytes, MB_RW);
	ASSERT_LE(0, fd) TH_LOG("create at the module maximum (%llu, %llu, %llu): %s",
				max_msgs, max_msg_size, max_bytes, strerror(errno));
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(max_msgs, info.max_msgs);
	EXPECT_EQ(max_msg_size, info.max_msg_size);
	EXPECT_EQ(max_bytes, info.max_bytes);
	EXPECT_EQ(0, close(fd));
}

TEST_F_TIMEOUT(co, create_beyond_max_mailboxes_gives_ENOSPC, 120)
{
	unsigned long long max;
	char name[MSGBOX_NAME_MAX];
	int fd, i, err = 0;

	if (!mb_param_get("max_mailboxes", &max))
		SKIP(return, "max_mailboxes not in /sys/module/msgbox/parameters");
	/* Lower the limit if we may (restored by teardown): faster to fill. */
	if (max > 8 && mb_param_set("max_mailboxes", 8)) {
		self->saved_max = max;
		max = 8;
	}
	if (max > 4096)
		SKIP(return, "max_mailboxes=%llu is too many to fill here", max);

	for (i = 0; i <= (int)max; i++) {
		snprintf(name, sizeof(name), "%s-m%d", self->name, i);
		fd = mb_create(name, 1, 1, 1, MSGBOX_FD_RECV);
		if (fd < 0) {
			err = errno;
			break;
		}
		self->nmany = i + 1;
		close(fd);
	}
	EXPECT_EQ(ENOSPC, err);
	EXPECT_EQ(max, (unsigned long long)self->nmany)
		TH_LOG("created %d of max_mailboxes=%llu (mailboxes leaked by earlier tests?)",
		       self->nmany, max);

	/* Destroying one makes room for one. */
	ASSERT_LT(0, self->nmany);
	snprintf(name, sizeof(name), "%s-m%d", self->name, 0);
	ASSERT_EQ(0, msgbox_destroy(name));
	fd = mb_create(self->name, 1, 1, 1, MSGBOX_FD_RECV);
	EXPECT_LE(0, fd) TH_LOG("create after destroy: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-1, mb_create(name, 1, 1, 1, MSGBOX_FD_RECV));
	EXPECT_EQ(ENOSPC, errno);
}

/* ---- flags ------------------------------------------------------------- */

TEST_F(co, create_unknown_fd_flags_give_EINVAL)
{
	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 300, MB_RW | (MSGBOX_FD_ALL + 1)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 300, MB_RW | 1u << 31));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 300, ~0u));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_exists(self->name));
}

TEST_F(co, create_without_recv_or_send_gives_EINVAL)
{
	static const unsigned int flags[] = {
		0, MSGBOX_FD_NONBLOCK, MSGBOX_FD_CLOEXEC,
		MSGBOX_FD_NONBLOCK | MSGBOX_FD_CLOEXEC,
	};
	unsigned int i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		EXPECT_EQ(-1, mb_create(self->name, 4, 100, 300, flags[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("fd_flags %#x", flags[i]);
	}
	EXPECT_EQ(0, mb_exists(self->name));
}

TEST_F(co, create_unknown_flags_or_nonzero_pad_give_EINVAL)
{
	struct msgbox_create c;

	fill_create(&c, self->name, 4, 100, 300, MB_RW);
	c.flags = MSGBOX_CREATE_ALL + 1;
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);

	fill_create(&c, self->name, 4, 100, 300, MB_RW);
	c.flags = 1u << 31;
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);

	fill_create(&c, self->name, 4, 100, 300, MB_RW);
	c.__pad = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);

	fill_create(&c, self->name, 4, 100, 300, MB_RW);
	c.__pad = 1u << 31;
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(0, mb_exists(self->name));
}

TEST_F(co, create_raw_ioctl_returns_new_fd)
{
	struct msgbox_create c;
	struct msgbox_info info;
	int fd;

	fill_create(&c, self->name, 3, 30, 90, MB_RW);
	fd = ioctl(self->ctl, MSGBOX_IOC_CREATE, &c);
	ASSERT_LE(0, fd) TH_LOG("CREATE: %s", strerror(errno));
	EXPECT_NE(self->ctl, fd);
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(3, info.max_msgs);
	EXPECT_EQ(30, info.max_msg_size);
	EXPECT_EQ(90, info.max_bytes);
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, open_bad_fd_flags_or_flags_give_EINVAL)
{
	struct msgbox_open o;
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);

	EXPECT_EQ(-1, msgbox_open(self->name, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_open(self->name, MSGBOX_FD_NONBLOCK | MSGBOX_FD_CLOEXEC));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW | (MSGBOX_FD_ALL + 1)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgbox_open(self->name, MB_RW | 1u << 31));
	EXPECT_EQ(EINVAL, errno);

	fill_open(&o, self->name, MB_RW);
	o.flags = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_OPEN, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, destroy_nonzero_fd_flags_or_flags_give_EINVAL_and_keep_mailbox)
{
	struct msgbox_open o;
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);

	fill_open(&o, self->name, MSGBOX_FD_RECV);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_DESTROY, &o));
	EXPECT_EQ(EINVAL, errno);
	fill_open(&o, self->name, 0);
	o.flags = ~MSGBOX_DESTROY_UNLINK;
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_DESTROY, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, mb_exists(self->name));

	/* Still usable: no half-destroyed state. */
	EXPECT_EQ(0, msgbox_send(fd, "a", 1, MSGBOX_MSG_NONBLOCK));

	fill_open(&o, self->name, 0);
	EXPECT_EQ(0, ioctl(self->ctl, MSGBOX_IOC_DESTROY, &o));
	EXPECT_EQ(0, mb_exists(self->name));
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, fd_flags_nonblock_and_cloexec_apply_to_new_fd)
{
	int fd, fd2, fl;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	fl = fcntl(fd, F_GETFL);
	ASSERT_LE(0, fl);
	EXPECT_EQ(0, fl & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	fd2 = msgbox_open(self->name, MB_RW | MSGBOX_FD_NONBLOCK | MSGBOX_FD_CLOEXEC);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd2, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd2, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, close(fd2));

	fd2 = msgbox_open(self->name, MSGBOX_FD_RECV | MSGBOX_FD_NONBLOCK);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd2, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(fd2, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, close(fd2));
	EXPECT_EQ(0, close(fd));
	ASSERT_EQ(0, msgbox_destroy(self->name));

	fd = mb_create(self->name, 4, 100, 300,
		       MSGBOX_FD_SEND | MSGBOX_FD_NONBLOCK | MSGBOX_FD_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, close(fd));
}

/* ---- several descriptors, mailboxes and processes ------------------------ */

TEST_F(co, many_fds_in_one_process_share_the_mailbox)
{
	enum { NFDS = 200 };
	struct msgbox_info info;
	int fds[NFDS], i, n, v;

	fds[0] = mb_create(self->name, NFDS, 16, NFDS * 16, MB_RW);
	ASSERT_LE(0, fds[0]);
	for (i = 1; i < NFDS; i++) {
		fds[i] = msgbox_open(self->name, i % 2 ? MSGBOX_FD_SEND : MSGBOX_FD_RECV);
		ASSERT_LE(0, fds[i]) TH_LOG("open #%d: %s", i, strerror(errno));
	}
	/* Odd fds send their index, even ones (and fd 0) receive in order. */
	for (i = 1; i < NFDS; i += 2)
		ASSERT_EQ(0, msgbox_send(fds[i], &i, sizeof(i), MSGBOX_MSG_NONBLOCK));
	ASSERT_EQ(0, msgbox_info(fds[NFDS - 1], &info));
	EXPECT_EQ(NFDS / 2, info.nr_msgs);
	for (i = 1, n = 0; i < NFDS; i += 2, n += 2) {
		ASSERT_EQ(sizeof(v), msgbox_recv(fds[n], &v, sizeof(v), MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ(i, v);
	}
	for (i = 0; i < NFDS; i++)
		EXPECT_EQ(0, close(fds[i]));
}

TEST_F(co, many_mailboxes_in_one_process_are_independent)
{
	enum { NBOX = 16 };
	char name[MSGBOX_NAME_MAX];
	struct msgbox_info info;
	int fds[NBOX], i, v;

	for (i = 0; i < NBOX; i++) {
		extra_name(name, self->name, i);
		fds[i] = mb_create(name, i + 1, 16, 16 * (i + 1), MB_RW);
		ASSERT_LE(0, fds[i]) TH_LOG("create %s: %s", name, strerror(errno));
	}
	/* Mailbox i gets i + 1 messages: exactly full. */
	for (i = 0; i < NBOX; i++)
		for (v = 0; v <= i; v++)
			ASSERT_EQ(0, msgbox_send(fds[i], &v, sizeof(v), MSGBOX_MSG_NONBLOCK));
	for (i = 0; i < NBOX; i++) {
		ASSERT_EQ(0, msgbox_info(fds[i], &info));
		EXPECT_EQ((unsigned int)i + 1, info.nr_msgs);
		EXPECT_EQ((unsigned int)i + 1, info.max_msgs);
		extra_name(name, self->name, i);
		EXPECT_STREQ(name, info.name);
	}
	/* Destroying one leaves the others alone. */
	extra_name(name, self->name, 3);
	ASSERT_EQ(0, msgbox_destroy(name));
	for (i = 0; i < NBOX; i++) {
		if (i == 3) {
			EXPECT_EQ(-1, msgbox_info(fds[i], &info));
			EXPECT_EQ(EIDRM, errno);
			continue;
		}
		ASSERT_EQ(sizeof(v), msgbox_recv(fds[i], &v, sizeof(v), MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ(0, v);
	}
	for (i = 0; i < NBOX; i++)
		EXPECT_EQ(0, close(fds[i]));
}

TEST_F(co, open_in_forked_child_sees_same_mailbox)
{
	char buf[32];
	pid_t pid;
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "p", 1, 0));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_info info;
		int cfd = msgbox_open(self->name, MB_RW);

		CHILD_CHECK(cfd >= 0, 10);
		CHILD_CHECK(msgbox_info(cfd, &info) == 0, 11);
		CHILD_CHECK(!strcmp(info.name, self->name), 12);
		CHILD_CHECK(info.max_msgs == 4 && info.nr_msgs == 1, 13);
		CHILD_CHECK(msgbox_send(cfd, "from child", 10, 0) == 0, 14);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(1, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(10, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "from child", 10));
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, fd_inherited_across_fork_reaches_same_mailbox)
{
	char buf[32];
	pid_t pid;
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "to child", 8, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK) == 8, 10);
		CHILD_CHECK(!memcmp(buf, "to child", 8), 11);
		CHILD_CHECK(msgbox_send(fd, "to parent", 9, 0) == 0, 12);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(9, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "to parent", 9));
	EXPECT_EQ(0, close(fd));
}

/* ---- version ----------------------------------------------------------- */

TEST_F(co, version_ioctl_returns_abi_version)
{
	EXPECT_EQ(MSGBOX_ABI_VERSION, ioctl(self->ctl, MSGBOX_IOC_VERSION, 0));
	EXPECT_EQ(MSGBOX_ABI_VERSION, msgbox_abi_version());
}

/* ---- malformed ioctls -------------------------------------------------- */

/*
 * The *_SIZE_VER0 constants are the ABI: the kernel accepts sizes from them
 * upwards.  A structure of this header must be exactly that size, or a
 * caller built against it sends a size the kernel may misjudge.
 */
TEST(abi_struct_sizes_match_ver0_constants)
{
	EXPECT_EQ(MSGBOX_CREATE_SIZE_VER0, sizeof(struct msgbox_create));
	EXPECT_EQ(MSGBOX_OPEN_SIZE_VER0, sizeof(struct msgbox_open));
	EXPECT_EQ(MSGBOX_MSG_SIZE_VER0, sizeof(struct msgbox_msg));
	EXPECT_EQ(MSGBOX_INFO_SIZE_VER2, sizeof(struct msgbox_info));
	/* Every field 64-bit clean: same layout for 32-bit callers. */
	EXPECT_EQ(0, sizeof(struct msgbox_create) % 8);
	EXPECT_EQ(0, sizeof(struct msgbox_msg) % 8);
	EXPECT_EQ(0, sizeof(struct msgbox_info) % 8);
}

/* The same ioctl number with another structure size. */
#define IOC_RESIZED(cmd, size) \
	_IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), (size))

/* A program built against the first struct msgbox_info keeps working. */
TEST_F(co, info_of_the_first_size_still_works)
{
	struct msgbox_info info;
	int fd = mb_create(self->name, 4, 64, 256, MB_RW);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "m", 1, 0));
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, IOC_RESIZED(MSGBOX_IOC_INFO, MSGBOX_INFO_SIZE_VER0), &info));
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(4, info.max_msgs);
	/* Nothing written past the size the caller gave. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, info.direct);
	/* Nor by a program built against the second. */
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, IOC_RESIZED(MSGBOX_IOC_INFO, MSGBOX_INFO_SIZE_VER1), &info));
	EXPECT_EQ(0, info.direct);
	EXPECT_EQ((int)0xa5a5a5a5, info.notify_pid);
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(0, info.direct);
	EXPECT_EQ(0, info.notify_pid);
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, unknown_ioctl_gives_ENOTTY)
{
	struct msgbox_info info;
	char buf[256] = { 0 };
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);

	EXPECT_EQ(-1, ioctl(self->ctl, _IO(MSGBOX_IOC_MAGIC, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, _IOW(MSGBOX_IOC_MAGIC, 0x3f, struct msgbox_open), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, _IOW(MSGBOX_IOC_MAGIC + 1, 0x01, struct msgbox_create), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IO(MSGBOX_IOC_MAGIC, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOWR(MSGBOX_IOC_MAGIC, 0x23, struct msgbox_msg), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOWR('T', 0x20, struct msgbox_msg), buf));
	EXPECT_EQ(ENOTTY, errno);

	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, mailbox_ioctls_on_control_fd_give_ENOTTY)
{
	struct msgbox_info info;
	struct msgbox_msg m;
	char buf[8] = "x";

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = 1;
	m.type = MSGBOX_TYPE_DEFAULT;
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_SEND, &m));
	EXPECT_EQ(ENOTTY, errno);
	m.type = 0;
	m.len = sizeof(buf);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_RECV, &m));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_INFO, &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(co, control_ioctls_on_mailbox_fd_give_ENOTTY)
{
	char other[MSGBOX_NAME_MAX];
	struct msgbox_create c;
	struct msgbox_open o;
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	extra_name(other, self->name, 0);

	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_VERSION, 0));
	EXPECT_EQ(ENOTTY, errno);
	fill_create(&c, other, 4, 100, 300, MB_RW);
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_CREATE, &c));
	EXPECT_EQ(ENOTTY, errno);
	fill_open(&o, self->name, MB_RW);
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_OPEN, &o));
	EXPECT_EQ(ENOTTY, errno);
	fill_open(&o, self->name, 0);
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_DESTROY, &o));
	EXPECT_EQ(ENOTTY, errno);

	EXPECT_EQ(0, mb_exists(other));
	EXPECT_EQ(1, mb_exists(self->name));
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, struct_smaller_than_ver0_gives_EINVAL)
{
	char buf[256];
	struct msgbox_create c;
	struct msgbox_open o;
	struct msgbox_msg m;
	struct msgbox_info info;
	int fd;

	fill_create(&c, self->name, 4, 100, 300, MB_RW);
	EXPECT_EQ(-1, ioctl(self->ctl, IOC_RESIZED(MSGBOX_IOC_CREATE, MSGBOX_CREATE_SIZE_VER0 - 8), &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, IOC_RESIZED(MSGBOX_IOC_CREATE, MSGBOX_CREATE_SIZE_VER0 - 1), &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, IOC_RESIZED(MSGBOX_IOC_CREATE, 0), &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mb_exists(self->name));

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "m", 1, 0));

	fill_open(&o, self->name, MB_RW);
	EXPECT_EQ(-1, ioctl(self->ctl, IOC_RESIZED(MSGBOX_IOC_OPEN, MSGBOX_OPEN_SIZE_VER0 - 8), &o));
	EXPECT_EQ(EINVAL, errno);
	fill_open(&o, self->name, 0);
	EXPECT_EQ(-1, ioctl(self->ctl, IOC_RESIZED(MSGBOX_IOC_DESTROY, MSGBOX_OPEN_SIZE_VER0 - 1), &o));
	EXPECT_EQ(EINVAL, errno);

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)buf;
	m.len = 1;
	m.type = MSGBOX_TYPE_DEFAULT;
	EXPECT_EQ(-1, ioctl(fd, IOC_RESIZED(MSGBOX_IOC_SEND, MSGBOX_MSG_SIZE_VER0 - 16), &m));
	EXPECT_EQ(EINVAL, errno);
	m.type = 0;
	m.len = sizeof(buf);
	EXPECT_EQ(-1, ioctl(fd, IOC_RESIZED(MSGBOX_IOC_RECV, MSGBOX_MSG_SIZE_VER0 - 8), &m));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, IOC_RESIZED(MSGBOX_IOC_INFO, MSGBOX_INFO_SIZE_VER0 - 8), &info));
	EXPECT_EQ(EINVAL, errno);

	/* Nothing happened: still exactly one message, and it is "m". */
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(1, info.sent);
	EXPECT_EQ(0, info.received);
	EXPECT_EQ(1, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ('m', buf[0]);
	EXPECT_EQ(0, close(fd));
}

struct create_big { struct msgbox_create c; __u64 tail[2]; };
struct open_big { struct msgbox_open o; __u64 tail[2]; };
struct msg_big { struct msgbox_msg m; __u64 tail[2]; };
struct info_big { struct msgbox_info i; __u64 tail[2]; };

#define IOC_CREATE_BIG	IOC_RESIZED(MSGBOX_IOC_CREATE, sizeof(struct create_big))
#define IOC_OPEN_BIG	IOC_RESIZED(MSGBOX_IOC_OPEN, sizeof(struct open_big))
#define IOC_DESTROY_BIG	IOC_RESIZED(MSGBOX_IOC_DESTROY, sizeof(struct open_big))
#define IOC_SEND_BIG	IOC_RESIZED(MSGBOX_IOC_SEND, sizeof(struct msg_big))
#define IOC_RECV_BIG	IOC_RESIZED(MSGBOX_IOC_RECV, sizeof(struct msg_big))
#define IOC_INFO_BIG	IOC_RESIZED(MSGBOX_IOC_INFO, sizeof(struct info_big))

TEST_F(co, struct_larger_with_nonzero_tail_gives_E2BIG)
{
	struct msgbox_info info;
	struct create_big cb;
	struct open_big ob;
	struct msg_big mb;
	char buf[16];
	int fd;

	memset(&cb, 0, sizeof(cb));
	fill_create(&cb.c, self->name, 4, 100, 300, MB_RW);
	cb.tail[1] = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, IOC_CREATE_BIG, &cb));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(0, mb_exists(self->name));

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "m", 1, 0));

	memset(&ob, 0, sizeof(ob));
	fill_open(&ob.o, self->name, MB_RW);
	ob.tail[0] = 1ull << 63;
	EXPECT_EQ(-1, ioctl(self->ctl, IOC_OPEN_BIG, &ob));
	EXPECT_EQ(E2BIG, errno);
	fill_open(&ob.o, self->name, 0);
	EXPECT_EQ(-1, ioctl(self->ctl, IOC_DESTROY_BIG, &ob));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(1, mb_exists(self->name));

	memset(&mb, 0, sizeof(mb));
	mb.m.data = (uintptr_t)"s";
	mb.m.len = 1;
	mb.m.type = MSGBOX_TYPE_DEFAULT;
	mb.tail[1] = 0xff;
	EXPECT_EQ(-1, ioctl(fd, IOC_SEND_BIG, &mb));
	EXPECT_EQ(E2BIG, errno);

	memset(&mb, 0, sizeof(mb));
	mb.m.data = (uintptr_t)buf;
	mb.m.len = sizeof(buf);
	mb.tail[0] = 1;
	EXPECT_EQ(-1, ioctl(fd, IOC_RECV_BIG, &mb));
	EXPECT_EQ(E2BIG, errno);

	/* Neither the send nor the receive happened. */
	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(1, info.sent);
	EXPECT_EQ(0, info.received);
	EXPECT_EQ(1, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ('m', buf[0]);
	EXPECT_EQ(0, close(fd));
}

TEST_F(co, struct_larger_with_zero_tail_is_accepted)
{
	struct create_big cb;
	struct open_big ob;
	struct msg_big mb;
	struct info_big ib;
	char buf[16];
	__u64 id;
	int fd, fd2;

	memset(&cb, 0, sizeof(cb));
	fill_create(&cb.c, self->name, 4, 100, 300, MB_RW);
	fd = ioctl(self->ctl, IOC_CREATE_BIG, &cb);
	ASSERT_LE(0, fd) TH_LOG("CREATE with larger struct: %s", strerror(errno));

	memset(&ob, 0, sizeof(ob));
	fill_open(&ob.o, self->name, MB_RW);
	fd2 = ioctl(self->ctl, IOC_OPEN_BIG, &ob);
	ASSERT_LE(0, fd2) TH_LOG("OPEN with larger struct: %s", strerror(errno));

	memset(&mb, 0, sizeof(mb));
	mb.m.data = (uintptr_t)"big";
	mb.m.len = 3;
	mb.m.type = 5;
	ASSERT_EQ(0, ioctl(fd, IOC_SEND_BIG, &mb)) TH_LOG("SEND: %s", strerror(errno));
	id = mb.m.id;

	memset(&ib, 0, sizeof(ib));
	ASSERT_EQ(0, ioctl(fd2, IOC_INFO_BIG, &ib)) TH_LOG("INFO: %s", strerror(errno));
	EXPECT_EQ(4, ib.i.max_msgs);
	EXPECT_EQ(100, ib.i.max_msg_size);
	EXPECT_EQ(300, ib.i.max_bytes);
	EXPECT_EQ(1, ib.i.nr_msgs);
	EXPECT_EQ(3, ib.i.nr_bytes);
	EXPECT_STREQ(self->name, ib.i.name);

	memset(&mb, 0, sizeof(mb));
	mb.m.data = (uintptr_t)buf;
	mb.m.len = sizeof(buf);
	ASSERT_EQ(0, ioctl(fd2, IOC_RECV_BIG, &mb)) TH_LOG("RECV: %s", strerror(errno));
	EXPECT_EQ(3, mb.m.len);
	EXPECT_EQ(5, mb.m.type);
	EXPECT_EQ(id, mb.m.id);
	EXPECT_EQ(0, memcmp(buf, "big", 3));
	/* The kernel does not know the tail: it must not put anything there. */
	EXPECT_EQ(0, mb.tail[0]);
	EXPECT_EQ(0, mb.tail[1]);

	memset(&ob, 0, sizeof(ob));
	fill_open(&ob.o, self->name, 0);
	EXPECT_EQ(0, ioctl(self->ctl, IOC_DESTROY_BIG, &ob)) TH_LOG("DESTROY: %s", strerror(errno));
	EXPECT_EQ(0, mb_exists(self->name));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(fd2));
}

TEST_F(co, bad_pointer_gives_EFAULT)
{
	struct msgbox_info info;
	void *bad;
	int fd;

	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);

	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_CREATE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_CREATE, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_OPEN, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_DESTROY, bad));
	EXPECT_EQ(EFAULT, errno);

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_SEND, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_SEND, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_RECV, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_INFO, bad));
	EXPECT_EQ(EFAULT, errno);
	/* A kernel address is as bad as an unmapped one. */
	EXPECT_EQ(-1, ioctl(fd, MSGBOX_IOC_INFO, (void *)0xffffffff81000000ul));
	EXPECT_EQ(EFAULT, errno);

	ASSERT_EQ(0, msgbox_info(fd, &info));
	EXPECT_EQ(0, info.sent);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, munmap(bad, 4096));
}

TEST_F(co, struct_straddling_unmapped_page_gives_EFAULT_and_creates_nothing)
{
	struct msgbox_create c;
	struct msgbox_open o;
	char *map, *p;
	int fd;

	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + 4096, 4096, PROT_NONE));

	/* All but the last 8 bytes (the end of the name) are readable. */
	fill_create(&c, self->name, 4, 100, 300, MB_RW);
	p = map + 4096 - sizeof(c) + 8;
	memcpy(p, &c, sizeof(c) - 8);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_CREATE, p));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, mb_exists(self->name));

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	fill_open(&o, self->name, 0);
	p = map + 4096 - sizeof(o) + 1;
	memcpy(p, &o, sizeof(o) - 1);
	EXPECT_EQ(-1, ioctl(self->ctl, MSGBOX_IOC_DESTROY, p));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, mb_exists(self->name));

	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, munmap(map, 8192));
}

/* ---- failures change nothing ------------------------------------------- */

TEST_F(co, failed_calls_leave_mailbox_unchanged)
{
	struct msgbox_info before, after;
	struct msgbox_msg m;
	char big[200], buf[200];
	int fd;

	fd = mb_create(self->name, 4, 100, 300, MB_RW);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, msgbox_send(fd, "one", 3, 0));
	ASSERT_EQ(0, msgbox_send(fd, "two!", 4, 0));
	ASSERT_EQ(0, msgbox_info(fd, &before));

	/* Each of these must fail and change nothing. */
	EXPECT_EQ(-1, mb_create(self->name, 4, 100, 300, MB_RW));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, mb_create(self->name, 0, 100, 300, MB_RW));
	EXPECT_EQ(EINVAL, errno);
	memset(big, 'b', sizeof(big));
	EXPECT_EQ(-1, msgbox_send(fd, big, 101, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, msgbox_recv(fd, buf, 2, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EMSGSIZE, errno);
	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)big;
	m.len = 1;
	m.type = MSGBOX_TYPE_DEFAULT;
	m.flags = MSGBOX_MSG_ALL + 1;
	EXPECT_EQ(-1, msgbox_sendmsg(fd, &m));
	EXPECT_EQ(EINVAL, errno);
	m.flags = 0;
	m.data = (uintptr_t)1;	/* unmapped: EFAULT while copying in */
	EXPECT_EQ(-1, msgbox_sendmsg(fd, &m));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, msgbox_open(self->name, 0));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, msgbox_info(fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)))
		TH_LOG("info changed: nr_msgs %u->%u nr_bytes %llu->%llu sent %llu->%llu received %llu->%llu",
		       before.nr_msgs, after.nr_msgs,
		       (unsigned long long)before.nr_bytes, (unsigned long long)after.nr_bytes,
		       (unsigned long long)before.sent, (unsigned long long)after.sent,
		       (unsigned long long)before.received, (unsigned long long)after.received);
	EXPECT_EQ(3, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	EXPECT_EQ(4, msgbox_recv(fd, buf, sizeof(buf), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(buf, "two!", 4));
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
