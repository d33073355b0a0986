// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: batches.  Many messages per system call, in order,
 * each entry handled as its single ioctl would; partial success says how
 * many went through and what stopped the rest.
 */
#include <pthread.h>
#include "msgbox_test.h"

FIXTURE(ba) {
	char name[32];		/* unique to this test */
	int fd;			/* RECV|SEND descriptor on it */
	int vals[16];		/* payloads */
	struct msgbox_msg m[16];
};

FIXTURE_SETUP(ba)
{
	self->fd = -1;
	mb_make_name(self->name, sizeof(self->name), "ba");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 8, 64, 512, MB_RW);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ba)
{
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

static void set_send(FIXTURE_DATA(ba) *self, int n)
{
	for (int i = 0; i < n; i++) {
		self->vals[i] = 100 + i;
		memset(&self->m[i], 0, sizeof(self->m[i]));
		self->m[i].data = (uintptr_t)&self->vals[i];
		self->m[i].len = sizeof(int);
		self->m[i].type = 1 + i % 3;
		self->m[i].flags = MSGBOX_MSG_NONBLOCK;
	}
}

static void set_recv(FIXTURE_DATA(ba) *self, int n)
{
	for (int i = 0; i < n; i++) {
		self->vals[i] = -1;
		memset(&self->m[i], 0, sizeof(self->m[i]));
		self->m[i].data = (uintptr_t)&self->vals[i];
		self->m[i].len = sizeof(int);
		self->m[i].flags = MSGBOX_MSG_NONBLOCK;
	}
}

/*
 * Fill the mailbox (8 messages, values 100..107) and fork a child whose
 * send of 999 at @prio blocks on it.  Returns the child's pid once it is
 * asleep, or -1.
 */
static pid_t fill_and_block_a_sender(FIXTURE_DATA(ba) *self, __u32 prio)
{
	struct msgbox_msg m;
	int err = 1, v = 999;
	pid_t pid;

	set_send(self, 8);
	if (msgbox_send_batch(self->fd, self->m, 8, &err) != 8)
		return -1;
	pid = fork();
	if (pid == 0) {
		mb_msg_init(&m, &v, sizeof(v), 1, 0);
		m.priority = prio;
		/* Blocks: the mailbox is full. */
		CHILD_CHECK(msgbox_sendmsg(self->fd, &m) == 0, 2);
		_exit(0);
	}
	if (pid < 0 || mb_wait_waiters(self->fd, 0, 1))
		return -1;
	return pid;
}

TEST_F(ba, send_batch_keeps_order_and_receive_batch_takes_what_is_ready)
{
	int err = 1, i;

	set_send(self, 5);
	self->m[3].priority = 9;
	EXPECT_EQ(5, msgbox_send_batch(self->fd, self->m, 5, &err));
	EXPECT_EQ(0, err);
	for (i = 1; i < 5; i++)
		EXPECT_LT(self->m[i - 1].id, self->m[i].id);
	set_recv(self, 16);
	EXPECT_EQ(5, msgbox_recv_batch(self->fd, self->m, 16, &err));
	EXPECT_EQ(0, err);		/* running out is no error */
	EXPECT_EQ(103, self->vals[0]);	/* priority first */
	EXPECT_EQ(100, self->vals[1]);
	EXPECT_EQ(101, self->vals[2]);
	EXPECT_EQ(102, self->vals[3]);
	EXPECT_EQ(104, self->vals[4]);
	EXPECT_EQ(2, self->m[2].type);	/* 101 was sent with type 2 */
	EXPECT_EQ(getpid(), self->m[0].sender_pid);
	EXPECT_EQ(-1, self->vals[5]);
}

TEST_F(ba, send_batch_stops_at_the_first_failure_and_says_which)
{
	struct msgbox_info info;
	int err = 0;

	set_send(self, 4);
	self->m[2].type = 0;			/* invalid */
	EXPECT_EQ(2, msgbox_send_batch(self->fd, self->m, 4, &err));
	EXPECT_EQ(-EINVAL, err);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(2, info.nr_msgs);
	/* The first entry failing fails the call, and sends nothing. */
	set_send(self, 2);
	self->m[0].len = 65;			/* over max_msg_size */
	EXPECT_EQ(-1, msgbox_send_batch(self->fd, self->m, 2, &err));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-EMSGSIZE, err);
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(2, info.nr_msgs);
}

