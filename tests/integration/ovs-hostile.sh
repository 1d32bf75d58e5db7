#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The trust boundary, tried from the VM side (DESIGN.md §2, ipc/README.md):
# a compromised iothread owns its port socket and its region, and must not
# be able to hurt ovs-vswitchd. Each case plays one attack against a real
# sandboxed OVS-DPDK with the ringport PMD loaded, and checks what OVS
# keeps: its fds, a main thread that answers, PMD threads that iterate, and
# memory the peer cannot write through.
#
#   fd-flood   a port-socket server that answers every connection with an
#              empty message carrying 3 eventfds, for 20 s: OVS's open fds
#              stay within a few of where they started.
#   frozen-listener  a port socket whose listener never accepts (backlog
#              full): add-port returns within 1 s with the link down, and
#              ovs-appctl keeps answering while the PMD retries.
#   rewrite    A keeps rewriting the destination MAC of every buffer it has
#              lent, while OVS forwards only the original destination: with
#              the default (copying) rx, no rewritten frame leaves OVS; with
#              zerocopy=1 (trusts the VM side) the figure is shown.
#   big-header a region whose header would make the PMD allocate more than
#              max_mem: refused with a reason naming the sizes, link down;
#              the same region under the default cap is taken; a bad
#              max_mem value fails add-port, named in the log.
#   wake-block B's wake sockets come with O_NONBLOCK cleared on the shared
#              file and their queues full, and B asks for a wake-up after
#              every burst: pB's PMD thread keeps iterating and B gets every
#              frame (with the retired eventfds the write blocked the thread).
#   ring-tamper  both peers keep rewriting every ring header's size, mask,
#              capacity, flags, sync types and head indices during traffic
#              A -> pA -> pB -> B: every frame still arrives intact, the PMD
#              threads keep iterating; then A moves a tail index somewhere
#              impossible: pA's session ends, counted as ring_corrupt.
#
# RINGPORT_HOSTILE_CASES="name ..." runs only those cases.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"

rp_need_root
rp_need_hugepages 512
rp_need_ringport_bins
flood_s=${RINGPORT_FD_FLOOD_SECONDS:-20}

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
ovs_pid=$(ovs_sb_pid "$sb")
want() { [ -z "${RINGPORT_HOSTILE_CASES:-}" ] || [[ " $RINGPORT_HOSTILE_CASES " == *" $1 "* ]]; }
alive() { kill -0 "$ovs_pid" 2>/dev/null || rp_fail "ovs-vswitchd died"; }
n_fds() { find "/proc/$ovs_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# Cycles the PMD threads have counted (idle + busy): they advance while the
# threads iterate.
pmd_cycles() {
	ovs_sb_pmd_stats "$sb" | awk '$1 ~ /^(idle|processing)_cycles$/ { s += $2 } END { printf "%.0f\n", s }'
}

# --- fd-flood ---------------------------------------------------------------
if want fd-flood; then
rp_log "fd-flood: every connection answered with an empty message and 3 eventfds, ${flood_s}s"
d=$sb/fd-flood
mkdir -p "$d"
python3 - "$d/s.sock" "$d/conns" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(64)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    fds = [os.eventfd(0) for _ in range(3)]
    try:
        socket.send_fds(c, [b""], fds)   # 0 bytes, 3 fds
        c.settimeout(2)
        while c.recv(4096):              # the PMD's INIT or DISCONNECT, EOF
            pass
    except OSError:
        pass
    for fd in fds:
        os.close(fd)
    c.close()
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(n))
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
fpid=$!
rp_on_exit rp_kill_pid $fpid
rp_wait_for 10 "flood server" test -S "$d/s.sock" || rp_fail "flood server did not start"
ovs_sb_add_port "$sb" br0 pF "net_ringport10,path=$d/s.sock" || rp_fail "pF not added"
# Adding a port makes OVS map its mempool (EAL holds an fd per hugepage):
# count from the third refused connection on.
conns_above() { [ "$(cat "$d/conns" 2>/dev/null || echo 0)" -ge "$1" ]; }
rp_wait_for 20 "3 refused connections" conns_above 3 || rp_fail "the PMD did not connect"
fds0=$(n_fds)
t_end=$((SECONDS + flood_s))
max=$fds0
while [ $SECONDS -lt $t_end ]; do
	alive
	n=$(n_fds)
	[ "$n" -gt "$max" ] && max=$n
	sleep 1
