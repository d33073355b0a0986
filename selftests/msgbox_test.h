/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the msgbox selftests.
 *
 * Tests use libmsgbox (userlib/msgbox.h) for everything except deliberately
 * malformed requests, which go through raw ioctl(2).
 *
 * Helper processes forked by a test never use ASSERT_*: an ASSERT longjmps
 * into the harness, which would run the fixture teardown in the helper.
 * They check with CHILD_CHECK() and report through their exit status, which
 * the test reaps with mb_reap() and compares with EXPECT_EQ(0, ...).
 *
 * Teardown: every fixture uses FIXTURE_TEARDOWN_PARENT.  The 6.12 harness
 * keeps its "child" pid in a non-volatile local across setjmp(), so after an
 * ASSERT the test process may take the parent's path and skip a plain
 * FIXTURE_TEARDOWN, leaking the mailbox name (seen: a later ENOSPC count was
 * off by one).  The parent variant runs exactly once whichever process gets
 * there.  It may run in a process without the test's descriptors, so it
 * only destroys mailboxes by name (which also wakes any helper left asleep);
 * process exit closes the descriptors.
 */
#ifndef MSGBOX_TEST_H
#define MSGBOX_TEST_H

#include <errno.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "msgbox.h"		/* userlib/msgbox.h, includes <linux/msgbox.h> */
#include "kselftest_harness.h"

/* Upper bound for any wait on another process (TCG is slow). */
#define MB_WAIT_MS	20000

#define MB_RW		(MSGBOX_FD_RECV | MSGBOX_FD_SEND)

/*
 * A helper process's check: on failure, say where and why on stderr (the
 * harness output carries it) and exit with @code, which must be non-zero.
 */
#define CHILD_CHECK(cond, code) do {					\
	if (!(cond)) {							\
		int __e = errno;					\
		fprintf(stderr, "# %s:%d: child %d: check '%s' failed "	\
			"(errno %d: %s)\n", __FILE__, __LINE__,		\
			getpid(), #cond, __e, strerror(__e));		\
		_exit(code);						\
	}								\
} while (0)

/* A mailbox name unique to this test process: "ksft-<tag>-<pid>". */
static inline void mb_make_name(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, "ksft-%s-%d", tag, (int)getpid());
}

static inline bool mb_have_device(void)
{
	return access(MSGBOX_DEVICE, F_OK) == 0;
}

static inline int mb_create(const char *name, unsigned int max_msgs,
			    unsigned int max_msg_size,
			    unsigned long long max_bytes, unsigned int fd_flags)
{
	struct msgbox_attr attr = {
		.max_msgs = max_msgs,
		.max_msg_size = max_msg_size,
		.max_bytes = max_bytes,
	};

	return msgbox_create(name, &attr, fd_flags);
}

/* Destroy @name if it exists; 0 if it was destroyed or absent. */
static inline int mb_destroy_quiet(const char *name)
{
	if (msgbox_destroy(name) == 0 || errno == ENOENT)
		return 0;
	return -1;
}

static inline uint64_t mb_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void mb_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Wait until the mailbox reports @recv tasks sleeping in receive and @send
 * sleeping in send: the way a test knows another process is really blocked.
 * Returns 0, or -1 if that did not happen within MB_WAIT_MS (or INFO failed).
 */
static inline int mb_wait_waiters(int fd, unsigned int recv, unsigned int send)
{
	struct msgbox_info info;
	int i;

	for (i = 0; i < MB_WAIT_MS; i++) {
		if (msgbox_info(fd, &info))
			return -1;
		if (info.recv_waiters == recv && info.send_waiters == send)
			return 0;
		mb_sleep_ms(1);
	}
	fprintf(stderr, "# waiters: want recv %u send %u, have recv %u send %u\n",
		recv, send, info.recv_waiters, info.send_waiters);
	return -1;
}

/*
 * Wait until a message is queued on @fd (another process's send or call
 * coming), at most MB_WAIT_MS.  -1 only if INFO failed: after the wait the
 * caller goes on either way, and its next step (a blocking receive, ...)
 * finds out.
 */
