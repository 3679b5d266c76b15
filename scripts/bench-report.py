#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Parse and compare kvm-s2-walk benchmark runs.

  bench-report.py parse LABEL LOG... -o RESULTS.json [--kind baseline|patched]
                 [--meta KEY=VALUE]...
      Read serial (or host) logs in the "@@" format of vm/init.c and
      scripts/run-commands.sh, one record per dirty_log_perf_test run:
      its scenario, backing, guest mode and repetition (from the
      "mark run ..." line before it), status, timings and walk counters;
      "meta": the kernel release, command line and module version the
      log shows, and every --meta. With --kind, refuse (exit 1, nothing
      written) runs whose counters are not of that kernel: a split that
      entered last-level tables visits their entries on the baseline and
      none on the patched kernel. With --strict, exit 1 too when a run
      failed (the results file is written).

  bench-report.py compare BEFORE.json AFTER.json -o DIR [--title TEXT]
      Per scenario and metric: mean, stdev, n on each side, delta %,
      Welch's t and a significance note; split walk steps and their ratio.
      Writes DIR/compare.{csv,json,md} and, when gnuplot is installed,
      DIR/compare.svg and DIR/compare.png; prints the table.
"""

import argparse
import csv
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

METRICS = [
    ("enable_dirty_log_s", r"Enabling dirty logging time: ([0-9.]+)s"),
    ("clear_dirty_log_s", r"Clear dirty log over \d+ iterations took ([0-9.]+)s"),
    ("get_dirty_log_s", r"Get dirty log over \d+ iterations took ([0-9.]+)s"),
    ("disable_dirty_log_s", r"Disabling dirty logging time: ([0-9.]+)s"),
    ("populate_s", r"Populate memory time: ([0-9.]+)s"),
]
# Metrics compared and plotted: where the split runs (scenario 1 splits at
# enable, scenario 2 on clear).
COMPARED = ["enable_dirty_log_s", "clear_dirty_log_s", "get_dirty_log_s"]
LEVELS = ["-1", "0", "1", "2", "3"]
# What the commands file cats before the runs, into "meta".
INFO_FILES = {
    "cat /proc/sys/kernel/osrelease": "kernel_release",
    "cat /proc/cmdline": "cmdline",
    "cat /sys/module/kvm_s2_walk_stats/version": "module_version",
}

# Two-sided 95% critical values of Student's t by degrees of freedom; a
# df between two entries takes the lower one (the larger value), so that
# significance is never overstated.
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
       8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160,
       14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
       20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
       26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021,
       60: 2.000, 120: 1.980}
# What two results files must share to be compared: the parameters of the
# matrix (backings included), VM or host, page size and the kernel base.
SAME_META = ["parameters", "mode", "page_size", "base"]


def die(msg):
    print(f"bench-report.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_log(path):
    """Yield one dict per "mark run" block of a log."""
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip("\n") for l in f]
    except OSError as e:
        die(f"cannot read {path}: {e}")

    runs, cur, section = [], None, None
    info, info_key, info_buf = {}, None, []
    for line in lines:
        if cur is None and line.startswith("@@ cmd ") and \
                not line.startswith("@@ cmd mark run "):
            info_key = INFO_FILES.get(line[len("@@ cmd "):].lstrip("!?"))
            continue
        if info_key and cur is None:
            if line.startswith("@@ ok ") and info_buf:
                info.setdefault(info_key, info_buf[0])
            if line.startswith("@@ "):
                info_key, info_buf = None, []
            elif line.strip():
                info_buf.append(line.strip())
            continue
        if line.startswith("@@ cmd mark run "):
            cur = {"log": os.path.basename(path), "status": "missing",
                   "reason": "no dirty_log_perf_test output", "metrics": {},
                   "counters": {}, "output": []}
            for kv in line[len("@@ cmd mark run "):].split():
                k, _, v = kv.partition("=")
                cur[k] = v
            runs.append(cur)
            section = None
            continue
        if cur is None:
            continue
        if line.startswith("@@ cmd "):
            cmd = line[len("@@ cmd "):].lstrip("!?")
            if cmd.startswith("run ") and "dirty_log_perf_test" in cmd:
                section = "test"
                cur["command"] = cmd[len("run "):]
            elif cmd.startswith("cat ") and cmd.endswith("/counters"):
                section = "counters"
            else:
                section = None
            continue
        if line.startswith("@@ ok ") or line.startswith("@@ fail "):
            if section == "test":
                ok = line.startswith("@@ ok ")
                cur["status"] = "ok" if ok else "failed"
                m = re.search(r"\(([^()]*)\)$", line)
                cur["reason"] = "" if ok else (m.group(1) if m else "failed")
                skip = [l for l in cur["output"] if "SKIP" in l]
                if not ok and skip:
                    cur["status"] = "skipped"
                    cur["reason"] = skip[-1].split("SKIP", 1)[1].strip(" -")
            section = None
            continue
        if line.startswith("@@ "):
            section = None
            continue
        if section == "test":
            cur["output"].append(line)
            for name, rx in METRICS:
                m = re.search(rx, line)
                if m:
                    cur["metrics"][name] = float(m.group(1))
        elif section == "counters":
            parts = line.split()
            if len(parts) == 2 and parts[0].startswith("walk.") and parts[1].isdigit():
                cur["counters"][parts[0]] = int(parts[1])
    for r in runs:
        if "skip" in r:
            r["status"], r["reason"] = "skipped", r.pop("skip").replace("_", " ")
        if r["status"] == "ok" and "enable_dirty_log_s" not in r["metrics"]:
            r["status"], r["reason"] = "failed", "no timings in the output"
        tail = [l for l in r.pop("output") if l.strip()][-3:]
        if r["status"] != "ok":
            r["output_tail"] = tail
    return runs, info


def split_steps(counters, metric="visited"):
    return sum(counters.get(f"walk.split.{metric}.l{l}", 0) for l in LEVELS)


def key_of(r):
    return (r.get("scenario", "?"), r.get("backing", "?"), r.get("mode", "?"))


def mean_sd(xs):
    if not xs:
        return None, None
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def welch(a, b):
    """Welch's t and a note on significance at 95%."""
    if len(a) < 2 or len(b) < 2:
        return None, "n < 2: no test"
    ma, sa = mean_sd(a)
    mb, sb = mean_sd(b)
    va, vb = sa * sa / len(a), sb * sb / len(b)
    if va + vb == 0:
        return None, "no variance"
    t = (mb - ma) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va * va) / (len(a) - 1) + (vb * vb) / (len(b) - 1))
    crit = t95(df)
    note = "significant (95%)" if abs(t) > crit else "within noise"
    return t, note


