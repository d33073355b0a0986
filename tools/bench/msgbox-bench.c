// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox-bench: msgbox next to the kernel's other message passing, in one
 * run, so that the numbers compare (under emulation absolute times are not
 * hardware times: read the ratios).
 *
 *   round trip  64 B ping-pong between two processes: median and p99,
 *               with both on one CPU and on two CPUs;
 *   throughput  one-way streams of 100 B and 100 KB messages, two CPUs.
 *
 * Mechanisms: msgbox (ioctl and read/write), POSIX mq, SysV msg, pipe,
 * Unix SOCK_SEQPACKET, and the eventfd ping-pong as the floor of a round
 * trip (two wake-ups and no payload).
 *
 * Emulated CPUs are noisy: every figure is the median of RUNS runs, and
 * the mechanisms take turns within each run so drift hits them alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/msg.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msgbox.h"

#define MAX_SIZE	(100 * 1024)
#define RT_ITERS	2000
#define RUNS		5

enum mech { M_EVENTFD, M_MSGBOX, M_MSGBOX_RW, M_MSGBOX_BATCH, M_MQ, M_SYSV,
	    M_PIPE, M_SEQPACKET, NR_MECH };

static const char *const mech_name[NR_MECH] = {
	"eventfd (floor)", "msgbox ioctl", "msgbox read/write", "msgbox batch 32",
	"POSIX mq", "SysV msg", "pipe", "unix seqpacket",
};

#define BATCH	32

/* One direction of a channel. */
struct end {
	int fd;			/* eventfd, msgbox, mq, pipe/socket fd */
	int sysv;		/* SysV queue id */
};

/* A bidirectional channel: ab carries A to B, ba B to A. */
struct chan {
	enum mech m;
	struct end ab_tx, ab_rx, ba_tx, ba_rx;
};

