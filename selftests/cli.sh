#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# msgbox selftests: msgboxctl end to end, as a user drives it from a shell:
# every subcommand, its exit status, its human output and its JSON (checked
# by a JSON grammar in awk, since the guest has only busybox).  TAP output
# like the harness programs.

M=${MSGBOXCTL:-msgboxctl}
name=ksft-cli-$$
n=0 pass=0 fail=0
tmp=${TMPDIR:-/tmp}/cli-$$

t() {
	n=$((n + 1))
	if (eval "$2") >"$tmp.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok $n cli.$1"
	else
		fail=$((fail + 1))
		sed 's/^/# /' "$tmp.log"
		echo "not ok $n cli.$1"
	fi
}

# rc WANT CMD...: CMD exits with status WANT (its stderr goes to $tmp.err).
rc() {
	want=$1
	shift
	"$@" 2>"$tmp.err"
	got=$?
	[ "$got" -eq "$want" ] && return 0
	echo "exit status $got, not $want: $*"
	cat "$tmp.err"
	return 1
}

# err TEXT: the last rc's stderr says TEXT.
err() {
	grep -q "$1" "$tmp.err" || { echo "stderr lacks '$1':"; cat "$tmp.err"; return 1; }
}

# Wait up to 10 s for file $1 to contain a line matching $2.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "timed out waiting for '$2' in $1"; return 1; }
		sleep 0.1
	done
}

