"""`run_change` in a model worker process: the same function, behind a process boundary.

The worker builds each deployment's package once from its documents (sent on its first
change there), runs the change, and answers the snapshot as JSON (engine/core/wire.py);
only the snapshot's own classes are built from that answer. A change whose worker is
killed (past the wall-clock limit) or dies (past its memory) raises `JobKilled`: nothing
was saved, the stored instance is as it was.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree

from engine.core.bindings import RetryPolicy
from engine.core.catch_events import MessageWait, SignalWait, ThrownEvent, TimerWait
from engine.core.changes import Change, ChangeLimits
from engine.core.documents import Document, DocumentKind
from engine.core.errors import ChangeTooLarge, StateTooLarge, TaskStateError, UnknownProcessError
from engine.core.execution import HumanTask, ServiceCall, Step
from engine.core.package import CompiledPackage, compile_package
from engine.core.snapshot import Snapshot, StoredState, run_change
from engine.core.wire import decode, encode
from engine.core.worker_pool import JobFailed, WorkerPool

# Every class a snapshot is made of; nothing else is built from a worker's answer.
SNAPSHOT_CLASSES: tuple[type, ...] = (Snapshot, HumanTask, ServiceCall, RetryPolicy, Step, TimerWait, MessageWait,
                                      SignalWait, ThrownEvent)
# Errors of `run_change` its callers act on, raised again here by name.
_RAISED: dict[str, type[Exception]] = {"TaskStateError": TaskStateError, "UnknownProcessError": UnknownProcessError,
                                        "ChangeTooLarge": ChangeTooLarge, "StateTooLarge": StateTooLarge}


@dataclass(frozen=True)
class PackageSource:
    """A compiled package's documents as text: what a worker compiles it from."""

    documents: tuple[tuple[str, DocumentKind, bytes], ...]
    callees: tuple[tuple[str, DocumentKind, bytes], ...]


def package_source(package: CompiledPackage) -> PackageSource:
    """The documents `package` was compiled from (already checked and translated)."""

    def texts(docs: tuple[Document, ...]) -> tuple[tuple[str, DocumentKind, bytes], ...]:
        return tuple((doc.name, doc.kind, etree.tostring(doc.root)) for doc in docs)

    return PackageSource(texts(package.documents), texts(package.callees))


# Our own serialization of trees already loaded safely (their depth and size were bounded when
# uploaded); the parser still resolves nothing. `huge_tree`, as for stored translations
# (engine/bpmn/translated.py): a translation may sit a level deeper than its upload.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                          remove_comments=False)


def compile_source(source: PackageSource) -> CompiledPackage:
    """The package `source` describes, compiled as a deployment's stored documents are."""

    def documents(texts: tuple[tuple[str, DocumentKind, bytes], ...]) -> list[Document]:
        return [Document(name, kind, etree.fromstring(text, _PARSER)) for name, kind, text in texts]

    return compile_package(documents(source.documents), callees=documents(source.callees), validate_schema=False)


def _run_in_worker(package: CompiledPackage, payload: tuple[str, StoredState | None, Change, ChangeLimits]) -> Any:
    process_key, stored, change, limits = payload
    return encode(run_change(package, process_key, stored, change, limits))


class ChangeRunner(Protocol):
    """Where changes run: `run_change`'s signature, in this process or in a worker."""

    def run(self, package: CompiledPackage, process_key: str, stored: StoredState | None, change: Change,
            limits: ChangeLimits) -> Snapshot | None: ...


class InProcessChanges:
    """Changes run in the calling thread (PANJEREH_MODEL_WORKERS=0: no isolation)."""

    def run(self, package: CompiledPackage, process_key: str, stored: StoredState | None, change: Change,
            limits: ChangeLimits) -> Snapshot | None:
        return run_change(package, process_key, stored, change, limits)


class IsolatedChanges:
    """Runs changes in `pool`; each worker compiles a package once, known by its content."""

    def __init__(self, pool: WorkerPool[Any]) -> None:
        self.pool = pool
        self._keys: dict[int, tuple[weakref.ref[CompiledPackage], str, PackageSource]] = {}
        self._lock = threading.Lock()

    def run(self, package: CompiledPackage, process_key: str, stored: StoredState | None, change: Change,
            limits: ChangeLimits) -> Snapshot | None:
        """As `run_change`, in a worker.

        Raises:
            TaskStateError, UnknownProcessError, ChangeTooLarge: as `run_change`.
            JobKilled: the worker passed its time or memory; nothing changed.
            JobFailed: anything else went wrong inside the worker.
        """
        key, source = self._known(package)
        try:
            answer = self.pool.run(_run_in_worker, compile_source, key, lambda: source,
                                   (process_key, stored, change, limits))
        except JobFailed as failed:
            raised = _RAISED.get(failed.kind)
            if raised is not None:
                raise raised(failed.detail) from None
            raise
        snapshot = decode(answer, SNAPSHOT_CLASSES)
        if snapshot is not None and not isinstance(snapshot, Snapshot):
            raise JobFailed("WireError", "the worker's answer is not a snapshot", "")
        return snapshot

    def _known(self, package: CompiledPackage) -> tuple[str, PackageSource]:
        """`package`'s key (a digest of its documents: workers of one process may serve
        several databases, as tests do, where the same deployment id means other files) and
        its source, computed once per package object."""
        with self._lock:
            known = self._keys.get(id(package))
            if known is not None and known[0]() is package:
                return known[1], known[2]
        source = package_source(package)
        digest = hashlib.sha256()
        for name, kind, text in (*source.documents, ("--callees--", "bpmn", b""), *source.callees):
            digest.update(f"{len(name)}:{name}:{kind}:{len(text)}:".encode())
            digest.update(text)
        key = digest.hexdigest()
        ident = id(package)
        with self._lock:
            self._keys[ident] = (weakref.ref(package, lambda _: self._forget(ident)), key, source)
        return key, source

    def _forget(self, ident: int) -> None:
        with self._lock:
            self._keys.pop(ident, None)
