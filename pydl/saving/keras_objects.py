"""Keras 3's serialized objects to and from pydl's: dtypes, initializers, regularizers,
activations, losses, metrics, optimizers and schedules, the compile config.

pydl's objects already carry Keras' class names and config keys, so a translation adds
or checks Keras' envelope ``{"module", "class_name", "config", "registered_name"}`` and
reconciles the keys one side has and the other lacks:

- pydl -> Keras: the config is written as pydl gives it (Keras accepts every key).
- Keras -> pydl: a key the pydl class does not take is dropped when its value means
  "off" (None, False, an empty list, or Keras' default listed in ``NEUTRAL``); any
  other value raises ``ValueError`` naming the option, since pydl would silently
  compute something else.

Only classes of pydl's own modules, or given in ``custom_objects``, are ever named;
nothing here imports or runs code a file names.
"""

from __future__ import annotations

import inspect

MODULES = {
    "initializers": "keras.initializers", "regularizers": "keras.regularizers",
    "constraints": "keras.constraints", "losses": "keras.losses", "metrics": "keras.metrics",
    "optimizers": "keras.optimizers", "schedules": "keras.optimizers.schedules",
}

# Keras-only config keys and the value at which they change nothing pydl computes.
NEUTRAL = {
    "reduction": "sum_over_batch_size", "ema_momentum": 0.99, "data_format": "channels_last",
    "curve": "ROC", "summation_method": "interpolation", "num_thresholds": 200,
    "renorm_momentum": 0.99,
}


def _pydl_module(kind: str):
    from .. import initializers, losses, metrics, optimizers, regularizers
    from ..optimizers import schedules

    modules = {"initializers": initializers, "regularizers": regularizers, "losses": losses,
               "metrics": metrics, "optimizers": optimizers, "schedules": schedules}
    if kind not in modules:
        raise ValueError(f"pydl has no {kind}")
    return modules[kind]


def is_neutral(key: str, value) -> bool:
    """Whether a Keras option pydl lacks is off (so dropping it changes nothing)."""
    if value is None or value is False or value == [] or value == {}:
        return True
    return key in NEUTRAL and NEUTRAL[key] == value


def accepted_keys(cls) -> tuple[set, bool]:
    """The keyword arguments ``cls(...)`` names, and whether it takes ``**kwargs``."""
    params = inspect.signature(cls.__init__).parameters
    named = {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return named - {"self"}, any(p.kind is p.VAR_KEYWORD for p in params.values())


def fit_config(cls, config: dict, what: str, accepted: set | None = None) -> dict:
    """``config`` without the Keras options ``cls`` lacks (those that are off), else ValueError."""
    if accepted is None:
        accepted, open_ended = accepted_keys(cls)
        if open_ended:
            return dict(config)
    out = {}
    for key, value in config.items():
        if key in accepted:
            out[key] = value
        elif not is_neutral(key, value):
            raise ValueError(f"{what}: the Keras option {key}={value!r} is not supported by "
                             f"pydl's {cls.__name__}")
    return out


def envelope(kind: str, class_name: str, config) -> dict:
    return {"module": MODULES[kind], "class_name": class_name, "config": config,
            "registered_name": None}


def check_entry(value, what: str) -> tuple[str, dict]:
    """(class_name, config) of a serialized object, else ValueError."""
    if not isinstance(value, dict) or not isinstance(value.get("class_name"), str):
        raise ValueError(f"{what}: expected {{'class_name': str, 'config': dict}}, received "
                         f"{value!r}"[:300])
    config = value.get("config")
    if config is None:
        config = {}
    if not isinstance(config, (dict, str)):
        raise ValueError(f"{what}: the config of {value['class_name']!r} must be a dict, "
                         f"received {config!r}"[:300])
    return value["class_name"], config


def custom_key(value: dict, custom_objects: dict):
    """The key of ``custom_objects`` that a Keras entry names (registered name first)."""
    for key in (value.get("registered_name"), value.get("class_name")):
        if isinstance(key, str) and key in custom_objects:
            return key
    return None


# -- dtypes --------------------------------------------------------------------------
def dtype_to_keras(name) -> dict | None:
    if name is None:
        return None
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": str(name)},
            "registered_name": None}


def dtype_from_keras(value, what: str):
    """A dtype name from Keras' ``DTypePolicy`` entry (or a plain string)."""
    if value is None or isinstance(value, str):
        return value
    class_name, config = check_entry(value, what)
    if class_name not in ("DTypePolicy", "FloatDTypePolicy") or not isinstance(config, dict) \
            or not isinstance(config.get("name"), str):
        raise ValueError(f"{what}: the dtype policy {class_name!r} is not supported by pydl "
                         "(float dtypes only; no quantized policies)")
    return config["name"]


