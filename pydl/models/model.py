"""``Model``: layers composed into something that trains (Keras' ``keras.Model``).

Subclass it and write ``call`` (and optionally ``build``); layers assigned as
attributes (alone, or in lists, tuples and dicts) are tracked, so their weights
are the model's weights, in the order the attributes were set:

    class MLP(pydl.Model):
        def __init__(self):
            super().__init__()
            self.hidden = pydl.layers.Dense(32, activation="relu")
            self.out = pydl.layers.Dense(1)
        def call(self, x):
            return self.out(self.hidden(x))

The training API (compile, fit, evaluate, predict, ...) lives in trainer.py,
saving in saving.py; this file holds structure: sublayers, weights, build.
"""

from __future__ import annotations

import numpy as np

from ..distribution.output import chief_write
from ..layers import node as node_module
from ..layers.layer import Layer
from ..saving import object_registration
from . import saving, summary
from .saving import assign_weights
from .trainer import Trainer


class Model(Trainer, Layer):
    """A model: layers, their weights, and the training API.

    ``pydl.Model(inputs, outputs)`` (the Functional API) returns a ``Functional``
    model (functional.py), as in Keras 3; a subclass of ``Model`` writes ``call``.
    """

    def __new__(cls, *args, **kwargs):
        if _functional_arguments(args, kwargs):
            # functional.py subclasses this class: found by name, not imported here.
            functional = object_registration.builtin("Functional")
            if cls is Model:
                return object.__new__(functional)
            if not issubclass(cls, functional):
                # A subclass built like a Functional model (Keras' guides: CustomModel(inputs,
                # outputs) with its own train_step): the subclass with Functional mixed in.
                return object.__new__(_functional_subclass(cls, functional))
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(
                f"{type(self).__name__}: a subclass of Model takes no inputs/outputs (passing "
                "them to Model.__init__ from a subclass is not supported); build the graph "
                "with pydl.Model(inputs, outputs), or write call() in the subclass"
            )
        super().__init__(**kwargs)
        self._build_input_shape = None
        self._reset_compile_state()

    # -- structure ---------------------------------------------------------
    # weights, trainable_weights and losses come from Layer, which collects them
    # from the sublayers assigned as attributes.
    @property
    def layers(self) -> list:
        """The layers tracked as attributes, in the order they were assigned."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """The layer called ``name``, or at position ``index`` of ``layers``."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index={index} out of range for a model with "
                                 f"{len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; layers are "
                         f"{[layer.name for layer in layers]}")

    def get_weights(self) -> list:
        """Copies of the weights as NumPy arrays, in ``weights`` order."""
        return [np.array(w.value, copy=True) for w in self.weights]

    def set_weights(self, weights) -> None:
        """Sets the weights from arrays in ``weights`` order (shapes must match)."""
        assign_weights(self.weights, weights, f"{type(self).__name__} {self.name!r}")

    def count_params(self) -> int:
        self._require_built("count_params")
        return int(sum(int(np.prod(w.value.shape)) for w in self.weights))

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Prints a table of the layers: name (type), output shape, parameters; totals."""
        self._require_built("summary")
        summary.print_summary(self, line_length=line_length, positions=positions,
                              print_fn=print_fn)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{what}: the model {self.name!r} has not been built yet, so its weights do "
                f"not exist. Give the first layer an input shape (pydl.Input(shape=...) or "
                f"input_shape=...), call model.build(input_shape), or call the model on data."
            )

    # -- build and call ----------------------------------------------------
    def build(self, input_shape=None):
        """Creates the weights by running ``call`` once on zeros of ``input_shape``."""
        if input_shape is None:
            raise ValueError("build: expected an input shape, e.g. build((None, 784)), "
                             "received input_shape=None")
        shape = tuple(input_shape)
        if not shape or any(d is None for d in shape[1:]):
            raise ValueError(f"build: expected a shape (batch, features...) with known feature "
                             f"dimensions, received input_shape={input_shape!r}")
        self._build_input_shape = (None,) + shape[1:]
        self.built = True  # before the call: __call__ must not build again
        self.call(np.zeros((1,) + shape[1:], dtype=self._model_dtype()))

    def __call__(self, inputs, *args, **kwargs):
        if inputs.__class__ is not np.ndarray and node_module.is_symbolic(inputs, args, kwargs):
            return Layer.__call__(self, inputs, *args, **kwargs)  # records a node
        if not self.built and self._build_input_shape is None:
            self._build_input_shape = (None,) + tuple(np.shape(inputs))[1:]
        return super().__call__(inputs, *args, **kwargs)

    def _convert_inputs(self, inputs):
        # Float arrays pass as they are: each layer casts to its own dtype, so a
        # float64 model is not routed through the model's default float32.
        if isinstance(inputs, np.ndarray) and inputs.dtype.kind == "f":
            return inputs
        return super()._convert_inputs(inputs)

    def _model_dtype(self) -> str:
        dtype = getattr(self, "dtype", None) or "float32"
        return np.dtype(getattr(dtype, "name", dtype)).name

    def _weights_dtype(self) -> np.dtype:
        """The dtype data is converted to: that of the first weight (the model's own
        dtype when it has none), so a float64 model takes float64 data."""
        for variable in self.weights:
            if variable.value.dtype.kind == "f":
                return variable.value.dtype
        return np.dtype(self._model_dtype())

    # -- config and saving -------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        if cls is Model and isinstance(config, dict) and \
                all(key in config for key in ("layers", "input_layers", "output_layers")):
            functional = object_registration.builtin("Functional")  # as Keras 3 revives it
            return functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    def save(self, filepath, overwrite=True, **kwargs):
        """Writes architecture, weights and optimizer state to one file, atomically: Keras 3's
        format for a ``.keras`` path (needs ``pydl[h5]``), pydl's own zip for any other.
        Under a DataParallel distribution every process calls it: rank 0 writes, the
        others wait for it."""
        chief_write(lambda: saving.save_model(self, filepath, overwrite=overwrite),
                    "model.save")

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """Writes the inference graph for another runtime (Keras 3's signature).

        Args:
            filepath: where to write, e.g. ``"model.onnx"``.
            format: ``"onnx"`` (the one format pydl writes; Keras' default
                ``"tf_saved_model"`` needs TensorFlow and is refused).
            verbose: print where the file went (default True, as Keras).
            input_signature: optional shapes of the inputs (objects with ``shape``, or
                tuples), checked against the model's; the batch dimension stays dynamic.
            opset_version: the ONNX opset, default 17 (see pydl/export/onnx.py).
        """
        if format != "onnx":
            raise ValueError(f"format: pydl exports format='onnx' only (needs pydl[onnx]); "
                             f"received format={format!r}")
        unknown = set(kwargs) - {"opset_version"}
        if unknown:
            raise TypeError(f"export: unexpected keyword arguments {sorted(unknown)} for "
                            f"format='onnx' (accepted: opset_version)")
        from ..export import onnx

        onnx.export_onnx(self, filepath, verbose=verbose, input_signature=input_signature,
                         opset_version=kwargs.get("opset_version"))

    def save_weights(self, filepath, overwrite=True):
        """Writes the weights atomically: Keras 3's HDF5 layout for a ``.h5`` path
        (``.weights.h5`` by convention; needs ``pydl[h5]``), else an ``.npz`` file.
        Under a DataParallel distribution: rank 0 writes, the others wait for it."""
        chief_write(lambda: saving.save_weights(self, filepath, overwrite=overwrite),
                    "model.save_weights")

    def load_weights(self, filepath, **kwargs):
        """Reads weights written by ``save_weights`` or Keras (``.h5``), or from a whole
        model file (``.keras`` of either format, or pydl's)."""
        saving.load_weights(self, filepath)


_FUNCTIONAL_SUBCLASSES: dict = {}


def _functional_arguments(args, kwargs) -> bool:
    """Whether a Model is made from (inputs, outputs), as Keras 3 decides it."""
    return len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or \
        ("inputs" in kwargs and "outputs" in kwargs)


def _functional_subclass(cls, functional):
    """``cls`` with Functional after it in the MRO (made once per class): its own methods
    first, Functional's graph and call next, as Keras 3 injects Functional."""
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, functional),
                    {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                     "_pydl_functional_of": cls})
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made
