"""benchmarks/paired.py: the ways of a paired benchmark take turns on one pipeline, and a setting one way changes
never leaks into a way that does not name it (round 21 found a head-width way leaking into the baseline)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

from fixtures.support import shared_index

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from paired import selector_ways

from bot.pipeline import QuestionAnswerer


def test_a_way_runs_with_only_its_own_settings(tmp_path_factory, embedder) -> None:
    settings, store = shared_index(tmp_path_factory, embedder)
    qa = QuestionAnswerer(settings, store, embedder)
    selector = qa.pipeline.get_component("selector")
    seen: list[tuple[int, int]] = []
    run_raw = qa.run_raw

    def recording(text: str, as_of: str | None = None):
        seen.append((selector.point_top_k, selector.later_point_k))
        return run_raw(text, as_of=as_of)

    qa.run_raw = recording
    ways = {"off": {"later_point_k": 0}, "wide": {"point_top_k": 10, "later_point_k": 10}}
    asked = [{"question": q, "answers": ["million"]} for q in ("How much did the repairs cost?", "Who led the study?")]
    try:
        report = selector_ways(SimpleNamespace(qa=qa), asked, ways, repeats=2)
    finally:
        qa.close()
    # the turns alternate: off, wide / wide, off / wide, off / off, wide
    assert seen == [(4, 0), (10, 10), (10, 10), (4, 0), (10, 10), (4, 0), (4, 0), (10, 10)]
    assert report["questions"] == 2 and set(report) >= {"off", "wide"}
