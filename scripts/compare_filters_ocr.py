#!/usr/bin/env python3
# Needs Pillow and tesseract-ocr (Debian). Not used by the build or tests.
# Which filter keeps small text most legible after our typical shrink (2.45x per side)?
# Render lines of random words at several sizes, downscale with each filter, OCR with tesseract,
# and score the character accuracy (difflib ratio) against the text that was drawn.
import difflib, random, subprocess, tempfile, os
from PIL import Image, ImageDraw, ImageFont
words = "invoice total amount due date account number reference payment tax vat net gross".split()
def page(seed, size_after):
    rnd = random.Random(seed); scale = 2.45
    f = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", int(size_after*scale))
    lines = [" ".join(rnd.choice(words) + str(rnd.randint(0,99)) for _ in range(6)) for _ in range(12)]
    W, H = int(900*scale), int((len(lines)*(size_after+6)+20)*scale)
    im = Image.new("L", (W, H), 255); d = ImageDraw.Draw(im)
    for i, l in enumerate(lines):
        d.text((10*scale, (10 + i*(size_after+6))*scale), l, fill=0, font=f)
    return im, "\n".join(lines)
def ocr(im):
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as t:
        im.save(t.name)
    out = subprocess.run(["tesseract", t.name, "-", "--psm", "6"], capture_output=True, text=True).stdout
    os.unlink(t.name); return out
filters = [("lanczos3", Image.LANCZOS), ("catmull-rom", Image.BICUBIC), ("bilinear", Image.BILINEAR)]
for size in [9, 10, 11, 12]:
    scores = {n: [] for n, _ in filters}
    for seed in range(6):
        big, truth = page(seed, size)
        target = (round(big.width/2.45), round(big.height/2.45))
        for n, flt in filters:
            text = ocr(big.resize(target, flt))
            scores[n].append(difflib.SequenceMatcher(None, " ".join(truth.split()), " ".join(text.split())).ratio())
    print(f"text {size}px after shrink: " + ", ".join(f"{n} {100*sum(v)/len(v):.1f}%" for n, v in scores.items()))
