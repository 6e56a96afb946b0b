"""The examples run and reach what they claim (digits: >= 97% test accuracy)."""

import importlib.util
import os

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_reaches_97_percent_and_writes_the_plot(tmp_path, capsys):
    pytest.importorskip("sklearn")
    plot = tmp_path / "digits.png"
    accuracy = load_example("digits").main(plot=str(plot), verbose=0)
    assert accuracy >= 0.97
    out = capsys.readouterr().out
    assert "test accuracy" in out
    if importlib.util.find_spec("matplotlib") is not None:
        assert plot.read_bytes()[:4] == b"\x89PNG"
    else:
        assert "pip install matplotlib" in out


def test_breast_cancer_learns():
    pytest.importorskip("sklearn")
    assert load_example("breast_cancer").main(verbose=0) >= 0.95


def test_diabetes_regression_beats_the_mean():
    pytest.importorskip("sklearn")
    mae, baseline = load_example("diabetes_regression").main(epochs=30)
    assert mae < 0.9 * baseline


def test_custom_layer_tape_learns_a_linear_rule():
    assert load_example("custom_layer_tape").main(steps=150, verbose=False) >= 0.9
