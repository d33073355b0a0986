// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox-fuzz: a seeded, bounded fuzzer for /dev/msgbox.
 *
 *   msgbox-fuzz [-s SEED] [-n OPS] [-t SECONDS] [-p WORKERS] [-u] [-v]
 *
 * Several worker processes issue random and boundary-valued operations
 * against a few shared mailboxes (a queue, a rendezvous channel, a topic)
 * and whatever they create themselves: every ioctl with structure-aware
 * arguments (boundary limits, random flags, bad pointers, structures
 * straddling an inaccessible page), the same ioctl numbers with other sizes
 * and directions, unknown numbers, read, write, poll, close, dup, and
 * short-lived children killed in the middle of what they do.  Receive
 * rings are set up, mapped (at every length, offset and protection), their
 * head overwritten with anything, remapped and unmapped.  The same
 * commands, reads and writes go through io_uring too: uring_cmd SQEs with
 * random operations, tags and padding, parked receives and calls left in
 * flight, cancelled by tag or by io_uring, or abandoned with the ring torn
 * down or the worker killed (with -u only: see "io_uring" below).  A
 * timer interrupts every blocking call (again every few milliseconds
 * until it returns).  The parent SIGKILLs and respawns workers at random.
 *
 * io_uring, -u (the selftest's runs use it): it found, on 6.1, the lost
 * completions of positive results and a READ on a ring descriptor
 * spinning in task work, and on 6.12 a blocking MSGBOX_IOC_CALL deaf to
 * the timer's signal while io_uring task work was pending for its thread
 * (workers stuck until SIGKILL).  All three are fixed; "msgbox-fuzz -u -s
 * 7797161668615" reproduced the last two and is a regression seed.
 *
 * Same seed, same sequence: each worker draws everything from its own
 * generator, seeded from the seed, its index and its generation, and
 * draws the same numbers whatever the calls return, so a seed replays the
 * same operations (their outcomes depend on timing).  The run ends after
 * OPS operations or SECONDS, whichever comes first.
 *
 * Oracles: every errno, and every io_uring completion's error, must be one
 * the ABI documents (an internal one like ERESTARTSYS leaking out fails
 * the run); no worker may die other than by the parent's SIGKILL; every
 * worker must exit when told to (one that does not is reported with its
 * threads' states, kernel stacks and system calls); afterwards the module's mailbox count
 * (total_mailboxes) must be back where it was, so nothing leaked a
 * mailbox or its charge (io_uring's own teardown and every ring included;
 * the names a worker made up are destroyed first).  The kernel's own
 * checkers (KASAN, lockdep, kmemleak on the debug kernel; WARN, BUG and
 * Oops everywhere) are read from the console by the VM runner.
 *
 * Needs root (it lowers the module's size limits for the run, to bound the
 * memory a random mailbox can hold, and restores them afterwards).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/msgbox.h>
#include <liburing.h>

#define FZ_WORKERS_MAX	16
#define FZ_NFD		16	/* descriptor slots per worker */
#define FZ_REGION	(4u << 20)	/* payload area: max_msg_size fits */
#define FZ_NAMES	8	/* names workers create and destroy */
#define FZ_MAPS		4	/* ring mappings a worker holds */
#define FZ_UARGS	16	/* io_uring argument slots */
#define FZ_UARG_SIZE	512	/* bytes per slot */

struct fuzz_opts {
	unsigned long long seed;
	unsigned long long ops;		/* total budget, all workers */
	unsigned int secs;		/* time budget */
	unsigned int workers;
	bool uring;			/* -u: io_uring too (see below) */
	bool verbose;
};

struct fuzz_result {
	unsigned long long ops;
	unsigned int kills;
	unsigned int bad_errno;
	unsigned int bad_deaths;
	unsigned int stuck;
	long long leaked;		/* mailboxes left over */
	/* How far the run reached (zero would mean a path never fuzzed): */
	unsigned long long rings;	/* receive rings set up */
	unsigned long long maps;	/* mmap()s that succeeded */
	unsigned long long cqes;	/* io_uring completions */
	unsigned long long cqes_ok;	/* of which successes */
	unsigned long long cancelled;	/* of which -ECANCELED */
};

/* Shared between the parent and the workers (MAP_SHARED). */
struct fz_shared {
	volatile int stop;
	bool uring;			/* fuzz_opts.uring */
	volatile unsigned long long ops[FZ_WORKERS_MAX];
	volatile unsigned int bad_errno;
	unsigned long long rings, maps, cqes, cqes_ok, cancelled;
	/* errnos seen, for tuning: of system calls, of completions */
	unsigned long long eh_sys[256], eh_cqe[256];
	volatile pid_t pids[FZ_WORKERS_MAX];
	char names[3 + FZ_NAMES][MSGBOX_NAME_MAX];
};

static struct fz_shared *fz;

#define FZ_COUNT(field)	__atomic_add_fetch(&fz->field, 1, __ATOMIC_RELAXED)

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t fz_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct fz_worker {
	uint64_t rng;
	int idx;
	int ctl;
	int fds[FZ_NFD];
	uint64_t ids[8];	/* recently received message ids */
	uint64_t tokens[8];	/* recently received call tokens */
	char *region;		/* FZ_REGION bytes, then a PROT_NONE page */
	char *argpage;		/* a page, then a PROT_NONE one */
	char *ropage;		/* a read-only page */
	int efd;		/* an eventfd, for NOTIFY */
	uint64_t ring_size[FZ_NFD];	/* mmap_size of a ring fd, by slot */
	void *maps[FZ_MAPS];	/* ring mappings held */
	size_t map_len[FZ_MAPS];
	struct io_uring uring;
	bool uring_up;
	char *uargs;		/* FZ_UARGS slots: io_uring arguments */
	bool verbose;
	unsigned long long nops;
};

static uint64_t R(struct fz_worker *w)
{
	return fz_next(&w->rng);
}

static uint64_t Rn(struct fz_worker *w, uint64_t n)
{
	return n ? R(w) % n : 0;
}

#define PICK(w, ...) ({							\
	const uint64_t __v[] = { __VA_ARGS__ };				\
	__v[Rn(w, sizeof(__v) / sizeof(__v[0]))];			\
})

/* A user pointer for @size bytes: mostly good, sometimes hostile. */
static uint64_t fz_ptr(struct fz_worker *w, uint64_t size)
{
	uint64_t k = R(w);

	switch (Rn(w, 16)) {
	case 0:
		return 0;
	case 1:
		return PICK(w, 0xffffffff81000000ull, 0xffff888000000000ull,
			    0xfffffffffffff000ull, 0x8000000000000000ull);
	case 2:
		return PICK(w, 1, 4096, 0x10000);	/* unmapped */
	case 3:		/* straddles the end of the region */
		return (uintptr_t)w->region + FZ_REGION - (k % 4096) % (size + 1 ? size + 1 : 1);
	case 4:
		return (uintptr_t)w->ropage + k % 64;
	default:
		return (uintptr_t)w->region + k % 256;
	}
}

static uint64_t fz_len(struct fz_worker *w)
{
	if (Rn(w, 4))
		return Rn(w, 300);
	return PICK(w, 0, 1, 63, 64, 65, 255, 256, 4095, 4096, 4097, 65535,
		    65536, 65537, FZ_REGION, FZ_REGION + 1, 0xffffffffull,
		    0x100000000ull, ~0ull, 1ull << 63);
}

