// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: stress and ordering.  Producers and consumers in
 * separate processes on several mailboxes; every message carries its
 * sender, a sequence number, its mailbox and a checksum over the whole
 * payload.  Consumers verify every message (no corruption), record it in
 * a shared table (no loss, no duplicate: each one exactly once) and check
 * per-sender order: what one consumer takes from one sender in one
 * priority and type comes in increasing sequence.
 *
 * In ack mode the consumers are SIGKILLed at random and replaced: a
 * message in flight at a kill is redelivered, so nothing is lost; a
 * message is recorded twice only if its first consumer died between
 * recording and acknowledging it, so duplicates never exceed the kills,
 * and a duplicate always arrives marked as a redelivery.
 */
#include "msgbox_test.h"

#define BOXES		3
#define PRODUCERS	4
#define CONSUMERS	4
#define MAXSEQ		4096
#define PAYLOAD_MAX	64

struct smsg {
	__u32 sender;
	__u32 seq;
	__u32 box;
	__u32 len;		/* payload bytes, this header included */
	__u64 sum;
	unsigned char fill[PAYLOAD_MAX - 24];
};

/* Shared by every process of a test (MAP_SHARED). */
struct stab {
	int done;			/* producers finished */
	int errors;			/* corruption, order, duplicates */
	int checked;			/* messages verified */
	int dups;			/* recorded twice (ack mode) */
	unsigned char seen[PRODUCERS][MAXSEQ];
};

FIXTURE(st) {
	char name[BOXES][40];
	struct stab *t;
};

FIXTURE_SETUP(st)
{
	self->t = MAP_FAILED;
	for (int i = 0; i < BOXES; i++)
		snprintf(self->name[i], sizeof(self->name[i]), "ksft-st-%d-%d",
			 (int)getpid(), i);
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	self->t = mmap(NULL, sizeof(*self->t), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->t);
	for (int i = 0; i < BOXES; i++) {
		int fd = mb_create(self->name[i], 16, PAYLOAD_MAX, 16 * PAYLOAD_MAX, MB_RW);

		ASSERT_LE(0, fd);
		close(fd);
	}
}

FIXTURE_TEARDOWN_PARENT(st)
{
	for (int i = 0; i < BOXES; i++)
		EXPECT_EQ(0, mb_destroy_quiet(self->name[i]));
}

