"""The settings module: defaults, parsing, and one clear line per wrong value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexing.settings import Settings, SettingsError, bundled_model_path, load_settings

REPO = Path(__file__).resolve().parent.parent


def test_defaults_are_embedded_and_offline(make_settings) -> None:
    settings = Settings(_env_file=None)
    assert settings.embedded
    assert settings.qdrant_path == Path("data/qdrant")
    assert settings.qdrant_collection == "articles"
    assert settings.articles_dir == Path("data/articles")
    assert settings.embedding_model == bundled_model_path()
    assert Path(settings.embedding_model, "config.json").is_file()
    assert settings.telegram_api_base_url == "https://api.telegram.org"
    assert settings.admin_user_ids == [] and settings.allowed_user_ids == []


def test_environment_and_dotenv(make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("ADMIN_USER_IDS=1, 2\nQDRANT_COLLECTION=from_dotenv\n")
    monkeypatch.setenv("ALLOWED_USER_IDS", "5,6,7")
    monkeypatch.setenv("QDRANT_URL", "http://127.0.0.1:6333/")
    settings = Settings()
    assert settings.admin_user_ids == [1, 2]
    assert settings.allowed_user_ids == [5, 6, 7]
    assert settings.qdrant_collection == "from_dotenv"
    assert settings.qdrant_url == "http://127.0.0.1:6333"
    assert not settings.embedded


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("QDRANT_URL", "not a url", "QDRANT_URL"),
        ("TELEGRAM_API_BASE_URL", "ftp://example.org", "TELEGRAM_API_BASE_URL"),
        ("ADMIN_USER_IDS", "12,abc", "ADMIN_USER_IDS"),
        ("RATE_LIMIT_PER_MINUTE", "zero", "RATE_LIMIT_PER_MINUTE"),
        ("CHUNK_OVERLAP", "9", "CHUNK_OVERLAP"),
        ("RERANKER", "bundeld", "RERANKER"),
        ("ANSWER_POINTER", "bundeld", "ANSWER_POINTER"),
        ("ANSWER_CHECK", "bundeld", "ANSWER_CHECK"),
    ],
)
def test_wrong_value_stops_with_one_line(
    make_settings, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    message = str(raised.value)
    assert "\n" not in message
    assert re.search(rf"\b{expected}\b", message)


def test_secret_values_never_printed(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-token-value")
    settings = Settings(_env_file=None)
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.model_dump())
    assert settings.telegram_bot_token.get_secret_value() == "123456:SECRET-token-value"


def test_env_example_copied_to_env_gives_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cp .env.example .env` is the documented start: its empty lines mean "the default", never a crash."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    from_example = Settings(_env_file=REPO / ".env.example").model_dump()
    defaults = Settings(_env_file=None).model_dump()
    assert from_example == defaults, {k: (from_example[k], v) for k, v in defaults.items() if from_example[k] != v}


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields == documented, f"undocumented: {fields - documented}; unknown: {documented - fields}"
    # README's configuration table, or the settings table of the docs page that introduces a setting
    # (until the README integrates it)
    documented_text = "\n".join(p.read_text() for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])
    missing = sorted(name for name in fields if f"`{name}`" not in documented_text)
    assert not missing, f"README configuration table misses {missing}"
