// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: receive rings.  The kernel writes messages into memory
 * mapped in the receiver; the receiver reads them without a system call.
 * A ring is a receiver: messages reach it in receive order, with their
 * metadata, exactly once, and what it cannot hold stays queued in line.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "msgbox_test.h"

FIXTURE(rg) {
	char name[32];
	int fd;			/* RECV|SEND descriptor */
	struct msgbox_rxring *rx;
};

FIXTURE_SETUP(rg)
{
	self->fd = -1;
	self->rx = NULL;
	mb_make_name(self->name, sizeof(self->name), "rg");
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->fd = mb_create(self->name, 4, 8192, 32768, MB_RW);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(rg)
{
	msgbox_rxring_close(self->rx);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, mb_destroy_quiet(self->name));
}

static int send_seq(int fd, unsigned int seq, size_t len, __s64 type,
		    __u32 prio, __u32 flags)
{
	char buf[8192];
	struct msgbox_msg m;

	mb_fill(buf, len, seq);
	mb_msg_init(&m, buf, len, type, flags | MSGBOX_MSG_NONBLOCK);
	m.priority = prio;
	return msgbox_sendmsg(fd, &m);
}

/* Receive through @rx; the payload must be message @seq of @len bytes. */
static int recv_seq(struct msgbox_rxring *rx, unsigned int seq, size_t len,
		    __u32 flags, struct msgbox_msg *out)
{
	static char buf[8192];
	struct msgbox_msg m;

	mb_msg_init(&m, buf, sizeof(buf), 0, flags);
	if (msgbox_rxring_recvmsg(rx, &m))
		return -1;
	if (out)
		*out = m;
	if (m.len != len || !mb_check(buf, len, seq)) {
		fprintf(stderr, "# want seq %u len %zu, got len %llu\n", seq,
			len, (unsigned long long)m.len);
		return -2;
	}
	return 0;
}

static int ring_setup(int fd, __u32 size, __s64 type, __u32 flags,
		      struct msgbox_ring_setup *out)
{
	struct msgbox_ring_setup rs;

	memset(&rs, 0, sizeof(rs));
	rs.size = size;
	rs.type = type;
	rs.flags = flags;
	rs.fd_flags = MSGBOX_FD_CLOEXEC;
	if (out)
		*out = rs;
	return ioctl(fd, MSGBOX_IOC_RING_SETUP, out ? out : &rs);
}

TEST_F(rg, setup_checks_every_field)
{
	struct msgbox_ring_setup rs;
	long page = sysconf(_SC_PAGESIZE);
	int sfd, rfd;

	EXPECT_EQ(-1, ring_setup(self->fd, 3 * page, 0, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ring_setup(self->fd, page / 2, 0, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ring_setup(self->fd, 1U << 31, 0, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ring_setup(self->fd, page, 0, MSGBOX_MSG_PEEK, NULL));
	EXPECT_EQ(EINVAL, errno);
	/* EXCEPT needs a positive type. */
	EXPECT_EQ(-1, ring_setup(self->fd, page, -3, MSGBOX_MSG_EXCEPT, NULL));
	EXPECT_EQ(EINVAL, errno);
	memset(&rs, 0, sizeof(rs));
	rs.size = page;
	rs.fd_flags = MSGBOX_FD_NONBLOCK;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_RING_SETUP, &rs));
	EXPECT_EQ(EINVAL, errno);
	rs.fd_flags = 0;
	rs.data_offset = 1;	/* out fields must come in zero */
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_RING_SETUP, &rs));
	EXPECT_EQ(EINVAL, errno);
	rs.data_offset = 0;
	rs.__reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MSGBOX_IOC_RING_SETUP, &rs));
	EXPECT_EQ(EINVAL, errno);

	/* A sending-only descriptor cannot receive, so cannot have a ring. */
	sfd = msgbox_open(self->name, MSGBOX_FD_SEND);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(-1, ring_setup(sfd, page, 0, 0, NULL));
	EXPECT_EQ(EBADF, errno);

	/* None of that attached a ring: a good request does, once. */
	rfd = ring_setup(self->fd, page, 0, 0, &rs);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(page + page, (long)rs.mmap_size);
	EXPECT_EQ(page, (long)rs.data_offset);
	EXPECT_NE(rs.head_offset, rs.tail_offset);
	EXPECT_EQ(FD_CLOEXEC, fcntl(rfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, ring_setup(self->fd, page, 0, 0, NULL));
	EXPECT_EQ(EBUSY, errno);
	/* Any descriptor of the mailbox: one ring per mailbox. */
	EXPECT_EQ(-1, ring_setup(msgbox_open(self->name, MSGBOX_FD_RECV), page,
				 0, 0, NULL));
	EXPECT_EQ(EBUSY, errno);
	/* Ring descriptors take RING_ENTER only; its report needs memory. */
	EXPECT_EQ(-1, ioctl(rfd, MSGBOX_IOC_RING_ENTER, 8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(rfd, MSGBOX_IOC_INFO, NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, ioctl(rfd, MSGBOX_IOC_RING_ENTER, 0));
	close(rfd);
	/* Closed, it is gone: the mailbox may have another. */
	rfd = ring_setup(self->fd, page, 0, 0, NULL);
	EXPECT_LE(0, rfd);
	close(rfd);
	close(sfd);
}

TEST_F(rg, mmap_must_be_shared_from_offset_zero_and_no_longer_than_the_ring)
{
	struct msgbox_ring_setup rs;
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int rfd;

	rfd = ring_setup(self->fd, page, 0, 0, &rs);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, rfd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, page, PROT_READ, MAP_SHARED, rfd,
				   page));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, rs.mmap_size + page, PROT_READ,
				   MAP_SHARED, rfd, 0));
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, rfd,
		 0);
	ASSERT_NE(MAP_FAILED, p);
	/* Zeroed: nothing of anyone else's in a fresh ring. */
	for (size_t i = 0; i < rs.mmap_size; i++)
		if (((unsigned char *)p)[i])
			ASSERT_EQ(0, ((unsigned char *)p)[i]);
	munmap(p, rs.mmap_size);
	close(rfd);
}

/* A number read from cgroup file @name of @dir, or -1. */
static long long cg_read(const char *dir, const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Write @val to cgroup file @name of @dir: 0 or -1. */
static int cg_write(const char *dir, const char *name, const char *val)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/* The first line of cgroup file @name of @dir into @buf ("" if none). */
static void cg_read_line(const char *dir, const char *name, char *buf,
			 size_t size)
{
	char path[128];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, size, f))
		buf[0] = 0;
	fclose(f);
}

#define CG_RING	(16LL << 20)

/*
 * Run @fn(@fd, the cgroup's directory) in a child process in a new memory
 * cgroup, on a cgroup2 hierarchy mounted for the purpose with the memory
 * controller enabled meanwhile, and leave the hierarchy as it was.
 * Return: the child's exit status (mb_reap()), or -1 with *@skip saying
 * why no such cgroup can be made here.
 */
static int cg_run(int (*fn)(int fd, const char *dir), int fd,
		  const char **skip)
{
	char root[] = "/tmp/msgbox-cg-XXXXXX", dir[64], ctl[256], sub[256];
	bool had_memory;
	int status = -1;
	pid_t pid;

	*skip = NULL;
	if (!mkdtemp(root)) {
		*skip = "no temporary directory";
		return -1;
	}
	if (mount("none", root, "cgroup2", 0, NULL)) {
		rmdir(root);
		*skip = "no cgroup2 to mount";
		return -1;
	}
	cg_read_line(root, "cgroup.controllers", ctl, sizeof(ctl));
	cg_read_line(root, "cgroup.subtree_control", sub, sizeof(sub));
	had_memory = strstr(sub, "memory");
	snprintf(dir, sizeof(dir), "%s/t%d", root, (int)getpid());
	if (!strstr(ctl, "memory"))
		*skip = "no memory controller";
	else if (!had_memory &&
		 cg_write(root, "cgroup.subtree_control", "+memory"))
		*skip = "the memory controller cannot be enabled here";
	else if (mkdir(dir, 0755))
		*skip = "no cgroup can be made here";
	if (!*skip) {
		pid = fork();
		if (pid == 0) {
			char me[32];

			snprintf(me, sizeof(me), "%d", (int)getpid());
			if (cg_write(dir, "cgroup.procs", me))
				_exit(100);
			_exit(fn(fd, dir));
		}
		if (pid > 0)
			status = mb_reap(pid, MB_WAIT_MS);
		if (rmdir(dir))
			status = -1;
	}
	if (!had_memory)
		cg_write(root, "cgroup.subtree_control", "-memory");
	if (umount(root))
		status = -1;
	rmdir(root);
	return status;
}

