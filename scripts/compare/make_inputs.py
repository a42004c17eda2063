#!/usr/bin/env python3
"""Generates the inputs of `make compare` (issue 6) into a cache directory (never committed).

Usage: python3 scripts/compare/make_inputs.py OUT_DIR

Deterministic (fixed seeds, no timestamps); a file that already exists is kept, so a second
run costs nothing. Needs numpy, Pillow, pillow-heif and pikepdf (scripts/compare/run.sh puts
them in a virtualenv under target/) and `tiffcp` (libtiff-tools).

What it makes (photo-like content: smooth gradients, shapes, a paper sheet with text down to
10 px, a fine band-limited texture and sensor-like noise, so decode and compression cost like a
phone photo, not like flat colour):

    photo_12mp.jpg  photo_24mp.jpg  photo_48mp.jpg          baseline, q92, 4:2:0 (phone-like)
    photo_12mp_prog.jpg  photo_24mp_prog.jpg  photo_48mp_prog.jpg   the same, progressive
    grid_12mp.heic        4032x3024, HEVC grid of 512x512 tiles (like iPhones), quality 50
    screenshot_16mp.png   4608x3456 document screenshot, RGB
    scan_400dpi_g4.tif    3 pages A4 at 400 dpi (3307x4677), CCITT G4, joined by tiffcp
    scans_10p.pdf         10 pages, each a 12 MP (3000x4000) JPEG scan at q85
    batch40/              40 mixed photos: 12/16/24/48 MP JPEG (baseline and progressive) + HEIC
    passthrough1000/      1000 in-budget JPEGs (<= 5 MP), copies of 5 distinct files
"""
import io
import os
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
TEXT = (
    "Invoice INV-2024-0042  Total due 1,234.56 EUR  VAT 20%  Date 2024-03-14  "
    "Acme Supplies Ltd, 12 Rue de la Paix, 75002 Paris  Payment terms: 30 days net  "
    "Item  Qty  Unit price  Amount  Widget A  4  12.50  50.00  Widget B  1  99.90  99.90  "
)


def font(size, bold=False):
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(os.path.join(FONT_DIR, name), size)
    except OSError:
        return ImageFont.load_default(size)


