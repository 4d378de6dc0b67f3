"""Worker processes for model code: an address-space limit, a wall-clock kill, a package cache.

The sandbox (engine/core/sandbox.py) measures what a script builds and interrupts Python
loops, but it cannot stop one C call it did not foresee, and its memory check is per run.
Only a process boundary bounds both: here each job runs in a worker process started with
``RLIMIT_AS``, and the caller waits for the answer at most the job's wall-clock limit, then
kills the worker and starts another. A killed or crashed job raises `JobKilled`; the caller
has changed nothing yet, so nothing is lost.

Compiling a deployment costs far more than running one change, so every worker keeps the
packages it built, by key (a bounded LRU). A job names its package by key only; a worker that
does not hold it asks the caller for the package's source once, builds and keeps it. What
crosses the pipe per job is therefore the job's own payload (a stored state, a change) and
the answer, a round trip of well under a millisecond for a typical instance.

Answers come back as JSON, never as pickles: a worker runs model code, and should that code
ever get out of the sandbox, a pickle it sent would run code in the server. Jobs therefore
return JSON-compatible values (the state is JSON text already), and a job's failure comes
back as its exception's class name and message.

Workers are new Python processes (`python -m engine.core.worker_pool`) talking over two
pipes, never forks of the serving process (it runs threads, and a fork copies their locks
mid-use) nor multiprocessing children (a Celery pool process is daemonic and may not have
any, and multiprocessing would import the caller's main module again in each worker).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import resource
import subprocess
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from engine.core.errors import EngineError

Result = TypeVar("Result")
# A job: (the package it runs against, its payload) -> a JSON-compatible answer. It must be
# a module-level function, since it is sent to the worker by its qualified name.
Job = Callable[[Any, Any], Result]
# Builds a package from the source its caller gives on a cache miss; module-level too.
Builder = Callable[[Any], Any]

_MIB = 1024 * 1024
# An answer larger than this is refused (the worker is killed): a state is capped far below.
_MAX_ANSWER_BYTES = 256 * _MIB


@dataclass(frozen=True)
class PoolLimits:
    """How many workers, and what each job may use.

    Attributes:
        workers: processes running jobs at once; a job waits for a free one.
        memory_bytes: the address space of each worker (``RLIMIT_AS``); a job that needs more
            fails with MemoryError inside the worker, which is then replaced.
        wall_seconds: how long a caller waits for one job before the worker is killed.
        packages_per_worker: compiled packages each worker keeps (least recently used go).
        start_seconds: how long a new worker may take to start before it counts as failed.
    """

    workers: int = 2
    memory_bytes: int = 512 * _MIB
    wall_seconds: float = 30.0
    packages_per_worker: int = 32
    start_seconds: float = 60.0


class JobKilled(EngineError):
    """A job's worker was killed (over its time) or died (over its memory, or crashed)."""


class PoolBusy(EngineError):
    """No worker came free in time: every one is running a job (the caller may retry later)."""


class JobFailed(EngineError):
    """A job raised inside its worker; `kind` is the exception's class name, `detail` its
    message and `trace` the worker-side traceback (for the log, not for callers)."""

    def __init__(self, kind: str, detail: str, trace: str) -> None:
        self.kind, self.detail, self.trace = kind, detail, trace
        super().__init__(f"{kind}: {detail}")


# -- the worker side --------------------------------------------------------------------