done
conns=$(cat "$d/conns" 2>/dev/null || echo 0)
fds1=$(n_fds)
ovs_sb_del_port "$sb" br0 pF
rp_kill_pid $fpid
[ "$conns" -ge 5 ] || rp_fail "the PMD tried only $conns times in ${flood_s}s"
[ "$fds1" -le $((fds0 + 4)) ] && [ "$max" -le $((fds0 + 8)) ] ||
	rp_fail "ovs-vswitchd's open fds went from $fds0 to $fds1 (at most $max) over $conns connections with 3 fds each"
rp_log "  $conns connections, each with 3 fds: OVS's open fds $fds0 -> $fds1 (at most $max)"
alive
fi

# --- frozen-listener ----------------------------------------------------------
if want frozen-listener; then
rp_log "frozen-listener: a port socket that never accepts, its backlog full"
d=$sb/frozen
mkdir -p "$d"
python3 - "$d/f.sock" "$d/ready" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(0)
held = []
while True:                      # fill the backlog: the next connect would wait
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    c.setblocking(False)
    try:
        c.connect(sys.argv[1])
    except BlockingIOError:
        break
    held.append(c)
open(sys.argv[2], "w").write(str(len(held)))
while True:
    time.sleep(1)                # never accept
PY
lpid=$!
rp_on_exit rp_kill_pid $lpid
rp_wait_for 10 "frozen listener" test -f "$d/ready" || rp_fail "frozen listener did not start"
t0=$(date +%s%N)
ovs_sb_env "$sb" timeout 20 ovs-vsctl --db="unix:$sb/db.sock" add-port br0 pZ -- set Interface pZ type=dpdk \
	"options:dpdk-devargs=net_ringport30,path=$d/f.sock" || rp_fail "add-port pZ failed or hung 20 s"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -le 1000 ] || rp_fail "add-port took $ms ms with a listener that never accepts"
slow=0
for i in $(seq 20); do
	t0=$(date +%s%N)
	ovs_sb_env "$sb" timeout 5 ovs-appctl -t "$sb/ovs-vswitchd-dpdk.$ovs_pid.ctl" version >/dev/null ||
		rp_fail "ovs-appctl version got no answer within 5 s (try $i)"
	ms_a=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms_a" -gt "$slow" ] && slow=$ms_a
	sleep 0.25
done
[ "$(ovs_sb_vsctl "$sb" get Interface pZ link_state)" = down ] || rp_fail "pZ up with no session"
t0=$(date +%s%N)
ovs_sb_del_port "$sb" br0 pZ
ms_d=$((($(date +%s%N) - t0) / 1000000))
rp_kill_pid $lpid
alive
rp_log "  add-port returned in $ms ms, link down; ovs-appctl answered 20 times (slowest $slow ms);" \
	"del-port $ms_d ms"
fi

