// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox-bench: msgbox next to what programs use today for local message
 * passing, in one run, so that the numbers compare (under emulation
 * absolute times are not hardware times: read the ratios).
 *
 *   round trip  ping-pong between two processes, 16 B to 100 KB (and 64 B,
 *               the size the targets name): median and p99;
 *   throughput  one-way streams, 16 B to 100 KB: messages/s and MB/s;
 *   scaling     1, 2 and 4 independent pairs streaming 100 B messages at
 *               once, unpinned: aggregate messages/s.
 *
 * Round trips and streams run with both processes on one CPU (every
 * message a context switch) and on two CPUs (wake-ups cross CPUs).
 *
 * Mechanisms: msgbox through its ioctls, read/write, batches
 * (MSGBOX_IOC_SEND_BATCH/RECV_BATCH), io_uring (plain READ/WRITE on the
 * mailbox fd, many per io_uring_enter) and a receive ring (batches sent,
 * read by the receiver in its mapped ring: msgbox_rxring_*); POSIX mq, SysV msg, a pipe, a Unix
 * SOCK_SEQPACKET socket pair, ZeroMQ (PAIR over ipc://); and two floors:
 * an eventfd ping-pong (two wake-ups, no payload: the least a round trip
 * can cost) and a memcpy of the payload in one process (the least a
 * message can cost).
 *
 * Every message carries its sequence number at both ends, which the
 * receiver checks; --quick also fills and checks every payload byte, runs
 * tiny counts once and reports one TAP line per mechanism and pinning (the
 * selftest suite runs it so this program cannot rot).
 *
 * Emulated CPUs are noisy: every figure is the median of --runs runs, and
 * the mechanisms take turns within each run so drift hits them alike.
 * Each measurement runs in its own processes: a failure or a hang (killed
 * after a time limit) marks that figure failed and the run goes on.
 *
 * Output: tables on stdout, then the CSV between "BEGIN-CSV" and
 * "END-CSV" lines (tools/vm/msgbox-vm extracts it and plots it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "msgbox.h"

#define KB		1024
#define MAX_SIZE	(100 * KB)
#define MAX_RUNS	15
#define BATCH		32	/* messages per batch ioctl */
#define URING_QD	16	/* io_uring operations in flight per side */
#define QUEUE_MSGS	64	/* capacity of every queue that has one */
#define RXRING_SIZE	(1 << 20)	/* a receive ring's bytes */

enum mech {
	M_EVENTFD, M_MEMCPY, M_MSGBOX, M_MSGBOX_RW, M_MSGBOX_BATCH,
	M_MSGBOX_URING, M_MSGBOX_RING, M_MSGBOX_CALL, M_MSGBOX_CALL_POLL, M_MQ, M_SYSV, M_PIPE, M_SEQPACKET, M_ZMQ, NR_MECH
};

static const char *const mech_name[NR_MECH] = {
	"eventfd (floor)", "memcpy (floor)", "msgbox ioctl", "msgbox read/write",
	"msgbox batch 32", "msgbox io_uring 16", "msgbox rx ring", "msgbox call/reply", "msgbox call, poll", "POSIX mq", "SysV msg", "pipe",
	"unix seqpacket", "ZeroMQ PAIR ipc",
};

/* Names for the CSV, TAP lines and --only. */
static const char *const mech_id[NR_MECH] = {
	"eventfd", "memcpy", "msgbox-ioctl", "msgbox-rw", "msgbox-batch",
	"msgbox-uring", "msgbox-ring", "msgbox-call", "msgbox-call-poll", "mq", "sysv", "pipe", "seqpacket", "zmq",
};

/* eventfd carries no payload and call/reply is a round trip (round trips
 * only); memcpy, batches and the ring (a stream's receiver) are one-way
 * only. */
static bool has_rtt(enum mech m)
{
	return m != M_MEMCPY && m != M_MSGBOX_BATCH && m != M_MSGBOX_RING;
}

static bool is_call(enum mech m)
{
	return m == M_MSGBOX_CALL || m == M_MSGBOX_CALL_POLL;
}

static bool has_stream(enum mech m)
{
	return m != M_EVENTFD && !is_call(m);
}

static bool has_scaling(enum mech m)
{
	return has_stream(m) && m != M_MEMCPY;
}

static const size_t rtt_sizes[] = { 16, 64, 100, KB, 10 * KB, 100 * KB };
static const size_t stream_sizes[] = { 16, 100, KB, 10 * KB, 100 * KB };
#define NR_RTT_SIZES	(sizeof(rtt_sizes) / sizeof(rtt_sizes[0]))
#define NR_STREAM_SIZES	(sizeof(stream_sizes) / sizeof(stream_sizes[0]))
#define SIZE_64		1	/* rtt_sizes[] index of the targets' size */
#define SIZE_100	1	/* stream_sizes[] index of 100 B */
#define SIZE_100K	4	/* stream_sizes[] index of 100 KB */

static const int pair_counts[] = { 1, 2, 4 };
#define NR_PAIRS	(sizeof(pair_counts) / sizeof(pair_counts[0]))
#define SCALE_SIZE	100

static bool quick;		/* tiny counts, every byte checked, TAP */
static int runs = 3;
static bool verbose;		/* each measurement's wall time on stderr */
static bool enabled[NR_MECH];
static int ncpus;
static unsigned int limit_s = 120;	/* per measurement */

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	fprintf(stderr, "msgbox-bench[%d]: ", getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, e ? ": %s\n" : "\n", strerror(e));
	_exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* cpu < 0: every CPU. */
static void pin(int cpu)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < ncpus; i++)
		if (cpu < 0 || i == cpu)
			CPU_SET(i, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void write_proc(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

/* ---- payloads ------------------------------------------------------------
 * The sequence number sits in the first and the last four bytes; --quick
 * fills the bytes between with a pattern of the sequence number too.
 */
static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + 1);
}

static void stamp(char *buf, size_t len, uint32_t seq)
{
	if (quick)
		for (size_t i = 4; i < len - 4; i++)
			buf[i] = pattern(seq, i);
	memcpy(buf, &seq, 4);
	memcpy(buf + len - 4, &seq, 4);
}

/* The sequence number of a received message, after checking it. */
static uint32_t check(const char *buf, ssize_t got, size_t len)
{
	uint32_t head, tail;

	if (got != (ssize_t)len) {
		errno = 0;
		die("received %zd bytes, expected %zu", got, len);
	}
	memcpy(&head, buf, 4);
	memcpy(&tail, buf + len - 4, 4);
	errno = 0;
	if (head != tail)
		die("message of %zu bytes torn: head %u, tail %u", len, head, tail);
	if (quick)
		for (size_t i = 4; i < len - 4; i++)
			if ((uint8_t)buf[i] != pattern(head, i))
				die("message %u byte %zu corrupt", head, i);
	return head;
}

static void expect_seq(uint32_t got, uint32_t want)
{
	errno = 0;
	if (got != want)
		die("message %u arrived where %u was due", got, want);
}

/* ---- channels --------------------------------------------------------------
 * A chan is one direction, opened before the fork.  A port is one process's
 * side of a link (a chan each way), set up after the fork and the pinning
 * (so ZeroMQ's I/O thread inherits the pinning).
 */
struct chan {
	int tx, rx;		/* eventfd, msgbox, mq, SysV id, pipe/socket ends */
	char zaddr[80];		/* ZeroMQ endpoint */
};

struct port {
	enum mech m;
	int tx, rx;
	void *zctx, *zsock;
	struct io_uring ring;
	bool ring_ok;
	struct msgbox_rxring *rxr;	/* M_MSGBOX_RING's receiver */
	bool server;		/* call/reply: side 1, which answers */
	unsigned long long token;	/* its request to answer, or 0 */
	char *sysv;		/* long mtype + payload */
	char *sbuf, *rbuf;	/* stream buffers, see port_open() */
};

static void chan_open(enum mech m, struct chan *c, int tag)
{
	static int serial;
	int p[2];

	c->tx = c->rx = -1;
	switch (m) {
	case M_EVENTFD:
		c->tx = c->rx = eventfd(0, 0);
		break;
	case M_MSGBOX:
	case M_MSGBOX_RW:
	case M_MSGBOX_BATCH:
	case M_MSGBOX_URING:
	case M_MSGBOX_RING:
	case M_MSGBOX_CALL:
	case M_MSGBOX_CALL_POLL: {
		struct msgbox_attr a;

		msgbox_attr_init(&a);
		a.max_msgs = QUEUE_MSGS;
		a.max_msg_size = MAX_SIZE;
		a.max_bytes = (unsigned long long)QUEUE_MSGS * MAX_SIZE;
		c->tx = c->rx = msgbox_create_anon(&a, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
		break;
	}
	case M_MQ: {
		struct mq_attr a = { .mq_maxmsg = QUEUE_MSGS, .mq_msgsize = MAX_SIZE };
		char name[48];

		snprintf(name, sizeof(name), "/bench-%d-%d-%d", getpid(), tag, serial++);
		c->tx = c->rx = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
		mq_unlink(name);
		break;
	}
	case M_SYSV:
		c->tx = c->rx = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		break;
	case M_PIPE:
		if (pipe(p))
			die("pipe");
		fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
		c->rx = p[0];
		c->tx = p[1];
		break;
	case M_SEQPACKET:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p))
			die("socketpair");
		c->tx = p[0];
		c->rx = p[1];
		break;
	case M_ZMQ:
		snprintf(c->zaddr, sizeof(c->zaddr), "ipc:///tmp/bench-zmq-%d-%d-%d",
			 getpid(), tag, serial++);
		c->tx = c->rx = 0;
		break;
	default:
		break;
	}
	if (c->tx < 0)
		die("%s: open", mech_name[m]);
}

