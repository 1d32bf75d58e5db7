# SPDX-License-Identifier: BSD-3-Clause
"""Unit tests of perf/rpbench: the statistics, the rows and the report.
Run: PYTHONPATH=perf python3 -m unittest discover -s perf/tests"""
import csv
import io
import json
import os
import tempfile
import unittest
from unittest import mock

from rpbench import report, rows, status
from rpbench.stats import deltas, per, pmd_stats, ratio, summarize

RESULTS = os.path.join(os.path.dirname(__file__), "..", "results")


def worker(ts_c, ts_p, tg_c, tg_p, sleeps=0):
    return {"busy_cycles": {"to_switch": ts_c, "to_guest": tg_c},
            "packets": {"to_switch": ts_p, "to_guest": tg_p},
            "stages": {"sleeps": sleeps,
                       "to_switch": {"busy_cycles": ts_c, "packets": ts_p, "busy_iterations": 2,
                                     "full_burst_cycles": 1, "full_burst_packets": 1},
                       "to_guest": {"busy_cycles": tg_c, "packets": tg_p, "busy_iterations": 3,
                                    "full_burst_cycles": 0, "full_burst_packets": 0}}}


def row(mode, mpps, ovs, steer="", shared=False, scenario="g2d", size=64, queues=1,
        ts=None, tg=None):
    return {"mode": mode, "scenario": scenario, "size": size, "queues": queues, "trial": 1,
            "steer": steer, "cpus": {"shared": shared}, "mpps": mpps,
            "ovs_cycles_per_packet": ovs,
            "iothread_cycles_per_packet": {"to_switch": ts, "to_guest": tg},
            "total_cycles_per_packet": None if ovs is None else ovs + (ts or 0) + (tg or 0)}


class Stats(unittest.TestCase):
    def test_summarize_skips_missing_windows(self):
        self.assertEqual(summarize([3, None, 1, 2]), {"median": 2, "min": 1, "max": 3, "n": 3})
        self.assertEqual(summarize([4, 1])["median"], 2.5)
        self.assertIsNone(summarize([None, None]))
        self.assertIsNone(summarize([]))

    def test_ratio(self):
        a, b = summarize([3.0]), summarize([2.0])
        self.assertEqual(ratio(a, b), 1.5)
        self.assertIsNone(ratio(a, None))
        self.assertIsNone(ratio(None, b))
        self.assertIsNone(ratio(a, summarize([0.0])))
        self.assertIsNone(ratio(summarize([float("nan")]), b))

    def test_per_and_deltas(self):
        self.assertEqual(per(10, 4), 2.5)
        self.assertIsNone(per(10, 0))
        self.assertEqual(per(1, 3, 3), 0.333)
        self.assertEqual(deltas([1, 5], [4, 5]), [3, 0])
        with self.assertRaises(ValueError):
            deltas([1], [1, 2])

    def test_pmd_stats(self):
        st = pmd_stats("packets_received 1200\nprocessing_cycles 3.6e5\nnoise\nbad x\n\n")
        self.assertEqual(st, {"packets_received": 1200.0, "processing_cycles": 360000.0})


class Status(unittest.TestCase):
    def test_several_documents_summed(self):
        a = {"workers": [worker(100, 10, 50, 5), worker(10, 1, 0, 0)]}
        b = {"workers": [worker(1000, 100, 500, 50)]}
        docs = status.load_all(json.dumps(a) + "\n" + json.dumps(b, indent=1) + "\n")
        self.assertEqual(len(docs), 2)
        self.assertEqual(status.iot_counts(docs), [1110, 111, 550, 55])

    def test_one_direction_with_sleeps(self):
        a = {"workers": [worker(100, 10, 50, 5, sleeps=3), worker(10, 1, 7, 2, sleeps=4)]}
        self.assertEqual(status.iot_dir_counts(a, "to_guest"), [57, 7, 7])
        self.assertEqual(status.stage_counts(a, "to_switch"), [110, 11, 4, 2, 2])

    def test_moving_needs_a_session(self):
        q = [{"to_switch": {"packets": 60000}}, {"to_switch": {"packets": 50000}}]
        self.assertTrue(status.moving({"port": {"session": {"id": 1}}, "queues": q}, "to_switch"))
        self.assertFalse(status.moving({"port": {"session": None}, "queues": q}, "to_switch"))
        self.assertFalse(status.moving({"port": {"session": {"id": 1}}, "queues": q[:1]},
                                       "to_switch"))

    def test_iotlb_over_the_queues(self):
        q = [{"to_guest": {"iotlb_hits": 40, "iotlb_misses": 3}},
             {"to_guest": {"iotlb_hits": 2, "iotlb_misses": 0}}]
        self.assertEqual(status.iotlb_counts({"queues": q}, "to_guest"), [42, 3])