/*
 * Ring memory is the setter's: a process in a memory cgroup that sets up
 * a 16 MiB ring is charged about 16 MiB more, and uncharged as much when
 * the ring goes, so a container's memory limit covers its rings.
 * "About": charges and uncharges pass through a per-CPU stock of up to 64
 * pages (MEMCG_CHARGE_BATCH) on each CPU the child ran on, and the child
 * allocates a little else meanwhile.
 */
static int cg_charged_ring(int fd, const char *dir)
{
	long long slack = (1LL << 20) +
			  64LL * 4096 * sysconf(_SC_NPROCESSORS_CONF);
	long long before, set_up, gone;
	struct msgbox_ring_setup rs;
	void *p;
	int rfd;

	before = cg_read(dir, "memory.current");
	if (before < 0)
		return 3;
	rfd = ring_setup(fd, CG_RING, 0, 0, &rs);
	if (rfd < 0)
		return 4;
	p = mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	if (p == MAP_FAILED)
		return 5;
	set_up = cg_read(dir, "memory.current");
	if (set_up - before < CG_RING - slack) {
		fprintf(stderr, "# charged %lld bytes for the ring\n",
			set_up - before);
		return 6;
	}
	munmap(p, rs.mmap_size);
	close(rfd);
	gone = cg_read(dir, "memory.current");
	if (set_up - gone < CG_RING - slack) {
		fprintf(stderr, "# uncharged %lld bytes with the ring\n",
			set_up - gone);
		return 7;
	}
	return 0;
}

TEST_F(rg, ring_memory_is_charged_to_the_setters_memory_cgroup)
{
	const char *skip;
	int status = cg_run(cg_charged_ring, self->fd, &skip);

	if (skip)
		SKIP(return, "%s", skip);
	EXPECT_EQ(0, status);
}

/*
 * A ring that does not fit in what the cgroup's memory.max leaves fails
 * with ENOMEM, charging nothing; its setter is not OOM-killed (as a BPF
 * map's area, the allocation may fail rather than invoke the OOM killer),
 * and a ring within the room is then set up.
 */
static int cg_limited_ring(int fd, const char *dir)
{
	long long before = cg_read(dir, "memory.current");
	char max[32];
	int rfd;

	if (before < 0)
		return 3;
	snprintf(max, sizeof(max), "%lld", before + CG_RING / 4);
	if (cg_write(dir, "memory.max", max))
		return 4;
	rfd = ring_setup(fd, CG_RING, 0, 0, NULL);
	if (rfd >= 0 || errno != ENOMEM) {
		fprintf(stderr, "# setup: %d (%s)\n", rfd, strerror(errno));
		return 5;
	}
	rfd = ring_setup(fd, CG_RING / 16, 0, 0, NULL);
	if (rfd < 0) {
		fprintf(stderr, "# small setup: %s\n", strerror(errno));
		return 6;
	}
	close(rfd);
	return 0;
}

TEST_F(rg, ring_beyond_the_memory_cgroups_limit_fails_with_ENOMEM)
{
	const char *skip;
	int status = cg_run(cg_limited_ring, self->fd, &skip);

	if (skip)
		SKIP(return, "%s", skip);
	EXPECT_EQ(0, status);
}

