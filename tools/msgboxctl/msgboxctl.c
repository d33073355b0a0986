// SPDX-License-Identifier: GPL-2.0
/*
 * msgboxctl: list, inspect and drive msgbox mailboxes from a shell, in the
 * spirit of ipcs(1) and ipcrm(1).  One binary, one subcommand per action;
 * everything goes through libmsgbox.  The manual is man/msgboxctl.1.
 *
 * Output: human-readable tables by default; --json prints JSON instead
 * (list and stat one document, streams such as recv and top one object per
 * line).  Errors go to stderr as "msgboxctl: OPERATION 'NAME': strerror
 * (hint)" and set a distinct exit status (see enum exit_code).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stddef.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msgbox.h"

#define VERSION "1.0.0"
#define PROC_MSGBOX "/proc/msgbox"

/* Exit statuses, documented in msgboxctl(1). */
enum exit_code {
	EXIT_OK = 0,		/* success */
	EXIT_FAIL = 1,		/* the operation failed (any other errno) */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_NOENT = 3,		/* no such mailbox (ENOENT) */
	EXIT_TIMEOUT = 4,	/* a timed wait expired (ETIMEDOUT) */
	EXIT_AGAIN = 5,		/* would block: empty or full (EAGAIN) */
	EXIT_PERM = 6,		/* permission denied (EACCES, EPERM) */
	EXIT_NODEV = 7,		/* /dev/msgbox missing: module not loaded */
};

static const char *prog = "msgboxctl";
static bool json;		/* --json */
static const struct command *cmd;	/* the subcommand running */

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;	/* after "msgboxctl NAME " */
	const char *help;	/* option descriptions */
};

static void usage_of(const struct command *c, FILE *f);

/* ---- errors ------------------------------------------------------------ */

static int exit_code_of(int e)
{
	switch (e) {
	case ENOENT: return EXIT_NOENT;
	case ETIMEDOUT: return EXIT_TIMEOUT;
	case EAGAIN: return EXIT_AGAIN;
	case EACCES:
	case EPERM: return EXIT_PERM;
	default: return EXIT_FAIL;
	}
}

/* What errno @e most likely means for operation @op, or "". */
static const char *hint(const char *op, int e)
{
	bool rx = !strcmp(op, "recv") || !strcmp(op, "subscribe");

	switch (e) {
	case ENOENT:
		if (!strcmp(op, "reply"))
			return " (request already answered)";
		return " (no mailbox by that name)";
	case EEXIST: return " (a mailbox by that name exists)";
	case EAGAIN: return rx ? " (mailbox empty)" : " (mailbox full)";
	case EACCES: return " (the mailbox's mode denies this access)";
	case EPERM: return " (only its owner may do that)";
	case EMSGSIZE:
		return rx ? " (message larger than the buffer)" :
			    " (message larger than the mailbox's max message size)";
	case EIDRM: return " (the mailbox was destroyed)";
	case EOPNOTSUPP:
		return rx ? " (a topic queues nothing: use subscribe)" :
			    " (not a topic)";
	case ECONNRESET: return " (the server went away without replying)";
	case EPIPE: return " (the caller gave up)";
	case EDQUOT: return " (your quota of mailboxes or bytes is used up)";
	case ENOSPC: return " (a system-wide limit of the module is reached)";
	case EINVAL: return " (a value is out of range; see msgbox(4))";
	default: return "";
	}
}

/*
 * Report that @op on mailbox @name failed with errno, and return the exit
 * status for it.  ENOENT from a library call may also mean that
 * /dev/msgbox itself is missing: say so.
 */
static int fail(const char *op, const char *name)
{
	int e = errno;

	if (e == ENOENT && access(MSGBOX_DEVICE, F_OK)) {
		fprintf(stderr, "%s: %s '%s': %s (%s missing: is the msgbox module loaded?)\n",
			prog, op, name, strerror(e), MSGBOX_DEVICE);
		return EXIT_NODEV;
	}
	fprintf(stderr, "%s: %s '%s': %s%s\n", prog, op, name, strerror(e),
		hint(op, e));
	return exit_code_of(e);
}

static void __attribute__((noreturn)) die(const char *op, const char *name)
{
	exit(fail(op, name));
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "Try '%s %s --help'.\n", prog, cmd->name);
	else
		fprintf(stderr, "Try '%s --help'.\n", prog);
	exit(EXIT_USAGE);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EXIT_FAIL);
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EXIT_FAIL);
	}
	return p;
}

/* ---- argument parsing ---------------------------------------------------- */

/* An unsigned number; sizes may end in K, M or G (powers of 1024). */
static unsigned long long parse_num(const char *s, const char *what, bool size)
{
	unsigned long long v, mul = 1;
	char *end;

	/* strtoull() would skip blanks and negate a '-': digits only. */
	if (!isdigit((unsigned char)*s))
		usage_error("bad %s '%s'", what, s);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (size && *end && !end[1]) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mul = 1ULL << 10; end++; break;
		case 'M': mul = 1ULL << 20; end++; break;
		case 'G': mul = 1ULL << 30; end++; break;
		}
	}
	if (errno || *end || !*s || *s == '-' || v > ~0ULL / mul)
		usage_error("bad %s '%s'", what, s);
	return v * mul;
}

static unsigned int parse_u32(const char *s, const char *what, bool size)
{
	unsigned long long v = parse_num(s, what, size);

	if (v > 0xffffffffULL)
		usage_error("%s '%s' is too large", what, s);
	return v;
}

static long long parse_s64(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || *end || !*s)
		usage_error("bad %s '%s'", what, s);
	return v;
}

static unsigned int parse_mode(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || !*s || v > 0777)
		usage_error("bad mode '%s' (octal, 0 to 0777)", s);
	return v;
}

/* Milliseconds on the command line, nanoseconds for the kernel. */
static unsigned long long parse_ms(const char *s, const char *what)
{
	unsigned long long ms = parse_num(s, what, false);

	if (ms > ~0ULL / 1000000)
		usage_error("%s '%s' is too large", what, s);
	return ms * 1000000ULL;
}

/* -h/--help anywhere before "--": print the subcommand's usage, exit 0. */
static void help_requested(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage_of(cmd, stdout);
			exit(EXIT_OK);
		}
	}
}

/*
 * getopt_long over the subcommand's arguments (argv[0] is its name).
 * --json is accepted everywhere.  Returns the next option, -1 at the end.
 */
static int next_opt(int argc, char **argv, const char *shortopts,
		    const struct option *longopts)
{
	int opt;

	opterr = 0;
	opt = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (opt == 'j') {
		json = true;
		return next_opt(argc, argv, shortopts, longopts);
	}
	if (opt == '?') {
		if (optopt)
			usage_error("option '-%c' is unknown or needs a value", optopt);
		usage_error("option '%s' is unknown or needs a value", argv[optind - 1]);
	}
	return opt;
}

/* Between @min and @max (-1: any number) operands after the options. */
static void want_args(int argc, char **argv, int min, int max)
{
	int n = argc - optind;

	if (n < min)
		usage_error("missing argument");
	if (max >= 0 && n > max)
		usage_error("unexpected argument '%s'", argv[optind + max]);
}

/* ---- JSON output --------------------------------------------------------- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3; cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)		/* truncated sequence */
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += k + 1;
	}
	return true;
}

