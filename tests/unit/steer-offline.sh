#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ringportctl steer test, offline, against published and statistical truth:
#  - the RSS verification suite: every IPv4 and IPv6 vector through
#    rss.bpf.o gives exactly the published hash, with L4 types (TCP) and
#    with address types only; queue = (hash & 127) % N;
#  - the JIT and rte_bpf's interpreter print the same lines;
#  - 10,000 random TCP flows over 4 queues: every queue within 10 % of
#    uniform, and every packet of a flow on the same queue;
#  - drop_policy.bpf.o drops what its policy says and counts it;
#  - bad programs and bad settings: exit 2 with the reason named.
# Needs: RINGPORTCTL, RP_MKPCAP, RP_XDP_DIR, RP_TEST_BPF_DIR (meson sets them).
. "$(dirname "$0")/../lib/common.sh"

ctl=${RINGPORTCTL:?} mk=${RP_MKPCAP:?} xdp=${RP_XDP_DIR:?} bad=${RP_TEST_BPF_DIR:?}
d=$(mktemp -d /tmp/rp-steer.XXXXXX)
rp_on_exit rm -rf "$d"

# Published hashes, in the suite's order (IPv4 x5, IPv6 x3).
l4_hash=(0x51ccc178 0xc626b0ea 0x5c2b394a 0xafc7327f 0x10e828a2 0x40207d3d 0xdde51bbf 0x02d1feef)
ip_hash=(0x323e8fc2 0xd718262a 0xd2d0a5de 0x82989176 0x5d1809c5 0x2cc18cd5 0x0f0c461c 0x4b61e985)

