# SPDX-License-Identifier: BSD-3-Clause
"""rpbench: the logic of ringport's benchmarks (perf/*.sh).

The shell scripts start and stop processes; everything that turns counters
into figures lives here, behind one command line (``python3 -m rpbench``,
with perf/ on PYTHONPATH; perf/lib.sh's ``perf_py`` does that):

- stats:  medians over trial windows, ratios, counter deltas, OVS PMD stats;
- status: what the benchmarks read from ringportctl's status JSON;
- rows:   one results.jsonl line per measurement window or case;
- report: summary.json, summary.csv, table.md and the plots.

Standard library only; gnuplot draws the plots when it is installed.
"""
