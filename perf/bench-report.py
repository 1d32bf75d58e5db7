#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench-report: turn perf/bench.sh's results.jsonl into summary.json,
summary.csv, table.md and PNG plots (gnuplot, when installed).

    perf/bench-report.py DIR [--shared 0|1] [--ncpu N] [--check]

The same as `python3 -m rpbench report` (perf/rpbench/report.py), kept
under its old name for re-running a report by hand."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rpbench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["report"] + sys.argv[1:]))
