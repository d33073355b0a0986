// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox-fuzz: a seeded, bounded fuzzer for /dev/msgbox.
 *
 *   msgbox-fuzz [-s SEED] [-n OPS] [-t SECONDS] [-p WORKERS] [-v]
 *
 * Several worker processes issue random and boundary-valued operations
 * against a few shared mailboxes (a queue, a rendezvous channel, a topic)
 * and whatever they create themselves: every ioctl with structure-aware
 * arguments (boundary limits, random flags, bad pointers, structures
 * straddling an unmapped page), the same ioctl numbers with other sizes
 * and directions, unknown numbers, read, write, poll, close, dup, and
 * short-lived children killed in the middle of what they do.  A one-shot
 * timer interrupts every blocking call.  The parent SIGKILLs and respawns
 * workers at random.
 *
 * Same seed, same sequence: each worker draws everything from its own
 * generator, seeded from the seed, its index and its generation, and
 * draws the same numbers whatever the calls return, so a seed replays the
 * same operations (their outcomes depend on timing).  The run ends after
 * OPS operations or SECONDS, whichever comes first.
 *
 * Oracles: every errno must be one the ABI documents (an internal one like
 * ERESTARTSYS leaking out fails the run); no worker may die other than by
 * the parent's SIGKILL; every worker must exit when told to; afterwards
 * the module's mailbox count (total_mailboxes) must be back where it
 * was, so nothing leaked a mailbox or its charge.  The kernel's own
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
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/msgbox.h>

#define FZ_WORKERS_MAX	16
#define FZ_NFD		16	/* descriptor slots per worker */
#define FZ_REGION	(4u << 20)	/* payload area: max_msg_size fits */
#define FZ_NAMES	8	/* names workers create and destroy */

struct fuzz_opts {
	unsigned long long seed;
	unsigned long long ops;		/* total budget, all workers */
	unsigned int secs;		/* time budget */
	unsigned int workers;
	bool verbose;
};

struct fuzz_result {
	unsigned long long ops;
	unsigned int kills;
	unsigned int bad_errno;
	unsigned int bad_deaths;
	unsigned int stuck;
	long long leaked;		/* mailboxes left over */
};

/* Shared between the parent and the workers (MAP_SHARED). */
struct fz_shared {
	volatile int stop;
	volatile unsigned long long ops[FZ_WORKERS_MAX];
	volatile unsigned int bad_errno;
	volatile pid_t pids[FZ_WORKERS_MAX];
	char names[3 + FZ_NAMES][MSGBOX_NAME_MAX];
};

static struct fz_shared *fz;

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
	char *region;		/* FZ_REGION bytes, then an unmapped page */
	char *argpage;		/* a page, then an unmapped one */
	char *ropage;		/* a read-only page */
	int efd;		/* an eventfd, for NOTIFY */
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
	int s = Rn(w, FZ_NFD + 4);

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

/* Fill one struct msgbox_msg for a send, receive, reply or call. */
static void fz_msg(struct fz_worker *w, struct msgbox_msg *m)
{
	memset(m, 0, sizeof(*m));
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

/* Interrupt whatever the next call blocks in, after 1 to 20 ms. */
static void fz_timer(struct fz_worker *w)
{
	struct itimerval it = { .it_value = { 0, 1000 + Rn(w, 19000) } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void fz_untimer(void)
{
	struct itimerval it = { 0 };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void fz_op(struct fz_worker *w, int depth);

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
		for (unsigned int i = 0; i < nops; i++)
			fz_op(w, depth + 1);
		_exit(0);
	}
	usleep(delay);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static void fz_op(struct fz_worker *w, int depth)
{
	unsigned int k = Rn(w, 100);
	int slot = Rn(w, FZ_NFD), slot2 = Rn(w, FZ_NFD);

	w->nops++;
	if (k < 60) {
		fz_ioctl(w);
	} else if (k < 75) {
		fz_rw(w);
	} else if (k < 82) {
		fz_poll(w);
	} else if (k < 88) {
		if (w->fds[slot] >= 0)
			close(w->fds[slot]);
		w->fds[slot] = -1;
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
	munmap(p + FZ_REGION, 4096);
	w->region = p;
	p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	munmap(p + 4096, 4096);
	w->argpage = p;
	w->ropage = p + 2 * 4096;
	mprotect(w->ropage, 4096, PROT_READ);
	w->ctl = open(MSGBOX_DEVICE, O_RDWR);
	if (w->ctl < 0)
		_exit(3);
	w->efd = eventfd(0, EFD_NONBLOCK);
	if (w->efd < 0)
		_exit(3);
	for (int i = 0; i < FZ_NFD; i++)
		w->fds[i] = -1;
	/* Start with the shared mailboxes at hand. */
	for (int i = 0; i < 3; i++) {
		struct msgbox_open o = { .fd_flags = MSGBOX_FD_RECV | MSGBOX_FD_SEND };

		strcpy(o.name, fz->names[i]);
		w->fds[i] = ioctl(w->ctl, MSGBOX_IOC_OPEN, &o);
	}
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

static void fz_destroy_all(int ctl)
{
	for (int i = 0; i < 3 + FZ_NAMES; i++) {
		struct msgbox_open o = { 0 };

		strcpy(o.name, fz->names[i]);
		ioctl(ctl, MSGBOX_IOC_DESTROY, &o);
	}
}

static uint64_t fz_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
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

	memset(res, 0, sizeof(*res));
	if (workers > FZ_WORKERS_MAX)
		workers = FZ_WORKERS_MAX;
	fz = mmap(NULL, sizeof(*fz), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fz == MAP_FAILED)
		return -1;
	memset((void *)fz, 0, sizeof(*fz));
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
	fz_destroy_all(ctl);
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
			res->stuck++;
			kill(fz->pids[i], SIGKILL);
			waitpid(fz->pids[i], &st, 0);
		} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "# fuzz: worker %u ended with status %#x\n", i, st);
			res->bad_deaths++;
		}
	}
	res->bad_errno = fz->bad_errno;
	res->ops = killed_ops;
	for (unsigned int i = 0; i < workers; i++)
		res->ops += fz->ops[i];
	for (int i = 0; i < 3; i++)
		close(shared[i]);
	fz_destroy_all(ctl);
	close(ctl);
	for (int i = 0; i < 2; i++)
		fz_param(lowered[i], &saved[i], true);
	fz_param("total_mailboxes", &after, false);
	res->leaked = (long long)after - (long long)before;
	printf("# fuzz: seed %llu: %llu ops, %u kills, %u unexpected errnos, %u bad deaths, %u stuck, %lld mailboxes leaked, %llu ms\n",
	       o->seed, res->ops, res->kills, res->bad_errno, res->bad_deaths,
	       res->stuck, res->leaked, (unsigned long long)(fz_now_ms() - t0));
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
	while ((c = getopt(argc, argv, "s:n:t:p:v")) != -1) {
		switch (c) {
		case 's': o.seed = strtoull(optarg, NULL, 0); break;
		case 'n': o.ops = strtoull(optarg, NULL, 0); break;
		case 't': o.secs = strtoul(optarg, NULL, 0); break;
		case 'p': o.workers = strtoul(optarg, NULL, 0); break;
		case 'v': o.verbose = true; break;
		default:
			fprintf(stderr, "usage: %s [-s seed] [-n ops] [-t secs] [-p workers] [-v]\n",
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