static int64_t fz_type(struct fz_worker *w)
{
	return (int64_t)PICK(w, 0, 1, 1, 2, 3, -1, -2, -3, 0x8000000000000000ull,
			     0x7fffffffffffffffull, R(w));
}

static int fz_fd(struct fz_worker *w)
{
	int s = Rn(w, FZ_NFD + 2), live = Rn(w, 8);

	/* Mostly an open one: the empty slot's next, if any. */
	for (int i = 0; s < FZ_NFD && live && i < FZ_NFD; i++)
		if (w->fds[(s + i) % FZ_NFD] >= 0)
			return w->fds[(s + i) % FZ_NFD];
	if (s < FZ_NFD)
		return w->fds[s];
	/* Never 0, 1 or 2: random writes and ioctls on a terminal. */
	return PICK(w, w->ctl, -1, 999, 0x7fffffff);
}

static int fz_pid(struct fz_worker *w)
{
	int i = Rn(w, FZ_WORKERS_MAX);

	return (int)PICK(w, 0, -1, 1, getpid(), getppid(), 99999,
			 fz->pids[i]);
}

static void fz_name(struct fz_worker *w, char *name)
{
	int n = Rn(w, 3 + FZ_NAMES + 5);

	memset(name, 0, MSGBOX_NAME_MAX);
	if (n < 3 + FZ_NAMES) {
		strcpy(name, fz->names[n]);
		return;
	}
	switch (n - 3 - FZ_NAMES) {
	case 0:
		break;				/* empty */
	case 1:
		strcpy(name, "..");
		break;
	case 2:
		memset(name, 'a', MSGBOX_NAME_MAX);	/* no NUL */
		break;
	case 3:
		strcpy(name, "bad/name");
		break;
	default:
		memset(name, 'b', MSGBOX_NAME_MAX - 1);
		break;
	}
}

static uint32_t fz_fdflags(struct fz_worker *w)
{
	if (!Rn(w, 8))
		return (uint32_t)R(w);
	return Rn(w, MSGBOX_FD_ALL + 1);
}

/*
 * Fill one struct msgbox_msg for a send, receive, reply or call: half of
 * them well formed (so that the paths behind the checks run too), the
 * others anything.
 */
