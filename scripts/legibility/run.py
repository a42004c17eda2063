#!/usr/bin/env python3
"""Legibility benchmark (issue 11): for each document and tool, output bytes, OCR word
accuracy against the ground truth (tesseract), and wall time; writes a table into
BENCHMARKS.md between the `legibility` markers.

Tools: mindee-prep (BIN; --baseline BIN2 adds another build, e.g. main's, as its own column),
`vipsthumbnail` and Pillow at mindee-prep's output pixel size (in the input's format: JPEG
q85, PNG, Deflate TIFF), and the official SDK's `compress` (quality 85, same box) when the
`mindee` package imports.

Accuracy: F1 of the multisets of lower-cased words of tesseract's output against NAME.txt
beside the input (generated pages), or against tesseract's reading of the original when there
is no such file (the bundled fixtures).

Usage: run.py --bin BIN --inputs DIR [--fixture F ...] --work DIR --out BENCHMARKS.md"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import time

START, END = "<!-- legibility:start -->", "<!-- legibility:end -->"


def words(text):
    return collections.Counter(re.findall(r"[a-z0-9]+", text.lower()))


def f1(truth, got):
    if not truth:
        return None
    common = sum((truth & got).values())
    if common == 0:
        return 0.0
    p, r = common / sum(got.values()), common / sum(truth.values())
    return 2 * p * r / (p + r)


def ocr(path, work):
    # tesseract reads JPEG, PNG and TIFF (G4 too) through leptonica; others go via Pillow.
    if not path.lower().endswith((".jpg", ".jpeg", ".png", ".tif", ".tiff")):
        from PIL import Image

        png = os.path.join(work, os.path.basename(path) + ".ocr.png")
        Image.open(path).save(png)
        path = png
    out = subprocess.run(
        ["tesseract", path, "stdout", "--psm", "3", "-l", "eng"],
        capture_output=True, text=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    return out.stdout


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r, time.perf_counter() - t


def run_prep(binary, src, out_dir):
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    r, secs = timed([binary, "prepare", src, "-o", out_dir, "--json"])
    line = json.loads(r.stdout.strip().splitlines()[-1])
    if line.get("status") != "ok":
        raise RuntimeError(f"{binary} on {src}: {line}")
    return line["output"], secs, line


def peer_ext(src):
    ext = os.path.splitext(src)[1].lower()
    return {".jpg": ".jpg", ".jpeg": ".jpg", ".tif": ".tif", ".tiff": ".tif"}.get(ext, ".png")


def run_vips(src, size, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    ext = peer_ext(src)
    opts = {".jpg": "[Q=85]", ".tif": "[compression=deflate]", ".png": ""}[ext]
    out = os.path.join(out_dir, os.path.splitext(os.path.basename(src))[0] + ext)
    r, secs = timed(["vipsthumbnail", src, "--size", f"{size[0]}x{size[1]}", "-o", out + opts])
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return out, secs


PILLOW = """
import sys
from PIL import Image, ImageOps
src, out, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
im = ImageOps.exif_transpose(Image.open(src))
if im.mode in ("1", "P", "I;16", "I", "CMYK"):
    im = im.convert("RGB" if im.mode in ("P", "CMYK") else "L")
im.thumbnail((w, h), Image.LANCZOS)
if out.endswith(".jpg"):
    im.convert("RGB" if im.mode not in ("L", "RGB") else im.mode).save(out, quality=85)
elif out.endswith(".tif"):
    im.save(out, compression="tiff_adobe_deflate")
else:
    im.save(out)