TEST_F(ba, send_batch_into_a_full_mailbox_reports_EAGAIN_after_what_fit)
{
	int err = 0;

	set_send(self, 10);
	EXPECT_EQ(8, msgbox_send_batch(self->fd, self->m, 10, &err));
	EXPECT_EQ(-EAGAIN, err);
}

TEST_F(ba, blocking_receive_batch_waits_for_the_first_message_only)
{
	int err = 1;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int v = 7;

		mb_sleep_ms(100);
		CHILD_CHECK(msgbox_send(self->fd, &v, sizeof(v), 0) == 0, 2);
		_exit(0);
	}
	set_recv(self, 4);
	for (int i = 0; i < 4; i++)
		self->m[i].flags = 0;		/* later entries never wait */
	EXPECT_EQ(1, msgbox_recv_batch(self->fd, self->m, 4, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(7, self->vals[0]);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

/*
 * A batch wakes its peers once, at its end: a receiver sleeping in a
 * receive batch is handed the first message of a send batch but runs only
 * once the whole batch is in, so it takes all of it in one call (woken at
 * the first message, it would race the sender and take fewer).
 */
TEST_F(ba, sleeping_batch_receiver_gets_a_whole_send_batch_at_once)
{
	int err = 1, round;
	pid_t pid;

	for (round = 0; round < 5; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			set_send(self, 8);
			CHILD_CHECK(mb_wait_waiters(self->fd, 1, 0) == 0, 2);
			CHILD_CHECK(msgbox_send_batch(self->fd, self->m, 8,
						      NULL) == 8, 3);
			_exit(0);
		}
		set_recv(self, 8);
		for (int i = 0; i < 8; i++)
			self->m[i].flags = 0;
		EXPECT_EQ(8, msgbox_recv_batch(self->fd, self->m, 8, &err));
		EXPECT_EQ(0, err);
		for (int i = 0; i < 8; i++)
			EXPECT_EQ(100 + i, self->vals[i]);
		EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	}
}

/* A sender blocked on a full mailbox gets in, in order, during a batch. */
TEST_F(ba, receive_batch_admits_a_blocked_sender_in_order)
{
	struct msgbox_info info;
	int err = 1, v;
	pid_t pid;

	pid = fill_and_block_a_sender(self, 0);
	ASSERT_LT(0, pid);
	set_recv(self, 8);
	EXPECT_EQ(8, msgbox_recv_batch(self->fd, self->m, 8, &err));
	/* Its message went in, in order, while the batch ran. */
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, msgbox_info(self->fd, &info));
	EXPECT_EQ(1, info.nr_msgs);
	EXPECT_EQ(sizeof(v), msgbox_recv(self->fd, &v, sizeof(v),
					 MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(999, v);
}

/*
 * Plain entries are queued 16 at a time under one lock; others (here a
 * tracked one) go one by one.  Across those boundaries order and ids hold,
 * and an entry the batch never reached keeps its id field.
 */
TEST_F(ba, long_send_batch_keeps_order_across_chunks_and_mixed_entries)
{
	struct msgbox_msg m[41];
	int vals[41], got[64], err = 1, fd, i;
	char name[40];

	snprintf(name, sizeof(name), "%s-long", self->name);
	fd = mb_create(name, 64, 64, 64 * 64, MB_RW);
	ASSERT_LE(0, fd);
	memset(m, 0, sizeof(m));
	for (i = 0; i < 41; i++) {
		vals[i] = 1000 + i;
		m[i].data = (uintptr_t)&vals[i];
		m[i].len = sizeof(int);
		m[i].type = 1;
		m[i].id = 0xdeadbeef;
	}
	m[20].flags = MSGBOX_MSG_TRACK;
	m[40].type = 0;		/* invalid: the batch stops there */
	EXPECT_EQ(40, msgbox_send_batch(fd, m, 41, &err));
	EXPECT_EQ(-EINVAL, err);
	for (i = 1; i < 40; i++)
		EXPECT_EQ(m[i - 1].id + 1, m[i].id) TH_LOG("entry %d", i);
	EXPECT_EQ(0xdeadbeef, m[40].id);
	for (i = 0; i < 40; i++) {
		ASSERT_EQ(sizeof(int), msgbox_recv(fd, &got[i], sizeof(int),
						   MSGBOX_MSG_NONBLOCK));
		EXPECT_EQ(1000 + i, got[i]);
	}
	EXPECT_EQ(-1, msgbox_recv(fd, &got[0], sizeof(int), MSGBOX_MSG_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
	EXPECT_EQ(0, msgbox_destroy(name));
}

/* A blocking entry that finds no room sleeps until a receiver makes some. */
TEST_F(ba, blocking_send_batch_sleeps_mid_chunk_until_room)
{
	int err = 1, i;
	pid_t pid;

	set_send(self, 12);
	for (i = 0; i < 12; i++)
		self->m[i].flags = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int v;

		/* The batch's ninth entry sleeps: the mailbox holds 8. */
		CHILD_CHECK(mb_wait_waiters(self->fd, 0, 1) == 0, 2);
		for (i = 0; i < 12; i++) {
			CHILD_CHECK(msgbox_recv(self->fd, &v, sizeof(v), 0) == sizeof(v), 3);
			CHILD_CHECK(v == 100 + i, 4);
		}
		_exit(0);
	}
	EXPECT_EQ(12, msgbox_send_batch(self->fd, self->m, 12, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(ba, batch_arguments_are_validated)
{
	struct msgbox_batch b;

	set_send(self, 2);
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)self->m;
	b.msg_size = sizeof(struct msgbox_msg);
	b.count = 0;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.count = MSGBOX_BATCH_MAX + 1;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.count = 2;
	b.msg_size = MSGBOX_MSG_SIZE_VER0 - 8;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.msg_size = sizeof(struct msgbox_msg);
	b.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.__reserved = 0;
	b.msgs = 8;				/* unmapped */
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
}

/* A caller's struct msgbox_msg from a later, larger ABI: the stride. */
struct ba_msg_big {
	struct msgbox_msg m;
	__u64 tail[2];
};

TEST_F(ba, batch_entries_of_a_larger_struct_size_work_and_check_their_tail)
{
	struct ba_msg_big e[3];
	struct msgbox_batch b;
	int v[3] = { 7, 8, 9 }, got[3] = { -1, -1, -1 };

	memset(e, 0, sizeof(e));
	for (int i = 0; i < 3; i++) {
		e[i].m.data = (uintptr_t)&v[i];
		e[i].m.len = sizeof(int);
		e[i].m.type = 1 + i;
		e[i].m.flags = MSGBOX_MSG_NONBLOCK;
	}
	e[2].tail[1] = 1;	/* a field this kernel does not know, in use */
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)e;
	b.count = 3;
	b.msg_size = sizeof(e[0]);
	EXPECT_EQ(2, ioctl(self->fd, MSGBOX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(2, b.done);
	EXPECT_EQ(-E2BIG, b.error);
	EXPECT_NE(0, e[0].m.id);
	EXPECT_NE(e[0].m.id, e[1].m.id);

	memset(e, 0xa5, sizeof(e));
	for (int i = 0; i < 3; i++) {
		memset(&e[i].m, 0, sizeof(e[i].m));
		e[i].m.data = (uintptr_t)&got[i];
		e[i].m.len = sizeof(int);
		e[i].m.flags = MSGBOX_MSG_NONBLOCK;
		e[i].tail[0] = e[i].tail[1] = 0;
	}
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)e;
	b.count = 3;
	b.msg_size = sizeof(e[0]);
	EXPECT_EQ(2, ioctl(self->fd, MSGBOX_IOC_RECV_BATCH, &b));
	EXPECT_EQ(0, b.error);
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(v[i], got[i]);
		EXPECT_EQ(1 + i, e[i].m.type);
		EXPECT_EQ(sizeof(int), e[i].m.len);
		EXPECT_EQ(getpid(), e[i].m.sender_pid);
		/* What the kernel does not know comes back zeroed. */
		EXPECT_EQ(0, e[i].tail[0]);
		EXPECT_EQ(0, e[i].tail[1]);
	}
	EXPECT_EQ(-1, got[2]);
}

TEST_F(ba, batch_entry_fault_midway_stops_the_batch_with_EFAULT)
{
	struct msgbox_msg *e;
	struct msgbox_batch b;
	long pg = sysconf(_SC_PAGESIZE);
	int v = 5;

	/* Two entries, the second on a page that is not mapped. */
	e = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, e);
	ASSERT_EQ(0, munmap((char *)e + pg, pg));
	e = (struct msgbox_msg *)((char *)e + pg - sizeof(*e));
	memset(e, 0, sizeof(*e));
	e->data = (uintptr_t)&v;
	e->len = sizeof(v);
	e->type = 1;
	e->flags = MSGBOX_MSG_NONBLOCK;
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)e;
	b.count = 2;
	b.msg_size = sizeof(*e);
	EXPECT_EQ(1, ioctl(self->fd, MSGBOX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(1, b.done);
	EXPECT_EQ(-EFAULT, b.error);
	EXPECT_NE(0, e->id);

	/* Receiving: the entry on the missing page is not taken. */
	ASSERT_EQ(0, msgbox_send(self->fd, &v, sizeof(v), 0));
	memset(e, 0, sizeof(*e));
	e->data = (uintptr_t)&v;
	e->len = sizeof(v);
	e->flags = MSGBOX_MSG_NONBLOCK;
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)e;
	b.count = 2;
	b.msg_size = sizeof(*e);
	EXPECT_EQ(1, ioctl(self->fd, MSGBOX_IOC_RECV_BATCH, &b));
	EXPECT_EQ(-EFAULT, b.error);
	EXPECT_EQ(1, mb_info_of(self->fd).nr_msgs);
	munmap((char *)e + sizeof(*e) - pg, pg);
}

TEST_F(ba, receive_batch_entries_select_each_their_own_message)
{
	int err = 1;

	set_send(self, 4);			/* types 1, 2, 3, 1 */
	ASSERT_EQ(4, msgbox_send_batch(self->fd, self->m, 4, &err));
	set_recv(self, 7);
	self->m[0].type = 2;			/* 101 */
	/* any: 100 */
	self->m[2].type = 3;			/* 102 */
	self->m[3].flags |= MSGBOX_MSG_PEEK;	/* 103, left queued */
	self->m[4].type = -1;			/* type <= 1: 103 */
	self->m[5].type = 1;			/* none left: the end */
	EXPECT_EQ(5, msgbox_recv_batch(self->fd, self->m, 7, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(101, self->vals[0]);
	EXPECT_EQ(100, self->vals[1]);
	EXPECT_EQ(102, self->vals[2]);
	EXPECT_EQ(103, self->vals[3]);
	EXPECT_EQ(103, self->vals[4]);
	EXPECT_EQ(self->m[3].id, self->m[4].id);
	EXPECT_EQ(3, self->m[2].type);
	EXPECT_EQ(-1, self->vals[5]);
	EXPECT_EQ(0, mb_info_of(self->fd).nr_msgs);

	/* A message too long for its entry stops the batch there. */
	set_send(self, 3);
	ASSERT_EQ(3, msgbox_send_batch(self->fd, self->m, 3, &err));
	set_recv(self, 3);
	self->m[1].len = 2;
	EXPECT_EQ(1, msgbox_recv_batch(self->fd, self->m, 3, &err));
	EXPECT_EQ(-EMSGSIZE, err);
	EXPECT_EQ(2, mb_info_of(self->fd).nr_msgs);
	set_recv(self, 3);
	self->m[0].len = 2;
	self->m[0].flags |= MSGBOX_MSG_TRUNC;
	EXPECT_EQ(2, msgbox_recv_batch(self->fd, self->m, 3, &err));
	EXPECT_EQ(sizeof(int), self->m[0].len);	/* its full length */
	EXPECT_EQ(102, self->vals[1]);
}

TEST_F(ba, receive_batch_fault_in_a_buffer_gives_back_that_message_and_the_rest)
{
	long pg = sysconf(_SC_PAGESIZE);
	int err = 0, i;
	char *hole;

	hole = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	set_send(self, 6);
	for (i = 0; i < 6; i++)
		self->m[i].type = 1;
	ASSERT_EQ(6, msgbox_send_batch(self->fd, self->m, 6, &err));
	set_recv(self, 6);
	self->m[2].data = (uintptr_t)hole;
	EXPECT_EQ(2, msgbox_recv_batch(self->fd, self->m, 6, &err));
	EXPECT_EQ(-EFAULT, err);
	EXPECT_EQ(100, self->vals[0]);
	EXPECT_EQ(101, self->vals[1]);
	EXPECT_EQ(4, mb_info_of(self->fd).nr_msgs);

	/* All four are back, in order; those after the fault untouched. */
	set_recv(self, 6);
	EXPECT_EQ(4, msgbox_recv_batch(self->fd, self->m, 6, &err));
	EXPECT_EQ(0, err);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(102 + i, self->vals[i]);
	EXPECT_EQ(1, self->m[1].deliveries);
	EXPECT_EQ(1, self->m[3].deliveries);
	EXPECT_EQ(6, mb_info_of(self->fd).received);
	munmap(hole, pg);
}

TEST_F(ba, receive_batch_entries_see_a_sender_admitted_by_the_one_before)
{
	int err = 1;
	pid_t pid;

	pid = fill_and_block_a_sender(self, 5);
	ASSERT_LT(0, pid);
	/*
	 * As three receives in a row: the first makes room, the sender's
	 * message goes in, and its priority puts it first for the second.
	 */
	set_recv(self, 3);
	EXPECT_EQ(3, msgbox_recv_batch(self->fd, self->m, 3, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(100, self->vals[0]);
	EXPECT_EQ(999, self->vals[1]);
	EXPECT_EQ(5, self->m[1].priority);
	EXPECT_EQ(101, self->vals[2]);
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(6, mb_info_of(self->fd).nr_msgs);
}

struct stalled_batch {
	int fd;
	struct msgbox_msg m[17];
	int ret;
};

static void *send_batch_thread(void *arg)
{
	struct stalled_batch *b = arg;

	b->ret = msgbox_send_batch(b->fd, b->m, 17, NULL);
	return NULL;
}

/*
 * A receiver handed a message by a batch has its result published before
 * the batch goes on touching user memory: when it wakes by itself (here
 * its timeout) during a later entry's page fault (a userfaultfd page
 * nobody serves yet), it returns with its message at once instead of
 * waiting, uninterruptible, for the batch.
 */
TEST_F(ba, a_receiver_served_by_a_batch_is_not_held_by_its_later_faults)
{
	struct msgbox_attr attr;
	struct stalled_batch b;
	int uffd, v = 7, st = -1, i;
	bool served = false;
	pthread_t th;
	char *page;
	pid_t rx;

	uffd = mb_uffd_page(&page);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	msgbox_attr_init(&attr);
	attr.max_msgs = 32;
	attr.max_msg_size = 64;
	attr.max_bytes = 32 * 64;
	b.fd = msgbox_create_anon(&attr, MB_RW);
	ASSERT_LE(0, b.fd);
	rx = fork();
	ASSERT_LE(0, rx);
	if (rx == 0) {
		int got = 0;

		CHILD_CHECK(msgbox_recv_timeout(b.fd, &got, sizeof(got),
						2000000000ULL) == sizeof(got), 2);
		CHILD_CHECK(got == 7, 3);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(b.fd, 1, 0));
	/* 16 entries for the first chunk, the 17th on the unserved page. */
	for (i = 0; i < 17; i++) {
		memset(&b.m[i], 0, sizeof(b.m[i]));
		b.m[i].data = (uintptr_t)(i < 16 ? (void *)&v : (void *)page);
		b.m[i].len = sizeof(v);
		b.m[i].type = 1;
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, send_batch_thread, &b));
	ASSERT_EQ(0, mb_uffd_wait(uffd));
	/* The batch sleeps in the fault: the receiver is done by its 2 s. */
	for (i = 0; i < 6000 && !(served = mb_exited(rx, &st)); i++)
		mb_sleep_ms(1);
	EXPECT_TRUE(served);
	EXPECT_EQ(0, served ? st : 0);

	ASSERT_EQ(0, mb_uffd_serve(uffd, page, 0));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(17, b.ret);
	if (!served)
		EXPECT_EQ(0, mb_reap(rx, MB_WAIT_MS));
	EXPECT_EQ(16, mb_nr_msgs(b.fd));
	close(b.fd);
}

TEST_HARNESS_MAIN
