#!/usr/bin/env bash
# Runs the official Mindee Python SDK (from PyPI, in a throw-away virtualenv) against
# `mindee-prep mock-server`. Usage: scripts/python_sdk_check.sh [PATH_TO_MINDEE_PREP]
# MINDEE_PY_VERSION pins the SDK version (default: latest). Exit status non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bin="${1:-}"
if [[ -z "$bin" ]]; then
    for candidate in "$root/target/debug/mindee-prep" "$root/target/release/mindee-prep"; do
        if [[ -x "$candidate" ]]; then bin="$candidate"; break; fi
    done
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
    echo "python_sdk_check: no mindee-prep binary (build it, or pass its path)" >&2
    exit 1
fi
command -v python3 >/dev/null || { echo "python_sdk_check: python3 not found" >&2; exit 1; }

tmp="$(mktemp -d)"
mock_pid=""
cleanup() {
    if [[ -n "$mock_pid" ]]; then kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "mindee${MINDEE_PY_VERSION:+==$MINDEE_PY_VERSION}"
sdk_version="$("$tmp/venv/bin/pip" show mindee | sed -n 's/^Version: //p')"
echo "python_sdk_check: mindee $sdk_version (PyPI)"

key="md_sdk_check_$RANDOM$RANDOM"
fail_model="deadbeef-0000-4000-8000-00000000fa11"
"$bin" mock-server --port 0 --api-key "$key" --processing-polls 2 --fail-model-id "$fail_model" \
    >"$tmp/mock.out" 2>"$tmp/mock.err" &
mock_pid=$!
url=""
for _ in $(seq 1 100); do
    url="$(sed -n 's/^listening on //p' "$tmp/mock.out")"
    [[ -n "$url" ]] && break
    kill -0 "$mock_pid" 2>/dev/null || { cat "$tmp/mock.err" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$url" ]] || { echo "python_sdk_check: the simulator did not start" >&2; exit 1; }

MINDEE_V2_BASE_URL="$url" MINDEE_V2_API_KEY="$key" FAIL_MODEL_ID="$fail_model" \
    "$tmp/venv/bin/python" "$here/python_sdk_check.py"
