#!/usr/bin/env bash
# `make compare` (issue 6): builds the release binary, installs the peers when missing
# (Debian: libvips-tools, imagemagick, time, libtiff-tools; PyPI, in a virtualenv under target/:
# Pillow, pillow-heif, numpy, pikepdf, and the official SDK `mindee` for its PDF `compress`), generates the inputs into target/compare-inputs (cached),
# then times every job and writes BENCHMARKS.md; then the in-process row (python/, inprocess.py). Extra arguments go to compare.py
# (e.g. `--only jpeg24,heic12`). COMPARE_RUNS / COMPARE_BATCH_RUNS / COMPARE_WAIT tune it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=$TARGET/compare-venv
INPUTS=$TARGET/compare-inputs
WORK=$TARGET/compare-work

scripts/install-deps.sh
need=()
for pair in vipsthumbnail:libvips-tools convert-im6.q16:imagemagick tiffcp:libtiff-tools python3:python3 ; do
  cmd=${pair%%:*} pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ -x /usr/bin/time ] || need+=(time)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "compare: installing ${need[*]}" >&2
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import PIL, pillow_heif, numpy, pikepdf, mindee' 2>/dev/null; then
  echo "compare: creating $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    'pillow==13.0.0' 'pillow-heif==1.8.1' 'numpy>=2' 'pikepdf>=10' 'mindee==5.4.0'
fi

cargo build --release --bin mindee-prep
"$VENV/bin/python" scripts/compare/make_inputs.py "$INPUTS"
"$VENV/bin/python" scripts/compare/compare.py --bin "$TARGET/release/mindee-prep" \
  --inputs "$INPUTS" --work "$WORK" --out "$ROOT/BENCHMARKS.md" "$@"

# The in-process row (issue 12): a release wheel of python/ in the same virtualenv, then
# mindee_prep.prepare against Pillow and the SDK's compress, and the overhead over the CLI.
"$VENV/bin/pip" install -q --disable-pip-version-check 'maturin==1.16.0'
rm -rf "$TARGET/compare-wheels"
CARGO_TARGET_DIR="$TARGET" "$VENV/bin/maturin" build --release --quiet \
  --manifest-path python/Cargo.toml --interpreter "$VENV/bin/python" --out "$TARGET/compare-wheels"
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$TARGET"/compare-wheels/mindee_prep-*.whl
"$VENV/bin/python" scripts/compare/inprocess.py --bin "$TARGET/release/mindee-prep" --out "$ROOT/BENCHMARKS.md"
