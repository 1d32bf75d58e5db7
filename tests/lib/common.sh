# SPDX-License-Identifier: BSD-3-Clause
# tests/lib/common.sh: helpers shared by the shell tests, benchmarks and the
# quick start. Source it; it defines functions and one EXIT trap, nothing else.
#
#   rp_on_exit CMD...      run CMD at exit (LIFO), whatever the exit path
#   rp_kill_pid PID [S]    TERM, then KILL after S seconds (default 10);
#                          only ever called with pids this shell started
#                          (or, from ovs_sb_sweep, that a killed test did)
#   rp_pid_start PID       when PID started: with the pid, one process
#   rp_wait_for S DESC CMD...  poll CMD until it succeeds or S seconds pass
#   rp_skip REASON         print the reason and exit 77 (meson: skipped)
#   rp_fail MSG            print and exit 1
#   rp_need_root           skip unless root
#   rp_need_ringport_bins  set pmd and peer to the built PMD and rp-peer
#   rp_need_iothread_bins  set iot, vguest and ctl to the built iothread,
#                          test guest and ringportctl
#   rp_ctl_get CTL PYEXPR  a value from an iothread's status
#   rp_it_to_guest CTL     frames it has put in its guest
#   rp_readme_cmds MARKER PROG [FROM=TO...]
#                          the PROG commands README.md documents after
#                          <!-- MARKER: ... -->, arguments shell-quoted

rp_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rp_exit_cmds=()

