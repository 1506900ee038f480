#!/usr/bin/env python3
"""Summarises a scripts/bench.sh run: reads RUN/runs.jsonl (one line per measured run, naming
its loadtest report.json) and RUN/meta.json, and writes RUN/summary.json and RUN/summary.md with
medians over the repetitions and their spread (min-max), the ratios of Skybridge against each
peer measured in the same run, and whether each target of issue 8 was met and by how much.

Usage: summary.py RUN_DIR [ELAPSED_SECONDS]
"""

import json
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

def spread(values):
    """Median, min and max of the non-missing values, or None when there are none."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def load_runs(run_dir):
    """Groups the measured runs as {(scenario, target): {phase: [run, ...]}}."""
    grouped = defaultdict(lambda: defaultdict(list))
    for line in (run_dir / "runs.jsonl").read_text().splitlines():
        record = json.loads(line)
        report = record.get("report")
        if report and report != "none":
            record["data"] = json.loads(Path(report).read_text())
        grouped[(record["scenario"], record["target"])][record["phase"]].append(record)
    return grouped


def saturation_stats(runs):
    rps, cpu_us, busy, capacity, passed = [], [], [], [], True
    for run in runs:
        data = run.get("data")
        if data is None:
            passed = False
            continue
        passed = passed and data["passed"] and run["exit"] == 0
        completed = data["requests"]["completed"]
        cpu_s = run["cpu_ticks"] / run["clock_ticks"]
        rps.append(data["throughput_rps"])
        cpu_us.append(cpu_s * 1e6 / completed if completed else None)
        busy.append(cpu_s / (data["elapsed_ms"] / 1000.0))
        # What one core would serve if the server had it to itself: robust when the generator
        # side or other work on the machine kept the server's core from being fully busy.
        capacity.append(completed / cpu_s if cpu_s else None)
    return {"rps": spread(rps), "cpu_us_per_request": spread(cpu_us),
            "cpu_busy": spread(busy), "capacity_rps": spread(capacity), "passed": passed}


def rate_stats(runs):
    keys = ("p50", "p99", "p99_9")
    values = {key: [] for key in keys}
    lag, cpu_us, skipped, passed = [], [], [], True
    for run in runs:
        if "skipped" in run:
            skipped.append(run["skipped"])
            continue
        data = run.get("data")
        if data is None:
            passed = False
            continue
        passed = passed and data["passed"] and run["exit"] == 0
        for key in keys:
            values[key].append(data["latency_us"][key])
        lag.append(data["generator_lag_us"]["p99"])
        completed = data["requests"]["completed"]
        cpu_us.append(run["cpu_ticks"] / run["clock_ticks"] * 1e6 / completed
                      if completed else None)
    result = {key: spread(values[key]) for key in keys}
    result.update({"generator_lag_p99": spread(lag), "cpu_us_per_request": spread(cpu_us),
                   "skipped": skipped, "passed": passed})
    return result


def summarise(grouped, rates):
    summary = defaultdict(dict)
    for (scenario, target), phases in grouped.items():
        entry = {"saturation": saturation_stats(phases.get("saturation", []))}
        for rate in rates:
            entry[f"rate-{rate}"] = rate_stats(phases.get(f"rate-{rate}", []))
        memory = [r["peak_rss_kib"] / 1024 for r in phases.get("memory", [])]
        entry["peak_rss_mib"] = spread(memory)
        summary[scenario][target] = entry
    return summary


def median(entry, *path):
    value = entry
    for part in path:
        if value is None:
            return None
        value = value.get(part)
    return value["median"] if value else None


def ratios(summary, rates):
    """Skybridge's figures divided by each peer's, per scenario (medians)."""
    result = {}
    for scenario, targets in summary.items():
        sky = targets.get("skybridge")
        if sky is None:
            continue
        for peer, entry in targets.items():
            if peer in ("skybridge", "direct"):
                continue
            row = {}
            for name, path in [("rps", ("saturation", "rps")),
                               ("capacity", ("saturation", "capacity_rps")),
                               ("cpu_us_per_request", ("saturation", "cpu_us_per_request")),
                               ("peak_rss", ("peak_rss_mib",))]:
                a, b = median(sky, *path), median(entry, *path)
                row[name] = a / b if a is not None and b else None
            for rate in rates:
                for key in ("p50", "p99"):
                    a, b = median(sky, f"rate-{rate}", key), median(entry, f"rate-{rate}", key)
                    row[f"{key}@{rate}"] = a / b if a is not None and b else None
            result[f"{scenario}/{peer}"] = row
    return result


def added_latency(summary, rate):
    """Latency each forwarding proxy adds over the upstream alone, at `rate`, per percentile."""
    forward = summary.get("forward", {})
    base = forward.get("direct")
    if base is None:
        return {}
    result = {}
    for target, entry in forward.items():
        if target == "direct":
            continue
        result[target] = {}
        for key in ("p50", "p99", "p99_9"):
            a, b = median(entry, f"rate-{rate}", key), median(base, f"rate-{rate}", key)
            result[target][key] = a - b if a is not None and b is not None else None
    return result


if __name__ == "__main__":
    from summary_md import targets, write_markdown  # noqa: E402  (sibling module)

    run_dir = Path(sys.argv[1])
    elapsed = int(sys.argv[2]) if len(sys.argv) > 2 else None
    meta = json.loads((run_dir / "meta.json").read_text())
    rates = [int(r) for r in meta["rates"]]
    summary = summarise(load_runs(run_dir), rates)
    top = max(rates) if rates else None
    result = {
        "meta": meta, "elapsed_seconds": elapsed, "results": summary,
        "ratios": ratios(summary, rates),
        "added_latency_us": added_latency(summary, top) if top else {},
        "added_latency_rate": top,
        # Other work on the machine skews throughput and tails: say how busy it was.
        "load_average_at_end": os.getloadavg()[0],
    }
    result["targets"] = targets(result)
    (run_dir / "summary.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(run_dir / "summary.md", result)
