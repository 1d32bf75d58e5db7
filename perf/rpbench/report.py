# SPDX-License-Identifier: BSD-3-Clause
"""perf/bench.sh's and perf/ovn-bench.sh's report: results.jsonl into
summary.json, summary.csv, table.md and PNG plots (gnuplot, when
installed).

Every figure is the median over the trial windows, with min..max. Ratios
compare ringport with native and with the floor on the same scenario, size
and queue count."""
import csv
import datetime
import json
import os
import shutil
import subprocess
import sys

from rpbench.stats import ratio, summarize

SCEN = {"g2d": "guest -> OVS -> drop", "n2g": "net_null -> OVS -> guest",
        "g2g": "guest -> OVS -> guest",
        # perf/ovn-bench.sh: measured on chassis A, at a fixed offered load
        "ovn-encap": "guest -> chassis A (Geneve encap) -> chassis B",
        "ovn-decap": "chassis B -> chassis A (Geneve decap) -> guest"}
METRICS = ("mpps", "ovs_cycles_per_packet", "iot_to_switch", "iot_to_guest",
           "total_cycles_per_packet")
RATIO_METRICS = ("ovs_cycles_per_packet", "total_cycles_per_packet", "mpps")


def flat(r):
    """A results.jsonl row's figures under METRICS' names."""
    i = r["iothread_cycles_per_packet"]
    return {"mpps": r["mpps"], "ovs_cycles_per_packet": r["ovs_cycles_per_packet"],
            "iot_to_switch": i["to_switch"], "iot_to_guest": i["to_guest"],
            "total_cycles_per_packet": r["total_cycles_per_packet"]}


def mode_of(r):
    """The row's mode; ringport with a --steer program is its own mode
    ("ringport:steer_ring")."""
    return r["mode"] + (":" + r["steer"].replace(".bpf.o", "") if r.get("steer") else "")


def summarize_rows(rows):
    """One configuration per (scenario, size, queues, mode), sorted, with
    each metric's summary and ringport's ratios. Returns (configurations,
    problems): a problem is a configuration that delivered nothing or a
    ratio that could not be computed."""
    groups = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["size"], r["queues"], mode_of(r)), []).append(r)
    summary = []
    for (sc, size, q, mode), rs in sorted(groups.items()):
        f = [flat(r) for r in rs]
        s = {"scenario": sc, "size": size, "queues": q, "mode": mode, "cpus": rs[0]["cpus"],
             "trials": len(rs),
             # stages sharing CPUs: Mpps measures the scheduler, not the code
             "shared_cpus": any(r["cpus"]["shared"] for r in rs)}
        for m in METRICS:
            s[m] = summarize([x[m] for x in f])
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
            for m in RATIO_METRICS:
                v = ratio(s[m], o[m])
                s["ratios"][f"{m}/{other}"] = round(v, 3) if v is not None else None
                if v is None:
                    bad.append(f"ringport {key}: ratio {m}/{other} missing")
    return summary, bad


def write_csv(path, summary):
    with open(path, "w", newline="") as fh:
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
    """A summary as "median [min–max]", or the median alone when the
    windows agree, or "–" when nothing was measured."""
    if not x:
        return "–"
    if x["n"] > 1 and x["max"] != x["min"]:
        return f"{x['median']:.{d}f} [{x['min']:.{d}f}–{x['max']:.{d}f}]"
    return f"{x['median']:.{d}f}"


