"""summary() of Functional models: InputLayers listed, the "Connected to" column, totals."""

import pydl
from pydl import layers


def lines_of(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def test_branching_model_has_a_connected_to_column():
    a = pydl.Input(shape=(4,), name="a")
    b = pydl.Input(shape=(3,), name="b")
    x = layers.Concatenate(name="cat")([layers.Dense(5, name="h")(a), layers.Dense(5, name="g")(b)])
    model = pydl.Model([a, b], layers.Dense(2, name="out")(x), name="towers")
    lines = lines_of(model)
    assert lines[0] == 'Model: "towers"'
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Connected",
                                "to"]
    assert len(lines[1]) == 98
    rows = [line.split() for line in lines[4:] if line.startswith(" ") and "(" in line]
    assert rows[0] == ["a", "(InputLayer)", "(None,", "4)", "0", "-"]
    assert rows[2] == ["h", "(Dense)", "(None,", "5)", "25", "a[0][0]"]
    cat = next(i for i, line in enumerate(lines) if line.startswith(" cat (Concatenate)"))
    assert lines[cat].split()[-1] == "h[0][0]," and lines[cat + 1].split() == ["g[0][0]"]
    assert lines[cat].split()[2:5] == ["(None,", "10)", "0"]
    assert "Total params: 67 (268.00 B)" in lines
    assert "Trainable params: 67 (268.00 B)" in lines


def test_shared_layer_lists_every_call():
    shared = layers.Dense(2, name="sh")
    a, b = pydl.Input(shape=(3,), name="a"), pydl.Input(shape=(3,), name="b")
    model = pydl.Model([a, b], layers.add([shared(a), shared(b)], name="plus"))
    lines = lines_of(model)
    row = next(i for i, line in enumerate(lines) if line.startswith(" sh (Dense)"))
    assert lines[row].split()[-1] == "a[0][0]," and lines[row + 1].split() == ["b[0][0]"]
    plus = next(line for line in lines if line.startswith(" plus (Add)"))
    assert plus.split()[-1] == "sh[0][0]," and "Total params: 8 (32.00 B)" in lines
    assert any(line.split() == ["sh[1][0]"] for line in lines)


def test_chain_is_printed_like_a_sequential_with_its_input_layer():
    x = pydl.Input(shape=(8,), name="x")
    model = pydl.Model(x, layers.Dense(2, name="d2")(layers.Dense(4, name="d1")(x)), name="chain")
    lines = lines_of(model)
    assert "Connected" not in lines[2] and len(lines[1]) == 65
    names = [line.split()[0] for line in lines[4:] if line.startswith(" ") and "(" in line]
    assert names == ["x", "d1", "d2"]


def test_nested_model_row_and_multi_output_shapes():
    ia = pydl.Input(shape=(4,))
    inner = pydl.Model(ia, [layers.Dense(3)(ia), layers.Dense(2)(ia)], name="pair")
    x = pydl.Input(shape=(4,), name="x")
    p, q = inner(x)
    model = pydl.Model(x, layers.concatenate([p, q], name="cat2"))
    lines = lines_of(model)
    row = next(i for i, line in enumerate(lines) if line.startswith(" pair (Functional)"))
    assert lines[row].split()[2:] == ["[(None,", "3),", "25", "x[0][0]"]
    assert lines[row + 1].split() == ["(None,", "2)]"]
    cat = next(i for i, line in enumerate(lines) if line.startswith(" cat2 (Concatenate)"))
    assert lines[cat].split()[-1] == "pair[0][0]," and lines[cat + 1].split() == ["pair[0][1]"]


def test_sequential_summary_is_unchanged():
    model = pydl.Sequential([pydl.Input(shape=(784,)), layers.Dense(512, name="dense"),
                             layers.Dense(10, name="dense_1")], name="sequential")
    assert lines_of(model) == [
        'Model: "sequential"',
        "_" * 65,
        " Layer (type)                Output Shape              Param #",
        "=" * 65,
        " dense (Dense)               (None, 512)               401,920",
        "",
        " dense_1 (Dense)             (None, 10)                5,130",
        "=" * 65,
        "Total params: 407,050 (1.55 MB)",
        "Trainable params: 407,050 (1.55 MB)",
        "Non-trainable params: 0 (0.00 B)",
        "_" * 65,
    ]
