"""The fault suite at full size (tests/test_faults.py runs it small); its output goes in docs/faults.md.

    nice -n 10 python benchmarks/fault_suite.py                      # both parts, as in the docs
    python benchmarks/fault_suite.py --skip-crash                     # concurrency only
    python benchmarks/fault_suite.py --kills 6 --crash-articles 6     # a quick look

Concurrency: the bot (the real application, over the fake Bot API on 127.0.0.1) holds an embedded Edge
store with the sample article; 50 synthetic articles arrive in its folder and an admin sends /reindex.
While the bot's own job indexes them, 200 questions (and more, for as long as the job runs) are asked from
8 threads through the pipeline object the bot's handlers call. Afterwards: the store's `--list` against a
serial index of the same folder (every field but the indexing time), every quote against its stored
article text at its span, exceptions, and chunks without their record. Baseline in the same run: the
serial index's time without questions, and the questions' latency after the job.

Crash: `python -m indexing` as a subprocess, killed with SIGKILL at 30 seeded random moments spread over
an add run (empty store), an update run (every third article rewritten, one new) and a prune run (a
quarter of the files removed, `--prune`). A moment is drawn within the run's write window (from its first
write to the store to its end, measured by an uninterrupted run of the same phase, the baseline) and
counted from that first write, so every kill lands while the store is being changed. Half the moments are
uniform over the first MID_WRITE seconds after the first write, where these small runs write their records
and chunks (about 10 ms for the update: records marked in progress, chunks upserted, stale chunks deleted,
records written), half uniform over the whole window, most of which is the end-of-run sweep, flush and HNSW
build. The next run
(a subprocess again) must repair everything: `--list` equal to a clean index of the same folder, no
chunk without its article record or beyond its chunk count, no chunk a record counts missing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests.faults import PHASES, CrashLab, format_crash_table, run_concurrency

MID_WRITE = 0.02  # seconds after the first store write in which half of the kills land


def concurrency(root: Path, embedder, opts: argparse.Namespace) -> bool:
    report = asyncio.run(
        run_concurrency(
            root, embedder, articles=opts.articles, n_questions=opts.questions, threads=opts.threads, seed=opts.seed
        )
    )
    print(report.format())
    for problem in [*report.exceptions[:3], *report.not_verbatim[:3], *report.diff[:5]]:
        print(f"  ! {problem}")
    return not (report.exceptions or report.not_verbatim or report.diff or not report.consistency.ok)


def crash(root: Path, embedder, opts: argparse.Namespace) -> bool:
    lab = CrashLab(root, embedder, articles=opts.crash_articles, seed=opts.seed)
    lab.prepare()
    for phase in PHASES:
        run = lab.measure(phase)
        print(
            f"uninterrupted {phase} run (baseline): {run.seconds:.1f} s, first store write at {run.first_write:.1f} s, "
            f"write window {run.seconds - run.first_write:.2f} s"
        )
    rng = random.Random(opts.seed)
    rows = []
    for number in range(opts.kills):
        phase = PHASES[number % len(PHASES)]
        run = lab.durations[phase]
        window = MID_WRITE if (number // len(PHASES)) % 2 == 0 else run.seconds - run.first_write
        moment = rng.uniform(0.0, window)
        rows.append(lab.crash(phase, moment, after_write=True))
        print(format_crash_table(rows).splitlines()[number + 1], flush=True)
    print()
    print("moment: seconds after the killed run's first store write; left: what the kill left, then the repair run")
    print(format_crash_table(rows))
    for row in rows:
        for problem in row.diff[:3]:
            print(f"  ! {row.phase} at {row.moment:.2f} s: {problem}")
    return all(row.repaired for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=50, help="articles the bot's /reindex adds")
    parser.add_argument("--questions", type=int, default=200, help="questions at least (more while the job runs)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--kills", type=int, default=30, help="kill moments, cycling add, update, prune")
    parser.add_argument("--crash-articles", type=int, default=12, help="articles of the crash runs")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--skip-concurrency", action="store_true")
    parser.add_argument("--skip-crash", action="store_true")
    parser.add_argument("--out", type=Path, help="keep the stores here (default: a temporary folder)")
    opts = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    from indexing.embedding import Embedder
    from indexing.settings import bundled_model_path

    started = time.monotonic()
    embedder = Embedder(bundled_model_path())
    ok = True
    with tempfile.TemporaryDirectory(prefix="fault-suite-") as scratch:
        root = opts.out or Path(scratch)
        print(f"fault suite, seed {opts.seed}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        if not opts.skip_concurrency:
            ok &= concurrency(root / "concurrency", embedder, opts)
            print()
        if not opts.skip_crash:
            ok &= crash(root / "crash", embedder, opts)
    print(f"\n{'all repaired and consistent' if ok else 'FAULTS FOUND'}; {time.monotonic() - started:.0f} s in all")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
