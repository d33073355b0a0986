// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: the descriptors.  /dev/msgbox's ioctls (create, open, destroy)
 * and the mailbox file: read_iter/write_iter, poll, ioctls, fdinfo.
 *
 * A mailbox file holds one reference on its mailbox (file->private_data),
 * dropped in ->release.  The fops' .owner pins the module while any mailbox
 * file is open, so rmmod refuses with EBUSY until the last one is closed.
 */
#include <linux/anon_inodes.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "msgbox.h"

/* An ioctl command with its size field cleared: the size may vary. */
#define MSGBOX_IOC_BASE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

/**
 * msgbox_copy_arg() - copy an extensible ioctl argument in.
 * @karg:  kernel copy.
 * @ksize: size of the kernel's structure.
 * @ver0:  size of the first version of the structure.
 * @cmd:   the ioctl command; _IOC_SIZE() is the caller's structure size.
 * @arg:   the user pointer.
 *
 * Return: 0, -EINVAL for a size below @ver0, -E2BIG for non-zero bytes past
 * what the kernel knows, -EFAULT.
 */
int msgbox_copy_arg(void *karg, size_t ksize, size_t ver0, unsigned int cmd,
		    unsigned long arg)
{
	size_t usize = _IOC_SIZE(cmd);

	if (usize < ver0)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, u64_to_user_ptr((u64)arg),
				     usize);
}