static void chan_close(enum mech m, struct chan *c)
{
	switch (m) {
	case M_SYSV:
		msgctl(c->tx, IPC_RMID, NULL);
		break;
	case M_ZMQ:
		unlink(c->zaddr + strlen("ipc://"));
		break;
	case M_PIPE:
	case M_SEQPACKET:
		close(c->tx);
		close(c->rx);
		break;
	default:
		close(c->tx);
		break;
	}
}

/*
 * Set up this process's port: it sends on @out and receives on @in (either
 * may be NULL).  For ZeroMQ one PAIR socket carries both directions: side 0
 * binds @out's (or @in's) endpoint, side 1 connects to it.
 */
static char *xalloc(size_t n);

/* Messages a stream has in flight per side. */
static int port_slots(enum mech m)
{
	return m == M_MSGBOX_BATCH || m == M_MSGBOX_RING ? BATCH :
	       m == M_MSGBOX_URING ? URING_QD : 1;
}

static void port_open(struct port *p, enum mech m, struct chan *out,
		      struct chan *in, int side)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->tx = out ? out->tx : -1;
	p->rx = in ? in->rx : -1;
	p->server = side == 1;
	if (m == M_SYSV) {
		p->sysv = malloc(sizeof(long) + MAX_SIZE);
		if (!p->sysv)
			die("malloc");
	}
	/*
	 * Stream buffers, allocated and touched here, before any clock
	 * starts: room for every message a side has in flight at once, each
	 * receive buffer as large as the largest message.
	 */
	p->sbuf = xalloc((size_t)port_slots(m) * MAX_SIZE);
	p->rbuf = xalloc((size_t)port_slots(m) * MAX_SIZE);
	if (m == M_MSGBOX_RING && in) {
		p->rxr = msgbox_rxring_open(p->rx, RXRING_SIZE, 0, MSGBOX_RING_LARGE);
		if (!p->rxr)
			die("msgbox_rxring_open");
	}
	if (m == M_MSGBOX_URING) {
		int r = io_uring_queue_init(4 * URING_QD, &p->ring, 0);

		if (r) {
			errno = -r;
			die("io_uring_queue_init");
		}
		p->ring_ok = true;
	}
	if (m == M_ZMQ) {
		const char *addr = out ? out->zaddr : in->zaddr;
		/*
		 * No high-water mark: with the default (1000 messages each
		 * side) a 16 B stream hung now and then under TCG, the sender
		 * never resuming (libzmq's pipe activation races are a known
		 * family).  Unbounded queues can only favour ZeroMQ.
		 */
		int linger = -1, ivl = 10, hwm = 0;

		p->zctx = zmq_ctx_new();
		p->zsock = p->zctx ? zmq_socket(p->zctx, ZMQ_PAIR) : NULL;
		if (!p->zsock)
			die("zmq_socket");
		zmq_setsockopt(p->zsock, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(p->zsock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
		zmq_setsockopt(p->zsock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(p->zsock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
		if ((side == 0 ? zmq_bind : zmq_connect)(p->zsock, addr))
			die("zmq %s %s", side == 0 ? "bind" : "connect", addr);
	}
}

/* Before _exit(): ZeroMQ must flush what it still holds. */
static void port_close(struct port *p)
{
	if (p->zsock) {
		zmq_close(p->zsock);
		zmq_ctx_term(p->zctx);
	}
	if (p->ring_ok)
		io_uring_queue_exit(&p->ring);
	msgbox_rxring_close(p->rxr);
	free(p->sysv);
	free(p->sbuf);
	free(p->rbuf);
}

/* ---- one message at a time ------------------------------------------------ */
static void uring_wait(struct io_uring *ring, unsigned int n, size_t len)
{
	struct io_uring_cqe *cqe;

	while (n--) {
		int r = io_uring_wait_cqe(ring, &cqe);

		if (r) {
			errno = -r;
			die("io_uring_wait_cqe");
		}
		if (cqe->res != (int)len) {
			errno = cqe->res < 0 ? -cqe->res : 0;
			die("io_uring %s: %d", cqe->user_data ? "read" : "write", cqe->res);
		}
		io_uring_cqe_seen(ring, cqe);
	}
}

static void uring_prep(struct port *p, bool rd, char *buf, size_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);

	if (!sqe) {
		errno = 0;
		die("io_uring: no free SQE");
	}
	if (rd)
		io_uring_prep_read(sqe, p->rx, buf, len, 0);
	else
		io_uring_prep_write(sqe, p->tx, buf, len, 0);
	sqe->user_data = rd;
}

static void port_send(struct port *p, const char *buf, size_t len)
{
	uint64_t one = 1;
	int r = 0;

	switch (p->m) {
	case M_EVENTFD:
		r = write(p->tx, &one, 8) == 8 ? 0 : -1;
		break;
	case M_MSGBOX:
		r = msgbox_send(p->tx, buf, len, 0);
		break;
	case M_MSGBOX_CALL:	/* the server's last answer */
	case M_MSGBOX_CALL_POLL:
		r = msgbox_reply(p->rx, p->token, buf, len);
		p->token = 0;
		break;
	case M_MSGBOX_URING:
		uring_prep(p, false, (char *)buf, len);
		io_uring_submit(&p->ring);
		uring_wait(&p->ring, 1, len);
		break;
	case M_MQ:
		r = mq_send(p->tx, buf, len, 0);
		break;
	case M_SYSV:
		*(long *)p->sysv = 1;
		memcpy(p->sysv + sizeof(long), buf, len);
		r = msgsnd(p->tx, p->sysv, len, 0);
		break;
	case M_ZMQ:
		r = zmq_send(p->zsock, buf, len, 0) == (int)len ? 0 : -1;
		break;
	default:	/* msgbox read/write, pipe, socket: one write each */
		r = write(p->tx, buf, len) == (ssize_t)len ? 0 : -1;
		break;
	}
	if (r)
		die("%s: send", mech_name[p->m]);
}

/*
 * The call/reply server's step: answer the request it holds (if any) with
 * @len bytes of @out, and receive the next request into @in.
 */
static ssize_t call_serve(struct port *p, const char *out, size_t len, char *in)
{
	struct msgbox_msg m;

	memset(&m, 0, sizeof(m));
	m.data = (uintptr_t)in;
	m.len = MAX_SIZE;
	if (p->m == M_MSGBOX_CALL_POLL)
		m.flags = MSGBOX_MSG_POLL;
	if (msgbox_reply_recv(p->rx, &p->token, out, len, &m))
		die("msgbox reply_recv%s", p->token ? " (the reply)" : "");
	errno = 0;
	if (!m.token)
		die("msgbox call/reply: message %llu is no request", m.id);
	p->token = m.token;
	return m.len;
}

/* Receive one message of @len bytes into @buf; return its length. */
static ssize_t port_recv(struct port *p, char *buf, size_t len)
{
	uint64_t v;
	ssize_t r;

	switch (p->m) {
	case M_EVENTFD:
		r = read(p->rx, &v, 8);
		errno = 0;
		if (r != 8 || v != 1)
			die("eventfd read %zd, value %llu", r, (unsigned long long)v);
		return len;
	case M_MSGBOX:
		r = msgbox_recv(p->rx, buf, MAX_SIZE, 0);
		break;
	case M_MSGBOX_CALL:	/* the server's first request */
	case M_MSGBOX_CALL_POLL:
		return call_serve(p, NULL, 0, buf);
	case M_MSGBOX_URING:
		uring_prep(p, true, buf, MAX_SIZE);
		io_uring_submit(&p->ring);
		uring_wait(&p->ring, 1, len);
		r = len;
		break;
	case M_MQ:
		r = mq_receive(p->rx, buf, MAX_SIZE, NULL);
		break;
	case M_SYSV:
		r = msgrcv(p->rx, p->sysv, MAX_SIZE, 0, 0);
		if (r > 0)
			memcpy(buf, p->sysv + sizeof(long), r);
		break;
	case M_PIPE: {	/* a byte stream: read exactly one message's bytes */
		size_t got = 0;

		while (got < len && (r = read(p->rx, buf + got, len - got)) > 0)
			got += r;
		r = got;
		break;
	}
	case M_ZMQ:
		r = zmq_recv(p->zsock, buf, MAX_SIZE, 0);
		break;
	default:
		r = read(p->rx, buf, MAX_SIZE);
		break;
	}
	if (r < 0)
		die("%s: receive", mech_name[p->m]);
	return r;
}

/* Send, then receive the answer: through io_uring in one io_uring_enter;
 * call/reply in one system call on each side. */
static ssize_t port_sendrecv(struct port *p, const char *out, char *in, size_t len)
{
	if (is_call(p->m) && p->server)
		return call_serve(p, out, len, in);
	if (is_call(p->m)) {
		struct msgbox_call c;

		memset(&c, 0, sizeof(c));
		c.request.data = (uintptr_t)out;
		c.request.len = len;
		c.request.type = MSGBOX_TYPE_DEFAULT;
		if (p->m == M_MSGBOX_CALL_POLL)
			c.request.flags = MSGBOX_MSG_POLL;
		c.reply.data = (uintptr_t)in;
		c.reply.len = MAX_SIZE;
		if (msgbox_callmsg(p->tx, &c))
			die("msgbox call");
		return c.reply.len;
	}
	if (p->m != M_MSGBOX_URING) {
		port_send(p, out, len);
		return port_recv(p, in, len);
	}
	uring_prep(p, false, (char *)out, len);
	uring_prep(p, true, in, MAX_SIZE);
	io_uring_submit_and_wait(&p->ring, 2);
	uring_wait(&p->ring, 2, len);
	return len;
}

/* ---- streams --------------------------------------------------------------
 * stream_send() sends messages @from..@to-1 of @len bytes, stream_recv()
 * receives them and checks them (in order; io_uring, with many operations
 * in flight, completes them in any order: each exactly once then).
 */
static char *xalloc(size_t n)
{
	char *b = malloc(n);

	if (!b)
		die("malloc %zu", n);
	memset(b, 0x5a, n);
	return b;
}

static void stream_send(struct port *p, size_t len, uint32_t from, uint32_t to)
{
	static struct msgbox_msg m[BATCH];
	uint32_t seq;

	if (p->m == M_MSGBOX_BATCH || p->m == M_MSGBOX_RING) {
		char *b = p->sbuf;

		for (seq = from; seq < to;) {
			int k = to - seq < BATCH ? to - seq : BATCH, done;

			for (int j = 0; j < k; j++) {
				stamp(b + j * len, len, seq + j);
				m[j] = (struct msgbox_msg){ .data = (uintptr_t)(b + j * len),
							   .len = len, .type = 1 };
			}
			done = msgbox_send_batch(p->tx, m, k, NULL);
			if (done <= 0)
				die("send batch");
			seq += done;	/* a short batch resends the rest */
		}
	} else if (p->m == M_MSGBOX_URING) {
		char *b = p->sbuf;
		int freeslot[URING_QD], nfree = URING_QD, inflight = 0;
		struct io_uring_cqe *cqe;

		for (int i = 0; i < URING_QD; i++)
			freeslot[i] = i;
		for (seq = from; seq < to || inflight;) {
			while (nfree && seq < to) {
				int s = freeslot[--nfree];
				struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);

				stamp(b + s * len, len, seq++);
				io_uring_prep_write(sqe, p->tx, b + s * len, len, 0);
				sqe->user_data = s;
				inflight++;
			}
			io_uring_submit_and_wait(&p->ring, 1);
			while (io_uring_peek_cqe(&p->ring, &cqe) == 0) {
				errno = cqe->res < 0 ? -cqe->res : 0;
				if (cqe->res != (int)len)
					die("io_uring write: %d", cqe->res);
				freeslot[nfree++] = cqe->user_data;
				inflight--;
				io_uring_cqe_seen(&p->ring, cqe);
			}
		}
	} else {
		char *b = p->sbuf;

		for (seq = from; seq < to; seq++) {
			stamp(b, len, seq);
			port_send(p, b, len);
		}
	}
}

static void stream_recv(struct port *p, size_t len, uint32_t from, uint32_t to)
{
	static struct msgbox_msg m[BATCH];
	uint32_t seq;

	if (p->m == M_MSGBOX_BATCH) {
		char *b = p->rbuf;

		for (seq = from; seq < to;) {
			int k = to - seq < BATCH ? to - seq : BATCH, n;

			for (int j = 0; j < k; j++)
				m[j] = (struct msgbox_msg){ .data = (uintptr_t)(b + j * MAX_SIZE),
							   .len = MAX_SIZE };
			n = msgbox_recv_batch(p->rx, m, k, NULL);
			if (n <= 0)
				die("receive batch");
			for (int j = 0; j < n; j++, seq++)
				expect_seq(check(b + j * MAX_SIZE, m[j].len, len), seq);
		}
	} else if (p->m == M_MSGBOX_RING) {
		const struct msgbox_ring_msg *rec;
		struct msgbox_msg m1;

		for (seq = from; seq < to; seq++) {
			/* In place when in the ring; else refill, or wait. */
			rec = msgbox_rxring_next(p->rxr);
			if (rec) {
				expect_seq(check((const char *)(rec + 1), rec->len, len), seq);
				msgbox_rxring_consume(p->rxr, rec);
				continue;
			}
			m1 = (struct msgbox_msg){ .data = (uintptr_t)p->rbuf, .len = MAX_SIZE };
			if (msgbox_rxring_recvmsg(p->rxr, &m1))
				die("receive from the ring");
			expect_seq(check(p->rbuf, m1.len, len), seq);
		}
	} else if (p->m == M_MSGBOX_URING) {
		char *b = p->rbuf;
		uint8_t *seen = calloc(to - from, 1);
		uint32_t posted = from, got = from;
		struct io_uring_cqe *cqe;
		int inflight = 0;

		if (!seen)
			die("calloc");
		/* Slots are free when not in flight: keep at most QD posted. */
		int freeslot[URING_QD], nfree = URING_QD;

		for (int i = 0; i < URING_QD; i++)
			freeslot[i] = i;
		while (got < to) {
			while (nfree && posted < to) {
				int s = freeslot[--nfree];
				struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);

				io_uring_prep_read(sqe, p->rx, b + s * MAX_SIZE, MAX_SIZE, 0);
				sqe->user_data = s;
				posted++;
				inflight++;
			}
			io_uring_submit_and_wait(&p->ring, 1);
			while (io_uring_peek_cqe(&p->ring, &cqe) == 0) {
				int s = cqe->user_data;
				uint32_t q;

				errno = cqe->res < 0 ? -cqe->res : 0;
				if (cqe->res < 0)
					die("io_uring read");
				q = check(b + s * MAX_SIZE, cqe->res, len);
				errno = 0;
				if (q < from || q >= to || seen[q - from]++)
					die("message %u out of range or twice", q);
				freeslot[nfree++] = s;
				inflight--;
				got++;
				io_uring_cqe_seen(&p->ring, cqe);
			}
		}
		free(seen);
	} else {
		char *b = p->rbuf;

		for (seq = from; seq < to; seq++)
			expect_seq(check(b, port_recv(p, b, len), len), seq);
	}
}

