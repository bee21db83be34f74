"""Serialisable store location shared by the components that talk to Qdrant."""

from __future__ import annotations

from typing import Any

from indexing.settings import Settings
from indexing.store import Store

from .resources import get_store, settings_from_params


def store_params(settings: Settings) -> dict[str, Any]:
    """What a component records to find its store again (no secrets; QDRANT_API_KEY comes from the env)."""
    return {
        "qdrant_path": str(settings.qdrant_path),
        "qdrant_url": settings.qdrant_url,
        "qdrant_collection": settings.qdrant_collection,
    }


class StoreUser:
    """Mixin: a component that opens (or reuses) its store lazily from `store_params`."""

    store_params: dict[str, Any]
    _store: Store | None = None

    def _settings(self) -> Settings:
        import os

        params = dict(self.store_params)
        if params.get("qdrant_url") and os.environ.get("QDRANT_API_KEY"):
            params["qdrant_api_key"] = os.environ["QDRANT_API_KEY"]
        return settings_from_params(params)

    def warm_up(self) -> None:
        if self._store is None:
            self._store = get_store(self._settings())

    @property
    def store(self) -> Store:
        self.warm_up()
        assert self._store is not None
        return self._store