rp_run_exit_cmds() {
	local rc=$? i
	trap - EXIT
	for ((i = ${#rp_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${rp_exit_cmds[$i]}" || true
	done
	exit $rc
}
trap rp_run_exit_cmds EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rp_on_exit() {
	rp_exit_cmds+=("$*")
}

rp_log() {
	echo "[$(date +%T)] $*"
}

rp_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

rp_skip() {
	echo "SKIP: $*"
	exit 77
}

rp_need_root() {
	[ "$(id -u)" -eq 0 ] || rp_skip "needs root (hugepages, OVS-DPDK)"
}

rp_need_hugepages() {
	local want=${1:-256} free
	free=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
	[ "$free" -ge "$want" ] ||
		rp_skip "needs $want free 2 MB hugepages, $free free (run tests/setup.sh)"
	# Every test that needs hugepages runs DPDK busy pollers on shared
	# CPUs, which need fair shares of them (tests/setup.sh, step 5).
	[ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo 0)" = 0 ] ||
		rp_skip "needs the scheduler's autogroups off (kernel.sched_autogroup_enabled=0): with them on, a PMD thread sharing a CPU can get none of it for seconds (run tests/setup.sh)"
}

# Sets pmd and peer to the built PMD and rp-peer (meson passes their paths
# as RINGPORT_PMD and RP_PEER), failing if either is missing.
rp_need_ringport_bins() {
	pmd=${RINGPORT_PMD:-$rp_top/build/switch-port/librte_net_ringport.so}
	peer=${RP_PEER:-$rp_top/build/tests/rp-peer}
	[ -f "$pmd" ] || rp_fail "PMD not built at $pmd"
	[ -x "$peer" ] || rp_fail "rp-peer not built at $peer"
}

# Sets iot, vguest and ctl to the built iothread, test guest and
# ringportctl (meson passes RINGPORT_IOTHREAD, RP_VGUEST, RINGPORTCTL), and
# iot_conf to the confinement every test iothread runs under: --user
# RINGPORT_IT_USER (default nobody) and --seccomp RINGPORT_IT_SECCOMP
# (default kill).
rp_need_iothread_bins() {
	iot=${RINGPORT_IOTHREAD:-$rp_top/build/dp-iothread/ringport-iothread}
	iot_conf=(--user "${RINGPORT_IT_USER:-nobody}" --seccomp "${RINGPORT_IT_SECCOMP:-kill}")
	vguest=${RP_VGUEST:-$rp_top/build/tests/rp-vguest}
	ctl=${RINGPORTCTL:-$rp_top/build/policy/ringportctl}
	local b
	for b in "$iot" "$vguest" "$ctl"; do
		[ -x "$b" ] || rp_fail "not built: $b"
	done
}

# rp_ctl_get CTL PYEXPR: PYEXPR (Python) evaluated over the status JSON s
# of the iothread whose control socket is CTL (needs rp_need_iothread_bins).
rp_ctl_get() {
	"$ctl" --ctl "$1" status 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2"
}

# rp_it_to_guest CTL: the frames that iothread has put in its guest, all queues.
rp_it_to_guest() {
	rp_ctl_get "$1" 'sum(q["to_guest"]["packets"] for q in s["queues"])'
}

# rp_it_dir DIR: make DIR for iothread sockets, the test iothreads' user's
# (as /run/ringport would be), so they can remove their sockets on exit.
rp_it_dir() {
	mkdir -p "$1" && chown "${RINGPORT_IT_USER:-nobody}" "$1"
}

# rp_it_solo NAME POLL: a work directory $d (removed at exit) and one
# confined iothread on CPU 1 (--poll POLL) with its guest socket
# $d/run/v.sock and its port socket $sock (control socket $cs); its pid in
# $it, its log $d/it.log. The setup of the tests that run one iothread
# between rp-vguest and rp-peer (needs rp_need_iothread_bins).
rp_it_solo() {
	d=$(mktemp -d "${TMPDIR:-/tmp}/ringport-$1.XXXXXX")
	rp_on_exit rm -rf "$d"
	chmod 755 "$d"
	rp_it_dir "$d/run"
	sock=$d/run/p.sock
	cs=$sock.ctl
	"$iot" "${iot_conf[@]}" --vhost "$d/run/v.sock" --port "$sock" --cpus 1 --poll "$2" \
		>"$d/it.log" 2>&1 &
	it=$!
	rp_on_exit rp_kill_pid $it
	rp_wait_for 20 "control socket" test -S "$cs" ||
		{ cat "$d/it.log" >&2; rp_fail "no iothread"; }
}

# rp_share_sock PATH: let the test iothreads' user connect to a socket a
# root process made (a vhost-user server guest).
rp_share_sock() {
	chgrp "$(id -gn "${RINGPORT_IT_USER:-nobody}")" "$1" && chmod g+rw "$1"
}

rp_kill_pid() {
	local pid=$1 grace=${2:-10} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	kill -CONT "$pid" 2>/dev/null || true # a stopped process cannot act on TERM
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "pid $pid ignored SIGTERM for ${grace}s, sending SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
}

# rp_pid_start PID: when PID started (clock ticks after boot, field 22 of
# /proc/PID/stat), nothing if it is gone; with the pid, it names one process.
rp_pid_start() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	# shellcheck disable=SC2086 # split into the fields after comm
	set -- $s
	echo "${20}"
}

rp_wait_for() {
	local secs=$1 desc=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out after ${secs}s waiting for: $desc" >&2
			return 1
		fi
		sleep 0.1
	done
}

# rp_readme_cmds MARKER PROG [FROM=TO...]: the commands of README.md's
# indented block that follows the line <!-- MARKER: ... -->, one a line:
# each one's arguments after PROG (which every one must start with),
# shell-quoted for eval, with each FROM replaced by TO. Tests run what
# README shows this way, so that the two cannot drift apart.
rp_readme_cmds() {
	python3 - "$rp_top/README.md" "$@" <<'PY'
import re, shlex, sys
readme, marker, prog, subs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
m = re.search(r"<!-- " + re.escape(marker) + r":[^\n]*-->\n\n((?:    [^\n]*\n)+)",
              open(readme).read())
if m is None:
    sys.exit(f"README.md: no block after <!-- {marker}: ... -->")
for line in m.group(1).replace("\\\n", " ").splitlines():
    args = shlex.split(line)
    if not args:
        continue
    if args[0] != prog:
        sys.exit(f"README.md, {marker} block: {args[0]!r}, want {prog}")
    out = shlex.join(args[1:])
    for s in subs:
        a, b = s.split("=", 1)
        out = out.replace(a, b)
    print(out)
PY
}