/* ---- measurements -----------------------------------------------------------
 * Each runs in a child of main() (measure()), which forks the peer; the
 * result comes back through shared memory.
 */
struct result {
	int ok;
	double rate;		/* messages/s */
	uint64_t med, p99;	/* ns */
	double vcsw, ivcsw;	/* m_rtt(): context switches per round trip */
};

/* MAP_SHARED: one result, or one per mechanism (m_turns()) */
static struct result *shared;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static pid_t peers[9];		/* this measurement's processes */
static int npeers;

/* The peer dies with the measurement (a hang kills both). */
static pid_t fork_peer(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	else if (npeers < 9)
		peers[npeers++] = pid;
	return pid;
}

/* Where a hung measurement's threads wait: wchan and kernel stack. */
static void show_task(pid_t pid)
{
	char path[320], line[256];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		static const char *const what[] = { "comm", "wchan", "stack" };
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%s/%s", pid, d->d_name, what[i]);
			f = fopen(path, "r");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f))
				fprintf(stderr, "msgbox-bench:   %d/%s %s: %s%s", pid, d->d_name,
					what[i], line, strchr(line, '\n') ? "" : "\n");
			fclose(f);
		}
	}
	closedir(dir);
}

static void on_alarm(int sig)
{
	fprintf(stderr, "msgbox-bench: measurement hung after %u s; its tasks:\n", limit_s);
	show_task(getpid());
	for (int i = 0; i < npeers; i++)
		show_task(peers[i]);
	signal(SIGALRM, SIG_DFL);
	raise(SIGALRM);
}

