// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox-demo: several processes exchanging messages through /dev/msgbox,
 * one message-passing pattern after another.
 *
 * 1. Asynchronous sends:
 *      producers --(demo.jobs: 4 slots, so producers block)--> workers
 *      workers   --(demo.results)--> the parent, which waits with epoll
 *    Each worker prints who sent the job it took: the pid and uid the
 *    kernel stamped on the message.  The parent then destroys demo.jobs
 *    while the workers are blocked in receive, which wakes them with EIDRM.
 * 2. Rendezvous: on a channel of capacity 0 a sender waits for a receiver.
 * 3. Request/reply: clients call a pool of servers; each reply reaches its
 *    own caller.
 * 4. Publish/subscribe: two topics, subscribers to one or both.
 * 5. Acknowledged delivery: a worker dies (SIGKILL) holding messages it
 *    never acked; another worker gets them again, marked as redelivered.
 * 6. io_uring: one thread serves three mailboxes with receives parked in
 *    the kernel (no thread blocked per mailbox), and cancels the last
 *    ones when it is done.
 * 7. Notification and unlink, what mq_notify and mq_unlink do for POSIX
 *    queues: an eventfd is signalled once when the first message reaches
 *    the empty mailbox, and removing the name leaves the open descriptor
 *    working.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include "msgbox.h"
#include "msgbox_uring.h"

#define NR_PRODUCERS	3
#define NR_WORKERS	2
#define JOBS_EACH	5

