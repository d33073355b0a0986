// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: command-line access to mailboxes.
 *
 *   msgbox create NAME [-m MAX_MSGS] [-s MAX_MSG_SIZE] [-b MAX_BYTES] [-M MODE] [-e] [-p]
 *                 (-e ephemeral, -p a publish/subscribe topic)
 *   msgbox destroy NAME
 *   msgbox send NAME [-n] [-t TIMEOUT_MS] [-T TYPE] [-p PRIO] [MESSAGE...]
 *                                                      (stdin if no MESSAGE)
 *   msgbox recv NAME [-n] [-t TIMEOUT_MS] [-T SELECTOR] [-x] [-P] [-c COUNT] [-v]
 *   msgbox info NAME
 *   msgbox chmod NAME MODE
 *   msgbox list
 *   msgbox call NAME [-t TIMEOUT_MS] MESSAGE...     request/reply: print the reply
 *   msgbox serve NAME [-c COUNT]   answer requests with their own text in upper case
 *   msgbox subscribe TOPIC [-c COUNT] [-T SELECTOR]  print publications
 *
 * Exit status: 0 on success, 1 on an error (message on stderr), 2 on usage.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msgbox.h"

static const char *prog = "msgbox";

static void usage(void)
{
	fprintf(stderr,
		"usage: %s create NAME [-m MAX_MSGS] [-s MAX_MSG_SIZE] [-b MAX_BYTES] [-M MODE] [-e] [-p]\n"
		"       %s destroy NAME\n"
		"       %s send NAME [-n] [-t TIMEOUT_MS] [-T TYPE] [-p PRIO] [MESSAGE...]\n"
		"       %s recv NAME [-n] [-t TIMEOUT_MS] [-T SELECTOR] [-x] [-P] [-c COUNT] [-v]\n"
		"       %s info NAME\n"
		"       %s chmod NAME MODE\n"
		"       %s list\n"
		"       %s call NAME [-t TIMEOUT_MS] MESSAGE...\n"
		"       %s serve NAME [-c COUNT]\n"
		"       %s subscribe TOPIC [-c COUNT] [-T SELECTOR]\n",
		prog, prog, prog, prog, prog, prog, prog, prog, prog, prog);
	exit(2);
}

static int fail(const char *what, const char *name)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, name, strerror(errno));
	return 1;
}

static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || !*s) {
		fprintf(stderr, "%s: bad number '%s'\n", prog, s);
		exit(2);
	}
	return v;
}