static void reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	errno = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("peer failed (status %#x)", st);
}

static long profile_iters;	/* --profile: the round trips of m_rtt() */

static int rtt_iters(size_t len)
{
	if (profile_iters)
		return profile_iters;
	if (quick)
		return 10;
	return len <= KB ? 300 : len <= 10 * KB ? 150 : 60;
}

static int stream_msgs(size_t len)
{
	if (quick)
		return 2 * QUEUE_MSGS;	/* queues fill up */
	return len <= KB ? 20000 : len <= 10 * KB ? 3000 : 400;
}

/*
 * B's side of @n round trips, messages @seq0 on: each goes back as the next
 * arrives (@buf: two buffers, one receiving while the other goes back),
 * then the last.
 */
static void rtt_echo(struct port *p, char *buf[2], size_t len, uint32_t seq0, int n)
{
	ssize_t r;
	int i;

	for (i = 0; i < n; i++) {
		if (i == 0)
			r = port_recv(p, buf[0], len);
		else	/* send back message i - 1 as i arrives */
			r = port_sendrecv(p, buf[(i - 1) & 1], buf[i & 1], len);
		if (p->m != M_EVENTFD)
			expect_seq(check(buf[i & 1], r, len), seq0 + i);
	}
	port_send(p, buf[(i - 1) & 1], len);
}

/* A's side of round trip @seq: its time in ns. */
static uint64_t rtt_ping(struct port *p, char *out, char *in, size_t len, uint32_t seq)
{
	uint64_t t0, dt;
	ssize_t r;

	if (p->m != M_EVENTFD)
		stamp(out, len, seq);
	t0 = now_ns();
	r = port_sendrecv(p, out, in, len);
	dt = now_ns() - t0;
	if (p->m != M_EVENTFD)
		expect_seq(check(in, r, len), seq);
	return dt;
}

/* Median and p99 of @n round-trip times (sorted in place) into @res. */
static void rtt_result(uint64_t *t, int n, struct result *res)
{
	qsort(t, n, sizeof(t[0]), cmp_u64);
	res->med = t[n / 2];
	res->p99 = t[(n * 99 + 99) / 100 - 1];
}

/* Ping-pong of @len-byte messages; A on CPU 0, B on @cpu_b. */
static void m_rtt(enum mech m, size_t len, int cpu_b)
{
	int iters = rtt_iters(len), warm = iters / 10 + 1, i;
	uint64_t *t = calloc(iters, sizeof(*t));
	char *out = xalloc(MAX_SIZE), *in = xalloc(MAX_SIZE);
	struct rusage ru0, ru1, ruc;
	struct chan ab, ba;
	struct port p;
	pid_t pid;

	chan_open(m, &ab, 1);
	if (m != M_ZMQ)
		chan_open(m, &ba, 2);
	else
		ba = ab;
	pid = fork_peer();
	if (pid == 0) {		/* B: echo what arrives */
		pin(cpu_b);
		char *buf[2] = { in, out };

		port_open(&p, m, &ba, &ab, 1);
		rtt_echo(&p, buf, len, 0, iters + warm);
		port_close(&p);
		_exit(0);
	}
	pin(0);
	port_open(&p, m, &ab, &ba, 0);
	getrusage(RUSAGE_SELF, &ru0);
	for (i = 0; i < iters + warm; i++) {
		uint64_t dt = rtt_ping(&p, out, in, len, i);

		if (i >= warm)
			t[i - warm] = dt;
	}
	getrusage(RUSAGE_SELF, &ru1);
	port_close(&p);
	reap(pid);
	/* Both sides' switches: B, reaped, is this process's only child. */
	getrusage(RUSAGE_CHILDREN, &ruc);
	shared->vcsw = (double)(ru1.ru_nvcsw - ru0.ru_nvcsw + ruc.ru_nvcsw) / (iters + warm);
	shared->ivcsw = (double)(ru1.ru_nivcsw - ru0.ru_nivcsw + ruc.ru_nivcsw) / (iters + warm);
	chan_close(m, &ab);
	if (m != M_ZMQ)
		chan_close(m, &ba);
	rtt_result(t, iters, shared);
}

