#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Steering programs swapped live under traffic:
#   guest A -> iothread A -> pA -> OVS -> pB -> iothread B -> guest B (and back)
# with 4 queue pairs, both guests sending at a steady rate while:
#  1. bad programs are offered to iothread B, through ringportctl and as raw
#     requests: each is refused with its reason, the running program stays,
#     traffic keeps flowing;
#  2. iothread B's to-guest program becomes to_queue.bpf.o (every packet to
#     queue user[0] = 0): from then on guest B receives on queue 0 only;
#  3. `rss set --user 3` on B: from then on queue 3 only;
#  4. iothread A's to-switch program becomes to_queue.bpf.o with user[0] =
#     2: from then on every packet to the switch is on ring 2;
#  5. both go back to rss.bpf.o.
# Then the guests stop sending (SIGUSR1), the path drains, and every frame
# one guest sent arrived at the other exactly once, intact (the guests run
# with --reorder-ok: a flow moved to another queue may be overtaken, never
# lost), and no iothread dropped anything.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"
. "$rp_top/tests/lib/topo.sh"

rp_need_root
rp_need_hugepages 768
rp_need_ringport_bins
rp_need_iothread_bins
xdp=${RP_XDP_DIR:?} tbpf=${RP_TEST_BPF_DIR:?}
RATE=${RINGPORT_IT_RATE:-4000}
Q=4

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
d=$sb/steer
rp_it_dir "$d"

rp_topo_iothread ia "$d" a --queues $Q --cpus 0 --poll adaptive
rp_topo_iothread ib "$d" b --queues $Q --cpus 1 --poll adaptive
rp_topo_wait "$d" a b
rp_topo_cross "$sb" br0 100 200
rp_topo_port "$sb" br0 "$d" a pA 0 "options:n_rxq=$Q" ofport_request=100
rp_topo_port "$sb" br0 "$d" b pB 1 "options:n_rxq=$Q" ofport_request=200

for g in b a; do
	"$vguest" --vhost "$d/$g-vhost.sock" --queues $Q --send 1000000000 --forever --flows 61 \
		--rate "$RATE" --reorder-ok --go-file "$d/go" \
		>"$d/g$g.json" 2>"$d/g$g.err" &
	eval "g$g=$!"
	rp_on_exit rp_kill_pid $!
done

