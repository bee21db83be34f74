"""`python -m bot ask|chat|run` (see bot/cli.py for the commands and exit codes)."""

from __future__ import annotations

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
