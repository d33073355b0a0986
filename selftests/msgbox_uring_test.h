/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the io_uring selftests (uring.c, uring_cmd.c,
 * uring_lib.c), on top of msgbox_test.h.  They need liburing.
 */
#ifndef MSGBOX_URING_TEST_H
#define MSGBOX_URING_TEST_H

#include <dirent.h>
#include <liburing.h>
#include "msgbox_test.h"

/*
 * Wait at most @ms for a completion on a ring of the test's own: its
 * result (and its user data in *@ud, if @ud), or -ETIME.
 */
static inline int mb_uring_reap(struct io_uring *ring, int ms, __u64 *ud)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000,
					.tv_nsec = (ms % 1000) * 1000000ll };
	struct io_uring_cqe *cqe;
	int res;

	if (io_uring_wait_cqe_timeout(ring, &cqe, &ts))
		return -ETIME;
	res = cqe->res;
	if (ud)
		*ud = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* io-wq worker threads of this process (named "iou-wrk-<pid>"), or -1. */
static inline int mb_io_workers(void)
{
	char path[300], comm[64];
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir("/proc/self/task");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk", 7))
			n++;
		fclose(f);
	}
	closedir(dir);
	return n;
}

#endif /* MSGBOX_URING_TEST_H */
