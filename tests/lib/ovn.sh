# SPDX-License-Identifier: BSD-3-Clause
# tests/lib/ovn.sh: an OVN deployment on one machine, for tests: a central
# node (the NB and SB ovsdb-servers and ovn-northd) and chassis, each an
# OVS sandbox (tests/lib/ovs-sandbox.sh: Debian's ovs-vswitchd-dpdk, the
# netdev datapath, the ringport PMD) with its own ovn-controller, in a
# network namespace of its own. The chassis reach each other over an
# underlay link in each one's br-phy, whose own interface holds the tunnel
# endpoint IP: OVS's documented userspace-tunnelling setup. The link is a
# DPDK memif pair (ovn_underlay_devargs): a veth pair lost frames whenever
# a CPU was short, as an OVS system port (read by the main thread) and
# through DPDK's af_packet PMD alike, and the tests count every frame.
# Nothing in it is ringport's: a ringport port is an ordinary OVS port
# bound to a logical switch port by external_ids:iface-id.
# Source tests/lib/common.sh and tests/lib/ovs-sandbox.sh first. Cleanup
# runs from common.sh's EXIT trap and ends only the pids started here.
#
#   ovn_need                     skip unless OVN's daemons are installed
#   ovn_central_start VAR        NB and SB databases and ovn-northd; the
#                                directory goes in VAR
#   ovn_nbctl DIR ARGS...        ovn-nbctl against it
#   ovn_sbctl DIR ARGS...        ovn-sbctl against it
#   ovn_netns NS                 a network namespace, removed at exit
#   ovn_underlay_devargs DIR server|client
#                                the DPDK devargs of one end of the memif
#                                underlay link whose socket is in DIR
#   ovn_chassis_start VAR CENTRAL NAME NS IP DEVARGS [ovs_sb_start options...]
#                                an OVS sandbox in NS with br-phy on the
#                                underlay port DEVARGS holding IP/24, and an
#                                ovn-controller with NAME as its system-id;
#                                returns when the chassis is in the SB
#                                database and br-int exists
#   ovn_chassis_log_tail DIR [N] the last N lines of its ovn-controller log
#   ovn_two_chassis MASK_A MASK_B
#                                the bed the OVN test and perf/ovn-bench.sh
#                                share: a central node and chassis A and B
#                                (PMD CPU masks MASK_A, MASK_B) in network
#                                namespaces of their own, tunnel endpoints
#                                172.31.255.1 and .2, the underlay checked
#                                with a ping; sets central, cha, chb, ns_a
#                                and ns_b
#   ovn_readme_nb CENTRAL        README's "Running under OVN" ovn-nbctl
#                                commands, run as they stand there

ovn_schema_dir=${RINGPORT_OVN_SCHEMA_DIR:-/usr/share/ovn}

ovn_need() {
	local b
	for b in ovn-northd ovn-controller ovn-nbctl ovn-sbctl ovsdb-server ip; do
		command -v "$b" >/dev/null ||
			rp_skip "needs $b (tests/setup.sh installs ovn-central and ovn-host)"
	done
}

ovn_nbctl() {
	local dir=$1
	shift
	ovn-nbctl --db="unix:$dir/nb.sock" --timeout=60 "$@"
}

ovn_sbctl() {
	local dir=$1
	shift
	ovn-sbctl --db="unix:$dir/sb.sock" --timeout=60 "$@"
}

# ovn_kill_pidfile FILE: end the daemon FILE names, if it runs.
ovn_kill_pidfile() {
	[ -f "$1" ] && rp_kill_pid "$(cat "$1")" 20
	return 0
}

ovn_central_stop() {
	local dir=$1 f
	[ -d "$dir" ] || return 0
	for f in northd.pid nb.pid sb.pid; do
		ovn_kill_pidfile "$dir/$f"
	done
	if [ -n "${RINGPORT_KEEP_SANDBOX:-}" ]; then
		rm -f "$dir/owner" # kept: not for a sweep either
		echo "OVN central kept in $dir (RINGPORT_KEEP_SANDBOX)" >&2
	else
		rm -rf "$dir"
	fi
}

ovn_central_start() {
	local var=$1 dir db
	mkdir -p -m 0755 "$ovs_sb_root" || return 1
	ovs_sb_sweep
	dir=$(mktemp -d "$ovs_sb_root/ovn.XXXXXX") || return 1
	rp_on_exit ovn_central_stop "$dir"
	ovs_sb_claim "$dir"
	for db in nb sb; do
		ovsdb-tool create "$dir/$db.db" "$ovn_schema_dir/ovn-$db.ovsschema" || return 1
		# UNIX sockets: the chassis reach them from any network namespace.
		ovsdb-server "$dir/$db.db" --remote="punix:$dir/$db.sock" \
			--pidfile="$dir/$db.pid" --log-file="$dir/$db.log" --unixctl="$dir/$db.ctl" \
			--detach --no-chdir -vconsole:off 2>>"$dir/start.err" ||
			{ echo "ovn_central_start: the $db ovsdb-server failed" >&2; cat "$dir/start.err" >&2; return 1; }
	done
	OVN_RUNDIR=$dir ovn-northd --ovnnb-db="unix:$dir/nb.sock" --ovnsb-db="unix:$dir/sb.sock" \
		--pidfile="$dir/northd.pid" --log-file="$dir/northd.log" --unixctl="$dir/northd.ctl" \
		--detach --no-chdir -vconsole:off 2>>"$dir/start.err" ||
		{ echo "ovn_central_start: ovn-northd failed" >&2; cat "$dir/start.err" >&2; return 1; }
	ovn_nbctl "$dir" --no-wait init >/dev/null || return 1
	printf -v "$var" '%s' "$dir"
}

