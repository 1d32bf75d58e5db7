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
#   ring-tamper  both peers keep rewriting every ring header's size, mask,
#              capacity, flags, sync types and head indices during traffic
#              A -> pA -> pB -> B: every frame still arrives intact, the PMD
#              threads keep iterating; then A moves a tail index somewhere
#              impossible: pA's session ends, counted as ring_corrupt.
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
alive() { kill -0 "$ovs_pid" 2>/dev/null || rp_fail "ovs-vswitchd died"; }
n_fds() { find "/proc/$ovs_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# --- fd-flood ---------------------------------------------------------------
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

# --- ring-tamper --------------------------------------------------------------
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
pmd_cycles() {
	ovs_sb_pmd_stats "$sb" | awk '$1 ~ /^(idle|processing)_cycles$/ { s += $2 } END { printf "%.0f\n", s }'
}
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
echo "PASS: the VM side could not make ovs-vswitchd leak fds or use ring metadata it wrote"