# --- rewrite ------------------------------------------------------------------
if want rewrite; then
good=02:52:50:00:00:02
evil=02:66:66:66:66:66
rewrite_case() { # NAME ID [devargs...]: sets bad (B's bad_dst) and got (received)
	local name=$1 k=$2 n=20000 d=$sb/rewrite-$1 pa pb
	shift 2
	mkdir -p "$d"
	"$peer" --role server --path "$d/b.sock" --lossy --linger --expect-dst $good --timeout 120 \
		--ring-size 4096 --bufs 8192 >"$d/b.json" 2>"$d/b.err" &
	pb=$!
	rp_on_exit rp_kill_pid $pb
	"$peer" --role server --path "$d/a.sock" --send $n --rate 20000 --rewrite-dst $evil \
		--go-file "$d/go" --timeout 120 >"$d/a.json" 2>"$d/a.err" &
	pa=$!
	rp_on_exit rp_kill_pid $pa
	rp_wait_for 10 "peer sockets" test -S "$d/a.sock" -a -S "$d/b.sock" || rp_fail "peers did not listen"
	ovs_sb_add_port "$sb" br0 pB "net_ringport${k}1,path=$d/b.sock$*" || rp_fail "pB not added"
	rp_wait_for 20 "pB link up" ovs_sb_link_up "$sb" pB || rp_fail "pB link down"
	ovs_sb_ofctl "$sb" del-flows br0
	# The anti-spoofing rule: only the original destination goes on.
	ovs_sb_ofctl "$sb" add-flow br0 "priority=10,in_port=100,dl_dst=$good,actions=output:pB"
	ovs_sb_ofctl "$sb" add-flow br0 "priority=1,actions=drop"
	ovs_sb_add_port "$sb" br0 pA "net_ringport${k}0,path=$d/a.sock$*" ofport_request=100 ||
		rp_fail "pA not added"
	touch "$d/go"
	wait $pa || { cat "$d/a.err" >&2; rp_fail "$name: A not clean: $(cat "$d/a.json")"; }
	rp_wait_for 30 "pA rx_packets=$n" ovs_sb_stat_is "$sb" pA rx_packets $n || rp_fail "$name: OVS did not get all of A's frames"
	ovs_sb_del_port "$sb" br0 pA
	ovs_sb_del_port "$sb" br0 pB
	# B is not clean when rewritten frames reached it (bad_dst): judged below.
	wait $pb || true
	read -r bad got < <(python3 - "$d/b.json" <<'PY'
import json, sys
b = json.loads(open(sys.argv[1]).readline())
assert b["end"] == "done" and b["bad_payload"] == 0 and b["bad_order"] == 0, b
assert b["rejects"] == {} and b["pool_full"], b
print(b["bad_dst"], b["received"])
PY
	) || rp_fail "$name: B's report: $(cat "$d/b.json")"
}
rp_log "rewrite: A rewrites the destination of its lent frames; OVS forwards only dst=$good"
rewrite_case copy 4
[ "$bad" -eq 0 ] || rp_fail "copying rx: $bad frames with the rewritten destination left OVS"
[ "$got" -gt 0 ] || rp_fail "copying rx: B received nothing (the test proves nothing)"
rp_log "  copying rx (default): $got frames reached B, none rewritten after classification"
rewrite_case zerocopy 5 ,zerocopy=1
rp_log "  zerocopy=1 (trusts the VM side): $bad of the $got frames B received were rewritten after OVS classified them"
fi

# --- big-header ---------------------------------------------------------------
if want big-header; then
rp_log "big-header: a region needing more PMD memory than max_mem"
d=$sb/big
mkdir -p "$d"
"$peer" --role server --path "$d/h.sock" --queues 16 --bufs 16384 --sessions 1000 --linger \
	--timeout 60 >"$d/h.json" 2>"$d/h.err" &
hpid=$!
rp_on_exit rp_kill_pid $hpid
rp_wait_for 10 "peer socket" test -S "$d/h.sock" || rp_fail "peer did not listen"
ovs_sb_add_port "$sb" br0 pH "net_ringport60,path=$d/h.sock,max_mem=1M" || rp_fail "pH not added"
refused_logged() { grep -q "net_ringport60.*refused (bad_region_header): region needs [0-9]* bytes of switch memory (16 queue pairs, 16384+16384 buffers), above max_mem=1048576" "$sb/ovs-vswitchd.log"; }
rp_wait_for 20 "the refusal in OVS's log" refused_logged || { ovs_sb_log_tail "$sb" 10; rp_fail "no named refusal"; }
[ "$(ovs_sb_vsctl "$sb" get Interface pH link_state)" = down ] || rp_fail "pH up over max_mem"
header_refusals() { [ "$(ovs_sb_iface_stat "$sb" pH rejected_bad_region_header_errors)" -ge 1 ]; }
rp_wait_for 20 "pH rejected_bad_region_header_errors >= 1" header_refusals ||
	rp_fail "pH rejected_bad_region_header_errors=$(ovs_sb_iface_stat "$sb" pH rejected_bad_region_header_errors)"