WINDOW = {"mode": "ringport", "scenario": "n2g", "size": 64, "queues": 2, "trial": 1,
          "seconds": 2.0, "steer": "steer_ring", "pmd_cpus": "1", "iot_cpus": "0",
          "guest_cpus": "0", "shared": True, "delivered": 4_000_000}


class Rows(unittest.TestCase):
    def test_bench_window(self):
        pmd = {"packets_received": 1000.0, "processing_cycles": 150000.0}
        r = rows.bench_window(WINDOW, pmd, [0, 0, 100, 10], [0, 0, 3100, 30])
        self.assertEqual(r["mpps"], 2.0)
        self.assertEqual(r["ovs_cycles_per_packet"], 150.0)
        # no packets to the switch: no figure, and the total leaves it out
        self.assertEqual(r["iothread_cycles_per_packet"], {"to_switch": None, "to_guest": 150.0})
        self.assertEqual(r["total_cycles_per_packet"], 300.0)
        self.assertEqual(r["steer"], "steer_ring")
        self.assertTrue(r["cpus"]["shared"])

    def test_bench_window_drop_counts_what_ovs_received(self):
        w = dict(WINDOW, scenario="g2d", mode="native", delivered=0)
        r = rows.bench_window(w, {"packets_received": 3e6, "processing_cycles": 3e8},
                              [0] * 4, [0] * 4)
        self.assertEqual(r["delivered"], 3_000_000)
        self.assertEqual((r["steer"], r["cpus"]["iothread"]), ("", ""))
        idle = rows.bench_window(w, {}, [0] * 4, [0] * 4)
        self.assertIsNone(idle["ovs_cycles_per_packet"])
        self.assertIsNone(idle["total_cycles_per_packet"])

    def test_ovn_window(self):
        w = dict(WINDOW, scenario="ovn-encap", rate=20000, dir="to_switch", delivered=200000)
        r = rows.ovn_window(w, {"packets_received": 2e5, "processing_cycles": 3e8},
                            [0, 0, 0], [2_000_000, 1000, 5])
        self.assertEqual(r["iothread_cycles_per_packet"], {"to_switch": 2000.0, "to_guest": None})
        self.assertEqual(r["iothread_sleeps_per_packet"], 0.005)
        self.assertEqual(r["total_cycles_per_packet"], 3500.0)
        self.assertEqual(r["offered_pps"], 20000)

    def test_cases_and_tables(self):
        a = rows.iothread_case("dequeue-iothread", 1000, 230000, 2, (50, 64000, 320))
        self.assertEqual((a["cycles_per_packet"], a["packets_per_iteration"],
                          a["cycles_per_packet_full_bursts"]), (230.0, 20.0, 200.0))
        b = rows.iothread_case("dequeue-vhost", 1000, 200000, 0)
        self.assertIsNone(b["mpps"])
        t = rows.iothread_table([a, b, rows.idle_case(0, 2e7, 2)])
        self.assertIn("dequeue: iothread / vhost = 1.15, full bursts 1.00", t)
        a["cycles_per_packet_uninterrupted"] = 210.0
        self.assertIn("dequeue: iothread / vhost = 1.15, uninterrupted 1.05, full bursts 1.00",
                      rows.iothread_table([a, b]))
        self.assertIn("adaptive polling: 1.0 % of a core", t)
        with self.assertRaises(ValueError):
            rows.ovs_port_case("rx-null", {}, 1)
        c = rows.ovs_port_case("rx-ringport", {"packets_received": 1e6, "processing_cycles": 1.2e8}, 2)
        d = rows.ovs_port_case("rx-null", {"packets_received": 1e6, "processing_cycles": 1e8}, 2)
        self.assertIn("ringport rx / net_null floor: 1.20 (target <= 1.25)", rows.ovs_port_table([c, d]))
        v = rows.ovs_port_case("rx-vhost", {"packets_received": 1e6, "processing_cycles": 1.5e8}, 2)
        t = rows.ovs_port_table([rows.ovs_port_case("rx-ringport", {"packets_received": 1e6,
                                                                    "processing_cycles": 1.2e8}, 2, 4), v])
        self.assertIn("| rx-ringport | 4 | 0.50 | 120.0 |", t)
        self.assertIn("ringport rx / native vhost rx: 0.80 (target <= 0.8)", t)
        # --alternate: several windows per case, medians compared.
        w = [rows.ovs_port_case(n, {"packets_received": 1e6, "processing_cycles": c}, 2)
             for n, c in (("rx-ringport-spread", 1.1e8), ("rx-ringport-plain", 1.5e8),
                          ("rx-ringport-spread", 1.2e8), ("rx-ringport-plain", 1.6e8),
                          ("rx-ringport-spread", 1.3e8))]
        t = rows.ovs_port_table(w)
        self.assertIn("| rx-ringport-spread | 1 | 0.50 | 120.0 [110.0-130.0], 3 windows |", t)
        self.assertIn("frames placed / all at their buffers' start, one region: 0.77", t)

    def test_viommu_rows_and_table(self):
        def doc(c, p, it, hits, misses):
            w = worker(0, 0, c, p)
            w["stages"]["to_guest"].update(busy_iterations=it)
            return {"workers": [w], "queues": [{"to_guest": {"iotlb_hits": hits,
                                                              "iotlb_misses": misses}}]}
        zero = doc(0, 0, 0, 0, 0)
        plain = rows.status_case("plain-to_guest", "to_guest", zero,
                                 doc(30000000, 100000, 50000, 0, 0), 10)
        dyn = rows.status_case("dynamic-to_guest", "to_guest", doc(1, 1, 1, 5, 1),
                               doc(42000001, 100001, 40001, 250005, 1201), 10)
        self.assertEqual((dyn["iotlb_hits_per_packet"], dyn["iotlb_misses_per_packet"]), (2.5, 0.012))
        self.assertEqual((dyn["packets"], dyn["packets_per_iteration"]), (100000, 2.5))
        t = rows.viommu_table([plain, dyn])
        self.assertIn("| dynamic-to_guest | 420.0 | +120.0 | 2.5 | 2.5 | 0.012 | 0.01 |", t)
        self.assertIn("| plain-to_guest | 300.0 | - |", t)
        self.assertEqual(rows.viommu_problems([plain, dyn]), [])
        # An iothread without the interrupted counters: none counted.
        self.assertEqual((dyn["interrupted_iterations"], dyn["cycles_per_packet_uninterrupted"]),
                         (0, 420.0))
        none = dict(dyn, iotlb_hits=0, iotlb_misses=0, packets=0)
        self.assertEqual(rows.viommu_problems([dict(plain, iotlb_hits=3), none]),
                         ["plain-to_guest: 3 IOTLB lookups", "dynamic-to_guest: no packets",
                          "dynamic-to_guest: 0 IOTLB lookups"])


    def test_interrupted_iterations_apart(self):
        def doc(c, p, ic, ip, ii):
            w = worker(c, p, 0, 0)
            w["stages"]["to_switch"]["interrupted"] = {"cycles": ic, "packets": ip,
                                                        "iterations": ii}
            return {"workers": [w, w], "queues": []}
        self.assertEqual(status.interrupted_counts(doc(0, 0, 7, 3, 1), "to_switch"), [14, 6, 2])
        # 2 workers: 2 x (1,000 packets in 300,000 cycles, of which 100
        # packets in 120,000 cycles were in 2 interrupted iterations).
        r = rows.status_case("dequeue-iothread", "to_switch", doc(0, 0, 0, 0, 0),
                             doc(300000, 1000, 120000, 100, 2), 1)
        self.assertEqual((r["cycles_per_packet"], r["cycles_per_packet_uninterrupted"],
                          r["interrupted_iterations"], r["interrupted_cycles"]),
                         (300.0, 200.0, 4, 240000))
        self.assertIn("| dequeue-iothread | 300.0 | 200.0 |", rows.iothread_table([r]))


