# SPDX-License-Identifier: BSD-3-Clause
"""One results.jsonl object per measurement: a window of perf/bench.sh or
perf/ovn-bench.sh, or a case of perf/iothread-bench.sh,
perf/ovs-port-bench.sh or perf/viommu-bench.sh. The field names are the output format; see
perf/README.md."""
import statistics

from rpbench import status
from rpbench.stats import deltas, per


def _pmd(st):
    """(packets received, processing cycles) of parsed PMD stats."""
    return int(st.get("packets_received", 0)), int(st.get("processing_cycles", 0))


def bench_window(w, pmd, iot_before, iot_after):
    """perf/bench.sh's row. w: mode, scenario, size, queues, trial, seconds,
    steer, pmd_cpus, iot_cpus, guest_cpus, shared, delivered. pmd: parsed
    PMD stats over the window. iot_*: status.iot_counts before and after."""
    rx, cyc = _pmd(pmd)
    delivered = rx if w["scenario"] == "g2d" else w["delivered"]
    d = deltas(iot_before, iot_after)
    iot = {"to_switch": per(d[0], d[1]), "to_guest": per(d[2], d[3])}
    ringport = w["mode"].startswith("ringport")
    return {"mode": w["mode"], "scenario": w["scenario"], "size": w["size"],
            "queues": w["queues"], "trial": w["trial"],
            "steer": w["steer"] if ringport else "",
            "cpus": {"ovs_pmd": w["pmd_cpus"], "iothread": w["iot_cpus"] if ringport else "",
                     "guests": w["guest_cpus"] if w["mode"] != "floor" else "",
                     "shared": w["shared"]},
            "seconds": w["seconds"], "ovs_packets": rx, "delivered": delivered,
            "mpps": round(delivered / w["seconds"] / 1e6, 4),
            "ovs_cycles_per_packet": per(cyc, rx),
            "iothread_cycles_per_packet": iot,
            # The path's cost per packet: each stage's busy cycles over the
            # packets it handled, summed along the path (drops downstream do
            # not inflate it; the guests are the workload and are not counted).
            "total_cycles_per_packet":
                round(cyc / rx + sum(v for v in iot.values() if v), 1) if rx else None}


def ovn_window(w, pmd, iot_before, iot_after):
    """perf/ovn-bench.sh's row, measured on chassis A. w: bench_window's
    keys less queues, steer and pmd_cpus, plus rate and dir (the iothread's
    direction). iot_*: status.iot_dir_counts of iothread 1."""
    rx, cyc = _pmd(pmd)
    c, p, z = deltas(iot_before, iot_after)
    it = c / p if p > 0 else None
    iot = {"to_switch": None, "to_guest": None}
    iot[w["dir"]] = round(it, 1) if it else None
    return {"mode": w["mode"], "scenario": w["scenario"], "size": w["size"], "queues": 1,
            "trial": w["trial"], "steer": "",
            "cpus": {"ovs_pmd": "1", "iothread": w["iot_cpus"] if w["mode"] == "ringport" else "",
                     "guests": w["guest_cpus"], "shared": w["shared"]},
            "seconds": w["seconds"], "offered_pps": w["rate"], "ovs_packets": rx,
            "delivered": w["delivered"],
            "mpps": round(w["delivered"] / w["seconds"] / 1e6, 4),
            "ovs_cycles_per_packet": per(cyc, rx),
            "iothread_cycles_per_packet": iot,
            # how often iothread 1 went to sleep per packet it moved: each
            # sleep costs the other side a wake-up (a system call)
            "iothread_sleeps_per_packet": per(z, p, 3) if p > 0 else None,
            # chassis A's path: its PMD thread plus iothread 1, per packet.
            "total_cycles_per_packet": round(cyc / rx + (it or 0), 1) if rx else None}


def iothread_case(name, packets, cycles, seconds, bursts=None):
    """perf/iothread-bench.sh's row: busy cycles over packets. bursts:
    (iterations, full-burst cycles, full-burst packets), for the iothread."""
    r = {"case": name, "packets": packets, "busy_cycles": cycles,
         "cycles_per_packet": round(cycles / packets, 1),
         "mpps": round(packets / seconds / 1e6, 3) if seconds else None}
    if bursts is not None:
        it, fc, fp = bursts
        r["packets_per_iteration"] = per(packets, it)
        r["cycles_per_packet_full_bursts"] = per(fc, fp)
    return r


def status_case(name, d, before, after, seconds):
    """perf/iothread-bench.sh's and perf/viommu-bench.sh's row: the
    iothread-bench row of direction d over the window between two status
    documents, with the iterations the worker's CPU was taken in counted apart
    and IOTLB lookups per packet."""
    c = deltas(status.stage_counts(before, d), status.stage_counts(after, d))
    ic, ip, ii = deltas(status.interrupted_counts(before, d), status.interrupted_counts(after, d))
    hits, misses = deltas(status.iotlb_counts(before, d), status.iotlb_counts(after, d))
    r = iothread_case(name, c[1], c[0], seconds, c[2:])
    # The stage's own cost: without the iterations the CPU was taken from it
    # in (the time away is not the stage's work).
    r.update(interrupted_iterations=ii, interrupted_cycles=ic,
             cycles_per_packet_uninterrupted=per(c[0] - ic, c[1] - ip))
    r.update(iotlb_hits=hits, iotlb_misses=misses, iotlb_hits_per_packet=per(hits, c[1], 2),
             iotlb_misses_per_packet=per(misses, c[1], 4))
    return r


