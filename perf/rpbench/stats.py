# SPDX-License-Identifier: BSD-3-Clause
"""Statistics over benchmark counters. Pure functions, unit-tested."""
import math
import statistics


def summarize(vals):
    """Median, min, max and count of the values that are not None, or None
    when there are none (a stage that moved nothing in every window)."""
    v = [x for x in vals if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def ratio(a, b):
    """a / b of two summaries' medians, or None when either is missing, b's
    median is 0, or the result is not a number."""
    if not a or not b or not b["median"]:
        return None
    v = a["median"] / b["median"]
    return None if math.isnan(v) else v


def per(num, den, digits=1):
    """num / den rounded, or None when den is 0 (nothing was counted)."""
    return round(num / den, digits) if den else None


def deltas(before, after):
    """Counter differences, element by element; both lists the same length."""
    if len(before) != len(after):
        raise ValueError(f"{len(before)} counters before, {len(after)} after")
    return [y - x for x, y in zip(before, after)]


def pmd_stats(text):
    """OVS's dpif-netdev/pmd-stats-show, as tests/lib/ovs-sandbox.sh's
    ovs_sb_pmd_stats prints it ("name value" lines, summed over PMD threads),
    into a dict of numbers."""
    st = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) != 2:
            continue
        try:
            st[f[0]] = float(f[1])
        except ValueError:
            continue
    return st