static void die(const char *what)
{
	fprintf(stderr, "msgbox-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void write_proc(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

static void open_pair(enum mech m, struct end *tx, struct end *rx, int n)
{
	int p[2];

	switch (m) {
	case M_EVENTFD:
		tx->fd = rx->fd = eventfd(0, 0);
		break;
	case M_MSGBOX:
	case M_MSGBOX_RW:
	case M_MSGBOX_BATCH: {
		struct msgbox_attr a;

		msgbox_attr_init(&a);
		a.max_msgs = 64;
		a.max_msg_size = MAX_SIZE;
		a.max_bytes = 64ull * MAX_SIZE;
		tx->fd = rx->fd = msgbox_create_anon(&a, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
		break;
	}
	case M_MQ: {
		struct mq_attr a = { .mq_maxmsg = 64, .mq_msgsize = MAX_SIZE };
		char name[32];

		snprintf(name, sizeof(name), "/bench-%d-%d", getpid(), n);
		tx->fd = rx->fd = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
		mq_unlink(name);
		break;
	}
	case M_SYSV:
		tx->sysv = rx->sysv = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		tx->fd = rx->fd = tx->sysv;
		break;
	case M_PIPE:
		if (pipe(p))
			die("pipe");
		fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
		rx->fd = p[0];
		tx->fd = p[1];
		break;
	case M_SEQPACKET:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p))
			die("socketpair");
		tx->fd = p[0];
		rx->fd = p[1];
		break;
	default:
		break;
	}
	if (tx->fd < 0)
		die(mech_name[m]);
}

static void xsend(enum mech m, struct end *e, const void *buf, size_t len)
{
	static char sysvbuf[sizeof(long) + MAX_SIZE];
	uint64_t one = 1;
	int r;

	switch (m) {
	case M_EVENTFD:
		r = write(e->fd, &one, 8) == 8 ? 0 : -1;
		break;
	case M_MSGBOX:
	case M_MSGBOX_BATCH:	/* round trips: one message at a time */
		r = msgbox_send(e->fd, buf, len, 0);
		break;
	case M_MQ:
		r = mq_send(e->fd, buf, len, 0);
		break;
	case M_SYSV:
		*(long *)sysvbuf = 1;
		memcpy(sysvbuf + sizeof(long), buf, len);
		r = msgsnd(e->sysv, sysvbuf, len, 0);
		break;
	default:	/* read/write mechanisms: one message per write */
		r = write(e->fd, buf, len) == (ssize_t)len ? 0 : -1;
		break;
	}
	if (r)
		die("send");
}

static void xrecv(enum mech m, struct end *e, void *buf, size_t len)
{
	static char sysvbuf[sizeof(long) + MAX_SIZE];
	uint64_t v;
	ssize_t r;

	switch (m) {
	case M_EVENTFD:
		r = read(e->fd, &v, 8) == 8 ? (ssize_t)len : -1;
		break;
	case M_MSGBOX:
	case M_MSGBOX_BATCH:
		r = msgbox_recv(e->fd, buf, MAX_SIZE, 0);
		break;
	case M_MQ:
		r = mq_receive(e->fd, buf, MAX_SIZE, NULL);
		break;
	case M_SYSV:
		r = msgrcv(e->sysv, sysvbuf, MAX_SIZE, 0, 0);
		if (r > 0)
			memcpy(buf, sysvbuf + sizeof(long), r);
		break;
	case M_PIPE: {	/* a stream: read exactly one message's bytes */
		size_t got = 0;

		while (got < len && (r = read(e->fd, (char *)buf + got, len - got)) > 0)
			got += r;
		r = got;
		break;
	}
	default:
		r = read(e->fd, buf, MAX_SIZE);
		break;
	}
	if (r != (ssize_t)len)
		die("recv");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 64 B ping-pong; median and p99 round trip in ns. */
static void round_trip(enum mech m, int cpu_b, uint64_t *med, uint64_t *p99)
{
	static uint64_t t[RT_ITERS];
	static char buf[MAX_SIZE];
	struct chan c = { .m = m };
	pid_t pid;
	int i;

	open_pair(m, &c.ab_tx, &c.ab_rx, 1);
	open_pair(m, &c.ba_tx, &c.ba_rx, 2);
	pid = fork();
	if (pid == 0) {
		pin(cpu_b);
		for (i = 0; i < RT_ITERS + 100; i++) {
			xrecv(m, &c.ab_rx, buf, 64);
			xsend(m, &c.ba_tx, buf, 64);
		}
		exit(0);
	}
	pin(0);
	for (i = 0; i < RT_ITERS + 100; i++) {
		uint64_t t0 = now_ns();

		xsend(m, &c.ab_tx, buf, 64);
		xrecv(m, &c.ba_rx, buf, 64);
		if (i >= 100)		/* warm-up excluded */
			t[i - 100] = now_ns() - t0;
	}
	waitpid(pid, NULL, 0);
	qsort(t, RT_ITERS, sizeof(t[0]), cmp_u64);
	*med = t[RT_ITERS / 2];
	*p99 = t[RT_ITERS * 99 / 100];
}

/* Batches of up to BATCH messages each way, for the stream. */
static void batch_send(int fd, const char *buf, size_t len, int n)
{
	static struct msgbox_msg m[BATCH];
	int i, k, done;

	for (i = 0; i < n; i += done) {
		k = n - i < BATCH ? n - i : BATCH;
		for (int j = 0; j < k; j++)
			m[j] = (struct msgbox_msg){ .data = (uintptr_t)buf,
						   .len = len, .type = 1 };
		done = msgbox_send_batch(fd, m, k, NULL);
		if (done <= 0)
			die("send batch");
	}
}

static int batch_recv(int fd, char *buf, size_t len, int want)
{
	static struct msgbox_msg m[BATCH];
	int k = want < BATCH ? want : BATCH, n;

	for (int j = 0; j < k; j++)
		m[j] = (struct msgbox_msg){ .data = (uintptr_t)buf, .len = len };
	n = msgbox_recv_batch(fd, m, k, NULL);
	if (n <= 0)
		die("recv batch");
	return n;
}

/* One-way stream of @n messages of @len bytes: messages per second. */
static double stream(enum mech m, size_t len, int n)
{
	static char buf[MAX_SIZE];
	struct chan c = { .m = m };
	uint64_t t0, t1;
	pid_t pid;
	int i;

	open_pair(m, &c.ab_tx, &c.ab_rx, 3);
	pid = fork();
	if (pid == 0) {
		pin(1);
		if (m == M_MSGBOX_BATCH)
			batch_send(c.ab_tx.fd, buf, len, n);
		else
			for (i = 0; i < n; i++)
				xsend(m, &c.ab_tx, buf, len);
		exit(0);
	}
	pin(0);
	xrecv(m, &c.ab_rx, buf, len);
	t0 = now_ns();
	if (m == M_MSGBOX_BATCH)
		for (i = 1; i < n; i += batch_recv(c.ab_rx.fd, buf, len, n - i))
			;
	else
		for (i = 1; i < n; i++)
			xrecv(m, &c.ab_rx, buf, len);
	t1 = now_ns();
	waitpid(pid, NULL, 0);
	return (n - 1) * 1e9 / (double)(t1 - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median_u64(uint64_t *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_u64);
	return v[RUNS / 2];
}

static double median_double(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

int main(void)
{
	uint64_t med[2][NR_MECH], p99[2][NR_MECH];
	uint64_t rmed[2][NR_MECH][RUNS], rp99[2][NR_MECH][RUNS];
	double rsmall[NR_MECH][RUNS], rlarge[NR_MECH][RUNS];
	double small[NR_MECH], large[NR_MECH];
	int m, cpus, r, k;

	/* Let POSIX mq and SysV msg carry 100 KB messages too. */
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	setrlimit(RLIMIT_MSGQUEUE, &unlimited);
	mkdir("/dev/mqueue", 0755);
	mount("mqueue", "/dev/mqueue", "mqueue", 0, NULL);
	write_proc("/proc/sys/fs/mqueue/msg_max", "64");
	write_proc("/proc/sys/fs/mqueue/msgsize_max", "131072");
	write_proc("/proc/sys/kernel/msgmax", "131072");
	write_proc("/proc/sys/kernel/msgmnb", "8388608");
	setvbuf(stdout, NULL, _IOLBF, 0);
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("msgbox-bench: %d CPUs; times under emulation: compare ratios\n\n", cpus);

	for (r = 0; r < RUNS; r++)
		for (m = 0; m < NR_MECH; m++) {
			round_trip(m, 0, &rmed[0][m][r], &rp99[0][m][r]);
			round_trip(m, cpus > 1 ? 1 : 0, &rmed[1][m][r], &rp99[1][m][r]);
		}
	for (k = 0; k < 2; k++)
		for (m = 0; m < NR_MECH; m++) {
			med[k][m] = median_u64(rmed[k][m]);
			p99[k][m] = median_u64(rp99[k][m]);
		}
	printf("(medians of %d runs, nanoseconds)\n", RUNS);
	printf("64 B round trip        one CPU: median   p99   vs floor |  two CPUs: median   p99   vs floor\n");
	for (m = 0; m < NR_MECH; m++)
		printf("%-20s %13llu %8llu %7.2fx | %16llu %8llu %7.2fx\n", mech_name[m],
		       (unsigned long long)med[0][m], (unsigned long long)p99[0][m],
		       (double)med[0][m] / med[0][M_EVENTFD],
		       (unsigned long long)med[1][m], (unsigned long long)p99[1][m],
		       (double)med[1][m] / med[1][M_EVENTFD]);

	printf("\nthroughput, two CPUs   100 B msgs/s  vs mq |  100 KB msgs/s   MB/s  vs mq\n");
	for (r = 0; r < RUNS; r++)
		for (m = 1; m < NR_MECH; m++) {
			rsmall[m][r] = stream(m, 100, 20000);
			rlarge[m][r] = stream(m, MAX_SIZE, 400);
		}
	for (m = 1; m < NR_MECH; m++) {
		small[m] = median_double(rsmall[m]);
		large[m] = median_double(rlarge[m]);
	}
	for (m = 1; m < NR_MECH; m++)
		printf("%-20s %14.0f %6.2fx | %14.0f %6.0f %6.2fx\n", mech_name[m],
		       small[m], small[m] / small[M_MQ], large[m],
		       large[m] * MAX_SIZE / 1e6, large[m] / large[M_MQ]);
	return 0;
}