/*
 * Round trips of every mechanism in one pair of processes, taking turns of
 * TURN_RTTS round trips each, @blocks times.  Under emulation the host's
 * noise comes and goes over seconds and moves separate measurements by up
 * to 2x; here it hits every mechanism alike, so their ratios hold from run
 * to run.  The targets' round trips are read from this.  ZeroMQ, five
 * times slower than the rest, sits out.
 *
 * Of each turn, only the steady round trips are counted, as m_rtt() leaves
 * its first ones out.  The first TURN_WARM round trips run cold: under
 * emulation the host's caches lost the mechanism's translated code to the
 * other turns (per-position medians on one CPU: up to 1.8x the steady time
 * at the first, a few percent at the second and third), a cost that grew
 * with the number of mechanisms in the turns and with each one's code.
 * The last is not counted either: B sends its last answer and enters the
 * next mechanism's receive before A gets that answer on one CPU, so that
 * round trip times the switch to another mechanism (for call/reply, a
 * separate MSGBOX_IOC_REPLY and the next receive instead of one
 * MSGBOX_IOC_REPLY_RECV).
 */
#define TURN_RTTS	16
#define TURN_WARM	3
#define TURN_KEPT	(TURN_RTTS - TURN_WARM - 1)
#define TURN_SIZE	64

static int turn_blocks(void)
{
	return quick ? 3 : 200;
}

static bool in_turns(enum mech m)
{
	return enabled[m] && has_rtt(m) && m != M_ZMQ;
}

static void m_turns(size_t len, int cpu_b)
{
	int blocks = turn_blocks() + 1;	/* the first turn of each warms up */
	int n = (blocks - 1) * TURN_KEPT, b, k, m;
	char *out = xalloc(MAX_SIZE), *in = xalloc(MAX_SIZE);
	static struct chan ab[NR_MECH], ba[NR_MECH];
	static struct port p[NR_MECH];
	uint64_t *t[NR_MECH];
	pid_t pid;

	for (m = 0; m < NR_MECH; m++) {
		if (!in_turns(m))
			continue;
		chan_open(m, &ab[m], 20);
		chan_open(m, &ba[m], 21);
	}
	pid = fork_peer();
	if (pid == 0) {		/* B: echo each turn, as m_rtt() does */
		char *buf[2] = { in, out };

		pin(cpu_b);
		for (m = 0; m < NR_MECH; m++)
			if (in_turns(m))
				port_open(&p[m], m, &ba[m], &ab[m], 1);
		for (b = 0; b < blocks; b++)
			for (m = 0; m < NR_MECH; m++)
				if (in_turns(m))
					rtt_echo(&p[m], buf, len, b * TURN_RTTS, TURN_RTTS);
		for (m = 0; m < NR_MECH; m++)
			if (in_turns(m))
				port_close(&p[m]);
		_exit(0);
	}
	pin(0);
	for (m = 0; m < NR_MECH; m++) {
		if (!in_turns(m))
			continue;
		port_open(&p[m], m, &ab[m], &ba[m], 0);
		t[m] = calloc(n, sizeof(*t[m]));
		if (!t[m])
			die("calloc");
	}
	for (b = 0; b < blocks; b++)
		for (m = 0; m < NR_MECH; m++) {
			if (!in_turns(m))
				continue;
			for (k = 0; k < TURN_RTTS; k++) {
				uint64_t dt = rtt_ping(&p[m], out, in, len,
						       b * TURN_RTTS + k);

				if (b && k >= TURN_WARM && k < TURN_WARM + TURN_KEPT)
					t[m][(b - 1) * TURN_KEPT + k - TURN_WARM] = dt;
			}
		}
	reap(pid);
	for (m = 0; m < NR_MECH; m++) {
		if (!in_turns(m))
			continue;
		port_close(&p[m]);
		chan_close(m, &ab[m]);
		chan_close(m, &ba[m]);
		rtt_result(t[m], n, &shared[m]);
		free(t[m]);
	}
}

/* One-way stream: the child sends, this process receives; messages/s. */
static void m_stream(enum mech m, size_t len, int cpu_b)
{
	int n = stream_msgs(len);
	uint64_t t0, t1;
	struct chan c;
	struct port p;
	pid_t pid;

	if (m == M_MEMCPY) {
		char *src = xalloc(len), *dst = xalloc(len);

		pin(0);
		t0 = now_ns();
		for (int i = 0; i < n; i++) {
			stamp(src, len, i);
			memcpy(dst, src, len);
			__asm__ volatile("" : : "r"(dst) : "memory");
			expect_seq(check(dst, len, len), i);
		}
		t1 = now_ns();
		shared->rate = n * 1e9 / (double)(t1 - t0);
		return;
	}
	chan_open(m, &c, 3);
	pid = fork_peer();
	if (pid == 0) {
		pin(cpu_b);
		port_open(&p, m, &c, NULL, 1);
		stream_send(&p, len, 0, n);
		port_close(&p);
		_exit(0);
	}
	pin(0);
	port_open(&p, m, NULL, &c, 0);
	/* The clock starts at the first message: setup is not timed. */
	stream_recv(&p, len, 0, 1);
	t0 = now_ns();
	stream_recv(&p, len, 1, n);
	t1 = now_ns();
	port_close(&p);
	reap(pid);
	chan_close(m, &c);
	shared->rate = (n - 1) * 1e9 / (double)(t1 - t0);
}

/* @pairs independent sender/receiver pairs, unpinned: aggregate msgs/s. */
static void m_scaling(enum mech m, int pairs)
{
	int n = quick ? QUEUE_MSGS + 8 : 8000 / pairs;
	int ready[2], go[2], i;
	uint64_t t0, t1 = 0, *end;
	struct chan c[4];
	pid_t pid[8];
	char x = 0;

	end = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (end == MAP_FAILED || pipe(ready) || pipe(go))
		die("setup");
	pin(-1);
	for (i = 0; i < pairs; i++)
		chan_open(m, &c[i], 10 + i);
	for (i = 0; i < 2 * pairs; i++) {
		pid[i] = fork_peer();
		if (pid[i] == 0) {
			struct port p;
			bool rx = i & 1;
			struct chan *ch = &c[i / 2];

			port_open(&p, m, rx ? NULL : ch, rx ? ch : NULL, rx ? 0 : 1);
			/* The first message proves the pair connected. */
			if (rx)
				stream_recv(&p, SCALE_SIZE, 0, 1);
			else
				stream_send(&p, SCALE_SIZE, 0, 1);
			if (write(ready[1], &x, 1) != 1 || read(go[0], &x, 1) != 1)
				die("barrier");
			if (rx) {
				stream_recv(&p, SCALE_SIZE, 1, n);
				end[i / 2] = now_ns();
			} else {
				stream_send(&p, SCALE_SIZE, 1, n);
			}
			port_close(&p);
			_exit(0);
		}
	}
	for (i = 0; i < 2 * pairs; i++)
		if (read(ready[0], &x, 1) != 1)
			die("barrier");
	t0 = now_ns();
	for (i = 0; i < 2 * pairs; i++)
		if (write(go[1], &x, 1) != 1)
			die("barrier");
	for (i = 0; i < 2 * pairs; i++)
		reap(pid[i]);
	for (i = 0; i < pairs; i++) {
		if (end[i] > t1)
			t1 = end[i];
		chan_close(m, &c[i]);
	}
	shared->rate = (double)pairs * (n - 1) * 1e9 / (double)(t1 - t0);
}

enum kind { K_RTT, K_STREAM, K_SCALING, K_TURNS };

static const char *const kind_id[] = { "rtt", "stream", "scaling", "turns" };
static const char *const kind_name[] = {
	"round trip", "stream", "scaling", "round trips taking turns",
};