ovn_netns_del() {
	ip netns del "$1" 2>/dev/null || true
}

ovn_netns() {
	ip netns add "$1" || return 1
	rp_on_exit ovn_netns_del "$1"
	ip -n "$1" link set lo up
}

# A filesystem socket: an abstract one would not be seen across the
# chassis' network namespaces.
ovn_underlay_devargs() {
	echo "net_memif0,role=$2,id=0,socket=$1/underlay.sock,socket-abstract=no"
}

ovn_chassis_stop() {
	ovn_kill_pidfile "$1/ovn-controller.pid"
}

ovn_chassis_log_tail() {
	echo "---- last ${2:-30} lines of $1/ovn-controller.log ----" >&2
	tail -n "${2:-30}" "$1/ovn-controller.log" >&2 2>/dev/null || true
	echo "----" >&2
}

ovn_chassis_start() {
	local var=$1 central=$2 name=$3 ns=$4 ip=$5 ul=$6 sb_dir
	shift 6
	ovs_sb_start sb_dir --netns "$ns" "$@" || return 1
	# The underlay: its port in br-phy, the tunnel endpoint on br-phy's
	# own interface, as OVS documents.
	ovs_sb_vsctl "$sb_dir" add-br br-phy -- set Bridge br-phy datapath_type=netdev || return 1
	# memif connects only with as many rings each way on both ends: OVS
	# gives a port a tx queue per PMD thread plus one (2 here).
	ovs_sb_add_port "$sb_dir" br-phy ul0 "$ul" options:n_rxq=2 || return 1
	ip -n "$ns" addr add "$ip/24" dev br-phy && ip -n "$ns" link set br-phy up || return 1
	ovs_sb_vsctl "$sb_dir" set Open_vSwitch . \
		external_ids:system-id="$name" \
		external_ids:ovn-remote="unix:$central/sb.sock" \
		external_ids:ovn-encap-type=geneve \
		external_ids:ovn-encap-ip="$ip" \
		external_ids:ovn-bridge-datapath-type=netdev || return 1
	rp_on_exit ovn_chassis_stop "$sb_dir"
	# OVS_RUNDIR (ovs_sb_env): where br-int.mgmt is, to program br-int.
	ovs_sb_env "$sb_dir" env OVN_RUNDIR="$sb_dir" ovn-controller "unix:$sb_dir/db.sock" \
		--pidfile="$sb_dir/ovn-controller.pid" --log-file="$sb_dir/ovn-controller.log" \
		--detach --no-chdir -vconsole:off 2>>"$sb_dir/start.err" ||
		{ echo "ovn_chassis_start: ovn-controller failed" >&2; cat "$sb_dir/start.err" >&2; return 1; }
	ovn_sbctl "$central" wait-until Chassis "$name" >/dev/null &&
		ovs_sb_vsctl "$sb_dir" wait-until Bridge br-int >/dev/null || {
		ovn_chassis_log_tail "$sb_dir"
		return 1
	}
	printf -v "$var" '%s' "$sb_dir"
}

ovn_two_chassis() {
	local mask_a=$1 mask_b=$2
	ovn_central_start central || return 1
	ns_a=rp-ovn-a-$$ ns_b=rp-ovn-b-$$
	ovn_netns "$ns_a" && ovn_netns "$ns_b" ||
		{ echo "ovn_two_chassis: network namespaces not made" >&2; return 1; }
	ovn_chassis_start cha "$central" "rp-ch-a-$$" "$ns_a" 172.31.255.1 \
		"$(ovn_underlay_devargs "$central" server)" --plugin "$pmd" --pmd-mask "$mask_a" ||
		{ echo "ovn_two_chassis: chassis A did not start" >&2; return 1; }
	ovn_chassis_start chb "$central" "rp-ch-b-$$" "$ns_b" 172.31.255.2 \
		"$(ovn_underlay_devargs "$central" client)" --plugin "$pmd" --pmd-mask "$mask_b" ||
		{ echo "ovn_two_chassis: chassis B did not start" >&2; return 1; }
	# The underlay works, and each side has the other's tunnel endpoint's
	# MAC (OVS learns it from this ARP exchange through br-phy).
	ip netns exec "$ns_a" ping -c 1 -W 10 172.31.255.2 >/dev/null || {
		echo "ovn_two_chassis: underlay: chassis A cannot reach chassis B's tunnel endpoint" >&2
		return 1
	}
}

ovn_readme_nb() {
	local central=$1 cmds c
	cmds=$(rp_readme_cmds ovn-nb ovn-nbctl) ||
		{ echo "ovn_readme_nb: README.md: the ovn-nbctl commands" >&2; return 1; }
	while IFS= read -r c; do
		eval "ovn_nbctl \"\$central\" $c" ||
			{ echo "ovn_readme_nb: README's ovn-nbctl $c failed" >&2; return 1; }
	done <<<"$cmds"
}
