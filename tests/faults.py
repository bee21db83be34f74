"""The fault suite's machinery: tests/test_faults.py runs it small, benchmarks/fault_suite.py at full size.

- Concurrency: questions from several threads, through the pipeline the bot answers with, while the bot's own
  /reindex job (a Telegram command to the real application over the fake Bot API) indexes new articles.
  Afterwards the store's listing must equal a serial index of the same folder, every quote must be verbatim
  in its stored article, and no question may raise.
- Crash: `python -m indexing` killed with SIGKILL at a moment of an add, an update or a prune run; the next
  run must leave the listing a clean index of the same sources gives, and no chunk without its record.

Articles are synthetic (seeded), written like news items, with the splitter's usual traps (abbreviations,
decimals, quotations), so nothing here depends on eval data.
"""

from __future__ import annotations

import asyncio
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexing.listing import FIELDS

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "articles" / "centcom-chief-visits-pakistan.txt"
SAMPLE_ID = SAMPLE.stem  # the article the store holds before the job
ADMIN = 9001
AFTER_JOB = 3  # questions per asking thread after the job finished (they can quote the new articles)
# What --list shows that must match between two stores of the same sources (indexed_at is the clock).
COMPARED = tuple(f for f in FIELDS if f not in ("article_id", "indexed_at"))

# --------------------------------------------------------------------------- synthetic articles

TOWNS = (
    "Arlen Bay", "Bramford", "Corvale", "Dunmere", "Eskridge", "Fallowmere", "Glenholt", "Harrowgate",
    "Ivel Cross", "Juniper Falls", "Kestrel Point", "Lowenmoor", "Marrowby", "Northwick", "Oakhaven",
    "Port Elwyn", "Quarry Hill", "Redcastle", "Saltmarsh", "Thornbury", "Upton Vale", "Westerly",
)  # fmt: skip
FACILITIES = (
    "library", "tram line", "water plant", "concert hall", "ferry terminal", "hospital wing", "bus depot",
    "sports centre", "museum", "cycle bridge", "market hall", "fire station",
)  # fmt: skip
PEOPLE = (
    "Marta Quintela", "Daniel Okafor", "Ingrid Halvorsen", "Tomasz Wierzbicki", "Amara Nwosu", "Luis Ferreira",
    "Hana Sato", "Priya Raman", "Elias Brandt", "Colm Ryan", "Yara Haddad", "Nils Ekberg",
)  # fmt: skip
FIRMS = ("Halden Works", "Brightline Civil", "Norcastle Engineering", "Vantor Build", "Keel & Sons")
MONTHS = ("January", "March", "April", "June", "September", "October", "November")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
SENTENCES = (
    "The {town} council approved {amount} million euros for the new {facility} on {weekday}.",
    "Dr. {person} said the {facility} would open in {month} {year}, about {n} weeks later than planned.",
    "About {count:,} residents of {town} are expected to use the {facility} every week.",
    "The contract went to {firm} Inc., whose bid of {amount}.{n} million euros was the lowest of {n2}.",
    '"We expect {count:,} visitors in the first year," {person} told reporters in {town}.',
    "Work on the {facility} stopped for {n} days in {month} after flooding near the St. {town} canal.",
    'Councillor {person} called the cost of the {facility} "far too high" at a meeting on {weekday}.',
    "The old {facility} in {town} closed in {year0} after {n2} years of service.",
    "Shop owners near the site said the works had cut their sales by about {n} per cent.",
    "A second phase, costing {amount2} million euros, is planned for {year2}.",
    "Mr. {person} of {firm} said the steel frame was finished {n} days ahead of schedule.",
    "The regional transport authority will pay {n} per cent of the cost, the mayor said on {weekday}.",
)