ovs_sb_del_port "$sb" br0 pH
rp_log "  refused and counted: $(grep -o 'region needs.*max_mem=[0-9]*' "$sb/ovs-vswitchd.log" | head -1)"
ovs_sb_add_port "$sb" br0 pH "net_ringport61,path=$d/h.sock" || rp_fail "pH not added"
rp_wait_for 20 "pH link up under the default max_mem" ovs_sb_link_up "$sb" pH || rp_fail "the default max_mem refused a 16-queue region"
ovs_sb_del_port "$sb" br0 pH
rp_kill_pid $hpid
if ovs_sb_add_port "$sb" br0 pH "net_ringport62,path=$d/h.sock,max_mem=12Q" 2>/dev/null; then
	rp_fail "max_mem=12Q accepted"
fi
grep -q "net_ringport62: max_mem='12Q' must be a size" "$sb/ovs-vswitchd.log" || rp_fail "max_mem=12Q not named in the log"
ovs_sb_vsctl "$sb" --if-exists del-port br0 pH
rp_log "  a 16-queue region is taken under the default max_mem; max_mem=12Q refused, named"
alive
fi

# --- wake-block ---------------------------------------------------------------
if want wake-block; then
n=20000
rp_log "wake-block: B's wake sockets blocking and full, a wake-up wanted after every burst"
d=$sb/wake
mkdir -p "$d"
"$peer" --role server --path "$d/b.sock" --queues 2 --expect $n --hostile-wake --timeout 120 \
	--ring-size 4096 --bufs 8192 >"$d/b.json" 2>"$d/b.err" &
pb=$!
rp_on_exit rp_kill_pid $pb
"$peer" --role server --path "$d/a.sock" --queues 2 --send $n --rate 20000 --go-file "$d/go" \
	--timeout 120 >"$d/a.json" 2>"$d/a.err" &
pa=$!
rp_on_exit rp_kill_pid $pa
rp_wait_for 10 "peer sockets" test -S "$d/a.sock" -a -S "$d/b.sock" || rp_fail "peers did not listen"
ovs_sb_add_port "$sb" br0 pB "net_ringport71,path=$d/b.sock" options:n_rxq=2 || rp_fail "pB not added"
rp_wait_for 20 "pB link up" ovs_sb_link_up "$sb" pB || rp_fail "pB link down"
ovs_sb_ofctl "$sb" del-flows br0
ovs_sb_ofctl "$sb" add-flow br0 "in_port=100,actions=output:pB"
ovs_sb_add_port "$sb" br0 pA "net_ringport70,path=$d/a.sock" options:n_rxq=2 ofport_request=100 ||
	rp_fail "pA not added"
c0=$(pmd_cycles)
touch "$d/go"
wait $pa || { cat "$d/a.err" >&2; rp_fail "A not clean: $(cat "$d/a.json")"; }
c1=$(pmd_cycles)
wait $pb || { cat "$d/b.err" >&2; rp_fail "B did not get every frame: $(cat "$d/b.json")"; }
c2=$(pmd_cycles)
[ "$c0" -lt "$c1" ] && [ "$c1" -lt "$c2" ] || rp_fail "PMD cycles did not advance: $c0 $c1 $c2"
werr=$(ovs_sb_vsctl "$sb" get Interface pB statistics | tr -d '{} ' | tr ',' '\n' |
	awk -F= '$1 ~ /wake_errors$/ { s += $2 } END { print s + 0 }')
