"""The Pillow peer of `make compare`: what a Python user of the official SDK would write.

Usage: python pillow_peer.py IN OUT WIDTH HEIGHT

JPEG: `draft()` (libjpeg's DCT-domain scaled decode, largest scale still >= the target), then
LANCZOS to exactly WIDTH x HEIGHT, then save at quality 85 (Pillow's default 4:2:0).
HEIC: pillow-heif opens it (full decode, no draft), then the same resize and save.
"""
import sys

from PIL import Image

src, dst, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if src.lower().endswith((".heic", ".heif")):
    import pillow_heif

    pillow_heif.register_heif_opener()
im = Image.open(src)
if im.format == "JPEG":
    im.draft("RGB", (w, h))
im = im.convert("RGB").resize((w, h), Image.LANCZOS)
im.save(dst, "JPEG", quality=85)
