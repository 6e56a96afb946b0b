"""model.export(path, format="onnx"): the file passes onnx.checker and onnxruntime computes
predict's outputs (max abs difference <= 1e-5 in float32) at any batch size."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import pydl
from pydl import layers

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu",
               "gelu", "softplus", "silu", "swish")


def run(path, *inputs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {spec.name: x for spec, x in zip(session.get_inputs(), inputs)}
    return session.run(None, feeds)


def models():
    pydl.utils.set_random_seed(0)
    out = [(f"activation_{name}", pydl.Sequential([
        pydl.Input(shape=(6,)), layers.Dense(9, activation=name), layers.Activation(name),
        layers.Dense(4)]), (6,)) for name in ACTIVATIONS]
    out.append(("mlp_dropout_flatten", pydl.Sequential([
        pydl.Input(shape=(4, 3)), layers.Flatten(), layers.Dense(16, activation="relu"),
        layers.Dropout(0.5), layers.Dense(10, activation="softmax")]), (4, 3)))
    out.append(("no_bias_rank3", pydl.Sequential([
        pydl.Input(shape=(5, 3)), layers.Dense(4, use_bias=False, activation="tanh"),
        layers.Dense(2)]), (5, 3)))
    inner = pydl.Sequential([pydl.Input(shape=(8,)), layers.Dense(5, activation="elu"),
                             layers.Dense(3)], name="inner")
    out.append(("nested", pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(8), inner,
                                           layers.Activation("softmax")]), (6,)))
    late = pydl.Sequential([layers.Dense(5, activation="relu"), layers.Dense(2)])
    late.build((None, 6))
    out.append(("built_by_build", late, (6,)))
    return out


@pytest.mark.parametrize("name, model, shape", models(), ids=lambda v: v if isinstance(v, str) else "")
def test_onnxruntime_matches_predict(tmp_path, name, model, shape):
    path = tmp_path / f"{name}.onnx"
    model.export(path, format="onnx", verbose=False)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [17]
    rng = np.random.default_rng(1)
    for batch in (1, 7, 300):  # the batch dimension is dynamic
        x = (rng.standard_normal((batch, *shape)) * 3).astype(np.float32)
        (got,) = run(path, x)
        expected = model.predict(x, verbose=0)
        assert got.shape == expected.shape and got.dtype == np.float32
        assert np.abs(got - expected).max() <= 1e-5


def test_float64_models_export_as_double(tmp_path):
    pydl.utils.set_random_seed(1)
    model = pydl.Sequential([pydl.Input(shape=(5,), dtype="float64"),
                             layers.Dense(4, activation="tanh", dtype="float64"),  # onnxruntime lacks float64 Erf, Selu
                             layers.Dense(2, dtype="float64")])
    model.export(tmp_path / "f64.onnx", format="onnx", verbose=False)
    x = np.random.default_rng(2).standard_normal((9, 5))
    (got,) = run(tmp_path / "f64.onnx", x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-12, rtol=0)


def test_inputs_outputs_and_opset_choice(tmp_path, capsys):
    model = pydl.Sequential([pydl.Input(shape=(3,), name="pixels"), layers.Dense(2)])
    model.export(tmp_path / "m.onnx", format="onnx", opset_version=19)
    assert "Saved artifact at" in capsys.readouterr().out
    proto = onnx.load(tmp_path / "m.onnx")
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [19]
    (graph_input,) = proto.graph.input
    assert graph_input.name == "pixels"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 3
    assert [o.name for o in proto.graph.output] == ["output"]
    model.export(tmp_path / "sig.onnx", format="onnx", verbose=False,
                 input_signature=[pydl.Input(shape=(3,))])
    with pytest.raises(ValueError, match="input_signature"):
        model.export(tmp_path / "bad.onnx", format="onnx", input_signature=[(None, 4)])
    with pytest.raises(ValueError, match="opset_version"):
        model.export(tmp_path / "bad.onnx", format="onnx", opset_version=9)
    with pytest.raises(ValueError, match="format"):
        model.export(tmp_path / "m")
    with pytest.raises(TypeError, match="unexpected"):
        model.export(tmp_path / "m.onnx", format="onnx", dynamic_axes=True)


class Twice(layers.Layer):
    def call(self, x):
        return pydl.ops.multiply(x, 2.0)

    def compute_output_shape(self, input_shape):
        return input_shape


def test_unsupported_layers_are_named(tmp_path):
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2), Twice(name="twice")])
    with pytest.raises(ValueError, match=r"'twice' \(Twice\)"):
        model.export(tmp_path / "m.onnx", format="onnx", verbose=False)
    assert not (tmp_path / "m.onnx").exists()
    custom = pydl.Sequential([pydl.Input(shape=(3,)),
                              layers.Dense(2, activation=lambda x: pydl.ops.multiply(x, x))])
    with pytest.raises(ValueError, match="custom function"):
        custom.export(tmp_path / "m.onnx", format="onnx", verbose=False)


def test_a_registered_converter_exports_a_custom_layer(tmp_path, monkeypatch):
    from pydl.export import onnx_layers

    monkeypatch.setattr(onnx_layers, "_CUSTOM", {})
    onnx_layers.register(Twice, lambda builder, layer, x, base: builder.op(
        "Mul", [x, builder.constant(f"{base}/two", 2.0)], base))
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2), Twice()])
    model.export(tmp_path / "m.onnx", format="onnx", verbose=False)
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    (got,) = run(tmp_path / "m.onnx", x)
    assert np.abs(got - model.predict(x, verbose=0)).max() <= 1e-5


def test_subclassed_models_are_refused(tmp_path):
    class Net(pydl.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    net = Net()
    net(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="subclassed"):
        net.export(tmp_path / "net.onnx", format="onnx", verbose=False)


def test_missing_onnx_names_the_extra(tmp_path, monkeypatch):
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pydl\[onnx\]"):
        model.export(tmp_path / "m.onnx", format="onnx")


def functional_models():
    """(name, model, input shapes) of functional graphs with every merge and shape layer."""
    pydl.utils.set_random_seed(3)
    L = layers
    a, b = pydl.Input(shape=(6,), name="a"), pydl.Input(shape=(6,), name="b")
    shared = L.Dense(5, activation="tanh")
    x, y = shared(a), shared(b)
    s = L.Add()([x, y])
    merged = L.Concatenate()([
        L.Concatenate()([x, y]), s, L.Subtract()([x, y]), L.Multiply()([x, y, s]),
        L.Average()([x, y, s]), L.Maximum()([x, y]), L.Minimum()([x, y]),
        L.Dot(axes=1)([x, y]), L.Dot(axes=-1, normalize=True)([x, y]),
        L.Flatten()(L.Permute((2, 1))(L.Reshape((5, 2))(L.Concatenate()([x, y])))),
        L.Flatten()(L.RepeatVector(3)(x))])
    inner = pydl.Sequential([pydl.Input(shape=(5,)), L.Dense(4, activation="gelu")], name="inner")
    z = pydl.Input(shape=(4,))
    inner_functional = pydl.Model(z, L.Dense(3, activation="elu")(z), name="inner_functional")
    out1 = L.Dense(3, activation="softmax")(merged)
    out2 = inner_functional(inner(s))
    graph = pydl.Model([a, b], [out1, out2], name="graph")
    p, q = pydl.Input(shape=(4, 3)), pydl.Input(shape=(5, 3))
    scores = L.Dot(axes=(2, 2))([p, q])
    attention = pydl.Model([p, q], L.Flatten()(L.Dot(axes=(2, 1))([scores, L.Dense(2)(q)])))
    return [("graph", graph, [(6,), (6,)]), ("sequence_dot", attention, [(4, 3), (5, 3)])]


@pytest.mark.parametrize("name, model, shapes", functional_models(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_functional_models_in_onnxruntime(tmp_path, name, model, shapes):
    path = tmp_path / f"{name}.onnx"
    model.export(path, format="onnx", verbose=False)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    rng = np.random.default_rng(4)
    for batch in (1, 13):
        xs = [rng.standard_normal((batch, *shape)).astype(np.float32) for shape in shapes]
        got = run(path, *xs)
        expected = model(xs, training=False)
        expected = expected if isinstance(expected, (list, tuple)) else [expected]
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == np.asarray(e).shape
            assert np.abs(g - np.asarray(e)).max() <= 1e-5


def test_lambda_is_refused_by_name(tmp_path):
    i = pydl.Input(shape=(3,))
    model = pydl.Model(i, layers.Lambda(lambda t: pydl.ops.multiply(t, 2.0), name="twice")(i))
    with pytest.raises(ValueError, match=r"'twice' \(Lambda\).*Python code"):
        model.export(tmp_path / "m.onnx", format="onnx", verbose=False)


def beyond_dense_models():
    """(name, model, input) for the normalization, embedding, pooling, preprocessing and
    noise layers (trained or given non-trivial statistics)."""
    L = layers
    rng = np.random.default_rng(5)
    pydl.utils.set_random_seed(5)
    x = (rng.standard_normal((64, 5)) * 3 + 1).astype(np.float32)
    norm = L.Normalization()
    norm.adapt(x)
    dense_stack = pydl.Sequential([
        pydl.Input(shape=(5,)), norm, L.Dense(8, activation="relu"), L.BatchNormalization(),
        L.LayerNormalization(), L.UnitNormalization(), L.Rescaling(0.5, offset=1.0),
        L.GaussianNoise(0.1), L.GaussianDropout(0.1), L.AlphaDropout(0.1),
        L.ActivityRegularization(0.01), L.Identity(), L.Dense(2)])
    dense_stack.compile(optimizer="adam", loss="mse")
    dense_stack.fit(x, x[:, :2], epochs=2, batch_size=16, verbose=0)  # moving statistics move
    per_axis = pydl.Sequential([
        pydl.Input(shape=(4, 5)), L.BatchNormalization(axis=1),
        L.LayerNormalization(axis=[1, 2], rms_scaling=True),
        L.Normalization(axis=1, mean=[1.0, 2, 3, 4], variance=[1.0, 2, 3, 4], invert=True)])
    for w in per_axis.weights:
        w.assign(rng.uniform(0.5, 1.5, w.value.shape).astype(np.float32))
    ids = rng.integers(0, 20, (9, 6)).astype(np.float32)
    ids[:, -2:] = 0  # padding
    out = [("normalization_stack", dense_stack, x), ("per_axis", per_axis,
                                                     rng.standard_normal((9, 4, 5)).astype(np.float32))]
    for mask_zero in (False, True):
        out.append((f"embedding_mask_{mask_zero}", pydl.Sequential([
            pydl.Input(shape=(6,)), L.Embedding(20, 4, mask_zero=mask_zero), L.Dropout(0.1),
            L.Dense(3, activation="tanh"), L.GlobalAveragePooling1D(), L.Dense(2)]), ids))
    out.append(("embedding_max", pydl.Sequential([
        pydl.Input(shape=(6,)), L.Embedding(20, 4), L.GlobalMaxPooling1D(keepdims=True),
        L.Flatten()]), ids))
    for mode in ("multi_hot", "count"):
        out.append((f"category_{mode}", pydl.Sequential([
            pydl.Input(shape=(6,)), L.CategoryEncoding(20, output_mode=mode), L.Dense(3)]), ids))
    out.append(("category_one_hot", pydl.Sequential([
        pydl.Input(shape=(1,)), L.CategoryEncoding(20, output_mode="one_hot")]), ids[:, :1]))
    return out


@pytest.mark.parametrize("opset", [17, 18])  # ReduceMean/ReduceMax take axes as an input from 18
@pytest.mark.parametrize("name, model, x", beyond_dense_models(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_beyond_dense_layers_in_onnxruntime(tmp_path, name, model, x, opset):
    path = tmp_path / f"{name}.onnx"
    model.export(path, format="onnx", verbose=False, opset_version=opset)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    (got,) = run(path, x)
    assert np.abs(got - model.predict(x, verbose=0)).max() <= 1e-5
