"""Compiled deployments as the services hold them, and the cache that keeps them per runtime.

Apart from `deployed_packages`, which fills it, so that the runtime can hold a typed cache
without importing the module that reads deployments (which itself needs the runtime).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.core.package import CompiledPackage
from forms.extract import FormModel


@dataclass
class LoadedPackage:
    """A compiled deployment plus what the service layer derives from its files."""

    compiled: CompiledPackage
    forms: dict[str, FormModel] = field(default_factory=dict)
    lanes: dict[str, str] = field(default_factory=dict)
    # The same deployment compiled with the callee deployments an instance was pinned to.
    variants: dict[tuple[tuple[str, int], ...], LoadedPackage] = field(default_factory=dict)
    # The importer's output for each BPMN and DMN file, by file name: what a deployment stores.
    translated: dict[str, bytes] = field(default_factory=dict)

    def with_service(self, service: dict[str, Any] | None) -> LoadedPackage:
        """This package with the lane-to-agency table of its service.toml."""
        self.lanes = {str(k): str(v) for k, v in ((service or {}).get("lanes") or {}).items()}
        return self


class PackageCache:
    """Compiled deployments by id, the `capacity` most recently used; parsing is cheap but
    not free, and a deployment never changes once stored."""

    def __init__(self, capacity: int = 128) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, LoadedPackage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, deployment_id: int, build: Callable[[], LoadedPackage]) -> LoadedPackage:
        """The package of `deployment_id`, built by `build` (outside the lock) when not cached."""
        with self._lock:
            if deployment_id in self._items:
                self._items.move_to_end(deployment_id)
                return self._items[deployment_id]
        value = build()
        with self._lock:
            self._items[deployment_id] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value