/* A JSON string of @n bytes of valid UTF-8. */
static void json_str(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_cstr(const char *s)
{
	json_str(s, strlen(s));
}

/* "payload": text if it is UTF-8, else "payload_hex": its bytes in hex. */
static void json_payload(const char *buf, size_t n)
{
	if (utf8_valid((const unsigned char *)buf, n)) {
		fputs("\"payload\":", stdout);
		json_str(buf, n);
		return;
	}
	fputs("\"payload_hex\":\"", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%02x", (unsigned char)buf[i]);
	putchar('"');
}

/* ---- mailboxes ----------------------------------------------------------- */

/* Names of the MSGBOX_CREATE_* flags, as list and stat show them. */
static const struct {
	unsigned int bit;
	const char *name;
} create_flags[] = {
	{ MSGBOX_CREATE_EPHEMERAL, "ephemeral" },
	{ MSGBOX_CREATE_ANON, "anon" },
	{ MSGBOX_CREATE_TOPIC, "topic" },
	{ MSGBOX_CREATE_DROP_OLDEST, "drop-oldest" },
	{ MSGBOX_CREATE_DROP_NEW, "drop-new" },
};

static void flags_text(unsigned int flags, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0; i < sizeof(create_flags) / sizeof(create_flags[0]); i++) {
		if (flags & create_flags[i].bit)
			len += snprintf(out + len, len < size ? size - len : 0,
					"%s%s", len ? "," : "", create_flags[i].name);
	}
	if (!len)
		snprintf(out, size, "-");
}

static void flags_json(unsigned int flags)
{
	bool first = true;

	putchar('[');
	for (size_t i = 0; i < sizeof(create_flags) / sizeof(create_flags[0]); i++) {
		if (flags & create_flags[i].bit) {
			printf("%s\"%s\"", first ? "" : ",", create_flags[i].name);
			first = false;
		}
	}
	putchar(']');
}

/*
 * A descriptor of mailbox @name good for INFO and SETATTR, which need no
 * direction: receive if the mode allows it, else send.
 */
static int open_any(const char *name)
{
	int fd = msgbox_open(name, MSGBOX_FD_RECV | MSGBOX_FD_CLOEXEC);

	if (fd < 0 && errno == EACCES)
		fd = msgbox_open(name, MSGBOX_FD_SEND | MSGBOX_FD_CLOEXEC);
	return fd;
}

static void get_info(int fd, const char *name, struct msgbox_info *info)
{
	if (msgbox_info(fd, info))
		die("stat", name);
}

/* One line of /proc/msgbox; the columns are stable, new ones appended. */
struct proc_row {
	char name[MSGBOX_NAME_MAX];
	unsigned int uid, gid, mode, msgs, max_msgs, max_msg_size, flags;
	unsigned long long bytes, max_bytes, sent, received;
};

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct proc_row *)a)->name,
		      ((const struct proc_row *)b)->name);
}

/* Read /proc/msgbox, sorted by name; returns the count, -1 with errno. */
static int read_proc(struct proc_row **rows)
{
	FILE *f = fopen(PROC_MSGBOX, "re");
	size_t n = 0, cap = 16;
	char line[512];

	*rows = NULL;
	if (!f)
		return -1;
	*rows = xmalloc(cap * sizeof(**rows));
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		struct proc_row *r;

		if (n == cap) {
			cap *= 2;
			*rows = xrealloc(*rows, cap * sizeof(**rows));
		}
		r = &(*rows)[n];
		if (sscanf(line, "%63s %u %u %o %u %u %llu %llu %u %llu %llu %x",
			   r->name, &r->uid, &r->gid, &r->mode, &r->msgs,
			   &r->max_msgs, &r->bytes, &r->max_bytes,
			   &r->max_msg_size, &r->sent, &r->received,
			   &r->flags) == 12)
			n++;
	}
	fclose(f);
	qsort(*rows, n, sizeof(**rows), row_cmp);
	return n;
}

/* ---- list ---------------------------------------------------------------- */

static int cmd_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct proc_row *rows;
	int n;

	while (next_opt(argc, argv, "j", lo) != -1)
		;
	want_args(argc, argv, 0, 0);
	n = read_proc(&rows);
	if (n < 0)
		return fail("list", PROC_MSGBOX);
	if (json) {
		putchar('[');
		for (int i = 0; i < n; i++) {
			struct proc_row *r = &rows[i];

			printf("%s{\"name\":", i ? "," : "");
			json_cstr(r->name);
			printf(",\"uid\":%u,\"gid\":%u,\"mode\":\"%04o\",\"msgs\":%u,"
			       "\"max_msgs\":%u,\"bytes\":%llu,\"max_bytes\":%llu,"
			       "\"max_msg_size\":%u,\"sent\":%llu,\"received\":%llu,"
			       "\"flags\":", r->uid, r->gid, r->mode, r->msgs,
			       r->max_msgs, r->bytes, r->max_bytes,
			       r->max_msg_size, r->sent, r->received);
			flags_json(r->flags);
			putchar('}');
		}
		puts("]");
	} else {
		printf("%-20s %-11s %-4s %15s %21s %8s %10s %10s %s\n", "NAME",
		       "UID:GID", "MODE", "MSGS/MAX", "BYTES/MAX", "MAXMSG",
		       "SENT", "RECEIVED", "FLAGS");
		for (int i = 0; i < n; i++) {
			struct proc_row *r = &rows[i];
			char owner[24], msgs[24], bytes[48], fl[64];

			snprintf(owner, sizeof(owner), "%u:%u", r->uid, r->gid);
			snprintf(msgs, sizeof(msgs), "%u/%u", r->msgs, r->max_msgs);
			snprintf(bytes, sizeof(bytes), "%llu/%llu", r->bytes, r->max_bytes);
			flags_text(r->flags, fl, sizeof(fl));
			printf("%-20s %-11s %04o %15s %21s %8u %10llu %10llu %s\n",
			       r->name, owner, r->mode, msgs, bytes,
			       r->max_msg_size, r->sent, r->received, fl);
		}
	}
	free(rows);
	return EXIT_OK;
}

/* ---- stat ---------------------------------------------------------------- */

