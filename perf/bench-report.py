#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench-report: turn perf/bench.sh's results.jsonl into summary.json,
summary.csv, table.md and PNG plots (gnuplot, when installed).

    perf/bench-report.py DIR [--shared 0|1] [--ncpu N] [--check]

Every figure is the median over the trial windows, with min..max. Ratios
compare ringport with native and with the floor on the same scenario, size
and queue count. --check: exit 1 unless every configuration delivered
packets and no ratio is missing (CI's sanity check; speed is not judged).
"""
import argparse
import csv
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys

SCEN = {"g2d": "guest -> OVS -> drop", "n2g": "net_null -> OVS -> guest",
        "g2g": "guest -> OVS -> guest",
        # perf/ovn-bench.sh: measured on chassis A, at a fixed offered load
        "ovn-encap": "guest -> chassis A (Geneve encap) -> chassis B",
        "ovn-decap": "chassis B -> chassis A (Geneve decap) -> guest"}
METRICS = ("mpps", "ovs_cycles_per_packet", "iot_to_switch", "iot_to_guest",
           "total_cycles_per_packet")


def flat(r):
    i = r["iothread_cycles_per_packet"]
    return {"mpps": r["mpps"], "ovs_cycles_per_packet": r["ovs_cycles_per_packet"],
            "iot_to_switch": i["to_switch"], "iot_to_guest": i["to_guest"],
            "total_cycles_per_packet": r["total_cycles_per_packet"]}


def med(vals):
    v = [x for x in vals if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--shared", default="0")
    ap.add_argument("--ncpu", default=str(os.cpu_count()))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--host", help="the machine the results came from (default: this one)")
    ap.add_argument("--cpu-model", help="its CPU model (default: this machine's)")
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(os.path.join(a.dir, "results.jsonl")) if l.strip()]
    if not rows:
        print("bench-report: no results", file=sys.stderr)
        return 1
    groups = {}
    for r in rows:
        # ringport with a --steer program is its own mode: "ringport:steer_ring"
        mode = r["mode"] + (":" + r["steer"].replace(".bpf.o", "") if r.get("steer") else "")
        groups.setdefault((r["scenario"], r["size"], r["queues"], mode), []).append(r)
    summary = []
    for (sc, size, q, mode), rs in sorted(groups.items()):
        f = [flat(r) for r in rs]
        s = {"scenario": sc, "size": size, "queues": q, "mode": mode, "cpus": rs[0]["cpus"],
             "trials": len(rs),
             # stages sharing CPUs: Mpps measures the scheduler, not the code
             "shared_cpus": any(r["cpus"]["shared"] for r in rs)}
        for m in METRICS:
            s[m] = med([x[m] for x in f])
        summary.append(s)
    idx = {(s["scenario"], s["size"], s["queues"], s["mode"]): s for s in summary}
    bad = []
    for s in summary:
        key = (s["scenario"], s["size"], s["queues"])
        if not s["mpps"] or s["mpps"]["median"] <= 0:
            bad.append(f"{s['mode']} {key}: delivered no packets")
        if not s["mode"].startswith("ringport"):
            continue
        s["ratios"] = {}
        for other in ("native", "floor"):
            o = idx.get(key + (other,))
            if o is None:
                continue
            for m in ("ovs_cycles_per_packet", "total_cycles_per_packet", "mpps"):
                x, y = s[m], o[m]
                v = x["median"] / y["median"] if x and y and y["median"] else None
                s["ratios"][f"{m}/{other}"] = round(v, 3) if v is not None else None
                if v is None or v != v:
                    bad.append(f"ringport {key}: ratio {m}/{other} missing")
    meta = {"date": datetime.date.today().isoformat(), "host": a.host or os.uname().nodename,
            "cpus": int(a.ncpu), "shared_cpus": a.shared == "1",
            "cpu_model": a.cpu_model or next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                              if l.startswith("model name")), "?")}
    json.dump({"machine": meta, "configurations": summary}, open(os.path.join(a.dir, "summary.json"), "w"), indent=1)
    with open(os.path.join(a.dir, "summary.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["scenario", "size", "queues", "mode", "trials", "shared_cpus"] +
                   [f"{m}_{k}" for m in METRICS for k in ("median", "min", "max")] +
                   ["ovs_ratio_native", "ovs_ratio_floor", "total_ratio_native", "mpps_ratio_native"])
        for s in summary:
            rt = s.get("ratios", {})
            w.writerow([s["scenario"], s["size"], s["queues"], s["mode"], s["trials"],
                        int(s["shared_cpus"])] +
                       [s[m][k] if s[m] else "" for m in METRICS for k in ("median", "min", "max")] +
                       [rt.get("ovs_cycles_per_packet/native", ""), rt.get("ovs_cycles_per_packet/floor", ""),
                        rt.get("total_cycles_per_packet/native", ""), rt.get("mpps/native", "")])

    def fmt(x, d=1):
        if not x:
            return "–"
        if x["n"] > 1 and x["max"] != x["min"]:
            return f"{x['median']:.{d}f} [{x['min']:.{d}f}–{x['max']:.{d}f}]"
        return f"{x['median']:.{d}f}"

    lines = [f"Measured {meta['date']} on {meta['host']}: {meta['cpus']} CPUs ({meta['cpu_model']})"
             + (", everything sharing CPUs (per-core scaling needs more cores: the cycle figures"
                " still compare, Mpps does not scale here)" if meta["shared_cpus"] else "") + ".",
             "",
             "| scenario | bytes | queues | mode | CPUs | Mpps | OVS cycles/pkt | iothread to-switch | "
             "iothread to-guest | total cycles/pkt | OVS vs native | OVS vs floor | total vs native |",
             "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary:
        rt = s.get("ratios", {})
        g = lambda k: f"{rt[k]:.2f}" if rt.get(k) is not None else ""
        cpus = "**shared: not a measurement**" if s["shared_cpus"] else "own"
        lines.append(f"| {SCEN[s['scenario']]} | {s['size']} | {s['queues']} | {s['mode']} | {cpus} | "
                     f"{fmt(s['mpps'], 3)} | {fmt(s['ovs_cycles_per_packet'])} | {fmt(s['iot_to_switch'])} | "
                     f"{fmt(s['iot_to_guest'])} | {fmt(s['total_cycles_per_packet'])} | "
                     f"{g('ovs_cycles_per_packet/native')} | {g('ovs_cycles_per_packet/floor')} | "
                     f"{g('total_cycles_per_packet/native')} |")
    table = "\n".join(lines) + "\n"
    open(os.path.join(a.dir, "table.md"), "w").write(table)
    print(table)
    plots(a.dir, summary)
    for f in ("mpps.dat", "stages.dat"):
        if os.path.exists(os.path.join(a.dir, f)):
            os.remove(os.path.join(a.dir, f))
    if a.check:
        for b in bad:
            print("bench check: " + b, file=sys.stderr)
        if bad:
            return 1
        print(f"bench check: {len(summary)} configurations delivered packets, every ratio present",
              file=sys.stderr)
    return 0


def plots(d, summary):
    gp = shutil.which("gnuplot")
    if gp is None:
        print("bench-report: gnuplot not installed: no plots", file=sys.stderr)
        return
    size = min(s["size"] for s in summary)
    # Mpps against queue pairs, per scenario and mode, at the smallest size.
    with open(os.path.join(d, "mpps.dat"), "w") as fh:
        for sc in SCEN:
            for mode in sorted({s["mode"] for s in summary}):
                ss = [s for s in summary
                      if s["scenario"] == sc and s["mode"] == mode and s["size"] == size and s["mpps"]]
                pts = sorted((s["queues"], s["mpps"]["median"]) for s in ss)
                shared = " (shared CPUs: not a measurement)" if any(s["shared_cpus"] for s in ss) else ""
                if pts:
                    fh.write(f'"{sc} {mode}{shared}"\n' + "".join(f"{q} {v}\n" for q, v in pts) + "\n\n")
    # Cycles per packet by stage (OVS PMD, iothread), 1 queue pair, smallest size.
    with open(os.path.join(d, "stages.dat"), "w") as fh:
        fh.write("config ovs iothread\n")
        for sc in SCEN:
            for mode in sorted({s["mode"] for s in summary}):
                s = next((s for s in summary if s["scenario"] == sc and s["mode"] == mode
                          and s["size"] == size and s["queues"] == 1), None)
                if s is None or not s["ovs_cycles_per_packet"]:
                    continue
                iot = sum(s[k]["median"] for k in ("iot_to_switch", "iot_to_guest") if s[k])
                sh = "\\n(shared CPUs)" if s["shared_cpus"] else ""
                fh.write(f'"{sc}\\n{mode}{sh}" {s["ovs_cycles_per_packet"]["median"]} {iot}\n')
    script = f"""
set terminal pngcairo size 900,500 noenhanced
set output '{d}/mpps_vs_queues.png'
set title 'Mpps delivered against queue pairs ({size}-byte frames)'
set xlabel 'queue pairs'; set ylabel 'Mpps'; set key outside right; set grid
stats '{d}/mpps.dat' nooutput
plot for [i=0:STATS_blocks-1] '{d}/mpps.dat' index i using 1:2 with linespoints title columnheader(1)
set output '{d}/cycles_by_stage.png'
set title 'Busy cycles per packet by stage (1 queue pair, {size}-byte frames)'
set style data histograms; set style histogram rowstacked; set style fill solid 0.8 border -1
set boxwidth 0.7; set ylabel 'cycles per packet'; set xlabel ''; unset grid; set grid y
set xtics rotate by -35 font ',8'; set bmargin 6
plot '{d}/stages.dat' using 2:xtic(1) title 'OVS PMD', '' using 3 title 'iothread'
"""
    r = subprocess.run([gp], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print("bench-report: gnuplot failed: " + r.stderr.strip(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
