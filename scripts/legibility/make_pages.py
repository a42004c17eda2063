#!/usr/bin/env python3
"""Generates the legibility benchmark's documents, each with its ground-truth text beside it
(NAME.txt): pages of known words at several point sizes and fonts, rendered at 300/400 dpi,
then made to look like what users send (issue 11):

  fax_400dpi.tif     bilevel CCITT G4, 400 dpi (a fax or a 1-bit office scan)
  fax_small_300.tif  bilevel G4, 300 dpi, 6-8 pt type (thin strokes)
  scan_gray_300.png  8-bit grey scan (anti-aliased, light paper noise)
  scan_gray_300.jpg  the same as a q75 JPEG (what scanners write)
  photo_page.jpg     a photographed page: colour, perspective, uneven light, noise, q92
  screenshot.png     a palette PNG screenshot (16 colours, coloured UI text)
  bilevel_1bit.png   a 1-bit PNG page, 400 dpi

Deterministic (fixed seed). Usage: make_pages.py OUT_DIR  (skips files already there)."""
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = "/usr/share/fonts/truetype/dejavu/"
WORDS = (
    "invoice total amount due date payment account number customer reference order "
    "quantity description price tax subtotal balance shipping address street city "
    "postal code country phone email supplier receipt item unit discount currency "
    "bank transfer terms conditions signature approved delivery note contract period "
    "monthly annual service product license support hours rate hourly fixed fee "
    "vendor purchase request department manager project budget estimate quote "
    "insurance policy claim patient doctor hospital medicine prescription dosage"
).split()


def text_lines(rng, n_lines, words_per_line):
    return [" ".join(rng.choice(WORDS) for _ in range(words_per_line)) for _ in range(n_lines)]


def render_page(rng, dpi, sizes_pt, fonts, width_in=8.5, height_in=11.0, colour=False):
    """A white page with blocks of text; returns (image in mode L or RGB, ground-truth text)."""
    w, h = int(width_in * dpi), int(height_in * dpi)
    img = Image.new("RGB" if colour else "L", (w, h), "white")
    draw = ImageDraw.Draw(img)
    margin = int(0.6 * dpi)
    y = margin
    truth = []
    block = 0
    while True:
        pt = sizes_pt[block % len(sizes_pt)]
        font_file = fonts[block % len(fonts)]
        px = max(4, round(pt * dpi / 72))
        font = ImageFont.truetype(FONTS + font_file, px)
        line_h = int(px * 1.35)
        if y + line_h * 3 > h - margin:
            break
        # Words per line so that the line fits the text width.
        avg = font.getlength("amount ")
        per_line = max(2, int((w - 2 * margin) / avg) - 1)
        for line in text_lines(rng, 3, per_line):
            while font.getlength(line) > w - 2 * margin and " " in line:
                line = line.rsplit(" ", 1)[0]
            if y + line_h > h - margin:
                break
            fill = "black" if not colour else (20, 20, 60)
            draw.text((margin, y), line, font=font, fill=fill)
            truth.append(line)
            y += line_h
        y += line_h
        block += 1
    return img, "\n".join(truth) + "\n"


def noise(img, rng, amount):
    """Adds Gaussian-ish paper noise to an L or RGB image (Pillow only, no numpy)."""
    n = Image.effect_noise(img.size, amount).convert("L")
    if img.mode == "RGB":
        n = Image.merge("RGB", (n, n, n))
    return Image.blend(img, Image.composite(img, n, Image.new("L", img.size, 200)), 0.35)


