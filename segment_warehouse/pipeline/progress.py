"""A progress display for long dbt runs, read from dbt's JSON log lines.

dbt runs with ``--log-format json``: every line it prints is one event. This module turns
those events into short plain lines (no cursor movement, so they read well in CI logs):
nodes done out of the total, the layer being built (staging, intermediate, marts, from the
node's path: the earliest layer with a model still running, since dbt runs independent
nodes side by side and a mart without parents may start first), the elapsed time, and
every failure with its message as it happens. A line is printed at most every
``interval_seconds`` while nodes finish, and at once on a new layer, a failure or an error.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

LAYERS = ("staging", "intermediate", "marts")
"""Model folders named as the layer they build; other nodes take their resource type."""
FAILING_STATUSES = {"error", "fail", "runtime error"}
_STARTING_STATUSES = {"started", "none", "compiling", "executing", ""}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DOTS = re.compile(r"\s*\.{3,}\s*")


@dataclass
class Failure:
    """A node that failed: its name, status and message."""

    node: str
    status: str
    message: str


@dataclass
class Progress:
    """What a dbt run has done so far, updated event by event."""

    total: int | None = None
    done: int = 0
    layer: str = ""
    failures: list[Failure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    layers_of_nodes: dict[str, str] = field(default_factory=dict)
    running: dict[str, str] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)

    def working_layer(self) -> str:
        """Return the earliest layer with a model still running (the last seen when none is)."""
        running = [layer for layer in self.running.values() if layer in LAYERS]
        if running:
            self.layer = min(running, key=LAYERS.index)
        return self.layer


def _clean(text: str) -> str:
    return _DOTS.sub(" ", _ANSI.sub("", text)).strip()


def parse_event(line: str) -> dict[str, Any] | None:
    """Read one JSON log line of dbt; None for a line that is not one (e.g. a traceback)."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("info"), dict):
        return None
    return event


def node_layer(node_info: Mapping[str, Any]) -> str:
    """Return the layer of a node: its models folder, else its resource type (seed, test…)."""
    path = str(node_info.get("node_path") or "")
    first = path.split("/", 1)[0]
    if first in LAYERS:
        return first
    return str(node_info.get("resource_type") or "")


def _format_elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class ProgressDisplay:
    """Turn dbt's JSON events into progress lines, written to ``out``.

    Args:
        out: Where the lines go (default stdout).
        clock: Seconds from an arbitrary start (``time.monotonic``; tests pass their own).
        interval_seconds: At most one progress line per interval while nodes finish.

    """

    def __init__(
        self,
        out: IO[str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval_seconds: float = 2.0,
    ) -> None:
        """Start the clock."""
        self.out = out or sys.stdout
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.started = clock()
        self.last_printed = float("-inf")
        self.progress = Progress()

    def elapsed(self) -> str:
        """Time since the display started, as m:ss."""
        return _format_elapsed(self.clock() - self.started)

    def say(self, text: str) -> str:
        """Write one line, prefixed with the elapsed time; return it."""
        line = f"[{self.elapsed()}] {text}"
        print(line, file=self.out, flush=True)
        return line

    def status_line(self) -> str:
        """Nodes done out of the total, the current layer and the failures so far."""
        progress = self.progress
        total = progress.total if progress.total is not None else "?"
        layer = f", {progress.working_layer()}" if progress.working_layer() else ""
        failed = f", {len(progress.failures)} failed" if progress.failures else ""
        return f"{progress.done}/{total} nodes done{layer}{failed}"

    def feed(self, line: str) -> list[str]:
        """Take one line of dbt's output; return the lines written for it."""
        event = parse_event(line)
        if event is None:
            text = line.strip()
            return [self.say(text)] if text else []
        info, data = event["info"], event.get("data") or {}
        name, level = info.get("name", ""), info.get("level", "")
        node_info = data.get("node_info") or {}
        progress = self.progress
        written: list[str] = []
        if name == "FoundStats":
            written.append(self.say(f"project parsed: {data.get('stat_line', '')}"))
        elif name == "ConcurrencyLine":
            progress.total = data.get("node_count")
            written.append(self.say(f"building {progress.total} nodes"))
        elif name == "LogStartLine":
            layer = node_layer(node_info)
            unique_id = node_info.get("unique_id")
            if unique_id:
                progress.layers_of_nodes[unique_id] = layer
                progress.running[unique_id] = layer
            shown = progress.layer
            if progress.working_layer() != shown:
                written.append(self.say(self.status_line()))
                self.last_printed = self.clock()
        elif self._finishes_a_node(name, data, node_info):
            progress.finished.add(str(node_info.get("unique_id") or data.get("index")))
            progress.running.pop(str(node_info.get("unique_id")), None)
            progress.done = len(progress.finished)
            # test results count their total as num_models
            progress.total = data.get("total") or data.get("num_models") or progress.total
            status = str(node_info.get("node_status") or data.get("status") or "").lower()
            if status in FAILING_STATUSES:
                node = node_info.get("node_name") or data.get("name") or "?"
                failure = Failure(node, status, _clean(info.get("msg", "")))
                progress.failures.append(failure)
                written.append(self.say(f"FAILED {failure.node} ({status}): {failure.message}"))
            elif self.clock() - self.last_printed >= self.interval_seconds:
                written.append(self.say(self.status_line()))
                self.last_printed = self.clock()
        elif level == "error":
            message = _clean(info.get("msg", ""))
            if message:
                progress.errors.append(message)
                written.append(self.say(f"error: {message}"))
        elif name == "JinjaLogInfo" and level in {"warn", "info"} and info.get("msg"):
            message = _clean(info["msg"])
            if message.lower().startswith(("data-quality", "freshness")):
                written.append(self.say(message))
        return written

    @staticmethod
    def _finishes_a_node(name: str, data: Mapping[str, Any], node_info: Mapping[str, Any]) -> bool:
        has_total = "total" in data or "num_models" in data
        if "index" not in data or not has_total or name.startswith("LogHook"):
            return False
        if name == "LogStartLine":
            return False
        status = str(node_info.get("node_status") or "").lower()
        return status not in _STARTING_STATUSES or name.endswith("Result")

    def finish(self, return_code: int) -> str:
        """Write the last line: done or failed, with the counts and the time taken."""
        outcome = "done" if return_code == 0 else f"failed (dbt exited with {return_code})"
        return self.say(f"{outcome}: {self.status_line()}")

    def run(self, lines: Iterable[str]) -> Progress:
        """Feed every line; return the progress at the end."""
        for line in lines:
            self.feed(line)
        return self.progress


def run_with_progress(
    command: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    display: ProgressDisplay | None = None,
    title: str = "dbt",
) -> int:
    """Run a dbt command with ``--log-format json``, showing its progress; return its exit code.

    The first line is printed at once, before dbt has parsed the project.
    """
    display = display or ProgressDisplay()
    display.say(f"{title}: starting dbt (parsing the project)")
    full_command = [command[0], "--log-format", "json", *command[1:]]
    process = subprocess.Popen(
        full_command,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            display.feed(line)
    except BaseException:
        process.terminate()
        process.wait()
        raise
    return_code = process.wait()
    display.finish(return_code)
    return return_code