static void print_time(const char *label, unsigned long long ns)
{
	char buf[64];
	time_t t = ns / 1000000000ULL;
	struct tm tm;

	if (!ns) {
		printf("%-15s -\n", label);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-15s %s.%03llu UTC\n", label, buf, ns / 1000000ULL % 1000);
}

#define JU(field) printf(",\"" #field "\":%llu", (unsigned long long)i->field)
#define JS(field) printf(",\"" #field "\":%lld", (long long)i->field)

static void info_json(const struct msgbox_info *i)
{
	fputs("{\"name\":", stdout);
	json_cstr(i->name);
	JU(max_msgs); JU(max_msg_size); JU(max_bytes);
	JU(nr_msgs); JU(nr_bytes); JU(sent); JU(received);
	JU(recv_waiters); JU(send_waiters);
	JU(owner_uid); JU(owner_gid);
	printf(",\"mode\":\"%04o\",\"flags\":", i->mode);
	flags_json(i->flags);
	JU(hwm_msgs); JU(hwm_bytes); JU(timed_out); JU(rejected);
	JU(dropped); JU(expired); JU(direct); JU(subscribers);
	JU(in_flight); JU(redelivered); JU(dead_lettered);
	JU(max_deliveries); JU(ack_timeout_ns);
	JS(inbox_pid); JS(notify_pid); JS(last_send_pid); JS(last_recv_pid);
	JU(ctime_ns); JU(last_send_ns); JU(last_recv_ns);
	JU(lat_p50_ns); JU(lat_p90_ns); JU(lat_p99_ns);
	fputs(",\"lat_hist\":[", stdout);
	for (int b = 0; b < MSGBOX_LAT_BUCKETS; b++)
		printf("%s%llu", b ? "," : "", (unsigned long long)i->lat_hist[b]);
	puts("]}");
}

static void info_text(const struct msgbox_info *i)
{
	char fl[64];

	flags_text(i->flags, fl, sizeof(fl));
	printf("%-15s %s\n", "name:", i->name);
	printf("%-15s uid %u gid %u mode %04o\n", "owner:", i->owner_uid,
	       i->owner_gid, i->mode);
	printf("%-15s %s\n", "flags:", fl);
	printf("%-15s %u / %u (most ever %u)\n", "messages:", i->nr_msgs,
	       i->max_msgs, i->hwm_msgs);
	printf("%-15s %llu / %llu (most ever %llu)\n", "bytes:",
	       (unsigned long long)i->nr_bytes, (unsigned long long)i->max_bytes,
	       (unsigned long long)i->hwm_bytes);
	printf("%-15s %u\n", "max_msg_size:", i->max_msg_size);
	printf("%-15s %llu\n", "sent:", (unsigned long long)i->sent);
	printf("%-15s %llu\n", "received:", (unsigned long long)i->received);
	printf("%-15s %llu\n", "one-copy:", (unsigned long long)i->direct);
	printf("%-15s %u receivers, %u senders\n", "waiting:",
	       i->recv_waiters, i->send_waiters);
	printf("%-15s %llu full, %llu timed out, %llu dropped, %llu expired\n",
	       "refused:", (unsigned long long)i->rejected,
	       (unsigned long long)i->timed_out, (unsigned long long)i->dropped,
	       (unsigned long long)i->expired);
	if (i->flags & MSGBOX_CREATE_TOPIC)
		printf("%-15s %u\n", "subscribers:", i->subscribers);
	printf("%-15s %u in flight, %llu redelivered, %llu dead-lettered, "
	       "max deliveries %u\n", "acks:", i->in_flight,
	       (unsigned long long)i->redelivered,
	       (unsigned long long)i->dead_lettered, i->max_deliveries);
	if (i->inbox_pid)
		printf("%-15s %d\n", "inbox of pid:", i->inbox_pid);
	if (i->notify_pid)
		printf("%-15s pid %d\n", "notify:", i->notify_pid);
	printf("%-15s %d\n", "last sender:", i->last_send_pid);
	printf("%-15s %d\n", "last receiver:", i->last_recv_pid);
	print_time("created:", i->ctime_ns);
	print_time("last send:", i->last_send_ns);
	print_time("last receive:", i->last_recv_ns);
	printf("%-15s p50 <= %llu ns, p90 <= %llu ns, p99 <= %llu ns\n",
	       "latency:", (unsigned long long)i->lat_p50_ns,
	       (unsigned long long)i->lat_p90_ns,
	       (unsigned long long)i->lat_p99_ns);
}

static int cmd_stat(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct msgbox_info info;
	int fd;

	while (next_opt(argc, argv, "j", lo) != -1)
		;
	want_args(argc, argv, 1, 1);
	fd = open_any(argv[optind]);
	if (fd < 0)
		die("open", argv[optind]);
	get_info(fd, argv[optind], &info);
	if (json)
		info_json(&info);
	else
		info_text(&info);
	close(fd);
	return EXIT_OK;
}

/* ---- create, destroy, set ------------------------------------------------ */

static int cmd_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "max-msgs", required_argument, NULL, 'm' },
		{ "max-msg-size", required_argument, NULL, 's' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "mode", required_argument, NULL, 'M' },
		{ "topic", no_argument, NULL, 'p' },
		{ "drop-oldest", no_argument, NULL, 'O' },
		{ "drop-new", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct msgbox_attr attr;
	bool bytes_given = false, mode_given = false;
	struct msgbox_info info;
	const char *name;
	int opt, fd;

	msgbox_attr_init(&attr);
	while ((opt = next_opt(argc, argv, "m:s:b:M:pj", lo)) != -1) {
		switch (opt) {
		case 'm': attr.max_msgs = parse_u32(optarg, "message count", false); break;
		case 's': attr.max_msg_size = parse_u32(optarg, "message size", true); break;
		case 'b': attr.max_bytes = parse_num(optarg, "byte count", true); bytes_given = true; break;
		case 'M': attr.mode = parse_mode(optarg); mode_given = true; break;
		case 'p': attr.flags |= MSGBOX_CREATE_TOPIC; break;
		case 'O': attr.flags |= MSGBOX_CREATE_TOPIC | MSGBOX_CREATE_DROP_OLDEST; break;
		case 'N': attr.flags |= MSGBOX_CREATE_TOPIC | MSGBOX_CREATE_DROP_NEW; break;
		}
	}
	want_args(argc, argv, 1, 1);
	name = argv[optind];
	/* The byte capacity follows a larger message size unless given. */
	if (!bytes_given && attr.max_bytes < attr.max_msg_size)
		attr.max_bytes = attr.max_msg_size;
	if (!attr.max_msgs && !bytes_given)
		attr.max_bytes = 0;	/* a rendezvous channel */
	fd = msgbox_create(name, &attr, MSGBOX_FD_RECV | MSGBOX_FD_SEND | MSGBOX_FD_CLOEXEC);
	if (fd < 0)
		die("create", name);
	get_info(fd, name, &info);
	/* Like mkdir -m: an explicit mode is the mode, whatever the umask. */
	if (mode_given && info.mode != attr.mode) {
		struct msgbox_setattr sa = { .mask = MSGBOX_SETATTR_MODE, .mode = attr.mode };

		if (msgbox_setattr(fd, &sa))
			die("chmod", name);
		get_info(fd, name, &info);
	}
	if (json)
		info_json(&info);
	close(fd);
	return EXIT_OK;
}

static int cmd_destroy(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "unlink", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	bool unlink_only = false;
	int rc = EXIT_OK;
	int opt;

	while ((opt = next_opt(argc, argv, "uj", lo)) != -1)
		if (opt == 'u')
			unlink_only = true;
	want_args(argc, argv, 1, -1);
	for (int i = optind; i < argc; i++) {
		if (unlink_only ? msgbox_unlink(argv[i]) : msgbox_destroy(argv[i])) {
			int r = fail(unlink_only ? "unlink" : "destroy", argv[i]);

			if (rc == EXIT_OK)
				rc = r;
		}
	}
	return rc;
}

