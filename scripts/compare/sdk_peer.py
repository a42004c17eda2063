#!/usr/bin/env python3
"""The official Python SDK's own compression, as a peer for the PDF job: what a user of
`mindee` (5.x) gets from `LocalInputSource.compress(quality=85)` (pypdfium2 renders every page
and re-encodes it as a JPEG page; the text layer, if any, is dropped).

Usage: python sdk_peer.py IN.pdf OUT.pdf QUALITY"""
import sys

from mindee import PathInput

src, out, quality = sys.argv[1], sys.argv[2], int(sys.argv[3])
source = PathInput(src)
source.compress(quality=quality)
with open(out, "wb") as f:
    f.write(source.file_object.read())
