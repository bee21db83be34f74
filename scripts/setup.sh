#!/usr/bin/env bash
# Create .venv and install the project from the hash-checked lock (CPU torch first). Idempotent: skips
# work already done.
# Usage: scripts/setup.sh [dev]
set -euo pipefail
cd "$(dirname "$0")/.."

extra="${1:-}"
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
PY=.venv/bin/python

# The locks pin every package by version and sha256 (refresh them with scripts/lock.sh, `make lock`).
lock=requirements.lock
[ "$extra" = "dev" ] && lock=requirements-dev.lock
stamp=".venv/.installed-$( (cat "$lock" pyproject.toml; echo "$extra") | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
pip=("$PY" -m pip --disable-pip-version-check)

echo "==> installing torch 2.13.0 (CPU build) first"
# The lock pins torch==2.13.0+cpu by hash, so pip can only take that CPU wheel: from its find-links
# (this machine's disk; elsewhere PIP_FIND_LINKS=https://download.pytorch.org/whl/cpu), never a CUDA build.
torch_lock="$(mktemp)"
trap 'rm -f "$torch_lock"' EXIT
awk '/^torch==/ {on = 1} on {print; if ($0 !~ /\\$/) exit}' "$lock" > "$torch_lock"
"${pip[@]}" install --quiet --require-hashes --no-deps -r "$torch_lock"
echo "==> installing the locked dependencies ($lock)"
"${pip[@]}" install --quiet --require-hashes --no-deps -r "$lock"
echo "==> installing the project"
"${pip[@]}" install --quiet --no-deps --no-build-isolation -e .
"${pip[@]}" check
touch "$stamp"