static void fz_msg(struct fz_worker *w, struct msgbox_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (Rn(w, 2)) {
		m->len = Rn(w, 300);
		m->data = (uintptr_t)w->region + Rn(w, 4096 - 300);
		m->type = (int64_t)PICK(w, 0, 1, 1, 2, 3, -2);
		m->priority = Rn(w, 8);
		m->flags = PICK(w, 0, MSGBOX_MSG_NONBLOCK, MSGBOX_MSG_NONBLOCK,
				MSGBOX_MSG_TIMEOUT,
				MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_TRUNC,
				MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_PEEK,
				MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_ACK,
				MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_SYNC,
				MSGBOX_MSG_TIMEOUT | MSGBOX_MSG_TRACK,
				MSGBOX_MSG_NONBLOCK | MSGBOX_MSG_RING);
		if (m->flags & MSGBOX_MSG_TIMEOUT)
			m->timeout_ns = 1000 + Rn(w, 5000000);
		m->token = Rn(w, 2) ? 0 : w->tokens[Rn(w, 8)];
		return;
	}
	m->len = fz_len(w);
	m->data = fz_ptr(w, m->len);
	m->type = fz_type(w);
	m->priority = PICK(w, 0, 0, 1, 7, MSGBOX_PRIO_MAX, MSGBOX_PRIO_MAX + 1,
			   R(w));
	m->flags = Rn(w, 4) ? (R(w) & MSGBOX_MSG_ALL) : (uint32_t)R(w);
	if (Rn(w, 2))
		m->flags |= MSGBOX_MSG_NONBLOCK;
	if (m->flags & MSGBOX_MSG_TIMEOUT) {
		m->timeout_ns = PICK(w, 0, 1, 1000, 1000000, 5000000, R(w));
		if (m->flags & MSGBOX_MSG_ABSTIME) {
			struct timespec ts;

			clock_gettime(m->flags & MSGBOX_MSG_REALTIME ?
				      CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
			m->timeout_ns += ts.tv_sec * 1000000000ull + ts.tv_nsec;
		}
	} else if (!Rn(w, 16)) {
		m->timeout_ns = R(w);
	}
	m->sender_pid = fz_pid(w);
	if (!Rn(w, 16))
		m->__reserved[Rn(w, 2)] = R(w);
	if (!Rn(w, 16))
		m->__pad = R(w);
	m->token = Rn(w, 4) ? 0 : w->tokens[Rn(w, 8)];
	m->ttl_ns = PICK(w, 0, 0, 0, 1, 1000000, R(w));
}

/* Keep a new descriptor in slot @slot (closing what was there). */
static void fz_keep(struct fz_worker *w, int slot, int fd)
{
	if (fd < 0)
		return;
	if (w->fds[slot] >= 0)
		close(w->fds[slot]);
	w->fds[slot] = fd;
	w->ring_size[slot] = 0;
}

struct fz_cmd {
	const char *name;
	unsigned int cmd;
	unsigned int size;
	bool ctl;		/* on /dev/msgbox */
	bool newfd;		/* returns a descriptor */
};

static const struct fz_cmd fz_cmds[] = {
	{ "VERSION", MSGBOX_IOC_VERSION, 0, true, false },
	{ "CREATE", MSGBOX_IOC_CREATE, sizeof(struct msgbox_create), true, true },
	{ "OPEN", MSGBOX_IOC_OPEN, sizeof(struct msgbox_open), true, true },
	{ "DESTROY", MSGBOX_IOC_DESTROY, sizeof(struct msgbox_open), true, false },
	{ "INBOX", MSGBOX_IOC_INBOX, sizeof(struct msgbox_create), true, true },
	{ "OPEN_INBOX", MSGBOX_IOC_OPEN_INBOX, sizeof(struct msgbox_inbox), true, true },
	{ "SEND", MSGBOX_IOC_SEND, sizeof(struct msgbox_msg), false, false },
	{ "RECV", MSGBOX_IOC_RECV, sizeof(struct msgbox_msg), false, false },
	{ "INFO", MSGBOX_IOC_INFO, sizeof(struct msgbox_info), false, false },
	{ "SETATTR", MSGBOX_IOC_SETATTR, sizeof(struct msgbox_setattr), false, false },
	{ "CALL", MSGBOX_IOC_CALL, sizeof(struct msgbox_call), false, false },
	{ "REPLY", MSGBOX_IOC_REPLY, sizeof(struct msgbox_msg), false, false },
	{ "REPLY_RECV", MSGBOX_IOC_REPLY_RECV, sizeof(struct msgbox_reply_recv), false, false },
	{ "SUBSCRIBE", MSGBOX_IOC_SUBSCRIBE, sizeof(struct msgbox_subscribe), false, true },
	{ "ACK", MSGBOX_IOC_ACK, sizeof(struct msgbox_ack), false, false },
	{ "STATUS", MSGBOX_IOC_STATUS, sizeof(struct msgbox_status), false, false },
	{ "SEND_BATCH", MSGBOX_IOC_SEND_BATCH, sizeof(struct msgbox_batch), false, false },
	{ "RECV_BATCH", MSGBOX_IOC_RECV_BATCH, sizeof(struct msgbox_batch), false, false },
	{ "NOTIFY", MSGBOX_IOC_NOTIFY, sizeof(struct msgbox_notify), false, false },
	{ "RING_SETUP", MSGBOX_IOC_RING_SETUP, sizeof(struct msgbox_ring_setup), false, true },
	{ "RING_ENTER", MSGBOX_IOC_RING_ENTER, sizeof(__u32), false, false },
};

#define NCMDS	(sizeof(fz_cmds) / sizeof(fz_cmds[0]))

/* Fill the argument of @c at @a (at most a page). */
static void fz_fill(struct fz_worker *w, const struct fz_cmd *c, void *a)
{
	switch (c->cmd) {
	case MSGBOX_IOC_CREATE:
	case MSGBOX_IOC_INBOX: {
		struct msgbox_create *cr = a;

		cr->max_msgs = PICK(w, 0, 1, 2, 8, 64, 65536, 65537, R(w));
		cr->max_msg_size = PICK(w, 0, 1, 64, 256, 4096, 65536, 65537,
					FZ_REGION, R(w));
		cr->max_bytes = PICK(w, 0, cr->max_msg_size,
				     (uint64_t)cr->max_msg_size * cr->max_msgs,
				     1u << 20, (1u << 20) + 1, R(w));
		cr->fd_flags = fz_fdflags(w);
		cr->flags = Rn(w, 8) ? Rn(w, MSGBOX_CREATE_ALL + 1) : (uint32_t)R(w);
		if (Rn(w, 2))	/* named ones mostly go with their fds */
			cr->flags |= MSGBOX_CREATE_EPHEMERAL;
		cr->mode = Rn(w, 8) ? Rn(w, 01000) : (uint32_t)R(w);
		cr->__pad = Rn(w, 16) ? 0 : R(w);
		fz_name(w, cr->name);
		if (Rn(w, 2) || c->cmd == MSGBOX_IOC_INBOX)
			memset(cr->name, 0, sizeof(cr->name));
		if (c->cmd == MSGBOX_IOC_CREATE && !cr->name[0] && Rn(w, 4))
			cr->flags |= MSGBOX_CREATE_ANON;
		break;
	}
	case MSGBOX_IOC_OPEN:
	case MSGBOX_IOC_DESTROY: {
		struct msgbox_open *o = a;

		o->fd_flags = c->cmd == MSGBOX_IOC_DESTROY && Rn(w, 4) ? 0 :
			      fz_fdflags(w);
		if (c->cmd == MSGBOX_IOC_DESTROY)
			o->flags = PICK(w, 0, 0, MSGBOX_DESTROY_UNLINK, R(w));
		else
			o->flags = Rn(w, 16) ? 0 : R(w);
		fz_name(w, o->name);
		break;
	}
	case MSGBOX_IOC_NOTIFY: {
		struct msgbox_notify *n = a;

		n->how = PICK(w, MSGBOX_NOTIFY_OFF, MSGBOX_NOTIFY_NONE,
			      MSGBOX_NOTIFY_EVENTFD, MSGBOX_NOTIFY_EVENTFD, R(w));
		n->efd = n->how == MSGBOX_NOTIFY_EVENTFD && Rn(w, 8) ? w->efd :
			 Rn(w, 4) ? 0 : fz_fd(w);
		break;
	}
	case MSGBOX_IOC_OPEN_INBOX: {
		struct msgbox_inbox *in = a;

		in->pid = fz_pid(w);
		in->fd_flags = fz_fdflags(w);
		in->__reserved = Rn(w, 16) ? 0 : R(w);
		break;
	}
	case MSGBOX_IOC_SEND:
	case MSGBOX_IOC_RECV:
	case MSGBOX_IOC_REPLY:
		fz_msg(w, a);
		break;
	case MSGBOX_IOC_REPLY_RECV: {
		struct msgbox_reply_recv *rr = a;

		fz_msg(w, &rr->reply);
		fz_msg(w, &rr->recv);
		break;
	}
	case MSGBOX_IOC_CALL: {
		struct msgbox_call *cl = a;

		fz_msg(w, &cl->request);
		fz_msg(w, &cl->reply);
		if (Rn(w, 2))
			cl->reply.flags = 0;
		cl->reply.ttl_ns = 0;
		cl->reply.token = 0;
		break;
	}
	case MSGBOX_IOC_SETATTR: {
		struct msgbox_setattr *sa = a;

		sa->mask = Rn(w, 8) ? Rn(w, MSGBOX_SETATTR_ALL + 1) : (uint32_t)R(w);
		sa->mode = Rn(w, 01000);
		sa->max_msgs = PICK(w, 0, 1, 4, 64, R(w));
		sa->max_msg_size = PICK(w, 0, 1, 64, 4096, R(w));
		sa->max_bytes = PICK(w, 0, 64, 4096, 1u << 20, R(w));
		sa->max_deliveries = PICK(w, 0, 1, 2, 3, R(w));
		sa->dead_letter_fd = PICK(w, -1, fz_fd(w), 999);
		sa->ack_timeout_ns = PICK(w, 0, 1, 1000000, 10000000, R(w));
		break;
	}
	case MSGBOX_IOC_SUBSCRIBE: {
		struct msgbox_subscribe *s = a;

		s->fd_flags = fz_fdflags(w);
		s->flags = PICK(w, 0, 0, MSGBOX_MSG_EXCEPT, R(w));
		s->type = fz_type(w);
		s->__reserved[0] = Rn(w, 16) ? 0 : R(w);
		break;
	}
	case MSGBOX_IOC_ACK: {
		struct msgbox_ack *k = a;

		k->id = Rn(w, 8) ? w->ids[Rn(w, 8)] : R(w);
		k->flags = PICK(w, 0, 0, MSGBOX_ACK_NACK, MSGBOX_ACK_EXTEND,
				MSGBOX_ACK_NACK | MSGBOX_ACK_EXTEND, R(w));
		k->__pad = Rn(w, 16) ? 0 : R(w);
		break;
	}
	case MSGBOX_IOC_STATUS: {
		struct msgbox_status *st = a;

		st->id = Rn(w, 8) ? w->ids[Rn(w, 8)] : R(w);
		st->__pad = Rn(w, 16) ? 0 : R(w);
		break;
	}
	case MSGBOX_IOC_SEND_BATCH:
	case MSGBOX_IOC_RECV_BATCH: {
		struct msgbox_batch *b = a;
		/* The entries live in the region, after its first 4 KiB. */
		struct msgbox_msg *e = (void *)(w->region + 4096);
		unsigned int n = PICK(w, 1, 2, 4, 8);

		for (unsigned int i = 0; i < n; i++) {
			fz_msg(w, &e[i]);
			/* Payloads below the entries, never over them. */
			if (e[i].data >= (uintptr_t)w->region + 4096 &&
			    e[i].data < (uintptr_t)w->region + 8192)
				e[i].data = (uintptr_t)w->region;
			if (e[i].data == (uintptr_t)w->region && e[i].len > 4096)
				e[i].len = 4096;
		}
		b->msgs = Rn(w, 8) ? (uintptr_t)e : fz_ptr(w, 4096);
		b->count = PICK(w, n, n, 0, 1, MSGBOX_BATCH_MAX,
				MSGBOX_BATCH_MAX + 1);
		b->msg_size = PICK(w, sizeof(*e), sizeof(*e), MSGBOX_MSG_SIZE_VER0 - 1,
				   sizeof(*e) + 8, 4096, 4097);
		b->done = Rn(w, 16) ? 0 : 1;
		b->error = Rn(w, 16) ? 0 : -1;
		b->__reserved = Rn(w, 16) ? 0 : R(w);
		break;
	}
	case MSGBOX_IOC_RING_SETUP: {
		struct msgbox_ring_setup *rs = a;

		rs->size = PICK(w, 4096, 8192, 65536, 1u << 20, (1u << 20) << 1,
				0, 4095, 12288, R(w));
		rs->flags = Rn(w, 8) ? PICK(w, 0, MSGBOX_RING_LARGE,
					     MSGBOX_MSG_EXCEPT,
					     MSGBOX_RING_LARGE | MSGBOX_MSG_EXCEPT) :
				       (uint32_t)R(w);
		rs->type = fz_type(w);
		rs->fd_flags = PICK(w, 0, 0, MSGBOX_FD_CLOEXEC, R(w));
		if (!Rn(w, 16))
			rs->mmap_size = R(w);
		if (!Rn(w, 16))
			rs->__reserved[Rn(w, 2)] = R(w);
		break;
	}
	default:
		break;
	}
}

/* Errors the ABI documents, and those of the calls around it. */
static bool fz_errno_ok(int e)
{
	switch (e) {
	case EAGAIN: case ETIMEDOUT: case EINTR: case EIDRM: case EMSGSIZE:
	case EBADF: case EACCES: case EPERM: case EDQUOT: case ENOSPC:
	case ECONNRESET: case EPIPE: case EINVAL: case EFAULT: case ENOMEM:
	case ENOENT: case EEXIST: case ENAMETOOLONG: case E2BIG: case ENOTTY:
	case EOPNOTSUPP: case ESRCH: case ENOBUFS: case ETIME: case EMFILE:
	case ENFILE: case EBUSY:
		return true;
	default:
		return false;
	}
}

static void fz_check(struct fz_worker *w, const char *what, long r, int e)
{
	if (r < 0)
		__atomic_add_fetch(&fz->eh_sys[e & 255], 1, __ATOMIC_RELAXED);
	if (r >= 0 || fz_errno_ok(e))
		return;
	__atomic_add_fetch(&fz->bad_errno, 1, __ATOMIC_SEQ_CST);
	fprintf(stderr, "# fuzz: worker %d op %llu: %s: unexpected errno %d (%s)\n",
		w->idx, w->nops, what, e, strerror(e));
}

static void fz_alarm(int sig)
{
	(void)sig;
}

/*
 * Interrupt whatever the next call blocks in, after 1 to 20 ms, and again
 * as often until fz_untimer(): a worker the emulator holds up past the
 * first expiry before it blocks must not sleep forever.
 */
static void fz_timer(struct fz_worker *w)
{
	struct itimerval it = { .it_value = { 0, 1000 + Rn(w, 19000) } };

	it.it_interval = it.it_value;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void fz_untimer(void)
{
	struct itimerval it = { 0 };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void fz_op(struct fz_worker *w, int depth);

/* Print @path's first lines, prefixed, for the report of a stuck worker. */
static void fz_dump_file(const char *path, const char *what)
{
	char line[256];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return;
	while (n++ < 24 && fgets(line, sizeof(line), f))
		fprintf(stderr, "# fuzz:   %s: %s%s", what, line,
			strchr(line, '\n') ? "" : "\n");
	fclose(f);
}

/*
 * Where a worker that does not stop is, thread by thread (its io-wq
 * workers too): state, kernel stack (root only), system call.
 */
static void fz_dump_stuck(pid_t pid)
{
	static const char *const files[] = { "stat", "stack", "syscall" };
	char path[400], tasks[64];
	struct dirent *de;
	DIR *d;

	snprintf(tasks, sizeof(tasks), "/proc/%d/task", (int)pid);
	d = opendir(tasks);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		fprintf(stderr, "# fuzz:  thread %s:\n", de->d_name);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s/%s", tasks,
				 de->d_name, files[i]);
			fz_dump_file(path, files[i]);
		}
	}
	closedir(d);
}

