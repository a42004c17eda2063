"""One tool, one input, in this process: `python inprocess_child.py TOOL IN W H REPEAT`.

Prints one JSON line: the CPU (user + sys of this process) and wall seconds of each call, the
output size, and the peak RSS (KiB) after the imports and the read, before the first call. The
parent reads this process's own peak RSS with os.wait4. TOOL is one of:

- mindee_prep: `mindee_prep.prepare(data)` (defaults: 5 MP max, 4 MP target, q85)
- pillow: `Image.open`, `draft('RGB', (W, H))`, `thumbnail((W, H), LANCZOS)`, `save(JPEG, quality=85)`
  (pillow-heif registered for HEIC)
- sdk: the official SDK's `BytesInput(data, name).compress(quality=85, max_width=W, max_height=H)`
"""
import io
import json
import os
import resource
import sys
import time

tool, src, w, h, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
with open(src, "rb") as f:
    data = f.read()

if tool == "mindee_prep":
    import mindee_prep

    def run():
        return mindee_prep.prepare(data).data

elif tool == "pillow":
    from PIL import Image

    if src.lower().endswith((".heic", ".heif")):
        import pillow_heif

        pillow_heif.register_heif_opener()

    def run():
        im = Image.open(io.BytesIO(data))
        if im.format == "JPEG":
            im.draft("RGB", (w, h))
        im.thumbnail((w, h), Image.LANCZOS)
        if im.mode != "RGB":
            im = im.convert("RGB")
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85)
        return out.getvalue()

elif tool == "sdk":
    from mindee import BytesInput

    def run():
        source = BytesInput(data, os.path.basename(src))
        source.compress(quality=85, max_width=w, max_height=h)
        return source.file_object.read()

else:
    sys.exit(f"unknown tool {tool}")


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cpus, walls, size, error = [], [], 0, None
for _ in range(repeat):
    c0, t0 = cpu(), time.perf_counter()
    try:
        size = len(run())
    except Exception as e:  # a tool that cannot open the input: reported, not fatal
        error = f"{type(e).__name__}: {e}"
        break
    walls.append(time.perf_counter() - t0)
    cpus.append(cpu() - c0)
print(json.dumps({"cpu": cpus, "wall": walls, "bytes": size, "base_rss_kib": base_rss, "error": error}))
