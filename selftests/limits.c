// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: system-wide limits (ENOSPC) and per-user quotas
 * (EDQUOT), each at limit - 1, limit and limit + 1, with what is released
 * when a mailbox goes; CAP_SYS_RESOURCE lifting the per-user quotas.
 * Module parameters are changed through /sys/module/msgbox/parameters and
 * restored in teardown.
 */
#include "msgbox_test.h"

#define OTHER_UID	1000
#define NR_PARAMS	4

static const char *const params[NR_PARAMS] = {
	"user_max_mailboxes", "user_max_bytes", "max_total_bytes", "max_mailboxes",
};

FIXTURE(li) {
	char name[32];				/* prefix of names */
	unsigned long long saved[NR_PARAMS];	/* parameters to restore */
	bool have_saved;
};

FIXTURE_SETUP(li)
{
	int i;

	mb_make_name(self->name, sizeof(self->name), "li");
	self->have_saved = false;
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	if (geteuid() != 0)
		SKIP(return, "needs root to set module parameters");
	for (i = 0; i < NR_PARAMS; i++)
		ASSERT_TRUE(mb_param_get(params[i], &self->saved[i]));
	self->have_saved = true;
}

FIXTURE_TEARDOWN(li)
{
	char n[48];
	int i;

	for (i = 0; i < 8; i++) {
		snprintf(n, sizeof(n), "%s-%d", self->name, i);
		EXPECT_EQ(0, mb_destroy_quiet(n));
	}
	if (self->have_saved)
		for (i = 0; i < NR_PARAMS; i++)
			EXPECT_TRUE(mb_param_set(params[i], self->saved[i]));
}

/* Create mailbox @i of this test with @max_bytes; the fd or -1. */
static int create_nth(const char *prefix, int i, unsigned long long max_bytes,
		      unsigned int flags)
{
	struct msgbox_attr attr;
	char n[48];

	snprintf(n, sizeof(n), "%s-%d", prefix, i);
	msgbox_attr_init(&attr);
	attr.max_msg_size = 64;
	attr.max_bytes = max_bytes;
	attr.mode = 0666;
	attr.flags = flags;
	return msgbox_create(n, &attr, MB_RW);
}

static int destroy_nth(const char *prefix, int i)
{
	char n[48];

	snprintf(n, sizeof(n), "%s-%d", prefix, i);
	return msgbox_destroy(n);
}