static int cmd_set(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'M' },
		{ "max-msgs", required_argument, NULL, 'm' },
		{ "max-msg-size", required_argument, NULL, 's' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "max-deliveries", required_argument, NULL, 'D' },
		{ "dead-letter", required_argument, NULL, 'L' },
		{ "ack-timeout", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct msgbox_setattr sa = { 0 };
	const char *dead_letter = NULL, *name;
	bool m = false, s = false, b = false, deliveries_given = false;
	struct msgbox_info info;
	int opt, fd;

	while ((opt = next_opt(argc, argv, "M:m:s:b:j", lo)) != -1) {
		switch (opt) {
		case 'M': sa.mode = parse_mode(optarg); sa.mask |= MSGBOX_SETATTR_MODE; break;
		case 'm': sa.max_msgs = parse_u32(optarg, "message count", false); m = true; break;
		case 's': sa.max_msg_size = parse_u32(optarg, "message size", true); s = true; break;
		case 'b': sa.max_bytes = parse_num(optarg, "byte count", true); b = true; break;
		case 'D':
			sa.max_deliveries = parse_u32(optarg, "delivery count", false);
			deliveries_given = true;
			sa.mask |= MSGBOX_SETATTR_DEAD_LETTER;
			break;
		case 'L':
			dead_letter = optarg;
			sa.mask |= MSGBOX_SETATTR_DEAD_LETTER;
			break;
		case 'A':
			sa.ack_timeout_ns = parse_ms(optarg, "ack timeout");
			sa.mask |= MSGBOX_SETATTR_ACK_TIMEOUT;
			break;
		}
	}
	want_args(argc, argv, 1, 1);
	name = argv[optind];
	if (!sa.mask && !m && !s && !b)
		usage_error("nothing to set");
	fd = open_any(name);
	if (fd < 0)
		die("open", name);
	get_info(fd, name, &info);
	if (m || s || b) {
		/* LIMITS sets all three: keep the ones not given. */
		sa.mask |= MSGBOX_SETATTR_LIMITS;
		if (!m)
			sa.max_msgs = info.max_msgs;
		if (!s)
			sa.max_msg_size = info.max_msg_size;
		if (!b && !sa.max_msgs)
			sa.max_bytes = 0;	/* a rendezvous channel queues none */
		else if (!b)
			sa.max_bytes = info.max_bytes < sa.max_msg_size ?
				       sa.max_msg_size : info.max_bytes;
	}
	/*
	 * DEAD_LETTER sets both the count and the target: a count alone
	 * means no dead-letter mailbox (over-delivered messages are dropped).
	 */
	if (sa.mask & MSGBOX_SETATTR_DEAD_LETTER) {
		sa.dead_letter_fd = -1;		/* none; fields unused must be 0 */
		if (!deliveries_given)
			sa.max_deliveries = info.max_deliveries;
	}
	if (dead_letter && strcmp(dead_letter, "none")) {
		sa.dead_letter_fd = msgbox_open(dead_letter, MSGBOX_FD_SEND | MSGBOX_FD_CLOEXEC);
		if (sa.dead_letter_fd < 0)
			die("open dead-letter mailbox", dead_letter);
	}
	if (msgbox_setattr(fd, &sa))
		die("set", name);
	if (json) {
		get_info(fd, name, &info);
		info_json(&info);
	}
	close(fd);
	return EXIT_OK;
}

/* ---- send, publish -------------------------------------------------------- */

/* Join argv[from..argc) with spaces, like echo(1). */
static char *join(int argc, char **argv, int from, size_t *len)
{
	size_t n = 0;
	char *s;

	for (int i = from; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = xmalloc(n + 1);
	*len = 0;
	for (int i = from; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (i > from)
			s[(*len)++] = ' ';
		memcpy(s + *len, argv[i], l);
		*len += l;
	}
	s[*len] = 0;
	return s;
}

/* All of standard input, byte for byte. */
static char *slurp_stdin(size_t *len)
{
	size_t cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t n;

	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(0, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: read standard input: %s\n", prog, strerror(errno));
			exit(EXIT_FAIL);
		}
		if (!n)
			return buf;
		*len += n;
	}
}

struct send_opts {
	long long type;
	unsigned int prio, flags;
	unsigned long long timeout_ns, ttl_ns;
	bool timed, lines, verbose;
};

/*
 * A timeout as a CLOCK_MONOTONIC deadline: the kernel restarts a wait
 * until a deadline after a stop and continue (Ctrl-Z, fg), where one with
 * a relative timeout would fail with EINTR.
 */
static void set_deadline(struct msgbox_msg *m, unsigned long long timeout_ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	m->flags |= MSGBOX_MSG_TIMEOUT | MSGBOX_MSG_ABSTIME;
	m->timeout_ns = (unsigned long long)ts.tv_sec * 1000000000ULL +
			ts.tv_nsec + timeout_ns;
	if (m->timeout_ns < timeout_ns)
		m->timeout_ns = ~0ULL;
}

static int send_one(int fd, const char *name, const char *op,
		    const struct send_opts *o, const char *buf, size_t len)
{
	struct msgbox_msg m = {
		.data = (uintptr_t)buf, .len = len, .type = o->type,
		.priority = o->prio, .flags = o->flags, .ttl_ns = o->ttl_ns,
	};

	if (o->timed)
		set_deadline(&m, o->timeout_ns);
	if (msgbox_sendmsg(fd, &m))
		die(op, name);
	if (json) {
		printf("{\"id\":%llu,\"len\":%zu}\n", (unsigned long long)m.id, len);
	} else if (o->verbose) {
		printf("id=%llu len=%zu\n", (unsigned long long)m.id, len);
	}
	return EXIT_OK;
}

