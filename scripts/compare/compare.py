#!/usr/bin/env python3
"""Times `mindee-prep prepare` against libvips, Pillow and ImageMagick on the same jobs and
writes BENCHMARKS.md (issue 6). Run through `make compare` / scripts/compare/run.sh, which
builds the release binary, installs the peers and generates the inputs first.

Usage: python compare.py --bin target/release/mindee-prep --inputs DIR --work DIR --out BENCHMARKS.md

Method
- Every command is timed whole (process start to exit) with GNU time (`/usr/bin/time -f`):
  wall seconds, CPU seconds (user + sys, children included: xargs' workers count), peak RSS
  (the largest single process; for xargs batches, one worker's peak, not the sum).
- One warm-up run per command, then RUNS rounds; within a round every tool runs once, in turn,
  so a burst of load from elsewhere hits all tools alike. Medians are reported.
- Same input, same target size for everyone: the size mindee-prep's budget gives (5 MP max,
  4 MP target, aspect kept), forced exactly on the peers (`WxH!`), JPEG quality 85, 4:2:0
  (every tool's default at q85).
- Output directories are emptied before each run, outside the timed command.
- PSNR: each output against a reference made from the same input: full decode (Pillow's
  libjpeg-turbo, ISLOW IDCT, fancy upsampling; pillow-heif/libheif for HEIC), then Lanczos3
  (a = 3) in floating point to the output's exact size (Pillow's resize on mode "F", one
  channel at a time: float32 samples, no rounding or clamping), compared with the decoded
  output over R, G and B: PSNR = 10 log10(255^2 / MSE).
- Before the first job and between jobs it waits (up to COMPARE_WAIT seconds, default 900)
  until no compiler (rustc, cc1, cc1plus, ld) is running, and records the load.
"""
import argparse
import io
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = int(os.environ.get("COMPARE_RUNS", "5"))
BATCH_RUNS = int(os.environ.get("COMPARE_BATCH_RUNS", "3"))
NPROC = os.cpu_count() or 1
TIME = "/usr/bin/time"
CONVERT = "/usr/bin/convert"  # the real ImageMagick, even when a stand-in sits earlier on PATH
COMPILERS = {"rustc", "cc1", "cc1plus", "ld", "clang", "lld", "cargo-clippy", "rustdoc"}


# ---------------------------------------------------------------------------------------------
# load


def busy_compilers():
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if name in COMPILERS:
            found.append(name)
    return found


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def wait_quiet(log):
    limit = float(os.environ.get("COMPARE_WAIT", "900"))
    start = time.time()
    while True:
        busy = busy_compilers()
        if not busy:
            waited = time.time() - start
            if waited > 1:
                log.append(f"waited {waited:.0f} s for compilers to finish")
            return True
        if time.time() - start > limit:
            log.append(f"gave up waiting after {limit:.0f} s: {', '.join(sorted(set(busy)))} still running")
            return False
        print(f"compare: waiting for {', '.join(sorted(set(busy)))} to finish", file=sys.stderr, flush=True)
        time.sleep(10)


# ---------------------------------------------------------------------------------------------
# geometry (same arithmetic as src/geometry.rs budget_size)


def budget_size(w, h, max_px=5_000_000, target_px=4_000_000):
    if w * h <= max_px:
        return None
    scale = min(1.0, math.sqrt(target_px / (w * h)))
    short, long_, portrait = (w, h, True) if w <= h else (h, w, False)
    ns = min(max(int(round_half_away(short * scale)), 1), short)
    nl = min(max(int(round_half_away(long_ * ns / short)), 1), long_)
    return (ns, nl) if portrait else (nl, ns)


def round_half_away(x):
    return math.floor(x + 0.5)


def image_size(path):
    if path.lower().endswith(".heic"):
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(path) as im:
        return im.size


# ---------------------------------------------------------------------------------------------
# timing