def table(meta, summary):
    """table.md: the machine, then one line per configuration. Rows whose
    stages shared CPUs say so in their CPUs column."""
    lines = [f"Measured {meta['date']} on {meta['host']}: {meta['cpus']} CPUs ({meta['cpu_model']})"
             + (", everything sharing CPUs (per-core scaling needs more cores: the cycle figures"
                " still compare, Mpps does not scale here)" if meta["shared_cpus"] else "") + ".",
             "",
             "| scenario | bytes | queues | mode | CPUs | Mpps | OVS cycles/pkt | iothread to-switch | "
             "iothread to-guest | total cycles/pkt | OVS vs native | OVS vs floor | total vs native |",
             "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary:
        rt = s.get("ratios", {})

        def g(k):
            return f"{rt[k]:.2f}" if rt.get(k) is not None else ""
        cpus = "**shared: not a measurement**" if s["shared_cpus"] else "own"
        lines.append(f"| {SCEN[s['scenario']]} | {s['size']} | {s['queues']} | {s['mode']} | {cpus} | "
                     f"{fmt(s['mpps'], 3)} | {fmt(s['ovs_cycles_per_packet'])} | {fmt(s['iot_to_switch'])} | "
                     f"{fmt(s['iot_to_guest'])} | {fmt(s['total_cycles_per_packet'])} | "
                     f"{g('ovs_cycles_per_packet/native')} | {g('ovs_cycles_per_packet/floor')} | "
                     f"{g('total_cycles_per_packet/native')} |")
    return "\n".join(lines) + "\n"


def machine(host=None, cpu_model=None, ncpu=None, shared=False):
    model = cpu_model
    if model is None:
        with open("/proc/cpuinfo") as fh:
            model = next((l.split(":", 1)[1].strip() for l in fh if l.startswith("model name")), "?")
    return {"date": datetime.date.today().isoformat(), "host": host or os.uname().nodename,
            "cpus": int(ncpu or os.cpu_count()), "shared_cpus": shared, "cpu_model": model}


def read_rows(d):
    with open(os.path.join(d, "results.jsonl")) as fh:
        return [json.loads(l) for l in fh if l.strip()]


def report(d, meta, check=False):
    """Write the summary files and plots of directory d; print the table.
    Returns the exit status: 1 without results, or with check and a
    problem (CI's sanity check; speed is not judged)."""
    rows = read_rows(d)
    if not rows:
        print("bench-report: no results", file=sys.stderr)
        return 1
    summary, bad = summarize_rows(rows)
    with open(os.path.join(d, "summary.json"), "w") as fh:
        json.dump({"machine": meta, "configurations": summary}, fh, indent=1)
    write_csv(os.path.join(d, "summary.csv"), summary)
    t = table(meta, summary)
    with open(os.path.join(d, "table.md"), "w") as fh:
        fh.write(t)
    print(t)
    plots(d, summary)
    if check:
        for b in bad:
            print("bench check: " + b, file=sys.stderr)
        if bad:
            return 1
        print(f"bench check: {len(summary)} configurations delivered packets, every ratio present",
              file=sys.stderr)
    return 0


def plot_data(summary):
    """gnuplot's inputs: (mpps.dat, stages.dat) as text, at the smallest
    frame size. mpps.dat: Mpps against queue pairs, a block per scenario
    and mode. stages.dat: cycles per packet by stage at 1 queue pair."""
    size = min(s["size"] for s in summary)
    modes = sorted({s["mode"] for s in summary})
    mpps = []
    for sc in SCEN:
        for mode in modes:
            ss = [s for s in summary
                  if s["scenario"] == sc and s["mode"] == mode and s["size"] == size and s["mpps"]]
            pts = sorted((s["queues"], s["mpps"]["median"]) for s in ss)
            shared = " (shared CPUs: not a measurement)" if any(s["shared_cpus"] for s in ss) else ""
            if pts:
                mpps.append(f'"{sc} {mode}{shared}"\n' + "".join(f"{q} {v}\n" for q, v in pts) + "\n\n")
    stages = ["config ovs iothread\n"]
    for sc in SCEN:
        for mode in modes:
            s = next((s for s in summary if s["scenario"] == sc and s["mode"] == mode
                      and s["size"] == size and s["queues"] == 1), None)
            if s is None or not s["ovs_cycles_per_packet"]:
                continue
            iot = sum(s[k]["median"] for k in ("iot_to_switch", "iot_to_guest") if s[k])
            sh = "\\n(shared CPUs)" if s["shared_cpus"] else ""
            stages.append(f'"{sc}\\n{mode}{sh}" {s["ovs_cycles_per_packet"]["median"]} {iot}\n')
    return size, "".join(mpps), "".join(stages)


GNUPLOT = """
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


def plots(d, summary):
    gp = shutil.which("gnuplot")
    if gp is None:
        print("bench-report: gnuplot not installed: no plots", file=sys.stderr)
        return
    size, mpps, stages = plot_data(summary)
    files = {"mpps.dat": mpps, "stages.dat": stages}
    for f, text in files.items():
        with open(os.path.join(d, f), "w") as fh:
            fh.write(text)
    r = subprocess.run([gp], input=GNUPLOT.format(d=d, size=size), text=True, capture_output=True)
    for f in files:
        os.remove(os.path.join(d, f))
    if r.returncode != 0:
        print("bench-report: gnuplot failed: " + r.stderr.strip(), file=sys.stderr)
