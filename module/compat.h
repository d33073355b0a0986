/* SPDX-License-Identifier: GPL-2.0 */
/*
 * msgbox: every difference between the kernels msgbox supports (Debian 12's
 * 6.1 and 6.12), as inline functions, so no .c file tests a version.
 */
#ifndef _MSGBOX_COMPAT_H
#define _MSGBOX_COMPAT_H

#include <linux/file.h>
#include <linux/ipc_namespace.h>
#include <linux/proc_ns.h>

/*
 * struct fd became an opaque word in 6.12, read through fd_file(); 6.1
 * has the plain member.
 */
#ifndef fd_file
#define fd_file(f)	((f).file)
#endif

/*
 * Drop a reference taken with get_ipc_ns().  put_ipc_ns() is exported to
 * modules in 6.12 but not in 6.1; on both, the namespace's own operations
 * (what nsfs uses) lead to the same function, so that one path serves.
 */
static inline void msgbox_put_ipc_ns(struct ipc_namespace *ns)
{
	ns->ns.ops->put(&ns->ns);
}

#endif /* _MSGBOX_COMPAT_H */