TEST_F(li, user_mailbox_quota_gives_EDQUOT_at_limit_plus_one)
{
	pid_t pid;

	ASSERT_TRUE(mb_param_set("user_max_mailboxes", 3));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd, one;

		CHILD_CHECK(mb_become(OTHER_UID, OTHER_UID) == 0, 2);
		CHILD_CHECK(create_nth(self->name, 0, 1024, 0) >= 0, 3);
		one = create_nth(self->name, 1, 1024, 0);			/* limit - 1 */
		CHILD_CHECK(one >= 0, 4);
		fd = create_nth(self->name, 2, 1024, 0);			/* limit */
		CHILD_CHECK(fd >= 0, 5);
		CHILD_CHECK(create_nth(self->name, 3, 1024, 0) == -1, 6);	/* limit + 1 */
		CHILD_CHECK(errno == EDQUOT, 7);
		/* Anonymous mailboxes count too. */
		CHILD_CHECK(msgbox_create_anon(NULL, MB_RW) == -1, 8);
		CHILD_CHECK(errno == EDQUOT, 9);
		/* A destroyed mailbox is charged until its last close. */
		CHILD_CHECK(destroy_nth(self->name, 1) == 0, 10);
		CHILD_CHECK(create_nth(self->name, 3, 1024, 0) == -1, 11);
		CHILD_CHECK(errno == EDQUOT, 12);
		CHILD_CHECK(close(one) == 0, 13);
		CHILD_CHECK(create_nth(self->name, 3, 1024, 0) >= 0, 14);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(li, user_byte_quota_counts_max_bytes_and_is_released_with_the_mailbox)
{
	pid_t pid;

	ASSERT_TRUE(mb_param_set("user_max_bytes", 4096));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_LIMITS,
					     .max_msgs = 4, .max_msg_size = 64 };
		struct msgbox_info info;
		int a, e;

		CHILD_CHECK(mb_become(OTHER_UID, OTHER_UID) == 0, 2);
		a = create_nth(self->name, 0, 2048, 0);
		CHILD_CHECK(a >= 0, 3);
		CHILD_CHECK(create_nth(self->name, 1, 2049, 0) == -1, 4);	/* limit + 1 */
		CHILD_CHECK(errno == EDQUOT, 5);
		e = create_nth(self->name, 1, 2048, MSGBOX_CREATE_EPHEMERAL);	/* limit */
		CHILD_CHECK(e >= 0, 6);
		/* Raising max_bytes is charged too, and refused past the quota. */
		sa.max_bytes = 2049;
		CHILD_CHECK(msgbox_setattr(a, &sa) == -1, 7);
		CHILD_CHECK(errno == EDQUOT, 8);
		CHILD_CHECK(msgbox_info(a, &info) == 0 && info.max_bytes == 2048, 9);
		/* The ephemeral mailbox's charge goes with its descriptor. */
		CHILD_CHECK(close(e) == 0, 10);
		CHILD_CHECK(msgbox_setattr(a, &sa) == 0, 11);
		/* Lowering releases: 2049 + 2047 fits again. */
		CHILD_CHECK(create_nth(self->name, 2, 2048, 0) == -1, 12);
		CHILD_CHECK(errno == EDQUOT, 13);
		CHILD_CHECK(create_nth(self->name, 2, 2047, 0) >= 0, 14);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(li, CAP_SYS_RESOURCE_lifts_the_user_quota)
{
	int a, b;

	ASSERT_TRUE(mb_param_set("user_max_mailboxes", 1));
	a = create_nth(self->name, 0, 1024, 0);
	ASSERT_LE(0, a);
	b = create_nth(self->name, 1, 1024, 0);
	EXPECT_LE(0, b);
	close(a);
	close(b);
}

TEST_F(li, system_byte_limit_gives_ENOSPC_even_for_root)
{
	unsigned long long base;
	int a, b;

	/* Relative to what other mailboxes hold now. */
	ASSERT_TRUE(mb_param_get("total_bytes", &base));
	ASSERT_TRUE(mb_param_set("max_total_bytes", base + (1ull << 20)));
	a = create_nth(self->name, 0, 512 * 1024, 0);
	ASSERT_LE(0, a) TH_LOG("other mailboxes hold the budget: %s", strerror(errno));
	b = create_nth(self->name, 1, 512 * 1024 + 1, 0);
	EXPECT_EQ(-1, b);
	EXPECT_EQ(ENOSPC, errno);
	b = create_nth(self->name, 1, 512 * 1024, 0);
	EXPECT_LE(0, b);
	close(a);
	close(b);
}

TEST_F(li, max_mailboxes_counts_anonymous_mailboxes_too)
{
	unsigned long long base, now;
	int fds[2];

	/* Whatever exists now plus two more. */
	ASSERT_TRUE(mb_param_get("total_mailboxes", &base));
	ASSERT_TRUE(mb_param_set("max_mailboxes", base + 2));
	fds[0] = msgbox_create_anon(NULL, MB_RW);
	fds[1] = msgbox_create_anon(NULL, MB_RW);
	ASSERT_LE(0, fds[0]);
	ASSERT_LE(0, fds[1]);
	EXPECT_EQ(-1, msgbox_create_anon(NULL, MB_RW));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, create_nth(self->name, 0, 1024, 0));
	EXPECT_EQ(ENOSPC, errno);
	close(fds[1]);
	fds[1] = create_nth(self->name, 0, 1024, 0);
	EXPECT_LE(0, fds[1]);
	close(fds[0]);
	close(fds[1]);
	/* The anonymous ones are gone; the named one stays until destroyed. */
	ASSERT_TRUE(mb_param_get("total_mailboxes", &now));
	EXPECT_EQ(base + 1, now);
}

TEST_F(li, module_parameters_reject_zero)
{
	unsigned long long v;
	int i;

	for (i = 0; i < NR_PARAMS; i++) {
		EXPECT_FALSE(mb_param_set(params[i], 0)) TH_LOG("%s", params[i]);
		ASSERT_TRUE(mb_param_get(params[i], &v));
		EXPECT_EQ(self->saved[i], v);
	}
}

TEST_HARNESS_MAIN