/* One ioctl, known or not, on some descriptor. */
static void fz_ioctl(struct fz_worker *w)
{
	const struct fz_cmd *c = &fz_cmds[Rn(w, NCMDS)];
	unsigned int cmd = c->cmd, size = c->size, how = Rn(w, 20);
	int slot = Rn(w, FZ_NFD), fd;
	char *a;
	long r;

	/* Mostly the right kind of descriptor. */
	if (c->ctl && Rn(w, 8))
		fd = w->ctl;
	else
		fd = fz_fd(w);
	if (how == 0 || how == 1) {	/* other sizes in the number */
		size = PICK(w, 0, 1, 8, size ? size - 1 : 0, size + 1, size + 8,
			    size + 64, 4096, 0x3fff);
		cmd = (cmd & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		      ((size & _IOC_SIZEMASK) << _IOC_SIZESHIFT);
	} else if (how == 2) {		/* other direction bits */
		cmd ^= (Rn(w, 3) + 1) << _IOC_DIRSHIFT;
	} else if (how == 3) {		/* unknown numbers */
		cmd = _IOC(Rn(w, 4), MSGBOX_IOC_MAGIC, PICK(w, 6, 0x1f, 0x2c, 0xff, R(w)),
			   Rn(w, 512));
	} else if (how == 4) {
		cmd = (unsigned int)R(w);
	}
	/* The argument at the start of a page, or straddling its end. */
	if (size > 4096 || Rn(w, 4))
		a = w->argpage;
	else
		a = w->argpage + 4096 - Rn(w, size + 1);
	memset(w->argpage, 0, 4096);
	fz_fill(w, c, w->argpage);		/* same draws either way */
	if (a != w->argpage)			/* cut at the page's end */
		memmove(a, w->argpage, w->argpage + 4096 - a);
	if (!Rn(w, 16))
		a = (char *)(uintptr_t)fz_ptr(w, size);

	if (w->verbose)
		fprintf(stderr, "# w%d %llu ioctl(%d, %#x %s, %p)\n", w->idx,
			w->nops, fd, cmd, c->name, (void *)a);
	fz_timer(w);
	r = ioctl(fd, cmd, a);
	fz_check(w, c->name, r, errno);
	fz_untimer();
	if (r < 0)
		return;
	if (cmd == c->cmd && c->newfd) {
		fz_keep(w, slot, (int)r);
		if (cmd == MSGBOX_IOC_RING_SETUP)
			FZ_COUNT(rings);
		if (cmd == MSGBOX_IOC_RING_SETUP && a == w->argpage)
			w->ring_size[slot] =
				((struct msgbox_ring_setup *)a)->mmap_size;
	} else if ((cmd == MSGBOX_IOC_RECV || cmd == MSGBOX_IOC_REPLY_RECV) &&
		   a == w->argpage) {
		struct msgbox_msg *m = (void *)a;

		if (cmd == MSGBOX_IOC_REPLY_RECV)
			m = &((struct msgbox_reply_recv *)a)->recv;
		w->ids[m->id % 8] = m->id;
		/* Tokens are opaque: spread them by all their bits. */
		if (m->token)
			w->tokens[(m->token ^ m->token >> 32) % 8] = m->token;
	}
}

static void fz_rw(struct fz_worker *w)
{
	int fd = fz_fd(w), wr = Rn(w, 2);
	uint64_t len = fz_len(w), p = fz_ptr(w, len);
	ssize_t r;

	if (w->verbose)
		fprintf(stderr, "# w%d %llu %s(%d, %#llx, %llu)\n", w->idx,
			w->nops, wr ? "write" : "read", fd,
			(unsigned long long)p, (unsigned long long)len);
	fz_timer(w);
	if (wr)
		r = write(fd, (void *)(uintptr_t)p, len);
	else
		r = read(fd, (void *)(uintptr_t)p, len);
	fz_check(w, wr ? "write" : "read", r, errno);
	fz_untimer();
}

static void fz_poll(struct fz_worker *w)
{
	struct pollfd p[4];
	int n = 1 + Rn(w, 4), r;

	for (int i = 0; i < n; i++) {
		p[i].fd = fz_fd(w);
		p[i].events = (short)PICK(w, POLLIN, POLLOUT, POLLIN | POLLOUT, R(w));
		p[i].revents = 0;
	}
	r = poll(p, n, Rn(w, 5));
	fz_check(w, "poll", r, errno);
}

/*
 * Keep mapping @p of @len bytes in slot @keep (unmapping what was there),
 * or unmap it now if @keep is past the slots.
 */
static void fz_hold_map(struct fz_worker *w, int keep, void *p, size_t len)
{
	if (keep >= FZ_MAPS) {
		munmap(p, len);
		return;
	}
	if (w->maps[keep])
		munmap(w->maps[keep], w->map_len[keep]);
	w->maps[keep] = p;
	w->map_len[keep] = len;
}

/*
 * Map a descriptor, a ring's mostly: every length, offset and protection,
 * shared or private.  Scribble on what the consumer may write (the head,
 * but also the kernel's tail and the records, which must harm only this
 * ring), try to grow it, and keep it mapped for a while or unmap it now.
 */
static void fz_map(struct fz_worker *w)
{
	int slot = Rn(w, FZ_NFD), fd = w->fds[slot], keep = Rn(w, FZ_MAPS + 1);
	uint64_t size = w->ring_size[slot] ? w->ring_size[slot] : 3 * 4096;
	size_t len = PICK(w, size, size, size, size - 4096, 4096, size + 4096,
			  Rn(w, 4 * size));
	off_t off = PICK(w, 0, 0, 0, 4096, 4096 * Rn(w, 8));
	int prot = PICK(w, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
			PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE | PROT_EXEC);
	int flags = Rn(w, 8) ? MAP_SHARED : MAP_PRIVATE;
	uint32_t scribble[8];
	char *p, *q;

	for (int i = 0; i < 8; i++)
		scribble[i] = (uint32_t)PICK(w, 0, 8, 4096, size, R(w));
	if (!Rn(w, 16))
		fd = fz_fd(w);
	if (w->verbose)
		fprintf(stderr, "# w%d %llu mmap(%zu, %#x, %#x, %d, %lld)\n",
			w->idx, w->nops, len, prot, flags, fd, (long long)off);
	p = mmap(NULL, len, prot, flags, fd, off);
	if (p == MAP_FAILED) {
		int e = errno;

		/* mm's own checks, and the module's (EINVAL, EACCES, EPERM) */
		if (e != ENODEV && e != EINVAL && e != EACCES && e != EPERM &&
		    e != EBADF && e != ENOMEM && e != EOVERFLOW && e != ENXIO)
			fz_check(w, "mmap", -1, e);
		return;
	}
	FZ_COUNT(maps);
	if ((prot & PROT_WRITE) && (prot & PROT_READ) && len >= 4096) {
		/* Header words (head, tail), then the first records. */
		for (int i = 0; i < 8; i++)
			((volatile uint32_t *)p)[PICK(w, 0, 1, 2, 16, 32,
						       Rn(w, 1024))] = scribble[i];
		if (len > 8192 && Rn(w, 2))
			memset(p + 4096, (int)R(w), 64);
	}
	if (Rn(w, 4)) {		/* a ring's is VM_DONTEXPAND: this fails */
		size_t nlen = len + 4096 * (1 + Rn(w, 4));

		q = mremap(p, len, nlen, MREMAP_MAYMOVE);
		if (q != MAP_FAILED) {
			p = q;
			len = nlen;
		}
	}
	fz_hold_map(w, keep, p, len);
}

/*
 * A receive ring worked as its consumer would, and abused: set up on a
 * mailbox of its own or any, mapped, fed by sends (large ones straight
 * from the sender's pages with MSGBOX_RING_LARGE), emptied, entered and
 * polled, its head overwritten; then kept, closed, unmapped or orphaned
 * in any order.
 */
static void fz_ring(struct fz_worker *w)
{
	struct msgbox_ring_setup rs = { 0 };
	int slot = Rn(w, FZ_NFD), keep = Rn(w, FZ_MAPS + 2), fd, rfd;
	unsigned int steps = 1 + Rn(w, 8);
	volatile uint32_t *head, *tail;
	char *p;

	if (Rn(w, 2)) {
		struct msgbox_create c = {
			.max_msgs = PICK(w, 1, 8, 64),
			.max_msg_size = PICK(w, 4096, 65536),
			.max_bytes = PICK(w, 65536, 1u << 20),
			.fd_flags = MSGBOX_FD_RECV | MSGBOX_FD_SEND,
			.flags = MSGBOX_CREATE_ANON,
			.mode = 0600,
		};

		fd = ioctl(w->ctl, MSGBOX_IOC_CREATE, &c);
		fz_check(w, "CREATE (ring)", fd, errno);
		fz_keep(w, slot, fd);
		slot = Rn(w, FZ_NFD);
	} else {
		fd = fz_fd(w);
	}
	rs.size = PICK(w, 4096, 8192, 65536);
	rs.flags = PICK(w, 0, 0, MSGBOX_RING_LARGE, MSGBOX_MSG_EXCEPT);
	rs.type = PICK(w, 0, 1, 2);
	if (rs.flags & MSGBOX_MSG_EXCEPT && !rs.type)
		rs.type = 1;
	rfd = ioctl(fd, MSGBOX_IOC_RING_SETUP, &rs);
	fz_check(w, "RING_SETUP", rfd, errno);
	if (rfd < 0)
		return;
	FZ_COUNT(rings);
	p = mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	if (p == MAP_FAILED) {
		fz_check(w, "mmap (ring)", -1, errno);
		close(rfd);
		return;
	}
	FZ_COUNT(maps);
	head = (volatile uint32_t *)(p + rs.head_offset);
	tail = (volatile uint32_t *)(p + rs.tail_offset);
	for (unsigned int i = 0; i < steps; i++) {
		struct msgbox_msg m = {
			.type = 1 + Rn(w, 2),
			.flags = MSGBOX_MSG_NONBLOCK,
		};
		uint32_t ret = 0;
		long r;

		switch (Rn(w, 6)) {
		case 0:
		case 1:		/* a send, large ones from the sender's pages */
			m.len = Rn(w, 4) ? Rn(w, 300) : 16384 + Rn(w, 49152);
			m.data = (uintptr_t)w->region;
			r = ioctl(fd, MSGBOX_IOC_SEND, &m);
			fz_check(w, "SEND (ring)", r, errno);
			break;
		case 2:		/* consume everything */
			__atomic_store_n(head, __atomic_load_n(tail, __ATOMIC_ACQUIRE),
					 __ATOMIC_RELEASE);
			break;
		case 3:		/* a head of anything */
			*head = (uint32_t)PICK(w, 0, *tail + 8, *head - 8, R(w));
			break;
		case 4:
			r = ioctl(rfd, MSGBOX_IOC_RING_ENTER, &ret);
			fz_check(w, "RING_ENTER", r, errno);
			break;
		default: {	/* what the ring cannot hold, or a poll */
			struct pollfd pf = { .fd = rfd, .events = POLLIN };

			if (Rn(w, 2)) {
				m.type = rs.type;
				m.flags |= MSGBOX_MSG_RING |
					   (rs.flags & MSGBOX_MSG_EXCEPT);
				m.len = 65536;
				m.data = (uintptr_t)w->region;
				r = ioctl(fd, MSGBOX_IOC_RECV, &m);
				fz_check(w, "RECV (ring)", r, errno);
			} else {
				r = poll(&pf, 1, 0);
				fz_check(w, "poll (ring)", r, errno);
			}
			break;
		}
		}
	}
	/* The mapping outlives what it holds, or not. */
	fz_hold_map(w, keep, p, rs.mmap_size);
	if (Rn(w, 2)) {
		fz_keep(w, slot, rfd);
		w->ring_size[slot] = rs.mmap_size;
	} else {
		close(rfd);
	}
}

/* Completion errors: the ioctls', io_uring's own, and cancellation's. */
static bool fz_cqe_ok(int res)
{
	return res >= 0 || fz_errno_ok(-res) || res == -ECANCELED ||
	       res == -EALREADY;
}

/* Reap what has completed; wait up to a few ms for more sometimes. */
static void fz_reap(struct fz_worker *w)
{
	struct io_uring_cqe *cqe;
	int r;

	if (!Rn(w, 3)) {
		struct __kernel_timespec ts = { 0, 1000000 * (1 + Rn(w, 5)) };

		r = io_uring_wait_cqe_timeout(&w->uring, &cqe, &ts);
		if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN)
			fz_check(w, "io_uring_wait_cqe_timeout", -1, -r);
	}
	/*
	 * At most the CQ ring's size at a time: a hostile pointer handed to
	 * the kernel may have overwritten the ring's tail with anything.
	 */
	for (unsigned int n = 0; n < w->uring.cq.ring_entries &&
	     io_uring_peek_cqe(&w->uring, &cqe) == 0; n++) {
		FZ_COUNT(cqes);
		if (cqe->res >= 0)
			FZ_COUNT(cqes_ok);
		else if (cqe->res == -ECANCELED)
			FZ_COUNT(cancelled);
		if (cqe->res < 0)
			__atomic_add_fetch(&fz->eh_cqe[-cqe->res & 255], 1,
					   __ATOMIC_RELAXED);
		if (!fz_cqe_ok(cqe->res)) {
			fprintf(stderr, "# fuzz: worker %d: CQE %#llx: res %d\n",
				w->idx, (unsigned long long)cqe->user_data,
				cqe->res);
			fz_check(w, "io_uring completion", -1, -cqe->res);
		}
		io_uring_cqe_seen(&w->uring, cqe);
	}
}