/* Run one measurement in a child; false if it failed or hung. */
static bool measure(enum kind k, enum mech m, size_t len, int arg, struct result *res)
{
	uint64_t t0 = now_ns();
	pid_t pid;
	int st;

	memset(shared, 0, NR_MECH * sizeof(*shared));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* A hang ends in SIGALRM; the peers follow (PDEATHSIG). */
		signal(SIGALRM, on_alarm);
		alarm(limit_s);
		if (k == K_RTT)
			m_rtt(m, len, arg);
		else if (k == K_STREAM)
			m_stream(m, len, arg);
		else if (k == K_TURNS)
			m_turns(len, arg);
		else
			m_scaling(m, arg);
		shared->ok = 1;
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	*res = *shared;
	if (verbose)
		fprintf(stderr, "msgbox-bench: %s %s %zu %d: %.0f ms\n",
			kind_id[k], mech_id[m], len, arg, (now_ns() - t0) / 1e6);
	if (!WIFEXITED(st) || WEXITSTATUS(st) || !res->ok) {
		fprintf(stderr, "msgbox-bench: %s %s %zu B %d: failed (status %#x%s)\n",
			kind_name[k], k == K_TURNS ? "(all)" : mech_name[m], len, arg, st,
			WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? ", timed out" : "");
		res->ok = 0;
		return false;
	}
	return true;
}

/* ---- results ---------------------------------------------------------------- */
struct cell {
	struct result run[MAX_RUNS];
	int nok, nfail;
	double rate;		/* medians over the runs that worked */
	uint64_t med, p99;
};

static struct cell rtt[2][NR_MECH][NR_RTT_SIZES];	/* [pinning] */
static struct cell strm[2][NR_MECH][NR_STREAM_SIZES];
static struct cell scal[NR_MECH][NR_PAIRS];
static struct cell turns[2][NR_MECH];			/* [pinning] */
static int failures[NR_MECH][3];	/* [mech][one CPU, two CPUs, pairs] */

static void record(struct cell *c, enum kind k, enum mech m, size_t len, int arg)
{
	struct result r;

	if (measure(k, m, len, arg, &r))
		c->run[c->nok++] = r;
	else
		c->nfail++;
}

/* One m_turns() run: a figure for each mechanism taking part. */
static void record_turns(int pn, int cpu_b)
{
	struct result r;
	bool ok = measure(K_TURNS, M_EVENTFD, TURN_SIZE, cpu_b, &r);

	for (int m = 0; m < NR_MECH; m++) {
		if (!in_turns(m))
			continue;
		if (ok)
			turns[pn][m].run[turns[pn][m].nok++] = shared[m];
		else
			turns[pn][m].nfail++;
	}
}

static void settle(struct cell *c)
{
	double rate[MAX_RUNS];
	uint64_t med[MAX_RUNS], p99[MAX_RUNS];
	int i;

	if (!c->nok)
		return;
	for (i = 0; i < c->nok; i++) {
		rate[i] = c->run[i].rate;
		med[i] = c->run[i].med;
		p99[i] = c->run[i].p99;
	}
	qsort(rate, c->nok, sizeof(rate[0]), cmp_double);
	qsort(med, c->nok, sizeof(med[0]), cmp_u64);
	qsort(p99, c->nok, sizeof(p99[0]), cmp_u64);
	c->rate = rate[c->nok / 2];
	c->med = med[c->nok / 2];
	c->p99 = p99[c->nok / 2];
}

/* Table lines; under --quick they are TAP comments. */
static void out(const char *fmt, ...)
{
	static bool bol = true;
	char line[512], *s, *nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (s = line; *s; s = nl + 1) {
		if (quick && bol)
			fputs("# ", stdout);
		nl = strchr(s, '\n');
		if (!nl) {
			fputs(s, stdout);
			bol = false;
			break;
		}
		fwrite(s, 1, nl - s + 1, stdout);
		bol = true;
	}
}

static const char *size_str(size_t len)
{
	static char b[8][24];
	static int i;
	char *s = b[i++ % 8];

	if (len >= KB && len % KB == 0)
		snprintf(s, 24, "%zu KB", len / KB);
	else
		snprintf(s, 24, "%zu B", len);
	return s;
}

static const char *const pin_name[2] = { "one CPU", "two CPUs" };

/* A ratio of two figures, or 0 when one is missing. */
static double ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : 0;
}

static void table_rtt(int pn)
{
	size_t s;
	int m;

	out("\nround trip, %s: median ns (p99 ns)\n%-19s", pin_name[pn], "");
	for (s = 0; s < NR_RTT_SIZES; s++)
		out(" %17s", size_str(rtt_sizes[s]));
	out("\n");
	for (m = 0; m < NR_MECH; m++) {
		if (!enabled[m] || !has_rtt(m))
			continue;
		out("%-19s", mech_name[m]);
		for (s = 0; s < NR_RTT_SIZES; s++) {
			struct cell *c = &rtt[pn][m][s];

			if (c->nok)
				out(" %7llu (%7llu)", (unsigned long long)c->med,
				    (unsigned long long)c->p99);
			else
				out(" %17s", "failed");
		}
		out("\n");
	}
}

static void table_turns(int pn)
{
	double f = turns[pn][M_EVENTFD].med;
	int m;

	out("\n%d B round trips taking turns, %s (%d turns of %d each, %d counted\n"
	    "from the %dth, one pair of processes): median ns (p99 ns), "
	    "median / eventfd's\n", TURN_SIZE, pin_name[pn], turn_blocks(),
	    TURN_RTTS, TURN_KEPT, TURN_WARM + 1);
	for (m = 0; m < NR_MECH; m++) {
		struct cell *c = &turns[pn][m];

		if (!in_turns(m))
			continue;
		if (c->nok)
			out("%-19s %7llu (%7llu)  %5.2fx\n", mech_name[m],
			    (unsigned long long)c->med, (unsigned long long)c->p99,
			    ratio(c->med, f));
		else
			out("%-19s %17s\n", mech_name[m], "failed");
	}
}

static void table_stream(int pn)
{
	size_t s;
	int m;

	out("\none-way throughput, %s: messages/s (MB/s)\n%-19s", pin_name[pn], "");
	for (s = 0; s < NR_STREAM_SIZES; s++)
		out(" %17s", size_str(stream_sizes[s]));
	out("\n");
	for (m = 0; m < NR_MECH; m++) {
		if (!enabled[m] || !has_stream(m))
			continue;
		out("%-19s", mech_name[m]);
		for (s = 0; s < NR_STREAM_SIZES; s++) {
			struct cell *c = &strm[pn][m][s];

			if (c->nok)
				out(" %8.0f (%6.1f)", c->rate,
				    c->rate * stream_sizes[s] / 1e6);
			else
				out(" %17s", "failed");
		}
		out("\n");
	}
}

static void table_scaling(void)
{
	size_t i;
	int m;

	out("\nscaling, %d B one-way, unpinned: aggregate messages/s\n%-19s",
	    SCALE_SIZE, "");
	for (i = 0; i < NR_PAIRS; i++)
		out("  %d pair%s", pair_counts[i], pair_counts[i] > 1 ? "s" : " ");
	out("\n");
	for (m = 0; m < NR_MECH; m++) {
		if (!enabled[m] || !has_scaling(m))
			continue;
		out("%-19s", mech_name[m]);
		for (i = 0; i < NR_PAIRS; i++) {
			if (scal[m][i].nok)
				out(" %8.0f", scal[m][i].rate);
			else
				out(" %8s", "failed");
		}
		out("\n");
	}
}

static void target(const char *what, double got, double want, bool lower_is_better)
{
	bool met = got > 0 && (lower_is_better ? got <= want : got >= want);

	out("  %-66s %6.2fx  %s\n", what, got,
	    got <= 0 ? "no data" : met ? "met" : "NOT met");
}