static __u64 ssum(const struct smsg *m)
{
	const unsigned char *p = (const void *)m;
	__u64 h = 1469598103934665603ull;

	for (size_t i = 0; i < m->len; i++)
		if (i < offsetof(struct smsg, sum) || i >= offsetof(struct smsg, fill))
			h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Priority and type follow from the sequence number. */
static unsigned int prio_of(unsigned int seq) { return (seq / 7) % 3; }
static unsigned int type_of(unsigned int seq) { return 1 + (seq / 5) % 2; }

static void produce(char (*names)[40], unsigned int sender, unsigned int n)
{
	int fds[BOXES];

	for (int b = 0; b < BOXES; b++) {
		fds[b] = msgbox_open(names[b], MSGBOX_FD_SEND);
		CHILD_CHECK(fds[b] >= 0, 2);
	}
	for (unsigned int seq = 0; seq < n; seq++) {
		struct smsg m;
		struct msgbox_msg mm;
		unsigned int b = (seq * 7 + sender) % BOXES;

		memset(&m, 0, sizeof(m));
		m.sender = sender;
		m.seq = seq;
		m.box = b;
		m.len = 24 + (seq * 13 + sender) % (sizeof(m.fill) + 1);
		for (size_t i = 0; i < m.len - 24; i++)
			m.fill[i] = mb_pattern(seq, i + sender);
		m.sum = ssum(&m);
		memset(&mm, 0, sizeof(mm));
		mm.data = (uintptr_t)&m;
		mm.len = m.len;
		mm.type = type_of(seq);
		mm.priority = prio_of(seq);
		mm.flags = MSGBOX_MSG_TIMEOUT;
		mm.timeout_ns = MB_WAIT_MS * 1000000ull;
		CHILD_CHECK(msgbox_sendmsg(fds[b], &mm) == 0, 3);
	}
	_exit(0);
}

/*
 * Take messages from mailbox @box until the producers are done and it
 * stays empty.  @ack: acknowledged delivery (record, then ack).
 */
static void consume(char (*names)[40], struct stab *t, unsigned int box,
		    bool ack)
{
	/* Last sequence seen per sender, priority and type (first delivery). */
	int last[PRODUCERS][3][2];
	int fd = msgbox_open(names[box], MSGBOX_FD_RECV);

	CHILD_CHECK(fd >= 0, 2);
	memset(last, 0xff, sizeof(last));
	for (;;) {
		struct msgbox_msg mm;
		struct smsg m;
		bool bad;

		memset(&m, 0, sizeof(m));
		memset(&mm, 0, sizeof(mm));
		mm.data = (uintptr_t)&m;
		mm.len = sizeof(m);
		mm.flags = MSGBOX_MSG_TIMEOUT | (ack ? MSGBOX_MSG_ACK : 0);
		mm.timeout_ns = 200 * 1000000ull;
		if (msgbox_recvmsg(fd, &mm)) {
			CHILD_CHECK(errno == ETIMEDOUT, 3);
			if (__atomic_load_n(&t->done, __ATOMIC_SEQ_CST))
				_exit(0);
			continue;
		}
		bad = mm.len != m.len || m.len < 24 || m.sum != ssum(&m) ||
		      m.sender >= PRODUCERS || m.seq >= MAXSEQ || m.box != box ||
		      mm.type != (__s64)type_of(m.seq) ||
		      mm.priority != prio_of(m.seq);
		if (bad) {
			fprintf(stderr, "# corrupt message in box %u: len %llu/%u sender %u seq %u\n",
				box, (unsigned long long)mm.len, m.len, m.sender, m.seq);
			__atomic_add_fetch(&t->errors, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (mm.deliveries == 1) {
			int *l = &last[m.sender][prio_of(m.seq)][type_of(m.seq) - 1];

			if ((int)m.seq <= *l) {
				fprintf(stderr, "# order: sender %u seq %u after %d\n",
					m.sender, m.seq, *l);
				__atomic_add_fetch(&t->errors, 1, __ATOMIC_SEQ_CST);
			}
			*l = m.seq;
		}
		if (__atomic_fetch_add(&t->seen[m.sender][m.seq], 1, __ATOMIC_SEQ_CST)) {
			__atomic_add_fetch(&t->dups, 1, __ATOMIC_SEQ_CST);
			/* Only a redelivery may repeat a message. */
			if (mm.deliveries < 2) {
				fprintf(stderr, "# duplicate: sender %u seq %u\n",
					m.sender, m.seq);
				__atomic_add_fetch(&t->errors, 1, __ATOMIC_SEQ_CST);
			}
		}
		__atomic_add_fetch(&t->checked, 1, __ATOMIC_SEQ_CST);
		if (ack)
			CHILD_CHECK(msgbox_ack(fd, mm.id) == 0, 4);
	}
}

static pid_t spawn_consumer(FIXTURE_DATA(st) *self, unsigned int c, bool ack)
{
	pid_t pid = fork();

	if (pid == 0)
		consume(self->name, self->t, c % BOXES, ack);
	return pid;
}

static void run(struct __test_metadata *_metadata, FIXTURE_DATA(st) *self,
		unsigned int n, bool ack)
{
	pid_t prod[PRODUCERS], cons[CONSUMERS];
	unsigned int kills = 0, lost = 0;
	int status;
	__u64 rnd = 0x2545f4914f6cdd1dull ^ getpid();

	for (unsigned int c = 0; c < CONSUMERS; c++) {
		cons[c] = spawn_consumer(self, c, ack);
		ASSERT_LE(0, cons[c]);
	}
	for (unsigned int p = 0; p < PRODUCERS; p++) {
		prod[p] = fork();
		ASSERT_LE(0, prod[p]);
		if (prod[p] == 0)
			produce(self->name, p, n);
	}
	/* Ack mode: kill consumers at random while the producers run. */
	for (unsigned int p = 0; p < PRODUCERS; p++) {
		while (ack && !mb_exited(prod[p], &status)) {
			unsigned int c;

			rnd ^= rnd << 13; rnd ^= rnd >> 7; rnd ^= rnd << 17;
			mb_sleep_ms(5 + rnd % 40);
			c = (rnd >> 20) % CONSUMERS;
			kill(cons[c], SIGKILL);
			EXPECT_EQ(128 + SIGKILL, mb_reap(cons[c], MB_WAIT_MS));
			kills++;
			cons[c] = spawn_consumer(self, c, ack);
			ASSERT_LE(0, cons[c]);
		}
		if (!ack)
			status = mb_reap(prod[p], 4 * MB_WAIT_MS);
		EXPECT_EQ(0, status);
	}
	__atomic_store_n(&self->t->done, 1, __ATOMIC_SEQ_CST);
	for (unsigned int i = 0; i < CONSUMERS; i++) {
		int rc = mb_reap(cons[i], 4 * MB_WAIT_MS);

		EXPECT_EQ(0, rc) TH_LOG("consumer %u", i);
	}

	for (unsigned int p = 0; p < PRODUCERS; p++)
		for (unsigned int s = 0; s < n; s++)
			if (!self->t->seen[p][s]) {
				if (lost++ < 5)
					TH_LOG("lost: sender %u seq %u", p, s);
			} else if (!ack && self->t->seen[p][s] > 1) {
				TH_LOG("duplicate: sender %u seq %u", p, s);
			}
	for (int b = 0; b < BOXES; b++) {
		struct msgbox_info info;
		int fd = msgbox_open(self->name[b], MSGBOX_FD_RECV);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, msgbox_info(fd, &info));
		EXPECT_EQ(0, info.nr_msgs);
		EXPECT_EQ(0, info.in_flight);
		close(fd);
	}
	printf("# stress%s: %d messages checked, %d duplicates after %u kills\n",
	       ack ? " (ack mode)" : "", self->t->checked, self->t->dups, kills);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, self->t->errors);
	if (ack) {
		EXPECT_LE(self->t->dups, (int)kills);
		EXPECT_LT(0, kills);
	} else {
		EXPECT_EQ(0, self->t->dups);
		EXPECT_EQ(PRODUCERS * n, (unsigned int)self->t->checked);
	}
}

TEST_F_TIMEOUT(st, producers_and_consumers_lose_duplicate_corrupt_or_reorder_nothing, 300)
{
	run(_metadata, self, 1500, false);
}

TEST_F_TIMEOUT(st, ack_mode_loses_nothing_with_consumers_killed_at_random, 300)
{
	run(_metadata, self, 800, true);
}

TEST_HARNESS_MAIN
