"""A question's reads in parts on the spare core (bot/cores.py, `READ_PARTS`): the parts run beside the question's
thread only while no other question or reindex holds the core, and an answer never depends on which way they ran."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from fixtures.support import shared_index

from bot.cores import CORES, CoreBudget, in_parts, machine_cores, parts_of, quota_cores
from bot.pipeline import QuestionAnswerer
from bot.pointer import BUNDLED, load_pointer

QUESTION = "How much did the repairs to the harbour bridge cost?"
QUOTES = [
    "The harbour bridge reopened in March 2021 after long repairs to its deck.",
    "The repairs cost 40 million dollars, the city said.",
    "Repairs to harbour bridges are costly.",
    "The ferry service was withdrawn when the bridge reopened, and its crews moved to the northern route.",
    "Cyclists welcomed the wider lanes.",
]


def test_parts_are_of_similar_length_and_cover_every_text() -> None:
    texts = ["a" * n for n in (50, 5, 40, 10, 30, 20, 60)]
    parts = parts_of(texts, 2)
    assert sorted(i for p in parts for i in p) == list(range(len(texts)))
    assert [len(p) for p in parts] == [4, 3] or [len(p) for p in parts] == [3, 4]
    assert max(len(texts[i]) for i in parts[0]) <= min(len(texts[i]) for i in parts[1])  # shortest first
    assert parts_of(texts[:1], 2) == [[0]] and parts_of([], 2) == []


def _recording():
    """A read that records which thread read which batch."""
    seen: list[tuple[str, list[str]]] = []

    def read(batch: list[str]) -> list[str]:
        seen.append((threading.current_thread().name, list(batch)))
        return [t.upper() for t in batch]

    return read, seen


def test_with_a_spare_core_the_second_part_runs_beside_the_question() -> None:
    """Both parts must meet at a barrier, which they can only do when they run at the same time."""
    budget = CoreBudget(2)
    meet = threading.Barrier(2, timeout=10)
    threads: list[str] = []

    def read(batch: list[str]) -> list[str]:
        threads.append(threading.current_thread().name)
        meet.wait()
        return [t.upper() for t in batch]

    with budget.busy():  # the asking question holds one core
        out = in_parts(read, QUOTES, 2, budget=budget)
        assert budget.taken == 1  # the spare core was given back
    assert out == [q.upper() for q in QUOTES] and len(set(threads)) == 2


def test_without_a_spare_core_the_parts_run_on_the_question_thread() -> None:
    """Another question (or a reindex) holds the second core: no helper thread is used, and the batches are the
    same as with one, so the reads are too."""
    budget = CoreBudget(2)
    idle_read, idle_seen = _recording()
    with budget.busy():
        idle = in_parts(idle_read, QUOTES, 2, budget=budget)
    busy_read, busy_seen = _recording()
    with budget.busy(), budget.busy():  # two questions at once
        busy = in_parts(busy_read, QUOTES, 2, budget=budget)
    assert busy == idle
    assert {name for name, _ in busy_seen} == {threading.current_thread().name}
    assert sorted(b for _, b in busy_seen) == sorted(b for _, b in idle_seen)


def test_the_first_texts_are_read_apart_from_the_rest() -> None:
    read, seen = _recording()
    in_parts(read, QUOTES, 2, first=2, budget=CoreBudget(1))
    head = set(QUOTES[:2])
    assert all(set(batch) <= head or not (set(batch) & head) for _, batch in seen)
    assert sorted(b for _, batch in seen if set(batch) <= head for b in batch) == sorted(QUOTES[:2])
    read1, seen1 = _recording()
    assert in_parts(read1, QUOTES, 1) == [q.upper() for q in QUOTES] and len(seen1) == 1  # parts 1: one batch


def test_a_failing_part_gives_its_core_back() -> None:
    budget = CoreBudget(2)

    def read(batch: list[str]) -> list[str]:
        if QUOTES[3] in batch:
            raise RuntimeError("out of memory")
        time.sleep(0.05)
        return batch

    with pytest.raises(RuntimeError, match="out of memory"):
        in_parts(read, QUOTES, 2, budget=budget)
    assert budget.taken == 0


def test_the_pointer_reads_the_same_on_a_spare_core_or_without_one() -> None:
    """With int8 weights a read depends a little on its batch; the batches depend only on the texts, so a busy bot
    gives the same span masses, to the bit, as an idle one."""
    pointer = load_pointer(BUNDLED, precision="int8")
    one = [d.log_mass for d in pointer.distributions(QUESTION, QUOTES, 2)]
    cores_before = CORES.cores
    try:
        CORES.cores = 1
        alone = [d.log_mass for d in pointer.distributions(QUESTION, QUOTES, 2)]
    finally:
        CORES.cores = cores_before
    assert one == alone
    best = int(np.argmax(one))
    assert "40 million" in QUOTES[best]


def test_an_answer_is_the_same_when_the_bot_is_busy(tmp_path_factory, embedder) -> None:
    """End to end: every quote and the lead are the same whether the question's reads had the spare core or not,
    with the later reads on (the most reads a question makes)."""
    settings, store = shared_index(tmp_path_factory, embedder)
    qa = QuestionAnswerer(settings.model_copy(update={"later_point_k": 10}), store, embedder)
    cores_before = CORES.cores
    try:
        answers = {}
        for cores in (2, 1):
            CORES.cores = cores
            answer = qa.ask("How much did the bridge repairs cost?")
            answers[cores] = ([q.text for q in answer.quotes], answer.answer, answer.abstained)
        assert answers[1] == answers[2] and "million" in answers[2][0][0]
    finally:
        CORES.cores = cores_before
        qa.close()


def test_a_question_holds_a_core_while_it_runs(tmp_path_factory, embedder) -> None:
    """The pipeline counts the question it runs, so a second question meanwhile finds no spare core."""
    settings, store = shared_index(tmp_path_factory, embedder)
    qa = QuestionAnswerer(settings, store, embedder)
    selector = qa.pipeline.get_component("selector")
    taken: list[int] = []
    point = selector.point

    def spy(*args, **kwargs):
        taken.append(CORES.taken)
        return point(*args, **kwargs)

    selector.point = spy
    try:
        qa.ask("How much did the bridge repairs cost?")
    finally:
        qa.close()
    assert taken and all(n >= 1 for n in taken) and CORES.taken == 0


def test_a_part_that_reads_in_parts_itself_does_not_wait_for_itself() -> None:
    """A part on the helper thread that splits its own read is granted no core: with one, it would queue its
    parts behind itself on the one helper thread and wait for ever (here nothing holds a core for the caller, so
    the budget alone would grant it one)."""
    budget = CoreBudget(2)
    inner_threads: list[str] = []

    def inner(batch: list[str]) -> list[str]:
        inner_threads.append(threading.current_thread().name)
        return batch

    def outer(batch: list[str]) -> list[str]:
        return in_parts(inner, [*batch, "x", "yy"], 2, budget=budget)[: len(batch)]

    out: list[list[str]] = []
    caller = threading.Thread(target=lambda: out.append(in_parts(outer, QUOTES, 2, budget=budget)), daemon=True)
    caller.start()
    caller.join(timeout=10)
    assert not caller.is_alive(), "the nested read waited for itself"
    assert out == [QUOTES] and len(set(inner_threads)) == 2 and budget.taken == 0


@pytest.mark.parametrize(
    ("cpu_max", "cores"), [("max 100000\n", None), ("100000 100000\n", 1), ("150000 100000", 1), ("400000 100000", 4)]
)
def test_a_container_quota_caps_the_cores(tmp_path, cpu_max: str, cores: int | None) -> None:
    """Under a CPU quota of one core, parts side by side would only be throttled: the budget counts whole cores."""
    path = tmp_path / "cpu.max"
    path.write_text(cpu_max, encoding="ascii")
    assert quota_cores(path) == cores
    assert machine_cores(path) == min(len(os.sched_getaffinity(0)), cores or 64)
    assert quota_cores(tmp_path / "missing") is None and machine_cores(tmp_path / "missing") >= 1
