#!/usr/bin/env python3
"""The in-process row of `make compare` (issue 12): `mindee_prep.prepare` (the Python package)
against Pillow's draft + thumbnail + save and the official SDK's `compress`, on the same inputs
at the same target size, and the overhead of the Python call over the CLI. Writes a section
of BENCHMARKS.md between `<!-- inprocess -->` markers (below the hand-written analysis, which
compare.py keeps).

Usage: python inprocess.py --bin target/release/mindee-prep --out BENCHMARKS.md
(run in a virtualenv with the release wheel of python/, Pillow, pillow-heif and mindee).

Method
- Every tool runs in its own child process (`inprocess_child.py`): imports, reads the file,
  then calls the tool REPEAT times. CPU and wall per call come from inside the child
  (getrusage(RUSAGE_SELF) around the call); the child's peak RSS from GNU time, and the
  baseline (interpreter + imports + input bytes, before the first call) from the child.
- RUNS children per tool and input, in rounds (every tool once per round); medians of the
  per-child medians.
- The CLI row: `mindee-prep prepare IN -o OUT --json`, one process per run, CPU and peak RSS
  of the whole process (GNU time), wall around it. Overhead = Python call ÷ CLI process.
- Two threads: median wall of one `prepare(bytes)` call vs two threads calling it at once.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import mindee_prep

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNS = int(os.environ.get("COMPARE_RUNS", "5"))
REPEAT = 3
INPUTS = [
    ("24 MP JPEG", "fixtures/jpeg/large_24mp.jpg"),
    ("12 MP HEIC", "fixtures/heif/photo_12mp.heic"),
    ("6 MP PNG (RGB)", "fixtures/png/rgb8_6mp.png"),
    ("6 MP WebP (lossy)", "fixtures/webp/lossy_6mp.webp"),
    ("2 MP JPEG (in budget)", "fixtures/jpeg/small_2mp.jpg"),
]
TOOLS = [("mindee_prep", "mindee_prep.prepare"), ("pillow", "Pillow draft+thumbnail+save"), ("sdk", "mindee SDK compress")]
START, END = "<!-- inprocess -->", "<!-- /inprocess -->"


def wait_child(cmd):
    """Runs cmd; (stdout, wall s, cpu s, peak RSS KiB) of that child alone.

    Through GNU time: a child forked from this (large) process would inherit its peak RSS
    (Linux carries ru_maxrss across fork + exec), /usr/bin/time's own is tiny."""
    with tempfile.NamedTemporaryFile("r") as report:
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", report.name, *cmd], capture_output=True
        )
        wall = time.perf_counter() - t0
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"{cmd}: exit {proc.returncode}: {proc.stderr.decode()[-400:]}")
        user, system, rss = report.read().split()[-3:]
    return proc.stdout, wall, float(user) + float(system), int(rss)


def measure(bin_path):
    rows = []
    for label, rel in INPUTS:
        path = os.path.join(ROOT, rel)
        ref = mindee_prep.prepare(path)
        w, h = ref.report["out_width"], ref.report["out_height"]
        samples = {tool: [] for tool, _ in TOOLS}
        samples["cli"] = []
        for _ in range(RUNS):
            for tool, _ in TOOLS:
                out, _, _, rss = wait_child(
                    [sys.executable, os.path.join(HERE, "inprocess_child.py"), tool, path, str(w), str(h), str(REPEAT)]
                )
                result = json.loads(out)
                result["rss_kib"] = rss
                samples[tool].append(result)
            with tempfile.TemporaryDirectory() as out_dir:
                _, wall, cpu, rss = wait_child([bin_path, "prepare", path, "-o", out_dir, "--json"])
                samples["cli"].append({"wall": [wall], "cpu": [cpu], "rss_kib": rss, "bytes": ref.report["bytes_out"], "base_rss_kib": 0, "error": None})
        rows.append((label, rel, (w, h), ref.action, samples))
    return rows


def med(values):
    return statistics.median(values) if values else float("nan")


def summary(results):
    if any(r["error"] for r in results):
        return None
    return {
        "wall": med([med(r["wall"]) for r in results]),
        "cpu": med([med(r["cpu"]) for r in results]),
        "rss": med([r["rss_kib"] for r in results]) / 1024,
        "base": med([r["base_rss_kib"] for r in results]) / 1024,
        "bytes": results[0]["bytes"],
    }


