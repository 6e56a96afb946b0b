"""The live progress bar in notebooks: Keras' dynamic-display rule (terminal, ipykernel,
PyCharm), tested with a stand-in ipykernel module and captured output."""

from __future__ import annotations

import io
import re
import sys
import types

import numpy as np
import pytest

import pydl
from pydl.models import progbar
from pydl.models.progbar import Progbar


@pytest.fixture
def plain(monkeypatch):
    """No terminal, no notebook, no PyCharm: whatever the machine running the tests is."""
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)


@pytest.fixture
def notebook(plain, monkeypatch):
    """A stand-in for Jupyter / Colab: the ipykernel module is loaded."""
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))


def rendered(text: str) -> list:
    """The lines a display shows after interpreting backspace and carriage return."""
    lines, line, col = [], [], 0
    for ch in text:
        if ch == "\n":
            lines.append("".join(line).rstrip())
            line, col = [], 0
        elif ch == "\r":
            col = 0
        elif ch == "\b":
            col = max(0, col - 1)
        else:
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    if line:
        lines.append("".join(line).rstrip())
    return lines


def test_the_rule(plain, monkeypatch):
    assert not progbar.dynamic_display(io.StringIO())
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert progbar.dynamic_display(io.StringIO())
    monkeypatch.delitem(sys.modules, "ipykernel")
    monkeypatch.setenv("PYCHARM_HOSTED", "1")
    assert progbar.dynamic_display(io.StringIO())
    monkeypatch.delenv("PYCHARM_HOSTED")
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    assert progbar.dynamic_display(terminal)
    # Keras 3 also counts "posix" in sys.modules (true in every process here); pydl does not.
    assert "posix" in sys.modules or "nt" in sys.modules
    assert not progbar.dynamic_display(io.StringIO())


def test_a_notebook_gets_a_live_bar_redrawn_in_place(notebook):
    stream = io.StringIO()  # ipykernel's stream is no terminal either
    bar = Progbar(5, verbose=1, stream=stream, interval=0.0)
    for step in range(1, 5):
        bar.update(step, {"loss": 1.0 / step})
    bar.update(5, {"loss": 0.2}, finalize=True)
    text = stream.getvalue()
    assert text.count("\r") == 5 and "ETA" in text and "\b" in text
    # Each redraw first backs over the previous line, as Keras writes it.
    widths = [len(m) for m in re.findall(r"\r([^\r\b\n]*)", text)]
    assert all(f"{chr(8) * w}\r" in text for w in widths[:-1])
    shown = rendered(text)
    assert len(shown) == 1 and shown[0].startswith("5/5 [====================]")
    assert "ETA" not in shown[0] and shown[0].endswith("loss: 0.2000")


def test_outside_a_notebook_only_final_lines(plain):
    stream = io.StringIO()
    bar = Progbar(5, verbose=1, stream=stream, interval=0.0)
    for step in range(1, 5):
        bar.update(step, {"loss": 1.0})
    bar.update(5, {"loss": 1.0}, finalize=True)
    assert "\r" not in stream.getvalue() and stream.getvalue().count("\n") == 1


def model_and_data():
    pydl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = x @ np.ones((3, 1), np.float32)
    model = pydl.Sequential([pydl.Input(shape=(3,)), pydl.layers.Dense(2, activation="relu"),
                             pydl.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model, x, y


def test_fit_in_a_notebook_redraws_each_epoch_live(notebook, monkeypatch, capsys):
    monkeypatch.setattr(progbar, "DEFAULT_INTERVAL", 0.0)  # redraw at every batch
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, batch_size=10, verbose=1)
    out = capsys.readouterr().out
    assert out.count("ETA") >= 2 * 3  # batches 1-3 of 4, in each epoch
    shown = rendered(out)
    assert shown[0] == "Epoch 1/2" and shown[2] == "Epoch 2/2" and len(shown) == 4
    for line in (shown[1], shown[3]):
        assert line.startswith("4/4 [====================]") and "ETA" not in line
        assert "loss:" in line and "mae:" in line
    model.evaluate(x, y, batch_size=10, verbose=1)
    assert "\r" in capsys.readouterr().out


def test_verbose_semantics_unchanged_in_a_notebook(notebook, capsys):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, batch_size=10, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, batch_size=10, verbose=2)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out
    lines = out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[1].startswith("4/4 - ") and len(lines) == 4
