"""``Sequential``: a plain stack of layers, each feeding the next (Keras' ``keras.Sequential``).

    model = pydl.Sequential([
        pydl.Input(shape=(784,)),
        pydl.layers.Dense(512, activation="relu"),
        pydl.layers.Dense(10, activation="softmax"),
    ])

With an input shape (``Input`` first, or ``input_shape=`` on the first layer)
the model is built at once; otherwise it is built on the first data it sees
(fit, predict, a call) or by ``build(input_shape)``. Building calls each layer
on symbolic tensors in turn, as Keras 3 does, so a built Sequential also has a
graph: ``inputs``, ``outputs``, ``input``, ``output``, and every layer's
``output`` (``pydl.Model(seq.input, seq.get_layer("h").output)``).
``_graph()`` describes the chain for the native planner (graph.py).
"""

from __future__ import annotations

import numpy as np

from ..layers import node as node_module
from ..layers.core import Activation, Dense, Dropout, Flatten
from ..layers.input_layer import InputLayer, check_sample_shape
from ..layers.keras_tensor import KerasTensor
from ..layers.layer import Layer
from . import serialization
from .graph import Graph, GraphNode
from .model import Model

# Layers whose ``_infer`` (NumPy in, NumPy out, one core call) is exactly their
# ``call`` at inference: predict chains them without Tensors. Subclasses may
# override ``call``, so the type must match exactly.
_FAST_INFERENCE = (Dense, Activation, Dropout, Flatten)


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: list of layers; an ``Input(...)`` or ``InputLayer`` may come first.
        name: the model's name.
        trainable: whether its weights are trained.
    """

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._layers = []
        self._input_layer = None
        self._layer_output_shapes = {}
        self.output_shape = None
        self._inference_chain = None
        self._data_dtype = None
        self._symbolic = None  # (input KerasTensor, output KerasTensor) once built
        self._graph_cache = None
        if layers is not None:
            if isinstance(layers, (Layer, KerasTensor)) or not isinstance(layers, (list, tuple)):
                raise TypeError(f"Sequential: expected a list of layers, received "
                                f"{type(layers).__name__}")
            for layer in layers:
                self.add(layer, rebuild=False)
            self._build_from_declared_input()

    # -- structure -------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The layers, without the InputLayer (as Keras)."""
        return list(self._layers)

    @property
    def input_shape(self):
        return None if self._input_layer is None else self._input_layer.batch_shape

    @property
    def inputs(self) -> list:
        """``[input KerasTensor]`` of the built model's graph."""
        return [self._symbolic_io("inputs")[0]]

    @property
    def outputs(self) -> list:
        """``[output KerasTensor]`` of the built model's graph."""
        return [self._symbolic_io("outputs")[1]]

    @property
    def input(self):
        return self._symbolic_io("input")[0]

    @property
    def output(self):
        return self._symbolic_io("output")[1]

    def _symbolic_io(self, what: str) -> tuple:
        if self._symbolic is None:
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined {what} yet: it is not built. "
                "Give it an input shape (pydl.Input(shape=...) first) or build it")
        return self._symbolic

    def _graph(self) -> Graph:
        """The chain as a Graph (graph.py): key 0 is the input, layer i reads key i
        and writes key i + 1. Cached until layers are added or popped."""
        if not self.built:
            raise ValueError(f"_graph: the model {self.name!r} is not built yet; build it "
                             "(or give it an input shape) first")
        if self._graph_cache is None:
            nodes = [GraphNode(layer, [i], [i + 1], {}) for i, layer in enumerate(self._layers)]
            object.__setattr__(self, "_graph_cache",
                               Graph([0], [len(self._layers)], nodes))
        return self._graph_cache

    def add(self, layer, rebuild=True) -> None:
        """Appends ``layer`` (or an ``Input(...)``, only first) to the stack."""
        if isinstance(layer, KerasTensor):
            source = getattr(layer, "_keras_history", None)
            if source is None or not isinstance(source.layer, InputLayer):
                raise ValueError(
                    f"Sequential.add: a KerasTensor may only be added when it comes from "
                    f"pydl.Input(...); received {layer!r}, the output of layer "
                    f"{source.layer.name if source else None!r}. To use intermediate tensors, "
                    "build a Functional model: pydl.Model(inputs, outputs)")
            layer = source.layer
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    f"Sequential.add: an Input/InputLayer may only come first; the model "
                    f"{self.name!r} already has "
                    f"{'an input' if self._input_layer is not None else 'layers'}"
                )
            self._input_layer = layer
        elif isinstance(layer, Layer):
            if isinstance(layer, Model) and layer is self:
                raise ValueError("Sequential.add: a model cannot contain itself")
            if any(existing is layer for existing in self._layers):
                raise ValueError(f"Sequential.add: layer {layer.name!r} is already in the "
                                 f"model {self.name!r}; create a new layer instead")
            declared = getattr(layer, "_input_shape_arg", None)
            if not self._layers and self._input_layer is None and declared is not None:
                self._input_layer = InputLayer(shape=check_sample_shape("input_shape", declared),
                                               dtype=layer.dtype)
            self._layers.append(layer)
        else:
            raise TypeError(f"Sequential.add: expected a pydl layer, received "
                            f"{type(layer).__name__} ({layer!r})")
        self._invalidate()
        if rebuild:
            self._build_from_declared_input()

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._layers:
            raise TypeError(f"Sequential.pop: the model {self.name!r} has no layers to remove")
        layer = self._layers.pop()
        self._invalidate()
        if rebuild:
            self._build_from_declared_input()
        return layer

    def _invalidate(self) -> None:
        self.built = False
        self.output_shape = None
        self._layer_output_shapes = {}
        self._build_input_shape = None
        self._inference_chain = None
        self._data_dtype = None
        self._symbolic = None
        object.__setattr__(self, "_graph_cache", None)

    def _build_from_declared_input(self) -> None:
        if self._input_layer is not None and self._layers:
            self.build(self._input_layer.batch_shape)

    # -- build and call ----------------------------------------------------------
    def build(self, input_shape=None):
        """Builds each layer in turn from ``input_shape`` (batch first)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(
                    f"build: the model {self.name!r} has no input shape; pass one, "
                    f"e.g. build((None, 784))"
                )
            input_shape = self._input_layer.batch_shape
        shape = tuple(input_shape)
        if len(shape) < 2 or any(d is None for d in shape[1:]):
            raise ValueError(f"build: expected a shape (batch, features...) with known feature "
                             f"dimensions, received input_shape={input_shape!r}")
        if not self._layers:
            raise ValueError(f"build: the model {self.name!r} has no layers; add some first")
        if self._input_layer is not None and tuple(self._input_layer.sample_shape) != shape[1:]:
            raise ValueError(
                f"build: the model {self.name!r} was declared with input shape "
                f"{self._input_layer.batch_shape}, received input_shape={tuple(input_shape)}"
            )
        input_layer = self._input_layer
        if input_layer is None:  # built from data or build(shape): an implicit input
            input_layer = InputLayer(batch_shape=(None,) + shape[1:], dtype=self._layers[0].dtype)
        shapes = {}
        x = input_layer.output
        for layer in self._layers:
            # A symbolic call builds the layer if needed and infers its output (node.py).
            y = layer(x)
            if not isinstance(y, KerasTensor):
                raise ValueError(
                    f"Sequential: layer {layer.name!r} ({type(layer).__name__}) returned "
                    f"{len(node_module.tree.flatten(y))} outputs; each layer of a Sequential "
                    "must return one tensor (use a Functional model for several)")
            x = y
            shapes[id(layer)] = x.shape
        self._layer_output_shapes = shapes
        self._symbolic = (input_layer.output, x)
        self._build_input_shape = (None,) + tuple(input_shape)[1:]
        self.output_shape = x.shape
        self._data_dtype = self._weights_dtype()
        if all(type(layer) in _FAST_INFERENCE for layer in self._layers):
            self._inference_chain = tuple(layer._infer for layer in self._layers)
        self.built = True

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return (tuple(input_shape)[0],) + tuple(self.output_shape)[1:]

    def compute_output_spec(self, inputs, training=None, **kwargs):
        """The output KerasTensor for a symbolic call (the model nested in another)."""
        if not isinstance(inputs, KerasTensor):
            raise ValueError(f"Sequential model {self.name!r} takes one input tensor, "
                             f"received {inputs!r}")
        expected = self._build_input_shape
        if not node_module.compatible(expected, inputs.shape):
            raise ValueError(
                f"Input of the model {self.name!r} is incompatible: expected shape "
                f"{expected}, received shape {inputs.shape}")
        return KerasTensor((inputs.shape[0],) + tuple(self.output_shape)[1:],
                           self._symbolic[1].dtype)

    def _input_dtype(self):
        return self._data_dtype if self.built else super()._input_dtype()

    @property
    def output_names(self) -> list:
        """The name of the one output: its last layer's (Keras 3)."""
        return [self._layers[-1].name] if self._layers else []

    def _predict_batch(self, x):
        chain = self._inference_chain
        if chain is None or not isinstance(x, np.ndarray):
            return super()._predict_batch(x)
        for infer in chain:
            x = infer(x)
        return x

    def __call__(self, inputs, training=None, **kwargs):
        if inputs.__class__ is not np.ndarray and node_module.is_symbolic(inputs, (), kwargs):
            return Layer.__call__(self, inputs, training=training, **kwargs)
        if not self.built:
            self.build((None,) + tuple(np.shape(inputs))[1:])
        return super().__call__(inputs, training=training, **kwargs)

    def call(self, inputs, training=None):
        expected = self._build_input_shape
        shape = inputs.shape
        if len(shape) != len(expected) or shape[1:] != expected[1:]:
            raise ValueError(
                f"Input of the model {self.name!r} is incompatible: expected shape "
                f"{expected}, received shape {tuple(shape)}"
            )
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    # -- config ------------------------------------------------------------------
    def get_config(self) -> dict:
        layers = []
        if self._input_layer is not None:
            layers.append(serialization.serialize_layer(self._input_layer))
        layers.extend(serialization.serialize_layer(layer) for layer in self._layers)
        config = {"name": self.name, "trainable": self.trainable, "layers": layers}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        layer_configs = config.pop("layers", [])
        build_shape = config.pop("build_input_shape", None)
        model = cls(name=config.pop("name", None), trainable=config.pop("trainable", True))
        for layer_config in layer_configs:
            model.add(serialization.deserialize_layer(layer_config, custom_objects), rebuild=False)
        if model._input_layer is not None:
            model._build_from_declared_input()
        elif build_shape is not None:
            model.build(tuple(build_shape))
        return model
