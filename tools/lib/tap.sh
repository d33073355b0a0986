# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tap.sh: the TAP helpers of the host-side test scripts
# (tools/msgbox-install/check-install.sh, tools/vm/check-profile-summary.sh),
# sourced by them.  The script sets TAP_PREFIX (each test's name is
# TAP_PREFIX.NAME) and T, a scratch directory, before calling t().

n=0 pass=0 fail=0

# t NAME COMMAND: one TAP line; the command's output is shown on failure.
t() {
	n=$((n + 1))
	if (eval "$2") >"$T/log" 2>&1; then
		pass=$((pass + 1))
		echo "ok $n $TAP_PREFIX.$1"
	else
		fail=$((fail + 1))
		sed 's/^/# /' "$T/log" | tail -n 40
		echo "not ok $n $TAP_PREFIX.$1"
	fi
}

# tap_end: the plan last (TAP allows it: no count to keep in step by
# hand), the kselftest totals, and the exit status.
tap_end() {
	echo "1..$n"
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
	((fail == 0))
}
