"""Haystack components of the answer pipeline, one small module each (see bot/pipeline.py)."""

import os

# Haystack sends anonymous usage telemetry unless told not to; this bot runs offline.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

import haystack.telemetry._telemetry as _telemetry

if os.environ["HAYSTACK_TELEMETRY_ENABLED"].lower() not in ("true", "1"):
    _telemetry.telemetry = None