def timed(cmd, shell=False):
    """Runs cmd under GNU time; returns (wall s, cpu s, peak RSS MiB, exit code)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        argv = [TIME, "-q", "-f", "%e %U %S %M", "-o", t.name]
        argv += ["sh", "-c", cmd] if shell else cmd
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        fields = t.read().split()
    if len(fields) < 4:
        raise RuntimeError(f"no timing for {cmd}: {proc.stderr[-500:]}")
    wall, user, sys_, rss_kb = float(fields[-4]), float(fields[-3]), float(fields[-2]), int(fields[-1])
    return wall, user + sys_, rss_kb / 1024, proc.returncode, proc.stderr


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def measure(tools, runs, log):
    """tools: list of (name, out_dir, command, shell). Returns {name: stats}."""
    results = {name: [] for name, *_ in tools}
    errors = {}
    for round_ in range(runs + 1):  # round 0 is the warm-up
        for name, out, cmd, shell in tools:
            fresh(out)
            wall, cpu, rss, code, err = timed(cmd, shell)
            if code != 0:
                last = " ".join(err.strip().splitlines()[-1:])  # one line: it goes into a table cell
                errors[name] = f"exit {code}: {last[-200:]}"
            elif any(os.path.getsize(os.path.join(r, f)) == 0 for r, _, fs in os.walk(out) for f in fs):
                errors[name] = f"empty output in round {round_} (exit 0): {' '.join(err.strip().splitlines()[-1:])[-200:]}"
            if round_ > 0:
                results[name].append((wall, cpu, rss))
    stats = {}
    for name, out, cmd, shell in tools:
        rows = results[name]
        stats[name] = {
            "wall": statistics.median(r[0] for r in rows),
            "cpu": statistics.median(r[1] for r in rows),
            "rss": statistics.median(r[2] for r in rows),
            "bytes": dir_bytes(out),
            "files": sum(len(f) for _, _, f in os.walk(out)),
            "error": errors.get(name),
            "runs": len(rows),
        }
    return stats


# ---------------------------------------------------------------------------------------------
# quality


_REFERENCES = {}


def reference(src, size):
    """Full decode + float Lanczos3 to `size`, as float32 H x W x 3."""
    key = (src, size)
    if key not in _REFERENCES:
        if src.lower().endswith(".heic"):
            import pillow_heif

            pillow_heif.register_heif_opener()
        with Image.open(src) as im:
            im = im.convert("RGB")
            chans = [c.convert("F").resize(size, Image.LANCZOS) for c in im.split()]
        _REFERENCES.clear()  # one at a time: 48 MP references are large
        _REFERENCES[key] = np.stack([np.asarray(c, dtype=np.float32) for c in chans], axis=2)
    return _REFERENCES[key]


def ceiling(src, size):
    """PSNR of the reference itself saved at q85 4:2:0 (libjpeg-turbo through Pillow): what a
    perfect resampler followed by the same encoder would score, the bound for every tool."""
    ref = reference(src, size)
    picture = Image.fromarray(np.clip(np.rint(ref), 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85, subsampling="4:2:0")
    buffer.seek(0)
    with Image.open(buffer) as im:
        got = np.asarray(im.convert("RGB"), dtype=np.float32)
    return psnr_of(got, ref)


def psnr_of(got, ref):
    mse = float(np.mean((got - ref) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse)


def ceiling_note(value):
    return (f"the reference itself saved at q85 4:2:0 scores {value:.2f} dB: the PSNR ceiling "
            "at q85 for any tool on this input")


def psnr(src, out):
    try:
        return _psnr(src, out)
    except Exception as e:  # noqa: BLE001 (an empty or broken output: no PSNR, the table says why)
        print(f"compare: no PSNR for {out}: {e}", file=sys.stderr)
        return None


def _psnr(src, out):
    with Image.open(out) as im:
        got = np.asarray(im.convert("RGB"), dtype=np.float32)
        size = im.size
    ref = reference(src, size)
    return psnr_of(got, ref)


# ---------------------------------------------------------------------------------------------
# jobs


def peers_single(src, size, work, binary, py):
    w, h = size
    stem = os.path.splitext(os.path.basename(src))[0]
    d = lambda n: os.path.join(work, n)
    return [
        ("mindee-prep", d("ours"), [binary, "prepare", "--json", src, "-o", d("ours")], False),
        ("vipsthumbnail", d("vips"), ["vipsthumbnail", src, "-s", f"{w}x{h}!", "-o", os.path.join(d("vips"), f"{stem}.jpg[Q=85]")], False),
        ("Pillow", d("pillow"), [py, os.path.join(HERE, "pillow_peer.py"), src, os.path.join(d("pillow"), f"{stem}.jpg"), str(w), str(h)], False),
        ("ImageMagick", d("magick"), [CONVERT, "-define", f"jpeg:size={w}x{h}", src, "-resize", f"{w}x{h}!", "-quality", "85", os.path.join(d("magick"), f"{stem}.jpg")], False),
    ]


def peers_batch(folder, work, binary, py):
    """Peers over a folder with xargs -P$(nproc); a list file gives each input its size."""
    lines = []
    for name in sorted(os.listdir(folder)):
        src = os.path.join(folder, name)
        size = budget_size(*image_size(src))
        stem = os.path.splitext(name)[0]
        lines.append(f"{src} {stem} {size[0]} {size[1]}")
    listing = os.path.join(work, "batch.list")
    os.makedirs(work, exist_ok=True)
    with open(listing, "w") as f:
        f.write("\n".join(lines) + "\n")
    d = lambda n: os.path.join(work, n)
    x = f"xargs -P{NPROC} -L1 sh -c"
    return [
        ("mindee-prep", d("ours"), [binary, "prepare", "--json", folder, "-o", d("ours")], False),
        ("vipsthumbnail", d("vips"), f"{x} 'vipsthumbnail \"$0\" -s \"$2x$3!\" -o \"{d('vips')}/$1.jpg[Q=85]\"' < {listing}", True),
        ("Pillow", d("pillow"), f"{x} '{py} {HERE}/pillow_peer.py \"$0\" \"{d('pillow')}/$1.jpg\" \"$2\" \"$3\"' < {listing}", True),
        ("ImageMagick", d("magick"), f"{x} '{CONVERT} -define jpeg:size=\"$2x$3\" \"$0\" -resize \"$2x$3!\" -quality 85 \"{d('magick')}/$1.jpg\"' < {listing}", True),
    ]


def ours_status(binary, src, work):
    out = os.path.join(work, "status")
    fresh(out)
    proc = subprocess.run([binary, "prepare", "--json", src, "-o", out], capture_output=True, text=True)
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip().startswith("{")]
    return lines


def versions(binary, py):
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
        except Exception as e:  # noqa: BLE001
            return f"unavailable ({e})"

    rev = out(["git", "-C", os.path.dirname(HERE), "rev-parse", "--short", "HEAD"])
    dirty = out(["git", "-C", os.path.dirname(HERE), "status", "--porcelain", "--untracked-files=no"])
    pil = out([py, "-c", "import PIL, pillow_heif; print(PIL.__version__, pillow_heif.__version__, pillow_heif.libheif_version())"])
    return {
        "mindee-prep": f"{rev}{' (uncommitted changes)' if dirty else ''}, {out(['rustc', '--version'])}, release profile",
        "libvips": out(["vipsthumbnail", "--vips-version"]),
        "ImageMagick": out([CONVERT, "-version"]).splitlines()[0] if os.path.exists(CONVERT) else "missing",
        "Pillow / pillow-heif / libheif": pil,
        "Python": out([py, "--version"]),
    }


def machine():
    cpu = "unknown"
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                have = line.split(":", 1)[1].split()
                flags = "/".join(x for x in ("sse4_1", "avx2", "avx512f") if x in have)
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{NPROC} × {cpu} ({flags}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


# ---------------------------------------------------------------------------------------------
# report


def fmt_ratio(a, b):
    return "–" if not b else f"{a / b:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="", help="comma-separated job names")
    args = ap.parse_args()
    binary, inputs, work = os.path.abspath(args.bin), os.path.abspath(args.inputs), os.path.abspath(args.work)
    py = sys.executable
    only = set(filter(None, args.only.split(",")))
    notes = []
    wait_quiet(notes)
    load_before = loadavg()

    single = [
        ("jpeg24", "24 MP JPEG (baseline)", "photo_24mp.jpg"),
        ("jpeg24p", "24 MP JPEG (progressive)", "photo_24mp_prog.jpg"),
        ("jpeg48", "48 MP JPEG (baseline)", "photo_48mp.jpg"),
        ("jpeg48p", "48 MP JPEG (progressive)", "photo_48mp_prog.jpg"),
        ("heic12", "12 MP HEIC (512 px grid)", "grid_12mp.heic"),
    ]
    rows = []  # (job, label, stats, psnrs, extra)
    for job, label, name in single:
        if only and job not in only:
            continue
        src = os.path.join(inputs, name)
        size = budget_size(*image_size(src))
        jw = os.path.join(work, job)
        wait_quiet(notes)
        print(f"compare: {job} {name} -> {size[0]}x{size[1]}", file=sys.stderr, flush=True)
        tools = peers_single(src, size, jw, binary, py)
        stats = measure(tools, RUNS, notes)
        q = {}
        for tool, out, *_ in tools:
            files = [os.path.join(out, f) for f in os.listdir(out)]
            q[tool] = psnr(src, files[0]) if len(files) == 1 else None
        rows.append((job, f"{label} → {size[0]}×{size[1]}", stats, q, ceiling_note(ceiling(src, size))))

    if not only or "batch40" in only:
        folder = os.path.join(inputs, "batch40")
        jw = os.path.join(work, "batch40")
        wait_quiet(notes)
        print("compare: batch40", file=sys.stderr, flush=True)
        tools = peers_batch(folder, jw, binary, py)
        stats = measure(tools, BATCH_RUNS, notes)
        # quality on three files of the batch (one 12 MP baseline, one progressive, one HEIC)
        q = {}
        samples = [os.path.join(folder, f"{stem}.{ext}") for stem, ext in (("p01", "jpg"), ("p20", "jpg"), ("p37", "heic"))]
        samples = [src for src in samples if os.path.exists(src)]
        for tool, out, *_ in tools:
            values = []
            for src in samples:
                o = os.path.join(out, os.path.splitext(os.path.basename(src))[0] + ".jpg")
                if os.path.exists(o):
                    values.append(psnr(src, o))
            q[tool] = min(values) if values else None
        bound = min(ceiling(src, budget_size(*image_size(src))) for src in samples) if samples else None
        note = None if bound is None else ceiling_note(bound).replace("on this input", "on the worst of the 3")
        rows.append(("batch40", f"batch of 40 mixed photos ({NPROC} cores; PSNR: worst of 3)", stats, q, note))

    if not only or "pass1000" in only:
        folder = os.path.join(inputs, "passthrough1000")
        jw = os.path.join(work, "pass1000")
        wait_quiet(notes)
        print("compare: pass1000", file=sys.stderr, flush=True)
        tools = [
            ("mindee-prep", os.path.join(jw, "ours"), [binary, "prepare", "--json", folder, "-o", os.path.join(jw, "ours")], False),
            ("cp (floor)", os.path.join(jw, "cp"), f"cp {folder}/*.jpg {jw}/cp/", True),
        ]
        stats = measure(tools, BATCH_RUNS, notes)
        rows.append(("pass1000", "1000 in-budget JPEGs (pass-through)", stats, {}, None))

    pending = []
    for job, label, name in (("tiff", "3-page 400 dpi G4 TIFF", "scan_400dpi_g4.tif"), ("pdf", "10-page PDF of 12 MP JPEG scans", "scans_10p.pdf")):
        if only and job not in only:
            continue
        src = os.path.join(inputs, name)
        lines = ours_status(binary, src, os.path.join(work, job))
        line = lines[0] if lines else {"status": "no output"}
        if line.get("status") != "ok":
            kind = line.get("error", {}).get("kind", line.get("status"))
            pending.append((job, label, f"pending: refused with `{kind}` ({line.get('error', {}).get('message', '')})"))
            continue
        if line.get("action") == "passthrough" and os.path.getsize(src) == line.get("bytes_out"):
            pending.append((job, label, f"pending: passed through unchanged ({line.get('bytes_in')} bytes); page-wise downscaling is not in this build"))
            continue
        wait_quiet(notes)
        jw = os.path.join(work, job)
        tools = [("mindee-prep", os.path.join(jw, "ours"), [binary, "prepare", "--json", src, "-o", os.path.join(jw, "ours")], False)]
        if job == "pdf":
            # The official Python SDK's own `compress` (renders every page to a JPEG page).
            sdk_out = os.path.join(jw, "sdk")
            tools.append(("mindee SDK compress", sdk_out, [py, os.path.join(HERE, "sdk_peer.py"), src, os.path.join(sdk_out, "scans_10p.pdf"), "85"], False))
        stats = measure(tools, RUNS, notes)
        rows.append((job, label, stats, {}, f"{line.get('action')} → {line.get('bytes_out')} bytes"))

    load_after = loadavg()
    write_report(args.out, rows, pending, notes, load_before, load_after, versions(binary, py))


TARGETS = {
    # job: (metric, max ratio to vipsthumbnail)
    "jpeg24": [("cpu", 0.7), ("rss", 0.6)],
    "jpeg48": [("cpu", 0.7), ("rss", 0.6)],
    "heic12": [("cpu", 0.8), ("rss", 0.8)],
    "batch40": [("wall", 0.7)],
}


def write_report(path, rows, pending, notes, load_before, load_after, vers):
    out = []
    w = out.append
    w("# Benchmarks: mindee-prep against libvips, Pillow and ImageMagick\n")
    w("Written by `make compare` (`scripts/compare/`); issue 6. Ratios come from one run, all tools")
    w("timed in the same rounds; absolute times depend on the machine and its load.\n")
    w(f"- Machine: {machine()}")
    w(f"- Load average (1/5/15 min) before: {' / '.join(f'{x:.2f}' for x in load_before)}; after: {' / '.join(f'{x:.2f}' for x in load_after)}")
    for n in notes:
        w(f"- {n}")
    w(f"- Runs: 1 warm-up + {RUNS} (single files) / {BATCH_RUNS} (batches) per tool, medians")
    for k, v in vers.items():
        w(f"- {k}: {v}")
    w("")
    w("Commands (per file; the batches run the peers with `xargs -P$(nproc)`):\n")
    w("- mindee-prep: `mindee-prep prepare --json IN -o OUT_DIR` (one command for a whole folder)")
    w("- vipsthumbnail: `vipsthumbnail IN -s WxH! -o OUT.jpg[Q=85]`")
    w("- Pillow: `python pillow_peer.py IN OUT W H` (`draft('RGB', (W,H))`, `resize(LANCZOS)`, `save(quality=85)`; pillow-heif for HEIC)")
    w("- ImageMagick: `convert -define jpeg:size=WxH IN -resize WxH! -quality 85 OUT.jpg`")
    w("- mindee SDK compress (PDF job only): `python sdk_peer.py IN OUT 85` (the official Python SDK's `LocalInputSource.compress(quality=85)`)\n")
    w("CPU = user + sys seconds (children included), RSS = peak resident set of the largest single")
    w("process (MiB), bytes = total output. PSNR (dB, RGB) against a float Lanczos3 reference of the")
    w("full decode at the output's size (see `scripts/compare/compare.py`); target ≥ 38 dB.")
    w("Ratios are mindee-prep ÷ peer (below 1 means mindee-prep is cheaper).\n")
    w("| job | tool | wall s | CPU s | peak RSS MiB | output bytes | PSNR dB | CPU ratio | wall ratio | RSS ratio |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for job, label, stats, q, extra in rows:
        ours = stats.get("mindee-prep")
        for tool, s in stats.items():
            p = q.get(tool)
            ps = "–" if p is None else f"{p:.2f}"
            if tool == "mindee-prep":
                ratios = ["", "", ""]
            elif s["error"]:
                ratios = ["–", "–", "–"]  # a failed run measures nothing
            else:
                ratios = [fmt_ratio(ours["cpu"], s["cpu"]), fmt_ratio(ours["wall"], s["wall"]), fmt_ratio(ours["rss"], s["rss"])]
            err = f" ⚠ {s['error']}" if s["error"] else ""
            w(f"| {label if tool == 'mindee-prep' else ''} | {tool}{err} | {s['wall']:.3f} | {s['cpu']:.3f} | {s['rss']:.0f} | {s['bytes']:,} | {ps} | {' | '.join(ratios)} |")
        if extra:
            verdicts.append(f"- {label}: {extra}")
        for metric, limit in TARGETS.get(job, []):
            vips = stats.get("vipsthumbnail")
            if not vips:
                continue
            r = ours[metric] / vips[metric]
            name = {"cpu": "CPU", "rss": "peak RSS", "wall": "wall"}[metric]
            verdicts.append(f"- {label}: {name} {r:.2f} × vipsthumbnail (target ≤ {limit}) — **{'met' if r <= limit else 'missed'}**")
        if q:
            bad = [t for t, v in q.items() if v is not None and v < 38]
            mine = q.get("mindee-prep")
            if mine is not None:
                verdicts.append(f"- {label}: mindee-prep PSNR {mine:.2f} dB (target ≥ 38) — **{'met' if mine >= 38 else 'missed'}**" + (f"; below 38 dB: {', '.join(bad)}" if bad else ""))
        if job == "pass1000":
            per = ours["wall"] / 1000 * 1000
            cpu = ours["cpu"] / 1000 * 1000
            verdicts.append(f"- {label}: {per:.3f} ms wall and {cpu:.3f} ms CPU per file, whole command incl. start-up, listing, detection and writing (target ≤ 1 ms) — **{'met' if per <= 1 else 'missed'}**")
    for job, label, why in pending:
        w(f"| {label} | mindee-prep | – | – | – | – | – | | | |")
        verdicts.append(f"- {label}: {why}")
    w("\n## Targets\n")
    out.extend(verdicts)
    w("")
    text = "\n".join(out) + "\n"
    marker = "<!-- analysis -->"
    if os.path.exists(path):
        old = open(path).read()
        if marker in old:  # keep the hand-written analysis below the marker
            text += "\n" + old[old.index(marker):]
    with open(path, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
