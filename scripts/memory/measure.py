#!/usr/bin/env python3
"""Peak RSS of `mindee-prep prepare` on a PDF bomb or a batch of photos, for the notes.

    measure.py BIN pdf [--images 8] [--side 17000] [--mode plain|predictor|double] [--threads 8] [ARGS...]
    measure.py BIN photos FILE [--copies 8] [--threads 8] [ARGS...]

`pdf` writes a PDF whose pages each draw their own SIDE x SIDE RGB image of zeros (8 x 289 MP
is 6.7 MB on disk, 6.9 GB inflated): `plain` Flate, Flate with the PNG predictor, or Flate
twice. `photos` copies FILE COPIES times into a folder. Then it runs
`BIN prepare --json INPUT -o OUT ARGS...` with RAYON_NUM_THREADS=THREADS and prints the peak
RSS (wait4's ru_maxrss, the whole life of the child), the wall time and the outcome.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib


def zeros_stream(rows, row_bytes):
    z = zlib.compressobj(9)
    chunk = bytes(row_bytes * max(1, (1 << 20) // row_bytes))
    per = len(chunk) // row_bytes
    out, left = [], rows
    while left > 0:
        n = min(per, left)
        out.append(z.compress(chunk[: n * row_bytes]))
        left -= n
    out.append(z.flush())
    return b"".join(out)


def write_pdf(path, images, side, mode):
    if mode == "predictor":
        data = zeros_stream(side, 1 + side * 3)
        extra = b"/Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors 3 /BitsPerComponent 8 /Columns %d >>" % side
    else:
        data = zeros_stream(side, side * 3)
        extra = b"/Filter /FlateDecode"
        if mode == "double":
            data = zlib.compress(data, 9)
            extra = b"/Filter [/FlateDecode /FlateDecode]"
    objects = {}
    kids = []
    for i in range(images):
        page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
        kids.append(b"%d 0 R" % page)
        objects[page] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 600] /Contents %d 0 R "
                         b"/Resources << /XObject << /Im0 %d 0 R >> >> >>" % (content, image))
        draw = b"q 600 0 0 600 0 0 cm /Im0 Do Q"
        objects[content] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw)
        objects[image] = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                          b"/BitsPerComponent 8 %s /Length %d >>\nstream\n" % (side, side, extra, len(data))
                          + data + b"\nendstream")
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), images)
    with open(path, "wb") as f:
        f.write(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
        offsets = {}
        for n in sorted(objects):
            offsets[n] = f.tell()
            f.write(b"%d 0 obj\n" % n + objects[n] + b"\nendobj\n")
        xref = f.tell()
        count = max(objects) + 1
        f.write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        for n in range(1, count):
            f.write(b"%010d 00000 n \n" % offsets[n])
        f.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bin")
    p.add_argument("what", choices=["pdf", "photos"])
    p.add_argument("file", nargs="?")
    p.add_argument("--images", type=int, default=8)
    p.add_argument("--side", type=int, default=17000)
    p.add_argument("--mode", default="plain", choices=["plain", "predictor", "double"])
    p.add_argument("--copies", type=int, default=8)
    p.add_argument("--threads", type=int, default=8)
    args, rest = p.parse_known_args()
    work = tempfile.mkdtemp(prefix="mindee-prep-memory-")
    try:
        if args.what == "pdf":
            target = os.path.join(work, "bomb.pdf")
            write_pdf(target, args.images, args.side, args.mode)
            label = "PDF %d x %dx%d RGB zeros (%s), %.1f MB" % (
                args.images, args.side, args.side, args.mode, os.path.getsize(target) / 1e6)
        else:
            target = os.path.join(work, "photos")
            os.mkdir(target)
            for i in range(args.copies):
                shutil.copy(args.file, os.path.join(target, "photo%d%s" % (i, os.path.splitext(args.file)[1])))
            label = "%d x %s" % (args.copies, os.path.basename(args.file))
        cmd = [args.bin, "prepare", "--json", target, "-o", os.path.join(work, "out")] + rest
        env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
        start = time.time()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = child.stdout.read().decode()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.time() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        outcomes = {}
        import json
        for line in out.splitlines():
            j = json.loads(line)
            key = j.get("action") or j.get("error", {}).get("kind")
            outcomes[key] = outcomes.get(key, 0) + 1
        print("%s | threads %d | %s | peak RSS %.0f MiB | %.1f s | exit %d | %s" % (
            label, args.threads, " ".join(rest) or "defaults", usage.ru_maxrss / 1024, wall,
            child.returncode, outcomes))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
