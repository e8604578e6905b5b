"""Measure a function in a forked child, or a command in a process of its own.

A function's result comes back with the memory it started with and peaked at; a command
gives its wall time and peak memory. Used by the benchmark scripts, so that every timing
and memory figure belongs to one implementation alone.
"""

from __future__ import annotations

import os
import pickle
import resource
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ChildRun:
    """What a child process returned, and its resident memory at the start and at its peak."""

    result: Any
    start_rss_mib: float
    peak_rss_mib: float


def resident_mib() -> float:
    """Return this process's current resident set size (what a forked child starts with)."""
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * resource.getpagesize() / 2**20


def run_in_child(function: Callable[..., Any], *args: Any) -> ChildRun:
    """Run ``function(*args)`` in a forked child and return its (picklable) result.

    The child inherits the parent's data, so its memory includes it (and the interpreter
    and libraries); the resident set size it starts with is measured first. A failure in
    the child stops the benchmark naming the function and the error.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        start_mib = resident_mib()
        try:
            payload: Any = (start_mib, function(*args))
        except Exception as error:  # report the failure to the parent, whatever it is
            payload = f"{type(error).__name__}: {error}"
        with os.fdopen(write_end, "wb") as pipe:
            pickle.dump(payload, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        try:
            payload = pickle.load(pipe)
        except EOFError:
            payload = "the child process ended without a result"
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or isinstance(payload, str):
        raise SystemExit(f"{function.__name__} failed: {payload}")
    start_mib, result = payload
    return ChildRun(result=result, start_rss_mib=start_mib, peak_rss_mib=usage.ru_maxrss / 1024)


@dataclass(frozen=True)
class CommandRun:
    """Wall time and peak resident memory of one command's process."""

    seconds: float
    peak_rss_mib: float


def run_command(command: list[str], env: dict[str, str], log: Path, cwd: Path) -> CommandRun:
    """Run ``command`` in ``cwd`` with its output in ``log``; wait for it with wait4.

    A failure stops the benchmark naming the command, the log and the end of its output
    (the log may live in a temporary directory that is gone by the time anyone looks).
    """
    with log.open("w") as log_file:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed; see {log}:\n{log.read_text()[-3000:]}")
    return CommandRun(seconds=seconds, peak_rss_mib=usage.ru_maxrss / 1024)


def library_versions(packages: tuple[str, ...]) -> str:
    """Return 'name version' of each installed package, comma separated."""
    return ", ".join(f"{package} {metadata.version(package)}" for package in packages)
