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
echo "PASS: the VM side could not make ovs-vswitchd leak fds"
