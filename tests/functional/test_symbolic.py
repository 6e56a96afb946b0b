"""Symbolic tensors and nodes: Input, layer calls on KerasTensors, shape inference, errors."""

import numpy as np
import pytest

import pydl
from pydl import layers, ops
from pydl.layers.keras_tensor import KerasHistory


def test_input_returns_a_keras_tensor_with_its_history():
    x = pydl.Input(shape=(4,), name="pixels")
    assert isinstance(x, pydl.KerasTensor)
    assert x.shape == (None, 4) and x.dtype == "float32" and x.name == "pixels" and x.ndim == 2
    layer, node_index, tensor_index = x._keras_history
    assert isinstance(layer, layers.InputLayer) and layer.name == "pixels"
    assert (node_index, tensor_index) == (0, 0)
    assert layer._inbound_nodes[0].is_input and layer.output is x
    assert x._keras_history.operation is layer  # Keras 3's field name


def test_input_batch_size_batch_shape_and_dtype():
    assert pydl.Input(shape=(3, 2), batch_size=8).shape == (8, 3, 2)
    assert pydl.Input(batch_shape=(None, 5), dtype="float64").dtype == "float64"
    with pytest.raises(ValueError, match="shape or batch_shape"):
        pydl.Input(shape=(3,), batch_shape=(None, 3))


def test_layer_call_records_a_node_and_builds_the_layer():
    x = pydl.Input(shape=(4,))
    dense = layers.Dense(3)
    y = dense(x)
    assert dense.built and dense.kernel.shape == (4, 3)
    assert y.shape == (None, 3) and y.dtype == "float32"
    assert y._keras_history == KerasHistory(dense, 0, 0)
    node = dense._inbound_nodes[0]
    assert node.input_tensors == [x] and node.outputs == [y] and node.call_kwargs == {}
    assert dense.input is x and dense.output is y
    assert node.parent_nodes == [x._keras_history.layer._inbound_nodes[0]]


def test_merge_call_keeps_the_list_structure():
    a, b = pydl.Input(shape=(2,)), pydl.Input(shape=(3,))
    concat = layers.Concatenate()
    y = concat([a, b])
    assert y.shape == (None, 5)
    node = concat._inbound_nodes[0]
    assert node.call_args == ([a, b],) and node.input_tensors == [a, b]
    assert concat.input == [a, b]


def test_shared_layer_has_one_node_per_call_and_input_output_are_the_first():
    a, b = pydl.Input(shape=(4,)), pydl.Input(shape=(4,))
    dense = layers.Dense(2)
    ya, yb = dense(a), dense(b)
    assert len(dense._inbound_nodes) == 2 and yb._keras_history.node_index == 1
    assert dense.input is a and dense.output is ya  # Keras 3: the first call's tensors
    assert len(dense.weights) == 2


def test_never_called_layer_has_no_input_or_output():
    with pytest.raises(AttributeError, match="never been called"):
        layers.Dense(2).output


def test_explicit_training_is_recorded_as_a_node_kwarg():
    x = pydl.Input(shape=(4,))
    drop = layers.Dropout(0.5)
    drop(x, training=False)
    assert drop._inbound_nodes[0].call_kwargs == {"training": False}


class NoShape(layers.Layer):
    """A layer without compute_output_shape: its output shape comes from a probe call."""

    def call(self, x):
        return ops.concatenate([x, x], axis=1)[:, :, :3]


def test_output_shape_by_probe_keeps_unknown_dimensions_unknown():
    x = pydl.Input(shape=(None, 5))
    y = NoShape()(x)
    assert y.shape == (None, None, 3)
    z = layers.Dense(7)(x)  # compute_output_shape keeps None too
    assert z.shape == (None, None, 7)


def test_probe_dtype_and_structure_of_several_outputs():
    class Split(layers.Layer):
        def call(self, x):
            return {"left": x[:, :2], "right": ops.cast(x[:, 2:], "float64")}

    out = Split()(pydl.Input(shape=(5,)))
    assert set(out) == {"left", "right"}
    assert out["left"].shape == (None, 2) and out["right"].shape == (None, 3)
    assert out["right"].dtype == "float64"


def test_incompatible_input_for_a_built_layer_names_layer_and_both_shapes():
    dense = layers.Dense(5, name="proj")
    dense(pydl.Input(shape=(64,)))
    with pytest.raises(ValueError, match=r"'proj'.*built for input shape \(None, 64\).*"
                                         r"received input shape \(None, 32\)"):
        dense(pydl.Input(shape=(32,)))
    eager = layers.Dense(5, name="eager")
    eager(np.zeros((2, 64), np.float32))  # built on data: the probe finds the mismatch
    with pytest.raises(ValueError, match=r"'eager'.*\(None, 32\)"):
        eager(pydl.Input(shape=(32,)))
    assert len(eager._inbound_nodes) == 0


def test_compatible_call_of_a_built_layer_is_accepted():
    dense = layers.Dense(5)
    dense(np.zeros((3, 8), np.float32))
    assert dense(pydl.Input(shape=(8,))).shape == (None, 5)


def test_mixing_symbolic_and_arrays_is_an_error():
    x = pydl.Input(shape=(3,))
    with pytest.raises(ValueError, match="mixed with a ndarray"):
        layers.Add()([x, np.ones((1, 3), np.float32)])


def test_keras_tensor_refuses_numpy_and_ops():
    x = pydl.Input(shape=(3,))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Lambda"):
        ops.add(x, 1.0)


def test_eager_calls_are_unchanged():
    dense = layers.Dense(2)
    out = dense(np.ones((3, 4), np.float32))
    assert isinstance(out, pydl.ops.Tensor) and not dense._inbound_nodes


class DictSum(layers.Layer):
    def call(self, inputs):
        return ops.add(inputs["a"], ops.multiply(inputs["b"], 2.0))


class TwoArgs(layers.Layer):
    def call(self, x, y, scale=1.0):
        return ops.multiply(ops.subtract(x, y), scale)


def test_dict_tuple_and_several_positional_arguments():
    a, b = pydl.Input(shape=(3,), name="a"), pydl.Input(shape=(3,), name="b")
    summed = DictSum()({"b": b, "a": a})
    pair = layers.Add()((a, b))
    diff = TwoArgs()(a, b, scale=3.0)
    assert summed.shape == pair.shape == diff.shape == (None, 3)
    assert diff._keras_history.layer._inbound_nodes[0].call_kwargs == {"scale": 3.0}
    model = pydl.Model([a, b], [summed, pair, diff])
    va, vb = np.ones((2, 3), np.float32), np.full((2, 3), 2.0, np.float32)
    s, p, d = model([va, vb])
    np.testing.assert_array_equal(np.asarray(s), va + 2 * vb)
    np.testing.assert_array_equal(np.asarray(p), va + vb)
    np.testing.assert_array_equal(np.asarray(d), 3 * (va - vb))
    by_layer = {type(n.layer).__name__: n for n in model._graph().nodes}
    assert by_layer["DictSum"].inputs == [0, 1]  # dict values in sorted key order: a, b
    assert by_layer["TwoArgs"].inputs == [0, 1] and by_layer["TwoArgs"].kwargs == {"scale": 3.0}


def test_clear_session_restarts_tensor_names():
    pydl.backend.clear_session()
    assert pydl.layers.Dense(2)(pydl.Input(shape=(3,))).name == "keras_tensor"
    assert pydl.Input(shape=(3,)).name == "input_layer_1"