class Report(unittest.TestCase):
    def test_ratios_and_problems(self):
        rs = [row("native", 1.0, 200.0), row("native", 3.0, 100.0),
              row("ringport", 1.5, 150.0, ts=50.0), row("ringport", 1.5, 150.0, ts=70.0),
              row("ringport", 0.0, None, steer="steer_ring.bpf.o")]
        summary, bad = report.summarize_rows(rs)
        by = {s["mode"]: s for s in summary}
        self.assertEqual(sorted(by), ["native", "ringport", "ringport:steer_ring"])
        self.assertEqual(by["native"]["ovs_cycles_per_packet"]["median"], 150.0)
        self.assertEqual(by["ringport"]["ratios"]["ovs_cycles_per_packet/native"], 1.0)
        self.assertEqual(by["ringport"]["iot_to_switch"]["median"], 60.0)
        self.assertEqual(by["ringport"]["ratios"]["mpps/native"], 0.75)
        self.assertIn("ringport:steer_ring ('g2d', 64, 1): delivered no packets", bad)
        self.assertIn("ringport ('g2d', 64, 1): ratio ovs_cycles_per_packet/native missing", bad)
        # no packets, and no OVS or total cycles to compare (Mpps is 0, not missing)
        self.assertEqual(len(bad), 3)

    def test_shared_rows_say_so(self):
        summary, _ = report.summarize_rows([row("native", 1.0, 100.0, shared=True),
                                            row("native", 1.0, 100.0, size=512)])
        meta = {"date": "d", "host": "h", "cpus": 2, "cpu_model": "m", "shared_cpus": False}
        lines = report.table(meta, summary).splitlines()
        self.assertIn("| **shared: not a measurement** |", lines[4])
        self.assertIn("| own |", lines[5])
        self.assertEqual(report.fmt(summary[0]["mpps"], 3), "1.000")
        self.assertEqual(report.fmt({"median": 2, "min": 1, "max": 3, "n": 3}), "2.0 [1.0–3.0]")

    def test_committed_results_reproduce(self):
        """The committed runs' summaries come out of their results.jsonl
        again: the format and the arithmetic did not change. (Runs before
        2026-12-02 predate the shared_cpus fields.)"""
        for d in ("20261203-2core-ovn",):
            with self.subTest(run=d):
                path = os.path.join(RESULTS, d)
                with open(os.path.join(path, "summary.json")) as fh:
                    committed = json.load(fh)
                summary, _ = report.summarize_rows(report.read_rows(path))
                self.assertEqual(json.loads(json.dumps(summary)), committed["configurations"])
                buf = io.StringIO()
                with tempfile.TemporaryDirectory() as t:
                    report.write_csv(os.path.join(t, "s.csv"), summary)
                    with open(os.path.join(t, "s.csv")) as fh:
                        buf.write(fh.read())
                with open(os.path.join(path, "summary.csv")) as fh:
                    self.assertEqual(list(csv.reader(io.StringIO(buf.getvalue()))),
                                     list(csv.reader(fh)))
                with open(os.path.join(path, "table.md")) as fh:
                    want = fh.read().splitlines()[1:]
                self.assertEqual(report.table(committed["machine"], summary).splitlines()[1:], want)

    def test_report_check_fails_on_an_empty_row(self):
        with tempfile.TemporaryDirectory() as t:
            with open(os.path.join(t, "results.jsonl"), "w") as fh:
                fh.write(json.dumps(row("native", 0.0, None)) + "\n")
            meta = report.machine("h", "m", 2, True)
            with mock.patch("rpbench.report.plots"), mock.patch("sys.stdout", io.StringIO()), \
                    mock.patch("sys.stderr", io.StringIO()) as err:
                self.assertEqual(report.report(t, meta, check=True), 1)
            self.assertIn("delivered no packets", err.getvalue())
            for f in ("summary.json", "summary.csv", "table.md"):
                self.assertTrue(os.path.exists(os.path.join(t, f)), f)


if __name__ == "__main__":
    unittest.main()
