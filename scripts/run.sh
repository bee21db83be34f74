#!/usr/bin/env bash
# The README's first command: set up, index data/articles into the embedded store, start the bot.
# Without TELEGRAM_BOT_TOKEN it opens the terminal chat on the same pipeline instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" TOKENIZERS_PARALLELISM=false

# The index step may report a broken article (exit 1) and still have indexed the rest: go on.
status=0
.venv/bin/python -m indexing || status=$?
if [ "$status" -ge 2 ]; then exit "$status"; fi

token="${TELEGRAM_BOT_TOKEN:-}"
if [ -z "$token" ] && [ -f .env ]; then
  token="$(sed -n 's/^TELEGRAM_BOT_TOKEN=//p' .env | tail -n 1 | tr -d '"'"'"' ')"
fi
if [ -n "$token" ]; then
  exec .venv/bin/python -m bot run
fi
exec .venv/bin/python -m bot chat
