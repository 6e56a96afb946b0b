"""Keras-style progress display of fit / evaluate / predict.

With ``verbose=1`` the bar is live -- redrawn in place, at most every
``interval`` seconds, with steps, ETA and the running logs -- wherever the
output is displayed as it comes, by Keras' rule: stdout is a terminal, or
IPython's kernel is loaded (Jupyter, Colab: ``"ipykernel" in sys.modules``),
or PyCharm's console runs it (``PYCHARM_HOSTED``). Each redraw starts with
backspaces and a carriage return (``"\\b" * width + "\\r"``), as Keras writes
it, which terminals and notebook front ends both honour:

    12/32 [=======>............] - ETA: 1s - loss: 0.6213 - accuracy: 0.8125

Keras 3 also counts ``"posix" in sys.modules``, which holds on every Linux and
macOS process and so makes every log file a stream of redraws; pydl leaves
that out. Elsewhere (a log file, a pipe) only the final line of each epoch is
written, so logs stay short:

    32/32 [====================] 0s 4ms/step - loss: 0.4110 - accuracy: 0.8750

``verbose=2`` writes one line per epoch: ``32/32 - 0s - 4ms/step - loss: 0.4110``.
"""

from __future__ import annotations

import os
import sys
import time

_BAR_WIDTH = 20
DEFAULT_INTERVAL = 0.05  # least seconds between two redraws (Keras' default)


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def dynamic_display(stream) -> bool:
    """Whether `stream` shows a live bar (module docstring: Keras' rule without "posix")."""
    return (_is_terminal(stream) or "ipykernel" in sys.modules
            or "PYCHARM_HOSTED" in os.environ)


def format_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def format_time_per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_logs(logs: dict | None) -> str:
    parts = []
    for key, value in (logs or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        parts.append(f" - {key}: {number:.4f}" if abs(number) >= 1e-3 or number == 0
                     else f" - {key}: {number:.4e}")
    return "".join(parts)


class Progbar:
    """Progress of one pass over ``target`` steps (None when unknown).

    Args:
        target: total number of steps, or None.
        verbose: 1 (bar) or 2 (one line at the end).
        stream: where to write (sys.stdout by default, looked up at each write so
            that pytest's capture and redirections work).
        interval: least seconds between two redraws of the bar (default
            `DEFAULT_INTERVAL`, 0.05).
    """

    def __init__(self, target: int | None, verbose: int = 1, stream=None,
                 interval: float | None = None):
        self.target = target
        self.verbose = verbose
        self._stream = stream
        self.interval = DEFAULT_INTERVAL if interval is None else interval
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._last_width = 0
        self._dynamic = verbose == 1 and dynamic_display(self.stream)

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def due(self) -> bool:
        """Whether a redraw would show now (so the caller computes the logs only then)."""
        return self._dynamic and time.perf_counter() - self._last_draw >= self.interval

    def update(self, step: int, logs: dict | None = None, finalize: bool = False) -> None:
        """Shows progress after ``step`` steps (1-based); ``finalize`` ends the line."""
        if self.verbose not in (1, 2):
            return
        now = time.perf_counter()
        if not finalize:
            if not self._dynamic or now - self._last_draw < self.interval:
                return
            if self.target and step >= self.target:
                return  # the final line follows at once
        self._last_draw = now
        elapsed = now - self._start
        line = self._line(step, logs, elapsed, finalize)
        if self._dynamic:
            pad = max(0, self._last_width - len(line))
            self.stream.write("\b" * self._last_width + "\r" + line + " " * pad)
            self._last_width = len(line)
        else:
            self.stream.write(line)
        if finalize:
            self.stream.write("\n")
        self.stream.flush()

    def _line(self, step: int, logs, elapsed: float, finalize: bool) -> str:
        per_step = elapsed / step if step else 0.0
        target = self.target
        if self.verbose == 2:
            count = f"{step}/{target}" if target else f"{step}"
            return (f"{count} - {format_duration(elapsed)} - {format_time_per_step(per_step)}"
                    + format_logs(logs))
        if target:
            width = len(str(target))
            done = min(_BAR_WIDTH, int(_BAR_WIDTH * step / target))
            bar = "=" * done + (">" if done < _BAR_WIDTH else "") + "." * (_BAR_WIDTH - done - 1)
            head = f"{step:>{width}}/{target} [{bar[:_BAR_WIDTH]}]"
        else:
            head = f"{step}"
        if finalize or not target:
            timing = f" {format_duration(elapsed)} {format_time_per_step(per_step)}"
        else:
            timing = f" - ETA: {format_duration(per_step * (target - step))}"
        return head + timing + format_logs(logs)