/* One SQE: a msgbox command, a read or write, a poll, or a cancel. */
static void fz_sqe(struct fz_worker *w, struct io_uring_sqe *sqe)
{
	static const unsigned int ops[] = {
		MSGBOX_IOC_SEND, MSGBOX_IOC_RECV, MSGBOX_IOC_CALL,
		MSGBOX_IOC_REPLY, MSGBOX_IOC_REPLY_RECV, MSGBOX_IOC_ACK,
		MSGBOX_IOC_SEND_BATCH, MSGBOX_IOC_RECV_BATCH,
	};
	unsigned int kind = Rn(w, 10), op = ops[Rn(w, sizeof(ops) / sizeof(ops[0]))];
	char *a = w->uargs + Rn(w, FZ_UARGS) * FZ_UARG_SIZE;
	int fd = fz_fd(w);
	uint64_t len = fz_len(w), p = fz_ptr(w, len);

	if (kind < 6) {			/* a command */
		const struct fz_cmd *c = fz_cmds;
		struct msgbox_uring_cmd uc = { 0 };

		while (c->cmd != op)
			c++;
		memset(a, 0, FZ_UARG_SIZE);
		fz_fill(w, c, a);
		uc.arg = Rn(w, 16) ? (uintptr_t)a : fz_ptr(w, c->size);
		uc.tag = PICK(w, 0, 1, 2, 3, R(w));
		uc.__pad = Rn(w, 16) ? 0 : R(w);
		if (kind == 5) {	/* cancel, unknown or misdirected */
			op = PICK(w, MSGBOX_UCMD_CANCEL, MSGBOX_UCMD_CANCEL,
				  MSGBOX_IOC_INFO, MSGBOX_IOC_CREATE, R(w));
			if (op == MSGBOX_UCMD_CANCEL && Rn(w, 2))
				uc.arg = 0;
		}
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
		sqe->cmd_op = op;
		memcpy(sqe->cmd, &uc, sizeof(uc));
		if (!Rn(w, 16))
			sqe->uring_cmd_flags = (uint32_t)R(w);
	} else if (kind < 8) {
		if (kind == 6)
			io_uring_prep_read(sqe, fd, (void *)(uintptr_t)p, len, 0);
		else
			io_uring_prep_write(sqe, fd, (void *)(uintptr_t)p, len, 0);
	} else if (kind == 8) {
		io_uring_prep_poll_add(sqe, fd, PICK(w, POLLIN, POLLOUT,
						     POLLIN | POLLOUT));
	} else {			/* io_uring's cancel: one, or all on an fd */
		if (Rn(w, 2)) {
			io_uring_prep_cancel64(sqe, Rn(w, 64), 0);
		} else {
			io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
		}
	}
	sqe->user_data = Rn(w, 64);
	if (!Rn(w, 8))
		sqe->flags |= IOSQE_ASYNC;
	if (w->verbose)
		fprintf(stderr, "# w%d %llu sqe op %u cmd %#x fd %d\n", w->idx,
			w->nops, sqe->opcode, kind < 6 ? op : 0, fd);
}