def article_text(index: int, seed: int, version: int = 0) -> str:
    """A synthetic news article (8 to 30 sentences in paragraphs); `version` > 0 gives a changed text."""
    rng = random.Random(f"{seed}:{index}:{version}")
    town = TOWNS[index % len(TOWNS)]
    facility = FACILITIES[(index // len(TOWNS) + index) % len(FACILITIES)]
    sentences = [f"{town} approves a new {facility} (report {index}, revision {version})."]
    for _ in range(rng.randint(8, 30)):
        template = rng.choice(SENTENCES)
        sentences.append(
            template.format(
                town=town,
                facility=facility,
                person=rng.choice(PEOPLE),
                firm=rng.choice(FIRMS),
                month=rng.choice(MONTHS),
                weekday=rng.choice(WEEKDAYS),
                amount=rng.randint(3, 90),
                amount2=rng.randint(2, 40),
                n=rng.randint(2, 60),
                n2=rng.randint(3, 40),
                count=rng.randint(1_000, 90_000),
                year=rng.randint(2025, 2029),
                year0=rng.randint(1960, 2015),
                year2=rng.randint(2030, 2035),
            )
        )
    paragraphs, start = [], 0
    while start < len(sentences):
        size = rng.randint(2, 5)
        paragraphs.append(" ".join(sentences[start : start + size]))
        start += size
    return "\n\n".join(paragraphs) + "\n"


def article_name(index: int) -> str:
    return f"report-{index:03d}.txt"


def write_folder(folder: Path, texts: dict[str, str]) -> None:
    """Make `folder` hold exactly `texts` ({file name: text}); files that already hold their text are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.name not in texts:
            path.unlink()
    for name, text in texts.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def questions(count: int, articles: int, seed: int) -> list[str]:
    """Questions about the synthetic articles, with some the articles do not answer."""
    rng = random.Random(f"questions:{seed}")
    forms = (
        "How much did the {town} council approve for the {facility}?",
        "When will the {facility} in {town} open?",
        "Who won the contract for the {facility} in {town}?",
        "How many visitors does {town} expect at the {facility}?",
        "Why did work on the {facility} stop?",
        "What did councillors say about the cost of the {facility} in {town}?",
        "When did the old {facility} close?",
        "Who won the 1998 football World Cup?",
        "What is the boiling point of ethanol?",
        "Who did the Centcom chief meet in Rawalpindi?",  # the article the store holds from the start
        "When did a top US general last visit Pakistan?",
    )
    asked = []
    for _ in range(count):
        index = rng.randrange(articles)
        town = TOWNS[index % len(TOWNS)]
        facility = FACILITIES[(index // len(TOWNS) + index) % len(FACILITIES)]
        asked.append(rng.choice(forms).format(town=town, facility=facility))
    return asked


# --------------------------------------------------------------------------- settings and store checks


def fault_settings(root: Path, articles_dir: Path, **overrides: Any) -> Any:
    """Settings for an embedded Edge store under `root` (nothing from the environment's store settings)."""
    from indexing.settings import Settings

    values = {
        "qdrant_path": root / "qdrant",
        "qdrant_url": None,
        "qdrant_engine": "edge",
        "articles_dir": articles_dir,
        "data_dir": root / "data",
        "admin_user_ids": [ADMIN],
        "allowed_user_ids": [],
        "rate_limit_per_minute": 10_000,
        "telegram_webhook_url": None,
        "llm_base_url": None,
    }
    return Settings(_env_file=None, **(values | overrides))


def listing(settings: Any) -> list[dict]:
    """What `python -m indexing --list --json` prints for `settings`' store."""
    from indexing.listing import list_articles
    from indexing.store import Store

    with Store.open(settings) as store:
        return list_articles(store)


def listing_diff(got: Sequence[dict], expected: Sequence[dict]) -> list[str]:
    """Differences between two listings: articles only on one side, and every compared field that differs."""
    ours = {row["article_id"]: row for row in got}
    theirs = {row["article_id"]: row for row in expected}
    diff = [f"{article_id}: missing" for article_id in sorted(theirs.keys() - ours.keys())]
    diff += [f"{article_id}: not in the clean index" for article_id in sorted(ours.keys() - theirs.keys())]
    for article_id in sorted(ours.keys() & theirs.keys()):
        for name in COMPARED:
            if ours[article_id].get(name) != theirs[article_id].get(name):
                diff.append(f"{article_id}: {name} {ours[article_id].get(name)!r} != {theirs[article_id].get(name)!r}")
    return diff


@dataclass
class Consistency:
    """Chunks without their article record (or beyond its chunk count), chunks a record counts but lacks, and
    chunks of another version than the record's. A record in progress (no hash) makes its chunks stale."""

    orphans: int = 0
    missing: int = 0
    stale: int = 0  # chunks of another version of their article than its record's (content hash)

    @property
    def ok(self) -> bool:
        return not (self.orphans or self.missing or self.stale)


def consistency(store: Any) -> Consistency:
    """Scroll every chunk's article_id, index and content hash against the article records."""
    records = {
        point.payload["article_id"]: point.payload
        for point in store.article_records(fields=["article_id", "n_chunks", "content_hash"])
    }
    counts = {article_id: int(payload.get("n_chunks") or 0) for article_id, payload in records.items()}
    seen: dict[str, set[int]] = defaultdict(set)
    found = Consistency()
    for point in store.chunks(fields=["article_id", "chunk_index", "content_hash"]):
        article_id, index = point.payload.get("article_id"), int(point.payload.get("chunk_index", -1))
        if article_id not in counts or not 0 <= index < counts[article_id]:
            found.orphans += 1
            continue
        seen[article_id].add(index)
        if point.payload.get("content_hash") != records[article_id].get("content_hash"):
            found.stale += 1
    found.missing = sum(count - len(seen[article_id]) for article_id, count in counts.items())
    return found


def store_consistency(settings: Any) -> Consistency:
    from indexing.store import Store

    with Store.open(settings) as store:
        return consistency(store) if store.exists() else Consistency()


# --------------------------------------------------------------------------- concurrency


@dataclass
class Asked:
    """One question's outcome: when it ran, what came back, or the exception it raised."""

    question: str
    started: float
    ended: float
    answer: Any = None
    error: str | None = None


@dataclass
class ConcurrencyReport:
    articles: int
    threads: int
    asked: list[Asked]
    during_job: int  # questions started before the job's result was posted
    quoting_new: int  # answers quoting an article the job added
    job_result: str
    job_seconds: float
    job_ended: float  # time.monotonic() when the job's result was posted
    serial_seconds: float  # the serial index of the same folder, without questions (the baseline)
    quotes_checked: int
    not_verbatim: list[str]
    diff: list[str]
    consistency: Consistency
    seconds: float

    @property
    def exceptions(self) -> list[str]:
        return [f"{asked.question}: {asked.error}" for asked in self.asked if asked.error]

    @property
    def answered(self) -> int:
        return sum(1 for asked in self.asked if asked.answer is not None)

    @property
    def with_quotes(self) -> int:
        return sum(1 for asked in self.asked if asked.answer is not None and asked.answer.quotes)

    def latencies(self, during_job: bool) -> list[float]:
        return [a.ended - a.started for a in self.asked if (a.started < self.job_ended) == during_job]

    def format(self) -> str:
        return (
            f"concurrency: {len(self.asked)} questions from {self.threads} threads, {self.during_job} started while "
            f"/reindex indexed {self.articles} articles ({self.job_seconds:.1f} s)\n"
            f"  answers {self.answered} (with quotes {self.with_quotes}, quoting a new article {self.quoting_new}), "
            f"exceptions {len(self.exceptions)}, "
            f"quotes checked {self.quotes_checked}, not verbatim {len(self.not_verbatim)}\n"
            f"  job: {self.job_result.splitlines()[0] if self.job_result else '-'}\n"
            f"  indexing took {self.job_seconds:.1f} s under questions vs {self.serial_seconds:.1f} s for the serial "
            f"index without (baseline); question latency p50 / p95 {_percentiles(self.latencies(True))} while the "
            f"job ran, {_percentiles(self.latencies(False))} after it\n"
            f"  --list vs a serial index: {len(self.diff)} differences; orphan chunks {self.consistency.orphans}, "
            f"missing chunks {self.consistency.missing}, stale chunks {self.consistency.stale}; {self.seconds:.1f} s in all"
        )


def _percentiles(values: Sequence[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[len(ordered) // 2]:.2f} / {ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]:.2f} s"


def ask_from_threads(answerer: Any, asked: Sequence[str], threads: int, job_done: threading.Event) -> list[Asked]:
    """Ask through `answerer.ask` (the call the bot's handlers make) from `threads` threads: every question of
    `asked`, and more of them (cycling) for as long as the job runs, so questions cover its whole write, and
    `AFTER_JOB` per thread once it finished (on the new articles)."""
    lock = threading.Lock()
    outcomes: list[Asked] = []

    after_job: list[int] = []

    def next_question() -> int | None:
        with lock:
            number = len(outcomes)
            if job_done.is_set():
                if number >= len(asked) and len(after_job) >= AFTER_JOB * threads:
                    return None
                after_job.append(number)
            outcomes.append(Asked(asked[number % len(asked)], time.monotonic(), 0.0))
            return number

    def work() -> None:
        while (number := next_question()) is not None:
            outcome = outcomes[number]
            outcome.started = time.monotonic()
            try:
                outcome.answer = answerer.ask(outcome.question)
            except Exception:  # recorded: the suite counts them
                outcome.error = traceback.format_exc(limit=6)
            outcome.ended = time.monotonic()

    workers = [threading.Thread(target=work, name=f"asker-{number}") for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


def unverbatim_quotes(store: Any, answers: Sequence[Any]) -> tuple[int, list[str]]:
    """(quotes checked, problems): every quote must be its stored article's text at its span."""
    quotes = [quote for answer in answers for quote in [*answer.quotes, *answer.more_quotes]]
    texts = {
        article_id: payload.get("text") or ""
        for article_id, payload in store.get_records(
            sorted({quote.article_id for quote in quotes}), fields=["article_id", "text"]
        ).items()
    }
    problems = []
    for quote in quotes:
        text = texts.get(quote.article_id)
        if text is None:
            problems.append(f"{quote.article_id}: no stored article")
        elif quote.text not in text or text[quote.start : quote.end] != quote.text:
            problems.append(f"{quote.article_id} [{quote.start}:{quote.end}]: {quote.text[:80]!r}")
    return len(quotes), problems


async def run_concurrency(
    root: Path, embedder: Any, *, articles: int, n_questions: int, threads: int, seed: int = 7
) -> ConcurrencyReport:
    """The bot (real application, fake Bot API) holds a store with the sample article; `articles` new files
    arrive and an admin sends /reindex; meanwhile at least `n_questions` are asked from `threads` threads,
    and more until the job's result is posted."""
    from bot.pipeline import QuestionAnswerer
    from indexing.job import run_index
    from indexing.store import Store
    from tests.fake_bot_api import start_bot

    started = time.monotonic()
    folder = root / "articles"
    settings = fault_settings(root / "bot", folder)
    write_folder(folder, {SAMPLE.name: SAMPLE.read_text(encoding="utf-8")})
    store = Store.open(settings)
    answerer = QuestionAnswerer(settings, store=store, embedder=embedder)
    try:
        run_index(settings, store=store, embedder=embedder, show_progress_bar=False)
        texts = {SAMPLE.name: SAMPLE.read_text(encoding="utf-8")}
        texts |= {article_name(index): article_text(index, seed) for index in range(articles)}
        write_folder(folder, texts)
        running = await start_bot(settings, answerer, store, embedder)
        try:
            api = running.api
            since = api.mark()
            api.inject_text("/reindex", user_id=ADMIN)
            await api.wait_for("sendMessage", since=since, predicate=lambda r: r.params["text"].startswith("⏳"))
            job_started = time.monotonic()
            job_done = threading.Event()
            asking = asyncio.get_running_loop().run_in_executor(
                None, ask_from_threads, answerer, questions(n_questions, articles, seed), threads, job_done
            )
            result = await api.wait_for(
                "sendMessage",
                since=since,
                timeout=1800,
                predicate=lambda r: r.params["text"].startswith(("✅", "⚠️", "❌")),
            )
            job_ended = time.monotonic()
            job_done.set()
            asked = await asking
        finally:
            await running.close()
            await running.api.stop()
        checked, not_verbatim = unverbatim_quotes(store, [a.answer for a in asked if a.answer is not None])
        got = _list(store)
        found = consistency(store)
    finally:
        answerer.close()
        store.close()
    serial = fault_settings(root / "serial", folder)
    clock = time.monotonic()
    run_index(serial, embedder=embedder, show_progress_bar=False)
    serial_seconds = time.monotonic() - clock
    return ConcurrencyReport(
        articles=articles,
        threads=threads,
        asked=asked,
        during_job=sum(1 for a in asked if a.started < job_ended),
        quoting_new=sum(
            1 for a in asked if a.answer is not None and any(q.article_id != SAMPLE_ID for q in a.answer.quotes)
        ),
        job_result=result[0].params["text"],
        job_seconds=job_ended - job_started,
        job_ended=job_ended,
        serial_seconds=serial_seconds,
        quotes_checked=checked,
        not_verbatim=not_verbatim,
        diff=listing_diff(got, listing(serial)),
        consistency=found,
        seconds=time.monotonic() - started,
    )


def _list(store: Any) -> list[dict]:
    from indexing.listing import list_articles

    return list_articles(store)


# --------------------------------------------------------------------------- crash

PHASES = ("add", "update", "prune")
STARTS_FROM = {"add": None, "update": "add", "prune": "update"}  # the clean store a phase's run starts from


@dataclass
class Run:
    """One indexer process: exit code, whether it was killed, seconds until it first wrote to the store
    (None: it never did) and in all."""

    code: int = 0
    killed: bool = False
    first_write: float | None = None
    seconds: float = 0.0


@dataclass
class CrashRow:
    """One kill: when, in which run, whether the store had been written by then, and what the repair left."""

    phase: str
    moment: float  # seconds after the indexer started (or after its first store write)
    killed: bool  # False: the run had finished before the moment
    wrote: bool  # the store folder had changed before the kill
    left: Consistency  # what the kill left, before the repair run
    undone_before: int  # listing differences from the clean index left by the kill (-1: no store yet)
    orphans: int  # after the repair run
    missing: int
    stale: int
    diff: list[str]
    repair_code: int

    @property
    def repaired(self) -> bool:
        return self.repair_code == 0 and not (self.diff or self.orphans or self.missing or self.stale)


@dataclass
class CrashLab:
    """One articles folder, a store per kill: each phase starts from a saved store and the folder's content
    before it, the indexer is started on the content after it and killed; then the repair run."""

    root: Path
    embedder: Any
    articles: int
    seed: int = 11
    contents: dict[str, dict[str, str]] = field(default_factory=dict)  # the folder during each phase's run
    clean: dict[str, list[dict]] = field(default_factory=dict)
    durations: dict[str, Run] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.root / "articles"

    def settings(self, name: str) -> Any:
        return fault_settings(self.root / name, self.folder)

    def prepare(self) -> None:
        """The phases' folder contents and their clean indexes; each phase starts from the previous one's."""
        from indexing.job import run_index

        first = {article_name(i): article_text(i, self.seed) for i in range(self.articles)}
        changed = dict(first)
        for index in range(0, self.articles, 3):  # every third article rewritten (other lengths, chunk counts)
            changed[article_name(index)] = article_text(index, self.seed, version=1)
        changed[article_name(self.articles)] = article_text(self.articles, self.seed)
        pruned = {name: text for number, (name, text) in enumerate(sorted(changed.items())) if number % 4 != 1}
        self.contents = {"add": first, "update": changed, "prune": pruned}
        for phase, texts in self.contents.items():
            write_folder(self.folder, texts)
            run_index(self.settings(f"clean-{phase}"), embedder=self.embedder, show_progress_bar=False)
            self.clean[phase] = listing(self.settings(f"clean-{phase}"))

    def _start(self, phase: str) -> Any:
        """A fresh working store as the phase starts (a copy of the saved one) and the folder after it."""
        work = self.settings("work")
        shutil.rmtree(work.qdrant_path.parent, ignore_errors=True)
        if STARTS_FROM[phase]:
            shutil.copytree(self.settings(f"clean-{STARTS_FROM[phase]}").qdrant_path, work.qdrant_path)
        write_folder(self.folder, self.contents[phase])
        return work

    def _indexer(self, work: Any, phase: str) -> list[str]:
        return [sys.executable, "-m", "indexing", "--quiet", *(["--prune"] if phase == "prune" else [])]

    def _env(self, work: Any) -> dict[str, str]:
        from indexing.settings import Settings

        env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
        env |= {
            "QDRANT_PATH": str(work.qdrant_path),
            "QDRANT_ENGINE": "edge",
            "ARTICLES_DIR": str(self.folder),
            "DATA_DIR": str(work.data_dir),
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        return env

    def _run(self, work: Any, phase: str, kill_at: float | None = None, kill_after_write: bool = False) -> Run:
        """Run the indexer; with `kill_at`, SIGKILL it that many seconds after its start (or after its first
        write to the store, with `kill_after_write`)."""
        before = _folder_state(work.qdrant_path)
        began = time.monotonic()
        process = subprocess.Popen(
            self._indexer(work, phase),
            cwd=self.root,
            env=self._env(work),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        stderr: list[bytes] = []
        reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)
        reader.start()
        run = Run()
        while process.poll() is None:
            now = time.monotonic()
            if run.first_write is None and _folder_state(work.qdrant_path) != before:
                run.first_write = now - began
            origin = began + run.first_write if kill_after_write and run.first_write is not None else began
            if (
                kill_at is not None
                and (run.first_write is not None or not kill_after_write)
                and now - origin >= kill_at
            ):
                process.send_signal(signal.SIGKILL)
                run.killed = True
                break
            time.sleep(0.005)
        run.code = process.wait()
        reader.join(5)
        run.seconds = time.monotonic() - began
        if run.first_write is None and _folder_state(work.qdrant_path) != before:
            run.first_write = run.seconds
        if not run.killed and run.code not in (0, 1):
            raise RuntimeError(f"the indexer failed ({run.code}): {b''.join(stderr).decode(errors='replace')[-2000:]}")
        return run

    def measure(self, phase: str) -> Run:
        """An uninterrupted run of `phase`: how long it takes and when it first writes (kill moments are
        drawn within its write window)."""
        run = self._run(self._start(phase), phase)
        assert run.code == 0 and run.first_write is not None, f"a clean {phase} run failed ({run.code})"
        self.durations[phase] = run
        return run

    def crash(self, phase: str, moment: float, *, after_write: bool = False, repair_inline: bool = False) -> CrashRow:
        """Kill the `phase` run at `moment` (after its first store write, with `after_write`), check what it
        left, run it again (in this process with `repair_inline`: same job, no model load), compare."""
        work = self._start(phase)
        killed = self._run(work, phase, kill_at=moment, kill_after_write=after_write)
        left = store_consistency(work) if work.qdrant_path.exists() else Consistency()
        undone = len(listing_diff(listing(work), self.clean[phase])) if work.qdrant_path.exists() else -1
        if repair_inline:
            from indexing.job import run_index

            summary = run_index(work, embedder=self.embedder, prune=phase == "prune", show_progress_bar=False)
            code = 0 if summary.ok else 1
        else:
            code = self._run(work, phase).code
        after = store_consistency(work)
        return CrashRow(
            phase=phase,
            moment=moment,
            killed=killed.killed,
            wrote=killed.first_write is not None,
            left=left,
            undone_before=undone,
            orphans=after.orphans,
            missing=after.missing,
            stale=after.stale,
            diff=listing_diff(listing(work), self.clean[phase]),
            repair_code=code,
        )


def _folder_state(path: Path) -> tuple:
    """Sizes and modification times of an Edge store's write-ahead logs and metadata file: they change with
    the first write (opening and reading the store touch other files, never these)."""
    if not path.exists():
        return ()
    state = []
    for name in sorted(
        glob.glob(f"{glob.escape(str(path))}/edge/*/*/wal/*") + glob.glob(f"{glob.escape(str(path))}/edge/*/store.json")
    ):
        try:
            stat = os.stat(name)
        except FileNotFoundError:  # replaced meanwhile (store.json is replaced atomically)
            continue
        state.append((name, stat.st_size, stat.st_mtime_ns))
    return tuple(state)


def format_crash_table(rows: Sequence[CrashRow]) -> str:
    """Per kill: phase, moment, whether it was killed and after a store write, the orphan chunks and listing
    differences it left; then whether the next run repaired it, with orphans, missing chunks and differences."""
    lines = [
        " #  phase    moment  killed  wrote  left: orphans  missing  stale  diff | repaired  orphans  missing  stale  diff"
    ]
    for number, row in enumerate(rows, 1):
        lines.append(
            f"{number:>2}  {row.phase:<6} {row.moment:>7.3f}s  {'yes' if row.killed else 'no':<6}  "
            f"{'yes' if row.wrote else 'no':<5}  {row.left.orphans:>13}  {row.left.missing:>7}  {row.left.stale:>5}  "
            f"{row.undone_before:>4} | "
            f"{'yes' if row.repaired else 'NO':<8}  {row.orphans:>7}  {row.missing:>7}  {row.stale:>5}  "
            f"{len(row.diff):>4}"
        )
    for phase in sorted({row.phase for row in rows}, key=PHASES.index):
        mine = [row for row in rows if row.phase == phase]
        lines.append(
            f"{phase}: repaired {sum(row.repaired for row in mine)}/{len(mine)}; the kill left the store "
            f"inconsistent (orphan, missing or stale chunks) in {sum(not row.left.ok for row in mine)} and "
            f"differing from the clean listing in {sum(row.undone_before != 0 for row in mine)}"
        )
    killed = [row for row in rows if row.killed]
    lines.append(
        f"repaired {sum(row.repaired for row in rows)}/{len(rows)}; killed mid-run {len(killed)}, of which "
        f"{sum(row.wrote for row in killed)} after writing to the store; orphans after repair "
        f"{sum(row.orphans for row in rows)}, missing chunks {sum(row.missing for row in rows)}, stale chunks "
        f"{sum(row.stale for row in rows)}, "
        f"listing differences {sum(len(row.diff) for row in rows)}"
    )
    return "\n".join(lines)
