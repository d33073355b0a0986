#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# msgbox selftests: the guest half of msgbox-vm profile, so that it cannot
# rot.  perf record samples CPU 0 around msgbox-bench --profile's call/reply
# loop; the loop must report its round trips and its context switches
# (about two per round trip on one CPU: each side sleeps once, and other
# tasks may preempt now and then), and perf report must name the module's
# functions (resolved through /proc/kallsyms).  msgbox-vm
# copies Debian's perf (linux-perf) into the guest; without it, a skip.

PERF=${PERF:-perf}
BENCH=${MSGBOX_BENCH:-msgbox-bench}
tmp=${TMPDIR:-/tmp}/profile-$$
n=0 pass=0 fail=0 skip=0

t() {
	n=$((n + 1))
	if (eval "$2") >"$tmp.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok $n profile.$1"
	else
		fail=$((fail + 1))
		sed 's/^/# /' "$tmp.log"
		echo "not ok $n profile.$1"
	fi
}

echo "TAP version 13"
echo "1..2"
if ! command -v "$PERF" >/dev/null 2>&1; then
	for c in loop_reports_round_trips_and_two_switches_each \
		 perf_names_the_module_functions; do
		n=$((n + 1)) skip=$((skip + 1))
		echo "ok $n profile.$c # SKIP no $PERF in this guest"
	done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:$skip error:0"
	exit 4
fi

# As msgbox-vm profile does: kernel addresses for perf report.
kptr=$(cat /proc/sys/kernel/kptr_restrict)
echo 0 >/proc/sys/kernel/kptr_restrict
"$PERF" record -q -N -B -C 0 -e cpu-clock -F 1000 -o "$tmp.data" -- \
	"$BENCH" --profile 0.5 --only msgbox-call >"$tmp.out" 2>&1
echo "# perf record: exit $?"
sed 's/^/# /' "$tmp.out"
"$PERF" report -i "$tmp.data" --stdio -q --sort sym >"$tmp.rep" 2>/dev/null
echo "# perf report: exit $?, $(wc -l <"$tmp.rep") lines"
echo "$kptr" >/proc/sys/kernel/kptr_restrict

# profile,ID,round trips,median ns,p99 ns,sleeps,preempts per round trip
t loop_reports_round_trips_and_two_switches_each '
	line=$(grep "^profile,msgbox-call," "$tmp.out") || exit 1
	echo "$line" | awk -F, "{ s = \$6 + \$7; exit !(\$3 >= 100 && \$4 > 0 && s > 1.8 && s < 2.5) }"'
t perf_names_the_module_functions '
	c=$(grep -c "\[k\] msgbox_" "$tmp.rep")
	[ "$c" -ge 3 ] && exit 0
	echo "$c functions of the module in perf report; its top:"
	head -8 "$tmp.rep"
	exit 1'

rm -f "$tmp".*
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ]