static void table_targets(void)
{
	char what[128];
	int pn;

	out("\ntargets (ratios within this boot; round trips from the turns)\n");
	for (pn = 0; pn < 2; pn++) {
		double f = turns[pn][M_EVENTFD].med, best = 0;
		enum mech m, bm = M_MQ;

		for (m = M_MQ; m <= M_PIPE; m++)
			if (turns[pn][m].nok && (!best || turns[pn][m].med < best)) {
				best = turns[pn][m].med;
				bm = m;
			}
		for (m = M_MSGBOX; m <= M_MSGBOX_CALL_POLL; m++) {
			if (!in_turns(m))
				continue;
			if (pn == 0) {
				snprintf(what, sizeof(what), "64 B round trip, %s, %s / eventfd (<= 1.05)",
					 pin_name[pn], mech_name[m]);
				target(what, ratio(turns[pn][m].med, f), 1.05, true);
			}
			snprintf(what, sizeof(what), "64 B round trip, %s, %s / %s (<= 1)",
				 pin_name[pn], mech_name[m], mech_name[bm]);
			target(what, ratio(turns[pn][m].med, best), 1, true);
		}
	}
	for (pn = 0; pn < 2; pn++) {
		double mq100 = strm[pn][M_MQ][SIZE_100].rate;

		for (enum mech m = M_MSGBOX_BATCH; m <= M_MSGBOX_RING; m++) {
			snprintf(what, sizeof(what), "100 B stream, %s, %s / ZeroMQ (>= 1)",
				 pin_name[pn], mech_name[m]);
			target(what, ratio(strm[pn][m][SIZE_100].rate,
					   strm[pn][M_ZMQ][SIZE_100].rate), 1, false);
			snprintf(what, sizeof(what), "100 B stream, %s, %s / POSIX mq (>= 3)",
				 pin_name[pn], mech_name[m]);
			target(what, ratio(strm[pn][m][SIZE_100].rate, mq100), 3, false);
		}
		for (enum mech m = M_MSGBOX; m <= M_MSGBOX_RING; m++) {
			snprintf(what, sizeof(what), "100 KB stream, %s, %s / POSIX mq (>= 1.5)",
				 pin_name[pn], mech_name[m]);
			target(what, ratio(strm[pn][m][SIZE_100K].rate,
					   strm[pn][M_MQ][SIZE_100K].rate), 1.5, false);
		}
	}
}

static void csv(void)
{
	size_t s, i;
	int pn, m;

	printf("BEGIN-CSV\n");
	/* ratio: round trips to the eventfd floor's median, rates to POSIX
	 * mq's, at the same size, pinning and pairs (0: no data). */
	printf("kind,mechanism,size,cpus,pairs,runs,failed,msgs_per_s,mb_per_s,median_ns,p99_ns,ratio\n");
	for (pn = 0; pn < 2; pn++)
		for (m = 0; m < NR_MECH; m++)
			for (s = 0; s < NR_RTT_SIZES; s++) {
				struct cell *c = &rtt[pn][m][s];

				if (!enabled[m] || !has_rtt(m))
					continue;
				printf("rtt,%s,%zu,%d,1,%d,%d,,,%llu,%llu,%.3f\n", mech_id[m],
				       rtt_sizes[s], pn + 1, c->nok, c->nfail,
				       (unsigned long long)c->med, (unsigned long long)c->p99,
				       ratio(c->med, rtt[pn][M_EVENTFD][s].med));
			}
	for (pn = 0; pn < 2; pn++)
		for (m = 0; m < NR_MECH; m++) {
			struct cell *c = &turns[pn][m];

			if (!in_turns(m))
				continue;
			printf("turns,%s,%d,%d,1,%d,%d,,,%llu,%llu,%.3f\n", mech_id[m],
			       TURN_SIZE, pn + 1, c->nok, c->nfail,
			       (unsigned long long)c->med, (unsigned long long)c->p99,
			       ratio(c->med, turns[pn][M_EVENTFD].med));
		}
	for (pn = 0; pn < 2; pn++)
		for (m = 0; m < NR_MECH; m++)
			for (s = 0; s < NR_STREAM_SIZES; s++) {
				struct cell *c = &strm[pn][m][s];

				if (!enabled[m] || !has_stream(m))
					continue;
				printf("stream,%s,%zu,%d,1,%d,%d,%.0f,%.2f,,,%.3f\n", mech_id[m],
				       stream_sizes[s], pn + 1, c->nok, c->nfail, c->rate,
				       c->rate * stream_sizes[s] / 1e6,
				       ratio(c->rate, strm[pn][M_MQ][s].rate));
			}
	for (m = 0; m < NR_MECH; m++)
		for (i = 0; i < NR_PAIRS; i++) {
			struct cell *c = &scal[m][i];

			if (!enabled[m] || !has_scaling(m))
				continue;
			printf("scaling,%s,%d,0,%d,%d,%d,%.0f,%.2f,,,%.3f\n", mech_id[m],
			       SCALE_SIZE, pair_counts[i], c->nok, c->nfail, c->rate,
			       c->rate * SCALE_SIZE / 1e6, ratio(c->rate, scal[M_MQ][i].rate));
		}
	printf("END-CSV\n");
}

#define POLL_PARAM	"/sys/module/msgbox/parameters/poll_ns"

