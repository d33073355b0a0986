# SPDX-License-Identifier: GPL-2.0
#
# profile-summary.awk: msgbox-vm profile's summary.  Reads
# build/bench/profile-KREL.txt (perf report's symbols per mechanism, the
# profile,ID,... and turns,ID,... lines of msgbox-bench) and prints, per
# mechanism, the share of the samples in each bucket and the microseconds
# of the round trip's median that share stands for (the turns' median if
# they came, else the loop's own).  Sampling needs interrupts on (TCG has
# no PMU for NMIs), so a stretch with them off (the context switch, a
# wake-up under a lock taken with irqsave) is counted where they come
# back on, and has a bucket of its own.
#
# Tested on the host by tools/vm/check-profile-summary.sh.

function bucket(dso, sym) {
	if (dso !~ /^\[kernel/) return "user space"
	if (sym ~ /^(finish_task_switch|_raw_spin_unlock_irq)/)
		return "switches and wake-ups, interrupts off"
	if (sym ~ /^(msgbox_|__msgbox_|eventfd_|do_mq_|mqueue_|wq_|__do_notify|pipe_|do_msg|ksys_msg|store_msg|load_msg|free_msg|msg_|ss_wakeup|testmsg|unix_)/)
		return "the mechanism's own code"
	# Where retbleed's return thunk sits: each return passes there.
	if (sym ~ /^(__static_call_text_end|__softirqentry_text_end|__x86_return_thunk)/)
		return "function returns (the return thunk)"
	if (sym ~ /^(tomoyo_|apparmor_|aa_|security_|bpf_lsm_|hook_file|landlock_|fsnotify|__fsnotify)/)
		return "LSM and fsnotify hooks"
	if (sym ~ /^(ktime_|read_tsc|timekeeping)/) return "clock reads"
	if (sym ~ /^(copy_user|rep_movs_alternative|__get_user|__put_user|_copy_|__check_object_size|__check_heap_object|__virt_addr_valid|check_stack_object)/)
		return "user copies"
	if (sym ~ /^(syscall_|entry_|exit_to_user|__x64_sys|x64_sys_call|do_syscall|__rseq|rseq_|__fget|__fdget|fdget|fput|vfs_read|vfs_write|do_vfs_ioctl|ksys_|__x86_indirect)/)
		return "system call entry, exit, fd lookup"
	if (sym ~ /(schedule|wake|enqueue|dequeue|psi_|update_|pick_next|put_prev|set_next|select_task|ttwu|rcu_note|switch_mm|__switch_to|prepare_to_wait|finish_wait|hrtick|check_preempt|resched|place_entity|cpuacct|reweight|account_)/)
		return "scheduler, interrupts on"
	if (sym ~ /(kmem_cache|kmalloc|kfree|slab|memcg|__alloc|free_)/) return "allocation"
	if (sym ~ /(native_safe_halt|default_idle|cpuidle|do_idle)/) return "idle"
	return "rest of the kernel"
}
/^profile,/ {
	split($0, f, ","); m = f[2]; ms[++nm] = m; ns[m] = f[4]
	vcs[m] = f[6]; ivcs[m] = f[7]
	next
}
/^turns,/ { split($0, f, ","); tn[f[2]] = f[3]; next }
/^ *[0-9.]+%/ {
	pct = $1; sub(/%/, "", pct)
	b = bucket($2, $4)
	if (!(b in seen)) { seen[b] = 1; bs[++nb] = b }
	v[b, m] += pct
	next
}
END {
	# The medians of the turns if they came, else the loops' own.
	for (i = 1; i <= nm; i++) if (ms[i] in tn) ns[ms[i]] = tn[ms[i]]
	printf "%-40s", "% of samples (us of the median)"
	for (i = 1; i <= nm; i++) printf " %15s", ms[i]
	printf "\n%-40s", "64 B round trip, one CPU, median in turns"
	for (i = 1; i <= nm; i++) printf " %12.1f us", ns[ms[i]] / 1000
	printf "\n%-40s", "switches per round trip: sleeps+preempts"
	for (i = 1; i <= nm; i++) printf "     %4.2f+%4.2f", vcs[ms[i]], ivcs[ms[i]]
	printf "\n"
	for (j = 1; j <= nb; j++) {
		printf "%-40s", bs[j]
		for (i = 1; i <= nm; i++)
			printf " %5.1f (%5.1f)", v[bs[j], ms[i]], v[bs[j], ms[i]] * ns[ms[i]] / 100000
		printf "\n"
	}
}