static int do_send(int argc, char **argv, bool publish)
{
	static const struct option lo[] = {
		{ "type", required_argument, NULL, 'T' },
		{ "prio", required_argument, NULL, 'p' },
		{ "nonblock", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "ttl", required_argument, NULL, 'l' },
		{ "sync", no_argument, NULL, 'S' },
		{ "lines", no_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct send_opts o = { .type = MSGBOX_TYPE_DEFAULT };
	const char *name, *op = publish ? "publish" : "send";
	char *buf;
	size_t len;
	int opt, fd;

	while ((opt = next_opt(argc, argv, "T:p:nt:vj", lo)) != -1) {
		switch (opt) {
		case 'T':
			o.type = parse_s64(optarg, "type");
			if (o.type < 1)
				usage_error("a message type is 1 or more, not '%s'", optarg);
			break;
		case 'p':
			o.prio = parse_u32(optarg, "priority", false);
			if (o.prio > MSGBOX_PRIO_MAX)
				usage_error("priority %u is above %d", o.prio, MSGBOX_PRIO_MAX);
			break;
		case 'n': o.flags |= MSGBOX_MSG_NONBLOCK; break;
		case 't': o.timeout_ns = parse_ms(optarg, "timeout"); o.timed = true; break;
		case 'l': o.ttl_ns = parse_ms(optarg, "time to live"); break;
		case 'S': o.flags |= MSGBOX_MSG_SYNC; break;
		case 'L': o.lines = true; break;
		case 'v': o.verbose = true; break;
		}
	}
	want_args(argc, argv, 1, -1);
	if (o.timed && (o.flags & MSGBOX_MSG_NONBLOCK))
		usage_error("--nonblock and --timeout exclude each other");
	name = argv[optind];
	if (o.lines && optind + 1 < argc)
		usage_error("--lines reads standard input: give no MESSAGE");
	fd = msgbox_open(name, MSGBOX_FD_SEND | MSGBOX_FD_CLOEXEC);
	if (fd < 0)
		die("open", name);
	if (publish) {
		struct msgbox_info info;

		get_info(fd, name, &info);
		if (!(info.flags & MSGBOX_CREATE_TOPIC)) {
			errno = EOPNOTSUPP;
			die(op, name);
		}
	}
	if (optind + 1 < argc)
		buf = join(argc, argv, optind + 1, &len);
	else
		buf = slurp_stdin(&len);
	if (o.lines) {
		/* One message per line, without its newline. */
		for (char *p = buf, *end = buf + len; p < end;) {
			char *nl = memchr(p, '\n', end - p);
			size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

			send_one(fd, name, op, &o, p, l);
			p += l + 1;
		}
	} else {
		send_one(fd, name, op, &o, buf, len);
	}
	free(buf);
	close(fd);
	return EXIT_OK;
}

static int cmd_send(int argc, char **argv)
{
	return do_send(argc, argv, false);
}

static int cmd_publish(int argc, char **argv)
{
	return do_send(argc, argv, true);
}

/* ---- recv, subscribe ----------------------------------------------------- */

/* Print one received message: payload @buf (@n bytes copied), metadata @m. */
static void print_msg(const struct msgbox_msg *m, const char *buf, size_t n,
		      bool verbose)
{
	if (json) {
		printf("{\"id\":%llu,\"type\":%lld,\"priority\":%u,\"len\":%llu,"
		       "\"sender_pid\":%d,\"sender_tid\":%d,\"sender_uid\":%u,"
		       "\"sender_gid\":%u,\"send_time_ns\":%llu,\"deliveries\":%u,"
		       "\"request\":%s,",
		       (unsigned long long)m->id, (long long)m->type, m->priority,
		       (unsigned long long)m->len, m->sender_pid, m->sender_tid,
		       m->sender_uid, m->sender_gid,
		       (unsigned long long)m->send_time_ns, m->deliveries,
		       m->token ? "true" : "false");
		json_payload(buf, n);
		puts("}");
	} else {
		if (verbose)
			printf("id=%llu type=%lld prio=%u len=%llu pid=%d uid=%u gid=%u: ",
			       (unsigned long long)m->id, (long long)m->type,
			       m->priority, (unsigned long long)m->len,
			       m->sender_pid, m->sender_uid, m->sender_gid);
		/* One message per line, without doubling a final newline. */
		fwrite(buf, 1, n, stdout);
		if (!n || buf[n - 1] != '\n')
			putchar('\n');
	}
	fflush(stdout);
}

struct recv_opts {
	long long sel;
	unsigned int flags;
	unsigned long long count, timeout_ns;
	pid_t from;
	bool timed, verbose, quiet;
};

/*
 * Receive as @m says into *@bufp (*@sizep bytes), growing the buffer for
 * a larger message: one queued before max_msg_size was lowered stays.  A
 * peek with TRUNC tells its length.  0, or -1 with errno set.
 */
static int recv_growing(int fd, struct msgbox_msg *m, char **bufp,
			size_t *sizep)
{
	const struct msgbox_msg want = *m;
	const __u32 keep = MSGBOX_MSG_EXCEPT | MSGBOX_MSG_FROM;

	for (;;) {
		struct msgbox_msg p = want;
		char c;

		*m = want;
		m->data = (uintptr_t)*bufp;
		m->len = *sizep;
		if (!msgbox_recvmsg(fd, m))
			return 0;
		if (errno != EMSGSIZE)
			return -1;
		p.data = (uintptr_t)&c;
		p.len = 1;
		p.flags = (want.flags & keep) | MSGBOX_MSG_PEEK |
			  MSGBOX_MSG_TRUNC | MSGBOX_MSG_NONBLOCK;
		p.timeout_ns = 0;
		if (msgbox_recvmsg(fd, &p)) {
			if (errno == EAGAIN)
				continue;	/* taken meanwhile: wait again */
			return -1;
		}
		if (p.len > *sizep) {
			free(*bufp);
			*sizep = p.len;
			*bufp = xmalloc(*sizep);
		}
	}
}

/* Receive and print o->count messages (0: until an error) from @fd. */
static int recv_loop(int fd, const char *name, const char *op,
		     const struct recv_opts *o)
{
	struct msgbox_info info;
	size_t size;
	char *buf;

	get_info(fd, name, &info);
	size = info.max_msg_size;
	buf = xmalloc(size);
	for (unsigned long long i = 0; !o->count || i < o->count; i++) {
		struct msgbox_msg m = {
			.data = (uintptr_t)buf, .len = size, .type = o->sel,
			.flags = o->flags, .sender_pid = o->from,
		};

		if (o->timed)
			set_deadline(&m, o->timeout_ns);
		if (recv_growing(fd, &m, &buf, &size))
			return fail(op, name);
		print_msg(&m, buf, m.len < size ? m.len : size, o->verbose);
	}
	free(buf);
	return EXIT_OK;
}

static const struct option recv_lo[] = {
	{ "nonblock", no_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 't' },
	{ "type", required_argument, NULL, 'T' },
	{ "except", no_argument, NULL, 'x' },
	{ "peek", no_argument, NULL, 'P' },
	{ "count", required_argument, NULL, 'c' },
	{ "from", required_argument, NULL, 'F' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, 'j' },
	{ 0 }
};

static void parse_recv_opts(int argc, char **argv, struct recv_opts *o)
{
	int opt;

	o->count = 1;
	while ((opt = next_opt(argc, argv, "nt:T:xPc:vqj", recv_lo)) != -1) {
		switch (opt) {
		case 'n': o->flags |= MSGBOX_MSG_NONBLOCK; break;
		case 't': o->timeout_ns = parse_ms(optarg, "timeout"); o->timed = true; break;
		case 'T': o->sel = parse_s64(optarg, "type selector"); break;
		case 'x': o->flags |= MSGBOX_MSG_EXCEPT; break;
		case 'P': o->flags |= MSGBOX_MSG_PEEK; break;
		case 'c': o->count = parse_num(optarg, "count", false); break;
		case 'F':
			o->from = parse_u32(optarg, "pid", false);
			if (o->from <= 0)
				usage_error("bad pid '%s'", optarg);
			o->flags |= MSGBOX_MSG_FROM;
			break;
		case 'v': o->verbose = true; break;
		case 'q': o->quiet = true; break;
		}
	}
	if (o->timed && (o->flags & MSGBOX_MSG_NONBLOCK))
		usage_error("--nonblock and --timeout exclude each other");
	if ((o->flags & MSGBOX_MSG_EXCEPT) && o->sel <= 0)
		usage_error("--except needs a positive --type");
}

static int cmd_recv(int argc, char **argv)
{
	struct recv_opts o = { 0 };
	int fd, rc;

	parse_recv_opts(argc, argv, &o);
	want_args(argc, argv, 1, 1);
	fd = msgbox_open(argv[optind], MSGBOX_FD_RECV | MSGBOX_FD_CLOEXEC);
	if (fd < 0)
		die("open", argv[optind]);
	rc = recv_loop(fd, argv[optind], "recv", &o);
	close(fd);
	return rc;
}

static int cmd_subscribe(int argc, char **argv)
{
	struct recv_opts o = { 0 };
	const char *name;
	int t, s, rc;

	parse_recv_opts(argc, argv, &o);
	want_args(argc, argv, 1, 1);
	if (o.flags & (MSGBOX_MSG_EXCEPT | MSGBOX_MSG_PEEK | MSGBOX_MSG_FROM))
		usage_error("--except, --peek and --from do not apply to subscribe");
	name = argv[optind];
	t = msgbox_open(name, MSGBOX_FD_RECV | MSGBOX_FD_CLOEXEC);
	if (t < 0)
		die("open", name);
	/* The selector becomes the subscription's filter. */
	s = msgbox_subscribe(t, o.sel, MSGBOX_FD_RECV | MSGBOX_FD_CLOEXEC);
	if (s < 0)
		die("subscribe", name);
	close(t);
	o.sel = 0;
	/* Publications before this point are not seen: tell scripts when. */
	if (!o.quiet)
		fprintf(stderr, "%s: subscribed to '%s'\n", prog, name);
	rc = recv_loop(s, name, "subscribe", &o);
	close(s);
	return rc;
}

/* ---- call, serve --------------------------------------------------------- */

static int cmd_call(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "type", required_argument, NULL, 'T' },
		{ "prio", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct msgbox_call c = { .request.type = MSGBOX_TYPE_DEFAULT };
	struct msgbox_info info;
	bool verbose = false;
	const char *name;
	char *req, *rep;
	size_t len;
	int opt, fd;

	while ((opt = next_opt(argc, argv, "t:T:p:vj", lo)) != -1) {
		switch (opt) {
		case 't':
			c.request.timeout_ns = parse_ms(optarg, "timeout");
			c.request.flags |= MSGBOX_MSG_TIMEOUT;
			break;
		case 'T':
			c.request.type = parse_s64(optarg, "type");
			if (c.request.type < 1)
				usage_error("a message type is 1 or more, not '%s'", optarg);
			break;
		case 'p':
			c.request.priority = parse_u32(optarg, "priority", false);
			if (c.request.priority > MSGBOX_PRIO_MAX)
				usage_error("priority above %d", MSGBOX_PRIO_MAX);
			break;
		case 'v': verbose = true; break;
		}
	}
	want_args(argc, argv, 1, -1);
	name = argv[optind];
	fd = msgbox_open(name, MSGBOX_FD_SEND | MSGBOX_FD_CLOEXEC);
	if (fd < 0)
		die("open", name);
	get_info(fd, name, &info);
	if (optind + 1 < argc)
		req = join(argc, argv, optind + 1, &len);
	else
		req = slurp_stdin(&len);
	rep = xmalloc(info.max_msg_size);
	c.request.data = (uintptr_t)req;
	c.request.len = len;
	c.reply.data = (uintptr_t)rep;
	c.reply.len = info.max_msg_size;
	if (msgbox_callmsg(fd, &c))
		die("call", name);
	print_msg(&c.reply, rep, c.reply.len, verbose);
	free(req);
	free(rep);
	close(fd);
	return EXIT_OK;
}

/*
 * Run "sh -c @command" with the request on its standard input; its
 * standard output is the reply.  The request goes through a memfd, so a
 * command that writes before it has read everything cannot deadlock.
 */
static char *run_command(const char *command, const struct msgbox_msg *m,
			 const char *req, size_t *len)
{
	int in = memfd_create("msgboxctl-request", MFD_CLOEXEC), out[2], status;
	size_t cap = 4096;
	char *rep;
	pid_t pid;

	if (in < 0 || write(in, req, m->len) != (ssize_t)m->len ||
	    lseek(in, 0, SEEK_SET) || pipe2(out, O_CLOEXEC))
		die("serve: prepare the command's input", command);
	pid = fork();
	if (pid < 0)
		die("serve: fork", command);
	if (!pid) {
		char v[32];

		snprintf(v, sizeof(v), "%d", m->sender_pid);
		setenv("MSGBOX_SENDER_PID", v, 1);
		snprintf(v, sizeof(v), "%u", m->sender_uid);
		setenv("MSGBOX_SENDER_UID", v, 1);
		snprintf(v, sizeof(v), "%lld", (long long)m->type);
		setenv("MSGBOX_TYPE", v, 1);
		dup2(in, 0);
		dup2(out[1], 1);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(in);
	close(out[1]);
	rep = xmalloc(cap);
	*len = 0;
	for (;;) {
		ssize_t n;

		if (*len == cap) {
			cap *= 2;
			rep = xrealloc(rep, cap);
		}
		n = read(out[0], rep + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += n;
	}
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "%s: serve: '%s' failed (status %d); replying with its output\n",
			prog, command, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return rep;
}

/*
 * The answer to @token failed (errno says why): report it.  One too large
 * for its caller leaves the token valid and the caller waiting: answer it
 * empty instead.
 */
static int serve_reply_failed(int fd, const char *name,
			      unsigned long long token, size_t len)
{
	int e = errno, rc = fail("reply", name);

	if (e == EMSGSIZE && !msgbox_reply(fd, token, "", 0))
		fprintf(stderr, "%s: serve '%s': sent an empty reply instead of %zu bytes\n",
			prog, name, len);
	return rc;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "echo", no_argument, NULL, 'e' },
		{ "upper", no_argument, NULL, 'u' },
		{ "exec", required_argument, NULL, 'x' },
		{ "type", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	unsigned long long count = 0, token = 0;	/* the request to answer */
	enum { UPPER, ECHO, EXEC } how = UPPER;
	const char *command = NULL, *name;
	struct msgbox_info info;
	bool verbose = false;
	long long sel = 0;
	int opt, fd, rc = EXIT_OK;
	char *buf, *rep = NULL;
	size_t size, len = 0;

	while ((opt = next_opt(argc, argv, "c:eux:T:vj", lo)) != -1) {
		switch (opt) {
		case 'c': count = parse_num(optarg, "count", false); break;
		case 'e': how = ECHO; break;
		case 'u': how = UPPER; break;
		case 'x': how = EXEC; command = optarg; break;
		case 'T': sel = parse_s64(optarg, "type selector"); break;
		case 'v': verbose = true; break;
		}
	}
	want_args(argc, argv, 1, 1);
	name = argv[optind];
	fd = msgbox_open(name, MSGBOX_FD_RECV | MSGBOX_FD_CLOEXEC);
	if (fd < 0)
		die("open", name);
	get_info(fd, name, &info);
	size = info.max_msg_size;
	buf = xmalloc(size);
	/*
	 * Answer @count requests (0: forever); plain messages are skipped.
	 * Each answer goes out with the receive of the next message, in one
	 * system call (msgbox_reply_recv()); the last one alone.
	 */
	for (unsigned long long done = 0; !count || done < count;) {
		struct msgbox_msg m = { .type = sel };
		size_t sent = len;
		int err;

		m.data = (uintptr_t)buf;
		m.len = size;
		err = msgbox_reply_recv(fd, &token, rep, len, &m) ? errno : 0;
		if (rep != buf)
			free(rep);	/* copied (or refused) by now */
		rep = NULL;
		len = 0;
		errno = err;
		if (err && token) {
			/* That answer failed and nothing was received. */
			rc = serve_reply_failed(fd, name, token, sent);
			token = 0;
			continue;
		}
		if (err && (errno != EMSGSIZE || recv_growing(fd, &m, &buf, &size)))
			die("recv", name);
		if (verbose || json)
			print_msg(&m, buf, m.len, true);
		if (!m.token)
			continue;	/* nobody waits for an answer */
		rep = buf;
		len = m.len;
		if (how == UPPER) {
			for (size_t i = 0; i < len; i++)
				buf[i] = toupper((unsigned char)buf[i]);
		} else if (how == EXEC) {
			rep = run_command(command, &m, buf, &len);
		}
		token = m.token;
		done++;
	}
	if (token && msgbox_reply(fd, token, rep, len))
		rc = serve_reply_failed(fd, name, token, len);
	if (rep != buf)
		free(rep);
	free(buf);
	close(fd);
	return rc;
}

/* ---- top ----------------------------------------------------------------- */

struct sample {
	struct proc_row *rows;
	struct msgbox_info *info;	/* valid where have[i] */
	bool *have;
	int n;
	double t;			/* CLOCK_MONOTONIC, seconds */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool wanted(const char *name, int nnames, char **names)
{
	if (!nnames)
		return true;
	for (int i = 0; i < nnames; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* /proc/msgbox for every mailbox, MSGBOX_IOC_INFO where it may be opened. */
static void take_sample(struct sample *s, int nnames, char **names)
{
	struct proc_row *all;
	int n = read_proc(&all);

	if (n < 0)
		die("top: read", PROC_MSGBOX);
	s->rows = xmalloc(n * sizeof(*s->rows));
	s->info = xmalloc(n * sizeof(*s->info));
	s->have = xmalloc(n * sizeof(*s->have));
	s->n = 0;
	for (int i = 0; i < n; i++) {
		int fd;

		if (!wanted(all[i].name, nnames, names))
			continue;
		s->rows[s->n] = all[i];
		fd = open_any(all[i].name);
		s->have[s->n] = fd >= 0 && !msgbox_info(fd, &s->info[s->n]);
		if (fd >= 0)
			close(fd);
		s->n++;
	}
	free(all);
	s->t = now();
}

static void free_sample(struct sample *s)
{
	free(s->rows);
	free(s->info);
	free(s->have);
}

/* A counter's growth since the previous sample (a recreated mailbox restarts). */
static unsigned long long delta(unsigned long long cur, const struct proc_row *prev,
				size_t off)
{
	unsigned long long old;

	if (!prev)
		return cur;
	memcpy(&old, (const char *)prev + off, sizeof(old));
	return cur >= old ? cur - old : cur;
}

static void fmt_ns(unsigned long long ns, char *out, size_t size)
{
	if (!ns)
		snprintf(out, size, "-");
	else if (ns < 10000)
		snprintf(out, size, "%lluns", ns);
	else if (ns < 10000000)
		snprintf(out, size, "%.1fus", ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(out, size, "%.1fms", ns / 1e6);
	else
		snprintf(out, size, "%.1fs", ns / 1e9);
}

struct top_row {
	const struct proc_row *r;
	const struct msgbox_info *info;	/* NULL if it could not be opened */
	unsigned long long dsent, drecv;
	double sent_rate, recv_rate;
};

static int top_row_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	double rx = x->sent_rate + x->recv_rate, ry = y->sent_rate + y->recv_rate;

	if (rx != ry)
		return rx < ry ? 1 : -1;
	return strcmp(x->r->name, y->r->name);
}

static void top_frame(const struct sample *prev, const struct sample *cur,
		      bool clear)
{
	double dt = cur->t - prev->t, tsent = 0, trecv = 0;
	struct top_row *rows = xmalloc(cur->n * sizeof(*rows));
	struct timespec wall;

	for (int i = 0; i < cur->n; i++) {
		const struct proc_row *r = &cur->rows[i];
		const struct proc_row *p = bsearch(r, prev->rows, prev->n,
						   sizeof(*r), row_cmp);

		rows[i].r = r;
		rows[i].info = cur->have[i] ? &cur->info[i] : NULL;
		rows[i].dsent = delta(r->sent, p, offsetof(struct proc_row, sent));
		rows[i].drecv = delta(r->received, p, offsetof(struct proc_row, received));
		rows[i].sent_rate = dt > 0 ? rows[i].dsent / dt : 0;
		rows[i].recv_rate = dt > 0 ? rows[i].drecv / dt : 0;
		tsent += rows[i].sent_rate;
		trecv += rows[i].recv_rate;
	}
	qsort(rows, cur->n, sizeof(*rows), top_row_cmp);
	clock_gettime(CLOCK_REALTIME, &wall);
	if (json) {
		printf("{\"time_ns\":%llu,\"interval_s\":%.3f,\"sent_per_s\":%.1f,"
		       "\"received_per_s\":%.1f,\"mailboxes\":[",
		       (unsigned long long)wall.tv_sec * 1000000000ULL + wall.tv_nsec,
		       dt, tsent, trecv);
		for (int i = 0; i < cur->n; i++) {
			const struct top_row *t = &rows[i];

			printf("%s{\"name\":", i ? "," : "");
			json_cstr(t->r->name);
			printf(",\"msgs\":%u,\"bytes\":%llu,\"sent\":%llu,\"received\":%llu,"
			       "\"sent_delta\":%llu,\"received_delta\":%llu,"
			       "\"sent_per_s\":%.1f,\"received_per_s\":%.1f",
			       t->r->msgs, t->r->bytes, t->r->sent, t->r->received,
			       t->dsent, t->drecv, t->sent_rate, t->recv_rate);
			if (t->info)
				printf(",\"recv_waiters\":%u,\"send_waiters\":%u,"
				       "\"lat_p99_ns\":%llu", t->info->recv_waiters,
				       t->info->send_waiters,
				       (unsigned long long)t->info->lat_p99_ns);
			putchar('}');
		}
		puts("]}");
	} else {
		char clock[16];
		struct tm tm;
		time_t sec = wall.tv_sec;

		localtime_r(&sec, &tm);
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
		if (clear)
			fputs("\033[H\033[2J", stdout);
		printf("msgboxctl top - %s, every %.1fs: %d mailboxes, %.1f msgs/s sent, %.1f msgs/s received\n",
		       clock, dt, cur->n, tsent, trecv);
		printf("%-20s %9s %10s %9s %9s %10s %10s %7s %8s\n", "NAME",
		       "QUEUED", "BYTES", "SENT/s", "RECV/s", "SENT",
		       "RECEIVED", "WAIT", "P99LAT");
		for (int i = 0; i < cur->n; i++) {
			const struct top_row *t = &rows[i];
			char wait[24] = "-", lat[16] = "-";

			if (t->info) {
				snprintf(wait, sizeof(wait), "%u/%u",
					 t->info->recv_waiters, t->info->send_waiters);
				fmt_ns(t->info->lat_p99_ns, lat, sizeof(lat));
			}
			printf("%-20s %9u %10llu %9.1f %9.1f %10llu %10llu %7s %8s\n",
			       t->r->name, t->r->msgs, t->r->bytes, t->sent_rate,
			       t->recv_rate, t->r->sent, t->r->received, wait, lat);
		}
		if (!clear)
			putchar('\n');
	}
	fflush(stdout);
	free(rows);
}

static int cmd_top(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	unsigned long long iterations = 0;
	struct sample prev, cur;
	double delay = 1.0;
	bool batch = false;
	int opt;

	while ((opt = next_opt(argc, argv, "d:n:bj", lo)) != -1) {
		switch (opt) {
		case 'd': {
			char *end;

			delay = strtod(optarg, &end);
			if (*end || !*optarg || !(delay >= 0.01 && delay <= 86400))
				usage_error("bad delay '%s' (seconds, 0.01 to 86400)", optarg);
			break;
		}
		case 'n': iterations = parse_num(optarg, "iteration count", false); break;
		case 'b': batch = true; break;
		}
	}
	/* Interactive (redrawn in place) only on a terminal and not in JSON. */
	batch = batch || json || !isatty(1);
	take_sample(&prev, argc - optind, argv + optind);
	for (unsigned long long i = 0; !iterations || i < iterations; i++) {
		double next = prev.t + delay, left;

		while ((left = next - now()) > 0) {
			struct timespec ts = {
				.tv_sec = (time_t)left,
				.tv_nsec = (long)((left - (time_t)left) * 1e9),
			};

			nanosleep(&ts, NULL);
		}
		take_sample(&cur, argc - optind, argv + optind);
		top_frame(&prev, &cur, !batch);
		free_sample(&prev);
		prev = cur;
	}
	free_sample(&prev);
	return EXIT_OK;
}

/* ---- version, help, main ------------------------------------------------- */

static int cmd_version(int argc, char **argv)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	int abi;

	while (next_opt(argc, argv, "j", lo) != -1)
		;
	want_args(argc, argv, 0, 0);
	abi = msgbox_abi_version();
	if (json)
		printf("{\"version\":\"%s\",\"abi\":%d,\"module_abi\":%d}\n",
		       VERSION, MSGBOX_ABI_VERSION, abi);
	else if (abi < 0)
		printf("msgboxctl %s (ABI %d); module: %s\n", VERSION,
		       MSGBOX_ABI_VERSION, strerror(errno));
	else
		printf("msgboxctl %s (ABI %d); module ABI %d\n", VERSION,
		       MSGBOX_ABI_VERSION, abi);
	return EXIT_OK;
}

#define T_OPT "  -t, --timeout MS     wait at most MS milliseconds (exit 4 when it expires)\n"
#define N_OPT "  -n, --nonblock       do not wait (exit 5 if it would have to)\n"
#define J_OPT "      --json           JSON output\n"

static const struct command commands[] = {
	{ "list", cmd_list, "[--json]",
	  "List the mailboxes you may see (from " PROC_MSGBOX "), with their\n"
	  "queue lengths, limits and message counts.\n" J_OPT },
	{ "stat", cmd_stat, "NAME [--json]",
	  "Show every limit and statistic of one mailbox (MSGBOX_IOC_INFO).\n" J_OPT },
	{ "create", cmd_create, "NAME [OPTIONS]",
	  "Create a mailbox.\n"
	  "  -m, --max-msgs N       capacity in messages (default 256; 0: rendezvous)\n"
	  "  -s, --max-msg-size N   largest message in bytes (default 8K; K/M/G suffixes)\n"
	  "  -b, --max-bytes N      capacity in bytes (default 1M, at least max-msg-size)\n"
	  "  -M, --mode MODE        octal permission bits, exactly (default 0600 minus umask)\n"
	  "  -p, --topic            a publish/subscribe topic\n"
	  "      --drop-oldest      topic: a full subscriber loses its oldest messages\n"
	  "      --drop-new         topic: a full subscriber misses new publications\n"
	  J_OPT "                         print the new mailbox's stat\n" },
	{ "destroy", cmd_destroy, "NAME... [OPTIONS]",
	  "Destroy mailboxes: their queued messages are dropped and every waiter\n"
	  "wakes with EIDRM.  Only the owner (or CAP_SYS_ADMIN) may.\n"
	  "  -u, --unlink         remove only the names (as mq_unlink): processes\n"
	  "                       holding a mailbox open go on using it until they\n"
	  "                       close it\n" },
	{ "set", cmd_set, "NAME [OPTIONS]",
	  "Change a mailbox's mode and limits (MSGBOX_IOC_SETATTR; owner only).\n"
	  "  -M, --mode MODE          octal permission bits\n"
	  "  -m, --max-msgs N         capacity in messages\n"
	  "  -s, --max-msg-size N     largest message in bytes\n"
	  "  -b, --max-bytes N        capacity in bytes\n"
	  "      --max-deliveries N   dead-letter a message after N deliveries (0: never);\n"
	  "                           without --dead-letter, such messages are dropped\n"
	  "      --dead-letter NAME   mailbox receiving dead letters ('none' for none)\n"
	  "      --ack-timeout MS     redeliver unacknowledged messages after MS ms\n"
	  J_OPT "                           print the resulting stat\n" },
	{ "send", cmd_send, "NAME [OPTIONS] [MESSAGE...]",
	  "Send one message: the MESSAGE words joined by spaces, or else standard\n"
	  "input byte for byte.  Put '--' before a message starting with '-'.\n"
	  "  -T, --type TYPE      message type, 1 or more (default 1)\n"
	  "  -p, --prio PRIO      priority 0 to 32767, higher first (default 0)\n"
	  N_OPT T_OPT
	  "      --ttl MS         discard the message if not received within MS ms\n"
	  "      --sync           return only once a receiver has taken it\n"
	  "      --lines          send each line of standard input as a message\n"
	  "  -v, --verbose        print each message's id\n"
	  J_OPT },
	{ "recv", cmd_recv, "NAME [OPTIONS]",
	  "Receive messages and print their payloads, each followed by a newline\n"
	  "unless it ends with one (--json shows payloads exactly).\n"
	  "  -c, --count N        receive N messages (default 1; 0: until interrupted)\n"
	  N_OPT T_OPT
	  "  -T, --type SEL       0 any (default), T exactly T, -T lowest type <= T\n"
	  "  -x, --except         with -T T: any type but T\n"
	  "  -P, --peek           leave the message queued\n"
	  "      --from PID       only messages sent by process PID\n"
	  "  -v, --verbose        print id, type, priority, length and sender first\n"
	  J_OPT "                       one object per message and line, with metadata\n" },
	{ "call", cmd_call, "NAME [OPTIONS] [MESSAGE...]",
	  "Send a request (MESSAGE words, or standard input) and print the reply\n"
	  "that a server (such as 'msgboxctl serve') sends back to this call only.\n"
	  T_OPT
	  "  -T, --type TYPE      the request's type (default 1)\n"
	  "  -p, --prio PRIO      the request's priority\n"
	  "  -v, --verbose        print the reply's metadata first\n"
	  J_OPT },
	{ "serve", cmd_serve, "NAME [OPTIONS]",
	  "Answer requests made with 'call': by default the request upper-cased.\n"
	  "  -c, --count N        answer N requests, then exit (default 0: forever)\n"
	  "      --echo           reply with the request itself\n"
	  "      --upper          reply with the request upper-cased (default)\n"
	  "      --exec CMD       reply with the output of 'sh -c CMD' run with the\n"
	  "                       request on its standard input (environment:\n"
	  "                       MSGBOX_SENDER_PID, MSGBOX_SENDER_UID, MSGBOX_TYPE)\n"
	  "  -T, --type SEL       take only requests this selector matches\n"
	  "  -v, --verbose        print every message received, as recv -v\n"
	  J_OPT "                       print every message received as JSON\n" },
	{ "publish", cmd_publish, "TOPIC [OPTIONS] [MESSAGE...]",
	  "Publish to a topic: every current subscriber gets the message.  As send,\n"
	  "but refuses (EOPNOTSUPP) a mailbox that is not a topic.\n"
	  "  -T, --type TYPE, -p, --prio PRIO, -n, -t MS, --ttl MS, --lines, -v: as send\n"
	  J_OPT },
	{ "subscribe", cmd_subscribe, "TOPIC [OPTIONS]",
	  "Subscribe to a topic and print its publications from then on.  Says\n"
	  "\"msgboxctl: subscribed to 'TOPIC'\" on standard error once subscribed.\n"
	  "  -c, --count N        print N publications (default 1; 0: until interrupted)\n"
	  "  -T, --type SEL       only publications this selector matches\n"
	  N_OPT T_OPT
	  "  -q, --quiet          no 'subscribed' line\n"
	  "  -v, --verbose        print metadata first, as recv -v\n"
	  J_OPT },
	{ "top", cmd_top, "[OPTIONS] [NAME...]",
	  "Live message rates per mailbox, busiest first, refreshed every interval\n"
	  "(counters from " PROC_MSGBOX ", waiters and latency from MSGBOX_IOC_INFO).\n"
	  "  -d, --delay SECONDS  refresh interval (default 1)\n"
	  "  -n, --iterations N   stop after N refreshes (default 0: never)\n"
	  "  -b, --batch          append frames instead of redrawing the screen\n"
	  J_OPT "                       one object per refresh and line\n" },
	{ "version", cmd_version, "[--json]",
	  "Print the version of msgboxctl and the ABI of the loaded module.\n" J_OPT },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_of(const struct command *c, FILE *f)
{
	fprintf(f, "usage: %s %s %s\n%s", prog, c->name, c->synopsis, c->help);
	fprintf(f, "  -h, --help           this help\n");
}

static void usage_all(FILE *f)
{
	fprintf(f, "usage: %s [--json] COMMAND [ARGS...]\n\nCommands:\n", prog);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].synopsis);
	fprintf(f, "\n'%s COMMAND --help' describes one command.  Exit status: 0 success,\n"
		"1 failure, 2 usage, 3 no such mailbox, 4 timed out, 5 would block,\n"
		"6 permission denied, 7 module not loaded.  See msgboxctl(1).\n", prog);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage_all(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			return cmd_version(1, (char *[]){ "version", NULL });
		} else {
			usage_error("unknown option '%s'", argv[i]);
		}
	}
	if (i == argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc) {
			cmd = find_command(argv[i + 1]);
			if (!cmd)
				usage_error("unknown command '%s'", argv[i + 1]);
			usage_of(cmd, stdout);
		} else {
			usage_all(stdout);
		}
		return EXIT_OK;
	}
	cmd = find_command(argv[i]);
	if (!cmd)
		usage_error("unknown command '%s'", argv[i]);
	help_requested(argc - i, argv + i);
	optind = 0;	/* a fresh getopt scan of the subcommand's arguments */
	return cmd->fn(argc - i, argv + i);
}
