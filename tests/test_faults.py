"""The fault suite, small (benchmarks/fault_suite.py runs it at full size; figures in docs/faults.md).

Concurrency: questions from 4 threads while the bot's /reindex job indexes 8 articles; the store then lists
exactly what a serial index of the same folder lists, every quote is verbatim, nothing raised.
Crash: the indexer (`python -m indexing`) killed with SIGKILL at its first store write in an add, an update and
a prune run; the next run (the same job, in this process to spare a model load) repairs it.
"""

from __future__ import annotations

import pytest

from tests.faults import CrashLab, format_crash_table, run_concurrency

pytestmark = pytest.mark.slow


async def test_questions_during_a_reindex_get_verbatim_quotes_and_the_index_equals_a_serial_one(tmp_path, embedder):
    report = await run_concurrency(tmp_path, embedder, articles=8, n_questions=40, threads=4)
    assert report.job_result.startswith("✅"), report.job_result
    assert "8 added" in report.job_result
    assert report.exceptions == []
    assert report.answered == len(report.asked) >= 40
    assert report.with_quotes > 0 and report.quoting_new > 0
    assert report.not_verbatim == [], report.format()
    assert report.diff == [], report.format()
    assert report.consistency.ok, report.format()


@pytest.fixture(scope="module")
def crash_lab(tmp_path_factory, embedder):
    lab = CrashLab(tmp_path_factory.mktemp("crash"), embedder, articles=6)
    lab.prepare()
    return lab


@pytest.mark.parametrize("phase", ["add", "update", "prune"])
def test_a_kill_during_a_run_is_repaired_by_the_next_run(crash_lab, phase):
    """Killed as soon as it first wrote to the store (records in progress, chunks half written)."""
    row = crash_lab.crash(phase, 0.0, after_write=True, repair_inline=True)
    table = format_crash_table([row])
    assert row.killed and row.wrote, f"the kill came too late to test anything\n{table}"
    assert row.repaired, f"{table}\n{row.diff}"