/* Copy a result out: as much as the caller's structure holds, zero the rest. */
static int msgbox_copy_result(unsigned long arg, unsigned int cmd,
			      const void *karg, size_t ksize)
{
	void __user *uarg = u64_to_user_ptr((u64)arg);
	size_t usize = _IOC_SIZE(cmd);

	if (copy_to_user(uarg, karg, min(usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

static struct msgbox *msgbox_file_box(struct file *file)
{
	return file->private_data;
}

/* The deadline for a MSGBOX_MSG_TIMEOUT of @ns nanoseconds from now. */
static ktime_t msgbox_deadline(u64 ns)
{
	return ktime_add_safe(ktime_get(), ns_to_ktime(min_t(u64, ns, KTIME_MAX)));
}

static ssize_t msgbox_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct msgbox *mb = msgbox_file_box(iocb->ki_filp);
	bool nonblock = (iocb->ki_filp->f_flags & O_NONBLOCK) ||
			(iocb->ki_flags & IOCB_NOWAIT);
	struct msgbox_message *msg;
	size_t len;
	int ret;

	ret = msgbox_recv(mb, iov_iter_count(to), nonblock, NULL, -ERESTARTSYS,
			  &msg);
	if (ret)
		return ret;
	len = msg->len;
	if (copy_to_iter(msg->data, len, to) != len) {
		msgbox_requeue(mb, msg);
		return -EFAULT;
	}
	msgbox_message_free(msg);
	return len;
}

static ssize_t msgbox_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct msgbox *mb = msgbox_file_box(iocb->ki_filp);
	bool nonblock = (iocb->ki_filp->f_flags & O_NONBLOCK) ||
			(iocb->ki_flags & IOCB_NOWAIT);
	size_t len = iov_iter_count(from);
	struct msgbox_message *msg;
	u64 id;
	int ret;

	if (len > mb->max_msg_size)
		return -EMSGSIZE;
	msg = msgbox_message_alloc(len, MSGBOX_TYPE_DEFAULT, 0);
	if (!msg)
		return -ENOMEM;
	if (!copy_from_iter_full(msg->data, len, from)) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = msgbox_send(mb, msg, nonblock, NULL, -ERESTARTSYS, &id);
	if (ret)
		goto out_free;
	return len;

out_free:
	msgbox_message_free(msg);
	return ret;
}

/*
 * Checks shared by MSGBOX_IOC_SEND and MSGBOX_IOC_RECV: flags, reserved
 * fields, and the timeout, which must be zero unless MSGBOX_MSG_TIMEOUT.
 */
static int msgbox_msg_check(const struct msgbox_msg *m)
{
	if (m->flags & ~MSGBOX_MSG_ALL)
		return -EINVAL;
	if (m->__reserved[0] || m->__reserved[1])
		return -EINVAL;
	if (!(m->flags & MSGBOX_MSG_TIMEOUT) && m->timeout_ns)
		return -EINVAL;
	return 0;
}

/*
 * Decode the blocking mode of one operation.  A zero timeout means "try
 * once".  Untimed sleeps restart after a signal with SA_RESTART; timed ones
 * return EINTR, as a restart would begin the full timeout again.
 */
static void msgbox_msg_wait(struct file *file, const struct msgbox_msg *m,
			    bool *nonblock, ktime_t *deadline, bool *timed,
			    int *sig_err)
{
	*nonblock = (file->f_flags & O_NONBLOCK) ||
		    (m->flags & MSGBOX_MSG_NONBLOCK);
	*timed = m->flags & MSGBOX_MSG_TIMEOUT;
	*sig_err = *timed ? -EINTR : -ERESTARTSYS;
	if (*timed) {
		if (!m->timeout_ns)
			*nonblock = true;
		*deadline = msgbox_deadline(m->timeout_ns);
	}
}

static long msgbox_ioc_send(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct msgbox_msg __user *uarg = u64_to_user_ptr((u64)arg);
	struct msgbox *mb = msgbox_file_box(file);
	struct msgbox_message *msg;
	struct msgbox_msg m;
	bool nonblock, timed;
	ktime_t deadline;
	int sig_err;
	int ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = msgbox_copy_arg(&m, sizeof(m), MSGBOX_MSG_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_msg_check(&m);
	if (ret)
		return ret;
	if (m.type < 1 || m.priority)
		return -EINVAL;
	if (m.len > mb->max_msg_size)
		return -EMSGSIZE;
	/* Fail before sending if the id cannot be written back. */
	if (put_user(0, &uarg->id))
		return -EFAULT;
	msgbox_msg_wait(file, &m, &nonblock, &deadline, &timed, &sig_err);

	msg = msgbox_message_alloc(m.len, m.type, m.priority);
	if (!msg)
		return -ENOMEM;
	if (copy_from_user(msg->data, u64_to_user_ptr(m.data), m.len)) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = msgbox_send(mb, msg, nonblock, timed ? &deadline : NULL, sig_err,
			  &m.id);
	if (ret)
		goto out_free;
	/*
	 * Writability of the id was checked before sending; should the
	 * mapping vanish since, the message is sent all the same and an
	 * EFAULT would make a retrying caller send it twice.
	 */
	if (put_user(m.id, &uarg->id))
		pr_debug("msgbox: send id not reported\n");
	return 0;

out_free:
	msgbox_message_free(msg);
	return ret;
}

static long msgbox_ioc_recv(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct msgbox *mb = msgbox_file_box(file);
	struct msgbox_message *msg;
	struct msgbox_msg m;
	bool nonblock, timed;
	ktime_t deadline;
	int sig_err;
	int ret;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	ret = msgbox_copy_arg(&m, sizeof(m), MSGBOX_MSG_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_msg_check(&m);
	if (ret)
		return ret;
	if (m.type)
		return -EINVAL;
	msgbox_msg_wait(file, &m, &nonblock, &deadline, &timed, &sig_err);

	ret = msgbox_recv(mb, m.len, nonblock, timed ? &deadline : NULL,
			  sig_err, &msg);
	if (ret)
		return ret;

	m.len = msg->len;
	m.type = msg->type;
	m.priority = msg->priority;
	m.id = msg->id;
	m.send_time_ns = msg->send_time_ns;
	m.sender_pid = pid_vnr(msg->tgid);
	m.sender_tid = pid_vnr(msg->tid);
	m.sender_uid = from_kuid_munged(current_user_ns(), msg->uid);
	m.sender_gid = from_kgid_munged(current_user_ns(), msg->gid);
	if (copy_to_user(u64_to_user_ptr(m.data), msg->data, msg->len) ||
	    msgbox_copy_result(arg, cmd, &m, sizeof(m))) {
		msgbox_requeue(mb, msg);
		return -EFAULT;
	}
	msgbox_message_free(msg);
	return 0;
}

static long msgbox_ioc_info(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct msgbox_info info;
	int ret;

	if (_IOC_SIZE(cmd) < MSGBOX_INFO_SIZE_VER0)
		return -EINVAL;
	ret = msgbox_fill_info(msgbox_file_box(file), &info);
	if (ret)
		return ret;
	return msgbox_copy_result(arg, cmd, &info, sizeof(info));
}

static long msgbox_file_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	switch (MSGBOX_IOC_BASE(cmd)) {
	case MSGBOX_IOC_BASE(MSGBOX_IOC_SEND):
		return msgbox_ioc_send(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_RECV):
		return msgbox_ioc_recv(file, cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_INFO):
		return msgbox_ioc_info(file, cmd, arg);
	default:
		return -ENOTTY;
	}
}

static __poll_t msgbox_file_poll(struct file *file, poll_table *wait)
{
	struct msgbox *mb = msgbox_file_box(file);
	__poll_t mask;

	poll_wait(file, &mb->poll_wq, wait);
	/* Lost wakeups cannot happen: see the poll paragraph in mailbox.c. */
	mask = msgbox_poll_mask(mb);
	if (!(file->f_mode & FMODE_READ))
		mask &= ~(EPOLLIN | EPOLLRDNORM);
	if (!(file->f_mode & FMODE_WRITE))
		mask &= ~(EPOLLOUT | EPOLLWRNORM);
	return mask;
}

static int msgbox_file_release(struct inode *inode, struct file *file)
{
	msgbox_put(msgbox_file_box(file));
	return 0;
}

static void msgbox_file_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct msgbox_info info;

	bool dead = msgbox_fill_info(msgbox_file_box(file), &info);

	seq_printf(m, "msgbox-name:\t%s%s\n", info.name,
		   dead ? " (destroyed)" : "");
	seq_printf(m, "msgbox-msgs:\t%u/%u\n", info.nr_msgs, info.max_msgs);
	seq_printf(m, "msgbox-bytes:\t%llu/%llu\n", info.nr_bytes,
		   info.max_bytes);
	seq_printf(m, "msgbox-max-msg-size:\t%u\n", info.max_msg_size);
}

static const struct file_operations msgbox_file_fops = {
	.owner		= THIS_MODULE,
	.read_iter	= msgbox_read_iter,
	.write_iter	= msgbox_write_iter,
	.poll		= msgbox_file_poll,
	.unlocked_ioctl	= msgbox_file_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= msgbox_file_release,
	.show_fdinfo	= msgbox_file_show_fdinfo,
};

/**
 * msgbox_install_fd() - open a new descriptor on @mb.
 * @mb:       the mailbox; the new file takes its own reference.
 * @fd_flags: MSGBOX_FD_*, already validated.
 * @filep:    the new file, not yet installed.
 *
 * Returns a reserved descriptor number.  The caller installs @filep with
 * fd_install() once nothing can fail any more, or undoes with fput() and
 * put_unused_fd().
 */
int msgbox_install_fd(struct msgbox *mb, u32 fd_flags, struct file **filep)
{
	int oflags = O_RDWR;
	struct file *file;
	int fd;

	if (!(fd_flags & MSGBOX_FD_SEND))
		oflags = O_RDONLY;
	else if (!(fd_flags & MSGBOX_FD_RECV))
		oflags = O_WRONLY;
	if (fd_flags & MSGBOX_FD_NONBLOCK)
		oflags |= O_NONBLOCK;

	fd = get_unused_fd_flags(fd_flags & MSGBOX_FD_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		return fd;
	file = anon_inode_getfile("[msgbox]", &msgbox_file_fops, mb, oflags);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	msgbox_get(mb);
	/* Datagrams: no file position, no pread/pwrite. */
	stream_open(file_inode(file), file);
	*filep = file;
	return fd;
}

static int msgbox_fd_flags_check(u32 fd_flags)
{
	if (fd_flags & ~MSGBOX_FD_ALL)
		return -EINVAL;
	if (!(fd_flags & (MSGBOX_FD_RECV | MSGBOX_FD_SEND)))
		return -EINVAL;
	return 0;
}

static long msgbox_ioc_create(unsigned int cmd, unsigned long arg)
{
	struct msgbox_create c;
	struct file *file;
	struct msgbox *mb;
	int fd;
	int ret;

	ret = msgbox_copy_arg(&c, sizeof(c), MSGBOX_CREATE_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_name_check(c.name);
	if (ret)
		return ret;
	ret = msgbox_fd_flags_check(c.fd_flags);
	if (ret)
		return ret;
	if (c.flags || c.__pad)
		return -EINVAL;
	if (!c.max_msgs || c.max_msgs > READ_ONCE(msgbox_max_msgs) ||
	    !c.max_msg_size || c.max_msg_size > READ_ONCE(msgbox_max_msg_size) ||
	    c.max_bytes < c.max_msg_size ||
	    c.max_bytes > READ_ONCE(msgbox_max_mailbox_bytes))
		return -EINVAL;

	mb = msgbox_alloc(&c);
	if (!mb)
		return -ENOMEM;
	fd = msgbox_install_fd(mb, c.fd_flags, &file);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	/* Publish last: a failure above leaves no name behind. */
	ret = msgbox_register(mb);
	if (ret)
		goto out_fput;
	fd_install(fd, file);
	return fd;

out_fput:
	fput(file);
	put_unused_fd(fd);
out_put:
	msgbox_put(mb);
	return ret;
}

static long msgbox_ioc_open(unsigned int cmd, unsigned long arg)
{
	struct msgbox_open o;
	struct file *file;
	struct msgbox *mb;
	int ret;
	int fd;

	ret = msgbox_copy_arg(&o, sizeof(o), MSGBOX_OPEN_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_name_check(o.name);
	if (ret)
		return ret;
	ret = msgbox_fd_flags_check(o.fd_flags);
	if (ret)
		return ret;
	if (o.flags)
		return -EINVAL;

	mb = msgbox_lookup(o.name);
	if (!mb)
		return -ENOENT;
	fd = msgbox_install_fd(mb, o.fd_flags, &file);
	msgbox_put(mb);
	if (fd < 0)
		return fd;
	fd_install(fd, file);
	return fd;
}

static long msgbox_ioc_destroy(unsigned int cmd, unsigned long arg)
{
	struct msgbox_open o;
	int ret;

	ret = msgbox_copy_arg(&o, sizeof(o), MSGBOX_OPEN_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = msgbox_name_check(o.name);
	if (ret)
		return ret;
	if (o.fd_flags || o.flags)
		return -EINVAL;
	return msgbox_unregister(o.name);
}

/* ioctls on /dev/msgbox itself. */
long msgbox_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (cmd == MSGBOX_IOC_VERSION)
		return MSGBOX_ABI_VERSION;

	switch (MSGBOX_IOC_BASE(cmd)) {
	case MSGBOX_IOC_BASE(MSGBOX_IOC_CREATE):
		return msgbox_ioc_create(cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_OPEN):
		return msgbox_ioc_open(cmd, arg);
	case MSGBOX_IOC_BASE(MSGBOX_IOC_DESTROY):
		return msgbox_ioc_destroy(cmd, arg);
	default:
		return -ENOTTY;
	}
}