def threads(path, rounds=5):
    data = open(path, "rb").read()
    mindee_prep.prepare(data)

    def one():
        t0 = time.perf_counter()
        mindee_prep.prepare(data)
        return time.perf_counter() - t0

    def two():
        ts = [threading.Thread(target=mindee_prep.prepare, args=(data,)) for _ in range(2)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.perf_counter() - t0

    ones, twos = [], []
    for _ in range(rounds):
        ones.append(one())
        twos.append(two())
    return med(ones), med(twos)


def render(rows, thread_figures, build):
    import PIL

    try:
        import mindee

        sdk_version = getattr(mindee, "__version__", "") or subprocess.run(
            [sys.executable, "-m", "pip", "show", "mindee"], capture_output=True, text=True
        ).stdout.split("Version: ")[1].split()[0]
    except Exception:
        sdk_version = "?"
    load = os.getloadavg()
    lines = [
        START,
        "## In process: the Python package against Pillow and the SDK's `compress` (issue 12)",
        "",
        "Written by `scripts/compare/inprocess.py` (run by `make compare` after the table above),",
        f"with a {build}. Each tool runs in its own child process that imports it,",
        "reads the file and calls it "
        f"{REPEAT} times; CPU and wall are per call (medians, {RUNS} children per tool in rounds), peak",
        "RSS is the child's whole peak, *base* its peak before the first call (interpreter, imports,",
        "input bytes). Same target size for everyone (mindee-prep's budget), JPEG q85.",
        "The CLI row is the whole `mindee-prep prepare IN -o OUT --json` process.",
        "",
        f"- Python {platform.python_version()}, Pillow {PIL.__version__}, mindee SDK {sdk_version}, "
        f"mindee_prep {mindee_prep.__version__}; load average before {load[0]:.2f}",
        "",
        "| input → size | tool | wall ms | CPU ms | peak RSS MiB (base) | output bytes | CPU ÷ mindee_prep | RSS ÷ |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, rel, (w, h), action, samples in rows:
        ours = summary(samples["mindee_prep"])
        first = True
        for tool, name in TOOLS + [("cli", "mindee-prep CLI (process)")]:
            s = summary(samples[tool])
            head = f"{label} → {w}×{h} ({action})" if first else ""
            first = False
            if s is None:
                err = next(r["error"] for r in samples[tool] if r["error"])
                lines.append(f"| {head} | {name} | – | – | – | – | fails: `{err[:70]}` | |")
                continue
            ratio = "" if tool == "mindee_prep" else f"{s['cpu'] / ours['cpu']:.2f}"
            rss_ratio = "" if tool == "mindee_prep" else f"{s['rss'] / ours['rss']:.2f}"
            base = f" ({s['base']:.0f})" if s["base"] else ""
            lines.append(
                f"| {head} | {name} | {s['wall'] * 1000:.1f} | {s['cpu'] * 1000:.1f} | {s['rss']:.0f}{base} | {s['bytes']:,} | {ratio} | {rss_ratio} |"
            )
    big = summary(rows[0][4]["mindee_prep"])
    cli = summary(rows[0][4]["cli"])
    one, two = thread_figures
    lines += [
        "",
        f"Overhead of the Python call over the CLI on the 24 MP JPEG: wall {big['wall'] * 1000:.1f} ms "
        f"vs {cli['wall'] * 1000:.1f} ms ({(big['wall'] / cli['wall'] - 1) * 100:+.1f} %), CPU "
        f"{big['cpu'] * 1000:.1f} vs {cli['cpu'] * 1000:.1f} ms ({(big['cpu'] / cli['cpu'] - 1) * 100:+.1f} %) "
        "(the CLI's figure includes starting the process and writing the file).",
        f"Two threads each preparing the 24 MP JPEG at once: {two * 1000:.0f} ms against {one * 1000:.0f} ms for one "
        f"call: **{two / one:.2f}×** (2.00× would mean no overlap; the GIL is released during the work).",
        END,
    ]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--build", default="release wheel and release binary", help="how both were built, for the text")
    args = ap.parse_args()
    rows = measure(args.bin)
    figures = threads(os.path.join(ROOT, INPUTS[0][1]))
    section = render(rows, figures, args.build)
    print(section)
    old = open(args.out).read() if os.path.exists(args.out) else ""
    if START in old and END in old:
        new = old[: old.index(START)] + section + old[old.index(END) + len(END) + 1 :]
    else:
        new = old.rstrip("\n") + "\n\n" + section
    with open(args.out, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()