TEST_F(rg, messages_land_in_the_ring_received_with_their_metadata)
{
	const struct msgbox_ring_msg *rec;
	struct msgbox_info info;
	struct msgbox_msg m;
	__u64 total;
	unsigned int i;

	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, send_seq(self->fd, i, 10 + i, 1 + i % 3, i % 2, 0));
	/* Received: nothing queued, although the mailbox holds only 4. */
	info = mb_info_of(self->fd);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(10, info.received);
	EXPECT_EQ(10, info.sent);
	EXPECT_EQ(getpid(), info.last_recv_pid);
	EXPECT_EQ(getpid(), info.last_send_pid);
	EXPECT_NE(0, info.last_send_ns);
	EXPECT_NE(0, info.last_recv_ns);
	for (i = 0, total = 0; i < MSGBOX_LAT_BUCKETS; i++)
		total += info.lat_hist[i];
	EXPECT_EQ(10, total);

	/* In the ring already: no system call needed to see the first. */
	rec = msgbox_rxring_next(self->rx);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(10, rec->len);
	EXPECT_EQ(1, rec->type);
	EXPECT_EQ(1, rec->deliveries);
	EXPECT_EQ(getpid(), rec->sender_pid);
	EXPECT_EQ(getpid(), rec->sender_tid);
	EXPECT_EQ(geteuid(), rec->sender_uid);
	EXPECT_EQ(getegid(), rec->sender_gid);
	EXPECT_EQ(0, rec->__pad);
	EXPECT_EQ(0, rec->size % MSGBOX_RING_ALIGN);
	EXPECT_LE(sizeof(*rec) + 10, rec->size);
	EXPECT_TRUE(mb_check(rec + 1, 10, 0));
	msgbox_rxring_consume(self->rx, rec);

	for (i = 1; i < 10; i++) {
		ASSERT_EQ(0, recv_seq(self->rx, i, 10 + i, MSGBOX_MSG_NONBLOCK,
				      &m));
		EXPECT_EQ(1 + i % 3, m.type);
		EXPECT_EQ(i % 2, m.priority);
		EXPECT_EQ(i + 1, m.id);	/* ids start at 1 */
		EXPECT_EQ(0, m.token);
		EXPECT_NE(0, m.send_time_ns);
	}
	EXPECT_EQ(-1, recv_seq(self->rx, 0, 0, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * A small ring, a mailbox of 4: fill both, then more senders sleep.  Every
 * message comes out once, in order, through the ring's refills and the
 * sleeping senders' admission: none lost, none twice.
 */
TEST_F(rg, a_full_ring_queues_and_refills_in_order_with_sleeping_senders)
{
	const unsigned int total = 600;
	unsigned int i;
	pid_t pid;

	self->rx = msgbox_rxring_open(self->fd, 4096, 0, 0);
	ASSERT_NE(NULL, self->rx);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8192];
		struct msgbox_msg m;

		for (i = 0; i < total; i++) {
			size_t len = 1 + (i * 97) % 1500;

			mb_fill(buf, len, i);
			mb_msg_init(&m, buf, len, 1, 0);	/* blocking */
			CHILD_CHECK(msgbox_sendmsg(self->fd, &m) == 0, 2);
		}
		_exit(0);
	}
	/* Let the sender fill everything and fall asleep first. */
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 0, 1));
	EXPECT_EQ(4, mb_nr_msgs(self->fd));
	for (i = 0; i < total; i++)
		ASSERT_EQ(0, recv_seq(self->rx, i, 1 + (i * 97) % 1500, 0,
				      NULL));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(-1, recv_seq(self->rx, 0, 0, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(total, mb_info_of(self->fd).received);
}

TEST_F(rg, queued_messages_keep_priority_order_into_the_ring)
{
	unsigned int i;

	self->rx = msgbox_rxring_open(self->fd, 4096, 0, 0);
	ASSERT_NE(NULL, self->rx);
	/* Fill the ring: 1000-byte messages, 4 of them fit in 4096. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, send_seq(self->fd, i, 1000, 1, 0, 0));
	ASSERT_EQ(0, mb_nr_msgs(self->fd));
	/* Now these queue: priority 0, then priority 5. */
	ASSERT_EQ(0, send_seq(self->fd, 10, 2000, 1, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 11, 2000, 1, 5, 0));
	ASSERT_EQ(2, mb_nr_msgs(self->fd));
	/* A later small one must not overtake them into the ring's room. */
	ASSERT_EQ(0, send_seq(self->fd, 12, 8, 1, 0, 0));
	ASSERT_EQ(3, mb_nr_msgs(self->fd));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, recv_seq(self->rx, i, 1000, MSGBOX_MSG_NONBLOCK,
				      NULL));
	ASSERT_EQ(0, recv_seq(self->rx, 11, 2000, MSGBOX_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, recv_seq(self->rx, 10, 2000, MSGBOX_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, recv_seq(self->rx, 12, 8, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
}

TEST_F(rg, messages_queued_before_the_ring_come_out_first)
{
	unsigned int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, send_seq(self->fd, i, 16, 1, 0, 0));
	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	/* Later ones wait behind them rather than overtake into the ring. */
	ASSERT_EQ(0, send_seq(self->fd, 3, 16, 1, 0, 0));
	EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, recv_seq(self->rx, i, 16, MSGBOX_MSG_NONBLOCK,
				      NULL));
	/* In line again: the next one goes straight into the ring. */
	ASSERT_EQ(0, send_seq(self->fd, 4, 16, 1, 0, 0));
	EXPECT_NE(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
}

/*
 * A record that does not fit before the end of the ring waits for the
 * consumer to pass a padding record, which RING_ENTER writes once the ring
 * is empty: a non-blocking receive then still gets the message.
 */
TEST_F(rg, a_message_behind_a_padding_record_is_not_missed)
{
	self->rx = msgbox_rxring_open(self->fd, 4096, 0, 0);
	ASSERT_NE(NULL, self->rx);
	/* Records: 64-byte header plus payload: 3072, 1024, 2048, 3048. */
	ASSERT_EQ(0, send_seq(self->fd, 1, 3008, 1, 0, 0));
	ASSERT_EQ(0, recv_seq(self->rx, 1, 3008, MSGBOX_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, send_seq(self->fd, 2, 960, 1, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 3, 1984, 1, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 4, 2984, 1, 0, 0));
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	ASSERT_EQ(0, recv_seq(self->rx, 2, 960, MSGBOX_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, recv_seq(self->rx, 3, 1984, MSGBOX_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, recv_seq(self->rx, 4, 2984, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
}

TEST_F(rg, a_selector_leaves_other_types_queued)
{
	struct msgbox_msg m;
	int v = 0;

	self->rx = msgbox_rxring_open(self->fd, 0, 2, MSGBOX_MSG_EXCEPT);
	ASSERT_NE(NULL, self->rx);
	ASSERT_EQ(0, send_seq(self->fd, 1, 4, 1, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 2, 4, 2, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 3, 4, 3, 0, 0));
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	ASSERT_EQ(0, recv_seq(self->rx, 1, 4, MSGBOX_MSG_NONBLOCK, &m));
	ASSERT_EQ(0, recv_seq(self->rx, 3, 4, MSGBOX_MSG_NONBLOCK, &m));
	EXPECT_EQ(-1, recv_seq(self->rx, 0, 0, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(EAGAIN, errno);
	/* Type 2 is there for a plain receive. */
	mb_msg_init(&m, &v, sizeof(v), 2, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(2, m.type);
}

/* RING_ENTER on @rfd until it moves nothing: the total moved, or -1. */
static long enter_all(int rfd, long *first)
{
	long n, total = 0;

	*first = -1;
	while ((n = ioctl(rfd, MSGBOX_IOC_RING_ENTER, 0)) > 0) {
		if (*first < 0)
			*first = n;
		total += n;
	}
	return n < 0 ? -1 : total;
}

/*
 * One RING_ENTER does a bounded share under the mailbox's lock, counting
 * empty messages and the queued messages its selector looks past; the
 * consumer enters again for the rest, which comes out whole and in order.
 */
TEST_F(rg, ring_enter_moves_a_bounded_share_at_a_time)
{
	int rfd, i, seen;
	long first;

	ASSERT_EQ(0, mb_recreate(self->name, &self->fd, 8192, 64, 1 << 20));
	for (i = 0; i < 5000; i++)
		ASSERT_EQ(0, msgbox_send(self->fd, "", 0, MSGBOX_MSG_NONBLOCK));
	rfd = ring_setup(self->fd, 512 * 1024, 0, 0, NULL);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(5000, enter_all(rfd, &first));
	EXPECT_LT(0, first);
	EXPECT_GT(5000, first);
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
	close(rfd);

	/* A selector passing 2000 others for each of its 100. */
	for (i = 0; i < 2100; i++)
		ASSERT_EQ(0, send_seq(self->fd, i, 4, i < 2000 ? 5 : 1, 0, 0));
	rfd = ring_setup(self->fd, 64 * 1024, 1, 0, NULL);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(100, enter_all(rfd, &first));
	EXPECT_LT(0, first);
	EXPECT_GT(100, first);
	close(rfd);
	EXPECT_EQ(2000, mb_nr_msgs(self->fd));
	/* The ring's records, read as its consumer would, are in order. */
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, send_seq(self->fd, 2000 + i, 4, 1, 0, 0));
	self->rx = msgbox_rxring_open(self->fd, 64 * 1024, 1, 0);
	ASSERT_NE(NULL, self->rx);
	for (seen = 0; seen < 100; seen++)
		ASSERT_EQ(0, recv_seq(self->rx, 2000 + seen, 4,
				      MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(2000, mb_nr_msgs(self->fd));
}

/*
 * What the ring cannot hold (a tracked message, one larger than the ring)
 * stays in line: received through the mailbox descriptor, in order.
 */
TEST_F(rg, what_the_ring_cannot_hold_is_received_in_line)
{
	struct msgbox_status st;
	struct msgbox_msg m;

	self->rx = msgbox_rxring_open(self->fd, 4096, 0, 0);
	ASSERT_NE(NULL, self->rx);
	ASSERT_EQ(0, send_seq(self->fd, 1, 100, 1, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 2, 100, 1, 0, MSGBOX_MSG_TRACK));
	ASSERT_EQ(0, send_seq(self->fd, 3, 5000, 1, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 4, 100, 1, 0, 0));
	EXPECT_EQ(3, mb_nr_msgs(self->fd));
	ASSERT_EQ(0, recv_seq(self->rx, 1, 100, MSGBOX_MSG_NONBLOCK, &m));
	/* The ring is empty, and says a receive must take what comes next. */
	{
		__u32 next = 0;

		EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
		EXPECT_EQ(0, ioctl(msgbox_rxring_fd(self->rx),
				   MSGBOX_IOC_RING_ENTER, &next));
		EXPECT_EQ(MSGBOX_RING_RECV, next);
	}
	ASSERT_EQ(0, recv_seq(self->rx, 2, 100, MSGBOX_MSG_NONBLOCK, &m));
	/* The tracked one went the usual way: its sender sees it received. */
	memset(&st, 0, sizeof(st));
	st.id = m.id;
	ASSERT_EQ(0, ioctl(self->fd, MSGBOX_IOC_STATUS, &st));
	EXPECT_EQ(MSGBOX_STATUS_ACKED, st.status);
	/* Too large for a 4096-byte ring: in line too, and a short buffer
	 * leaves it there. */
	{
		char small[16];

		mb_msg_init(&m, small, sizeof(small), 0, MSGBOX_MSG_NONBLOCK);
		EXPECT_EQ(-1, msgbox_rxring_recvmsg(self->rx, &m));
		EXPECT_EQ(EMSGSIZE, errno);
	}
	ASSERT_EQ(0, recv_seq(self->rx, 3, 5000, MSGBOX_MSG_NONBLOCK, &m));
	ASSERT_EQ(0, recv_seq(self->rx, 4, 100, MSGBOX_MSG_NONBLOCK, &m));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
	{
		__u32 next = 7;

		EXPECT_EQ(0, ioctl(msgbox_rxring_fd(self->rx),
				   MSGBOX_IOC_RING_ENTER, &next));
		EXPECT_EQ(0, next);
	}
}

/*
 * MSGBOX_MSG_RING: a receive that the ring's consumer makes for what the
 * ring cannot hold waits until it has read the ring.
 */
TEST_F(rg, a_ring_receive_comes_after_the_records)
{
	struct msgbox_msg m;
	char b[64];

	self->rx = msgbox_rxring_open(self->fd, 4096, 0, 0);
	ASSERT_NE(NULL, self->rx);
	ASSERT_EQ(0, send_seq(self->fd, 1, 16, 1, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 2, 16, 1, 0, MSGBOX_MSG_TRACK));
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	mb_msg_init(&m, b, sizeof(b), 0, MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_RING);
	EXPECT_EQ(-1, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	ASSERT_EQ(0, recv_seq(self->rx, 1, 16, MSGBOX_MSG_NONBLOCK, NULL));
	/* The ring is read: now it takes the tracked one. */
	mb_msg_init(&m, b, sizeof(b), 0, MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_RING);
	ASSERT_EQ(0, msgbox_recvmsg(self->fd, &m));
	EXPECT_EQ(2, m.id);
	EXPECT_TRUE(mb_check(b, 16, 2));
}

/* A ring copies under a lock: larger messages than it takes wait in line. */
TEST_F(rg, messages_over_the_ring_maximum_are_received_in_line)
{
	static char big[MSGBOX_RING_MSG_MAX + 1];
	struct msgbox_msg m;
	int fd;

	fd = msgbox_create_anon(&(struct msgbox_attr){ .max_msgs = 4,
				.max_msg_size = sizeof(big),
				.max_bytes = 4 * sizeof(big) }, MB_RW);
	ASSERT_LE(0, fd);
	self->rx = msgbox_rxring_open(fd, 1 << 20, 0, 0);
	ASSERT_NE(NULL, self->rx);
	mb_fill(big, sizeof(big), 9);
	mb_msg_init(&m, big, sizeof(big), 1, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_sendmsg(fd, &m));
	mb_msg_init(&m, big, MSGBOX_RING_MSG_MAX, 1, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_sendmsg(fd, &m));
	EXPECT_EQ(2, mb_nr_msgs(fd));
	mb_msg_init(&m, big, sizeof(big), 0, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_rxring_recvmsg(self->rx, &m));
	EXPECT_EQ(sizeof(big), m.len);
	EXPECT_EQ(1, m.id);
	/* Exactly the maximum does go through the ring. */
	EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(1, ioctl(msgbox_rxring_fd(self->rx), MSGBOX_IOC_RING_ENTER,
			   NULL));
	ASSERT_NE(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(MSGBOX_RING_MSG_MAX, msgbox_rxring_next(self->rx)->len);
	msgbox_rxring_close(self->rx);
	self->rx = NULL;
	close(fd);
}

#define BIG_LEN	(240 * 1024)

/* Expect record @rec to be message @seq of BIG_LEN bytes, id @id. */
static bool big_record_is(const struct msgbox_ring_msg *rec, unsigned int seq,
			  __u64 id)
{
	if (!rec || rec->len != BIG_LEN || rec->id != id || rec->type != 7 ||
	    rec->priority != 2 || rec->sender_pid != getpid() ||
	    rec->deliveries != 1 || !rec->send_time_ns)
		return false;
	return mb_check(rec + 1, BIG_LEN, seq);
}

/*
 * A plain send of a large message, with a MSGBOX_RING_LARGE ring in line
 * and room in it, is copied from the sender's memory straight into the
 * ring, whatever its size (by SEND, write(2) and a batch): received at
 * once, nothing queued.  One that does not fit waits in line, and a
 * receive takes it.
 */
TEST_F(rg, a_large_plain_send_goes_straight_into_the_ring)
{
	static char big[4][BIG_LEN];
	struct msgbox_msg m[2];
	struct msgbox_info info;
	unsigned int i;
	int fd;

	fd = msgbox_create_anon(&(struct msgbox_attr){ .max_msgs = 8,
				.max_msg_size = BIG_LEN,
				.max_bytes = 8 * BIG_LEN }, MB_RW);
	ASSERT_LE(0, fd);
	self->rx = msgbox_rxring_open(fd, 1 << 20, 0, MSGBOX_RING_LARGE);
	ASSERT_NE(NULL, self->rx);
	for (i = 0; i < 4; i++)
		mb_fill(big[i], BIG_LEN, 100 + i);

	mb_msg_init(&m[0], big[0], BIG_LEN, 7, MSGBOX_MSG_NONBLOCK);
	m[0].priority = 2;
	ASSERT_EQ(0, msgbox_sendmsg(fd, &m[0]));
	EXPECT_EQ(1, m[0].id);
	EXPECT_EQ(0, mb_nr_msgs(fd));
	EXPECT_TRUE(big_record_is(msgbox_rxring_next(self->rx), 100, 1));

	/* write(2) has no type or priority: the defaults. */
	ASSERT_EQ(BIG_LEN, write(fd, big[1], BIG_LEN));
	EXPECT_EQ(0, mb_nr_msgs(fd));

	for (i = 0; i < 2; i++) {
		mb_msg_init(&m[i], big[2 + i], BIG_LEN, 7, MSGBOX_MSG_NONBLOCK);
		m[i].priority = 2;
	}
	ASSERT_EQ(2, msgbox_send_batch(fd, m, 2, NULL));
	EXPECT_EQ(3, m[0].id);
	EXPECT_EQ(4, m[1].id);
	info = mb_info_of(fd);
	EXPECT_EQ(0, info.nr_msgs);
	EXPECT_EQ(4, info.sent);
	EXPECT_EQ(4, info.received);
	EXPECT_EQ(4, info.direct);	/* msgboxctl stat's one-copy */

	/* 4 records of 240 KiB leave no room for a fifth: it queues. */
	mb_msg_init(&m[0], big[0], BIG_LEN, 7, MSGBOX_MSG_NONBLOCK);
	m[0].priority = 2;
	ASSERT_EQ(0, msgbox_sendmsg(fd, &m[0]));
	EXPECT_EQ(1, mb_nr_msgs(fd));

	EXPECT_TRUE(big_record_is(msgbox_rxring_next(self->rx), 100, 1));
	msgbox_rxring_consume(self->rx, msgbox_rxring_next(self->rx));
	ASSERT_NE(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(BIG_LEN, msgbox_rxring_next(self->rx)->len);
	EXPECT_EQ(2, msgbox_rxring_next(self->rx)->id);
	EXPECT_TRUE(mb_check(msgbox_rxring_next(self->rx) + 1, BIG_LEN, 101));
	msgbox_rxring_consume(self->rx, msgbox_rxring_next(self->rx));
	EXPECT_TRUE(big_record_is(msgbox_rxring_next(self->rx), 102, 3));
	msgbox_rxring_consume(self->rx, msgbox_rxring_next(self->rx));
	EXPECT_TRUE(big_record_is(msgbox_rxring_next(self->rx), 103, 4));
	msgbox_rxring_consume(self->rx, msgbox_rxring_next(self->rx));
	EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
	/* The queued one, by a receive: too large for a refill. */
	memset(big[1], 0, BIG_LEN);
	mb_msg_init(&m[1], big[1], BIG_LEN, 0, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_rxring_recvmsg(self->rx, &m[1]));
	EXPECT_EQ(5, m[1].id);
	EXPECT_TRUE(mb_check(big[1], BIG_LEN, 100));
	/* In line again: the next goes into the ring, after a padding. */
	mb_fill(big[1], BIG_LEN, 104);
	ASSERT_EQ(BIG_LEN, write(fd, big[1], BIG_LEN));
	EXPECT_EQ(0, mb_nr_msgs(fd));
	ASSERT_NE(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(6, msgbox_rxring_next(self->rx)->id);
	EXPECT_TRUE(mb_check(msgbox_rxring_next(self->rx) + 1, BIG_LEN, 104));
	msgbox_rxring_close(self->rx);
	self->rx = NULL;
	close(fd);
}

#define MIX_BIG		(512 * 1024)
#define MIX_N		24

/*
 * A sending thread: @n blocking sends of message 0, 1, ... (@n > 0), or
 * non-blocking sends of message 1 until @stop or the mailbox is gone.
 */
struct sender {
	int fd;
	size_t len;
	unsigned int n;
	volatile int stop;
	unsigned int sent;
	int err;
};

static void *sends(void *arg)
{
	struct sender *s = arg;
	__u32 flags = s->n ? 0 : MSGBOX_MSG_NONBLOCK;
	char *buf = malloc(s->len);
	struct msgbox_msg m;
	unsigned int i;

	if (!buf) {
		s->err = ENOMEM;
		return NULL;
	}
	for (i = 0; s->n ? i < s->n : !s->stop; i++) {
		if (s->n || !i)
			mb_fill(buf, s->len, s->n ? i : 1);
		mb_msg_init(&m, buf, s->len, 1, flags);
		if (!msgbox_sendmsg(s->fd, &m)) {
			s->sent++;
			continue;
		}
		if (!s->n && errno == EAGAIN)
			continue;
		if (s->n || errno != EIDRM)
			s->err = errno;
		break;
	}
	free(buf);
	return NULL;
}

/*
 * Large messages copied into the ring after the unlock, small ones copied
 * under it, from two senders at once into a small ring: the consumer gets
 * every message intact, each sender's in its order, and all of them in id
 * order (a small message must not be seen before a large one accepted
 * earlier, whether it went into the ring or queued).
 */
TEST_F_TIMEOUT(rg, large_and_small_senders_share_the_ring_in_id_order, 120)
{
	struct sender s[2] = {
		{ .len = MIX_BIG, .n = MIX_N },
		{ .len = 100, .n = 100 * MIX_N },
	};
	static char buf[MIX_BIG];
	unsigned int next[2] = { 0, 0 }, got;
	__u64 last_id = 0;
	pthread_t t[2];
	int fd, i;

	fd = msgbox_create_anon(&(struct msgbox_attr){ .max_msgs = 16,
				.max_msg_size = MIX_BIG,
				.max_bytes = 4 * MIX_BIG }, MB_RW);
	ASSERT_LE(0, fd);
	/* Room for 3 large records: a copy in flight is the usual case. */
	self->rx = msgbox_rxring_open(fd, 2 << 20, 0, MSGBOX_RING_LARGE);
	ASSERT_NE(NULL, self->rx);
	for (i = 0; i < 2; i++) {
		s[i].fd = fd;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, sends, &s[i]));
	}
	for (got = 0; got < s[0].n + s[1].n; got++) {
		struct msgbox_msg m;
		int k;

		mb_msg_init(&m, buf, sizeof(buf), 0, 0);
		m.flags = MSGBOX_MSG_TIMEOUT;
		m.timeout_ns = 40ULL * 1000 * 1000 * 1000;
		ASSERT_EQ(0, msgbox_rxring_recvmsg(self->rx, &m));
		k = m.len == MIX_BIG ? 0 : 1;
		ASSERT_EQ(s[k].len, m.len);
		ASSERT_TRUE(mb_check(buf, m.len, next[k]));
		next[k]++;
		ASSERT_LT(last_id, m.id);
		last_id = m.id;
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, s[i].err);
	}
	EXPECT_EQ(MIX_N, next[0]);
	EXPECT_EQ(100 * MIX_N, next[1]);
	EXPECT_EQ(0, mb_nr_msgs(fd));
	msgbox_rxring_close(self->rx);
	self->rx = NULL;
	close(fd);
}

/*
 * Rings closed while large messages are copied into them, on a rendezvous
 * channel (a send succeeds only if the ring takes it): the close waits for
 * the copy (KASAN sees memory used after it is freed otherwise), and every
 * message sent was received, by one of the rings.
 */
TEST_F(rg, closing_a_ring_during_large_copies_loses_no_accounting)
{
	struct sender s = { .len = 256 * 1024 };
	struct msgbox_info info;
	unsigned int round;
	pthread_t t;
	int fd;

	fd = msgbox_create_anon(&(struct msgbox_attr){ .max_msgs = 0,
				.max_msg_size = s.len }, MB_RW);
	ASSERT_LE(0, fd);
	s.fd = fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, sends, &s));
	for (round = 0; round < 20; round++) {
		struct pollfd pfd;

		self->rx = msgbox_rxring_open(fd, 1 << 20, 0, MSGBOX_RING_LARGE);
		ASSERT_NE(NULL, self->rx);
		/* A record in: the sender is likely copying the next. */
		pfd = (struct pollfd){ .fd = msgbox_rxring_fd(self->rx),
				       .events = POLLIN };
		ASSERT_EQ(1, poll(&pfd, 1, 20000));
		msgbox_rxring_close(self->rx);
		self->rx = NULL;
	}
	s.stop = 1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, s.err);
	info = mb_info_of(fd);
	EXPECT_LE(20, s.sent);
	EXPECT_EQ(s.sent, info.sent);
	EXPECT_EQ(s.sent, info.received);
	close(fd);
}

struct ring_reader {
	struct msgbox_rxring *rx;
	size_t len;
	unsigned int got;
	int err;
};

/* A large record's ends are message 1's (the copy is tested elsewhere). */
static bool big_ends_ok(const unsigned char *p, size_t len)
{
	return p[0] == mb_pattern(1, 0) && p[len - 1] == mb_pattern(1, len - 1);
}

/*
 * Receive through the ring until it fails: EIDRM once drained.  Records
 * are read in place, so that the consumer keeps the ring empty and waits
 * in the library (RING_ENTER, receive, poll) while the sender copies.
 */
static void *ring_reads(void *arg)
{
	struct ring_reader *r = arg;
	const struct msgbox_ring_msg *rec;
	char *buf = malloc(r->len);
	struct msgbox_msg m;

	if (!buf) {
		r->err = ENOMEM;
		return NULL;
	}
	for (;;) {
		rec = msgbox_rxring_next(r->rx);
		if (rec) {
			if (rec->len != r->len ||
			    !big_ends_ok((const void *)(rec + 1), rec->len)) {
				r->err = EBADMSG;
				break;
			}
			msgbox_rxring_consume(r->rx, rec);
			r->got++;
			continue;
		}
		mb_msg_init(&m, buf, r->len, 0, MSGBOX_MSG_TIMEOUT);
		m.timeout_ns = 20ULL * 1000 * 1000 * 1000;
		if (msgbox_rxring_recvmsg(r->rx, &m)) {
			r->err = errno;
			break;
		}
		if (m.len != r->len || !big_ends_ok((void *)buf, m.len)) {
			r->err = EBADMSG;
			break;
		}
		r->got++;
	}
	free(buf);
	return NULL;
}

/* Wait for a hang-up only (no POLLIN asked) on a ring descriptor. */
static void *hup_poll(void *arg)
{
	struct pollfd *pfd = arg;

	if (poll(pfd, 1, 30000) != 1)
		pfd->revents = 0;
	return NULL;
}

/*
 * The mailbox destroyed while large messages are copied into its ring: a
 * message whose send succeeded was accepted before the destroy, and the
 * consumer reads it before it is told EIDRM (it does not see the ring
 * empty and the mailbox gone while that record is still on its way), and
 * a poller waiting for the hang-up alone still gets it.
 */
TEST_F_TIMEOUT(rg, a_destroy_during_a_large_copy_loses_no_sent_message, 240)
{
	unsigned int round;

	for (round = 0; round < 6; round++) {
		struct sender s = { .len = 512 * 1024 };
		struct ring_reader r = { .len = 512 * 1024 };
		struct pollfd hup;
		pthread_t ts, tr, th;
		int fd;

		fd = mb_create(self->name, 0, s.len, 0, MB_RW);
		if (fd < 0 && errno == EEXIST) {
			ASSERT_EQ(0, msgbox_destroy(self->name));
			fd = mb_create(self->name, 0, s.len, 0, MB_RW);
		}
		ASSERT_LE(0, fd);
		r.rx = msgbox_rxring_open(fd, 2 << 20, 0, MSGBOX_RING_LARGE);
		ASSERT_NE(NULL, r.rx);
		s.fd = fd;
		hup = (struct pollfd){ .fd = msgbox_rxring_fd(r.rx) };
		ASSERT_EQ(0, pthread_create(&th, NULL, hup_poll, &hup));
		ASSERT_EQ(0, pthread_create(&tr, NULL, ring_reads, &r));
		ASSERT_EQ(0, pthread_create(&ts, NULL, sends, &s));
		/* Sending first (a debug kernel starts threads slowly). */
		for (int w = 0; w < 20000 && !s.err &&
		     !__atomic_load_n(&s.sent, __ATOMIC_RELAXED); w++)
			mb_sleep_ms(1);
		mb_sleep_ms(10 + 7 * round);
		ASSERT_EQ(0, msgbox_destroy(self->name));
		ASSERT_EQ(0, pthread_join(ts, NULL));
		ASSERT_EQ(0, pthread_join(tr, NULL));
		ASSERT_EQ(0, pthread_join(th, NULL));
		EXPECT_TRUE(hup.revents & POLLHUP);
		EXPECT_EQ(0, s.err);
		EXPECT_EQ(EIDRM, r.err);
		EXPECT_LT(0, s.sent);
		EXPECT_EQ(s.sent, r.got);
		msgbox_rxring_close(r.rx);
		close(fd);
	}
}

/* The address of kernel symbol @name (root sees them), or 0. */
static unsigned long long kernel_symbol(const char *name)
{
	unsigned long long addr, found = 0;
	char line[256], sym[200], t;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %199s", &addr, &t, sym) == 3 &&
		    !strcmp(sym, name)) {
			found = addr;
			break;
		}
	fclose(f);
	return found;
}

/*
 * A payload address must be a user one, even where reading it would not
 * fault: the copy into the ring runs with page faults disabled and no
 * check of its own.
 */
TEST_F(rg, a_kernel_address_as_payload_is_EFAULT_and_nothing_reaches_the_ring)
{
	unsigned long long banner = kernel_symbol("linux_banner");
	struct msgbox_msg m[2];
	int err = 0;

	if (!banner)
		SKIP(return, "no kernel addresses in /proc/kallsyms");
	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	mb_msg_init(&m[0], (void *)(uintptr_t)banner, 64, 1,
		    MSGBOX_MSG_NONBLOCK);
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m[0]));
	EXPECT_EQ(EFAULT, errno);
	m[1] = m[0];
	EXPECT_EQ(-1, msgbox_send_batch(self->fd, m, 2, &err));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(0, mb_info_of(self->fd).sent);
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
}

/*
 * Payloads go from the sender's buffer straight into the ring, short ones
 * word by word: every length to past that bound, from every alignment,
 * single or batched, lands intact in a record of the right size.
 */
TEST_F(rg, every_length_to_300_bytes_lands_intact_in_the_ring)
{
	unsigned char src[3][300 + 8];
	const struct msgbox_ring_msg *rec;
	struct msgbox_msg m[3];
	unsigned int len, j;
	int err = 0;

	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	for (len = 0; len <= 300; len++) {
		__u64 ids[4];

		/* One alone, then a batch of three lengths around it. */
		for (j = 0; j < 3; j++)
			mb_fill(src[j] + (len / 8 + j) % 8, len + j, len + j);
		mb_msg_init(&m[0], src[0] + (len / 8) % 8, len, 1,
			    MSGBOX_MSG_NONBLOCK);
		ASSERT_EQ(0, msgbox_sendmsg(self->fd, &m[0]));
		ids[0] = m[0].id;
		for (j = 0; j < 3; j++)
			mb_msg_init(&m[j], src[j] + (len / 8 + j) % 8, len + j,
				    1, MSGBOX_MSG_NONBLOCK);
		ASSERT_EQ(3, msgbox_send_batch(self->fd, m, 3, &err));
		for (j = 0; j < 3; j++)
			ids[j + 1] = m[j].id;
		for (j = 0; j < 4; j++) {
			unsigned int want = j ? len + j - 1 : len;

			rec = msgbox_rxring_next(self->rx);
			ASSERT_NE(NULL, rec) TH_LOG("length %u, record %u", len, j);
			ASSERT_EQ(want, rec->len);
			/* The ids the sends reported are the records'. */
			EXPECT_EQ(ids[j], rec->id);
			EXPECT_LT(0, rec->id);
			EXPECT_EQ((64 + want + 7) / 8 * 8, rec->size);
			EXPECT_TRUE(mb_check(rec + 1, want, want))
				TH_LOG("length %u", want);
			msgbox_rxring_consume(self->rx, rec);
		}
	}
	EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
}

/*
 * A payload whose end is unmapped faults partway through the copy into
 * the ring: the send fails with EFAULT, no record appears, and the next
 * message's record is whole where the failed one would have been.
 */
TEST_F(rg, a_fault_partway_through_a_payload_leaves_the_ring_clean)
{
	long page = sysconf(_SC_PAGESIZE);
	const struct msgbox_ring_msg *rec;
	unsigned char *p, *edge, good[40];
	struct msgbox_msg m;

	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + page, page, PROT_NONE));
	edge = p + page - 97;
	mb_fill(edge, 97, 1);
	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);

	mb_msg_init(&m, edge, 100, 1, MSGBOX_MSG_NONBLOCK);
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(0, mb_info_of(self->fd).sent);
	/* Past the word-by-word bound the copy is another one: the same. */
	mb_fill(p + page - 390, 390, 3);
	mb_msg_init(&m, p + page - 390, 400, 1, MSGBOX_MSG_NONBLOCK);
	EXPECT_EQ(-1, msgbox_sendmsg(self->fd, &m));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(0, mb_info_of(self->fd).sent);

	mb_fill(good, sizeof(good), 2);
	mb_msg_init(&m, good, sizeof(good), 1, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_sendmsg(self->fd, &m));
	rec = msgbox_rxring_next(self->rx);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(sizeof(good), rec->len);
	EXPECT_EQ(64 + sizeof(good), rec->size);
	EXPECT_EQ(1, rec->type);
	EXPECT_EQ(m.id, rec->id);
	EXPECT_TRUE(mb_check(rec + 1, sizeof(good), 2));
	msgbox_rxring_consume(self->rx, rec);
	EXPECT_EQ(NULL, msgbox_rxring_next(self->rx));
	EXPECT_EQ(0, munmap(p, 2 * page));
}

TEST_F(rg, a_call_through_a_ring_carries_its_token)
{
	char req[32], rep[32];
	struct msgbox_msg m;
	pid_t pid;

	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ssize_t n = msgbox_call(self->fd, "ping", 4, rep, sizeof(rep),
					5000000000ULL);

		CHILD_CHECK(n == 4 && !memcmp(rep, "pong", 4), 2);
		_exit(0);
	}
	mb_msg_init(&m, req, sizeof(req), 0, MSGBOX_MSG_TIMEOUT);
	m.timeout_ns = 10000000000ULL;
	ASSERT_EQ(0, msgbox_rxring_recvmsg(self->rx, &m));
	ASSERT_EQ(4, m.len);
	EXPECT_EQ(0, memcmp(req, "ping", 4));
	ASSERT_NE(0, m.token);
	EXPECT_EQ(0, msgbox_reply(self->fd, m.token, "pong", 4));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
}

TEST_F(rg, a_waiting_consumer_wakes_times_out_and_polls)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t t0;
	int ep;
	pid_t pid;

	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	/* Nothing comes: a timed receive ends with ETIMEDOUT, not before. */
	t0 = mb_now_ns(CLOCK_MONOTONIC);
	{
		struct msgbox_msg m;
		char b[8];

		mb_msg_init(&m, b, sizeof(b), 0, MSGBOX_MSG_TIMEOUT);
		m.timeout_ns = 50000000;
		EXPECT_EQ(-1, msgbox_rxring_recvmsg(self->rx, &m));
		EXPECT_EQ(ETIMEDOUT, errno);
	}
	EXPECT_LE(50000000, mb_now_ns(CLOCK_MONOTONIC) - t0);

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, msgbox_rxring_fd(self->rx),
			       &ev));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		mb_sleep_ms(100);
		CHILD_CHECK(send_seq(self->fd, 7, 64, 1, 0, 0) == 0, 2);
		_exit(0);
	}
	/* A blocking receive sleeps in poll until the child's message. */
	ASSERT_EQ(0, recv_seq(self->rx, 7, 64, 0, NULL));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	ASSERT_EQ(0, send_seq(self->fd, 8, 64, 1, 0, 0));
	EXPECT_EQ(1, epoll_wait(ep, &ev, 1, MB_WAIT_MS));
	EXPECT_EQ(0, recv_seq(self->rx, 8, 64, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	close(ep);
}

TEST_F(rg, a_rendezvous_send_completes_into_the_ring)
{
	int fd;

	fd = msgbox_create_anon(&(struct msgbox_attr){ .max_msgs = 0,
				.max_msg_size = 64, .max_bytes = 0 }, MB_RW);
	ASSERT_LE(0, fd);
	/* No receiver: a non-blocking rendezvous send cannot complete. */
	EXPECT_EQ(-1, send_seq(fd, 1, 8, 1, 0, 0));
	EXPECT_EQ(EAGAIN, errno);
	self->rx = msgbox_rxring_open(fd, 4096, 0, 0);
	ASSERT_NE(NULL, self->rx);
	/* The ring is a receiver waiting: the send hands the message over. */
	EXPECT_EQ(0, send_seq(fd, 1, 8, 1, 0, 0));
	EXPECT_EQ(0, recv_seq(self->rx, 1, 8, MSGBOX_MSG_NONBLOCK, NULL));
	msgbox_rxring_close(self->rx);
	self->rx = NULL;
	close(fd);
}

struct rv_sender {
	int fd;
	int polled;	/* poll(2)'s result */
	long long ms;	/* how long it polled */
	bool sent;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Wait for the channel to be writable, then send.  poll(2) looks once
 * more when its 10 s run out: a wake-up lost shows as a 10 s poll.
 */
static void *rv_send_when_writable(void *arg)
{
	struct rv_sender *s = arg;
	struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
	long long t0 = now_ms();

	s->polled = poll(&pfd, 1, 10000);
	s->ms = now_ms() - t0;
	if (s->polled == 1 && (pfd.revents & POLLOUT))
		s->sent = send_seq(s->fd, 99, 8, 1, 0, 0) == 0;
	return NULL;
}

/*
 * A rendezvous channel queues nothing: it is writable while a receiver
 * would take a message now.  A ring that selects every type and has room
 * for a message of max_msg_size is such a receiver; a full ring is not,
 * and the consumer's MSGBOX_IOC_RING_ENTER, which it issues before it
 * sleeps, tells polling senders of the room it made.
 */
TEST_F(rg, a_rendezvous_channel_is_writable_while_its_ring_has_room)
{
	struct msgbox_attr a = { .max_msgs = 0, .max_msg_size = 64 };
	const struct msgbox_ring_msg *rec;
	struct rv_sender snd = { 0 };
	unsigned int n = 0, got = 0;
	struct pollfd pfd;
	__u32 next = 0;
	pthread_t t;
	int fd;

	fd = msgbox_create_anon(&a, MB_RW);
	ASSERT_LE(0, fd);
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	self->rx = msgbox_rxring_open(fd, 4096, 0, 0);
	ASSERT_NE(NULL, self->rx);
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLOUT);

	/* Sends complete into the ring until it has no room left. */
	while (n < 100 && send_seq(fd, n, 64, 1, 0, 0) == 0)
		n++;
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_LT(0, n);
	ASSERT_GT(100, n);
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	snd.fd = fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, rv_send_when_writable, &snd));
	usleep(100 * 1000);	/* the sender is polling by now */
	while ((rec = msgbox_rxring_next(self->rx))) {
		EXPECT_TRUE(mb_check(rec + 1, 64, got));
		got++;
		msgbox_rxring_consume(self->rx, rec);
	}
	EXPECT_EQ(n, got);
	EXPECT_EQ(0, ioctl(msgbox_rxring_fd(self->rx), MSGBOX_IOC_RING_ENTER,
			   &next));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(1, snd.polled);
	EXPECT_TRUE(snd.sent);
	EXPECT_GT(5000, snd.ms) TH_LOG("the sender slept out its poll: not woken");
	rec = msgbox_rxring_next(self->rx);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(8, rec->len);
	EXPECT_TRUE(mb_check(rec + 1, 8, 99));
	msgbox_rxring_consume(self->rx, rec);

	/* A ring that selects one type cannot take every message. */
	msgbox_rxring_close(self->rx);
	self->rx = msgbox_rxring_open(fd, 4096, 2, 0);
	ASSERT_NE(NULL, self->rx);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	close(fd);
}

