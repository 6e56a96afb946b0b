"""plot_history: the loss and metric curves of a training run, as a PNG (needs matplotlib)."""

from __future__ import annotations

import os


def _history_dict(history) -> dict:
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(
            "history: expected a History returned by fit (or its non-empty .history dict), "
            f"received {type(history).__name__}"
        )
    return logs


def plot_history(history, path, title=None):
    """Saves the curves of `history` to the PNG `path`: one panel per quantity, train and validation.

    Args:
        history: the `History` returned by `fit`, or its ``history`` dict.
        path: where to write the PNG.
        title: optional title of the figure.

    Returns:
        `path`.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "pydl.utils.plot_history needs matplotlib: pip install matplotlib (or pip install pydl[plot])"
        ) from None
    logs = _history_dict(history)
    names = [k for k in logs if not k.startswith("val_")]
    names += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in names]
    # The Agg canvas is used directly (no pyplot): no global backend state, no display needed.
    figure = Figure(figsize=(4.5 * len(names), 3.5), layout="tight")
    FigureCanvasAgg(figure)
    for i, name in enumerate(names):
        axes = figure.add_subplot(1, len(names), i + 1)
        for key, label, style in ((name, "train", "-"), ("val_" + name, "validation", "--")):
            if key in logs:
                values = [float(v) for v in logs[key]]
                axes.plot(range(1, len(values) + 1), values, style, marker="o", markersize=3, label=label)
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    path = os.fspath(path)
    figure.savefig(path, format="png", dpi=100)
    return path
