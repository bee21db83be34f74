#!/usr/bin/env bash
# Create .venv and install the project (CPU torch first). Idempotent: skips work already done.
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

spec="."
[ "$extra" = "dev" ] && spec=".[dev]"
stamp=".venv/.installed-$( (cat pyproject.toml; echo "$spec") | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi

echo "==> installing torch 2.13.0 (CPU build) first"
# A plain 'torch' requirement would pull a multi-GB CUDA build; the pinned CPU wheel comes first.
"$PY" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
echo "==> installing the project ($spec)"
"$PY" -m pip install --quiet --disable-pip-version-check -e "$spec"
touch "$stamp"
