#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The iothread's cycle accounting under traffic, rp-vguest sending as fast
# as it can through a busy-polling iothread to rp-peer --sink:
#  1. the to-switch stage counts busy cycles, packets and iterations, and
#     status gives cycles per packet with and without interrupted
#     iterations; every cycle of a window is counted once, busy for a
#     stage or idle (busy + idle cycles are the window's TSC cycles);
#  2. the worker's CPU taken from it: the iothread stopped for 0.3 s under
#     traffic (SIGSTOP, as a host that deschedules a vCPU, or a preemption,
#     takes it), up to 20 times until one stop lands in a busy stage (on a
#     busy host, the host may take it first: any interruption counts). The
#     stage then counts an interrupted iteration of at least the 250 us
#     threshold, with cycles and packets, and the figure without
#     interrupted iterations is below the one with them;
#  3. the guest's frames start at 7 different cache lines of their
#     buffers (frame placement, rp_ipc_color()).
# The worker has CPU 1; the guest and the switch side share CPU 0.
# The figures themselves are not judged: speed is perf/'s business.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

rp_need_root
rp_need_hugepages 256
rp_need_ringport_bins
rp_need_iothread_bins
rp_it_solo it-cycles busy
taskset -c 0 "$peer" --role client --path "$sock" --sink --expect 1000000000000 --linger \
	--timeout 600 >"$d/peer.json" 2>"$d/peer.err" &
peer_pid=$!
rp_on_exit rp_kill_pid $peer_pid
"$vguest" --vhost "$d/run/v.sock" --send 1000000000000 --forever --frame-size 64 --cpu 0 \
	>"$d/guest.json" 2>"$d/guest.err" &
rp_on_exit rp_kill_pid $!

moving() {
	[ "$(rp_ctl_get "$cs" 'sum(q["to_switch"]["packets"] for q in s["queues"])')" -gt 10000 ]
}
rp_wait_for 60 "traffic to the switch" moving ||
	{ cat "$d"/*.err "$d/it.log" >&2; rp_fail "no traffic reached the switch side"; }

# 1. The stage's counters.
ts='s["workers"][0]["stages"]["to_switch"]'
read -r busy pkts iters cpp cppu < <(rp_ctl_get "$cs" \
	"$ts['busy_cycles'], $ts['packets'], $ts['busy_iterations'], \
s['cycles_per_packet']['to_switch'], s['cycles_per_packet_uninterrupted']['to_switch']" |
	tr -d '(),')
rp_log "to-switch: $busy busy cycles, $pkts packets, $iters busy iterations," \
	"$cpp cycles/packet ($cppu uninterrupted)"
[ "$busy" -gt 0 ] && [ "$pkts" -gt 10000 ] && [ "$iters" -gt 0 ] ||
	rp_fail "the to-switch stage counted nothing"
[ "$cpp" != None ] && [ "$cppu" != None ] || rp_fail "no cycles per packet in status"
python3 - "$ctl" "$cs" <<'PY' || rp_fail "busy and idle cycles do not add up to the window"
import json, subprocess, sys, time
def sample():
    t = time.monotonic()
    s = json.loads(subprocess.run([sys.argv[1], "--ctl", sys.argv[2], "status"],
                                  check=True, capture_output=True).stdout)
    t = (t + time.monotonic()) / 2
    w = s["workers"][0]
    return t, s["tsc_hz"], sum(w["busy_cycles"].values()) + w["idle_cycles"], w["idle_iterations"]
t0, hz, c0, i0 = sample()
time.sleep(2) # the window, not synchronisation
t1, _, c1, i1 = sample()
share = (c1 - c0) / ((t1 - t0) * hz)
print(f"window {t1 - t0:.2f} s: busy + idle cycles = {share:.3f} of the TSC's;"
      f" {i1 - i0} idle iterations, {(i1 - i0) / (t1 - t0):.0f}/s")
assert i1 > i0, "no idle iteration counted"
# Everything between two reads of the TSC in the loop is counted; the
# bounds leave room for the two status calls' own time.
assert 0.9 <= share <= 1.05, f"busy + idle = {share:.3f} of the window"
PY

# 2. The CPU taken from the worker.
intr() { rp_ctl_get "$cs" "$ts['interrupted']['iterations']"; }
n0=$(intr)
stops=0
while [ "$(intr)" -le "$n0" ]; do
	[ $stops -lt 20 ] || rp_fail "20 stops of 0.3 s, no interrupted iteration counted"
	kill -STOP $it
	sleep 0.3 # the fault: the time the CPU is away
	kill -CONT $it
	stops=$((stops + 1))
	rp_wait_for 10 "traffic again" moving || rp_fail "no traffic after SIGCONT"
done
python3 - "$("$ctl" --ctl "$cs" status)" "$stops" <<'PY' ||
import json, sys
s, stops = json.loads(sys.argv[1]), sys.argv[2]
st = s["workers"][0]["stages"]["to_switch"]
i = st["interrupted"]
least = s["tsc_hz"] * 250e-6
each = i["cycles"] / i["iterations"]
print(f"after {stops} stops: {i['iterations']} interrupted iterations, {each:.0f} cycles each"
      f" (threshold {least:.0f}), {i['packets']} packets in them; cycles/packet"
      f" {s['cycles_per_packet']['to_switch']:.1f}, uninterrupted"
      f" {s['cycles_per_packet_uninterrupted']['to_switch']:.1f}")
assert each >= least, "an interrupted iteration shorter than the threshold"
assert i["cycles"] <= st["busy_cycles"], "interrupted cycles not within busy cycles"
assert i["packets"] <= st["packets"], "interrupted packets not within packets"
assert s["cycles_per_packet_uninterrupted"]["to_switch"] < s["cycles_per_packet"]["to_switch"], \
    "leaving interrupted iterations out did not lower the figure"
PY
	rp_fail "interrupted iterations counted wrong"
# 3. Where the guest's frames start in their region buffers: after the
# headroom, (buffer index mod 7) cache lines in (rp_ipc_color(); 7 leave a
# 1522-byte frame in one 2 KB buffer), not all a power of two apart.
rp_kill_pid $peer_pid
python3 - "$d/peer.json" <<'PY' || rp_fail "the iothread's frames are not placed"
import json, sys
p = json.loads(open(sys.argv[1]).readline())
lines = p["rx_start_lines"]
print(f"frames to the switch started at cache lines {lines} of their buffers")
assert len(lines) == 7 and lines[-1] - lines[0] == 6, lines
PY
echo "PASS: iothread-cycles"