TEST_F(rg, after_destroy_the_ring_drains_then_says_EIDRM)
{
	struct pollfd pfd;

	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	ASSERT_EQ(0, send_seq(self->fd, 1, 32, 1, 0, 0));
	ASSERT_EQ(0, msgbox_destroy(self->name));
	EXPECT_EQ(-1, send_seq(self->fd, 2, 32, 1, 0, 0));
	EXPECT_EQ(EIDRM, errno);
	pfd.fd = msgbox_rxring_fd(self->rx);
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLHUP);
	EXPECT_EQ(0, recv_seq(self->rx, 1, 32, 0, NULL));
	EXPECT_EQ(-1, recv_seq(self->rx, 0, 0, 0, NULL));
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-1, ioctl(msgbox_rxring_fd(self->rx), MSGBOX_IOC_RING_ENTER,
			    0));
	EXPECT_EQ(EIDRM, errno);
}

TEST_F(rg, a_closed_ring_receives_nothing_more)
{
	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	msgbox_rxring_close(self->rx);
	self->rx = NULL;
	ASSERT_EQ(0, send_seq(self->fd, 1, 32, 1, 0, 0));
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	EXPECT_EQ(0, mb_info_of(self->fd).received);
}

/*
 * The consumer owns the head and may write nonsense there: the kernel then
 * stops writing into the ring (messages queue, as for a full ring) and
 * nothing else happens.
 */
