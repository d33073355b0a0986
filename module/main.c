// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox: kernel-mediated message passing through /dev/msgbox.
 *
 * This file holds the misc device and the module parameters, the
 * system-wide bounds every mailbox is checked against at creation.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include "msgbox.h"

unsigned int msgbox_max_mailboxes = 1024;
unsigned int msgbox_max_msgs = 65536;
unsigned int msgbox_max_msg_size = 4 << 20;
unsigned long msgbox_max_mailbox_bytes = 64 << 20;
unsigned long msgbox_max_total_bytes = 1UL << 30;
unsigned int msgbox_user_max_mailboxes = 256;
unsigned long msgbox_user_max_bytes = 256 << 20;
unsigned int msgbox_poll_ns = 50000;
atomic_long_t msgbox_poll_hits = ATOMIC_LONG_INIT(0);

/* Bounded setters: a limit of 0 would make every create fail. */
static int msgbox_param_set_uint(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, INT_MAX);
}

static int msgbox_param_set_ulong(const char *val, const struct kernel_param *kp)
{
	unsigned long v;
	int ret;

	ret = kstrtoul(val, 0, &v);
	if (ret)
		return ret;
	if (!v || v > (1UL << 40))
		return -EINVAL;
	*(unsigned long *)kp->arg = v;
	return 0;
}

/* A poll longer than a millisecond would only burn the CPU. */
static int msgbox_param_set_poll(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, NSEC_PER_MSEC);
}

static const struct kernel_param_ops msgbox_poll_ops = {
	.set = msgbox_param_set_poll,
	.get = param_get_uint,
};

static const struct kernel_param_ops msgbox_uint_ops = {
	.set = msgbox_param_set_uint,
	.get = param_get_uint,
};

static const struct kernel_param_ops msgbox_ulong_ops = {
	.set = msgbox_param_set_ulong,
	.get = param_get_ulong,
};

module_param_cb(max_mailboxes, &msgbox_uint_ops, &msgbox_max_mailboxes, 0644);
MODULE_PARM_DESC(max_mailboxes, "Maximum number of mailboxes, system-wide (default 1024; ENOSPC)");
module_param_cb(max_msgs, &msgbox_uint_ops, &msgbox_max_msgs, 0644);
MODULE_PARM_DESC(max_msgs, "Largest max_msgs a mailbox may ask for (default 65536)");
module_param_cb(max_msg_size, &msgbox_uint_ops, &msgbox_max_msg_size, 0644);
MODULE_PARM_DESC(max_msg_size, "Largest max_msg_size a mailbox may ask for, bytes (default 4 MiB)");
module_param_cb(max_mailbox_bytes, &msgbox_ulong_ops, &msgbox_max_mailbox_bytes, 0644);
MODULE_PARM_DESC(max_mailbox_bytes, "Largest max_bytes a mailbox may ask for (default 64 MiB)");
module_param_cb(max_total_bytes, &msgbox_ulong_ops, &msgbox_max_total_bytes, 0644);
MODULE_PARM_DESC(max_total_bytes, "Sum of max_bytes over all mailboxes, system-wide (default 1 GiB; ENOSPC)");
module_param_cb(user_max_mailboxes, &msgbox_uint_ops, &msgbox_user_max_mailboxes, 0644);
MODULE_PARM_DESC(user_max_mailboxes, "Mailboxes one user may own (default 256; EDQUOT)");
module_param_cb(user_max_bytes, &msgbox_ulong_ops, &msgbox_user_max_bytes, 0644);
MODULE_PARM_DESC(user_max_bytes, "Sum of max_bytes of one user's mailboxes (default 256 MiB; EDQUOT)");

module_param_cb(poll_ns, &msgbox_poll_ops, &msgbox_poll_ns, 0644);
MODULE_PARM_DESC(poll_ns, "Longest busy poll of a MSGBOX_MSG_POLL wait, ns (default 50000, at most 1000000; 0 turns polling off)");

static int msgbox_param_get_hits(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(kp->arg));
}

static const struct kernel_param_ops msgbox_hits_ops = {
	.get = msgbox_param_get_hits,
};

module_param_cb(poll_hits, &msgbox_hits_ops, &msgbox_poll_hits, 0444);
MODULE_PARM_DESC(poll_hits, "Waits a MSGBOX_MSG_POLL poll ended without a sleep (read-only)");

/* What is charged now (quota.c), for administrators and tests. */
module_param_named(total_mailboxes, msgbox_total_mailboxes, uint, 0444);
MODULE_PARM_DESC(total_mailboxes, "Mailboxes that exist now (read-only)");
module_param_named(total_bytes, msgbox_total_bytes, ulong, 0444);
MODULE_PARM_DESC(total_bytes, "Sum of max_bytes of the mailboxes that exist now (read-only)");

static const struct file_operations msgbox_ctl_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= msgbox_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice msgbox_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "msgbox",
	.fops	= &msgbox_ctl_fops,
	.mode	= 0666,
};

static int __init msgbox_init(void)
{
	int ret;

	/* The first published sizes are ABI: they must never change. */
	BUILD_BUG_ON(sizeof(struct msgbox_create) != MSGBOX_CREATE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct msgbox_open) != MSGBOX_OPEN_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct msgbox_msg) != MSGBOX_MSG_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct msgbox_call) != MSGBOX_CALL_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct msgbox_reply_recv) !=
		     MSGBOX_REPLY_RECV_SIZE_VER0);
	/* msgbox_msg2_in() and msgbox_call_finish() rely on these. */
	BUILD_BUG_ON(offsetof(struct msgbox_call, reply) !=
		     sizeof(struct msgbox_msg));
	BUILD_BUG_ON(offsetof(struct msgbox_reply_recv, recv) !=
		     sizeof(struct msgbox_msg));
	BUILD_BUG_ON(sizeof(struct msgbox_info) != MSGBOX_INFO_SIZE_VER2);
	BUILD_BUG_ON(sizeof(struct msgbox_uring_cmd) != 16);
	BUILD_BUG_ON(sizeof(struct msgbox_ring_setup) !=
		     MSGBOX_RING_SETUP_SIZE_VER0);
	/* Records are MSGBOX_RING_ALIGN-aligned: so must their header be. */
	BUILD_BUG_ON(sizeof(struct msgbox_ring_msg) != 64);

	ret = msgbox_mailbox_init();
	if (ret)
		return ret;
	ret = msgbox_registry_init();
	if (ret)
		goto out_mailbox_exit;
	ret = misc_register(&msgbox_misc);
	if (ret)
		goto out_registry_exit;
	return 0;

out_registry_exit:
	msgbox_registry_exit();
out_mailbox_exit:
	msgbox_mailbox_exit();
	return ret;
}

static void __exit msgbox_exit(void)
{
	misc_deregister(&msgbox_misc);
	msgbox_uring_exit();
	msgbox_registry_exit();
	msgbox_mailbox_exit();
}

module_init(msgbox_init);
module_exit(msgbox_exit);

MODULE_DESCRIPTION("msgbox: kernel-mediated message passing");
MODULE_AUTHOR("The msgbox developers");
MODULE_LICENSE("GPL");