def t95(df):
    """The critical t of the largest tabulated df not above df."""
    return T95[max(k for k in T95 if k <= max(1, math.floor(df)))]


def kind_of(counters):
    """baseline or patched from one run's split counters, None if the
    split entered no last-level table."""
    tables = counters.get("walk.split.tables.l3", 0)
    if not tables:
        return None
    return "patched" if counters.get("walk.split.visited.l3", 0) == 0 else "baseline"


def cmd_parse(args):
    runs, meta = [], {}
    for log in args.logs:
        rs, info = parse_log(log)
        for k, v in info.items():
            meta.setdefault(k, v)
        for r in rs:
            r["kernel"] = r.get("kernel", args.label)
            runs.append(r)
    if not runs:
        die("no 'mark run' block in " + ", ".join(args.logs))
    for kv in args.meta:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            die(f"--meta {kv}: KEY=VALUE expected")
        meta[k] = v
    if args.kind:
        meta["kind"] = args.kind
        wrong = [r for r in runs if r["status"] == "ok" and
                 kind_of(r["counters"]) not in (None, args.kind)]
        if wrong:
            r = wrong[0]
            c = r["counters"]
            print(f"bench-report.py: error: {args.label}: {len(wrong)} run(s) are not of a "
                  f"{args.kind} kernel, e.g. scenario {r.get('scenario')} {r.get('backing')} "
                  f"rep {r.get('rep')}: the split entered {c.get('walk.split.tables.l3', 0)} "
                  f"last-level tables and visited {c.get('walk.split.visited.l3', 0)} of "
                  f"their entries; results not written", file=sys.stderr)
            sys.exit(1)
        if not any(kind_of(r["counters"]) for r in runs if r["status"] == "ok"):
            print(f"bench-report.py: warning: {args.label}: no run split a last-level "
                  f"table: the kernel's kind cannot be checked", file=sys.stderr)
    with open(args.output, "w") as f:
        json.dump({"label": args.label, "meta": meta, "runs": runs}, f, indent=1)
    ok = sum(r["status"] == "ok" for r in runs)
    bad = [r for r in runs if r["status"] not in ("ok", "skipped")]
    print(f"{args.output}: {len(runs)} runs, {ok} ok, "
          f"{sum(r['status'] == 'skipped' for r in runs)} skipped, {len(bad)} failed")
    for r in bad[:3]:
        print(f"  failed: scenario {r.get('scenario')} {r.get('backing')} mode {r.get('mode')} "
              f"rep {r.get('rep')}: {r['reason']}", file=sys.stderr)
    if bad and args.strict:
        sys.exit(1)


