#!/usr/bin/env bash
# Refresh the locks from pyproject.toml: requirements.lock (what the bot and indexer run on) and
# requirements-dev.lock (the same versions plus the dev extra: tests and lint). Exact versions with
# the sha256 of every file, installed by scripts/setup.sh with --require-hashes.
# Usage: scripts/lock.sh   (or `make lock`) after changing dependencies in pyproject.toml; commit both files.
# Needs Python 3.11, the package index, and the CPU torch wheel where pip finds it (the machine's
# find-links, or PIP_FIND_LINKS=https://download.pytorch.org/whl/cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
"$PYTHON" -m venv "$tools/venv"
"$tools/venv/bin/pip" install --quiet --disable-pip-version-check "pip-tools==7.6.2"
compile=("$tools/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras
  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host)
echo "==> requirements.lock"
"${compile[@]}" --constraint scripts/lock-constraints.txt --output-file requirements.lock pyproject.toml
echo "==> requirements-dev.lock"
"${compile[@]}" --constraint scripts/lock-constraints.txt --extra dev --output-file requirements-dev.lock \
  pyproject.toml requirements.lock