/*
 * io_uring: submit one to four SQEs, reap, and now and then tear the ring
 * down with whatever is still parked on it.
 */
static void fz_uring(struct fz_worker *w)
{
	unsigned int n = 1 + Rn(w, 4);
	int r;

	if (!w->uring_up) {
		if (io_uring_queue_init(16, &w->uring, 0) < 0)
			return;		/* no io_uring here: nothing to fuzz */
		w->uring_up = true;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&w->uring);

		if (!sqe)
			break;
		fz_sqe(w, sqe);
	}
	fz_timer(w);
	r = io_uring_submit(&w->uring);
	if (r < 0 && r != -EBUSY && r != -EAGAIN && r != -EINTR)
		fz_check(w, "io_uring_submit", -1, -r);
	fz_reap(w);
	fz_untimer();
	if (!Rn(w, 32)) {
		io_uring_queue_exit(&w->uring);
		w->uring_up = false;
	}
}

/* A child that does a few things and is killed, or exits, meanwhile. */
static void fz_child(struct fz_worker *w, int depth)
{
	uint64_t seed = R(w);
	unsigned int delay = Rn(w, 20000), nops = 1 + Rn(w, 8);
	pid_t pid;
	int st;

	if (depth)
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		w->rng = seed;
		w->uring_up = false;	/* the parent's ring is the parent's */
		for (unsigned int i = 0; i < nops; i++)
			fz_op(w, depth + 1);
		_exit(0);
	}
	usleep(delay);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* Open shared mailbox @i (a queue, a channel, a topic) into slot @i. */
