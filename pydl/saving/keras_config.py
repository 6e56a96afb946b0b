"""Model and layer configs in Keras 3's JSON layout, to and from pydl's.

    keras_json = model_to_keras(model)           # what config.json of a .keras file holds
    model = model_from_keras(keras_json)         # a pydl model of pydl's built-in layers

A layer maps to the pydl built-in layer of the same class name; its config keys are
Keras' except for the nested objects, translated by key (``dtype``, ``activation``,
``*_initializer``, ``*_regularizer``, ``*_constraint``; keras_objects.py). A class pydl
does not have raises ``ValueError`` naming it, unless ``custom_objects`` maps its name to
a class. Sequential models map layer by layer; functional models keep Keras' graph
layout (``inbound_nodes`` / ``input_layers`` / ``output_layers``), which pydl's
functional config shares.
"""

from __future__ import annotations

from . import keras_objects as objects

# Keys pydl layers write that Keras configs do not have (the declared input shape
# becomes an InputLayer instead).
_PYDL_ONLY = ("batch_input_shape",)
_MODEL_CLASSES = ("Sequential", "Functional", "Model")


def builtin_layer(class_name: str):
    """pydl's own layer (or model) class of that name, from the name registry; else None."""
    from ..layers.layer import Layer
    from . import object_registration

    cls = object_registration.builtin(class_name)
    return cls if isinstance(cls, type) and issubclass(cls, Layer) else None


def layer_accepted_keys(cls) -> set:
    """Config keys a layer class takes: the named arguments of each ``__init__`` up its
    class chain (they forward ``**kwargs``), and the base Layer's."""
    from ..layers.layer import _ALLOWED_KWARGS, Layer

    keys = {"name", "trainable", "dtype", *_ALLOWED_KWARGS}
    for klass in cls.__mro__:
        if isinstance(klass, type) and issubclass(klass, Layer) and "__init__" in vars(klass):
            keys |= objects.accepted_keys(klass)[0]
    return keys


# -- pydl -> Keras ---------------------------------------------------------------------
def _config_to_keras(config: dict) -> dict:
    out = {}
    for key, value in config.items():
        if key in _PYDL_ONLY:
            continue
        if key == "dtype":
            value = objects.dtype_to_keras(value)
        elif key.endswith("_initializer"):
            value = objects.to_keras("initializers", value)
        elif key.endswith("_regularizer"):
            value = objects.to_keras("regularizers", value)
        out[key] = value
    return out


