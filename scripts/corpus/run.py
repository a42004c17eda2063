#!/usr/bin/env python3
"""Run `mindee-prep prepare --json` on every corpus file and judge each outcome.

    python3 scripts/corpus/run.py BINARY [--report FILE.md] [--jobs N] [--only GLOB]

The judges are the mainstream decoders as Debian ships them: Pillow (python3-pil; PyPI's
Pillow + pillow-heif for HEIF), libvips (`vips avg`, every page), libtiff (`tiffinfo -D`) for
TIFF, libheif (`heif-convert`) for HEIF, qpdf and poppler (through libvips) for PDF.

- ok, passthrough: the output is the input, byte for byte, and the input must decode with
  every judge and be of the server-safe kind (8-bit Huffman JPEG, classic TIFF, still PNG/WebP,
  HEIF holding one still image, unencrypted PDF);
- ok, anything else: the output must decode with every judge, be of an accepted format, keep
  the page count and stay within the pixel budget;
- refused: the kind must fit the file (see judge_refusal); crashes, panics, hangs, timeouts,
  and `io` / `resource_limit` on a readable file are always failures.

Prints the table (format x outcome) and every failure with its reason, and writes both to a
markdown file (default: CACHE/report.md). Decoder verdicts on inputs are cached by sha256 in
CACHE/probes, so judging another build only decodes its outputs. Installs the judges when they
are missing (apt-get as root, or sudo; a venv in the cache for pillow-heif).
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fetch import cache_dir  # noqa: E402

PROBE_VERSION = 4
ACCEPTED = {"pdf", "jpeg", "png", "tiff", "webp", "heif"}
# The CLI's defaults: images above MAX_MP are scaled down, above MAX_INPUT_MP refused, and
# no upload may exceed MAX_BYTES.
MAX_MP = 5.0
MAX_INPUT_MP = 300.0
MAX_BYTES = 100_000_000
MAX_PAGES_CHECKED = 32
DECODER_TIMEOUT = 120
DECODER_MEMORY = 8 << 30
APT_PACKAGES = ["python3-pil", "libvips-tools", "libtiff-tools", "libheif-examples", "qpdf",
                "poppler-utils", "python3-venv", "util-linux"]
VENV_PACKAGES = ["pillow==13.0.0", "pillow-heif==1.8.1"]


# ---------------------------------------------------------------- tools


def have_debian_pillow() -> bool:
    return subprocess.run(["/usr/bin/python3", "-c", "import PIL"], capture_output=True).returncode == 0


def ensure_tools(cache: Path) -> Path:
    """Installs the judges when missing; returns the venv's python (pillow-heif)."""
    missing = [t for t in ("vips", "vipsheader", "tiffinfo", "heif-convert", "qpdf", "pdfinfo", "prlimit")
               if not shutil.which(t)]
    if missing or not have_debian_pillow():
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        print(f"installing {' '.join(APT_PACKAGES)}", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", *APT_PACKAGES], check=True, env=env)
    venv = cache / "venv-judges"
    py = venv / "bin" / "python"
    ok = py.exists() and subprocess.run([str(py), "-c", "import pillow_heif"], capture_output=True).returncode == 0
    if not ok:
        print("creating the judges' venv (Pillow + pillow-heif from PyPI)", flush=True)
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", *VENV_PACKAGES], check=True)
    return py


def limited(cmd: list[str], timeout: float, memory: int, env=None) -> tuple[int | None, str, str, float]:
    """Runs cmd under an address-space cap; returns (exit code or None on timeout, out, err, s)."""
    started = time.monotonic()
    proc = subprocess.Popen(["prlimit", f"--as={memory}", "--", *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code = None
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), time.monotonic() - started


# ---------------------------------------------------------------- facts from the bytes


def sniff(data: bytes) -> str:
    if not data:
        return "empty"
    if b"%PDF" in data[:1024]:
        return "pdf"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:4] in (b"II+\x00", b"MM\x00+"):
        return "bigtiff"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        brands = ftyp_brands(data)
        if brands and (brands[0] in ("avif", "avis") or ("avif" in brands and not {"heic", "heix", "hevc", "hevx"} & set(brands))):
            return "avif"
        if {"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "mif2"} & set(brands):
            return "heif"
        return "isobmff"
    if data[:4] in (b"GIF8",):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    if data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or data[:4] == b"\xffO\xffQ":
        return "jp2"
    if data[:2] == b"\xff\x0a" or data[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "jxl"
    if data[:4] == b"8BPS":
        return "psd"
    return "other"


def ftyp_brands(data: bytes) -> list[str]:
    size = int.from_bytes(data[0:4], "big")
    if size < 16 or size > len(data):
        size = min(len(data), 64)
    body = data[8:size]
    brands = [body[0:4]] + [body[i:i + 4] for i in range(8, len(body) - 3, 4)]
    return [b.decode("latin-1") for b in brands]


def top_boxes(data: bytes) -> list[str]:
    boxes, pos = [], 0
    while pos + 8 <= len(data) and len(boxes) < 64:
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8].decode("latin-1")
        if size == 1 and pos + 16 <= len(data):
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
        elif size == 0:
            size = len(data) - pos
        boxes.append(kind)
        if size < 8:
            break
        pos += size
    return boxes


def jpeg_frame(data: bytes) -> dict:
    """SOF marker and sample precision, and whether junk sits between the header markers."""
    pos, junk = 2, 0
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            junk += 1
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            precision = data[pos + 4] if pos + 4 < len(data) else None
            return {"sof": f"SOF{marker - 0xC0}", "precision": precision, "junk": junk}
        if marker == 0xDA:
            break
        pos += 2 + length
    return {"sof": None, "precision": None, "junk": junk}


def png_chunks(data: bytes) -> dict:
    """Critical chunks whose CRC is wrong; APNG frame count; inflated size of text/ICC chunks."""
    pos, bad, frames, inflated = 8, [], None, 0
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(crc) < 4:
            break
        name = kind.decode("latin-1")
        if kind[:1].isupper() and zlib.crc32(kind + body) != int.from_bytes(crc, "big"):
            bad.append(name)
        if kind == b"acTL" and length >= 8:
            frames = int.from_bytes(body[0:4], "big")
        if kind in (b"zTXt", b"iCCP", b"iTXt"):
            start = body.find(b"\x00") + 2
            if kind == b"iTXt":
                start = body.find(b"\x00") + 3
                # keyword, flag, method, language tag, translated keyword
                parts = body[start:].split(b"\x00", 2)
                start = len(body) - len(parts[-1]) if len(parts) == 3 else len(body)
            try:
                d = zlib.decompressobj()
                inflated = max(inflated, len(d.decompress(body[start:], 64 << 20)))
            except zlib.error:
                pass
        if kind == b"IEND":
            break
        pos += 12 + length
    return {"bad_crc": bad, "apng_frames": frames, "max_inflated_chunk": inflated}


def raw_pdf_encrypted(data: bytes) -> bool:
    return re.search(rb"/Encrypt\s*(\d+\s+\d+\s+R|<<)", data) is not None


# ---------------------------------------------------------------- the judges


def judge_pillow(path: Path, fmt: str, venv_py: Path) -> dict:
    heif = fmt == "heif"
    py = str(venv_py) if heif else "/usr/bin/python3"
    # A JPEG reader sees the first image of an MPO (a JPEG with more JPEGs after it): so does
    # the judge, and the API.
    flags = (["--heif"] if heif else []) + (["--first-frame"] if fmt == "jpeg" else [])
    cmd = [py, str(HERE / "pillow_check.py"), *flags, str(path)]
    code, out, err, _ = limited(cmd, DECODER_TIMEOUT, DECODER_MEMORY)
    if code is None:
        return {"decoder": "pillow-heif" if heif else "pillow", "status": "fail", "error": "timeout"}
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"decoder": "pillow-heif" if heif else "pillow", "status": "fail",
                "error": f"crashed (exit {code}): {err.strip()[-200:]}"}


def vips_message(stderr: str) -> str:
    """libvips' error line, without the GLib warnings printed before it."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "VIPS-WARNING" not in ln]
    if errors:
        return errors[-1][:200]
    last = lines[-1] if lines else ""
    return re.sub(r"^\(\S+\): VIPS-WARNING \*\*: [\d:.]+: ", "", last)[:200]


def vips_header(path: Path) -> dict:
    code, out, err, _ = limited(["vipsheader", "-a", str(path)], DECODER_TIMEOUT, DECODER_MEMORY)
    if code != 0:
        return {"error": "timeout" if code is None else vips_message(err)}
    fields = {}
    for line in out.splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            fields[k.strip()] = v.strip()
    return fields


def judge_vips(path: Path) -> dict:
    result = {"decoder": "libvips"}
    head = vips_header(path)
    if "error" in head:
        return {**result, "status": "fail", "error": head["error"]}
    loader = head.get("vips-loader", "")
    width, height = int(head.get("width", 0)), int(head.get("height", 0))
    pages = int(head.get("n-pages", 1) or 1)
    result.update(loader=loader, width=width, height=height, pages=pages)
    paged = loader.split("_")[0] in ("tiffload", "pdfload", "gifload", "webpload", "heifload")
    status, messages = "ok", []
    for page in range(min(pages, MAX_PAGES_CHECKED) if paged else 1):
        opts = f"page={page}," if paged else ""
        strict = limited(["vips", "avg", f"{path}[{opts}fail_on=warning]"], DECODER_TIMEOUT, DECODER_MEMORY)
        if strict[0] == 0:
            continue
        lenient = limited(["vips", "avg", f"{path}[{opts.rstrip(',')}]" if opts else str(path)],
                          DECODER_TIMEOUT, DECODER_MEMORY)
        if lenient[0] == 0:
            status = "warn" if status == "ok" else status
            first = vips_message(strict[2])
            messages.append(f"page {page}: {first}" if paged else first)
        else:
            status = "fail"
            messages.append("timeout" if lenient[0] is None else vips_message(lenient[2]))
            break
    result["status"] = status
    if messages:
        result["error" if status == "fail" else "warning"] = "; ".join(messages)[:300]
    return result


def judge_libtiff(path: Path) -> dict:
    code, out, err, _ = limited(["tiffinfo", "-D", str(path)], DECODER_TIMEOUT, DECODER_MEMORY)
    if code is None:
        return {"decoder": "libtiff", "status": "fail", "error": "timeout"}
    errors = [ln for ln in err.splitlines() if ln.strip() and "Warning" not in ln]
    warnings = [ln for ln in err.splitlines() if "Warning" in ln]
    pages = out.count("TIFF Directory at offset")
    if code != 0 or errors:
        # tiffinfo reads strips and tiles raw; applications mostly go through TIFFReadRGBA*,
        # which handles cases tiffinfo gives up on (subsampled YCbCr tiles): ask it too.
        with tempfile.TemporaryDirectory() as tmp:
            rgba = limited(["tiff2rgba", str(path), f"{tmp}/out.tif"], DECODER_TIMEOUT, DECODER_MEMORY)
        rgba_errors = [ln for ln in rgba[2].splitlines() if ln.strip() and "Warning" not in ln]
        if rgba[0] == 0 and not rgba_errors:
            return {"decoder": "libtiff", "status": "warn", "pages": pages,
                    "warning": f"tiffinfo -D: {(errors or [f'exit {code}'])[0][:150]}; tiff2rgba reads it"}
        return {"decoder": "libtiff", "status": "fail",
                "error": (errors or [f"exit {code}"])[0][:200]}
    if warnings:
        return {"decoder": "libtiff", "status": "warn", "warning": warnings[0][:200], "pages": pages}
    return {"decoder": "libtiff", "status": "ok", "pages": pages}


def judge_libheif(path: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code, out, err, _ = limited(["heif-convert", str(path), f"{tmp}/out.png"], DECODER_TIMEOUT, DECODER_MEMORY)
    info = limited(["heif-info", str(path)], DECODER_TIMEOUT, DECODER_MEMORY)
    images = len(re.findall(r"^image: ", info[1], re.M))
    if code != 0:
        text = (err or out).strip().splitlines()
        return {"decoder": "libheif", "status": "fail", "images": images,
                "error": ("timeout" if code is None else (text[-1] if text else f"exit {code}"))[:200]}
    return {"decoder": "libheif", "status": "ok", "images": images}


def judge_pdf(path: Path) -> list[dict]:
    code, out, err, _ = limited(["qpdf", "--check", str(path)], DECODER_TIMEOUT, DECODER_MEMORY)
    text = (err or out).strip().splitlines()
    if code in (0, 3):
        q = {"decoder": "qpdf", "status": "ok" if code == 0 else "warn"}
        if code == 3:
            q["warning"] = (text[0] if text else "")[:200]
    else:
        q = {"decoder": "qpdf", "status": "fail", "error": ("timeout" if code is None else (text[0] if text else f"exit {code}"))[:200]}
    enc = limited(["qpdf", "--is-encrypted", str(path)], DECODER_TIMEOUT, DECODER_MEMORY)[0]
    q["encrypted"] = enc == 0
    npages = limited(["qpdf", "--show-npages", str(path)], DECODER_TIMEOUT, DECODER_MEMORY)
    if npages[0] in (0, 3) and npages[1].strip().isdigit():
        q["pages"] = int(npages[1].strip())
    poppler = judge_vips(path)
    poppler["decoder"] = "poppler"  # through libvips' pdfload
    return [q, poppler]


def probe(path: Path, venv_py: Path) -> dict:
    """What the bytes are, and what each mainstream decoder makes of them."""
    data = path.read_bytes()
    fmt = sniff(data)
    facts: dict = {"format": fmt, "bytes": len(data)}
    if fmt == "jpeg":
        facts["jpeg"] = jpeg_frame(data)
    elif fmt == "png":
        facts["png"] = png_chunks(data)
    elif fmt in ("heif", "avif", "isobmff"):
        facts["boxes"] = top_boxes(data)
        facts["brands"] = ftyp_brands(data)
    elif fmt == "pdf":
        facts["raw_encrypt"] = raw_pdf_encrypted(data)
    if fmt == "empty":
        facts["judges"] = []
        return facts
    if fmt == "pdf":
        facts["judges"] = judge_pdf(path)
        return facts
    judges = [judge_pillow(path, fmt, venv_py), judge_vips(path)]
    if fmt in ("tiff", "bigtiff"):
        judges.append(judge_libtiff(path))
    if fmt == "heif":
        judges.append(judge_libheif(path))
    facts["judges"] = judges
    return facts


class ProbeCache:
    def __init__(self, root: Path, venv_py: Path):
        self.root = root
        self.venv_py = venv_py
        root.mkdir(parents=True, exist_ok=True)

    def get(self, path: Path) -> dict:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        slot = self.root / f"{sha}.json"
        if slot.exists():
            cached = json.loads(slot.read_text())
            if cached.get("probe_version") == PROBE_VERSION:
                for j in cached["judges"]:
                    j["decoder"] = j["decoder"].replace(" (libvips pdfload)", "")
                return cached
        facts = probe(path, self.venv_py)
        facts["probe_version"] = PROBE_VERSION
        facts["sha256"] = sha
        tmp = slot.with_suffix(".tmp")
        tmp.write_text(json.dumps(facts))
        tmp.replace(slot)
        return facts


# ---------------------------------------------------------------- verdicts


def failing(facts: dict) -> list[dict]:
    return [j for j in facts["judges"] if verdict(j) == "fail"]


def verdict(judge: dict) -> str:
    """A judge's status; qpdf's --check also fails on a damaged stream (an image, a font) in a
    file it opens and counts the pages of: that is a warning, poppler says whether it renders."""
    if judge["decoder"] == "qpdf" and judge["status"] == "fail" and judge.get("pages") is not None:
        return "warn"
    return judge["status"]


def pages_of(facts: dict) -> int | None:
    for j in facts["judges"]:
        if j["decoder"] == "qpdf" and "pages" in j:
            return j["pages"]
    for j in facts["judges"]:
        if j["decoder"] == "libvips" and j.get("status") != "fail" and j.get("loader", "").startswith("tiffload"):
            return j.get("pages")
    return None


def encrypted(facts: dict) -> bool:
    return facts.get("raw_encrypt", False) or any(j.get("encrypted") for j in facts["judges"])


def largest_pixels(facts: dict) -> int:
    best = 0
    for j in facts["judges"]:
        if j.get("width") and j.get("height"):
            best = max(best, j["width"] * j["height"])
        m = re.search(r"Image size \((\d+) pixels\)", j.get("error", ""))
        if m:
            best = max(best, int(m.group(1)))
    return best


def animated(facts: dict) -> bool:
    fmt = facts["format"]
    if fmt in ("png", "webp", "gif"):
        return any(j.get("frames", 1) > 1 for j in facts["judges"] if j["decoder"].startswith("pillow")) or \
            (fmt == "png" and (facts["png"]["apng_frames"] or 0) > 1)
    if fmt in ("heif", "avif"):
        return "moov" in facts.get("boxes", [])
    return False


def names(judges: list[dict]) -> str:
    return ", ".join(f"{j['decoder']} ({j['error']})" if j.get("error") else j["decoder"] for j in judges)


def unsafe_reasons(facts: dict) -> list[str]:
    """Why a file that decodes is still not of the server-safe kind (issue 13's definition)."""
    fmt, why = facts["format"], []
    if fmt == "jpeg":
        j = facts["jpeg"]
        if j["sof"] not in ("SOF0", "SOF1", "SOF2"):
            why.append(f"JPEG {j['sof'] or 'without a frame header'} (not Huffman baseline/progressive)")
        if j["precision"] not in (8, None):
            why.append(f"{j['precision']}-bit JPEG")
    if fmt == "bigtiff":
        why.append("BigTIFF")
    if fmt == "png":
        if facts["png"]["bad_crc"]:
            why.append(f"PNG with a wrong CRC on {', '.join(facts['png']['bad_crc'])}")
        if (facts["png"]["apng_frames"] or 0) > 1:
            why.append("animated PNG")
    if fmt == "webp" and animated(facts):
        why.append("animated WebP")
    if fmt == "heif":
        boxes = facts.get("boxes", [])
        if "moov" in boxes:
            why.append("HEIF with an image sequence track")
        images = [j.get("images") for j in facts["judges"] if j["decoder"] == "libheif"]
        if images and images[0] and images[0] > 1:
            why.append(f"HEIF with {images[0]} top-level images")
    if fmt == "pdf" and encrypted(facts):
        why.append("encrypted PDF")
    return why


def judge_ok(rep: dict, inp: dict, out: dict | None) -> tuple[bool, str]:
    action = rep.get("action")
    if inp["format"] not in ACCEPTED | {"bigtiff"}:
        return False, f"{action} a {inp['format']} file (the API refuses the format)"
    if out is None:
        return False, "status ok but no output file"
    # An encrypted PDF that opens without a password may come out decrypted (the API refuses
    # every encrypted PDF); passed through as it is, it would be refused after the upload.
    if action == "passthrough":
        if out["sha256"] != inp["sha256"]:
            return False, "passthrough changed the bytes"
        bad = failing(inp)
        if bad:
            who = ", ".join(j["decoder"] for j in bad)
            return False, f"passed through, but {who} cannot decode it: {names(bad)}"
        unsafe = unsafe_reasons(inp)
        if unsafe:
            return False, f"passed through, but not server-safe: {'; '.join(unsafe)}"
        return True, ""
    if out["format"] not in ACCEPTED:
        return False, f"{action} into {out['format']}, not an accepted format"
    bad = failing(out)
    if bad:
        who = ", ".join(j["decoder"] for j in bad)
        return False, f"{action} output, but {who} cannot decode it: {names(bad)}"
    unsafe = unsafe_reasons(out)
    if unsafe:
        return False, f"{action} output not server-safe: {'; '.join(unsafe)}"
    n_in, n_out = pages_of(inp), pages_of(out)
    if n_in and n_out and n_in != n_out:
        return False, f"{action}: {n_in} pages in, {n_out} out"
    if out["format"] != "pdf":
        pixels = largest_pixels(out)
        pages = pages_of(out) or 1
        if pixels / pages > MAX_MP * 1e6 * 1.01 and action == "downscaled":
            return False, f"downscaled output still {pixels / pages / 1e6:.1f} MP per page"
    return True, ""


def judge_refusal(kind: str, inp: dict) -> tuple[bool, str]:
    fmt = inp["format"]
    bad = failing(inp)
    judges = inp["judges"]
    if kind == "empty_file":
        return inp["bytes"] == 0, "" if inp["bytes"] == 0 else "empty_file for a non-empty file"
    if kind == "unsupported_format":
        if fmt in ACCEPTED:
            return False, f"unsupported_format for a {fmt} file" + ("" if bad else " that the judges decode")
        return True, ""
    if kind == "animated_image":
        if animated(inp):
            if fmt == "heif" and "meta" in inp.get("boxes", []):
                return False, "animated_image for a HEIF that also has a still primary image (should convert it)"
            return True, ""
        return False, f"animated_image for a still {fmt}"
    if kind == "encrypted_pdf":
        return (True, "") if fmt == "pdf" and encrypted(inp) else (False, "encrypted_pdf without an encryption dictionary")
    if fmt == "pdf" and encrypted(inp):
        return False, f"{kind} for a PDF with an encryption dictionary (should be encrypted_pdf)"
    if kind == "corrupt":
        # Damaged means the decoders fail too: at least as many give up as read it cleanly
        # (a file most of them read without a warning is a variant to convert, or fine).
        clean = [j for j in judges if verdict(j) == "ok"]
        if bad and len(bad) >= len(clean):
            return True, ""
        if bad:
            return False, f"corrupt, but {names(clean)} read it cleanly ({names(bad)} fail)"
        if fmt not in ACCEPTED and fmt != "bigtiff":
            return False, f"corrupt for a {fmt} file the judges decode (should be unsupported_format)"
        return False, f"corrupt, but every judge decodes it ({', '.join(j['decoder'] + ' ' + verdict(j) for j in judges)})"
    if kind == "undecodable":
        if fmt not in ACCEPTED and fmt != "bigtiff":
            return False, f"undecodable for a {fmt} file (should be unsupported_format)"
        if judges and all(verdict(j) == "ok" for j in judges) and not unsafe_reasons(inp):
            return False, "undecodable, yet every judge decodes it cleanly"
        return True, ""
    if kind == "too_large":
        if fmt == "pdf" or inp["bytes"] > MAX_BYTES or largest_pixels(inp) > MAX_INPUT_MP * 1e6:
            return True, ""
        px = largest_pixels(inp)
        return False, f"too_large for {px / 1e6:.1f} MP" if px else "too_large, and no judge reads the size"
    if kind == "resource_limit":
        return False, "resource_limit (our own limit hit on this file)"
    return False, f"refused as {kind}"


def outcome_of(rep: dict | None, crash: str | None) -> str:
    if crash:
        return crash.split(":")[0]
    if rep.get("status") == "ok":
        return rep.get("action", "ok")
    return (rep.get("error") or {}).get("kind", rep.get("status", "?"))


# ---------------------------------------------------------------- one file


def prepare_one(binary: Path, path: Path, out_dir: Path, timeout: float, memory: int) -> tuple[dict | None, str | None, float]:
    env = dict(os.environ, RAYON_NUM_THREADS="2", RUST_BACKTRACE="0")
    code, out, err, secs = limited([str(binary), "prepare", "--json", str(path), "-o", str(out_dir)],
                                   timeout, memory, env=env)
    if code is None:
        return None, f"timeout: no answer in {timeout:.0f} s", secs
    if "panicked at" in err:
        line = next(ln for ln in err.splitlines() if "panicked at" in ln)
        return None, f"panic: {line.strip()[:200]}", secs
    if code < 0 or code > 2:
        tail = err.strip().splitlines()[-1:] or [""]
        return None, f"crash: exit {code} {tail[0][:200]}", secs
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        return None, f"crash: no JSON line (exit {code}) {err.strip()[-200:]}", secs
    return json.loads(lines[-1]), None, secs


def evaluate(i: int, row: dict, args, probes: ProbeCache, work: Path) -> dict:
    path = args.files / row["path"]
    out_dir = work / f"{i:05d}"
    rep, crash, secs = prepare_one(args.binary, path, out_dir, args.timeout, args.memory)
    inp = probes.get(path)
    result = {"path": row["path"], "project": row["project"], "format": inp["format"],
              "seconds": round(secs, 2), "report": rep}
    if crash:
        ok, reason = False, crash
    elif rep.get("status") == "ok":
        output = Path(rep["output"]) if rep.get("output") else None
        out = probes.get(output) if output and output.exists() else None
        ok, reason = judge_ok(rep, inp, out)
        result["output_format"] = out["format"] if out else None
    else:
        kind = (rep.get("error") or {}).get("kind", "?")
        ok, reason = judge_refusal(kind, inp)
    result.update(outcome=outcome_of(rep, crash), ok=ok, reason=reason)
    result["judges"] = {j["decoder"]: verdict(j) for j in inp["judges"]}
    if rep and rep.get("reason"):
        result["tool_reason"] = rep["reason"]
    if not args.keep:
        shutil.rmtree(out_dir, ignore_errors=True)
    return result


# ---------------------------------------------------------------- the report


def cause_of(result: dict) -> str:
    """The input format and the reason without its file-specific details, to group failures."""
    head = re.split(r":| \(", result["reason"])[0]
    head = re.sub(r"\d+(\.\d+)?", "N", head)
    return f"{result['format']}: {head}"


def judge_versions() -> str:
    """The judges' versions, as installed (Debian packages, and the venv's PyPI ones)."""
    debs = ["python3-pil", "libvips42", "libtiff6", "libheif1", "qpdf", "libpoppler126"]
    res = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", *debs],
                         capture_output=True, text=True)
    found = [ln for ln in res.stdout.splitlines() if ln.strip()]
    return "; ".join(found + [f"PyPI {p}" for p in VENV_PACKAGES])


def render(results: list[dict], binary: Path, seconds: float) -> str:
    outcomes = ["passthrough", "downscaled", "converted", "repaired", "unsupported_format",
                "animated_image", "encrypted_pdf", "corrupt", "undecodable", "too_large", "empty_file"]
    seen = Counter(r["outcome"] for r in results)
    outcomes = [o for o in outcomes if seen[o]] + sorted(o for o in seen if o not in outcomes)
    formats = sorted({r["format"] for r in results}, key=lambda f: (f not in ACCEPTED, f))
    table = defaultdict(Counter)
    failed = Counter()
    for r in results:
        table[r["format"]][r["outcome"]] += 1
        failed[r["format"]] += 0 if r["ok"] else 1
    total_fail = sum(failed.values())
    lines = [
        "# Corpus run",
        "",
        f"Binary: `{binary}`; {len(results)} files from {len({r['project'] for r in results})} projects; "
        f"**{len(results) - total_fail} as they should be, {total_fail} failures** "
        f"({100 * (len(results) - total_fail) / max(len(results), 1):.1f} %); run took {seconds / 60:.1f} min.",
        "",
        "Format is what the bytes are (not the file name). Judges: Pillow (Debian python3-pil; "
        "PyPI Pillow + pillow-heif for HEIF), libvips `vips avg` every page, libtiff `tiffinfo -D`, "
        "libheif `heif-convert`, qpdf `--check` and poppler for PDF.",
        f"Versions: {judge_versions()}.",
        "",
        "| format | " + " | ".join(outcomes) + " | total | failures |",
        "|---" * (len(outcomes) + 3) + "|",
    ]
    for f in formats:
        cells = [str(table[f][o] or "") for o in outcomes]
        lines.append(f"| {f} | " + " | ".join(cells) + f" | {sum(table[f].values())} | {failed[f] or ''} |")
    cells = [str(seen[o]) for o in outcomes]
    lines.append("| **all** | " + " | ".join(cells) + f" | {len(results)} | {total_fail} |")
    lines += ["", "## Failures by cause", ""]
    groups = defaultdict(list)
    for r in results:
        if not r["ok"]:
            groups[cause_of(r)].append(r)
    for cause, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"### {cause} ({len(rs)})")
        lines.append("")
        for r in sorted(rs, key=lambda r: r["path"]):
            extra = f" — tool: {r['tool_reason']}" if r.get("tool_reason") else ""
            msg = ((r.get("report") or {}).get("error") or {}).get("message", "")
            msg = f" — message: {msg[:160]}" if msg else ""
            lines.append(f"- `{r['path']}` ({r['format']}, {r['outcome']}): {r['reason']}{msg}{extra}")
        lines.append("")
    slow = sorted(results, key=lambda r: -r["seconds"])[:10]
    lines += ["## Slowest files", ""]
    lines += [f"- `{r['path']}`: {r['seconds']} s ({r['outcome']})" for r in slow]
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", type=Path, help="the mindee-prep binary to judge")
    ap.add_argument("--report", type=Path, help="markdown report (default CACHE/report.md)")
    ap.add_argument("--jobs", type=int, default=2, help="files judged at once (default 2)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per file for prepare (default 300)")
    ap.add_argument("--memory", type=int, default=8 << 30, help="address-space cap for prepare, bytes (default 8 GiB)")
    ap.add_argument("--only", help="glob on corpus paths, to judge a subset")
    ap.add_argument("--keep", action="store_true", help="keep the outputs (CACHE/outputs)")
    args = ap.parse_args()

    cache = cache_dir()
    manifest = cache / "manifest.tsv"
    if not manifest.exists():
        sys.exit(f"{manifest} is missing: run scripts/corpus/fetch.py first")
    args.binary = args.binary.resolve()
    args.files = cache / "files"
    venv_py = ensure_tools(cache)
    rows = []
    for line in manifest.read_text().splitlines()[1:]:
        path, project, version, licence, sha, size = line.split("\t")
        if not args.only or fnmatch.fnmatch(path, args.only):
            rows.append({"path": path, "project": project})
    work = cache / "outputs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    probes = ProbeCache(cache / "probes", venv_py)

    started = time.monotonic()
    results: list[dict] = []
    lock = threading.Lock()
    with futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        jobs = [pool.submit(evaluate, i, row, args, probes, work) for i, row in enumerate(rows)]
        for done, job in enumerate(futures.as_completed(jobs), 1):
            r = job.result()
            with lock:
                results.append(r)
            if not r["ok"]:
                print(f"FAIL {r['path']}: {r['reason']}", flush=True)
            if done % 100 == 0:
                print(f"... {done}/{len(rows)} files, {time.monotonic() - started:.0f} s", flush=True)
    results.sort(key=lambda r: r["path"])
    seconds = time.monotonic() - started
    text = render(results, args.binary, seconds)
    text = text.replace(f"{args.files}/", "").replace(f"{work}/", "OUT/")
    report = args.report or cache / "report.md"
    report.write_text(text)
    (cache / "results.json").write_text(json.dumps(results, indent=1))
    print(text.split("## Failures by cause")[0])
    print(f"report: {report}; every result: {cache / 'results.json'}")
    return 1 if any(not r["ok"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