TEST_F(rg, a_corrupt_head_only_stops_the_ring)
{
	struct msgbox_ring_setup rs;
	long page = sysconf(_SC_PAGESIZE);
	char *p;
	int rfd;

	rfd = ring_setup(self->fd, page, 0, 0, &rs);
	ASSERT_LE(0, rfd);
	p = mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, rfd,
		 0);
	ASSERT_NE(MAP_FAILED, p);
	/* More room than the ring has. */
	*(volatile __u32 *)(p + rs.head_offset) = 0x80000000U;
	ASSERT_EQ(0, send_seq(self->fd, 1, 32, 1, 0, 0));
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	/* Not aligned. */
	*(volatile __u32 *)(p + rs.head_offset) = 3;
	EXPECT_EQ(0, ioctl(rfd, MSGBOX_IOC_RING_ENTER, 0));
	EXPECT_EQ(1, mb_nr_msgs(self->fd));
	/* Put right, the ring takes what queued. */
	*(volatile __u32 *)(p + rs.head_offset) = 0;
	EXPECT_EQ(1, ioctl(rfd, MSGBOX_IOC_RING_ENTER, 0));
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
	EXPECT_EQ(1, ((struct msgbox_ring_msg *)(p + rs.data_offset))->id);
	munmap(p, rs.mmap_size);
	close(rfd);
}

