"""``clone_model``: the same architecture with fresh weights (Keras 3).

    new = pydl.models.clone_model(model)     # new layers, new initializer draws

A Sequential gets a clone of each layer; a Functional model is re-run on new
Inputs with a clone of each layer (a shared layer stays shared: it is cloned
once); any other model is rebuilt with ``type(model).from_config(model.get_config())``.
Layers are cloned with ``layer.__class__.from_config(layer.get_config())`` unless
``clone_function`` says otherwise. The clone is not compiled.
"""

from __future__ import annotations

from .. import _tree as tree
from ..layers.input_layer import Input
from ..layers.keras_tensor import KerasTensor
from . import topology
from .functional import Functional
from .sequential import Sequential
from .serialization import accepts_custom_objects


def _default_clone(layer):
    # A layer whose config names live objects (Lambda: its functions) gives them back
    # through ``_clone_config``; others through get_config.
    clone_config = getattr(layer, "_clone_config", None)
    config = clone_config() if clone_config is not None else layer.get_config()
    return layer.__class__.from_config(config)


def _cached_clone(clone_function, call_function, recursive, cache):
    clone_function = clone_function or _default_clone
    if not callable(clone_function):
        raise ValueError(f"clone_model: expected clone_function to be a callable, received "
                         f"clone_function={clone_function!r}")

    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(
                    layer, clone_function=clone_function, recursive=True, _cache=cache,
                    call_function=call_function if isinstance(layer, Functional) else None)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]

    return clone


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A copy of ``model``'s architecture with newly created weights.

    Args:
        model: a Sequential, a Functional model, or a subclassed model whose
            ``get_config``/``from_config`` rebuild it.
        input_tensors: KerasTensors to build the clone on (same structure as
            ``model.input``); default new ``Input``s like the model's.
        clone_function: ``fn(layer) -> layer`` used for each layer except the
            InputLayers; default a new layer from the layer's config.
        call_function: ``fn(layer, *args, **kwargs)`` that calls each cloned layer
            (Functional models only); default ``layer(*args, **kwargs)``.
        recursive: clone nested Sequential/Functional models with ``clone_model``
            (True) or with ``clone_function`` (False).

    Returns:
        The new model (not compiled).
    """
    cache = kwargs.pop("_cache", None)
    if kwargs:
        raise ValueError(f"clone_model: unexpected keyword argument(s) {tuple(kwargs)}")
    cache = {} if cache is None else cache
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("clone_model: call_function is not supported for Sequential "
                             f"models (received model {model.name!r}); use it with Functional "
                             "models")
        return _clone_sequential(model, _cached_clone(clone_function, None, recursive, cache),
                                 input_tensors)
    if isinstance(model, Functional):
        return _clone_functional(model, _cached_clone(clone_function, call_function, recursive,
                                                      cache), input_tensors, call_function)
    if clone_function is not None or input_tensors is not None or call_function is not None:
        raise ValueError(
            "clone_model: clone_function, input_tensors and call_function are only supported "
            f"for Sequential and Functional models; received a {type(model).__name__}")
    return _clone_subclassed(model)


def _clone_sequential(model, clone, input_tensors):
    layers = [clone(layer) for layer in model.layers]
    source = model._input_layer
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(f"clone_model: input_tensors must hold a single tensor for a "
                                 f"Sequential model, received {len(input_tensors)}")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor) or \
                not topology.is_input_tensor(input_tensors):
            raise ValueError(f"clone_model: input_tensors must be a tensor from pydl.Input(...) "
                             f"for a Sequential model, received {input_tensors!r}")
        layers = [input_tensors] + layers
    elif source is not None:
        layers = [Input(batch_shape=source.batch_shape, dtype=source.input_dtype,
                        name=source.name)] + layers
    clone_ = Sequential(layers, name=model.name, trainable=model.trainable)
    if not clone_.built and model.built and model._build_input_shape is not None:
        clone_.build(model._build_input_shape)
    return clone_


def _clone_functional(model, clone, input_tensors, call_function):
    if input_tensors is None:
        input_tensors = tree.map_structure(
            lambda x: Input(batch_shape=x.shape, dtype=x.dtype, name=x.name), model.input)
    else:
        flat = tree.flatten(input_tensors)
        if not all(isinstance(x, KerasTensor) for x in flat):
            raise ValueError(f"clone_model: all entries of input_tensors must be KerasTensors, "
                             f"received {input_tensors!r}")
        if len(flat) != len(model.inputs):
            raise ValueError(f"clone_model: input_tensors must have the structure of "
                             f"model.input ({model.input!r}), received {input_tensors!r}")

    def call(layer, *args, **kwargs):
        new = clone(layer)
        if call_function is not None:
            return call_function(new, *args, **kwargs)
        return new(*args, **kwargs)

    outputs = model._run(tree.flatten(input_tensors), call_fn=call, unpack=False)
    return Functional(input_tensors, outputs, name=model.name, trainable=model.trainable)


def _clone_subclassed(model):
    cls = type(model)
    try:
        config = model.get_config()
        if accepts_custom_objects(cls.from_config):
            clone_ = cls.from_config(config, custom_objects={cls.__name__: cls})
        else:
            clone_ = cls.from_config(config)
    except (TypeError, NotImplementedError) as exc:
        raise ValueError(
            f"clone_model: cannot clone the subclassed model {model.name!r} "
            f"({cls.__name__}) from its config ({type(exc).__name__}: {exc}). Implement "
            "get_config() (and from_config() if __init__ does not take the config's keys)"
        ) from exc
    if model.built and model._build_input_shape is not None and not clone_.built:
        clone_.build(model._build_input_shape)
    return clone_

