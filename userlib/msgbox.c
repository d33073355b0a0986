// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmsgbox: thin, errno-style wrappers over the /dev/msgbox ioctls.
 *
 * Control operations (create, open, destroy) open /dev/msgbox for the call
 * and close it again: they are rare, and this keeps the library stateless
 * and therefore thread- and fork-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "msgbox.h"

#define MSGBOX_API __attribute__((visibility("default")))

static int msgbox_ctl(unsigned long cmd, void *arg)
{
	int saved;
	int dev;
	int ret;

	dev = open(MSGBOX_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	ret = ioctl(dev, cmd, arg);
	saved = errno;
	close(dev);
	errno = saved;
	return ret;
}

/* Copy @name into a MSGBOX_NAME_MAX field, leaving the kernel to judge it. */
static int msgbox_name_copy(char *dst, const char *name)
{
	size_t len;

	if (!name) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(name);
	if (len >= MSGBOX_NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dst, name, len + 1);
	return 0;
}

MSGBOX_API void msgbox_attr_init(struct msgbox_attr *attr)
{
	attr->max_msgs = MSGBOX_DEFAULT_MAX_MSGS;
	attr->max_msg_size = MSGBOX_DEFAULT_MAX_MSG_SIZE;
	attr->max_bytes = MSGBOX_DEFAULT_MAX_BYTES;
	attr->mode = MSGBOX_DEFAULT_MODE;
	attr->flags = 0;
}

MSGBOX_API int msgbox_create(const char *name, const struct msgbox_attr *attr,
			     unsigned int fd_flags)
{
	struct msgbox_create c;
	struct msgbox_attr def;

	if (!attr) {
		msgbox_attr_init(&def);
		attr = &def;
	}
	memset(&c, 0, sizeof(c));
	if (msgbox_name_copy(c.name, name))
		return -1;
	c.max_msgs = attr->max_msgs;
	c.max_msg_size = attr->max_msg_size;
	c.max_bytes = attr->max_bytes;
	c.mode = attr->mode;
	c.flags = attr->flags;
	c.fd_flags = fd_flags;
	return msgbox_ctl(MSGBOX_IOC_CREATE, &c);
}

MSGBOX_API int msgbox_create_anon(const struct msgbox_attr *attr,
				  unsigned int fd_flags)
{
	struct msgbox_attr a;

	if (attr)
		a = *attr;
	else
		msgbox_attr_init(&a);
	a.flags |= MSGBOX_CREATE_ANON;
	return msgbox_create("", &a, fd_flags);
}

MSGBOX_API int msgbox_open(const char *name, unsigned int fd_flags)
{
	struct msgbox_open o;

	memset(&o, 0, sizeof(o));
	if (msgbox_name_copy(o.name, name))
		return -1;
	o.fd_flags = fd_flags;
	return msgbox_ctl(MSGBOX_IOC_OPEN, &o);
}

MSGBOX_API int msgbox_destroy(const char *name)
{
	struct msgbox_open o;

	memset(&o, 0, sizeof(o));
	if (msgbox_name_copy(o.name, name))
		return -1;
	return msgbox_ctl(MSGBOX_IOC_DESTROY, &o);
}

MSGBOX_API int msgbox_unlink(const char *name)
{
	struct msgbox_open o;

	memset(&o, 0, sizeof(o));
	o.flags = MSGBOX_DESTROY_UNLINK;
	if (msgbox_name_copy(o.name, name))
		return -1;
	return msgbox_ctl(MSGBOX_IOC_DESTROY, &o);
}

MSGBOX_API int msgbox_sendmsg(int fd, struct msgbox_msg *msg)
{
	return ioctl(fd, MSGBOX_IOC_SEND, msg);
}

MSGBOX_API int msgbox_recvmsg(int fd, struct msgbox_msg *msg)
{
	return ioctl(fd, MSGBOX_IOC_RECV, msg);
}

static void msgbox_msg_init(struct msgbox_msg *m, const void *buf, size_t len,
			    unsigned int flags)
{
	memset(m, 0, sizeof(*m));
	m->data = (uint64_t)(uintptr_t)buf;
	m->len = len;
	m->flags = flags;
}

MSGBOX_API int msgbox_send(int fd, const void *buf, size_t len,
			   unsigned int flags)
{
	struct msgbox_msg m;

	msgbox_msg_init(&m, buf, len, flags);
	m.type = MSGBOX_TYPE_DEFAULT;
	return msgbox_sendmsg(fd, &m);
}

MSGBOX_API ssize_t msgbox_recv(int fd, void *buf, size_t size,
			       unsigned int flags)
{
	struct msgbox_msg m;

	msgbox_msg_init(&m, buf, size, flags);
	if (msgbox_recvmsg(fd, &m))
		return -1;
	return (ssize_t)m.len;
}

MSGBOX_API int msgbox_send_timeout(int fd, const void *buf, size_t len,
				   unsigned long long timeout_ns)
{
	struct msgbox_msg m;

	msgbox_msg_init(&m, buf, len, MSGBOX_MSG_TIMEOUT);
	m.type = MSGBOX_TYPE_DEFAULT;
	m.timeout_ns = timeout_ns;
	return msgbox_sendmsg(fd, &m);
}

MSGBOX_API ssize_t msgbox_recv_timeout(int fd, void *buf, size_t size,
				       unsigned long long timeout_ns)
{
	struct msgbox_msg m;

	msgbox_msg_init(&m, buf, size, MSGBOX_MSG_TIMEOUT);
	m.timeout_ns = timeout_ns;
	if (msgbox_recvmsg(fd, &m))
		return -1;
	return (ssize_t)m.len;
}

static int msgbox_batch(int fd, unsigned long cmd, struct msgbox_msg *msgs,
			unsigned int count, int *error)
{
	struct msgbox_batch b;
	int ret;

	memset(&b, 0, sizeof(b));
	b.msgs = (uint64_t)(uintptr_t)msgs;
	b.count = count;
	b.msg_size = sizeof(*msgs);
	ret = ioctl(fd, cmd, &b);
	if (error)
		*error = ret < 0 ? -errno : b.error;
	return ret;
}

MSGBOX_API int msgbox_send_batch(int fd, struct msgbox_msg *msgs,
				 unsigned int count, int *error)
{
	return msgbox_batch(fd, MSGBOX_IOC_SEND_BATCH, msgs, count, error);
}

MSGBOX_API int msgbox_recv_batch(int fd, struct msgbox_msg *msgs,
				 unsigned int count, int *error)
{
	return msgbox_batch(fd, MSGBOX_IOC_RECV_BATCH, msgs, count, error);
}

MSGBOX_API int msgbox_info(int fd, struct msgbox_info *info)
{
	return ioctl(fd, MSGBOX_IOC_INFO, info);
}

MSGBOX_API int msgbox_callmsg(int fd, struct msgbox_call *call)
{
	return ioctl(fd, MSGBOX_IOC_CALL, call);
}

MSGBOX_API ssize_t msgbox_call(int fd, const void *req, size_t req_len,
			       void *rep, size_t rep_size,
			       unsigned long long timeout_ns)
{
	struct msgbox_call c;

	memset(&c, 0, sizeof(c));
	c.request.data = (uint64_t)(uintptr_t)req;
	c.request.len = req_len;
	c.request.type = MSGBOX_TYPE_DEFAULT;
	if (timeout_ns != MSGBOX_FOREVER) {
		c.request.flags = MSGBOX_MSG_TIMEOUT;
		c.request.timeout_ns = timeout_ns;
	}
	c.reply.data = (uint64_t)(uintptr_t)rep;
	c.reply.len = rep_size;
	if (msgbox_callmsg(fd, &c))
		return -1;
	return (ssize_t)c.reply.len;
}

MSGBOX_API int msgbox_replymsg(int fd, struct msgbox_msg *msg)
{
	return ioctl(fd, MSGBOX_IOC_REPLY, msg);
}

MSGBOX_API int msgbox_reply(int fd, unsigned long long token, const void *buf,
			    size_t len)
{
	struct msgbox_msg m;

	msgbox_msg_init(&m, buf, len, 0);
	m.type = MSGBOX_TYPE_DEFAULT;
	m.token = token;
	return msgbox_replymsg(fd, &m);
}

MSGBOX_API int msgbox_reply_recvmsg(int fd, struct msgbox_reply_recv *rr)
{
	return ioctl(fd, MSGBOX_IOC_REPLY_RECV, rr);
}

MSGBOX_API int msgbox_reply_recv(int fd, unsigned long long *token,
				 const void *buf, size_t len,
				 struct msgbox_msg *msg)
{
	struct msgbox_reply_recv rr;
	int ret;

	msgbox_msg_init(&rr.reply, buf, len, 0);
	rr.reply.type = MSGBOX_TYPE_DEFAULT;
	rr.reply.token = *token;
	rr.recv = *msg;
	ret = msgbox_reply_recvmsg(fd, &rr);
	*token = rr.reply.token;
	*msg = rr.recv;
	return ret;
}

MSGBOX_API int msgbox_send_sync(int fd, const void *buf, size_t len,
				unsigned long long timeout_ns)
{
	struct msgbox_msg m;

	msgbox_msg_init(&m, buf, len, MSGBOX_MSG_SYNC);
	m.type = MSGBOX_TYPE_DEFAULT;
	if (timeout_ns != MSGBOX_FOREVER) {
		m.flags |= MSGBOX_MSG_TIMEOUT;
		m.timeout_ns = timeout_ns;
	}
	return msgbox_sendmsg(fd, &m);
}

MSGBOX_API ssize_t msgbox_recv_from(int fd, pid_t pid, void *buf, size_t size,
				    unsigned int flags)
{
	struct msgbox_msg m;

	msgbox_msg_init(&m, buf, size, flags | MSGBOX_MSG_FROM);
	m.sender_pid = pid;
	if (msgbox_recvmsg(fd, &m))
		return -1;
	return (ssize_t)m.len;
}

MSGBOX_API int msgbox_inbox(const struct msgbox_attr *attr,
			    unsigned int fd_flags)
{
	struct msgbox_create c;
	struct msgbox_attr def;

	if (!attr) {
		msgbox_attr_init(&def);
		attr = &def;
	}
	memset(&c, 0, sizeof(c));
	c.max_msgs = attr->max_msgs;
	c.max_msg_size = attr->max_msg_size;
	c.max_bytes = attr->max_bytes;
	c.mode = attr->mode;
	c.fd_flags = fd_flags;
	return msgbox_ctl(MSGBOX_IOC_INBOX, &c);
}

MSGBOX_API int msgbox_open_inbox(pid_t pid, unsigned int fd_flags)
{
	struct msgbox_inbox in;

	memset(&in, 0, sizeof(in));
	in.pid = pid;
	in.fd_flags = fd_flags;
	return msgbox_ctl(MSGBOX_IOC_OPEN_INBOX, &in);
}

MSGBOX_API int msgbox_subscribe(int topic_fd, long long type,
			       unsigned int fd_flags)
{
	struct msgbox_subscribe sa;

	memset(&sa, 0, sizeof(sa));
	sa.fd_flags = fd_flags;
	sa.type = type;
	return ioctl(topic_fd, MSGBOX_IOC_SUBSCRIBE, &sa);
}

static int msgbox_settle(int fd, unsigned long long id, unsigned int flags)
{
	struct msgbox_ack a;

	memset(&a, 0, sizeof(a));
	a.id = id;
	a.flags = flags;
	return ioctl(fd, MSGBOX_IOC_ACK, &a);
}

MSGBOX_API int msgbox_ack(int fd, unsigned long long id)
{
	return msgbox_settle(fd, id, 0);
}

MSGBOX_API int msgbox_nack(int fd, unsigned long long id)
{
	return msgbox_settle(fd, id, MSGBOX_ACK_NACK);
}

MSGBOX_API int msgbox_setattr(int fd, const struct msgbox_setattr *sa)
{
	return ioctl(fd, MSGBOX_IOC_SETATTR, sa);
}

MSGBOX_API int msgbox_notify(int fd, unsigned int how, int efd)
{
	struct msgbox_notify n = { .how = how, .efd = efd };

	return ioctl(fd, MSGBOX_IOC_NOTIFY, &n);
}

MSGBOX_API int msgbox_abi_version(void)
{
	return msgbox_ctl(MSGBOX_IOC_VERSION, NULL);
}
