"""Serialisable store location shared by the components that read the store, and how they reach it."""

from __future__ import annotations

from typing import Any

from indexing.settings import Settings
from indexing.store import Store

from .resources import StoreResources


def store_params(settings: Settings) -> dict[str, Any]:
    """What a component records to find its store again (no secrets; QDRANT_API_KEY comes from the env)."""
    return {
        "qdrant_path": str(settings.qdrant_path),
        "qdrant_url": settings.qdrant_url,
        "qdrant_collection": settings.qdrant_collection,
        "qdrant_engine": settings.qdrant_engine,
    }


class StoreUser:
    """Mixin: a component that reads the store through the `StoreResources` its pipeline hands it.

    Only `store_params` is serialised. A component used on its own (never given resources) opens
    its own from `store_params` on first use.
    """

    store_params: dict[str, Any]
    _resources: StoreResources | None = None

    def use_resources(self, resources: StoreResources) -> None:
        """Share `resources` (the pipeline's store and caches) with this component."""
        self._resources = resources

    @property
    def resources(self) -> StoreResources:
        if self._resources is None:
            self._resources = StoreResources.from_params(self.store_params)
        return self._resources

    def warm_up(self) -> None:
        self.resources.store  # noqa: B018 - opens the store now rather than at the first question

    @property
    def store(self) -> Store:
        return self.resources.store
