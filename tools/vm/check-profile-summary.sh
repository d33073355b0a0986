#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-profile-summary.sh: test, on the host, the summary that
# `tools/vm/msgbox-vm profile` makes of perf report's symbols
# (tools/vm/profile-summary.awk): a made-up report of two mechanisms whose
# buckets, shares and microseconds are known.  TAP output; tools/vm/msgbox-vm
# tests counts it.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AWK=$REPO/tools/vm/profile-summary.awk
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "TAP version 13"
TAP_PREFIX=profile_summary
# shellcheck source=tools/lib/tap.sh
. "$REPO/tools/lib/tap.sh"

# What msgbox-vm profile collects: per mechanism, msgbox-bench's profile
# line and perf report's table; then the turns.  The call/reply loop ran
# at 90 us, the turns at 80 us.
cat >"$T/report" <<'EOF'
# profile: eventfd
profile,eventfd,1000,70000,200000,1.60,0.40
# perf report: eventfd
    50.00%  [kernel.kallsyms]  [k] finish_task_switch.isra.0
    20.00%  [unknown]          [.] 0x00007f0000001000
    20.00%  [kernel.kallsyms]  [k] do_syscall_64
    10.00%  [kernel.kallsyms]  [k] eventfd_write
# profile: msgbox-call
profile,msgbox-call,1000,90000,300000,2.00,0.00
# perf report: msgbox-call
    40.00%  [kernel.kallsyms]     [k] finish_task_switch.isra.0
    10.00%  [kernel.kallsyms]     [k] _raw_spin_unlock_irqrestore
    12.00%  [kernel.kallsyms]     [k] msgbox_call_finish
     8.00%  [kernel.kallsyms]     [k] msgbox_recv_req_deliver
    15.00%  [unknown]             [.] 0x00007f0000002000
     5.00%  [kernel.kallsyms]     [k] tomoyo_init_request_info
     2.50%  [kernel.kallsyms]     [k] ktime_get_with_offset
     2.50%  [kernel.kallsyms]     [k] __get_user_8
     4.00%  [kernel.kallsyms]     [k] kmem_cache_alloc
     1.00%  [kernel.kallsyms]     [k] some_other_function
# turns
turns,eventfd,70000,200000
turns,msgbox-call,80000,250000
EOF
awk -f "$AWK" <"$T/report" >"$T/summary"
sed 's/^/# /' "$T/summary"

# row LABEL: what follows LABEL (part of a row's label) in its row.
row() {
	local l
	l=$(grep -F -- "$1" "$T/summary" | head -n 1)
	echo "${l#*"$1"}"
}

# cell LABEL COLUMN: one mechanism's "share (us)" of a bucket row,
# COLUMN 1 or 2 (the last four fields are the two mechanisms'), as
# "share us".
cell() {
	row "$1" | tr -d '()' | awk -v c="$2" '{ print $(NF - 4 + 2 * c - 1), $(NF - 4 + 2 * c) }'
}

t columns_in_report_order '
	head -n 1 "$T/summary" | grep -Eq "eventfd +msgbox-call$"'

t medians_from_the_turns '
	[ "$(row "median in turns" | tr -s " ")" = " 70.0 us 80.0 us" ]'

t switches_from_the_profile_lines '
	[ "$(row "sleeps+preempts" | tr -s " ")" = " 1.60+0.40 2.00+0.00" ]'

t interrupts_off_bucket_adds_its_symbols '
	[ "$(cell "switches and wake-ups" 2)" = "50.0 40.0" ] &&
	[ "$(cell "switches and wake-ups" 1)" = "50.0 35.0" ]'

t own_code_per_mechanism '
	[ "$(cell "own code" 1)" = "10.0 7.0" ] &&
	[ "$(cell "own code" 2)" = "20.0 16.0" ]'

t other_buckets '
	[ "$(cell "user space" 2)" = "15.0 12.0" ] &&
	[ "$(cell "LSM and fsnotify" 2)" = "5.0 4.0" ] &&
	[ "$(cell "clock reads" 2)" = "2.5 2.0" ] &&
	[ "$(cell "user copies" 2)" = "2.5 2.0" ] &&
	[ "$(cell "allocation" 2)" = "4.0 3.2" ] &&
	[ "$(cell "rest of the kernel" 2)" = "1.0 0.8" ] &&
	[ "$(cell "system call entry" 1)" = "20.0 14.0" ]'

t absent_bucket_is_zero '
	[ "$(cell "clock reads" 1)" = "0.0 0.0" ]'

t shares_add_up_to_all_samples '
	for c in 1 2; do
		s=$(grep -v -e "^%" -e "median in turns" -e "sleeps+preempts" "$T/summary" |
			tr -d "()" | awk -v c=$c "{ s += \$(NF - 4 + 2 * c - 1) } END { print s }")
		[ "$s" = 100 ] || { echo "column $c adds up to $s"; exit 1; }
	done'

# Without the turns (they failed), the loops' own medians stand.
grep -v '^turns,' "$T/report" | awk -f "$AWK" >"$T/summary"
t loop_medians_without_turns '
	[ "$(row "median in turns" | tr -s " ")" = " 70.0 us 90.0 us" ] &&
	[ "$(cell "own code" 2)" = "20.0 18.0" ]'

tap_end
