"""ONNX converters of pydl's built-in layers: ``fn(builder, layer, inputs, base) -> outputs``.

Each converter receives the ONNX names of the layer's inputs (a name, or a list for merge
layers) and adds nodes computing the layer's inference output with ``builder.op``.
A converter is chosen by the layer's exact class (a subclass may compute something
else); ``register(cls, fn)`` adds one for a custom layer.

    layer                       ONNX
    Dense                       MatMul, Add (bias), then the activation
    Activation                  the activation:
        relu sigmoid tanh softplus -> Relu Sigmoid Tanh Softplus
        softmax                 -> Softmax(axis=-1)
        leaky_relu elu selu     -> LeakyRelu(alpha) Elu(alpha) Selu(Keras' constants)
        gelu (exact)            -> x * 0.5 * (1 + Erf(x / sqrt(2)))
        silu / swish            -> x * Sigmoid(x)
        linear                  -> Identity
    Dropout, InputLayer         Identity
    Flatten                     Flatten(axis=1)
    Concatenate                 Concat(axis)
    Add Subtract Multiply       Sum, Sub, Mul
    Average Maximum Minimum     Mean, Max, Min
    Dot                         Transpose, Reshape, MatMul (Keras' batch_dot), L2 normalization
    Reshape Permute             Reshape([0, *target_shape]), Transpose([0, *dims])
    RepeatVector                Unsqueeze, Tile
    GaussianNoise GaussianDropout AlphaDropout ActivityRegularization Identity: Identity
    normalization layers        onnx_normalization.py
    Embedding, pooling, CategoryEncoding: onnx_sequences.py
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.activation import core_activation

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

_BY_NAME: dict = {}   # built-in class name -> converter
_CUSTOM: dict = {}    # class -> converter (register)


def register(cls, fn, takes_list: bool = False) -> None:
    """Exports layers of exactly class ``cls`` with ``fn(builder, layer, x, base)``, ``x``
    the input's ONNX name (the list of names when ``takes_list``)."""
    if not isinstance(cls, type) or not callable(fn):
        raise TypeError(f"register: expected a layer class and a function, received {cls!r}, {fn!r}")
    fn._takes_list = bool(takes_list)
    _CUSTOM[cls] = fn


def _builtin(*names, many=False):
    """Registers a converter for these built-in classes; ``many``: it takes the list of
    the layer's inputs (merge layers), else the one input's name."""
    def add(fn):
        fn._takes_list = many
        for name in names:
            _BY_NAME[name] = fn
        return fn
    return add


def supported() -> list:
    from . import onnx_normalization, onnx_sequences  # noqa: F401 (their converters)

    return sorted(_BY_NAME)


def _converter(layer):
    from .. import layers

    cls = type(layer)
    fn = _CUSTOM.get(cls)
    if fn is None and getattr(layers, cls.__name__, None) is cls:
        fn = _BY_NAME.get(cls.__name__)
    return fn


def takes_list(layer) -> bool:
    """Whether the layer receives a list of inputs (a merge layer)."""
    fn = _converter(layer)
    return bool(getattr(fn, "_takes_list", False))


def convert(builder, layer, inputs: list, base: str, kwargs: dict):
    """The ONNX output name(s) of ``layer`` applied to ``inputs`` (names, in call order)."""
    cls = type(layer)
    fn = _converter(layer)
    if fn is None:
        hint = " (a Lambda runs Python code, which ONNX cannot hold)" if cls.__name__ == "Lambda" else ""
        raise ValueError(
            f"export: the layer {layer.name!r} ({cls.__name__}) cannot be exported to ONNX{hint}. "
            f"Supported layers: {', '.join(supported())}; a custom layer needs a converter "
            f"(pydl.export.onnx_layers.register)")
    if getattr(fn, "_takes_list", False):
        return fn(builder, layer, list(inputs), base)
    if len(inputs) != 1:
        raise ValueError(f"export: the layer {layer.name!r} ({cls.__name__}) received "
                         f"{len(inputs)} inputs, its converter takes one")
    return fn(builder, layer, inputs[0], base)