static void fz_open_shared(struct fz_worker *w, int i)
{
	struct msgbox_open o = { .fd_flags = MSGBOX_FD_RECV | MSGBOX_FD_SEND };

	strcpy(o.name, fz->names[i]);
	w->fds[i] = ioctl(w->ctl, MSGBOX_IOC_OPEN, &o);
	w->ring_size[i] = 0;
}

static void fz_op(struct fz_worker *w, int depth)
{
	unsigned int k = Rn(w, 100), shared = Rn(w, 3);
	int slot = Rn(w, FZ_NFD), slot2 = Rn(w, FZ_NFD);

	w->nops++;
	/*
	 * Closes, kills and descriptors opened without rights empty the
	 * slots: open a shared mailbox again, or most operations would only
	 * ever meet EBADF.
	 */
	if (w->fds[shared] < 0 && depth == 0)
		fz_open_shared(w, shared);
	if (k < 52) {
		fz_ioctl(w);
	} else if (k < 64) {
		fz_rw(w);
	} else if (k < 70) {
		fz_poll(w);
	} else if (k < 80) {
		if (fz->uring)
			fz_uring(w);
		else
			fz_rw(w);
	} else if (k < 82) {
		fz_map(w);
	} else if (k < 84) {
		fz_ring(w);
	} else if (k < 89) {
		if (w->fds[slot] >= 0)
			close(w->fds[slot]);
		w->fds[slot] = -1;
		w->ring_size[slot] = 0;
	} else if (k < 92) {
		int d = dup(w->fds[slot]);

		if (d >= 0)
			fz_keep(w, slot2, d);
	} else if (k < 96) {
		fz_child(w, depth);
	} else {
		usleep(Rn(w, 2000));
	}
}

