#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The test bed itself: a sandboxed OVS-DPDK comes up with DPDK initialised,
# a netdev bridge takes a net_null port, traffic flows and OVS counts it, both
# in the Interface statistics and in the PMD thread's stats. Two sandboxes
# run at once to show they stay apart.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"

rp_need_root
rp_need_hugepages 256

rx_above() { # DIR PORT MIN
	local n
	n=$(ovs_sb_iface_stat "$1" "$2" rx_packets 2>/dev/null) || return 1
	[ "$n" -gt "$3" ]
}

check_sandbox() { # DIR
	local sb=$1 init rx pkts cycles
	init=$(ovs_sb_vsctl "$sb" get Open_vSwitch . dpdk_initialized)
	[ "$init" = "true" ] || rp_fail "dpdk_initialized is '$init' in $sb"

	ovs_sb_add_bridge "$sb" br0
	ovs_sb_add_port "$sb" br0 null0 net_null0 || rp_fail "net_null0 port not added"
	ovs_sb_ofctl "$sb" del-flows br0
	ovs_sb_ofctl "$sb" add-flow br0 "in_port=null0,actions=drop"

	rp_wait_for 30 "rx_packets > 1000 on null0" rx_above "$sb" null0 1000 ||
		{ ovs_sb_log_tail "$sb"; rp_fail "OVS did not count traffic from net_null0"; }
	rx=$(ovs_sb_iface_stat "$sb" null0 rx_packets)

	ovs_sb_pmd_stats "$sb" >"$sb/pmd-stats"
	pkts=$(awk '$1 == "packets_received" { print $2 }' "$sb/pmd-stats")
	cycles=$(awk '$1 == "processing_cycles" { print $2 }' "$sb/pmd-stats")
	[ -n "$pkts" ] && [ "$pkts" -gt 0 ] ||
		{ cat "$sb/pmd-stats" >&2; rp_fail "pmd-stats-show: packets received '$pkts'"; }
	[ -n "$cycles" ] && [ "$cycles" -gt 0 ] ||
		{ cat "$sb/pmd-stats" >&2; rp_fail "pmd-stats-show: processing cycles '$cycles'"; }
	rp_log "$sb: rx_packets=$rx, PMD packets=$pkts, $((cycles / pkts)) processing cycles/packet"

	ovs_sb_del_port "$sb" br0 null0
	if ovs_sb_vsctl "$sb" get Interface null0 name >/dev/null 2>&1; then
		rp_fail "null0 still exists after del-port"
	fi
}

rp_log "starting two OVS-DPDK sandboxes"
ovs_sb_start sb1 --pmd-mask 0x1
ovs_sb_start sb2 --pmd-mask 0x2
[ "$sb1" != "$sb2" ] || rp_fail "two sandboxes share $sb1"
pid1=$(ovs_sb_pid "$sb1")
pid2=$(ovs_sb_pid "$sb2")

check_sandbox "$sb1"
check_sandbox "$sb2"

kill -0 "$pid1" && kill -0 "$pid2" || rp_fail "an ovs-vswitchd died during the test"
ovs_sb_stop "$sb1"
kill -0 "$pid1" 2>/dev/null && rp_fail "ovs-vswitchd $pid1 still runs after ovs_sb_stop"
kill -0 "$pid2" || rp_fail "stopping sandbox 1 killed sandbox 2's ovs-vswitchd"
echo "PASS: OVS-DPDK sandbox counted net_null traffic"