/*
 * Three subscriptions with rings: the first delivery is received (and its
 * header freed) at once, before the publish looks at the others.
 */
TEST_F(rg, every_subscription_ring_gets_each_publication)
{
	struct msgbox_rxring *rx[3];
	int topic, sub[3], i, k;

	topic = msgbox_create_anon(&(struct msgbox_attr){ .max_msgs = 4,
				   .max_msg_size = 512, .max_bytes = 2048,
				   .flags = MSGBOX_CREATE_TOPIC }, MB_RW);
	ASSERT_LE(0, topic);
	for (i = 0; i < 3; i++) {
		sub[i] = msgbox_subscribe(topic, 0, MSGBOX_FD_RECV);
		ASSERT_LE(0, sub[i]);
		rx[i] = msgbox_rxring_open(sub[i], 16384, 0, 0);
		ASSERT_NE(NULL, rx[i]);
	}
	for (k = 0; k < 20; k++)
		ASSERT_EQ(0, send_seq(topic, k, 300, 1, 0, 0));
	for (i = 0; i < 3; i++) {
		for (k = 0; k < 20; k++)
			EXPECT_EQ(0, recv_seq(rx[i], k, 300,
					      MSGBOX_MSG_NONBLOCK, NULL));
		msgbox_rxring_close(rx[i]);
		close(sub[i]);
	}
	close(topic);
}

