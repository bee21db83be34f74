"""benchmarks/news_train.py: the reranker's news questions never overlap the news dev set it is measured on,
and each training group puts the sentence that holds the answer as written first."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import news_train


def write_set(root: Path, questions: list[dict], pages: dict[str, str]) -> Path:
    root.mkdir()
    with (root / "questions.jsonl").open("w", encoding="utf-8") as handle:
        for q in questions:
            handle.write(json.dumps({"question_date": "2024/05/03", **q}) + "\n")
    with (root / "articles.jsonl").open("w", encoding="utf-8") as handle:
        for aid, text in pages.items():
            row = {"id": aid, "title": f"Page {aid}", "text": text, "url": f"https://news.example/{aid}"}
            handle.write(json.dumps(row | {"published": "2024-05-01", "source": "news.example"}) + "\n")
    return root


PAGE = (
    "The city council met on Tuesday to discuss the harbour bridge.\n"
    "Council members said the harbour bridge repairs were long overdue.\n"
    "The repairs to the harbour bridge will cost 40 million dollars, officials said.\n"
    "Officials want to save money on the harbour bridge next year.\n"
    "Residents asked about parking near the bridge.\n"
    "The mayor thanked the engineers.\n"
    "Traffic will use the old ferry route during the works.\n"
    "The council meets again in June.\n"
    "The SAVE plan pays for the works.\n"
    "A local bakery sold bridge-shaped cakes.\n"
)


@pytest.fixture
def sets(tmp_path: Path) -> tuple[Path, Path]:
    dev = write_set(
        tmp_path / "dev",
        [{"id": "d1", "question": "Who won the race?", "answers": ["Ada"], "article_ids": ["p-shared"]}],
        {"p-shared": "Ada won the race on Sunday."},
    )
    every = write_set(
        tmp_path / "all",
        [
            {"id": "d1", "question": "Who won the race?", "answers": ["Ada"], "article_ids": ["p-shared"]},
            {"id": "x1", "question": "WHO won the race? ", "answers": ["Ada"], "article_ids": ["p-own"]},
            {"id": "x2", "question": "Where did Ada run?", "answers": ["Paris"], "article_ids": ["p-own", "p-shared"]},
            {
                "id": "x3",
                "question": "How much will the harbour bridge repairs cost?",
                "answers": ["40 million dollars"],
                "article_ids": ["p-bridge"],
            },
            {
                "id": "x4",
                "question": "Which plan will save the council money on the bridge?",
                "answers": ["SAVE"],
                "article_ids": ["p-bridge"],
            },
        ],
        {"p-shared": "Ada won the race on Sunday.", "p-own": "Ada ran in Paris in May.", "p-bridge": PAGE},
    )
    return every, dev


def test_questions_sampled_worded_alike_or_sharing_a_page_with_the_dev_set_are_left_out(sets) -> None:
    every, dev = sets
    kept = [q["id"] for q in news_train.clean_questions(every, dev)]
    assert kept == ["x3", "x4"]


def test_a_group_leads_with_the_answer_sentence_against_sentences_without_it(sets) -> None:
    every, dev = sets
    groups = {g["question"]: g["texts"] for g in news_train.training_groups(every, dev, hard=4, easy=2)}
    assert len(groups) == 2
    # "save money" shares more of the question, but the answer is written "SAVE": the sentence that has it leads
    assert groups["Which plan will save the council money on the bridge?"][0] == "The SAVE plan pays for the works."
    texts = groups["How much will the harbour bridge repairs cost?"]
    assert texts[0] == "The repairs to the harbour bridge will cost 40 million dollars, officials said."
    assert len(texts) == 7 and not any("40 million" in t for t in texts[1:])
    assert texts[1:3] == sorted(texts[1:3], key=lambda t: -len({"harbour", "bridge", "repairs"} & set(t.split())))


def test_the_pointer_reads_the_answer_sentence_as_a_span_and_close_sentences_as_no_answer(sets) -> None:
    """train_answer_pointer.py's news examples: the best answer sentence with the answer's characters, the two
    closest sentences without it labelled "no answer", which `encode` points at [CLS] (token 0)."""
    import train_answer_pointer
    from transformers import AutoTokenizer

    from indexing.settings import bundled_model_path

    every, dev = sets
    made = [e for e in train_answer_pointer.news_examples(every, dev) if e["question"].startswith("How much")]
    span = [e for e in made if e["answer"] is not None]
    assert len(span) == 1 and span[0]["text"][slice(*span[0]["answer"])] == "40 million dollars"
    none = [e for e in made if e["answer"] is None]
    assert len(none) == 2 and not any("40 million" in e["text"] for e in none)
    inputs, starts, ends = train_answer_pointer.encode(AutoTokenizer.from_pretrained(bundled_model_path()), made)
    assert len(starts) == 3 and sorted(starts.tolist())[:2] == [0, 0] and sorted(ends.tolist())[:2] == [0, 0]
    row = next(i for i, e in enumerate(made) if e["answer"] is not None)
    tokens = inputs["input_ids"][row][starts[row] : ends[row] + 1]
    assert AutoTokenizer.from_pretrained(bundled_model_path()).decode(tokens) == "40 million dollars"