static void die(const char *what)
{
	fprintf(stderr, "msgbox-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void producer(int id)
{
	int fd = msgbox_open("demo.jobs", MSGBOX_FD_SEND);
	char buf[64];
	int i;

	if (fd < 0)
		die("open demo.jobs");
	for (i = 1; i <= JOBS_EACH; i++) {
		int n = id * 10 + i;
		int len = snprintf(buf, sizeof(buf), "%d", n);

		if (msgbox_send(fd, buf, len, 0))
			die("send job");
		printf("producer %d (pid %d): sent job n=%d\n", id, getpid(), n);
		fflush(stdout);
	}
	exit(0);
}

static void worker(int id)
{
	int jobs = msgbox_open("demo.jobs", MSGBOX_FD_RECV);
	int results = msgbox_open("demo.results", MSGBOX_FD_SEND);
	char in[64], out[128];
	struct msgbox_msg m;

	if (jobs < 0 || results < 0)
		die("open");
	for (;;) {
		memset(&m, 0, sizeof(m));
		m.data = (unsigned long)in;
		m.len = sizeof(in) - 1;
		if (msgbox_recvmsg(jobs, &m)) {
			if (errno == EIDRM) {
				printf("worker %d (pid %d): demo.jobs destroyed, receive returned EIDRM, exiting\n",
				       id, getpid());
				exit(0);
			}
			die("recv job");
		}
		in[m.len] = '\0';
		int n = atoi(in);
		int len = snprintf(out, sizeof(out),
				   "worker %d: %d^2 = %d (job id %llu from pid %d uid %u)",
				   id, n, n * n, (unsigned long long)m.id,
				   m.sender_pid, m.sender_uid);
		if (msgbox_send(results, out, len, 0))
			die("send result");
	}
}

static void section(const char *title)
{
	printf("\n=== %s ===\n", title);
	fflush(stdout);
}

/* Wait for every child; any failure fails the demo. */
static void reap_all(int n)
{
	while (n--) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			die("a child failed");
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 2. A sender on an unbuffered channel waits until the receiver comes. */
static void demo_rendezvous(void)
{
	struct msgbox_attr attr;
	double t0 = now_s();
	char buf[64];
	int ch;

	section("rendezvous: a channel of capacity 0");
	msgbox_attr_init(&attr);
	attr.max_msgs = 0;
	attr.max_bytes = 0;
	ch = msgbox_create_anon(&attr, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
	if (ch < 0)
		die("create channel");
	if (fork() == 0) {
		printf("sender   (pid %d): sending, will wait for a receiver\n", getpid());
		fflush(stdout);
		if (msgbox_send(ch, "handshake", 9, 0))
			die("rendezvous send");
		printf("sender   (pid %d): handed over after %.2f s\n", getpid(),
		       now_s() - t0);
		fflush(stdout);
		exit(0);
	}
	usleep(300000);		/* the receiver arrives late on purpose */
	ssize_t n = msgbox_recv(ch, buf, sizeof(buf), 0);

	if (n < 0)
		die("rendezvous recv");
	printf("receiver (pid %d): got '%.*s' after %.2f s; nothing was ever queued\n",
	       getpid(), (int)n, buf, now_s() - t0);
	fflush(stdout);
	reap_all(1);
	close(ch);
}

/* 3. Three clients call two servers; every reply reaches its caller. */
static void demo_request_reply(void)
{
	int fd, i;

	section("request/reply: 3 clients, 2 servers");
	msgbox_destroy("demo.rpc");
	fd = msgbox_create("demo.rpc", NULL, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
	if (fd < 0)
		die("create demo.rpc");
	for (i = 0; i < 2; i++) {
		if (fork() == 0) {
			int s = msgbox_open("demo.rpc", MSGBOX_FD_RECV);
			char in[64], out[96];

			for (;;) {
				struct msgbox_msg m = { .data = (uintptr_t)in,
							.len = sizeof(in) };

				if (msgbox_recvmsg(s, &m))
					exit(errno == EIDRM ? 0 : 1);
				long v;

				in[m.len < sizeof(in) ? m.len : sizeof(in) - 1] = '\0';
				v = atol(in);
				int n = snprintf(out, sizeof(out), "%ld^2 = %ld, from server pid %d",
						 v, v * v, getpid());

				if (msgbox_reply(s, m.token, out, n))
					die("reply");
			}
		}
	}
	for (i = 0; i < 3; i++) {
		if (fork() == 0) {
			for (int j = 1; j <= 2; j++) {
				char req[32], rep[96];
				int n = snprintf(req, sizeof(req), "%d", 10 * (i + 1) + j);
				ssize_t r = msgbox_call(fd, req, n, rep, sizeof(rep),
							5000000000ULL);

				if (r < 0)
					die("call");
				printf("client %d (pid %d): call(%s) -> '%.*s'\n", i + 1,
				       getpid(), req, (int)r, rep);
				fflush(stdout);
			}
			exit(0);
		}
	}
	reap_all(3);
	msgbox_destroy("demo.rpc");	/* servers wake with EIDRM and exit */
	reap_all(2);
	close(fd);
}

/* A subscriber process: print @count publications from each of @fds. */
static void subscriber(const char *who, const int *fds, const char *const *topics,
		       int nfds, int count)
{
	struct epoll_event ev, got;
	int ep = epoll_create1(0), left = nfds * count, i;

	for (i = 0; i < nfds; i++) {
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev))
			die("epoll");
	}
	while (left) {
		char buf[64];
		ssize_t n;

		if (epoll_wait(ep, &got, 1, 10000) != 1)
			die("subscriber epoll_wait");
		n = msgbox_recv(fds[got.data.u32], buf, sizeof(buf), MSGBOX_MSG_NONBLOCK);
		if (n < 0)
			continue;
		printf("%-11s (pid %d) [%s] %.*s\n", who, getpid(),
		       topics[got.data.u32], (int)n, buf);
		fflush(stdout);
		left--;
	}
	exit(0);
}

/* 4. Two topics; one subscriber each, and one subscribed to both. */
static void demo_pubsub(void)
{
	static const char *const names[] = { "demo.weather", "demo.sports" };
	static const char *const topics[] = { "weather", "sports" };
	struct msgbox_attr attr;
	int t[2], sub[4], i;

	section("publish/subscribe: two topics, three subscribers");
	msgbox_attr_init(&attr);
	attr.flags = MSGBOX_CREATE_TOPIC;
	for (i = 0; i < 2; i++) {
		msgbox_destroy(names[i]);
		t[i] = msgbox_create(names[i], &attr, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
		if (t[i] < 0)
			die("create topic");
	}
	/* weather fan, sports fan, and a news junkie on both topics */
	for (i = 0; i < 4; i++) {
		sub[i] = msgbox_subscribe(t[i % 2], 0, MSGBOX_FD_RECV);
		if (sub[i] < 0)
			die("subscribe");
	}
	if (fork() == 0)
		subscriber("weather fan", &sub[0], &topics[0], 1, 2);
	if (fork() == 0)
		subscriber("sports fan", &sub[1], &topics[1], 1, 2);
	if (fork() == 0)
		subscriber("news junkie", &sub[2], topics, 2, 2);

	printf("publisher (pid %d): 2 weather and 2 sports items\n", getpid());
	fflush(stdout);
	if (msgbox_send(t[0], "sunny, 21 C", 11, 0) ||
	    msgbox_send(t[1], "3-1 at half time", 16, 0) ||
	    msgbox_send(t[0], "rain tonight", 12, 0) ||
	    msgbox_send(t[1], "final: 4-2", 10, 0))
		die("publish");
	reap_all(3);
	for (i = 0; i < 4; i++)
		close(sub[i]);
	for (i = 0; i < 2; i++) {
		msgbox_destroy(names[i]);
		close(t[i]);
	}
}

/* 5. A worker dies mid-message; nothing is lost. */
static void demo_ack(void)
{
	int fd, ready[2], i;
	pid_t doomed;
	char c;

	section("acknowledged delivery: a worker dies holding messages");
	msgbox_destroy("demo.tasks");
	fd = msgbox_create("demo.tasks", NULL, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
	if (fd < 0 || pipe(ready))
		die("create demo.tasks");
	for (i = 1; i <= 4; i++) {
		char task[16];
		int n = snprintf(task, sizeof(task), "task %d", i);

		if (msgbox_send(fd, task, n, 0))
			die("send task");
	}
	printf("queued 4 tasks\n");
	fflush(stdout);
	doomed = fork();
	if (doomed == 0) {
		int s = msgbox_open("demo.tasks", MSGBOX_FD_RECV);

		for (i = 0; i < 2; i++) {
			char buf[16];
			struct msgbox_msg m = { .data = (uintptr_t)buf, .len = sizeof(buf),
						.flags = MSGBOX_MSG_ACK };

			if (msgbox_recvmsg(s, &m))
				die("recv task");
			printf("worker A (pid %d): took '%.*s', working on it...\n",
			       getpid(), (int)m.len, buf);
			fflush(stdout);
		}
		if (write(ready[1], "r", 1) != 1)
			die("write");
		pause();
	}
	if (read(ready[0], &c, 1) != 1)
		die("read");
	kill(doomed, SIGKILL);
	waitpid(doomed, NULL, 0);
	printf("parent: killed worker A (SIGKILL) before it acked anything\n");
	fflush(stdout);
	if (fork() == 0) {
		int s = msgbox_open("demo.tasks", MSGBOX_FD_RECV);

		for (i = 0; i < 4; i++) {
			char buf[16];
			struct msgbox_msg m = { .data = (uintptr_t)buf, .len = sizeof(buf),
						.flags = MSGBOX_MSG_ACK };

			if (msgbox_recvmsg(s, &m))
				die("recv task");
			printf("worker B (pid %d): '%.*s' (delivery %u%s), done, acked\n",
			       getpid(), (int)m.len, buf, m.deliveries,
			       m.deliveries > 1 ? ", a redelivery" : "");
			fflush(stdout);
			if (msgbox_ack(s, m.id))
				die("ack");
		}
		exit(0);
	}
	reap_all(1);
	struct msgbox_info info;

	if (msgbox_info(fd, &info))
		die("info");
	printf("parent: demo.tasks: %llu redelivered, %u in flight, %u queued: nothing lost\n",
	       (unsigned long long)info.redelivered, info.in_flight, info.nr_msgs);
	msgbox_destroy("demo.tasks");
	close(fd);
}

/* 6. One io_uring event loop, three mailboxes, no thread per mailbox. */
#define RING_BOXES	3
#define RING_EACH	3

static void ring_client(int id)
{
	char name[32], buf[64];
	int fd, i;

	snprintf(name, sizeof(name), "demo.ring%d", id);
	fd = msgbox_open(name, MSGBOX_FD_SEND);
	if (fd < 0)
		die("open ring mailbox");
	for (i = 1; i <= RING_EACH; i++) {
		int len = snprintf(buf, sizeof(buf), "client %d message %d", id, i);

		usleep(20000 * (id + 1));
		if (msgbox_send(fd, buf, len, 0))
			die("send to ring mailbox");
	}
	exit(0);
}

static void demo_uring(void)
{
	struct msgbox_msg m[RING_BOXES];
	char in[RING_BOXES][64], name[32];
	struct msgbox_completion c[RING_BOXES];
	int fds[RING_BOXES], got = 0, i, n, level;
	struct msgbox_ring *r;

	section("6. io_uring: one thread, three mailboxes, receives parked in the kernel");
	for (i = 0; i < RING_BOXES; i++) {
		snprintf(name, sizeof(name), "demo.ring%d", i);
		fds[i] = msgbox_create(name, NULL, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
		if (fds[i] < 0)
			die("create ring mailbox");
	}
	level = msgbox_uring_level(fds[0]);
	if (level < 2) {
		printf("server: io_uring commands unavailable here (level %d): skipped\n",
		       level);
		goto out_close;
	}
	r = msgbox_ring_new(16, 0);
	if (!r)
		die("msgbox_ring_new");
	/* One receive parked per mailbox; the cookie says which. */
	for (i = 0; i < RING_BOXES; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].data = (uintptr_t)in[i];
		m[i].len = sizeof(in[i]) - 1;
		if (msgbox_ring_recv(r, fds[i], &m[i], 1, &m[i]))
			die("msgbox_ring_recv");
	}
	if (msgbox_ring_submit(r) < 0)
		die("msgbox_ring_submit");
	printf("server (pid %d): 3 receives parked, 0 threads blocked\n", getpid());
	fflush(stdout);
	for (i = 0; i < RING_BOXES; i++)
		if (fork() == 0)
			ring_client(i);
	while (got < RING_BOXES * RING_EACH) {
		n = msgbox_ring_wait(r, c, RING_BOXES, 1, 10000000000ull);
		if (n <= 0)
			die("msgbox_ring_wait");
		for (int k = 0; k < n; k++) {
			struct msgbox_msg *done = c[k].cookie;
			int box = done - m;

			if (c[k].result < 0) {
				errno = -c[k].result;
				die("ring receive");
			}
			in[box][c[k].result] = '\0';
			printf("server: demo.ring%d: '%s' (from pid %d)\n", box,
			       in[box], done->sender_pid);
			got++;
			/* Park the next receive on that mailbox. */
			memset(done, 0, sizeof(*done));
			done->data = (uintptr_t)in[box];
			done->len = sizeof(in[box]) - 1;
			if (msgbox_ring_recv(r, fds[box], done, 1, done))
				die("msgbox_ring_recv");
		}
		fflush(stdout);
		if (msgbox_ring_submit(r) < 0)
			die("msgbox_ring_submit");
	}
	reap_all(RING_BOXES);
	/* The receives still parked end with ECANCELED: nothing is lost. */
	for (i = 0; i < RING_BOXES; i++)
		if (msgbox_ring_cancel(r, fds[i], 1, NULL))
			die("msgbox_ring_cancel");
	msgbox_ring_submit(r);
	for (n = 0; n < 2 * RING_BOXES;) {
		int k = msgbox_ring_wait(r, c, RING_BOXES, 1, 10000000000ull);

		if (k <= 0)
			die("msgbox_ring_wait");
		n += k;
	}
	printf("server: %d messages served, the parked receives cancelled\n", got);
	msgbox_ring_free(r);
out_close:
	for (i = 0; i < RING_BOXES; i++) {
		close(fds[i]);
		snprintf(name, sizeof(name), "demo.ring%d", i);
		msgbox_destroy(name);
	}
}

/* 7. An eventfd told once of the first arrival; a name unlinked, not the mailbox. */
static void demo_notify(void)
{
	struct pollfd pfd;
	uint64_t count;
	char buf[32];
	int mb, efd, n = 0;

	section("7. notification and unlink (mq_notify, mq_unlink)");
	msgbox_destroy("demo.notify");
	mb = msgbox_create("demo.notify", NULL, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
	efd = eventfd(0, EFD_CLOEXEC);
	if (mb < 0 || efd < 0)
		die("create demo.notify");
	if (msgbox_notify(mb, MSGBOX_NOTIFY_EVENTFD, efd))
		die("notify");
	printf("parent: registered for notification on the empty demo.notify\n");
	fflush(stdout);
	if (fork() == 0) {
		int tx = msgbox_open("demo.notify", MSGBOX_FD_SEND);

		usleep(200000);
		for (int i = 1; tx >= 0 && i <= 3; i++) {
			snprintf(buf, sizeof(buf), "late news %d", i);
			if (msgbox_send(tx, buf, strlen(buf), 0))
				die("send news");
		}
		exit(tx < 0);
	}
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	if (poll(&pfd, 1, 10000) != 1 || read(efd, &count, sizeof(count)) != 8)
		die("wait for the eventfd");
	reap_all(1);
	printf("parent: eventfd counted %llu (one notification, then the "
	       "registration is spent)\n", (unsigned long long)count);
	/* The name goes; this descriptor and its messages stay. */
	if (msgbox_unlink("demo.notify"))
		die("unlink");
	printf("parent: unlinked demo.notify: opening it now fails (%s)\n",
	       msgbox_open("demo.notify", MSGBOX_FD_RECV) < 0 ? strerror(errno) :
								 "it did not");
	for (ssize_t len; (len = msgbox_recv(mb, buf, sizeof(buf),
					     MSGBOX_MSG_NONBLOCK)) >= 0; n++)
		printf("parent: still received '%.*s'\n", (int)len, buf);
	if (n != 3 || errno != EAGAIN)
		die("receive after unlink");
	fflush(stdout);
	close(efd);
	close(mb);	/* the last descriptor: the mailbox goes now */
}

int main(void)
{
	struct msgbox_attr attr;
	struct epoll_event ev = { .events = EPOLLIN };
	struct msgbox_info info;
	pid_t workers[NR_WORKERS];
	int results, ep, got = 0;
	char buf[128];
	int i;

	section("asynchronous sends: producers, workers, results");
	msgbox_destroy("demo.jobs");
	msgbox_destroy("demo.results");
	msgbox_attr_init(&attr);
	attr.max_msgs = 4;	/* small on purpose: producers block when full */
	if (msgbox_create("demo.jobs", &attr, MSGBOX_FD_RECV | MSGBOX_FD_SEND) < 0)
		die("create demo.jobs");
	results = msgbox_create("demo.results", NULL, MSGBOX_FD_RECV);
	if (results < 0)
		die("create demo.results");
	printf("created demo.jobs (4 slots) and demo.results\n");
	fflush(stdout);

	for (i = 0; i < NR_WORKERS; i++) {
		workers[i] = fork();
		if (workers[i] == 0)
			worker(i + 1);
	}
	for (i = 0; i < NR_PRODUCERS; i++)
		if (fork() == 0)
			producer(i + 1);

	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, results, &ev))
		die("epoll");
	while (got < NR_PRODUCERS * JOBS_EACH) {
		if (epoll_wait(ep, &ev, 1, 10000) != 1)
			die("epoll_wait");
		ssize_t len = msgbox_recv(results, buf, sizeof(buf) - 1, 0);

		if (len < 0)
			die("recv result");
		buf[len] = '\0';
		printf("parent: result %2d: %s\n", ++got, buf);
		fflush(stdout);
	}
	if (msgbox_info(results, &info))
		die("info");
	printf("parent: demo.results sent=%llu received=%llu queued=%u\n",
	       (unsigned long long)info.sent, (unsigned long long)info.received,
	       info.nr_msgs);
	fflush(stdout);

	/* Workers are now blocked in receive: destroy wakes them with EIDRM. */
	if (msgbox_destroy("demo.jobs"))
		die("destroy demo.jobs");
	printf("parent: destroyed demo.jobs\n");
	fflush(stdout);
	for (i = 0; i < NR_WORKERS + NR_PRODUCERS; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			die("a child failed");
	}
	msgbox_destroy("demo.results");

	demo_rendezvous();
	demo_request_reply();
	demo_pubsub();
	demo_ack();
	demo_uring();
	demo_notify();
	printf("\ndemo done: every pattern ran through /dev/msgbox, all processes exited cleanly\n");
	return 0;
}