"""

SDK = """
import sys
from mindee import PathInput
src, out, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = PathInput(src)
s.compress(quality=85, max_width=w, max_height=h)
open(out, "wb").write(s.file_object.read())
"""


def run_py(python, script, src, size, out_dir, ext):
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, os.path.splitext(os.path.basename(src))[0] + ext)
    r, secs = timed([python, "-c", script, src, out, str(size[0]), str(size[1])])
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-500:])
    return out, secs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--baseline", help="another mindee-prep build to compare (e.g. main's)")
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--fixture", action="append", default=[])
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json", help="also write every measurement here")
    args = ap.parse_args()
    args.work = os.path.abspath(args.work)  # vipsthumbnail resolves -o against the input
    python = sys.executable
    has_sdk = subprocess.run([python, "-c", "import mindee"], capture_output=True).returncode == 0

    files = sorted(
        os.path.join(args.inputs, f)
        for f in os.listdir(args.inputs)
        if not f.endswith(".txt")
    ) + args.fixture
    tools = ["mindee-prep"] + (["baseline"] if args.baseline else []) + ["vips", "pillow"]
    tools += ["sdk"] if has_sdk else []
    rows = []
    for src in files:
        name = os.path.basename(src)
        stem = os.path.splitext(src)[0]
        truth_file = stem + os.path.splitext(src)[1].replace(".", "_") + ".txt"
        if os.path.exists(truth_file):
            truth, truth_kind = words(open(truth_file).read()), "text"
        else:
            truth, truth_kind = words(ocr(src, args.work)), "ocr"
        row = {"file": name, "bytes_in": os.path.getsize(src), "truth": truth_kind,
               "truth_words": sum(truth.values())}
        work = os.path.join(args.work, name)
        out, secs, line = run_prep(args.bin, src, os.path.join(work, "prep"))
        size = (line["out_width"], line["out_height"])
        row["size"] = size
        row["encoding"] = line.get("encoding", line.get("action"))
        row["reason"] = line.get("reason")
        results = {"mindee-prep": (out, secs)}
        if args.baseline:
            b_out, b_secs, _ = run_prep(args.baseline, src, os.path.join(work, "base"))
            results["baseline"] = (b_out, b_secs)
        results["vips"] = run_vips(src, size, os.path.join(work, "vips"))
        results["pillow"] = run_py(python, PILLOW, src, size, os.path.join(work, "pillow"), peer_ext(src))
        if has_sdk:
            try:
                results["sdk"] = run_py(python, SDK, src, size, os.path.join(work, "sdk"), ".jpg")
            except RuntimeError as e:
                print(f"sdk failed on {name}: {e}", file=sys.stderr)
        for tool, (path, secs) in results.items():
            row[tool] = {
                "bytes": os.path.getsize(path),
                "f1": f1(truth, words(ocr(path, args.work))),
                "secs": secs,
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    write_table(args.out, rows, tools)


def fmt_bytes(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def write_table(path, rows, tools):
    # A tool that failed on some files keeps its column: those cells say so (and count no bytes).
    tools = [t for t in tools if any(t in r for r in rows)]
    names = {"mindee-prep": "mindee-prep", "baseline": "mindee-prep (before)", "vips": "vipsthumbnail",
             "pillow": "Pillow", "sdk": "SDK compress"}
    lines = [START, "", "| file | input | " + " | ".join(names[t] for t in tools) + " | encoding |",
             "|---|---:|" + "---:|" * len(tools) + "---|"]
    for r in rows:
        cells = []
        for t in tools:
            m = r.get(t)
            if m is None:
                cells.append("fails")
                continue
            acc = "–" if m["f1"] is None else f"{m['f1']:.3f}"
            cells.append(f"{fmt_bytes(m['bytes'])}, {acc}, {m['secs']:.2f} s")
        note = r["encoding"] + (f" ({r['reason']})" if r.get("reason") else "")
        lines.append(f"| {r['file']} | {fmt_bytes(r['bytes_in'])} | " + " | ".join(cells) + f" | {note} |")
    totals = []
    for t in tools:
        done = [r[t] for r in rows if t in r]
        total = sum(m["bytes"] for m in done)
        scored = [m["f1"] for m in done if m["f1"] is not None]
        mean = sum(scored) / len(scored) if scored else float("nan")
        secs = sum(m["secs"] for m in done)
        failed = len(rows) - len(done)
        totals.append(f"**{fmt_bytes(total)}, {mean:.3f}, {secs:.1f} s**"
                      + (f" ({failed} failed)" if failed else ""))
    lines.append(f"| **total / mean** | {fmt_bytes(sum(r['bytes_in'] for r in rows))} | " + " | ".join(totals) + " | |")
    prep = sum(r["mindee-prep"]["bytes"] for r in rows)
    vips = sum(r["vips"]["bytes"] for r in rows)
    bigger = [r["file"] for r in rows if r["mindee-prep"]["bytes"] > r["bytes_in"]]
    lines += ["", f"Each cell: output bytes, OCR word F1 (tesseract, against the ground truth), wall time. "
              f"mindee-prep / vipsthumbnail total bytes: **{prep / vips:.2f}×**. "
              f"Outputs bigger than their input: {', '.join(bigger) if bigger else 'none'}"
              f"{' (each with the reason above)' if bigger and all(r.get('reason') for r in rows if r['file'] in bigger) else ''}.",
              "", END]
    block = "\n".join(lines)
    text = open(path).read() if os.path.exists(path) else ""
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Legibility (`make legibility`)\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--table-from"]:
        # Rewrites the table from a run's JSON (run.py ... --json FILE) without running again.
        saved = json.load(open(sys.argv[2]))
        order = ["mindee-prep", "baseline", "vips", "pillow", "sdk"]
        write_table(sys.argv[3], saved, [t for t in order if any(t in r for r in saved)])
    else:
        main()