# -- activations ---------------------------------------------------------------------
def activation_from_keras(value, what: str):
    """An activation name from Keras' string or ``{"class_name": "function", ...}`` form."""
    if value is None or isinstance(value, str):
        return value
    class_name, config = check_entry(value, what)
    if class_name == "function" and isinstance(config, str):
        return config
    raise ValueError(f"{what}: the activation {class_name!r} is not supported by pydl "
                     "(a function name is expected)")


# -- initializers, regularizers, losses, metrics, schedules, optimizers ---------------
def to_keras(kind: str, value):
    """A pydl serialized object (None, a name, or ``{"class_name", "config"}``; lists and
    dicts of them) in Keras' envelope."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [to_keras(kind, item) for item in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {str(k): to_keras(kind, v) for k, v in value.items()}
    class_name, config = check_entry(value, kind)
    config = dict(config)
    if kind == "optimizers" and isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = to_keras("schedules", config["learning_rate"])
    return envelope(kind, class_name, config)


def from_keras(kind: str, value, custom_objects: dict | None = None):
    """Keras' serialized object as pydl's: a name stays a name (pydl's ``get`` resolves
    it), a class becomes ``{"class_name", "config"}`` with the config fitted to pydl's class.
    """
    custom_objects = custom_objects or {}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [from_keras(kind, item, custom_objects) for item in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {str(k): from_keras(kind, v, custom_objects) for k, v in value.items()}
    class_name, config = check_entry(value, kind)
    if class_name == "function" and isinstance(config, str):
        return config  # a built-in function, by name
    if not isinstance(config, dict):
        raise ValueError(f"{kind}: the config of {class_name!r} must be a dict")
    key = custom_key(value, custom_objects)
    if key is not None:
        return {"class_name": key, "config": config}
    module = _pydl_module(kind)
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or class_name.startswith("_"):
        raise ValueError(f"Unknown {kind[:-1]} class {class_name!r}: pydl.{kind} has no such "
                         f"class. Pass it in custom_objects={{{class_name!r}: ...}}")
    config = dict(config)
    if kind == "optimizers":
        rate = config.get("learning_rate")
        if isinstance(rate, dict):
            config["learning_rate"] = from_keras("schedules", rate, custom_objects)
        elif rate is not None:
            config["learning_rate"] = float(rate)
    return {"class_name": class_name,
            "config": fit_config(cls, config, f"{kind[:-1]} {class_name}")}


# -- the compile config ---------------------------------------------------------------
def compile_to_keras(model) -> dict | None:
    """Keras' ``compile_config`` of a compiled pydl model (None when it is not compiled)."""
    from ..models import serialization

    if not getattr(model, "compiled", False):
        return None
    config = model._compile_config
    optimizer = serialization.serialize_object(model.optimizer)
    return {
        "optimizer": to_keras("optimizers", optimizer),
        "loss": to_keras("losses", serialization.serialize_object(config["loss"])),
        "loss_weights": config.get("loss_weights"),
        "metrics": to_keras("metrics", serialization.serialize_object(config["metrics"])),
        "weighted_metrics": to_keras("metrics",
                                     serialization.serialize_object(config["weighted_metrics"])),
        "run_eagerly": False,
        "steps_per_execution": config.get("steps_per_execution", 1),
        "jit_compile": False,
    }


def compile_from_keras(model, config: dict, custom_objects: dict | None) -> None:
    """Compiles ``model`` as Keras' ``compile_config`` says."""
    from .. import losses, metrics, optimizers
    from ..models import serialization

    if not isinstance(config, dict):
        raise ValueError(f"compile_config: expected a dict, received {config!r}"[:300])
    optimizer = from_keras("optimizers", config.get("optimizer"), custom_objects)
    optimizer = serialization.deserialize_object("optimizer", optimizers, optimizer, custom_objects)

    def objects(kind, module, key):  # lists and dicts: one entry per output
        singular = {"losses": "loss", "metrics": "metric"}[kind]
        return serialization.deserialize_object(
            singular, module, from_keras(kind, config.get(key), custom_objects), custom_objects)

    model.compile(
        optimizer=optimizer if optimizer is not None else "rmsprop",
        loss=objects("losses", losses, "loss"),
        metrics=objects("metrics", metrics, "metrics"),
        weighted_metrics=objects("metrics", metrics, "weighted_metrics"),
        loss_weights=config.get("loss_weights"),
        steps_per_execution=config.get("steps_per_execution") or 1,
    )
