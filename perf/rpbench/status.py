# SPDX-License-Identifier: BSD-3-Clause
"""What the benchmarks read from `ringportctl status` (DESIGN.md's status
JSON): busy cycles and packets per stage, summed over workers."""
import json

DIRS = ("to_switch", "to_guest")


def load_all(text):
    """Every JSON document in text, one after the other (the output of
    several `ringportctl status` calls concatenated)."""
    dec, docs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return docs
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)


def iot_counts(docs):
    """[cycles to_switch, packets to_switch, cycles to_guest, packets
    to_guest], summed over every worker of every iothread in docs."""
    ws = [w for s in docs for w in s["workers"]]
    out = []
    for d in DIRS:
        out.append(sum(w["busy_cycles"][d] for w in ws))
        out.append(sum(w["packets"][d] for w in ws))
    return out


def iot_dir_counts(doc, d):
    """[busy cycles, packets, sleeps] of one iothread's direction d."""
    ws = doc["workers"]
    return [sum(w["busy_cycles"][d] for w in ws), sum(w["packets"][d] for w in ws),
            sum(w["stages"]["sleeps"] for w in ws)]


STAGE_KEYS = ("busy_cycles", "packets", "busy_iterations", "full_burst_cycles",
              "full_burst_packets")


def stage_counts(doc, d):
    """The stage d's counters (STAGE_KEYS), summed over the workers."""
    ws = [w["stages"][d] for w in doc["workers"]]
    return [sum(st[k] for st in ws) for k in STAGE_KEYS]


def interrupted_counts(doc, d):
    """[cycles, packets, iterations] of the stage d's iterations the worker's
    CPU was taken from (longer than the iothread's threshold), summed over
    the workers; zeros from an iothread that does not count them."""
    ws = [w["stages"][d].get("interrupted", {}) for w in doc["workers"]]
    return [sum(i.get(k, 0) for i in ws) for k in ("cycles", "packets", "iterations")]


def iotlb_counts(doc, d):
    """[IOTLB hits, misses] of direction d, summed over the queues (rte_vhost's
    per-virtqueue counters; 0 without a vIOMMU)."""
    return [sum(q[d]["iotlb_hits"] for q in doc["queues"]),
            sum(q[d]["iotlb_misses"] for q in doc["queues"])]


def moving(doc, d, threshold=100000):
    """The switch side is attached and the queues' d counters (packets that
    really went through, not drops) passed threshold."""
    return bool(doc["port"]["session"]) and \
        sum(q[d]["packets"] for q in doc["queues"]) > threshold


def link_up(doc):
    return doc.get("link") == "up"
