# SPDX-License-Identifier: BSD-3-Clause
"""python3 -m rpbench COMMAND ...: the benchmarks' arithmetic, for perf/*.sh.

Commands that read iothread status read `ringportctl status` output on
standard input (several documents, one after the other, where a
configuration has several iothreads). Rows are printed as one JSON object
per line, for results.jsonl."""
import argparse
import json
import sys

from rpbench import report, rows, status
from rpbench.stats import pmd_stats


def _ints(text):
    return [int(x) for x in text.split()]


def _read(path):
    if path == "-":
        return sys.stdin.read()
    with open(path) as fh:
        return fh.read()


def _status(a):
    return status.load_all(sys.stdin.read())


def cmd_report(a):
    meta = report.machine(a.host, a.cpu_model, a.ncpu, a.shared == "1")
    return report.report(a.dir, meta, a.check)


def cmd_iot_counts(a):
    docs = _status(a)
    if a.dir:
        if len(docs) != 1:
            print(f"rpbench: --dir needs one iothread's status, got {len(docs)}", file=sys.stderr)
            return 2
        print(*status.iot_dir_counts(docs[0], a.dir))
    else:
        print(*status.iot_counts(docs))
    return 0


def cmd_moving(a):
    return 0 if status.moving(_status(a)[0], a.dir, a.threshold) else 1


def cmd_link_up(a):
    docs = _status(a)
    return 0 if docs and status.link_up(docs[0]) else 1


def _window_common(a):
    return {"mode": a.mode, "scenario": a.scenario, "size": a.size, "trial": a.trial,
            "seconds": a.seconds, "iot_cpus": a.iot_cpus, "guest_cpus": a.guest_cpus,
            "shared": a.shared == "1", "delivered": a.delivered}


def cmd_window(a):
    w = _window_common(a)
    w.update(queues=a.queues, steer=a.steer, pmd_cpus=a.pmd_cpus)
    r = rows.bench_window(w, pmd_stats(_read(a.pmd_stats)), _ints(a.iot_before), _ints(a.iot_after))
    print(json.dumps(r))
    return 0


def cmd_ovn_window(a):
    w = _window_common(a)
    w.update(rate=a.rate, dir=a.dir)
    r = rows.ovn_window(w, pmd_stats(_read(a.pmd_stats)), _ints(a.iot_before), _ints(a.iot_after))
    print(json.dumps(r))
    return 0


def cmd_case(a):
    print(json.dumps(rows.iothread_case(a.name, a.packets, a.cycles, a.seconds)))
    return 0


def cmd_status_case(a):
    before, after = (status.load_all(_read(f))[0] for f in (a.before, a.after))
    print(json.dumps(rows.status_case(a.name, a.dir, before, after, a.seconds)))
    return 0


def cmd_idle(a):
    print(json.dumps(rows.idle_case(a.before, a.after, a.seconds)))
    return 0


def cmd_ovs_case(a):
    try:
        r = rows.ovs_port_case(a.name, pmd_stats(_read(a.pmd_stats)), a.seconds, a.queues)
    except ValueError as e:
        print(f"rpbench: {e}", file=sys.stderr)
        return 1
    print(json.dumps(r))
    return 0


def cmd_table(a):
    with open(a.results) as fh:
        rs = [json.loads(l) for l in fh if l.strip()]
    print({"iothread": rows.iothread_table, "ovs-port": rows.ovs_port_table,
           "viommu": rows.viommu_table}[a.kind](rs))
    if a.check and a.kind == "viommu":
        problems = rows.viommu_problems(rs)
        for p in problems:
            print(f"rpbench: {p}", file=sys.stderr)
        return 1 if problems or not rs else 0
    return 0


def _positive(v):
    x = float(v)
    if not x > 0:
        raise argparse.ArgumentTypeError(f"'{v}': need a number > 0")
    return x


