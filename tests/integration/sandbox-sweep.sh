#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A test killed before its EXIT trap can run leaves nothing behind for
# long. meson, on a timeout, sends SIGTERM to the test's process group and
# SIGKILL half a second later: the cleanup is cut short, and the sandbox's
# daemons (ovsdb-server, ovs-vswitchd: detached, so outside that group)
# live on, holding hugepages. Here a child test starts a sandbox and is
# SIGKILLed; its daemons are checked to outlive it (the leak); the next
# sandbox started (ovs_sb_start, ovs_sb_sweep) ends exactly those daemons,
# deletes the network namespace it ran in and removes the directory, and
# leaves a live test's sandbox alone.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"

rp_need_root
rp_need_hugepages 512

d=$(mktemp -d "${TMPDIR:-/tmp}/ringport-sweep.XXXXXX")
rp_on_exit rm -rf "$d"

# child FILE [NETNS]: a test that starts a sandbox (in network namespace
# NETNS, which it makes, as an OVN chassis is), writes its directory to FILE
# and waits to be killed (in `wait`, so that SIGTERM runs its trap at once).
child() {
	bash -c '. "$1/tests/lib/common.sh"; . "$1/tests/lib/ovs-sandbox.sh"
		ns=()
		if [ -n "$3" ]; then
			ip netns add "$3" || exit 1
			ns=(--netns "$3")
		fi
		ovs_sb_start sb "${ns[@]}" || exit 1
		sleep 600 &
		rp_on_exit kill $!
		echo $! >"$2.sleep"
		echo "$sb" >"$2.tmp" && mv "$2.tmp" "$2"
		wait' child "$rp_top" "$1" "${2:-}" &
}
pids_of() { # DIR: the pids its pidfiles name
	cat "$1"/ovs-vswitchd.pid "$1"/ovsdb-server.pid
}

dead_ns=rp-sweep-$$
rp_on_exit ip netns del "$dead_ns" 2>/dev/null
child "$d/dead" "$dead_ns"
dead_test=$!
rp_on_exit rp_kill_pid $dead_test
child "$d/live"
live_test=$!
rp_on_exit rp_kill_pid $live_test
rp_wait_for 120 "the children's sandboxes" test -s "$d/dead" -a -s "$d/live" ||
	rp_fail "a child test did not start its sandbox"
dead=$(cat "$d/dead") live=$(cat "$d/live")
mapfile -t dead_pids < <(pids_of "$dead")
# Should the sweep not end them, the test must not leave them behind.
for p in "${dead_pids[@]}"; do
	rp_on_exit rp_kill_pid "$p"
done
[ "${#dead_pids[@]}" -eq 2 ] || rp_fail "sandbox $dead: want 2 pidfiles, got ${#dead_pids[@]}"

kill -KILL $dead_test
wait $dead_test 2>/dev/null || true
kill "$(cat "$d/dead.sleep")" 2>/dev/null || true # its sleep, orphaned now
for p in "${dead_pids[@]}"; do
	kill -0 "$p" 2>/dev/null || rp_fail "pid $p of $dead ended with its test: nothing to sweep"
done
rp_log "test $dead_test SIGKILLed: its ovs-vswitchd and ovsdb-server (${dead_pids[*]}) live on"

ovs_sb_start sb 2>"$d/sweep.err" || { cat "$d/sweep.err" >&2; rp_fail "the next sandbox did not start"; }
for p in "${dead_pids[@]}"; do
	! kill -0 "$p" 2>/dev/null ||
		rp_fail "pid $p of the killed test's sandbox still runs after the next ovs_sb_start"
done
[ ! -e "$dead" ] || rp_fail "$dead still there after the sweep"
! ip netns list | grep -qw "$dead_ns" || rp_fail "its network namespace $dead_ns is still there"
grep -qF "swept $dead" "$d/sweep.err" || rp_fail "the sweep did not say what it ended: $(cat "$d/sweep.err")"
for p in $(pids_of "$live"); do
	kill -0 "$p" 2>/dev/null || rp_fail "the sweep ended pid $p of a live test's sandbox $live"
done
[ "$(ovs_sb_vsctl "$sb" get Open_vSwitch . dpdk_initialized)" = true ] ||
	rp_fail "the new sandbox did not come up"
rp_log "the next ovs_sb_start ended them and removed $dead; the live test's sandbox runs on"

# The live child ends the usual way: its EXIT trap stops its sandbox.
rp_kill_pid $live_test
rp_wait_for 30 "the live test's cleanup" test ! -e "$live" ||
	rp_fail "the live test's own cleanup did not remove $live"
echo "PASS: a killed test's sandbox is swept by the next one, a live test's is not"