def _limit_memory(memory_bytes: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


class _Duplex:
    """Two one-way pipes used as one connection (what `multiprocessing.Pipe` gives, without
    multiprocessing starting the process)."""

    def __init__(self, reading: int, writing: int) -> None:
        self.reader = Connection(reading, writable=False)
        self.writer = Connection(writing, readable=False)

    def recv(self) -> Any:
        return self.reader.recv()

    def recv_bytes(self, maxlength: int | None = None) -> bytes:
        return self.reader.recv_bytes(maxlength)

    def poll(self, timeout: float) -> bool:
        return self.reader.poll(timeout)

    def send(self, value: Any) -> None:
        self.writer.send(value)

    def send_bytes(self, data: bytes) -> None:
        self.writer.send_bytes(data)

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


def _worker_main(conn: _Duplex, memory_bytes: int, packages_per_worker: int) -> None:
    """Serve jobs on `conn` until it closes. Runs in the worker process."""
    _limit_memory(memory_bytes)
    packages: OrderedDict[str, Any] = OrderedDict()
    _answer(conn, ["ready", os.getpid()])
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        job, builder, key, payload = message
        try:
            package = packages.get(key)
            if package is None:
                _answer(conn, ["miss", key])
                package = builder(conn.recv())
                packages[key] = package
                while len(packages) > packages_per_worker:
                    packages.popitem(last=False)
            else:
                packages.move_to_end(key)
            result = job(package, payload)
            # A job that caught its own MemoryError (a failing script does) may leave the heap
            # near the limit: past half of it, this worker makes way for a fresh one.
            answer = json.dumps(["done", result, _resident_bytes() > memory_bytes // 2], separators=(",", ":"))
        except MemoryError:
            # The heap may be left fragmented near the limit: answer, then make way for a fresh worker.
            packages.clear()
            _answer(conn, ["failed", "MemoryError", f"over the worker's memory limit of {memory_bytes // _MIB} MB",
                           "", True])
            return
        except Exception as error:  # a job's own failure travels back to its caller
            _answer(conn, ["failed", type(error).__name__, str(error), traceback.format_exc(), False])
            continue
        conn.send_bytes(answer.encode())


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _answer(conn: _Duplex, message: list[Any]) -> None:
    conn.send_bytes(json.dumps(message, separators=(",", ":")).encode())


# -- the caller side --------------------------------------------------------------------


class _Worker:
    """One worker process and the parent's ends of its pipes."""

    def __init__(self, limits: PoolLimits) -> None:
        from_child, to_parent = os.pipe()
        from_parent, to_child = os.pipe()
        # The worker finds the same modules as this process (tests' jobs included).
        path = os.pathsep.join(entry for entry in sys.path if entry and os.path.isdir(entry))
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, numbers only
                [sys.executable, "-m", "engine.core.worker_pool", str(from_parent), str(to_parent),
                 str(limits.memory_bytes), str(limits.packages_per_worker)],
                pass_fds=(from_parent, to_parent), env={**os.environ, "PYTHONPATH": path},
                stdin=subprocess.DEVNULL, close_fds=True)
        finally:
            os.close(from_parent)
            os.close(to_parent)
        self.conn = _Duplex(from_child, to_child)
        try:
            if not self.conn.poll(limits.start_seconds):
                raise JobKilled(f"a model worker did not start within {limits.start_seconds:g} s")
            _, self.pid = json.loads(self.conn.recv_bytes())
        except (EOFError, OSError, ValueError):
            self.kill()
            raise JobKilled(f"a model worker failed to start (exit code {self.process.returncode})") from None
        except JobKilled:
            self.kill()
            raise

    @property
    def exitcode(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.conn.close()


@dataclass
class PoolStats:
    """What the pool has done since it started (for operators and benchmarks)."""

    jobs: int = 0
    killed: int = 0
    died: int = 0
    misses: int = 0
    started: int = 0


class WorkerPool(Generic[Result]):
    """Runs jobs in worker processes; thread-safe, one job per worker at a time."""

    def __init__(self, limits: PoolLimits | None = None) -> None:
        self.limits = limits or PoolLimits()
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._count = 0
        self._closed = False
        self.stats = PoolStats()

    def run(self, job: Job[Result], builder: Builder, key: str, source: Callable[[], Any], payload: Any) -> Result:
        """Run ``job(package, payload)`` in a worker, the package being ``builder(source())``
        as that worker built it for `key` (built there on first use).

        Raises:
            JobKilled: the worker passed the wall-clock limit (killed) or died.
            JobFailed: the job raised; the worker carries on.
        """
        worker = self._take()
        deadline = time.monotonic() + self.limits.wall_seconds
        healthy = False
        try:
            worker.conn.send((job, builder, key, payload))
            while True:
                kind, *rest = self._answer(worker, deadline)
                if kind == "miss":
                    self.stats.misses += 1
                    worker.conn.send(source())
                    continue
                self.stats.jobs += 1
                if kind == "done":
                    result: Result = rest[0]
                    healthy = not rest[1]
                    return result
                name, detail, trace, retire = rest
                healthy = not retire
                raise JobFailed(str(name), str(detail), str(trace))
        finally:
            self._give_back(worker, healthy)

    def _answer(self, worker: _Worker, deadline: float) -> list[Any]:
        remaining = deadline - time.monotonic()
        try:
            ready = worker.conn.poll(max(remaining, 0))
        except (EOFError, OSError):
            ready = True
        if not ready:
            self.stats.killed += 1
            raise JobKilled(f"stopped after {self.limits.wall_seconds:g} s: the model's code did not finish "
                            "in time (PANJEREH_MODEL_WALL_SECONDS)")
        try:
            answer: list[Any] = json.loads(worker.conn.recv_bytes(_MAX_ANSWER_BYTES))
        except ValueError:
            # Not JSON, or not the shape the worker writes: the worker is not trusted any more.
            self.stats.died += 1
            raise JobKilled("the model's worker process sent an answer that is not one; it was stopped") from None
        except (EOFError, OSError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=5)
            self.stats.died += 1
            raise JobKilled(f"the model's worker process died (exit code {worker.exitcode}); "
                            f"its memory is limited to {self.limits.memory_bytes // _MIB} MB "
                            "(PANJEREH_MODEL_MEMORY_MB)") from None
        return answer

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise JobKilled("the model worker pool is closed")
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            start = self._count < self.limits.workers
            if start:
                self._count += 1
        if start:
            try:
                worker = _Worker(self.limits)
            except BaseException:
                with self._lock:
                    self._count -= 1
                raise
            self.stats.started += 1
            return worker
        try:
            return self._idle.get(timeout=self.limits.wall_seconds + self.limits.start_seconds)
        except queue.Empty:
            raise PoolBusy(f"all {self.limits.workers} model workers stayed busy") from None

    def _give_back(self, worker: _Worker, healthy: bool) -> None:
        if healthy and not self._closed:
            self._idle.put(worker)
            return
        worker.kill()
        with self._lock:
            self._count -= 1
        # Someone may be waiting for a worker that will now never come back: start one for them.
        if not self._closed and self._count < self.limits.workers:
            try:
                replacement = _Worker(self.limits)
            except JobKilled:
                return
            with self._lock:
                self._count += 1
            self.stats.started += 1
            self._idle.put(replacement)

    def close(self) -> None:
        """Stop every worker; jobs already running finish or are killed with their caller."""
        with self._lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return


_SHARED: dict[PoolLimits, WorkerPool[Any]] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(limits: PoolLimits) -> WorkerPool[Any]:
    """The one pool of this process with `limits` (every runtime in it shares the workers),
    started on its first job and stopped when the process exits."""
    with _SHARED_LOCK:
        pool = _SHARED.get(limits)
        if pool is None:
            pool = _SHARED[limits] = WorkerPool(limits)
            atexit.register(pool.close)
        return pool


def _serve_from_command_line(argv: list[str]) -> None:
    reading, writing, memory_bytes, packages = (int(value) for value in argv)
    _worker_main(_Duplex(reading, writing), memory_bytes, packages)


if __name__ == "__main__":
    _serve_from_command_line(sys.argv[1:])