def idle_case(cpu_ns_before, cpu_ns_after, seconds):
    """The idle-adaptive case: CPU time as a share of one core."""
    return {"case": "idle-adaptive",
            "core_percent": round((cpu_ns_after - cpu_ns_before) / (seconds * 1e9) * 100, 2)}


def ovs_port_case(name, pmd, seconds, queues=1):
    """perf/ovs-port-bench.sh's row from the PMD stats of one case."""
    p, c = _pmd(pmd)
    if p == 0:
        raise ValueError(f"{name}: the PMD received no packets")
    return {"case": name, "queues": queues, "packets": p, "processing_cycles": c,
            "cycles_per_packet": round(c / p, 1), "mpps": round(p / seconds / 1e6, 3)}


def iothread_table(rows):
    """iothread-bench's table and its ratios (the dp-iothread target)."""
    r = {j["case"]: j for j in rows}
    out = ["", "| case | cycles/packet | uninterrupted | full bursts only | packets/iteration "
           "| interrupted iterations | Mpps (iothread) |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for k, v in r.items():
        if "core_percent" in v:
            continue
        out.append(f"| {k} | {v['cycles_per_packet']} | {v.get('cycles_per_packet_uninterrupted', '-')} "
                   f"| {v.get('cycles_per_packet_full_bursts', '-')} "
                   f"| {v.get('packets_per_iteration', '-')} | {v.get('interrupted_iterations', '-')} "
                   f"| {v['mpps'] if v['mpps'] else '-'} |")
    for d in ("dequeue", "enqueue"):
        a, b = r.get(f"{d}-iothread"), r.get(f"{d}-vhost")
        if a and b:
            base = b["cycles_per_packet"]
            parts = [f"{a['cycles_per_packet'] / base:.2f}"]
            for k, what in (("cycles_per_packet_uninterrupted", "uninterrupted"),
                            ("cycles_per_packet_full_bursts", "full bursts")):
                if a.get(k):
                    parts.append(f"{what} {a[k] / base:.2f}")
            out.append(f"{d}: iothread / vhost = {', '.join(parts)} (target <= 1.15, plus steering)")
    if "idle-adaptive" in r:
        out.append(f"idle port, adaptive polling: {r['idle-adaptive']['core_percent']} % "
                   "of a core (bound 2 %)")
    return "\n".join(out)


def ovs_port_table(rows):
    """ovs-port-bench's table and its ratios. A case measured in several
    windows (--alternate) gets its median cycles/packet [min-max]."""
    groups = {}
    for j in rows:
        groups.setdefault(j["case"], []).append(j)
    cpp = {c: statistics.median(j["cycles_per_packet"] for j in g) for c, g in groups.items()}
    out = ["", "| case | queues | Mpps (OVS PMD) | cycles/packet |", "|---|---:|---:|---:|"]
    for c, g in groups.items():
        j = g[-1]
        if len(g) == 1:
            out.append(f"| {c} | {j.get('queues', 1)} | {j['mpps']:.2f} | {j['cycles_per_packet']:.1f} |")
            continue
        each = [x["cycles_per_packet"] for x in g]
        mpps = statistics.median(x["mpps"] for x in g)
        out.append(f"| {c} | {j.get('queues', 1)} | {mpps:.2f} | {cpp[c]:.1f} "
                   f"[{min(each):.1f}-{max(each):.1f}], {len(g)} windows |")
    out.append("")
    for a, b, what, target in (
            ("rx-ringport", "rx-null", "ringport rx / net_null floor", "<= 1.25"),
            ("rx-vhost", "rx-null", "native vhost rx / net_null floor", None),
            ("rx-ringport", "rx-vhost", "ringport rx / native vhost rx", "<= 0.8"),
            ("tx-ringport", "tx-vhost", "ringport tx / native vhost tx", "<= 0.8"),
            ("rx-ringport-spread", "rx-ringport-plain",
             "frames placed / all at their buffers' start, one region", None)):
        if a in cpp and b in cpp:
            x = cpp[a] / cpp[b]
            out.append(f"{what}: {x:.2f}" + (f" (target {target})" if target else ""))
    return "\n".join(out)


def viommu_table(rows):
    """viommu-bench's table: each case's cycles per packet in both
    directions, and what a vIOMMU adds to the same direction without one
    (case names are MODE-DIRECTION, MODE "plain" the one without)."""
    r = {j["case"]: j for j in rows}
    out = ["", "| case | cycles/packet | over plain | packets/iteration | IOTLB hits/packet "
           "| IOTLB misses/packet | Mpps (iothread) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for k, v in r.items():
        base = r.get("plain-" + k.split("-", 1)[1]) if "-" in k else None
        over = (f"{v['cycles_per_packet'] - base['cycles_per_packet']:+.1f}"
                if base and base is not v else "-")
        out.append(f"| {k} | {v['cycles_per_packet']} | {over} | {v.get('packets_per_iteration', '-')} "
                   f"| {v.get('iotlb_hits_per_packet', '-')} | {v.get('iotlb_misses_per_packet', '-')} "
                   f"| {v['mpps'] if v['mpps'] else '-'} |")
    return "\n".join(out)


def viommu_problems(rows):
    """What makes a viommu-bench run unfit to read: a case that moved
    nothing one way, a vIOMMU case that translated nothing (no IOTLB
    lookups), or a plain one that did."""
    out = []
    for r in rows:
        mode = r["case"].split("-", 1)[0]
        if not r["packets"]:
            out.append(f"{r['case']}: no packets")
        hits = (r.get("iotlb_hits") or 0) + (r.get("iotlb_misses") or 0)
        if (mode == "plain") != (hits == 0):
            out.append(f"{r['case']}: {hits} IOTLB lookups")
    return out