[ "$werr" -eq 0 ] || rp_fail "pB counted $werr wake errors (a full queue is not one)"
ovs_sb_del_port "$sb" br0 pA
ovs_sb_del_port "$sb" br0 pB
alive
rp_log "  B received all $n frames; PMD cycles $c0 -> $c1 -> $c2; no wake errors"
fi

# --- ring-tamper --------------------------------------------------------------
if want ring-tamper; then
n=${RINGPORT_TAMPER_FRAMES:-40000}
rp_log "ring-tamper: $n frames A -> pA -> pB -> B while both peers rewrite their ring headers"
d=$sb/tamper
mkdir -p "$d"
"$peer" --role server --path "$d/b.sock" --queues 2 --expect "$n" --tamper --timeout 120 \
	--ring-size 4096 --bufs 8192 >"$d/b.json" 2>"$d/b.err" &
pb=$!
rp_on_exit rp_kill_pid $pb
"$peer" --role server --path "$d/a.sock" --queues 2 --send "$n" --rate 20000 --tamper \
	--corrupt-ring --go-file "$d/go" --timeout 120 >"$d/a.json" 2>"$d/a.err" &
pa=$!
rp_on_exit rp_kill_pid $pa
rp_wait_for 10 "peer sockets" test -S "$d/a.sock" -a -S "$d/b.sock" || rp_fail "peers did not listen"
ovs_sb_add_port "$sb" br0 pB "net_ringport21,path=$d/b.sock" options:n_rxq=2 || rp_fail "pB not added"
ovs_sb_ofctl "$sb" del-flows br0
ovs_sb_ofctl "$sb" add-flow br0 "in_port=100,actions=output:pB"
ovs_sb_add_port "$sb" br0 pA "net_ringport20,path=$d/a.sock" options:n_rxq=2 ofport_request=100 ||
	rp_fail "pA not added"
c0=$(pmd_cycles)
touch "$d/go"
wait $pb && b_rc=0 || b_rc=$?
c1=$(pmd_cycles)
wait $pa || true # ends "peer-left" once the PMD drops the corrupt session
c2=$(pmd_cycles)
alive
[ $b_rc -eq 0 ] || { cat "$d/a.err" "$d/b.err" >&2; echo "B: $(cat "$d/b.json")" >&2; rp_fail "B did not get every frame intact"; }
python3 - "$d/a.json" "$d/b.json" "$n" "$c0" "$c1" "$c2" <<'PY' || rp_fail "ring-tamper"
import json, sys
a, b = (json.loads(open(f).readline()) for f in sys.argv[1:3])
n, c0, c1, c2 = map(int, sys.argv[3:7])
assert a["sent"] == n and a["end"] == "peer-left", ("A", a)
assert b["received"] == n and b["clean"] and b["bad_payload"] == 0 and b["bad_order"] == 0, ("B", b)
assert a["tamper_rounds"] > 1000 and b["tamper_rounds"] > 1000, (a, b)
assert c0 < c1 < c2, f"PMD cycles did not advance: {c0} {c1} {c2}"
print(f"  {n} frames arrived intact and in order through {a['tamper_rounds']} + "
      f"{b['tamper_rounds']} rewrites of every ring header; PMD cycles kept advancing")
PY
corrupt_counted() { [ "$(ovs_sb_iface_stat "$sb" pA rejected_ring_corrupt_errors)" -ge 1 ]; }
rp_wait_for 30 "pA rejected_ring_corrupt_errors >= 1" corrupt_counted ||
	rp_fail "the impossible index was not counted on pA"
rp_log "  the impossible tail index ended pA's session, counted as ring_corrupt"
ovs_sb_del_port "$sb" br0 pA
ovs_sb_del_port "$sb" br0 pB
alive
fi

echo "PASS: the VM side could not make ovs-vswitchd leak fds or use ring metadata it wrote"