# -- activations -----------------------------------------------------------------------
def activation(builder, x: str, fn, base: str, owner=None) -> str:
    spec = core_activation(fn)
    if spec is None:
        name = getattr(fn, "__name__", repr(fn))
        raise ValueError(f"export: the activation {name!r}"
                         + (f" of layer {owner.name!r}" if owner is not None else "")
                         + " is a custom function and cannot be exported to ONNX")
    name, alpha = spec
    simple = {"linear": "Identity", "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh",
              "softplus": "Softplus"}
    if name in simple:
        return builder.op(simple[name], [x], base)
    if name == "softmax":
        return builder.op("Softmax", [x], base, axis=-1)
    if name == "leaky_relu":
        return builder.op("LeakyRelu", [x], base, alpha=float(alpha))
    if name == "elu":
        return builder.op("Elu", [x], base, alpha=float(alpha))
    if name == "selu":
        return builder.op("Selu", [x], base, alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
    if name == "gelu":
        scaled = builder.op("Mul", [x, builder.constant(f"{base}/sqrt1_2", math.sqrt(0.5))], base)
        erf = builder.op("Erf", [scaled], base)
        one_plus = builder.op("Add", [erf, builder.constant(f"{base}/one", 1.0)], base)
        half_x = builder.op("Mul", [x, builder.constant(f"{base}/half", 0.5)], base)
        return builder.op("Mul", [half_x, one_plus], base)
    if name == "silu":
        return builder.op("Mul", [x, builder.op("Sigmoid", [x], base)], base)
    raise ValueError(f"export: the activation {name!r} has no ONNX form")


# -- core layers -----------------------------------------------------------------------
@_builtin("Dense")
def _dense(builder, layer, x, base):
    y = builder.op("MatMul", [x, builder.constant(f"{base}/kernel", layer.kernel.value)], base)
    if layer.bias is not None:
        y = builder.op("Add", [y, builder.constant(f"{base}/bias", layer.bias.value)], base)
    return activation(builder, y, layer.activation, base, owner=layer)


@_builtin("Activation")
def _activation_layer(builder, layer, x, base):
    return activation(builder, x, layer.activation, base, owner=layer)


@_builtin("Dropout", "InputLayer", "Identity", "GaussianNoise", "GaussianDropout", "AlphaDropout",
          "ActivityRegularization")
def _identity(builder, layer, x, base):
    return builder.op("Identity", [x], base)


@_builtin("Flatten")
def _flatten(builder, layer, x, base):
    return builder.op("Flatten", [x], base, axis=1)


# -- merge layers ------------------------------------------------------------------------
def _inputs(layer, inputs, at_least=2) -> list:
    if not isinstance(inputs, list) or len(inputs) < at_least:
        raise ValueError(f"export: the layer {layer.name!r} needs a list of at least "
                         f"{at_least} inputs")
    return inputs


@_builtin("Concatenate", many=True)
def _concatenate(builder, layer, inputs, base):
    return builder.op("Concat", _inputs(layer, inputs, 1), base, axis=int(layer.axis))


def _variadic(op_type):
    def convert(builder, layer, inputs, base):
        return builder.op(op_type, _inputs(layer, inputs, 1), base)
    return convert


_builtin("Add", many=True)(_variadic("Sum"))
_builtin("Average", many=True)(_variadic("Mean"))
_builtin("Maximum", many=True)(_variadic("Max"))
_builtin("Minimum", many=True)(_variadic("Min"))


@_builtin("Multiply", many=True)
def _multiply(builder, layer, inputs, base):
    inputs = _inputs(layer, inputs, 1)
    out = inputs[0]
    for other in inputs[1:]:
        out = builder.op("Mul", [out, other], base)
    return out if len(inputs) > 1 else builder.op("Identity", [out], base)


@_builtin("Subtract", many=True)
def _subtract(builder, layer, inputs, base):
    a, b = _inputs(layer, inputs, 2)
    return builder.op("Sub", [a, b], base)


def _l2_normalize(builder, x, axis, base):
    squares = builder.op("Mul", [x, x], base)
    total = builder.reduce("ReduceSum", squares, [axis], base)
    floor = builder.constant(f"{base}/epsilon", 1e-12)
    return builder.op("Div", [x, builder.op("Sqrt", [builder.op("Max", [total, floor], base)],
                                            base)], base)


@_builtin("Dot", many=True)
def _dot(builder, layer, inputs, base):
    """Keras' batch_dot: axis ``ax`` of x contracted with ``ay`` of y, sample by sample."""
    a, b = _inputs(layer, inputs, 2)
    shapes = (builder.shapes.get(a), builder.shapes.get(b))
    if any(shape is None or None in shape[1:] for shape in shapes):
        raise ValueError(f"export: the input shapes of the Dot layer {layer.name!r} are unknown")
    pair = layer.axes if isinstance(layer.axes, (list, tuple)) else (layer.axes, layer.axes)
    ax, ay = (int(axis) % len(shape) for axis, shape in zip(pair, shapes))
    if getattr(layer, "normalize", False):
        a = _l2_normalize(builder, a, ax, base)
        b = _l2_normalize(builder, b, ay, base)
    (xs, ys), k = shapes, shapes[0][ax]
    x_rest = [d for i, d in enumerate(xs) if i not in (0, ax)]
    y_rest = [d for i, d in enumerate(ys) if i not in (0, ay)]
    m, n = int(np.prod(x_rest, dtype=np.int64)), int(np.prod(y_rest, dtype=np.int64))

    def shape(dims):
        return builder.constant(f"{base}/shape", [0, *dims], dtype=np.int64)

    xt = builder.op("Transpose", [a], base,
                    perm=[0] + [i for i in range(1, len(xs)) if i != ax] + [ax])
    yt = builder.op("Transpose", [b], base,
                    perm=[0, ay] + [i for i in range(1, len(ys)) if i != ay])
    product = builder.op("MatMul", [builder.op("Reshape", [xt, shape([m, k])], base),
                                    builder.op("Reshape", [yt, shape([k, n])], base)], base)
    rest = x_rest + y_rest
    return builder.op("Reshape", [product, shape(rest if rest else [1])], base)


# -- shape layers ------------------------------------------------------------------------
@_builtin("Reshape")
def _reshape(builder, layer, x, base):
    shape = builder.constant(f"{base}/shape", [0, *[int(d) for d in layer.target_shape]],
                             dtype=np.int64)
    return builder.op("Reshape", [x, shape], base)


@_builtin("Permute")
def _permute(builder, layer, x, base):
    return builder.op("Transpose", [x], base, perm=[0, *[int(d) for d in layer.dims]])


@_builtin("RepeatVector")
def _repeat_vector(builder, layer, x, base):
    axes = builder.constant(f"{base}/axes", [1], dtype=np.int64)
    expanded = builder.op("Unsqueeze", [x, axes], base)
    repeats = builder.constant(f"{base}/repeats", [1, int(layer.n), 1], dtype=np.int64)
    return builder.op("Tile", [expanded, repeats], base)