def texture(rng, w, h, scale):
    """Band-limited random texture (wood/desk grain): low-res noise upscaled bicubically."""
    small = rng.standard_normal((max(2, h // scale), max(2, w // scale))).astype(np.float32)
    img = Image.fromarray(small, "F").resize((w, h), Image.BICUBIC)
    return np.asarray(img)


def text_block(d, x, y, width, y_max, sizes, rng, fill):
    i = 0
    while True:
        size = sizes[i % len(sizes)]
        if y + size * 1.4 > y_max:
            return
        start = int(rng.integers(0, len(TEXT) - 1))
        line = (TEXT[start:] + TEXT)[: max(1, int(width / (size * 0.55)))]
        d.text((x, y), line, font=font(size), fill=fill)
        y += int(size * 1.5)
        i += 1


def photo(w, h, seed):
    """A phone photo of a document on a desk."""
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(40, 200, size=(4, 6, 3), dtype=np.uint8), "RGB")
    img = base.resize((w, h), Image.BICUBIC)
    d = ImageDraw.Draw(img)
    s = min(w, h)
    for k in range(8):
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(s // 20, s // 6))
        col = tuple(int(c) for c in rng.integers(30, 230, size=3))
        if k % 2:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
        else:
            d.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r // 2)], fill=col)
    x0, y0, x1, y1 = int(w * 0.22), int(h * 0.10), int(w * 0.88), int(h * 0.94)
    d.rectangle([x0 + s // 100, y0 + s // 100, x1 + s // 100, y1 + s // 100], fill=(60, 60, 60))
    d.rectangle([x0, y0, x1, y1], fill=(246, 244, 238))
    pad = (x1 - x0) // 24
    d.text((x0 + pad, y0 + pad), "ACME SUPPLIES", font=font(max(12, s // 25), bold=True), fill=(20, 20, 90))
    # text scaled with the picture (a document filling the frame) down to small print
    sizes = [max(10, s // 70), max(10, s // 110), max(12, s // 90), max(10, s // 140)]
    text_block(d, x0 + pad, y0 + pad + s // 14, x1 - x0 - 2 * pad, y1 - pad, sizes, rng, (25, 25, 25))
    a = np.asarray(img, dtype=np.float32)
    # desk grain and paper fibre (fine detail everywhere) + luminance noise like a sensor's
    grain = texture(rng, w, h, 3) * 6.0 + texture(rng, w, h, 40) * 10.0
    noise = rng.standard_normal((h, w), dtype=np.float32) * 2.5
    a += (grain + noise)[:, :, None]
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8), "RGB")


def document(w, h, seed, dark=(10, 10, 10)):
    """A screenshot / scan of a document page: white, text, table rules, one gradient box."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(img)
    s = min(w, h)
    d.rectangle([0, 0, w, h // 14], fill=(235, 240, 250))
    d.text((w // 20, h // 50), "ACME SUPPLIES - INVOICE %d" % seed, font=font(max(12, s // 30), bold=True), fill=(20, 40, 120))
    gx0, gy0, gx1, gy1 = int(w * 0.70), int(h * 0.12), int(w * 0.95), int(h * 0.32)
    yy, xx = np.mgrid[0 : gy1 - gy0, 0 : gx1 - gx0].astype(np.float32)
    grad = np.stack([xx / xx.max() * 255, yy / yy.max() * 255, (1 - xx / xx.max()) * 200 + 30], axis=2)
    img.paste(Image.fromarray(grad.astype(np.uint8), "RGB"), (gx0, gy0))
    ty = int(h * 0.5)
    for k in range(8):
        d.line([(w // 20, ty + k * h // 30), (int(w * 0.95), ty + k * h // 30)], fill=(120, 120, 120), width=max(1, s // 900))
    text_block(d, w // 20, h // 10, int(w * 0.6), int(h * 0.48), [max(10, s // 90), 10, max(12, s // 70), 14], rng, dark)
    text_block(d, w // 20, ty + 8, int(w * 0.85), int(h * 0.96), [max(10, s // 100), 10, 12], rng, dark)
    return img


def save_jpeg(img, path, quality=92, progressive=False):
    img.save(path, "JPEG", quality=quality, subsampling=2, progressive=progressive, optimize=progressive)


def made(path):
    return os.path.exists(path) and os.path.getsize(path) > 0


def make_photos(out):
    for mp, (w, h), seed in [(12, (4000, 3000), 12), (24, (6000, 4000), 24), (48, (8000, 6000), 48)]:
        base, prog = os.path.join(out, f"photo_{mp}mp.jpg"), os.path.join(out, f"photo_{mp}mp_prog.jpg")
        if made(base) and made(prog):
            continue
        img = photo(w, h, seed)
        save_jpeg(img, base)
        save_jpeg(img, prog, progressive=True)


def heic(img, path):
    import pillow_heif

    pillow_heif.options.GRID_TILE_SIZE = 512  # grid of 512x512 HEVC tiles, like an iPhone
    try:
        img.save(path, "HEIF", quality=50)
    finally:
        pillow_heif.options.GRID_TILE_SIZE = 0


def make_heic(out):
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = os.path.join(out, "grid_12mp.heic")
    if not made(path):
        heic(photo(4032, 3024, 1212), path)


def make_png(out):
    path = os.path.join(out, "screenshot_16mp.png")
    if not made(path):
        document(4608, 3456, 16).save(path, "PNG", optimize=False, compress_level=6)


def make_tiff(out):
    path = os.path.join(out, "scan_400dpi_g4.tif")
    if made(path):
        return
    pages = []
    for k in range(3):
        page = os.path.join(out, f".page{k}.tif")
        bw = document(3307, 4677, 400 + k).convert("L").point(lambda v: 255 if v >= 160 else 0).convert("1")
        bw.save(page, "TIFF", compression="group4", dpi=(400, 400))
        pages.append(page)
    subprocess.run(["tiffcp", "-c", "g4", *pages, path], check=True)
    for page in pages:
        os.remove(page)


def make_pdf(out):
    path = os.path.join(out, "scans_10p.pdf")
    if made(path):
        return
    import pikepdf

    pdf = pikepdf.new()
    for k in range(10):
        w, h = 3000, 4000
        img = document(w, h, 1000 + k)
        a = np.asarray(img, dtype=np.float32)
        rng = np.random.default_rng(2000 + k)
        a += (rng.standard_normal((h, w), dtype=np.float32) * 3.0)[:, :, None]  # scanner noise
        buf = io.BytesIO()
        save_jpeg(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), buf, quality=85)
        xobj = pikepdf.Stream(pdf, buf.getvalue())
        xobj.Type, xobj.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        xobj.Width, xobj.Height, xobj.BitsPerComponent = w, h, 8
        xobj.ColorSpace, xobj.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
        pw, ph = 595.0, 595.0 * h / w  # A4-ish width in points
        content = pikepdf.Stream(pdf, f"q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q".encode())
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, pw, ph],
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=xobj)),
            Contents=content,
        )
        pdf.pages.append(pikepdf.Page(page))
    pdf.save(path, deterministic_id=True)


def make_batch40(out):
    d = os.path.join(out, "batch40")
    os.makedirs(d, exist_ok=True)
    # (count, size, kind): mostly 12 MP phone photos, some 16/24 MP, two 48 MP, four HEIC
    plan = [(18, (4000, 3000), "jpg"), (6, (4000, 3000), "prog"), (6, (4608, 3456), "jpg"),
            (4, (6000, 4000), "prog"), (2, (8000, 6000), "jpg"), (4, (4032, 3024), "heic")]
    n = 0
    for count, (w, h), kind in plan:
        for _ in range(count):
            n += 1
            ext = "heic" if kind == "heic" else "jpg"
            path = os.path.join(d, f"p{n:02d}.{ext}")
            if made(path):
                continue
            size = (h, w) if n % 3 == 0 else (w, h)  # a third in portrait
            img = photo(size[0], size[1], 4000 + n)
            if kind == "heic":
                heic(img, path)
            else:
                save_jpeg(img, path, quality=90, progressive=(kind == "prog"))


def make_passthrough(out):
    d = os.path.join(out, "passthrough1000")
    if os.path.isdir(d) and len(os.listdir(d)) == 1000:
        return
    os.makedirs(d, exist_ok=True)
    sources = []
    for k, (w, h) in enumerate([(1600, 1200), (2000, 1500), (1200, 1600), (2448, 2000), (1024, 768)]):
        buf = io.BytesIO()
        save_jpeg(photo(w, h, 9000 + k), buf, quality=88)
        sources.append(buf.getvalue())
    for n in range(1000):
        with open(os.path.join(d, f"s{n:04d}.jpg"), "wb") as f:
            f.write(sources[n % len(sources)])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for step in (make_photos, make_heic, make_png, make_tiff, make_pdf, make_batch40, make_passthrough):
        print(f"make_inputs: {step.__name__[5:]}", file=sys.stderr, flush=True)
        step(out)


if __name__ == "__main__":
    main()