static int cmd_create(int argc, char **argv)
{
	struct msgbox_attr attr;
	int opt, fd;

	msgbox_attr_init(&attr);
	while ((opt = getopt(argc, argv, "m:s:b:M:ep")) != -1) {
		switch (opt) {
		case 'm': attr.max_msgs = number(optarg); break;
		case 's': attr.max_msg_size = number(optarg); break;
		case 'b': attr.max_bytes = number(optarg); break;
		case 'M': attr.mode = strtoul(optarg, NULL, 8); break;
		case 'e': attr.flags |= MSGBOX_CREATE_EPHEMERAL; break;
		case 'p': attr.flags |= MSGBOX_CREATE_TOPIC; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (attr.max_bytes < attr.max_msg_size)
		attr.max_bytes = attr.max_msg_size;
	fd = msgbox_create(argv[optind], &attr, MSGBOX_FD_RECV | MSGBOX_FD_SEND);
	if (fd < 0)
		return fail("create", argv[optind]);
	close(fd);
	return 0;
}

static int cmd_send(int argc, char **argv)
{
	struct msgbox_msg m;
	long long timeout = -1, type = MSGBOX_TYPE_DEFAULT;
	unsigned int flags = 0, prio = 0;
	char *buf = NULL;
	size_t len = 0;
	int opt, fd;

	while ((opt = getopt(argc, argv, "+nt:T:p:")) != -1) {
		switch (opt) {
		case 'n': flags |= MSGBOX_MSG_NONBLOCK; break;
		case 't': timeout = number(optarg); break;
		case 'T': type = strtoll(optarg, NULL, 0); break;
		case 'p': prio = number(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	fd = msgbox_open(argv[optind], MSGBOX_FD_SEND);
	if (fd < 0)
		return fail("open", argv[optind]);
	if (optind + 1 < argc) {
		for (int i = optind + 1; i < argc; i++) {
			size_t l = strlen(argv[i]);

			buf = realloc(buf, len + l + 1);
			if (!buf)
				return fail("send", argv[optind]);
			if (len)
				buf[len++] = ' ';
			memcpy(buf + len, argv[i], l);
			len += l;
		}
	} else {
		FILE *in = open_memstream(&buf, &len);
		char chunk[4096];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
			fwrite(chunk, 1, n, in);
		fclose(in);
	}
	memset(&m, 0, sizeof(m));
	m.data = (unsigned long)buf;
	m.len = len;
	m.type = type;
	m.priority = prio;
	m.flags = flags;
	if (timeout >= 0) {
		m.flags |= MSGBOX_MSG_TIMEOUT;
		m.timeout_ns = timeout * 1000000ULL;
	}
	if (msgbox_sendmsg(fd, &m))
		return fail("send", argv[optind]);
	free(buf);
	close(fd);
	return 0;
}

static int cmd_recv(int argc, char **argv)
{
	unsigned long long count = 1;
	struct msgbox_info info;
	long long timeout = -1, sel = 0;
	unsigned int flags = 0;
	int opt, fd, verbose = 0;
	char *buf;

	while ((opt = getopt(argc, argv, "nt:T:xPc:v")) != -1) {
		switch (opt) {
		case 'n': flags |= MSGBOX_MSG_NONBLOCK; break;
		case 't': timeout = number(optarg); break;
		case 'T': sel = strtoll(optarg, NULL, 0); break;
		case 'x': flags |= MSGBOX_MSG_EXCEPT; break;
		case 'P': flags |= MSGBOX_MSG_PEEK; break;
		case 'c': count = number(optarg); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	fd = msgbox_open(argv[optind], MSGBOX_FD_RECV);
	if (fd < 0)
		return fail("open", argv[optind]);
	if (msgbox_info(fd, &info))
		return fail("info", argv[optind]);
	buf = malloc(info.max_msg_size + 1);
	if (!buf)
		return fail("recv", argv[optind]);
	while (count--) {
		struct msgbox_msg m;

		memset(&m, 0, sizeof(m));
		m.data = (unsigned long)buf;
		m.len = info.max_msg_size;
		m.type = sel;
		m.flags = flags;
		if (timeout >= 0) {
			m.flags |= MSGBOX_MSG_TIMEOUT;
			m.timeout_ns = timeout * 1000000ULL;
		}
		if (msgbox_recvmsg(fd, &m))
			return fail("recv", argv[optind]);
		if (verbose)
			printf("id=%llu type=%lld prio=%u pid=%d uid=%u len=%llu: ",
			       (unsigned long long)m.id, (long long)m.type,
			       m.priority, m.sender_pid, m.sender_uid,
			       (unsigned long long)m.len);
		fwrite(buf, 1, m.len, stdout);
		putchar('\n');
		fflush(stdout);
	}
	free(buf);
	close(fd);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct msgbox_info i;
	int fd;

	if (argc != 2)
		usage();
	fd = msgbox_open(argv[1], MSGBOX_FD_RECV);
	if (fd < 0)
		return fail("open", argv[1]);
	if (msgbox_info(fd, &i))
		return fail("info", argv[1]);
	printf("name:          %s\n", i.name);
	printf("messages:      %u / %u\n", i.nr_msgs, i.max_msgs);
	printf("bytes:         %llu / %llu\n", (unsigned long long)i.nr_bytes,
	       (unsigned long long)i.max_bytes);
	printf("max_msg_size:  %u\n", i.max_msg_size);
	printf("sent:          %llu\n", (unsigned long long)i.sent);
	printf("received:      %llu\n", (unsigned long long)i.received);
	printf("waiting:       %u receivers, %u senders\n", i.recv_waiters,
	       i.send_waiters);
	printf("owner:         uid %u gid %u mode %04o%s\n", i.owner_uid,
	       i.owner_gid, i.mode,
	       i.flags & MSGBOX_CREATE_EPHEMERAL ? " ephemeral" : "");
	printf("high water:    %u messages, %llu bytes\n", i.hwm_msgs,
	       (unsigned long long)i.hwm_bytes);
	printf("rejected:      %llu (full)\n", (unsigned long long)i.rejected);
	printf("timed out:     %llu\n", (unsigned long long)i.timed_out);
	printf("last send:     pid %d\n", i.last_send_pid);
	printf("last receive:  pid %d\n", i.last_recv_pid);
	printf("latency:       p50 <= %llu ns, p90 <= %llu ns, p99 <= %llu ns\n",
	       (unsigned long long)i.lat_p50_ns, (unsigned long long)i.lat_p90_ns,
	       (unsigned long long)i.lat_p99_ns);
	close(fd);
	return 0;
}

static int cmd_chmod(int argc, char **argv)
{
	struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_MODE };
	int fd;

	if (argc != 3)
		usage();
	sa.mode = strtoul(argv[2], NULL, 8);
	fd = msgbox_open(argv[1], MSGBOX_FD_RECV);
	if (fd < 0)
		fd = msgbox_open(argv[1], MSGBOX_FD_SEND);
	if (fd < 0)
		return fail("open", argv[1]);
	if (msgbox_setattr(fd, &sa))
		return fail("chmod", argv[1]);
	close(fd);
	return 0;
}

/* The kernel's listing, which shows only what the caller may see. */
static int cmd_list(void)
{
	FILE *f = fopen("/proc/msgbox", "r");
	char line[512];

	if (!f)
		return fail("open", "/proc/msgbox");
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
	return 0;
}

/* Join argv[from..] with spaces into a new string. */
static char *join(int argc, char **argv, int from)
{
	size_t len = 1;
	char *s;

	for (int i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		exit(1);
	for (int i = from; i < argc; i++) {
		if (i > from)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int cmd_call(int argc, char **argv)
{
	unsigned long long timeout = MSGBOX_FOREVER;
	char rep[65536];
	int opt, fd;
	ssize_t n;
	char *req;

	while ((opt = getopt(argc, argv, "+t:")) != -1) {
		if (opt != 't')
			usage();
		timeout = number(optarg) * 1000000ULL;
	}
	if (optind + 1 >= argc)
		usage();
	fd = msgbox_open(argv[optind], MSGBOX_FD_SEND);
	if (fd < 0)
		return fail("open", argv[optind]);
	req = join(argc, argv, optind + 1);
	n = msgbox_call(fd, req, strlen(req), rep, sizeof(rep), timeout);
	if (n < 0)
		return fail("call", argv[optind]);
	printf("%.*s\n", (int)n, rep);
	free(req);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	unsigned long long count = ~0ULL;
	char buf[65536];
	int opt, fd;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c')
			usage();
		count = number(optarg);
	}
	if (optind != argc - 1)
		usage();
	fd = msgbox_open(argv[optind], MSGBOX_FD_RECV);
	if (fd < 0)
		return fail("open", argv[optind]);
	while (count--) {
		struct msgbox_msg m = { .data = (uintptr_t)buf, .len = sizeof(buf) };

		if (msgbox_recvmsg(fd, &m))
			return fail("recv", argv[optind]);
		if (!m.token)
			continue;	/* a plain message: nobody to answer */
		for (size_t i = 0; i < m.len; i++)
			buf[i] = toupper((unsigned char)buf[i]);
		if (msgbox_reply(fd, m.token, buf, m.len))
			fail("reply", argv[optind]);
	}
	return 0;
}

static int cmd_subscribe(int argc, char **argv)
{
	unsigned long long count = ~0ULL;
	long long sel = 0;
	char buf[65536];
	int opt, t, s;

	while ((opt = getopt(argc, argv, "c:T:")) != -1) {
		switch (opt) {
		case 'c': count = number(optarg); break;
		case 'T': sel = strtoll(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	t = msgbox_open(argv[optind], MSGBOX_FD_RECV);
	if (t < 0)
		return fail("open", argv[optind]);
	s = msgbox_subscribe(t, sel, MSGBOX_FD_RECV);
	if (s < 0)
		return fail("subscribe", argv[optind]);
	printf("subscribed\n");
	fflush(stdout);
	while (count--) {
		ssize_t n = msgbox_recv(s, buf, sizeof(buf), 0);

		if (n < 0)
			return fail("recv", argv[optind]);
		printf("%.*s\n", (int)n, buf);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "list"))
		return cmd_list();
	if (argc < 3)
		usage();
	argc--;
	argv++;
	if (!strcmp(argv[0], "create"))
		return cmd_create(argc, argv);
	if (!strcmp(argv[0], "destroy"))
		return msgbox_destroy(argv[1]) ? fail("destroy", argv[1]) : 0;
	if (!strcmp(argv[0], "send"))
		return cmd_send(argc, argv);
	if (!strcmp(argv[0], "recv"))
		return cmd_recv(argc, argv);
	if (!strcmp(argv[0], "info"))
		return cmd_info(argc, argv);
	if (!strcmp(argv[0], "chmod"))
		return cmd_chmod(argc, argv);
	if (!strcmp(argv[0], "call"))
		return cmd_call(argc, argv);
	if (!strcmp(argv[0], "serve"))
		return cmd_serve(argc, argv);
	if (!strcmp(argv[0], "subscribe"))
		return cmd_subscribe(argc, argv);
	usage();
	return 2;
}
