#!/usr/bin/env bash
# `make legibility` (issue 11): installs tesseract, libvips and a virtualenv with Pillow and the
# official SDK when missing, generates the documents (cached in target/legibility-inputs),
# runs every tool on them and on the bundled document fixtures, OCRs every output, and writes
# the table into BENCHMARKS.md. LEGIBILITY_BIN picks the build (default: release, built here);
# LEGIBILITY_BASELINE adds another build as a column (e.g. main's binary, for before/after).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=$TARGET/legibility-venv
INPUTS=$TARGET/legibility-inputs
WORK=$TARGET/legibility-work

need=()
for pair in tesseract:tesseract-ocr vipsthumbnail:libvips-tools python3:python3; do
  cmd=${pair%%:*} pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ -e /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ] || [ -e /usr/share/tesseract-ocr/4.00/tessdata/eng.traineddata ] || need+=(tesseract-ocr-eng)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "legibility: installing ${need[*]}" >&2
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import PIL, mindee' 2>/dev/null; then
  echo "legibility: creating $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'mindee==5.4.0' \
    || "$VENV/bin/pip" install -q --disable-pip-version-check 'pillow'
fi

BIN=${LEGIBILITY_BIN:-}
if [ -z "$BIN" ]; then
  cargo build --release --bin mindee-prep
  BIN=$TARGET/release/mindee-prep
fi
baseline=()
[ -n "${LEGIBILITY_BASELINE:-}" ] && baseline=(--baseline "$LEGIBILITY_BASELINE")
"$VENV/bin/python" scripts/legibility/make_pages.py "$INPUTS"
fixtures=()
for f in tiff/g4_fillorder2.tif tiff/g4_minisblack.tif tiff/g3_fax.tif png/palette_6mp.png \
         webp/lossless_6mp.webp jpeg/gray_8mp.jpg; do
  fixtures+=(--fixture "fixtures/$f")
done
"$VENV/bin/python" scripts/legibility/run.py --bin "$BIN" "${baseline[@]}" --inputs "$INPUTS" \
  "${fixtures[@]}" --work "$WORK" --out "$ROOT/BENCHMARKS.md" --json "$TARGET/legibility.json" "$@"
