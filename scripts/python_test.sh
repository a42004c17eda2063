#!/usr/bin/env bash
# `make test`'s Python step (issue 12): builds the `mindee_prep` wheel with maturin (debug profile,
# reusing the cargo target dir), installs it with pytest and the pinned official SDK into a
# throw-away virtualenv, and runs python/tests/ against the CLI binary given as $1.
# Any failure, including the wheel build, exits non-zero. MINDEE_PY_VERSION pins the SDK.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bin="${1:?usage: scripts/python_test.sh PATH_TO_MINDEE_PREP}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
target="${CARGO_TARGET_DIR:-$root/target}"
[[ -x "$bin" ]] || { echo "python_test: $bin is not a built mindee-prep binary" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python_test: python3 not found" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS

python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check \
    'maturin==1.16.0' 'pytest>=7' "mindee==${MINDEE_PY_VERSION:-5.4.0}"
# Debug profile (opt-level 3 for the library, as a dependency): the same as cargo test's builds.
CARGO_TARGET_DIR="$target" "$tmp/venv/bin/maturin" build --quiet \
    --manifest-path "$root/python/Cargo.toml" --interpreter "$tmp/venv/bin/python" --out "$tmp/wheels"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "$tmp"/wheels/mindee_prep-*.whl
echo "python_test: wheel built and installed in $((SECONDS - started)) s"

# From the tests folder, so `import mindee_prep` is the installed wheel, not the source tree.
cd "$root/python/tests"
MINDEE_PREP_BIN="$bin" "$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider .
echo "python_test: done in $((SECONDS - started)) s"