/* Set the module's poll_ns: 0, or -1 with errno. */
static int poll_ns_set(const char *val)
{
	FILE *f = fopen(POLL_PARAM, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%s\n", val) > 0 ? 0 : -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

/* The module's poll_ns, as a string ("?" if unreadable). */
static const char *poll_ns_get(void)
{
	static char val[32] = "?";
	FILE *f = fopen(POLL_PARAM, "r");

	if (f) {
		if (!fgets(val, sizeof(val), f))
			strcpy(val, "?");
		val[strcspn(val, "\n")] = 0;
		fclose(f);
	}
	return val;
}

/*
 * --profile: about @secs seconds of 64 B round trips on one CPU for each
 * mechanism chosen, and nothing else, for a profiler to sample around the
 * program (msgbox-vm profile runs perf record): 100 round trips first, whose
 * median sets the count.  One line each: profile,ID,round trips,median ns,
 * p99 ns, voluntary and involuntary context switches per round trip (both
 * processes).
 */
static int profile(double secs)
{
	struct result res;
	int m, fails = 0;

	for (m = 0; m < NR_MECH; m++) {
		double n;

		if (!enabled[m] || !has_rtt(m))
			continue;
		profile_iters = 100;
		if (!measure(K_RTT, m, TURN_SIZE, 0, &res) || !res.med) {
			fails++;
			continue;
		}
		n = secs * 1e9 / (double)res.med;
		profile_iters = n < 100 ? 100 : n > 1e7 ? 10000000 : (long)n;
		if (!measure(K_RTT, m, TURN_SIZE, 0, &res)) {
			fails++;
			continue;
		}
		out("profile,%s,%ld,%llu,%llu,%.2f,%.2f\n", mech_id[m], profile_iters,
		    (unsigned long long)res.med, (unsigned long long)res.p99,
		    res.vcsw, res.ivcsw);
	}
	profile_iters = 0;	/* m_rtt() counts its own again */
	return fails ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: msgbox-bench [--quick] [--runs N] [-v] [--poll-ns N] [--only ID,...]\n"
		"                    [--profile SECONDS | --turns]\n"
		"  --quick   tiny counts, one run, every byte checked, TAP output\n"
		"  --runs N  runs per figure (median taken; default 3, at most %d)\n"
		"  -v        each measurement's wall time on stderr\n"
		"  --poll-ns set the module's poll_ns first (root: MSGBOX_MSG_POLL's\n"
		"            longest busy poll, which msgbox-call-poll uses)\n"
		"  --profile only 64 B round trips on one CPU, about SECONDS (at most 60)\n"
		"            for each mechanism, to run under a profiler\n"
		"  --turns   only the 64 B round trips on one CPU taking turns, once\n"
		"  --only    mechanisms, among:", MAX_RUNS);
	for (int m = 0; m < NR_MECH; m++)
		fprintf(stderr, " %s", mech_id[m]);
	fprintf(stderr, "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	const char *only = NULL, *poll_ns = NULL;
	double profile_s = 0;
	bool turns_only = false;
	char poll_old[32];
	int r, m, pn, tapn = 0, fails = 0, prof_fails;
	size_t s, i;
	uint64_t t_start = now_ns();

	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--runs") && i + 1 < (size_t)argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--only") && i + 1 < (size_t)argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--poll-ns") && i + 1 < (size_t)argc)
			poll_ns = argv[++i];
		else if (!strcmp(argv[i], "--profile") && i + 1 < (size_t)argc)
			profile_s = atof(argv[++i]);
		else if (!strcmp(argv[i], "--turns"))
			turns_only = true;
		else
			usage();
	}
	if (quick)
		runs = 1, limit_s = 60;
	if (runs < 1 || runs > MAX_RUNS || profile_s < 0 || profile_s > 60)
		usage();
	for (m = 0; m < NR_MECH; m++) {
		char pad[64];

		snprintf(pad, sizeof(pad), ",%s,", mech_id[m]);
		if (only) {
			char list[512];

			snprintf(list, sizeof(list), ",%s,", only);
			enabled[m] = strstr(list, pad) != NULL;
		} else {
			enabled[m] = true;
		}
	}

	/* Let POSIX mq and SysV msg carry 100 KB messages too. */
	setrlimit(RLIMIT_MSGQUEUE, &unlimited);
	mkdir("/dev/mqueue", 0755);
	mount("mqueue", "/dev/mqueue", "mqueue", 0, NULL);
	write_proc("/proc/sys/fs/mqueue/msg_max", "64");
	write_proc("/proc/sys/fs/mqueue/msgsize_max", "131072");
	write_proc("/proc/sys/kernel/msgmax", "131072");
	write_proc("/proc/sys/kernel/msgmnb", "8388608");
	setvbuf(stdout, NULL, _IOLBF, 0);
	_Static_assert(NR_MECH * sizeof(*shared) <= 4096, "results fit a page");
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (quick)
		printf("TAP version 13\n");
	out("msgbox-bench: %d CPUs, %s; under emulation read the ratios, not the times\n",
	    ncpus, quick ? "quick check (tiny counts, every byte checked)" :
	    profile_s || turns_only ? "64 B round trips on one CPU" : "full run");
	if (ncpus < 2)
		out("only one CPU: the two-CPU figures run on one\n");
	snprintf(poll_old, sizeof(poll_old), "%s", poll_ns_get());
	if (poll_ns && poll_ns_set(poll_ns))
		die("--poll-ns %s: %s", poll_ns, POLL_PARAM);
	if (enabled[M_MSGBOX_CALL_POLL])
		out("msgbox call, poll: MSGBOX_MSG_POLL on both sides, poll_ns %s\n",
		    poll_ns_get());
	if (turns_only) {
		/* The profiled mechanisms' times, taken alike (msgbox-vm profile). */
		record_turns(0, 0);
		for (m = 0; m < NR_MECH; m++) {
			if (!in_turns(m))
				continue;
			settle(&turns[0][m]);
			if (turns[0][m].nok)
				out("turns,%s,%llu,%llu\n", mech_id[m],
				    (unsigned long long)turns[0][m].med,
				    (unsigned long long)turns[0][m].p99);
			else
				fails++;
		}
	} else if (profile_s) {
		fails = profile(profile_s);
	}
	if (turns_only || profile_s) {
		if (poll_ns && strcmp(poll_old, "?"))
			poll_ns_set(poll_old);
		return fails ? 1 : 0;
	}

	/* The mechanisms take turns inside each run. */
	for (r = 0; r < runs; r++) {
		for (pn = 0; pn < 2; pn++) {
			int cpu_b = pn && ncpus > 1 ? 1 : 0;

			record_turns(pn, cpu_b);
			for (s = 0; s < NR_RTT_SIZES; s++)
				for (m = 0; m < NR_MECH; m++)
					if (enabled[m] && has_rtt(m))
						record(&rtt[pn][m][s], K_RTT, m, rtt_sizes[s], cpu_b);
			for (s = 0; s < NR_STREAM_SIZES; s++)
				for (m = 0; m < NR_MECH; m++)
					if (enabled[m] && has_stream(m))
						record(&strm[pn][m][s], K_STREAM, m, stream_sizes[s], cpu_b);
		}
		for (i = 0; i < NR_PAIRS; i++)
			for (m = 0; m < NR_MECH; m++)
				if (enabled[m] && has_scaling(m))
					record(&scal[m][i], K_SCALING, m, SCALE_SIZE, pair_counts[i]);
		if (!quick)
			fprintf(stderr, "msgbox-bench: run %d of %d done after %.0f s\n", r + 1,
				runs, (now_ns() - t_start) / 1e9);
	}
	for (pn = 0; pn < 2; pn++)
		for (m = 0; m < NR_MECH; m++) {
			settle(&turns[pn][m]);
			failures[m][pn] += turns[pn][m].nfail;
			for (s = 0; s < NR_RTT_SIZES; s++) {
				settle(&rtt[pn][m][s]);
				failures[m][pn] += rtt[pn][m][s].nfail;
			}
			for (s = 0; s < NR_STREAM_SIZES; s++) {
				settle(&strm[pn][m][s]);
				failures[m][pn] += strm[pn][m][s].nfail;
			}
		}
	for (m = 0; m < NR_MECH; m++)
		for (i = 0; i < NR_PAIRS; i++) {
			settle(&scal[m][i]);
			failures[m][2] += scal[m][i].nfail;
		}

	out("(medians of %d run%s; %.0f s in all)\n", runs, runs > 1 ? "s" : "",
	    (now_ns() - t_start) / 1e9);
	for (pn = 0; pn < 2; pn++)
		table_rtt(pn);
	for (pn = 0; pn < 2; pn++)
		table_turns(pn);
	for (pn = 0; pn < 2; pn++)
		table_stream(pn);
	table_scaling();
	/* Tiny counts make no ratios worth reading. */
	if (!quick && enabled[M_MSGBOX] && enabled[M_EVENTFD] && enabled[M_MQ] && enabled[M_ZMQ])
		table_targets();
	for (m = 0; m < NR_MECH; m++)
		for (pn = 0; pn < 3; pn++)
			fails += failures[m][pn];
	if (poll_ns && strcmp(poll_old, "?"))
		poll_ns_set(poll_old);	/* as it was */

	if (!quick) {
		csv();
		return fails ? 1 : 0;
	}

	/* --profile's loops, briefly: each message is checked there too. */
	prof_fails = profile(0.05);

	/*
	 * TAP: one line per mechanism and pinning, one for the pairs, and one
	 * for the profile loops.
	 */
	for (m = 0; m < NR_MECH; m++)
		if (enabled[m])
			tapn += 2 + has_scaling(m);
	printf("1..%d\n", tapn + 1);
	tapn = 0;
	for (m = 0; m < NR_MECH; m++) {
		static const char *const what[3] = { "one_cpu", "two_cpus", "pairs" };

		if (!enabled[m])
			continue;
		for (pn = 0; pn < 2 + has_scaling(m); pn++)
			printf("%sok %d bench.%s.%s\n", failures[m][pn] ? "not " : "", ++tapn,
			       mech_id[m], what[pn]);
	}
	printf("%sok %d bench.profile_loops\n", prof_fails ? "not " : "", ++tapn);
	fails = prof_fails > 0;
	for (m = 0; m < NR_MECH; m++)
		for (pn = 0; pn < 3; pn++)
			fails += failures[m][pn] > 0;
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n", tapn - fails, fails);
	return fails ? 1 : 0;
}