TEST_F(rg, a_subscription_ring_gets_the_publications)
{
	struct msgbox_rxring *rx;
	int topic, sub;

	topic = msgbox_create_anon(&(struct msgbox_attr){ .max_msgs = 4,
				   .max_msg_size = 64, .max_bytes = 256,
				   .flags = MSGBOX_CREATE_TOPIC }, MB_RW);
	ASSERT_LE(0, topic);
	EXPECT_EQ(-1, ring_setup(topic, 4096, 0, 0, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	sub = msgbox_subscribe(topic, 0, MSGBOX_FD_RECV);
	ASSERT_LE(0, sub);
	rx = msgbox_rxring_open(sub, 4096, 0, 0);
	ASSERT_NE(NULL, rx);
	for (unsigned int i = 0; i < 8; i++)
		ASSERT_EQ(0, send_seq(topic, i, 16, 1, 0, 0));
	for (unsigned int i = 0; i < 8; i++)
		EXPECT_EQ(0, recv_seq(rx, i, 16, MSGBOX_MSG_NONBLOCK, NULL));
	msgbox_rxring_close(rx);
	close(sub);
	close(topic);
}

/* A receiver asleep came first: it gets the message, not the ring. */
TEST_F(rg, a_sleeping_receiver_comes_before_the_ring)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char b[64];

		CHILD_CHECK(msgbox_recv(self->fd, b, sizeof(b), 0) == 16 &&
			    mb_check(b, 16, 1), 2);
		_exit(0);
	}
	ASSERT_EQ(0, mb_wait_waiters(self->fd, 1, 0));
	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	ASSERT_EQ(0, send_seq(self->fd, 1, 16, 1, 0, 0));
	ASSERT_EQ(0, send_seq(self->fd, 2, 16, 1, 0, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	EXPECT_EQ(0, recv_seq(self->rx, 2, 16, MSGBOX_MSG_NONBLOCK, NULL));
}

/*
 * A sleeping receiver that does not select a large message does not keep
 * it from a MSGBOX_RING_LARGE ring, as it would not keep a small one.
 */
TEST_F(rg, a_large_message_passes_a_receiver_that_does_not_select_it)
{
	static char big[100 * 1024];
	const struct msgbox_ring_msg *rec;
	struct msgbox_msg m;
	pid_t pid;
	int fd;

	fd = msgbox_create_anon(&(struct msgbox_attr){ .max_msgs = 4,
				.max_msg_size = sizeof(big),
				.max_bytes = 4 * sizeof(big) }, MB_RW);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char b[64];

		mb_msg_init(&m, b, sizeof(b), 99, 0);
		CHILD_CHECK(msgbox_recvmsg(fd, &m) == 0 && m.type == 99 &&
			    m.len == 16 && mb_check(b, 16, 3), 2);
		_exit(0);
	}
	EXPECT_EQ(0, mb_wait_waiters(fd, 1, 0));
	self->rx = msgbox_rxring_open(fd, 1 << 20, 0, MSGBOX_RING_LARGE);
	EXPECT_NE(NULL, self->rx);
	mb_fill(big, sizeof(big), 4);
	mb_msg_init(&m, big, sizeof(big), 1, MSGBOX_MSG_NONBLOCK);
	EXPECT_EQ(0, msgbox_sendmsg(fd, &m));
	EXPECT_EQ(0, mb_nr_msgs(fd));
	rec = msgbox_rxring_next(self->rx);
	EXPECT_NE(NULL, rec);
	if (rec) {
		EXPECT_EQ(sizeof(big), rec->len);
		EXPECT_TRUE(mb_check(rec + 1, sizeof(big), 4));
	}
	/* Release the receiver whatever happened above. */
	ASSERT_EQ(0, send_seq(fd, 3, 16, 99, 0, 0));
	EXPECT_EQ(0, mb_reap(pid, MB_WAIT_MS));
	msgbox_rxring_close(self->rx);
	self->rx = NULL;
	close(fd);
}

/*
 * Batches go straight into the ring, entry by entry.  A payload that is not
 * in memory cannot be copied under the mailbox lock: that entry takes the
 * usual path, still in order; one that cannot be read at all fails the
 * batch there, as without a ring.
 */
TEST_F(rg, batches_fill_the_ring_in_order_and_stop_at_a_fault)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct msgbox_msg m[4];
	char a[16], c[16], *fresh;
	int err = 0;

	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	fresh = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fresh);
	mb_fill(a, sizeof(a), 1);
	mb_fill(c, sizeof(c), 3);
	mb_msg_init(&m[0], a, sizeof(a), 1, MSGBOX_MSG_NONBLOCK);
	mb_msg_init(&m[1], fresh, 16, 1, MSGBOX_MSG_NONBLOCK);	/* untouched */
	mb_msg_init(&m[2], c, sizeof(c), 1, MSGBOX_MSG_NONBLOCK);
	mb_msg_init(&m[3], (void *)8, 16, 1, MSGBOX_MSG_NONBLOCK);
	EXPECT_EQ(3, msgbox_send_batch(self->fd, m, 4, &err));
	EXPECT_EQ(-EFAULT, err);
	EXPECT_EQ(1, m[0].id);
	EXPECT_EQ(2, m[1].id);
	EXPECT_EQ(3, m[2].id);
	EXPECT_EQ(0, mb_nr_msgs(self->fd));
	ASSERT_EQ(0, recv_seq(self->rx, 1, 16, MSGBOX_MSG_NONBLOCK, NULL));
	{
		char buf[16], zero[16] = { 0 };
		struct msgbox_msg r;

		mb_msg_init(&r, buf, sizeof(buf), 0, MSGBOX_MSG_NONBLOCK);
		ASSERT_EQ(0, msgbox_rxring_recvmsg(self->rx, &r));
		EXPECT_EQ(2, r.id);
		EXPECT_EQ(0, memcmp(buf, zero, sizeof(buf)));
	}
	ASSERT_EQ(0, recv_seq(self->rx, 3, 16, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(-1, recv_seq(self->rx, 0, 0, MSGBOX_MSG_NONBLOCK, NULL));
	EXPECT_EQ(EAGAIN, errno);
	munmap(fresh, ps);
}

struct uffd_send {
	int fd;
	char *page;
	int ret;
};

static void *send_from(void *arg)
{
	struct uffd_send *us = arg;
	struct msgbox_msg m;

	mb_msg_init(&m, us->page, 32, 1, 0);
	us->ret = msgbox_sendmsg(us->fd, &m);
	return NULL;
}

/* A sender whose payload faults sleeps outside the lock: others go on. */
TEST_F(rg, a_sender_stuck_in_a_fault_holds_up_no_one)
{
	struct uffd_send us = { .fd = self->fd, .ret = -2 };
	char buf[32], want[32];
	struct msgbox_msg m;
	pthread_t t;
	int uffd;

	uffd = mb_uffd_page(&us.page);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	self->rx = msgbox_rxring_open(self->fd, 0, 0, 0);
	ASSERT_NE(NULL, self->rx);
	ASSERT_EQ(0, pthread_create(&t, NULL, send_from, &us));
	ASSERT_EQ(0, mb_uffd_wait(uffd));
	/* The sender sleeps in its copy; the mailbox is free meanwhile. */
	ASSERT_EQ(0, send_seq(self->fd, 5, 16, 1, 0, 0));
	ASSERT_EQ(0, recv_seq(self->rx, 5, 16, MSGBOX_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, mb_uffd_serve(uffd, us.page, 0x5a));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, us.ret);
	mb_msg_init(&m, buf, sizeof(buf), 0, MSGBOX_MSG_NONBLOCK);
	ASSERT_EQ(0, msgbox_rxring_recvmsg(self->rx, &m));
	memset(want, 0x5a, sizeof(want));
	EXPECT_EQ(32, m.len);
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
}

TEST_HARNESS_MAIN
