"""plot_history writes a PNG with matplotlib, and says how to get matplotlib when it is missing."""

import builtins

import pytest

from pydl import callbacks, utils

HISTORY = {"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.7, 0.8], "val_loss": [1.1, 0.6, 0.4],
           "val_accuracy": [0.4, 0.6, 0.75]}


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    history = callbacks.History()
    history.history = dict(HISTORY)
    path = utils.plot_history(history, tmp_path / "history.png")
    data = (tmp_path / "history.png").read_bytes()
    assert str(path).endswith("history.png") and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    utils.plot_history({"loss": [1.0]}, tmp_path / "dict.png")
    assert (tmp_path / "dict.png").exists()
    with pytest.raises(ValueError, match="history"):
        utils.plot_history({}, tmp_path / "empty.png")


def test_plot_history_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"pip install matplotlib.*pydl\[plot\]"):
        utils.plot_history(HISTORY, tmp_path / "x.png")