static inline int mb_wait_queued(int fd)
{
	struct msgbox_info info;
	int i;

	for (i = 0; i < MB_WAIT_MS; i++) {
		if (msgbox_info(fd, &info))
			return -1;
		if (info.nr_msgs)
			break;
		mb_sleep_ms(1);
	}
	return 0;
}

/*
 * Reap @pid, waiting at most @ms milliseconds (then SIGKILL).
 * Returns its exit status, 128 + signal if it was killed by a signal, or
 * -1 if it had to be killed because it did not finish in time.
 */
static inline int mb_reap(pid_t pid, unsigned int ms)
{
	int status, i;
	pid_t r;

	for (i = 0; ; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -2;
		if (i >= (int)ms) {
			fprintf(stderr, "# child %d did not finish in %u ms\n",
				(int)pid, ms);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		mb_sleep_ms(1);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -3;
}

/* Has @pid exited already?  (Reaps it if so; *status gets mb_reap's value.) */
static inline bool mb_exited(pid_t pid, int *status)
{
	int st;

	if (waitpid(pid, &st, WNOHANG) != pid)
		return false;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return true;
}

/*
 * Wait until @pid sleeps inside one of the system calls @nrs (terminated by
 * -1), as /proc/<pid>/stat and /proc/<pid>/syscall show: how a test knows a
 * poller is blocked in poll(2)/epoll_wait(2), which have no waiter counter.
 * Returns 0, or -1 if that did not happen within MB_WAIT_MS.
 */
static inline int mb_wait_in_syscall(pid_t pid, const long *nrs)
{
	char path[64], buf[256];
	int i, j;

	for (i = 0; i < MB_WAIT_MS; i++, mb_sleep_ms(1)) {
		char *p, state;
		long nr;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (!f)
			return -1;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!p || !(p = strrchr(buf, ')')) || sscanf(p + 1, " %c", &state) != 1)
			return -1;
		if (state != 'S')
			continue;

		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
		f = fopen(path, "r");
		if (!f)
			return -1;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!p || sscanf(buf, "%ld", &nr) != 1)
			continue;
		for (j = 0; nrs[j] >= 0; j++)
			if (nr == nrs[j])
				return 0;
	}
	fprintf(stderr, "# child %d never slept in the expected syscall\n", (int)pid);
	return -1;
}

/* Deterministic payload byte @i of message @seq. */
static inline unsigned char mb_pattern(unsigned int seq, size_t i)
{
	return (unsigned char)(seq * 131u + i * 7u + (i >> 8));
}

static inline void mb_fill(void *buf, size_t len, unsigned int seq)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = mb_pattern(seq, i);
}

static inline bool mb_check(const void *buf, size_t len, unsigned int seq)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != mb_pattern(seq, i))
			return false;
	return true;
}

/* Read a module parameter; false if the module does not export it. */
static inline bool mb_param_get(const char *param, unsigned long long *val)
{
	char path[128];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/module/msgbox/parameters/%s", param);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fscanf(f, "%llu", val) == 1;
	fclose(f);
	return ok;
}

/* Write a module parameter (root only); false if that failed. */
static inline bool mb_param_set(const char *param, unsigned long long val)
{
	char path[128];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/module/msgbox/parameters/%s", param);
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fprintf(f, "%llu\n", val) > 0;
	ok = (fclose(f) == 0) && ok;
	return ok;
}

/*
 * The mailbox's state; every field poisoned (0xff before the call, 0xee if
 * it failed), so a failed INFO cannot pass for a real value.
 */
static inline struct msgbox_info mb_info_of(int fd)
{
	struct msgbox_info info;

	memset(&info, 0xff, sizeof(info));
	if (msgbox_info(fd, &info))
		memset(&info, 0xee, sizeof(info));
	return info;
}

/* Messages queued now, or -1. */
static inline int mb_nr_msgs(int fd)
{
	struct msgbox_info info;

	if (msgbox_info(fd, &info))
		return -1;
	return info.nr_msgs;
}