def _window_args(p):
    p.add_argument("--mode", required=True)
    p.add_argument("--scenario", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--trial", type=int, required=True)
    p.add_argument("--seconds", type=_positive, required=True)
    p.add_argument("--iot-cpus", default="")
    p.add_argument("--guest-cpus", default="")
    p.add_argument("--shared", choices=("0", "1"), default="0")
    p.add_argument("--delivered", type=int, required=True,
                   help="frames the receiving side got in the window")
    p.add_argument("--pmd-stats", required=True, metavar="FILE",
                   help="ovs_sb_pmd_stats over the window ('-': standard input)")
    p.add_argument("--iot-before", required=True, metavar="COUNTS")
    p.add_argument("--iot-after", required=True, metavar="COUNTS")


def parser():
    ap = argparse.ArgumentParser(prog="rpbench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    p = sub.add_parser("report", help="summary.json/csv, table.md and plots of DIR/results.jsonl")
    p.add_argument("dir")
    p.add_argument("--shared", choices=("0", "1"), default="0",
                   help="the whole run shared CPUs")
    p.add_argument("--ncpu", type=int)
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless every configuration delivered packets and no ratio is missing")
    p.add_argument("--host", help="the machine the results came from (default: this one)")
    p.add_argument("--cpu-model", help="its CPU model (default: this machine's)")
    p.set_defaults(fn=cmd_report)

    p = sub.add_parser("iot-counts", help="busy cycles and packets, summed over workers")
    p.add_argument("--dir", choices=status.DIRS,
                   help="one direction of one iothread: 'cycles packets sleeps' "
                        "(default: 'cycles packets' of each direction, over every iothread)")
    p.set_defaults(fn=cmd_iot_counts)

    p = sub.add_parser("moving", help="exit 0 once the session is up and the queues moved enough")
    p.add_argument("dir", choices=status.DIRS)
    p.add_argument("--threshold", type=int, default=100000)
    p.set_defaults(fn=cmd_moving)

    p = sub.add_parser("link-up", help="exit 0 when the iothread's link is up")
    p.set_defaults(fn=cmd_link_up)

    p = sub.add_parser("window", help="perf/bench.sh's row for one window")
    _window_args(p)
    p.add_argument("--queues", type=int, required=True)
    p.add_argument("--steer", default="")
    p.add_argument("--pmd-cpus", required=True)
    p.set_defaults(fn=cmd_window)

    p = sub.add_parser("ovn-window", help="perf/ovn-bench.sh's row for one window")
    _window_args(p)
    p.add_argument("--rate", type=int, required=True)
    p.add_argument("--dir", choices=status.DIRS, required=True)
    p.set_defaults(fn=cmd_ovn_window)

    p = sub.add_parser("case", help="perf/iothread-bench.sh's row for a testpmd case")
    p.add_argument("name")
    p.add_argument("packets", type=int)
    p.add_argument("cycles", type=int)
    p.add_argument("seconds", type=float, help="0: not timed by us (testpmd's own figure)")
    p.set_defaults(fn=cmd_case)

    p = sub.add_parser("status-case", help="perf/iothread-bench.sh's and perf/viommu-bench.sh's "
                       "row: one direction's stage, interrupted-iteration and IOTLB counters "
                       "between two `ringportctl status` files")
    p.add_argument("name")
    p.add_argument("dir", choices=status.DIRS)
    p.add_argument("before", metavar="BEFORE.json")
    p.add_argument("after", metavar="AFTER.json")
    p.add_argument("seconds", type=_positive)
    p.set_defaults(fn=cmd_status_case)

    p = sub.add_parser("idle", help="the idle-adaptive case's share of a core")
    p.add_argument("before", type=int, help="CPU nanoseconds before")
    p.add_argument("after", type=int)
    p.add_argument("seconds", type=_positive)
    p.set_defaults(fn=cmd_idle)

    p = sub.add_parser("ovs-case", help="perf/ovs-port-bench.sh's row for one case")
    p.add_argument("name")
    p.add_argument("--pmd-stats", required=True, metavar="FILE")
    p.add_argument("--seconds", type=_positive, required=True)
    p.add_argument("--queues", type=int, default=1, help="the port's rx queues (default 1)")
    p.set_defaults(fn=cmd_ovs_case)

    p = sub.add_parser("table", help="iothread-bench's, ovs-port-bench's or viommu-bench's table")
    p.add_argument("kind", choices=("iothread", "ovs-port", "viommu"))
    p.add_argument("results", help="results.jsonl")
    p.add_argument("--check", action="store_true",
                   help="viommu: exit 1 unless every case moved packets and only the "
                        "vIOMMU cases looked addresses up in the IOTLB")
    p.set_defaults(fn=cmd_table)
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    return a.fn(a)
