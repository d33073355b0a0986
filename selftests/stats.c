// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: statistics from MSGBOX_IOC_INFO (high-water marks,
 * rejected and timed-out counts, times, last sender and receiver, the
 * queueing-latency histogram and its percentiles) and the system-wide
 * listing in /proc/msgbox.
 */
#include "msgbox_test.h"

FIXTURE(st) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
};

/* 3 messages of up to 16 bytes. */
FIXTURE_SETUP(st)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "st");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 3, 16, 48, MB_RW);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->name, strerror(errno));
}

FIXTURE_TEARDOWN(st)
{
	if (self->fd >= 0)
		EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

TEST_F(st, high_water_marks_stay_after_the_queue_drains)
{
	struct msgbox_info info;
	char buf[16];

	ASSERT_EQ(0, msgbox_send(self->fd, "aaaa", 4, 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "bbbbbbbb", 8, 0));
	ASSERT_EQ(4, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, msgbox_send(self->fd, "c", 1, 0));
	ASSERT_EQ(8, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(2, info.hwm_msgs);
	EXPECT_EQ(12, info.hwm_bytes);
	EXPECT_EQ(3, info.sent);
	EXPECT_EQ(3, info.received);
}

TEST_F(st, full_sends_count_as_rejected_invalid_ones_do_not)
{
	struct msgbox_info info;
	char big[17] = { 0 };
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, "x", 1, 0));
	EXPECT_EQ(-1, msgbox_send(self->fd, "x", 1, MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, msgbox_send(self->fd, big, sizeof(big), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, write(self->fd, big, sizeof(big)));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.rejected);
	EXPECT_EQ(0, info.timed_out);
}

TEST_F(st, expired_waits_count_as_timed_out)
{
	struct msgbox_info info;
	char buf[16];
	int i;

	EXPECT_EQ(-1, msgbox_recv_timeout(self->fd, buf, sizeof(buf), 10000000));
	EXPECT_EQ(ETIMEDOUT, errno);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, "x", 1, 0));
	EXPECT_EQ(-1, msgbox_send_timeout(self->fd, "x", 1, 10000000));
	EXPECT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(2, info.timed_out);
	EXPECT_EQ(0, info.rejected);
}

TEST_F(st, times_and_last_sender_and_receiver_are_recorded)
{
	__u64 before = mb_now_ns(CLOCK_REALTIME);
	struct msgbox_info info;
	char buf[16];
	pid_t pid;

	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.last_send_ns);
	EXPECT_EQ(0, info.last_recv_ns);
	EXPECT_EQ(0, info.last_send_pid);
	EXPECT_GE(before + 1000000000ull, info.ctime_ns);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(msgbox_send(self->fd, "hi", 2, 0) == 0, 2);
		pause();	/* stays alive, so its pid stays visible */
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_queued(self->fd));
	ASSERT_EQ(2, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(pid, info.last_send_pid);
	EXPECT_EQ(getpid(), info.last_recv_pid);
	EXPECT_LE(before, info.last_send_ns);
	EXPECT_LE(info.last_send_ns, info.last_recv_ns);
	EXPECT_GE(mb_now_ns(CLOCK_REALTIME) + 1000000ull, info.last_recv_ns);
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(st, latency_histogram_counts_every_receive_and_orders_percentiles)
{
	struct msgbox_info info;
	__u64 total = 0;
	char buf[16];
	int i;

	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(0, info.lat_p50_ns);
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, msgbox_send(self->fd, "l", 1, 0));
		ASSERT_EQ(1, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	}
	/* One message waits 60 ms: it lands in the 2^26 ns bucket. */
	ASSERT_EQ(0, msgbox_send(self->fd, "slow", 4, 0));
	mb_sleep_ms(60);
	ASSERT_EQ(4, msgbox_recv(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	for (i = 0; i < MSGBOX_LAT_BUCKETS; i++)
		total += info.lat_hist[i];
	EXPECT_EQ(info.received, total);
	EXPECT_LE(1, info.lat_p50_ns);
	EXPECT_LE(info.lat_p50_ns, info.lat_p90_ns);
	EXPECT_LE(info.lat_p90_ns, info.lat_p99_ns);
	EXPECT_LE(60000000ull, info.lat_p99_ns);
	EXPECT_LE(1, info.lat_hist[26] + info.lat_hist[27] + info.lat_hist[28]);
}

/* The /proc/msgbox line for @name, or an empty string. */
static void proc_line(const char *name, char *line, size_t size)
{
	char buf[512];
	FILE *f = fopen("/proc/msgbox", "r");

	line[0] = '\0';
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		char n[MSGBOX_NAME_MAX];

		if (sscanf(buf, "%63s", n) == 1 && !strcmp(n, name)) {
			snprintf(line, size, "%s", buf);
			break;
		}
	}
	fclose(f);
}

TEST_F(st, proc_listing_shows_one_line_per_mailbox_with_stable_columns)
{
	unsigned int mode, msgs, maxmsgs, flags;
	unsigned long long bytes, maxbytes, sent, recvd;
	unsigned int uid, gid, maxsize;
	char line[512], hdr[512], n[64];
	FILE *f;

	f = fopen("/proc/msgbox", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(hdr, sizeof(hdr), f));
	fclose(f);
	EXPECT_EQ(0, strncmp(hdr, "name", 4)) TH_LOG("header: %s", hdr);

	ASSERT_EQ(0, msgbox_send(self->fd, "abc", 3, 0));
	proc_line(self->name, line, sizeof(line));
	ASSERT_NE(0, line[0]);
	ASSERT_EQ(12, sscanf(line, "%63s %u %u %o %u %u %llu %llu %u %llu %llu %x",
			     n, &uid, &gid, &mode, &msgs, &maxmsgs, &bytes,
			     &maxbytes, &maxsize, &sent, &recvd, &flags))
		TH_LOG("line: %s", line);
	EXPECT_EQ(0, uid);
	EXPECT_EQ(1, msgs);
	EXPECT_EQ(3, maxmsgs);
	EXPECT_EQ(3, bytes);
	EXPECT_EQ(48, maxbytes);
	EXPECT_EQ(16, maxsize);
	EXPECT_EQ(1, sent);
	EXPECT_EQ(0, recvd);

	ASSERT_EQ(0, msgbox_destroy(self->name));
	proc_line(self->name, line, sizeof(line));
	EXPECT_EQ(0, line[0]);
}

TEST_F(st, proc_listing_hides_mailboxes_the_reader_cannot_access)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_MODE, .mode = 0600 };
	char line[512];
	pid_t pid;

	ASSERT_EQ(0, msgbox_setattr(self->fd, &sa));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(setresgid(1000, 1000, 1000) == 0, 2);
		CHILD_CHECK(setresuid(1000, 1000, 1000) == 0, 3);
		proc_line(self->name, line, sizeof(line));
		CHILD_CHECK(line[0] == 0, 4);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	sa.mode = 0604;
	ASSERT_EQ(0, msgbox_setattr(self->fd, &sa));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(setresgid(1000, 1000, 1000) == 0, 2);
		CHILD_CHECK(setresuid(1000, 1000, 1000) == 0, 3);
		proc_line(self->name, line, sizeof(line));
		CHILD_CHECK(line[0] != 0, 4);
		_exit(0);
	}
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_HARNESS_MAIN
