"""``Lambda``: a function of ``pydl.ops`` used as a layer.

    squared = pydl.layers.Lambda(lambda x: x ** 2)(x)

It trains on the tape (the ops it runs are recorded). Saving stores the
function's NAME only -- pydl never saves or runs code from a file -- so loading
a model with a Lambda needs the function again: ``load_model(path,
custom_objects={"my_fn": my_fn})``, or a function registered with
``@pydl.saving.register_keras_serializable()``. Functions of ``pydl.ops`` and
``pydl.activations`` are found by name.
"""

from __future__ import annotations

import inspect

from .. import _tree as tree
from ..saving import object_registration
from .layer import Layer
from .node import is_shape


def _serialize_function(fn) -> dict:
    return {"class_name": "function", "config": fn.__name__,
            "module": getattr(fn, "__module__", None),
            "registered_name": object_registration.GLOBAL_CUSTOM_NAMES.get(fn)}


def _deserialize_function(entry, what: str, layer_name, custom_objects):
    if callable(entry):
        return entry
    if isinstance(entry, dict) and entry.get("class_name") == "function":
        name, registered = entry.get("config"), entry.get("registered_name")
    elif isinstance(entry, dict) and entry.get("class_name") == "__lambda__":
        raise ValueError(
            f"Lambda layer {layer_name!r}: its {what} was saved as Python bytecode, which pydl "
            "never executes. Rebuild the layer in code, or save it with a named function")
    elif isinstance(entry, str):
        name, registered = entry, None
    else:
        raise ValueError(f"Lambda layer {layer_name!r}: invalid {what} entry {entry!r}"[:300])
    from .. import activations, ops  # the functions pydl itself defines, found by name

    op_functions = {n: getattr(ops, n) for n in ops.__all__}
    activation_functions = {n: f for n, f in vars(activations).items()
                            if callable(f) and not n.startswith("_")}
    module = entry.get("module") if isinstance(entry, dict) else None
    first, second = (activation_functions, op_functions) \
        if str(module).startswith("pydl.activations") else (op_functions, activation_functions)
    builtin = {**second, **first}
    found = None
    for key in (registered, name):
        if isinstance(key, str) and found is None:
            found = object_registration.get_registered_object(key, custom_objects)
    if found is None and isinstance(name, str):
        found = builtin.get(name)
    if found is None:
        hint = ("it is an anonymous function (lambda): define it with def, rebuild the model "
                "in code, or pass" if name == "<lambda>" else "pass")
        raise ValueError(
            f"Lambda layer {layer_name!r}: the {what} {name!r} is not known. pydl saves a "
            f"Lambda's function by name and never runs code from a file; {hint} "
            f"custom_objects={{{name!r}: {name if name != '<lambda>' else 'fn'}}} to "
            "load_model (or register it with @pydl.saving.register_keras_serializable())")
    if not callable(found):
        raise ValueError(f"Lambda layer {layer_name!r}: custom_objects[{name!r}] is not callable")
    return found


class Lambda(Layer):
    """``y = function(x, **arguments)``.

    Args:
        function: the function, of ``pydl.ops`` (differentiable); it receives the
            input (a tensor, or the list/dict given to the layer) first, then
            ``training`` if it takes that argument.
        output_shape: the output shape without the batch dimension (a tuple), or
            a function ``input_shape -> output_shape`` (batch included); default:
            found by calling the layer on zeros.
        mask: not supported (pydl layers carry no masks); must be None.
        arguments: keyword arguments passed to ``function`` (JSON values, so that
            the layer can be saved).
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise TypeError(f"Lambda: expected function to be callable, received "
                            f"function={function!r}")
        if output_shape is not None and not callable(output_shape) and \
                not _is_shape_structure(output_shape):
            raise TypeError(f"Lambda: expected output_shape to be a tuple, a callable or None, "
                            f"received output_shape={output_shape!r}")
        if mask is not None:
            raise ValueError(f"Lambda: mask is not supported (pydl layers carry no masks); "
                             f"received mask={mask!r}")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda: expected arguments to be a dict or None, received "
                            f"arguments={arguments!r}")
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = None
        self._output_shape = output_shape
        try:
            self._fn_expects_training = "training" in inspect.signature(function).parameters
        except (TypeError, ValueError):
            self._fn_expects_training = False

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            raise NotImplementedError("Lambda: no output_shape given (found by calling it)")
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = tree.flatten(input_shape)[0] if tree.flatten(input_shape) else None
        return _add_batch(self._output_shape, batch)

    def get_config(self) -> dict:
        config = super().get_config()
        config["function"] = _serialize_function(self.function)
        if self._output_shape is not None:
            config["output_shape"] = _serialize_function(self._output_shape) \
                if callable(self._output_shape) else _to_lists(self._output_shape)
        config["arguments"] = dict(self.arguments)
        return config

    def _clone_config(self) -> dict:
        """The config with the functions themselves (clone_model; never saved)."""
        config = self.get_config()
        config["function"] = self.function
        if callable(self._output_shape):
            config["output_shape"] = self._output_shape
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        name = config.get("name")
        if "function" not in config:
            raise ValueError(f"Lambda layer {name!r}: the config has no 'function'")
        config["function"] = _deserialize_function(config["function"], "function", name,
                                                   custom_objects)
        shape = config.get("output_shape")
        if callable(shape):
            pass
        elif isinstance(shape, (dict, str)):
            config["output_shape"] = _deserialize_function(shape, "output_shape", name,
                                                           custom_objects)
        elif shape is not None:
            config["output_shape"] = _to_tuples(shape)
        return cls(**config)


def _is_shape_structure(value) -> bool:
    if is_shape(value):
        return True
    if isinstance(value, dict):
        return all(_is_shape_structure(v) for v in value.values())
    return isinstance(value, (list, tuple)) and bool(value) and \
        all(_is_shape_structure(v) for v in value)


def _add_batch(shapes, batch):
    if is_shape(shapes):
        return (batch,) + tuple(shapes)
    if isinstance(shapes, dict):
        return {k: _add_batch(v, batch) for k, v in shapes.items()}
    return [_add_batch(s, batch) for s in shapes]


def _to_lists(shapes):
    if isinstance(shapes, dict):
        return {k: _to_lists(v) for k, v in shapes.items()}
    return [_to_lists(s) if isinstance(s, (list, tuple)) else s for s in shapes]


def _to_tuples(shapes):
    if is_shape(shapes):
        return tuple(shapes)
    if isinstance(shapes, dict):
        return {k: _to_tuples(v) for k, v in shapes.items()}
    return [_to_tuples(s) for s in shapes]