"$mk" vectors "$d/vec.pcap" || rp_fail "rp-mkpcap vectors"
check_vectors() { # TYPES expected-array-name
	local types=$1 i=0 line h q exp
	local -n want=$2
	"$ctl" steer test "$xdp/rss.bpf.o" --pcap "$d/vec.pcap" --queues 4 --types "$types" \
		>"$d/vec.out" || rp_fail "steer test --types $types failed"
	[ "$(wc -l <"$d/vec.out")" -eq ${#want[@]} ] || rp_fail "$(cat "$d/vec.out")"
	while read -r line; do
		h=${want[$i]}
		q=$(((h & 127) % 4))
		exp="{\"pkt\":$((i + 1)),\"hash\":\"$h\",\"queue\":$q}"
		[ "$line" = "$exp" ] || rp_fail "vector $i (types $types): got $line, want $exp"
		i=$((i + 1))
	done <"$d/vec.out"
	rp_log "RSS suite, types $types: ${#want[@]} of ${#want[@]} hashes as published"
}
check_vectors all l4_hash
check_vectors ipv4,ipv6 ip_hash
check_vectors ipv4,tcpv4,ipv6,tcpv6 l4_hash

# A key given on the command line is the key used: the standard key spelt
# out gives the same lines; another key gives other hashes.
"$ctl" steer test "$xdp/rss.bpf.o" --pcap "$d/vec.pcap" --queues 4 \
	--key 6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa \
	| cmp -s - "$d/vec.out" || rp_fail "--key with the standard key changed the output"
"$ctl" steer test "$xdp/rss.bpf.o" --pcap "$d/vec.pcap" --queues 4 \
	--key "$(printf '%080d' 1)" | cmp -s - "$d/vec.out" && rp_fail "--key had no effect"

# 10,000 flows x 3 packets.
n=10000 k=3 queues=4
"$mk" flows $n $k "$d/flows.pcap" || rp_fail "rp-mkpcap flows"
"$ctl" steer test "$xdp/rss.bpf.o" --pcap "$d/flows.pcap" --queues $queues >"$d/jit.out" ||
	rp_fail "steer test (JIT) failed"
"$ctl" steer test "$xdp/rss.bpf.o" --pcap "$d/flows.pcap" --queues $queues --no-jit \
	>"$d/interp.out" || rp_fail "steer test --no-jit failed"
cmp -s "$d/jit.out" "$d/interp.out" || rp_fail "JIT and interpreter disagree: $(diff "$d/jit.out" "$d/interp.out" | head -5)"
python3 - "$d/jit.out" $n $k $queues <<'PY' || rp_fail "flow spread"
import json, sys
path, n, k, nq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = [json.loads(l) for l in open(path)]
assert len(lines) == n * k, f"{len(lines)} lines, want {n * k}"
flow_q, bad = {}, 0
for l in lines:
    f = (l["pkt"] - 1) % n
    if l["hash"] is None:
        print(f"packet {l['pkt']} has no hash"); sys.exit(1)
    if flow_q.setdefault(f, l["queue"]) != l["queue"]:
        bad += 1
if bad:
    print(f"{bad} packets left their flow's queue"); sys.exit(1)
per_q = [0] * nq
for q in flow_q.values():
    per_q[q] += 1
lo, hi = min(per_q), max(per_q)
print(f"flows per queue: {per_q} (uniform {n / nq:.0f}, spread {100 * (hi - lo) / (n / nq):.1f} %)")
if any(abs(c - n / nq) > 0.1 * n / nq for c in per_q):
    print("outside +-10 % of uniform"); sys.exit(1)
PY
rp_log "10000 flows: JIT = interpreter on all $((n * k)) packets; each flow on one queue"

# drop_policy: UDP to port user[0] dropped. Port 80 in the flows: TCP, so
# nothing drops; the counters say how many passed.
"$ctl" steer test "$xdp/drop_policy.bpf.o" --pcap "$d/vec.pcap" --user 1766 --counters \
	>"$d/drop.out" || rp_fail "steer test drop_policy failed"
tail -1 "$d/drop.out" | grep -q '^{"counters":\[0,0,8,' || rp_fail "drop_policy counters: $(tail -1 "$d/drop.out")"
grep -q '"drop":true' "$d/drop.out" && rp_fail "drop_policy dropped TCP"

# Refusals: exit 2 and the reason.
refuse() { # WHAT REASON ARGS...
	local what=$1 reason=$2 rc
	shift 2
	"$ctl" "$@" >"$d/out" 2>"$d/err"
	rc=$?
	[ $rc -eq 2 ] || rp_fail "$what: exit $rc, want 2 ($(cat "$d/err"))"
	grep -qF -- "$reason" "$d/err" || rp_fail "$what: '$(cat "$d/err")' does not say '$reason'"
	rp_log "refused $what: $(cat "$d/err")"
}
refuse ".rodata" "data section '.rodata'" steer test "$bad/bad_data.bpf.o" --pcap "$d/vec.pcap"
refuse "unknown symbol" "references 'secret_table'" steer test "$bad/bad_sym.bpf.o" --pcap "$d/vec.pcap"
refuse "out-of-bounds read" "rejected by the eBPF validator" steer test "$bad/bad_oob.bpf.o" --pcap "$d/vec.pcap"
refuse "loop" "rejected by the eBPF validator" steer test "$bad/bad_loop.bpf.o" --pcap "$d/vec.pcap"
refuse "no entry" "no code in section 'steer'" steer test "$bad/no_entry.bpf.o" --pcap "$d/vec.pcap"
refuse "not eBPF" "not eBPF" steer test "$ctl" --pcap "$d/vec.pcap"
refuse "not a pcap" "--pcap '$xdp/rss.bpf.o'" steer test "$xdp/rss.bpf.o" --pcap "$xdp/rss.bpf.o"
refuse "short key" "key '0102': 2 bytes, need 40" steer test "$xdp/rss.bpf.o" --pcap "$d/vec.pcap" --key 0102
refuse "table entry" "entry 1 is queue 4" steer test "$xdp/rss.bpf.o" --pcap "$d/vec.pcap" --queues 4 --table 0,4
refuse "hash type" "unknown type 'sctp'" steer test "$xdp/rss.bpf.o" --pcap "$d/vec.pcap" --types ipv4,sctp
refuse "queues" "--queues '0'" steer test "$xdp/rss.bpf.o" --pcap "$d/vec.pcap" --queues 0
echo "PASS"