# st CTL FILTER: a jq filter over the status object (jq, not python: this
# runs dozens of times on CPUs the pollers keep busy).
st() { "$ctl" --ctl "$1" status | jq -r "$2"; }
ready() { [ "$(st "$1" '.link == "up" and .vhost.rx_queues == '$Q)" = true ]; }
rp_wait_for 30 "guests and ports ready" ready "$d/a.sock.ctl" &&
	rp_wait_for 30 "guest B ready" ready "$d/b.sock.ctl" ||
	{ tail "$d"/*.log "$d"/*.err >&2; rp_fail "not ready"; }
for c in a b; do
	prog=$(st "$d/$c.sock.ctl" '.steering.to_switch.program + " " + .steering.to_guest.program')
	[ "$prog" = "$(realpath "$xdp/rss.bpf.o") $(realpath "$xdp/rss.bpf.o")" ] ||
		rp_fail "iothread $c runs '$prog', not rss.bpf.o by default"
done
touch "$d/go"
tg_total() { st "$d/b.sock.ctl" '[.queues[].to_guest.packets] | add'; }
above() { [ "$(tg_total)" -ge "$1" ]; }
rp_wait_for 30 "traffic through B" above 2000 || rp_fail "no traffic reached guest B"

# 1. Refusals: through ringportctl (checked there first, then by the
# iothread: the validator cases) and as raw requests (the iothread's own
# checks, whoever connects).
refuse() { # WHAT REASON RC ARGS...
	local what=$1 reason=$2 want=$3 rc=0
	shift 3
	"$ctl" --ctl "$d/b.sock.ctl" "$@" >"$d/out" 2>"$d/err" || rc=$?
	[ $rc -eq "$want" ] || rp_fail "$what: exit $rc, want $want ($(cat "$d/err"))"
	grep -qF -- "$reason" "$d/err" || rp_fail "$what: '$(cat "$d/err")' does not say '$reason'"
	rp_log "  refused $what: $(cat "$d/err")"
}
raw() { # JSON: the iothread's reply
	python3 - "$d/b.sock.ctl" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())
PY
}
raw_refuse() { # WHAT REASON JSON
	local r
	r=$(raw "$3")
	case "$r" in *'"error"'*"$2"*) rp_log "  refused $1 (raw): $r" ;;
	*) rp_fail "$1 (raw request): reply '$r' does not refuse with '$2'" ;; esac
}
before=$(tg_total)
refuse "out-of-bounds read" "rejected by the eBPF validator" 1 steer load "$tbpf/bad_oob.bpf.o" --direction to-guest
refuse "a loop" "rejected by the eBPF validator" 1 steer load "$tbpf/bad_loop.bpf.o" --direction to-guest
refuse ".rodata" "data section '.rodata'" 2 steer load "$tbpf/bad_data.bpf.o" --direction to-guest
refuse "not eBPF" "not eBPF" 2 steer load "$iot" --direction to-guest
refuse "bad table" "entry 1 is queue 4" 1 rss set --direction to-guest --table 0,4
refuse "bad key" "need 40" 2 rss set --key 00ff
raw_refuse ".rodata" "data section '.rodata'" \
	"{\"cmd\":\"steer-load\",\"direction\":\"to-guest\",\"path\":\"$tbpf/bad_data.bpf.o\"}"
raw_refuse "unknown symbol" "references 'secret_table'" \
	"{\"cmd\":\"steer-load\",\"direction\":\"to-guest\",\"path\":\"$tbpf/bad_sym.bpf.o\"}"
raw_refuse "no entry" "no code in section 'steer'" \
	"{\"cmd\":\"steer-load\",\"direction\":\"both\",\"path\":\"$tbpf/no_entry.bpf.o\"}"
raw_refuse "relative path" "must be absolute" \
	'{"cmd":"steer-load","direction":"to-guest","path":"rss.bpf.o"}'
raw_refuse "bad direction" "direction 'sideways'" \
	"{\"cmd\":\"steer-load\",\"direction\":\"sideways\",\"path\":\"$xdp/rss.bpf.o\"}"
raw_refuse "bad key" "need 40" '{"cmd":"rss-set","direction":"both","key":"00"}'
raw_refuse "bad types" "unknown type 'sctp'" '{"cmd":"rss-set","direction":"both","types":"sctp"}'
[ "$(st "$d/b.sock.ctl" .steering.to_guest.program)" = "$(realpath "$xdp/rss.bpf.o")" ] ||
	rp_fail "a refused load replaced the running program"
n_ref=$(st "$d/b.sock.ctl" .steering.to_guest.refused)
[ "$n_ref" -eq 9 ] || rp_fail "to_guest refused counter $n_ref, want 9"
rp_wait_for 10 "traffic still flowing after the refusals" above $((before + 1000)) ||
	rp_fail "traffic stopped after the refusals"

# Per-queue counters of CTL's DIR, as a space-separated list.
qcount() { st "$1" "[.queues[].$2.packets] | map(tostring) | join(\" \")"; }
# only_on CTL DIR QUEUE WHAT: after a change, new packets go to QUEUE only.
only_on() {
	local a b
	sleep 0.5 # packets steered before the change may still be staged
	a=($(qcount "$1" "$2"))
	rp_wait_for 20 "more traffic" above $(($(tg_total) + 2000)) || rp_fail "$4: traffic stopped"
	b=($(qcount "$1" "$2"))
	local spread=0
	for i in $(seq 0 $((Q - 1))); do
		local delta=$((b[i] - a[i]))
		if [ "$3" -lt 0 ]; then
			[ $delta -gt 0 ] && spread=$((spread + 1))
		elif [ "$i" -eq "$3" ]; then
			[ $delta -gt 0 ] || rp_fail "$4: nothing on queue $i (${a[*]} -> ${b[*]})"
		else
			[ $delta -eq 0 ] || rp_fail "$4: $delta packets on queue $i (${a[*]} -> ${b[*]})"
		fi
	done
	if [ "$3" -lt 0 ]; then
		[ $spread -ge 2 ] || rp_fail "$4: new packets on $spread queue(s) (${a[*]} -> ${b[*]})"
		rp_log "  $4: new packets spread over $spread queues (${a[*]} -> ${b[*]})"
		return 0
	fi
	rp_log "  $4: new packets on queue $3 only (${a[*]} -> ${b[*]})"
}

# 2.-4. Swaps.
"$ctl" --ctl "$d/b.sock.ctl" steer load "$tbpf/to_queue.bpf.o" --direction to-guest >/dev/null ||
	rp_fail "steer load to_queue.bpf.o refused"
only_on "$d/b.sock.ctl" to_guest 0 "B to-guest to_queue.bpf.o"
"$ctl" --ctl "$d/b.sock.ctl" rss set --direction to-guest --user 3 >/dev/null ||
	rp_fail "rss set --user 3 refused"
only_on "$d/b.sock.ctl" to_guest 3 "B to-guest rss set --user 3"
"$ctl" --ctl "$d/a.sock.ctl" rss set --direction to-switch --user 2 >/dev/null ||
	rp_fail "rss set on A refused"
"$ctl" --ctl "$d/a.sock.ctl" steer load "$tbpf/to_queue.bpf.o" --direction to-switch >/dev/null ||
	rp_fail "steer load on A refused"
only_on "$d/a.sock.ctl" to_switch 2 "A to-switch to_queue.bpf.o, user 2"
# 5. Back to RSS; the guests must still be sending.
for c in a b; do
	"$ctl" --ctl "$d/$c.sock.ctl" steer load "$xdp/rss.bpf.o" --direction both >/dev/null ||
		rp_fail "steer load rss.bpf.o on $c refused"
done
only_on "$d/b.sock.ctl" to_guest -1 "back to rss.bpf.o"

# Stop sending, let the path drain (each iothread's to-guest count equals
# the other's to-switch count, twice in a row), then stop the guests.
kill -USR1 $ga $gb
total() { st "$1" "[.queues[].$2.packets] | add"; }
drained() {
	local now
	now="$(total "$d/a.sock.ctl" to_switch) $(total "$d/b.sock.ctl" to_guest)"
	now="$now $(total "$d/b.sock.ctl" to_switch) $(total "$d/a.sock.ctl" to_guest)"
	set -- $now
	[ "$1" = "$2" ] && [ "$3" = "$4" ] && [ "$now" = "${last_counts:-}" ] && return 0
	last_counts=$now
	return 1
}
rp_wait_for 30 "the path to drain" drained || rp_fail "did not drain: $last_counts"
sleep 0.2 # the guests' last receive polls
ga_rc=0 gb_rc=0
kill -TERM $ga $gb
wait $ga || ga_rc=$?
wait $gb || gb_rc=$?
"$ctl" --ctl "$d/a.sock.ctl" status >"$d/sa.json" || rp_fail "status A failed"
"$ctl" --ctl "$d/b.sock.ctl" status >"$d/sb.json" || rp_fail "status B failed"
if [ $ga_rc -ne 0 ] || [ $gb_rc -ne 0 ]; then
	tail -n 20 "$d/iothread-a.log" "$d/iothread-b.log" "$d/ga.err" "$d/gb.err" >&2
	echo "iothread A: $(cat "$d/sa.json")" >&2
	echo "iothread B: $(cat "$d/sb.json")" >&2
	echo "guest A: $(cat "$d/ga.json")" >&2
	echo "guest B: $(cat "$d/gb.json")" >&2
	rp_fail "guests not clean (A rc $ga_rc, B rc $gb_rc)"
fi
python3 - "$d" <<'PY' || rp_fail "counts wrong"
import json, sys
d = sys.argv[1]
ld = lambda f: json.loads(open(f"{d}/{f}").readline())
ga, gb, sa, sb = ld("ga.json"), ld("gb.json"), ld("sa.json"), ld("sb.json")
for g, other, name in ((ga, gb, "A"), (gb, ga, "B")):
    assert g["clean"] and g["received"] == other["sent"] > 0, (name, g, other["sent"])
    assert g["bad_payload"] == g["bad_order"] == 0, (name, g)
for s, name in ((sa, "A"), (sb, "B")):
    for x in s["queues"]:
        for dirn in ("to_switch", "to_guest"):
            assert not any(x[dirn]["drops"].values()), (name, x)
st = sb["steering"]["to_guest"]
assert st["loads"] == 2 and st["rss_sets"] == 1, st
print(f"  guests: A sent {ga['sent']}, B sent {gb['sent']}: each frame arrived exactly once, intact"
      f" (reordered by the queue changes: A {ga['reordered']}, B {gb['reordered']});"
      f" no iothread drops; B to-guest: {st['loads']} loads, {st['rss_sets']} rss set,"
      f" {st['refused']} refused")
PY
grep -E "ERR|EMER" "$d/iothread-a.log" "$d/iothread-b.log" >&2 && rp_fail "an iothread logged errors"
echo "PASS: programs swapped live under traffic; bad ones refused with their reasons; nothing lost"