def load(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read results file {path}: {e}")
    if "runs" not in data:
        die(f"{path} is not a results file of bench-report.py parse")
    return data


def floor_text(r):
    if r["mean_floor_s"] is None:
        return "- | -"
    return (f"{r['mean_floor_s'] * 1e3:.2f} ± {r['stdev_floor_s'] * 1e3:.2f} ({r['n_floor']}) "
            f"| {r['after_over_floor']:.2f} ± {r['stdev_after_over_floor']:.2f}")


def ratio_text(r):
    if r["split_steps_ratio"] is not None:
        return f"{r['split_steps_ratio']:.1f}×"
    return "∞" if r["split_steps_before"] else "no split walk counted"


def metric_name(metric):
    """A metric as the table shows it, in ms: without the "_s" of seconds."""
    return metric[:-2] if metric.endswith("_s") else metric


def fmt(x, digits=4):
    return "-" if x is None else f"{x:.{digits}f}"


def mismatches(before, after):
    """Why two results files do not compare (empty when they do)."""
    mb, ma = before.get("meta", {}), after.get("meta", {})
    return [f"{k}: {mb.get(k, '(none)')!r} before, {ma.get(k, '(none)')!r} after"
            for k in SAME_META if mb.get(k) != ma.get(k)]


def cmd_compare(args):
    before, after = load(args.before), load(args.after)
    why = mismatches(before, after)
    if why:
        die(f"{args.before} and {args.after} do not compare:\n  " + "\n  ".join(why) +
            "\nrun both with the same parameters, mode and page size, from the same base")
    os.makedirs(args.output, exist_ok=True)
    # Floor runs (eager split off: write protection alone) are not a side
    # of the comparison: the after kernel's, else the before kernel's, are
    # the floor of their cell.
    floor = {}
    for data in (before, after):
        for r in data["runs"]:
            if r.get("floor") == "1" and r["status"] == "ok":
                floor.setdefault(data["label"], {}).setdefault(key_of(r), []).append(r)
    floor = floor.get(after["label"]) or floor.get(before["label"]) or {}
    runs_b = [r for r in before["runs"] if r.get("floor") != "1"]
    runs_a = [r for r in after["runs"] if r.get("floor") != "1"]
    keys = sorted({key_of(r) for r in runs_b + runs_a})
    rows, skipped = [], []
    for key in keys:
        rb = [r for r in runs_b if key_of(r) == key]
        ra = [r for r in runs_a if key_of(r) == key]
        okb = [r for r in rb if r["status"] == "ok"]
        oka = [r for r in ra if r["status"] == "ok"]
        if not okb or not oka:
            reasons = sorted({f"{r['kernel']}: {r['status']}: {r['reason']}"
                              for r in rb + ra if r["status"] != "ok"})
            skipped.append({"scenario": key[0], "backing": key[1], "mode": key[2],
                            "reason": "; ".join(reasons) or "no runs"})
            continue
        sb = [split_steps(r["counters"]) for r in okb]
        sa = [split_steps(r["counters"]) for r in oka]
        steps_b, steps_a = statistics.fmean(sb), statistics.fmean(sa)
        for metric in COMPARED:
            xb = [r["metrics"][metric] for r in okb if metric in r["metrics"]]
            xa = [r["metrics"][metric] for r in oka if metric in r["metrics"]]
            if not xb or not xa:
                continue
            mb, sdb = mean_sd(xb)
            ma, sda = mean_sd(xa)
            t, note = welch(xb, xa)
            xf = [r["metrics"][metric] for r in floor.get(key, []) if metric in r["metrics"]]
            mf, sdf = mean_sd(xf)
            ratio_f = sd_f = None
            if mf:
                # after / floor, its stdev propagated from both
                ratio_f = ma / mf
                sd_f = ratio_f * math.sqrt((sda / ma if ma else 0) ** 2 + (sdf / mf) ** 2)
            rows.append({
                "scenario": key[0], "backing": key[1], "mode": key[2],
                "metric": metric, "n_before": len(xb), "n_after": len(xa),
                "mean_before_s": mb, "stdev_before_s": sdb,
                "mean_after_s": ma, "stdev_after_s": sda,
                "delta_pct": (ma - mb) / mb * 100 if mb else None,
                "welch_t": t, "significance": note,
                "split_steps_before": steps_b, "split_steps_after": steps_a,
                "split_steps_ratio": (steps_b / steps_a) if steps_a else None,
                "split_l3_before": statistics.fmean(
                    r["counters"].get("walk.split.visited.l3", 0) for r in okb),
                "split_l3_after": statistics.fmean(
                    r["counters"].get("walk.split.visited.l3", 0) for r in oka),
                "n_floor": len(xf), "mean_floor_s": mf, "stdev_floor_s": sdf,
                "after_over_floor": ratio_f, "stdev_after_over_floor": sd_f,
            })

    fields = list(rows[0].keys()) if rows else ["scenario"]
    with open(os.path.join(args.output, "compare.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(args.output, "compare.json"), "w") as f:
        json.dump({"title": args.title, "before": before["label"],
                   "after": after["label"], "meta_before": before.get("meta", {}),
                   "meta_after": after.get("meta", {}), "rows": rows,
                   "skipped": skipped}, f, indent=1)

    lines = [f"{args.title}", "",
             f"before = {before['label']}, after = {after['label']}; times in ms, mean ± stdev (n)", ""]
    for side, data in (("before", before), ("after", after)):
        m = data.get("meta", {})
        if m:
            lines.append(f"{side}: kernel {m.get('kernel_release', '?')}, "
                         f"{m.get('mode', '?')} mode, base {m.get('base', '?')}; "
                         f"parameters {m.get('parameters', '?')}; "
                         f"cmdline: {m.get('cmdline', '?')}")
            if m.get("tools"):
                lines.append(f"{side} tools: {m['tools']}")
    if before.get("meta") or after.get("meta"):
        lines.append("")
    lines += [
             "| scenario | backing | mode | metric | before | after | delta | significance | split steps before → after (ratio) | floor (split off) | after / floor |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = r["split_steps_ratio"]
        lines.append(
            f"| {r['scenario']} | {r['backing']} | {r['mode']} | {metric_name(r['metric'])} "
            f"| {r['mean_before_s'] * 1e3:.2f} ± {r['stdev_before_s'] * 1e3:.2f} ({r['n_before']}) "
            f"| {r['mean_after_s'] * 1e3:.2f} ± {r['stdev_after_s'] * 1e3:.2f} ({r['n_after']}) "
            f"| {fmt(r['delta_pct'], 1)}% | {r['significance']} "
            f"| {r['split_steps_before']:.0f} → {r['split_steps_after']:.0f} "
            f"({ratio_text(r)}) "
            f"| {floor_text(r)} |")
    for s in skipped:
        lines.append(f"| {s['scenario']} | {s['backing']} | {s['mode']} | skipped: {s['reason']} | | | | | | | |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.output, "compare.md"), "w") as f:
        f.write(text)
    print(text)
    plot(args, rows)
    if not rows:
        die("nothing to compare: no scenario ran on both kernels")


def plot(args, rows):
    gp = shutil.which("gnuplot")
    if not gp or not rows:
        print("no plot: gnuplot not installed" if not gp else "no plot: no rows")
        return
    # Where the split runs: at enable in scenario 1, on clear in scenario 2
    rows = [r for r in rows if (r["scenario"], r["metric"]) in
            (("1", "enable_dirty_log_s"), ("2", "clear_dirty_log_s"))] or rows
    dat = os.path.join(args.output, "compare.dat")
    with open(dat, "w") as f:
        for r in rows:
            label = f"{r['scenario']}/{r['backing']}/{r['metric'].replace('_dirty_log_s', '')}"
            fm = r.get("mean_floor_s")
            f.write(f"\"{label}\" {r['mean_before_s'] * 1e3} {r['stdev_before_s'] * 1e3} "
                    f"{r['mean_after_s'] * 1e3} {r['stdev_after_s'] * 1e3} "
                    f"{'NaN' if fm is None else fm * 1e3} "
                    f"{'NaN' if fm is None else r['stdev_floor_s'] * 1e3}\n")
    has_floor = any(r.get("mean_floor_s") is not None for r in rows)
    for ext in ("svg", "png"):  # none of an earlier run's
        if os.path.exists(os.path.join(args.output, f"compare.{ext}")):
            os.remove(os.path.join(args.output, f"compare.{ext}"))
    for term, ext in (("svg size 1100,520", "svg"), ("pngcairo size 1100,520", "png"),
                      ("png size 1100,520", "png")):
        out = os.path.join(args.output, f"compare.{ext}")
        if ext == "png" and os.path.exists(out) and os.path.getsize(out) > 0:
            continue
        floor_series = ", '' using 6:7 title 'floor (split off)'" if has_floor else ""
        script = f"""
set terminal {term}
set output '{out}'
set title "{args.title}" noenhanced
set ylabel 'ms (mean, stdev error bars)'
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.6 border -1
set xtics rotate by -30 noenhanced
set key top left
set grid ytics
set yrange [0:*]
plot '{dat}' using 2:3:xtic(1) title 'before', '' using 4:5 title 'after'{floor_series}
"""
        r = subprocess.run([gp], input=script, text=True, capture_output=True)
        if r.returncode != 0 and ext == "svg":
            print(f"gnuplot failed: {r.stderr.strip()}", file=sys.stderr)
    svg = os.path.join(args.output, "compare.svg")
    if os.path.exists(svg) and os.path.getsize(svg) > 0:
        print(f"plot: {svg}")
    else:
        print("no plot: gnuplot wrote no compare.svg (above)")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parse", help="logs -> results file")
    p.add_argument("label")
    p.add_argument("logs", nargs="+")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--kind", choices=["baseline", "patched"])
    p.add_argument("--meta", action="append", default=[])
    p.add_argument("--strict", action="store_true")
    c = sub.add_parser("compare", help="two results files -> table, CSV, JSON, plot")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("-o", "--output", required=True)
    c.add_argument("--title", default="dirty_log_perf_test, before vs after")
    args = ap.parse_args()
    {"parse": cmd_parse, "compare": cmd_compare}[args.cmd](args)


if __name__ == "__main__":
    main()
