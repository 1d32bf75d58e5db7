# SPDX-License-Identifier: BSD-3-Clause
# tests/lib/topo.sh: the topology the integration tests, the QEMU helpers
# and the benchmarks build again and again: one iothread per VM NIC, a
# ringport port for each on an OVS sandbox bridge, and flows between them.
# Source it after common.sh (rp_need_iothread_bins) and, for the port
# helpers, ovs-sandbox.sh.
#
# The paths are README.md's: NIC NAME's vhost-user socket is
# DIR/NAME-vhost.sock, its region socket DIR/NAME.sock, its control socket
# DIR/NAME.sock.ctl; its log here is DIR/iothread-NAME.log.
#
#   rp_topo_iothread VAR DIR NAME [OPTIONS...]
#                      start NAME's iothread (iot_conf, then OPTIONS), its
#                      output appended to its log (a restart keeps the
#                      first run's); its pid in VAR, ended by pid at exit
#   rp_topo_wait DIR NAME...
#                      wait up to 20 s for the NICs' control sockets; fail
#                      with their logs
#   rp_topo_iothreads DIR NAMES [OPTIONS...]
#                      one iothread per name of NAMES ("a b"), all with
#                      OPTIONS, and wait for them; pids in topo_pid[NAME]
#   rp_topo_port SB BRIDGE DIR NAME PORT ID [COLUMN=VALUE...]
#                      OVS port PORT (net_ringportID) on NAME's region
#                      socket, with the Interface columns given
#   rp_topo_cross SB BRIDGE OFPORT_A OFPORT_B
#                      BRIDGE's only flows: A to B and B to A

declare -A topo_pid=()

rp_topo_iothread() {
	local _var=$1 _d=$2 _n=$3 _p
	shift 3
	"$iot" "${iot_conf[@]}" --vhost "$_d/$_n-vhost.sock" --port "$_d/$_n.sock" "$@" \
		>>"$_d/iothread-$_n.log" 2>&1 &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	printf -v "$_var" '%s' "$_p"
}

rp_topo_wait() {
	local d=$1 n
	shift
	for n in "$@"; do
		rp_wait_for 20 "iothread $n's control socket" test -S "$d/$n.sock.ctl" || {
			for n in "$@"; do tail -n 20 "$d/iothread-$n.log" >&2; done
			rp_fail "iothreads did not start: $*"
		}
	done
}

rp_topo_iothreads() {
	local d=$1 names=$2 n p
	shift 2
	rp_it_dir "$d"
	for n in $names; do
		rp_topo_iothread p "$d" "$n" "$@"
		topo_pid[$n]=$p
	done
	# shellcheck disable=SC2086 # names: a list
	rp_topo_wait "$d" $names
}

rp_topo_port() {
	local sb=$1 br=$2 d=$3 n=$4 port=$5 id=$6
	shift 6
	ovs_sb_add_port "$sb" "$br" "$port" "net_ringport$id,path=$d/$n.sock" "$@" ||
		rp_fail "port $port (NIC $n) not added"
}

rp_topo_cross() {
	ovs_sb_ofctl "$1" del-flows "$2"
	ovs_sb_ofctl "$1" add-flow "$2" "in_port=$3,actions=output:$4"
	ovs_sb_ofctl "$1" add-flow "$2" "in_port=$4,actions=output:$3"
}