static void fz_worker_main(struct fz_worker *w)
{
	struct sigaction sa = { .sa_handler = fz_alarm };	/* no SA_RESTART */
	char *p;

	sigaction(SIGALRM, &sa, NULL);
	p = mmap(NULL, FZ_REGION + 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	/*
	 * Guard pages stay reserved (PROT_NONE), never unmapped: a later
	 * mapping (a ring, io_uring's own) must not land where hostile
	 * pointers are aimed.
	 */
	mprotect(p + FZ_REGION, 4096, PROT_NONE);
	w->region = p;
	p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	mprotect(p + 4096, 4096, PROT_NONE);
	w->argpage = p;
	w->ropage = p + 2 * 4096;
	mprotect(w->ropage, 4096, PROT_READ);
	p = mmap(NULL, FZ_UARGS * FZ_UARG_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	w->uargs = p;
	w->ctl = open(MSGBOX_DEVICE, O_RDWR);
	if (w->ctl < 0)
		_exit(3);
	w->efd = eventfd(0, EFD_NONBLOCK);
	if (w->efd < 0)
		_exit(3);
	for (int i = 0; i < FZ_NFD; i++)
		w->fds[i] = -1;
	/* Start with the shared mailboxes at hand. */
	for (int i = 0; i < 3; i++)
		fz_open_shared(w, i);
	while (!fz->stop) {
		fz_op(w, 0);
		fz->ops[w->idx] = w->nops;
	}
	_exit(0);
}

static pid_t fz_spawn(const struct fuzz_opts *o, int idx, unsigned int gen)
{
	struct fz_worker w;
	pid_t pid;

	memset(&w, 0, sizeof(w));
	w.idx = idx;
	w.verbose = o->verbose;
	/* Seed, worker and generation: each stream stands alone. */
	w.rng = o->seed ^ (0x51afd7ed558ccd00ull * (idx + 1)) ^
		(0xc4ceb9fe1a85ec53ull * gen);
	fz_next(&w.rng);
	pid = fork();
	if (pid == 0)
		fz_worker_main(&w);
	if (pid > 0)
		fz->pids[idx] = pid;
	return pid;
}

static bool fz_param(const char *name, unsigned long long *val, bool set)
{
	char path[128];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/module/msgbox/parameters/%s", name);
	f = fopen(path, set ? "w" : "r");
	if (!f)
		return false;
	ok = set ? fprintf(f, "%llu\n", *val) > 0 : fscanf(f, "%llu", val) == 1;
	return (fclose(f) == 0) && ok;
}

/* The names /proc/msgbox lists, one per line between newlines. */
static char *fz_list_names(void)
{
	char line[512], *list = strdup("\n");
	FILE *f = fopen("/proc/msgbox", "r");

	while (f && list && fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, " "), len = strlen(list);
		char *l;

		if (!strncmp(line, "name ", 5) || n >= MSGBOX_NAME_MAX)
			continue;	/* the header */
		l = realloc(list, len + n + 2);
		if (!l)
			break;
		list = l;
		memcpy(list + len, line, n);
		strcpy(list + len + n, "\n");
	}
	if (f)
		fclose(f);
	return list;
}

/*
 * Destroy the run's names, and any other that was not there before it
 * (@before, from fz_list_names()): workers also create names of their
 * own (long ones, or whatever bytes a received payload left in an
 * argument).  Returns how many of those there were.
 */
static unsigned int fz_destroy_all(int ctl, const char *before)
{
	unsigned int strays = 0;
	char *now, *name, *save = NULL;

	for (int i = 0; i < 3 + FZ_NAMES; i++) {
		struct msgbox_open o = { 0 };

		strcpy(o.name, fz->names[i]);
		ioctl(ctl, MSGBOX_IOC_DESTROY, &o);
	}
	now = before ? fz_list_names() : NULL;
	for (name = now ? strtok_r(now, "\n", &save) : NULL; name;
	     name = strtok_r(NULL, "\n", &save)) {
		struct msgbox_open o = { 0 };
		char key[MSGBOX_NAME_MAX + 2];

		snprintf(key, sizeof(key), "\n%s\n", name);
		if (strstr(before, key))
			continue;
		strcpy(o.name, name);
		if (ioctl(ctl, MSGBOX_IOC_DESTROY, &o) == 0)
			strays++;
	}
	free(now);
	return strays;
}

static uint64_t fz_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* The five errnos seen most often, for tuning the generators. */
static void fz_print_errnos(const char *what, const unsigned long long *h)
{
	bool done[256] = { false };

	printf("# fuzz: most frequent errnos of %s:", what);
	for (int k = 0; k < 5; k++) {
		int best = 0;

		for (int e = 1; e < 256; e++)
			if (!done[e] && h[e] > h[best])
				best = e;
		if (!h[best])
			break;
		done[best] = true;
		printf(" %s %llu", strerrorname_np(best) ?: "?", h[best]);
	}
	printf("\n");
}

/* Run the fuzzer; 0 if every oracle held, fills @res either way. */
static int fuzz_run(const struct fuzz_opts *o, struct fuzz_result *res)
{
	static const char *const lowered[] = { "max_msg_size", "max_mailbox_bytes" };
	unsigned long long saved[2], low[2] = { 65536, 1 << 20 }, before = 0, after = 0;
	unsigned int workers = o->workers ? o->workers : 4;
	unsigned int gen[FZ_WORKERS_MAX] = { 0 };
	unsigned long long killed_ops = 0;
	uint64_t prng = o->seed ^ 0x7061726e74ull, t0 = fz_now_ms();
	struct msgbox_create c;
	int ctl, shared[3], st;
	unsigned int strays;
	char *names_before;

	memset(res, 0, sizeof(*res));
	if (workers > FZ_WORKERS_MAX)
		workers = FZ_WORKERS_MAX;
	fz = mmap(NULL, sizeof(*fz), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fz == MAP_FAILED)
		return -1;
	memset((void *)fz, 0, sizeof(*fz));
	fz->uring = o->uring;
	ctl = open(MSGBOX_DEVICE, O_RDWR);
	if (ctl < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (!fz_param(lowered[i], &saved[i], false) ||
		    !fz_param(lowered[i], &low[i], true))
			return -1;
	}
	for (int i = 0; i < 3 + FZ_NAMES; i++)
		snprintf(fz->names[i], MSGBOX_NAME_MAX, "fz-%d-%d", (int)getpid(), i);
	fz_destroy_all(ctl, NULL);
	names_before = fz_list_names();
	if (!names_before)
		return -1;
	fz_param("total_mailboxes", &before, false);

	/* A queue, a rendezvous channel and a topic, open to all. */
	for (int i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		c.max_msgs = i == 1 ? 0 : 8;
		c.max_msg_size = 256;
		c.max_bytes = i == 1 ? 0 : 1024;
		c.fd_flags = MSGBOX_FD_RECV | MSGBOX_FD_SEND;
		c.flags = i == 2 ? MSGBOX_CREATE_TOPIC : 0;
		c.mode = 0666;
		strcpy(c.name, fz->names[i]);
		shared[i] = ioctl(ctl, MSGBOX_IOC_CREATE, &c);
		if (shared[i] < 0)
			return -1;
	}

	printf("# fuzz: seed %llu, %u workers, budget %llu ops or %u s\n",
	       o->seed, workers, o->ops, o->secs);
	fflush(stdout);
	for (unsigned int i = 0; i < workers; i++)
		fz_spawn(o, i, 0);

	for (;;) {
		unsigned long long ops = killed_ops;
		unsigned int i;

		for (i = 0; i < workers; i++)
			ops += fz->ops[i];
		res->ops = ops;
		if (ops >= o->ops || fz_now_ms() - t0 >= o->secs * 1000ull)
			break;
		usleep(10000 + fz_next(&prng) % 90000);
		/* Now and then a worker dies in the middle of something. */
		if (fz_next(&prng) % 4)
			continue;
		i = fz_next(&prng) % workers;
		kill(fz->pids[i], SIGKILL);
		if (waitpid(fz->pids[i], &st, 0) == fz->pids[i] &&
		    !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
			fprintf(stderr, "# fuzz: worker %u ended with status %#x before its kill\n",
				i, st);
			res->bad_deaths++;
		}
		res->kills++;
		killed_ops += fz->ops[i];	/* its successor counts anew */
		fz->ops[i] = 0;
		fz_spawn(o, i, ++gen[i]);
	}
	fz->stop = 1;

	/* Every worker must notice and exit within a few seconds. */
	for (unsigned int i = 0; i < workers; i++) {
		uint64_t t1 = fz_now_ms();
		pid_t r;

		while ((r = waitpid(fz->pids[i], &st, WNOHANG)) == 0 &&
		       fz_now_ms() - t1 < 20000)
			usleep(10000);
		if (r == 0) {
			fprintf(stderr, "# fuzz: worker %u did not stop\n", i);
			fz_dump_stuck(fz->pids[i]);
			res->stuck++;
			kill(fz->pids[i], SIGKILL);
			waitpid(fz->pids[i], &st, 0);
		} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "# fuzz: worker %u ended with status %#x\n", i, st);
			res->bad_deaths++;
		}
	}
	res->bad_errno = fz->bad_errno;
	res->rings = fz->rings;
	res->maps = fz->maps;
	res->cqes = fz->cqes;
	res->cqes_ok = fz->cqes_ok;
	res->cancelled = fz->cancelled;
	res->ops = killed_ops;
	for (unsigned int i = 0; i < workers; i++)
		res->ops += fz->ops[i];
	for (int i = 0; i < 3; i++)
		close(shared[i]);
	strays = fz_destroy_all(ctl, names_before);
	free(names_before);
	close(ctl);
	for (int i = 0; i < 2; i++)
		fz_param(lowered[i], &saved[i], true);
	/*
	 * io_uring drops what its requests held (their files, so mailboxes)
	 * from a work item after its owner died: give that a few seconds.
	 */
	for (int i = 0; i < 100; i++) {
		fz_param("total_mailboxes", &after, false);
		if (after == before)
			break;
		usleep(50000);
	}
	res->leaked = (long long)after - (long long)before;
	printf("# fuzz: seed %llu: %llu ops, %u kills, %u unexpected errnos, %u bad deaths, %u stuck, %lld mailboxes leaked, %llu ms\n",
	       o->seed, res->ops, res->kills, res->bad_errno, res->bad_deaths,
	       res->stuck, res->leaked, (unsigned long long)(fz_now_ms() - t0));
	printf("# fuzz: %llu rings set up, %llu mappings, %llu io_uring completions (%llu succeeded, %llu cancelled), %u names of their own destroyed\n",
	       res->rings, res->maps, res->cqes, res->cqes_ok, res->cancelled,
	       strays);
	fz_print_errnos("system calls", fz->eh_sys);
	fz_print_errnos("completions", fz->eh_cqe);
	fflush(stdout);
	munmap((void *)fz, sizeof(*fz));
	return res->bad_errno || res->bad_deaths || res->stuck || res->leaked ? 1 : 0;
}

#ifndef MSGBOX_FUZZ_LIB
int main(int argc, char **argv)
{
	struct fuzz_opts o = { .ops = 100000, .secs = 30, .workers = 4 };
	struct fuzz_result res;
	int c;

	o.seed = (unsigned long long)time(NULL);
	while ((c = getopt(argc, argv, "s:n:t:p:uv")) != -1) {
		switch (c) {
		case 's': o.seed = strtoull(optarg, NULL, 0); break;
		case 'n': o.ops = strtoull(optarg, NULL, 0); break;
		case 't': o.secs = strtoul(optarg, NULL, 0); break;
		case 'p': o.workers = strtoul(optarg, NULL, 0); break;
		case 'u': o.uring = true; break;
		case 'v': o.verbose = true; break;
		default:
			fprintf(stderr, "usage: %s [-s seed] [-n ops] [-t secs] [-p workers] [-u] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	c = fuzz_run(&o, &res);
	if (c < 0)
		perror("msgbox-fuzz: setup");
	return c ? 1 : 0;
}
#endif
