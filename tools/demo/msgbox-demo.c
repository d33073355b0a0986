// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox-demo: several processes exchanging messages through /dev/msgbox.
 *
 *   producers --(demo.jobs: 4 slots, so producers block)--> workers
 *   workers   --(demo.results)--> the parent, which waits with epoll
 *
 * Each worker prints who sent the job it took: the pid and uid the kernel
 * stamped on the message.  At the end the parent destroys demo.jobs while a
 * worker is blocked in receive, which wakes it with EIDRM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msgbox.h"

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

int main(void)
{
	struct msgbox_attr attr;
	struct epoll_event ev = { .events = EPOLLIN };
	struct msgbox_info info;
	pid_t workers[NR_WORKERS];
	int results, ep, got = 0;
	char buf[128];
	int i;

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
	printf("demo done: %d messages through /dev/msgbox, all processes exited cleanly\n",
	       got);
	return 0;
}
