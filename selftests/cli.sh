#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# msgbox selftests: the msgbox command-line tool, end to end, as a user
# would drive it from a shell.  TAP output like the harness programs.

MSGBOX=${MSGBOX:-msgbox}
name=ksft-cli-$$
topic=ksft-clit-$$
n=0 pass=0 fail=0
tmp=${TMPDIR:-/tmp}/cli-$$

t() {
	n=$((n + 1))
	if eval "$2" >"$tmp.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok $n cli.$1"
	else
		fail=$((fail + 1))
		sed 's/^/# /' "$tmp.log"
		echo "not ok $n cli.$1"
	fi
}

# Wait up to 10 s for a file to contain a line.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}

echo "TAP version 13"
echo "1..9"
if [ ! -e /dev/msgbox ]; then
	echo "# /dev/msgbox missing"
fi

t create_send_and_verbose_recv \
  '$MSGBOX create $name -m 4 -M 0644 &&
   $MSGBOX send -T 3 -p 2 $name hello world &&
   $MSGBOX recv -v $name | grep -q "type=3 prio=2 pid=[0-9]* uid=0 len=11: hello world"'
t nonblocking_recv_on_empty_fails \
  '! $MSGBOX recv -n $name 2>&1 | grep -v "Resource temporarily unavailable" | grep -q . &&
   ! $MSGBOX recv -n $name'
t info_reports_counters_and_mode \
  '$MSGBOX info $name | grep -q "sent: *1" &&
   $MSGBOX info $name | grep -q "mode 0644"'
t list_shows_the_mailbox \
  '$MSGBOX list | grep -q "^$name 0 0 0644 "'
t chmod_changes_the_mode \
  '$MSGBOX chmod $name 640 && $MSGBOX info $name | grep -q "mode 0640"'
t call_gets_the_servers_reply \
  '$MSGBOX serve $name -c 1 & pid=$!;
   reply=$($MSGBOX call -t 10000 $name ping pong); wait $pid;
   [ "$reply" = "PING PONG" ]'
t subscribe_prints_every_publication \
  '$MSGBOX create $topic -p &&
   ($MSGBOX subscribe $topic -c 2 >"$tmp.sub" &) &&
   wait_for "$tmp.sub" subscribed &&
   $MSGBOX send $topic first && $MSGBOX send $topic second &&
   wait_for "$tmp.sub" second && grep -q first "$tmp.sub"'
t send_larger_than_max_is_refused \
  '$MSGBOX create $name-s -s 8 && ! echo 123456789 | $MSGBOX send $name-s'
t destroy_removes_the_name \
  '$MSGBOX destroy $name && ! $MSGBOX info $name 2>/dev/null &&
   $MSGBOX destroy $topic && $MSGBOX destroy $name-s'

rm -f "$tmp.log" "$tmp.sub"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail -eq 0 ]