/* Tasks sleeping in receive (parked io_uring receives included), or -1. */
static inline int mb_recv_waiters(int fd)
{
	struct msgbox_info info;

	if (msgbox_info(fd, &info))
		return -1;
	return info.recv_waiters;
}

/*
 * Replace mailbox @name, open on *@fd, by one with other limits; *@fd is
 * the new descriptor.  0, or -1.
 */
static inline int mb_recreate(const char *name, int *fd, unsigned int max_msgs,
			      unsigned int max_msg_size,
			      unsigned long long max_bytes)
{
	close(*fd);
	if (msgbox_destroy(name))
		return -1;
	*fd = mb_create(name, max_msgs, max_msg_size, max_bytes, MB_RW);
	return *fd < 0 ? -1 : 0;
}

static inline void mb_msg_init(struct msgbox_msg *m, void *buf, size_t len,
			       __s64 type, __u32 flags)
{
	memset(m, 0, sizeof(*m));
	m->data = (uintptr_t)buf;
	m->len = len;
	m->type = type;
	m->flags = flags;
}

/*
 * Become @uid with group @gid and no supplementary groups (and so, from
 * root, lose every capability).  In a forked helper only.
 */
static inline int mb_become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) || setresgid(gid, gid, gid))
		return -1;
	return setresuid(uid, uid, uid);
}

/*
 * Fault injection through /proc/thread-self/fail-nth (@nth, open O_RDWR;
 * kernels with CONFIG_FAULT_INJECTION only).
 *
 * Fail the @n-th fault point of this thread's next system call.
 */
static inline int mb_fi_arm(int nth, int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%d", n);

	return write(nth, b, l) == l ? 0 : -1;
}

/*
 * After the call: was the armed point reached (and failed)?  Disarms.  A
 * read that faults itself means one point was still to come: not reached.
 */
static inline bool mb_fi_fired(int nth)
{
	char b[16] = "";
	ssize_t r = pread(nth, b, sizeof(b) - 1, 0);
	bool fired = r > 0 && strtoul(b, NULL, 10) == 0;

	/* May fail (EFAULT) if its own copy was the last point: 0 then. */
	if (write(nth, "0", 1) != 1 && errno != EFAULT)
		perror("fail-nth");
	return fired;
}

/* Write @val to the debugfs/sysfs file @path, if there is one. */
static inline void mb_knob(const char *path, const char *val)
{
	int f = open(path, O_WRONLY);

	if (f >= 0) {
		if (write(f, val, strlen(val)) < 0)
			perror(path);
		close(f);
	}
}

/*
 * A page whose first touch sleeps until mb_uffd_serve(): how a test makes
 * the kernel sleep in the middle of a copy from or to user memory.  The
 * userfaultfd descriptor, or -1 (errno set) without userfaultfd; *@pagep
 * is the page.
 */
static inline int mb_uffd_page(char **pagep)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	long ps = sysconf(_SC_PAGESIZE);
	int uffd;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return -1;
	*pagep = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)*pagep;
	reg.range.len = ps;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (*pagep == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

/* Wait (at most MB_WAIT_MS) until something sleeps on the page: 0 or -1. */
static inline int mb_uffd_wait(int uffd)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg um;

	if (poll(&pfd, 1, MB_WAIT_MS) != 1)
		return -1;
	return read(uffd, &um, sizeof(um)) == (ssize_t)sizeof(um) ? 0 : -1;
}

/* Fill the page with @byte, waking what sleeps on it; close everything. */
static inline int mb_uffd_serve(int uffd, char *page, int byte)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct uffdio_copy cp;
	char *src = malloc(ps);
	int ret;

	if (!src)
		return -1;
	memset(src, byte, ps);
	memset(&cp, 0, sizeof(cp));
	cp.dst = (uintptr_t)page;
	cp.src = (uintptr_t)src;
	cp.len = ps;
	ret = ioctl(uffd, UFFDIO_COPY, &cp);
	free(src);
	close(uffd);
	return ret;
}

#endif /* MSGBOX_TEST_H */
