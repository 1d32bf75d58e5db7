#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The whole thing on a fresh Debian 12 machine, in one command (as root):
#
#   perf/quickstart.sh [--qemu] [--seconds S] [--no-bench]
#
#  1. installs what is missing and builds (tests/setup.sh, meson);
#  2. starts a sandboxed OVS-DPDK with two ringport VM ports on one bridge,
#     each behind its own ringport-iothread (2 queue pairs);
#  3. attaches two guests: virtio-user test guests sending checked,
#     sequence-numbered UDP flows both ways (default), or with --qemu two
#     real Linux guests (QEMU, TCG) pinging each other;
#  4. shows traffic and live per-queue stats for --seconds (default 10),
#     then stops the guests and says whether every frame arrived intact;
#  5. runs perf/bench.sh --quick and prints its table (--no-bench: skip);
#  6. cleans up everything it started (by pid), on any exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
qemu_mode=0 secs=10 bench=1
while [ $# -gt 0 ]; do
	case $1 in
	--qemu) qemu_mode=1; shift ;;
	--seconds) secs=$2; shift 2 ;;
	--no-bench) bench=0; shift ;;
	-h | --help) awk 'NR > 2 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) echo "quickstart: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -ge 1 ] || { echo "quickstart: --seconds '$secs': need a number >= 1" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root (hugepages, OVS-DPDK)" >&2; exit 2; }

echo "== 1. dependencies and build"
"$top/tests/setup.sh"
cd "$top"
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null || { echo "quickstart: build failed (meson compile -C build)" >&2; exit 1; }

. "$top/tests/lib/common.sh"
. "$top/tests/lib/ovs-sandbox.sh"
. "$top/tests/lib/topo.sh"
rp_need_hugepages 768
rp_need_ringport_bins
rp_need_iothread_bins

echo "== 2. OVS-DPDK (sandboxed) with two ringport VM ports"
ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
d=$sb/quickstart
q=2
[ $qemu_mode -eq 1 ] && q=1
rp_topo_iothreads "$d" "vm1 vm2" --queues $q --poll adaptive
i=0
for vm in vm1 vm2; do
	ovs_sb_vsctl "$sb" add-port br0 $vm -- set Interface $vm type=dpdk \
		"options:dpdk-devargs=net_ringport$i,path=$d/$vm.sock" options:n_rxq=$q \
		options:dpdk-lsc-interrupt=true "ofport_request=$((i + 1))" || rp_fail "$vm not added"
	echo "   ovs-vsctl add-port br0 $vm -- set Interface $vm type=dpdk options:dpdk-devargs=net_ringport$i,path=$d/$vm.sock options:n_rxq=$q"
	i=$((i + 1))
done

echo "== 3. guests"
if [ $qemu_mode -eq 1 ]; then
	. "$top/tests/lib/qemu-guest.sh"
	qg_need
	qg_initramfs "$d"
	ln -sf "$d/vm1-vhost.sock" "$d/a-vhost.sock"
	ln -sf "$d/vm2-vhost.sock" "$d/b-vhost.sock"
	qg_start_vm "$d" b 10.0.0.2 10.0.0.1 pong 52:54:00:00:00:02
	qg_start_vm "$d" a 10.0.0.1 10.0.0.2 ping 52:54:00:00:00:01 $((secs * 2))
	echo "   two Linux guests (QEMU TCG) booting; 10.0.0.1 pings 10.0.0.2"
else
	ovs_sb_ofctl "$sb" del-flows br0
	ovs_sb_ofctl "$sb" add-flow br0 "in_port=1,actions=output:2"
	ovs_sb_ofctl "$sb" add-flow br0 "in_port=2,actions=output:1"
	for vm in vm1 vm2; do
		"$vguest" --vhost "$d/$vm-vhost.sock" --queues $q --send 1000000000 --forever \
			--flows 16 --rate 20000 --go-file "$d/go" >"$d/$vm-guest.json" 2>"$d/$vm-guest.err" &
		rp_on_exit rp_kill_pid $!
		eval "g_$vm=$!"
	done
	echo "   two virtio-user test guests, 20000 checked frames/s each way once both links are up"
fi

echo "== 4. live per-queue stats (ringportctl --ctl $d/vm1.sock.ctl status)"
up() { [ "$("$ctl" --ctl "$d/$1.sock.ctl" status | jq -r .link)" = up ]; }
rp_wait_for 120 "both links up" bash -c "$(declare -f up); ctl=$ctl d=$d; up vm1 && up vm2" ||
	rp_fail "the links did not come up (see $d)"
[ $qemu_mode -eq 1 ] || touch "$d/go"
printf '   %-8s %-6s %-6s %12s %12s %10s\n' time port queue to_switch to_guest drops
for ((t = 0; t < secs; t += 2)); do
	sleep 2 # a display interval, not synchronisation
	for vm in vm1 vm2; do
		"$ctl" --ctl "$d/$vm.sock.ctl" status | jq -r --arg t "+$((t + 2))s" --arg vm $vm '
			.queues[] | [$t, $vm, .queue, .to_switch.packets, .to_guest.packets,
			([.to_switch.drops[], .to_guest.drops[]] | add)] | @tsv' |
			while IFS=$'\t' read -r a b c e f g; do
				printf '   %-8s %-6s %-6s %12s %12s %10s\n' "$a" "$b" "$c" "$e" "$f" "$g"
			done
	done
done
if [ $qemu_mode -eq 1 ]; then
	rp_wait_for 240 "the pings to end" grep -q "RP-GUEST: done" "$d/a.console" ||
		rp_fail "guest 10.0.0.1 did not finish (console: $d/a.console)"
	grep "RP-GUEST: .*packets transmitted" "$d/a.console" | sed 's/^/   guest 10.0.0.1: /'
else
	kill -USR1 "$g_vm1" "$g_vm2"
	sleep 1 # let the last frames land
	kill -TERM "$g_vm1" "$g_vm2"
	wait "$g_vm1" "$g_vm2" || true
	for vm in vm1 vm2; do
		jq -r --arg vm $vm '"   guest \($vm): sent \(.sent), received \(.received), damaged \(.bad_payload), clean \(.clean)"' "$d/$vm-guest.json"
	done
fi

if [ $bench -eq 1 ]; then
	echo "== 5. perf/bench.sh --quick (about 2 minutes)"
	ovs_sb_stop "$sb"
	"$top/perf/bench.sh" --quick --out "$d/bench" | sed -n '/^|/p;/^Measured/p'
fi
echo "== done: everything started here is stopped on exit"