def _shape(shape):
    """A shape (or a list of shapes, for a merge layer) as JSON lists."""
    if shape is None:
        return None
    if any(isinstance(d, (list, tuple)) for d in shape):
        return [_shape(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


_TOKEN_LAYERS = ("Embedding", "CategoryEncoding")


def _token_inputs(model) -> set:
    """ids of the InputLayers whose every consumer takes token ids (Embedding,
    CategoryEncoding): Keras gets them as int32 inputs, as a Keras user writes them."""
    graph = getattr(model, "_graph", None)
    if not callable(graph) or not model.built:
        return set()
    graph = graph()
    layers = [x._keras_history.layer for x in model.inputs] if type(model).__name__ == \
        "Functional" else [model._input_layer]
    out = set()
    for key, input_layer in zip(graph.inputs, layers):
        consumers = [n.layer for n in graph.nodes if key in n.inputs]
        if input_layer is not None and consumers and \
                all(type(c).__name__ in _TOKEN_LAYERS for c in consumers):
            out.add(id(input_layer))
    return out


def layer_to_keras(layer, input_shape=None, token_inputs=()) -> dict:
    """Keras' serialized form of one pydl layer (a model recurses)."""
    from ..layers.input_layer import InputLayer

    if _is_model(layer):
        entry = model_config_to_keras(layer)
    else:
        cls = type(layer)
        builtin = builtin_layer(cls.__name__) is cls
        config = _config_to_keras(layer.get_config())
        if isinstance(layer, InputLayer):  # Keras writes the input's dtype as a plain name
            config["dtype"] = "int32" if id(layer) in token_inputs else layer.input_dtype
        entry = {
            "module": "keras.layers" if builtin else cls.__module__,
            "class_name": cls.__name__,
            "config": config,
            "registered_name": None if builtin else cls.__name__,
        }
    if input_shape is not None and layer.built and not isinstance(layer, InputLayer):
        entry["build_config"] = {"input_shape": _shape(input_shape)}
    return entry


def _is_model(layer) -> bool:
    from ..models.model import Model

    return isinstance(layer, Model)


def model_config_to_keras(model) -> dict:
    """``{"module", "class_name", "config", ...}`` of a Sequential or functional model."""
    from ..models.sequential import Sequential

    if type(model) is Sequential:
        return _sequential_to_keras(model)
    if type(model).__name__ == "Functional" and builtin_layer("Functional") is type(model):
        return _functional_to_keras(model)
    raise ValueError(
        f"The model {model.name!r} ({type(model).__name__}) cannot be written in the Keras "
        f"format: only Sequential and functional models of layers can (a subclassed model's "
        f"call() is Python code that no file carries). Save it with a .pydl suffix instead."
    )


def _sequential_to_keras(model) -> dict:
    layers = []
    if model._input_layer is not None:
        layers.append(layer_to_keras(model._input_layer, token_inputs=_token_inputs(model)))
    shape = model._build_input_shape
    for layer in model.layers:
        layers.append(layer_to_keras(layer, input_shape=shape))
        shape = model._layer_output_shapes.get(id(layer)) if model.built else None
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": objects.dtype_to_keras(model.dtype_policy.name), "layers": layers}
    entry = {"module": "keras", "class_name": "Sequential", "config": config,
             "registered_name": None}
    if model._build_input_shape is not None:
        config["build_input_shape"] = _shape(model._build_input_shape)
        entry["build_config"] = {"input_shape": _shape(model._build_input_shape)}
    return entry


def _node_input_shape(entry: dict):
    """The input shape(s) of a functional layer's first call, from its inbound node."""
    nodes = entry.get("inbound_nodes") or []
    if not nodes:
        return None

    def shape(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return value["config"]["shape"]
        if isinstance(value, list):
            shapes = [shape(v) for v in value]
            return None if any(s is None for s in shapes) else shapes
        return None

    args = nodes[0].get("args") or []
    return shape(args[0]) if args else None


def _functional_to_keras(model) -> dict:
    config = model.get_config()
    layers = []
    tokens = _token_inputs(model)
    for entry, layer in zip(config["layers"], model.layers):
        keras_entry = layer_to_keras(layer, input_shape=_node_input_shape(entry),
                                     token_inputs=tokens)
        keras_entry["name"] = entry["name"]
        keras_entry["inbound_nodes"] = entry["inbound_nodes"]
        layers.append(keras_entry)
    out = {"name": model.name, "trainable": model.trainable, "layers": layers,
           "input_layers": config["input_layers"], "output_layers": config["output_layers"]}
    return {"module": "keras.src.models.functional", "class_name": "Functional", "config": out,
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def model_to_keras(model) -> dict:
    """The whole ``config.json`` of a ``.keras`` file: architecture and compile config."""
    entry = model_config_to_keras(model)
    compile_config = objects.compile_to_keras(model)
    if compile_config is not None:
        entry["compile_config"] = compile_config
    return entry


# -- Keras -> pydl ---------------------------------------------------------------------
def _config_from_keras(cls, class_name: str, config: dict, custom_objects, fit=True) -> dict:
    what = f"layer {class_name} ({config.get('name', '?')})"
    out = {}
    for key, value in config.items():
        if key == "dtype":
            value = objects.dtype_from_keras(value, what)
        elif key == "activation":
            value = objects.activation_from_keras(value, what)
        elif key.endswith("_initializer"):
            value = objects.from_keras("initializers", value, custom_objects)
        elif key.endswith("_regularizer"):
            value = objects.from_keras("regularizers", value, custom_objects)
        elif key.endswith("_constraint") and value is not None:
            raise ValueError(f"{what}: weight constraints ({key}) are not supported by pydl")
        out[key] = value
    if not fit:
        return out
    return objects.fit_config(cls, out, what, accepted=layer_accepted_keys(cls))


def _input_from_keras(config: dict) -> dict:
    """pydl's inputs are float: an integer Keras input (token ids for an Embedding or a
    CategoryEncoding) becomes a float32 one; the ids stay exact below 2**24."""
    dtype = config.get("dtype")
    name = dtype if isinstance(dtype, str) else None
    if name is not None and name.startswith(("int", "uint", "bool")):
        config = dict(config, dtype="float32")
    return config


def layer_from_keras(entry, custom_objects=None) -> dict:
    """pydl's ``{"class_name", "config"}`` for one Keras layer entry (models recurse)."""
    custom_objects = custom_objects or {}
    class_name, config = objects.check_entry(entry, "layer config")
    if not isinstance(config, dict):
        raise ValueError(f"layer config: the config of {class_name!r} must be a dict")
    key = objects.custom_key(entry, custom_objects)
    if key is not None:
        return {"class_name": key, "config": _config_from_keras(
            custom_objects[key], class_name, config, custom_objects, fit=False)}
    if class_name in _MODEL_CLASSES:
        return model_from_keras_config(entry, custom_objects)
    cls = builtin_layer(class_name)
    if cls is None or class_name in _MODEL_CLASSES:
        raise ValueError(
            f"Unknown layer class {class_name!r}: pydl has no built-in layer of that name. "
            f"Pass it to load_model(..., custom_objects={{{class_name!r}: cls}})")
    if class_name == "InputLayer":
        config = _input_from_keras(config)
    return {"class_name": class_name,
            "config": _config_from_keras(cls, class_name, config, custom_objects)}


def model_from_keras_config(entry: dict, custom_objects=None) -> dict:
    """pydl's ``{"class_name", "config"}`` of a Keras Sequential or functional model."""
    class_name, config = objects.check_entry(entry, "model config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"model config: {class_name!r} has no list of layers")
    layers = []
    for layer in config["layers"]:
        converted = layer_from_keras(layer, custom_objects)
        if class_name != "Sequential":  # functional: keep the graph keys of each layer
            for key in ("name", "inbound_nodes"):
                if isinstance(layer, dict) and key in layer:
                    converted[key] = layer[key]
        layers.append(converted)
    out = {"name": config.get("name"), "trainable": config.get("trainable", True), "layers": layers}
    if class_name == "Sequential":
        if config.get("build_input_shape") is not None:
            out["build_input_shape"] = config["build_input_shape"]
        return {"class_name": "Sequential", "config": out}
    for key in ("input_layers", "output_layers"):
        if key not in config:
            raise ValueError(f"model config: the functional model lacks {key!r}")
        out[key] = config[key]
    return {"class_name": "Functional", "config": out}


def model_from_keras(entry, custom_objects=None):
    """A pydl model built from Keras' ``config.json`` (weights freshly initialized)."""
    from ..models import serialization

    if not isinstance(entry, dict) or entry.get("class_name") not in _MODEL_CLASSES:
        name = entry.get("class_name") if isinstance(entry, dict) else type(entry).__name__
        raise ValueError(f"config.json: expected a Sequential or functional model, received "
                         f"{name!r}")
    pydl_entry = model_from_keras_config(entry, custom_objects)
    return serialization.deserialize_layer(pydl_entry, custom_objects)
