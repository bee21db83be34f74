"""Optional generated answer: an OpenAI-compatible chat completion over the selected quotes alone."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import httpx
from haystack import component, default_from_dict, default_to_dict
from haystack.utils import Secret, deserialize_secrets_inplace

from bot.types import Answer

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You answer questions about news articles using ONLY the numbered quotes given. "
    "Write one or two sentences, cite the quotes you use as [1], [2], and add nothing the quotes do not say. "
    "If the quotes do not answer the question, say so in one sentence."
)


def build_messages(answer: Answer) -> list[dict[str, str]]:
    quotes = "\n".join(f"[{i}] {q.text} ({q.title})" for i, q in enumerate(answer.quotes, 1))
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Quotes:\n{quotes}\n\nQuestion: {answer.question}"},
    ]


@component
class QuoteAnswerGenerator:
    """Rewrites `answer.answer` with the LLM when `base_url` and `model` are set; on any error or timeout
    the extractive answer is kept. Abstentions are never sent to the model."""

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        timeout: float = 20.0,
        api_key: Secret | None = None,
        max_tokens: int = 160,
    ) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.model = model
        self.timeout = timeout
        self.api_key = api_key or Secret.from_env_var("LLM_API_KEY", strict=False)
        self.max_tokens = max_tokens

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            base_url=self.base_url,
            model=self.model,
            timeout=self.timeout,
            api_key=self.api_key.to_dict(),
            max_tokens=self.max_tokens,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuoteAnswerGenerator:
        deserialize_secrets_inplace(data["init_parameters"], keys=["api_key"])
        return default_from_dict(cls, data)

    def _endpoint(self) -> str:
        base = self.base_url or ""
        return f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"

    def generate(self, answer: Answer) -> str:
        """The model's answer text; raises on any transport or format problem."""
        headers = {"Content-Type": "application/json"}
        key = self.api_key.resolve_value() if self.api_key else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = {
            "model": self.model,
            "messages": build_messages(answer),
            "temperature": 0,
            "max_tokens": self.max_tokens,
        }
        response = httpx.post(self._endpoint(), json=body, headers=headers, timeout=self.timeout)
        response.raise_for_status()
        text = response.json()["choices"][0]["message"]["content"]
        text = " ".join(str(text).split())
        if not text:
            raise ValueError("empty completion")
        return text

    @component.output_types(answer=Answer)
    def run(self, answer: Answer) -> dict[str, Any]:
        if not self.enabled or answer.abstained or answer.tentative or not answer.quotes:
            return {"answer": answer}  # weak evidence gets no fluent summary that would read as an answer
        try:
            return {"answer": replace(answer, answer=self.generate(answer), generated=True, lead=None)}
        except Exception as error:  # any failure falls back to the extractive answer
            log.warning("generator failed, keeping the extractive answer: %s", error)
            return {"answer": answer}