# json_ok: standard input is one or more lines, each one valid JSON value
# (RFC 8259); fails on empty input.
json_ok() {
	awk '
	function ws() { while (p <= n && substr(s, p, 1) ~ /^[ \t]$/) p++ }
	function val(   c) {
		ws(); c = substr(s, p, 1)
		if (c == "{") return obj()
		if (c == "[") return arr()
		if (c == "\"") return str()
		if (substr(s, p, 4) == "true" || substr(s, p, 4) == "null") { p += 4; return 1 }
		if (substr(s, p, 5) == "false") { p += 5; return 1 }
		return num()
	}
	function obj(   c) {
		p++; ws()
		if (substr(s, p, 1) == "}") { p++; return 1 }
		for (;;) {
			ws(); if (!str()) return 0
			ws(); if (substr(s, p, 1) != ":") return 0
			p++; if (!val()) return 0
			ws(); c = substr(s, p, 1); p++
			if (c == "}") return 1
			if (c != ",") return 0
		}
	}
	function arr(   c) {
		p++; ws()
		if (substr(s, p, 1) == "]") { p++; return 1 }
		for (;;) {
			if (!val()) return 0
			ws(); c = substr(s, p, 1); p++
			if (c == "]") return 1
			if (c != ",") return 0
		}
	}
	function str(   c, e) {
		if (substr(s, p, 1) != "\"") return 0
		p++
		while (p <= n) {
			c = substr(s, p, 1)
			if (c == "\"") { p++; return 1 }
			if (c == "\\") {
				e = substr(s, p + 1, 1)
				if (e ~ /^["\\\/bfnrt]$/) p += 2
				else if (e == "u" && substr(s, p + 2, 4) ~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/) p += 6
				else return 0
				continue
			}
			if (c ~ /^[\001-\037]$/) return 0
			p++
		}
		return 0
	}
	function num() {
		if (!match(substr(s, p), /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) return 0
		p += RLENGTH
		return 1
	}
	{ s = $0; n = length(s); p = 1; if (!val()) bad = 1; ws(); if (p <= n) bad = 1 }
	END { if (NR == 0) bad = 1; if (bad) print "invalid JSON"; exit bad }'
}

# The checker itself must reject what is not JSON.
json_checker_rejects_garbage() {
	for bad in '{"a":1,}' '{"a" 1}' '[1,2' '"x' '{"a":01}' '{"a":tru}' '{"a":"\q"}' '' '{} x'; do
		if printf '%s\n' "$bad" | json_ok >/dev/null; then
			echo "accepted: $bad"
			return 1
		fi
	done
	printf '%s\n' '{"a":[1,-2.5e3,"x\"\\\u00e9",true,false,null,{}],"b":[]}' | json_ok
}

echo "TAP version 13"
echo "1..31"
[ -e /dev/msgbox ] || echo "# /dev/msgbox missing"

t json_checker_works json_checker_rejects_garbage

t help_for_every_subcommand '
	for c in list stat create destroy set send recv call serve publish subscribe top version; do
		$M $c --help >"$tmp.h" || { echo "$c --help failed"; exit 1; }
		grep -q "^usage: msgboxctl $c" "$tmp.h" || { echo "$c --help:"; cat "$tmp.h"; exit 1; }
		$M help $c | grep -q "^usage: msgboxctl $c" || exit 1
	done
	$M --help | grep -q "^  top " && $M --help | grep -q "7 module not loaded"'

t usage_errors_exit_2 '
	rc 2 $M && rc 2 $M frobnicate && err "unknown command" &&
	rc 2 $M recv && err "missing argument" &&
	rc 2 $M recv --bogus x && err "Try .msgboxctl recv --help" &&
	rc 2 $M create x -s 12Q && err "bad message size" &&
	rc 2 $M create x -M 0999 && err "bad mode" &&
	rc 2 $M send -T 0 x hi && err "type is 1 or more" &&
	rc 2 $M send -p 40000 x hi && rc 2 $M recv -n -t 5 x &&
	rc 2 $M stat a b && err "unexpected argument .b." &&
	rc 2 $M set x && err "nothing to set" && rc 2 $M top -d 0'

t create_sets_limits_and_exact_mode '
	umask 077 &&
	$M create $name -m 4 -s 64 -b 256 -M 0644 &&
	$M stat --json $name >"$tmp.j" && json_ok <"$tmp.j" &&
	grep -q "\"name\":\"$name\",\"max_msgs\":4,\"max_msg_size\":64,\"max_bytes\":256,\"nr_msgs\":0," "$tmp.j" &&
	grep -q "\"mode\":\"0644\",\"flags\":\[\]" "$tmp.j"'

t create_existing_exits_1 '
	rc 1 $M create $name && err "create .$name.: File exists (a mailbox by that name exists)"'

t send_then_verbose_recv '
	$M send -T 3 -p 2 $name hello world &&
	$M recv -v $name >"$tmp.o" &&
	grep -qx "id=[0-9]* type=3 prio=2 len=11 pid=[0-9]* uid=0 gid=0: hello world" "$tmp.o"'

t send_json_reports_the_id '
	$M send --json $name one >"$tmp.j" && $M send --json $name two >>"$tmp.j" &&
	json_ok <"$tmp.j" && [ $(wc -l <"$tmp.j") -eq 2 ] &&
	a=$(sed -n "1s/^{\"id\":\([0-9]*\),\"len\":3}$/\1/p" "$tmp.j") &&
	b=$(sed -n "2s/^{\"id\":\([0-9]*\),\"len\":3}$/\1/p" "$tmp.j") &&
	[ -n "$a" ] && [ "$b" -eq $((a + 1)) ] &&
	[ "$($M recv -c 2 $name)" = "one
two" ]'

t recv_json_escapes_text_and_hexes_binary '
	printf "q\"b\\\\t\tz" | $M send -T 5 $name &&
	printf "\377\001" | $M send $name &&
	$M recv --json -c 2 $name >"$tmp.j" && json_ok <"$tmp.j" &&
	grep -q "^{\"id\":[0-9]*,\"type\":5,\"priority\":0,\"len\":7,\"sender_pid\":[1-9][0-9]*,.*\"sender_uid\":0,\"sender_gid\":0,.*\"deliveries\":1,\"request\":false,\"payload\":\"q\\\\\"b\\\\\\\\t\\\\tz\"}$" "$tmp.j" &&
	grep -q "\"len\":2,.*\"payload_hex\":\"ff01\"}$" "$tmp.j"'

t stdin_verbatim_and_lines '
	printf "x\n" | $M send $name &&
	$M recv --json $name | grep -q "\"len\":2,.*\"payload\":\"x\\\\n\"" &&
	printf "y\n" | $M send $name && $M recv $name >"$tmp.o" && [ $(wc -c <"$tmp.o") -eq 2 ] &&
	$M send $name z && $M recv $name >"$tmp.o" && [ $(wc -c <"$tmp.o") -eq 2 ] &&
	printf "a\nb\nc" | $M send --lines $name &&
	[ "$($M recv -c 3 $name)" = "a
b
c" ]'

t empty_nonblocking_recv_exits_5 '
	rc 5 $M recv -n $name && err "recv .$name.: Resource temporarily unavailable (mailbox empty)"'

t recv_timeout_exits_4 '
	rc 4 $M recv -t 100 $name && err "timed out"'

t full_mailbox_send_exits_5_or_4 '
	for i in 1 2 3 4; do $M send $name m$i || exit 1; done &&
	rc 5 $M send -n $name m5 && err "(mailbox full)" &&
	rc 4 $M send -t 50 $name m5 &&
	[ "$($M recv -c 4 $name | tr "\n" " ")" = "m1 m2 m3 m4 " ]'

t missing_mailbox_exits_3 '
	rc 3 $M recv -n $name-none && err "No such file or directory (no mailbox by that name)" &&
	rc 3 $M destroy $name-none && rc 3 $M stat $name-none && rc 3 $M send $name-none x'

t oversized_send_exits_1 '
	rc 1 $M send $name 01234567890123456789012345678901234567890123456789012345678901234 &&
	err "Message too long (message larger than the mailbox.s max message size)"'

t priority_selectors_and_peek '
	$M send -p 0 $name low && $M send -p 9 $name high &&
	[ "$($M recv $name)" = high ] && [ "$($M recv $name)" = low ] &&
	$M send -T 2 $name two && $M send -T 7 $name seven && $M send -T 4 $name four &&
	[ "$($M recv -T 7 $name)" = seven ] &&
	[ "$($M recv -T 2 -x $name)" = four ] &&
	[ "$($M recv -P $name)" = two ] &&
	$M stat --json $name | grep -q "\"nr_msgs\":1," &&
	[ "$($M recv -T -3 $name)" = two ] && rc 5 $M recv -n $name'

t stat_counts_exactly '
	$M create $name-c && $M send $name-c a && $M send $name-c bb && $M send $name-c ccc &&
	$M recv $name-c >/dev/null &&
	$M stat --json $name-c >"$tmp.j" && json_ok <"$tmp.j" &&
	grep -q "\"nr_msgs\":2,\"nr_bytes\":5,\"sent\":3,\"received\":1," "$tmp.j" &&
	grep -q "\"hwm_msgs\":3,\"hwm_bytes\":6," "$tmp.j" &&
	grep -q "\"inbox_pid\":0,\"notify_pid\":0," "$tmp.j" &&
	$M stat $name-c >"$tmp.o" &&
	grep -q "^messages: *2 / 256 (most ever 3)" "$tmp.o" &&
	grep -q "^sent: *3$" "$tmp.o" && grep -q "^received: *1$" "$tmp.o"'

t list_table_and_json '
	$M list >"$tmp.o" &&
	grep -q "^NAME  *UID:GID  *MODE  *MSGS/MAX" "$tmp.o" &&
	grep -q "^$name  *0:0  *0644  *0/4  *0/256  *64 " "$tmp.o" &&
	grep -q "^$name-c  *0:0 .* 2/256 .* 3  *1 -$" "$tmp.o" &&
	$M list --json >"$tmp.j" && json_ok <"$tmp.j" && [ $(wc -l <"$tmp.j") -eq 1 ] &&
	grep -q "{\"name\":\"$name-c\",\"uid\":0,\"gid\":0,\"mode\":\"0600\",\"msgs\":2,\"max_msgs\":256,\"bytes\":5,\"max_bytes\":1048576,\"max_msg_size\":8192,\"sent\":3,\"received\":1,\"flags\":\[\]}" "$tmp.j"'

t set_changes_mode_and_limits '
	$M set $name --mode 0640 -m 8 &&
	$M stat --json $name >"$tmp.j" &&
	grep -q "\"max_msgs\":8,\"max_msg_size\":64,\"max_bytes\":256," "$tmp.j" &&
	grep -q "\"mode\":\"0640\"" "$tmp.j" &&
	$M set --json $name -s 128 -b 1K >"$tmp.j" && json_ok <"$tmp.j" &&
	grep -q "\"max_msgs\":8,\"max_msg_size\":128,\"max_bytes\":1024," "$tmp.j" &&
	rc 1 $M set $name -s 2048 -b 1024 && err "Invalid argument" &&
	$M set $name --max-deliveries 3 --dead-letter $name-c --ack-timeout 5000 &&
	$M stat --json $name | grep -q "\"max_deliveries\":3,\"ack_timeout_ns\":5000000000,"'

t call_and_serve '
	$M serve $name -c 1 & pid=$!
	reply=$($M call -t 10000 $name ping pong); wait $pid || exit 1
	[ "$reply" = "PING PONG" ] || { echo "reply: $reply"; exit 1; }
	$M serve $name -c 1 --exec "read x; echo \"got \$x type \$MSGBOX_TYPE\"" & pid=$!
	$M call --json -T 4 $name abc >"$tmp.j"; wait $pid || exit 1
	json_ok <"$tmp.j" && grep -q "\"request\":false,\"payload\":\"got abc type 4\\\\n\"}" "$tmp.j" &&
	$M serve $name -c 1 --echo & pid=$!
	[ "$(echo -n same | $M call $name)" = same ] && wait $pid'

t call_without_server_exits_4 '
	rc 4 $M call -t 100 $name anyone && err "call .$name.: Connection timed out"'

t publish_and_subscribe '
	$M create --topic $name-t &&
	($M subscribe --json -c 2 $name-t >"$tmp.s" 2>"$tmp.r" &) &&
	wait_for "$tmp.r" "subscribed to .$name-t." &&
	$M publish $name-t first && $M publish -T 2 $name-t second &&
	wait_for "$tmp.s" second && json_ok <"$tmp.s" &&
	sed -n 1p "$tmp.s" | grep -q "\"type\":1,.*\"payload\":\"first\"}$" &&
	sed -n 2p "$tmp.s" | grep -q "\"type\":2,.*\"payload\":\"second\"}$" &&
	$M stat --json $name-t | grep -q "\"flags\":\[\"topic\"\]" &&
	rc 1 $M publish $name hi && err "publish .$name.: Operation not supported (not a topic)" &&
	rc 1 $M recv -n $name-t && err "use subscribe"'

t top_batch_counts_messages '
	$M create $name-top &&
	($M top --json -n 2 -d 3 $name-top >"$tmp.t" &) &&
	wait_for "$tmp.t" "\"mailboxes\"" &&
	$M send $name-top 1 && $M send $name-top 2 && $M send $name-top 3 &&
	$M recv $name-top >/dev/null &&
	wait_for "$tmp.t" "\"sent_delta\":3" && json_ok <"$tmp.t" && [ $(wc -l <"$tmp.t") -eq 2 ] &&
	sed -n 1p "$tmp.t" | grep -q "\"mailboxes\":\[{\"name\":\"$name-top\",\"msgs\":0,\"bytes\":0,\"sent\":0,\"received\":0,\"sent_delta\":0,\"received_delta\":0," &&
	sed -n 2p "$tmp.t" | grep -q "{\"name\":\"$name-top\",\"msgs\":2,\"bytes\":2,\"sent\":3,\"received\":1,\"sent_delta\":3,\"received_delta\":1,\"sent_per_s\":[1-9]" &&
	$M top -b -n 1 -d 0.1 >"$tmp.o" &&
	grep -q "^msgboxctl top - .* mailboxes" "$tmp.o" &&
	grep -q "^NAME  *QUEUED  *BYTES  *SENT/s  *RECV/s" "$tmp.o" &&
	grep -q "^$name-top  *2  *2  *0.0  *0.0  *3  *1  *0/0 " "$tmp.o"'

# Exit status 6 needs another user: busybox su to "nobody", whose entry
# is made only in a guest that has no /etc/passwd at all.
if [ ! -e /etc/passwd ]; then
	mkdir -p /etc
	echo "nobody:x:65534:65534:nobody:/:/bin/sh" >/etc/passwd
	echo "nogroup:x:65534:" >/etc/group
fi
if grep -q "^nobody:" /etc/passwd && su nobody -s /bin/sh -c true 2>/dev/null; then
	t permission_denied_exits_6 '
		$M create $name-p -M 0600 &&
		rc 6 su nobody -s /bin/sh -c "$M recv -n $name-p" &&
		err "open .$name-p.: Permission denied (the mailbox.s mode denies this access)" &&
		$M set $name-p --mode 0606 &&
		su nobody -s /bin/sh -c "$M send $name-p from-nobody" &&
		$M recv -v $name-p | grep -qx "id=1 type=1 prio=0 len=11 pid=[0-9]* uid=65534 gid=65534: from-nobody" &&
		rc 6 su nobody -s /bin/sh -c "$M destroy $name-p" &&
		err "destroy .$name-p.: Operation not permitted (only its owner may do that)" &&
		rc 6 su nobody -s /bin/sh -c "$M set $name-p --mode 0666" &&
		$M destroy $name-p'
else
	n=$((n + 1))
	echo "ok $n cli.permission_denied_exits_6 # SKIP no user nobody to switch to"
fi

t version_reports_the_module_abi '
	$M version --json >"$tmp.j" && json_ok <"$tmp.j" &&
	grep -q "\"abi\":1,\"module_abi\":1}" "$tmp.j" && $M --version | grep -q "module ABI 1"'

t destroy_unlink_leaves_a_waiting_receiver_waiting '
	$M create $name-u && $M send $name-u first &&
	{ $M recv -c 2 $name-u >"$tmp.r" & } && pid=$! &&
	n=0; until [ "$(wc -l <"$tmp.r")" -eq 1 ] || [ $n -ge 200 ]; do sleep 0.1; n=$((n + 1)); done &&
	$M destroy --unlink $name-u && rc 3 $M stat $name-u && rc 3 $M destroy -u $name-u &&
	sleep 1 && kill -0 $pid && kill $pid && ! wait $pid &&
	[ "$(cat "$tmp.r")" = first ]'

t recv_takes_a_message_queued_before_the_size_limit_went_down '
	$M create -s 200 $name-z && head -c 200 /dev/zero | tr "\0" a | $M send $name-z &&
	$M set -s 100 $name-z && $M recv $name-z >"$tmp.o" &&
	[ "$(wc -c <"$tmp.o")" -ge 200 ] && $M destroy $name-z'

t set_keeps_a_rendezvous_channel_a_channel '
	$M create -m 0 $name-ch && $M set -s 100 $name-ch &&
	$M stat --json $name-ch | grep -q "\"max_msgs\":0,\"max_msg_size\":100,\"max_bytes\":0" &&
	$M create $name-ch2 && $M set -m 0 $name-ch2 &&
	$M stat --json $name-ch2 | grep -q "\"max_msgs\":0," &&
	$M destroy $name-ch $name-ch2'

t numbers_with_blanks_signs_or_no_digits_are_usage_errors '
	rc 2 $M recv -c " -1" $name && rc 2 $M create -b "	-5" $name-n &&
	rc 2 $M create -s K $name-n && rc 2 $M recv --from 4294967295 $name &&
	rc 3 $M stat $name-n'

t serve_answers_a_reply_too_large_for_its_caller_empty '
	$M create -s 64 $name-sv &&
	{ $M serve -c 1 --exec "seq 100" $name-sv 2>"$tmp.s" & } && spid=$! &&
	rc 0 $M call -t 20000 $name-sv x >"$tmp.o" && [ -z "$(cat "$tmp.o")" ] &&
	! wait $spid && grep -q "sent an empty reply" "$tmp.s" &&
	$M destroy $name-sv'

t serve_answers_calls_in_turn_and_skips_plain_messages '
	{ $M serve -c 3 $name & } && spid=$! &&
	[ "$($M call -t 20000 $name a)" = A ] && $M send $name plain &&
	[ "$($M call -t 20000 $name b)" = B ] &&
	[ "$($M call -t 20000 $name c)" = C ] && wait $spid &&
	rc 5 $M recv -n $name'

t serve_answers_each_reply_too_large_empty_and_goes_on '
	$M create -s 64 $name-s2 &&
	{ $M serve -c 2 --exec "seq 100" $name-s2 2>"$tmp.s" & } && spid=$! &&
	rc 0 $M call -t 20000 $name-s2 x >"$tmp.o" && [ -z "$(cat "$tmp.o")" ] &&
	rc 0 $M call -t 20000 $name-s2 y >"$tmp.o" && [ -z "$(cat "$tmp.o")" ] &&
	! wait $spid && [ "$(grep -c "sent an empty reply" "$tmp.s")" = 2 ] &&
	$M destroy $name-s2'

t stop_and_continue_do_not_break_a_timed_recv '
	$M create $name-st &&
	{ $M recv -t 60000 $name-st >"$tmp.o" & } && rpid=$! &&
	n=0; until $M stat --json $name-st | grep -q "\"recv_waiters\":1"; do n=$((n + 1)); [ $n -gt 100 ] && break; sleep 0.1; done &&
	kill -STOP $rpid && sleep 0.3 && kill -CONT $rpid && sleep 0.3 &&
	$M send $name-st after-stop && wait $rpid && [ "$(cat "$tmp.o")" = after-stop ] &&
	$M destroy $name-st'

t destroy_removes_every_name '
	$M destroy $name $name-c $name-t $name-top &&
	rc 3 $M stat $name && rc 3 $M destroy $name &&
	! $M list | grep -q "^$name"'

rm -f "$tmp.log" "$tmp.err" "$tmp.h" "$tmp.j" "$tmp.o" "$tmp.s" "$tmp.r" "$tmp.t"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail -eq 0 ]
