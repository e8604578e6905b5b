"""One refresh at a time, and a clean stop: the refresh lock, stop signals, dbt's process group.

One refresh at a time: the job holds an exclusive OS lock (``flock``) on
``<database>.refresh.lock`` beside the warehouse, which names the holder (pid, host, start,
run). The kernel releases the lock when its holder dies, however it dies.

SIGINT and SIGTERM become :class:`JobStopped` while :func:`signals_stop_the_job` runs; dbt
runs in its own process group, which :func:`stop_process_group` ends.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from segment_warehouse.pipeline import publish
from segment_warehouse.pipeline.runs import one_line

if TYPE_CHECKING:
    from segment_warehouse.pipeline.runs import RunRecord

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop the job cleanly (exit code 128 + the signal number)."""
DBT_STOP_TIMEOUT_SECONDS = 10.0
"""How long dbt gets to exit after SIGTERM, and again after SIGKILL."""
_LOCK_READ_SECONDS = 1.0


class RefreshLockedError(RuntimeError):
    """Another refresh holds the warehouse's refresh lock."""


class JobStopped(BaseException):
    """SIGINT or SIGTERM asked the job to stop.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` does not swallow
    it. ``records`` holds the records of the dates run so far, the stopped one last.
    """

    def __init__(self, signum: int) -> None:
        """Remember which signal stopped the job."""
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        self.records: list[RunRecord] = []
        super().__init__(f"stopped by {self.signal_name}")

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process a signal ended."""
        return 128 + self.signum


# ---- one refresh at a time ----------------------------------------------------------------


def refresh_lock_path(database: Path) -> Path:
    """Return the lock file of the refreshes of ``database``: ``<database>.refresh.lock``."""
    database = Path(database)
    return database.with_name(database.name + ".refresh.lock")


class RefreshLock:
    """An exclusive, non-blocking ``flock`` on the refresh lock file, naming its holder.

    The file holds JSON (pid, host, start, database, dates, the current run) for whoever
    finds it locked. It is never deleted (two jobs could otherwise lock two different
    files); it is emptied on release. The kernel releases the lock when the holder's
    process ends, whatever ends it, so a crashed job never blocks the next one. The file
    descriptor is not inherited by dbt.
    """

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        """Prepare to lock ``path``; ``holder`` describes this job (pid and host added)."""
        self.path = Path(path)
        self.holder = {"pid": os.getpid(), "host": socket.gethostname(), **holder}
        self._descriptor: int | None = None

    def __enter__(self) -> RefreshLock:
        """Take the lock or raise RefreshLockedError naming the job that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + _LOCK_READ_SECONDS
        try:
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = _live_holder(self.path)
                    if holder is not None or time.monotonic() > deadline:
                        raise RefreshLockedError(_locked_message(self.path, holder)) from None
                    # the holder has just taken the lock and not yet written itself in,
                    # or is releasing it: look again
                    time.sleep(0.05)
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor
        self._write()
        return self

    def update(self, **fields: Any) -> None:
        """Record more about the holder, e.g. the run it is on now."""
        self.holder.update(fields)
        if self._descriptor is not None:
            self._write()

    def __exit__(self, *_: object) -> None:
        """Empty the file and release the lock."""
        if self._descriptor is None:
            return
        try:
            os.ftruncate(self._descriptor, 0)
        finally:
            os.close(self._descriptor)
            self._descriptor = None

    def _write(self) -> None:
        # written over the old text, then cut to length: a reader never sees it empty
        data = (json.dumps(self.holder, sort_keys=True) + "\n").encode()
        os.pwrite(self._descriptor, data, 0)
        os.ftruncate(self._descriptor, len(data))


def _live_holder(path: Path) -> dict[str, Any] | None:
    """Read the holder the lock file names; None unless complete and (on this host) alive."""
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int):
        return None
    if holder.get("host") == socket.gethostname():
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return None  # a holder that died; the one that took over has not written yet
        except PermissionError:
            pass
    return holder


def _locked_message(path: Path, holder: dict[str, Any] | None) -> str:
    if holder is None:
        return f"another refresh is running (lock file {path}; it has not named itself yet)"
    run = f", run {holder['run_id']}" if holder.get("run_id") else ""
    return one_line(
        f"another refresh is running: pid {holder['pid']} on {holder.get('host', '?')}, "
        f"started {holder.get('started_at', '?')}{run} (lock file {path})"
    )


# ---- signals ------------------------------------------------------------------------------


@contextmanager
def signals_stop_the_job() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into JobStopped while the block runs (main thread only).

    The first signal raises; later ones are ignored, so that the cleanup the first one
    started (stopping dbt, recording the run) runs to its end. The previous handlers are
    restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        if _received_signals:
            return
        _received_signals.append(signum)
        raise JobStopped(signum)

    _received_signals.clear()
    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received_signals.clear()


_received_signals: list[int] = []
"""The stop signal received while :func:`signals_stop_the_job` runs (at most one)."""


def pending_stop() -> JobStopped | None:
    """Return the stop a signal asked for, if any, even when its exception was lost.

    DuckDB checks for signals while it runs a query and turns the handler's exception into
    its own ("Query interrupted"); the job still has to stop, and say why.
    """
    return JobStopped(_received_signals[0]) if _received_signals else None


_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def child_setup(parent_pid: int) -> Callable[[], None]:
    """Return what the dbt child runs between fork and exec.

    It takes SIGHUP, SIGINT and SIGTERM again (default handling, not held) and, on Linux,
    asks to be killed when the job dies, even by SIGKILL.
    """

    def setup() -> None:
        for signum in publish.HELD_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, publish.HELD_SIGNALS)
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent_pid:  # the job died before prctl took effect
                os.kill(os.getpid(), signal.SIGKILL)

    return setup


def stop_process_group(
    process: subprocess.Popen[Any], timeout_seconds: float = DBT_STOP_TIMEOUT_SECONDS
) -> bool:
    """Stop a child that leads its own process group, and everything in that group.

    Sends SIGTERM to the group, waits up to ``timeout_seconds`` for the child to exit and
    the group to empty, then SIGKILL and the same wait. Returns whether the group is gone.
    """
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        if _wait_for_group(process, timeout_seconds):
            return True
    return False


def _wait_for_group(process: subprocess.Popen[Any], timeout_seconds: float) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while True:
        if process.poll() is not None:  # the leader has exited and is reaped
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