def save(out, name, img, truth, **kw):
    path = os.path.join(out, name)
    img.save(path, **kw)
    with open(os.path.splitext(path)[0] + os.path.splitext(path)[1].replace(".", "_") + ".txt", "w") as f:
        f.write(truth)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(11)
    sans, serif, mono = "DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf"

    def want(name):
        return not os.path.exists(os.path.join(out, name))

    if want("fax_400dpi.tif"):
        img, truth = render_page(rng, 400, [8, 10, 12], [serif, sans, mono])
        bw = img.point(lambda v: 255 if v > 140 else 0).convert("1")
        save(out, "fax_400dpi.tif", bw, truth, compression="group4", dpi=(400, 400))
    if want("fax_small_300.tif"):
        img, truth = render_page(rng, 300, [6, 7, 8], [serif, sans])
        bw = img.point(lambda v: 255 if v > 110 else 0).convert("1")
        save(out, "fax_small_300.tif", bw, truth, compression="group4", dpi=(300, 300))
    if want("scan_gray_300.png") or want("scan_gray_300.jpg"):
        img, truth = render_page(rng, 300, [7, 9, 11], [sans, serif])
        img = noise(img.filter(ImageFilter.GaussianBlur(0.6)), rng, 40)
        save(out, "scan_gray_300.png", img, truth)
        save(out, "scan_gray_300.jpg", img, truth, quality=75)
    if want("photo_page.jpg"):
        img, truth = render_page(rng, 300, [9, 11, 12], [sans, serif], colour=True)
        w, h = img.size
        canvas = Image.new("RGB", (int(w * 1.25), int(h * 1.15)), (90, 70, 50))
        canvas.paste(img, (int(w * 0.12), int(h * 0.07)))
        cw, ch = canvas.size
        # A phone held slightly off-axis: top edge narrower than the bottom.
        coeffs = find_coeffs(
            [(0, 0), (cw, 0), (cw, ch), (0, ch)],
            [(cw * 0.04, ch * 0.02), (cw * 0.95, 0), (cw, ch), (0, ch * 0.98)],
        )
        photo = canvas.transform((cw, ch), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
        shade = Image.linear_gradient("L").resize((cw, ch)).point(lambda v: 255 - v // 4)
        photo = Image.composite(photo, Image.new("RGB", (cw, ch), "black"), shade)
        photo = noise(photo.filter(ImageFilter.GaussianBlur(0.8)), rng, 30)
        save(out, "photo_page.jpg", photo, truth, quality=92)
    if want("screenshot.png"):
        rng2 = random.Random(7)
        w, h = 3200, 2000
        img = Image.new("RGB", (w, h), (245, 245, 248))
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 0, w, 120), fill=(40, 70, 140))
        truth = []
        font = ImageFont.truetype(FONTS + sans, 44)
        title = " ".join(rng2.choice(WORDS) for _ in range(5))
        draw.text((40, 35), title, font=font, fill="white")
        truth.append(title)
        y = 180
        small = ImageFont.truetype(FONTS + sans, 30)
        while y < h - 60:
            line = " ".join(rng2.choice(WORDS) for _ in range(12))
            colour = [(30, 30, 30), (150, 30, 30), (30, 110, 40)][len(truth) % 3]
            draw.text((60, y), line, font=small, fill=colour)
            truth.append(line)
            y += 52
        img = img.quantize(16, dither=Image.Dither.NONE)
        save(out, "screenshot.png", img, "\n".join(truth) + "\n", optimize=True)
    if want("bilevel_1bit.png"):
        img, truth = render_page(rng, 400, [9, 11], [sans, serif])
        bw = img.point(lambda v: 255 if v > 140 else 0).convert("1")
        save(out, "bilevel_1bit.png", bw, truth, optimize=True)


def find_coeffs(source, target):
    """Perspective coefficients mapping target corners to source ones (Pillow's convention)."""
    matrix = []
    for (x, y), (X, Y) in zip(target, source):
        matrix.append([x, y, 1, 0, 0, 0, -X * x, -X * y])
        matrix.append([0, 0, 0, x, y, 1, -Y * x, -Y * y])
    rhs = [c for p in source for c in p]
    return solve(matrix, rhs)


def solve(a, b):
    """Gaussian elimination for the 8×8 system (no numpy needed)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


if __name__ == "__main__":
    main()
