"""Objects to and from ``{"class_name": ..., "config": {...}}`` (plain JSON).

Only classes that pydl registers (``pydl.saving.object_registration``: its own
layers and models by class name, and the user's registered ones), or that the
caller passes in ``custom_objects``, are ever constructed: a saved file names
classes, it never carries code. This module imports no layer or model module.
"""

from __future__ import annotations

import inspect

from ..saving import object_registration


def serialize_layer(layer) -> dict:
    """``{"class_name", "config"}``, plus ``"registered_name"`` for a class registered with
    ``register_keras_serializable``."""
    entry = {"class_name": type(layer).__name__, "config": layer.get_config()}
    registered = object_registration.GLOBAL_CUSTOM_NAMES.get(type(layer))
    if registered is not None:
        entry["registered_name"] = registered
    return entry


def _check_entry(what: str, entry) -> tuple:
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config", {}), dict):
        raise ValueError(f"{what}: expected {{'class_name': str, 'config': dict}}, "
                         f"received {entry!r}"[:300])
    return entry["class_name"], dict(entry.get("config") or {})


def accepts_custom_objects(from_config) -> bool:
    try:
        return "custom_objects" in inspect.signature(from_config).parameters
    except (TypeError, ValueError):
        return False


def deserialize_layer(entry: dict, custom_objects: dict | None = None):
    """The layer (or model) described by ``serialize_layer``'s output."""
    class_name, config = _check_entry("layer config", entry)
    registered = entry.get("registered_name")
    cls = object_registration.resolve(class_name, registered if isinstance(registered, str)
                                      else None, custom_objects)
    if cls is None:
        raise ValueError(
            f"Unknown layer class {class_name!r}: it is not a built-in pydl layer. "
            f"Pass it to load_model(..., custom_objects={{{class_name!r}: {class_name}}}) "
            "or register it with @pydl.saving.register_keras_serializable()"
        )
    from_config = getattr(cls, "from_config", None)
    if from_config is None:
        return cls(**config)
    if accepts_custom_objects(from_config):
        return from_config(config, custom_objects=custom_objects)
    return from_config(config)


def serialize_object(obj):
    """A loss, metric or optimizer for the compile config: its name or class + config."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_object(item) for item in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_object(v) for k, v in obj.items()}
    get_config = getattr(obj, "get_config", None)
    if get_config is not None:
        return {"class_name": type(obj).__name__, "config": get_config()}
    name = getattr(obj, "__name__", None)
    if name is not None:  # a plain function, resolved by name on load
        return name
    raise TypeError(f"cannot save {type(obj).__name__} {obj!r}: it has no get_config()")


def deserialize_object(kind: str, module, value, custom_objects: dict | None = None):
    """The object of ``module`` (pydl.losses, pydl.metrics, pydl.optimizers) saved as ``value``.

    Strings go to ``module.get``; class entries are looked up in
    ``custom_objects``, then among ``module``'s public classes.
    """
    custom_objects = custom_objects or {}
    if value is None:
        return None
    if isinstance(value, list):
        return [deserialize_object(kind, module, item, custom_objects) for item in value]
    if isinstance(value, dict) and "class_name" not in value:  # one per output, by name
        return {k: deserialize_object(kind, module, item, custom_objects)
                for k, item in value.items()}
    if isinstance(value, str):
        if value in custom_objects:
            found = custom_objects[value]
            return found() if isinstance(found, type) else found
        return value  # resolved by compile() through module.get
    class_name, config = _check_entry(kind, value)
    cls = custom_objects.get(class_name)
    if cls is None:
        candidate = getattr(module, class_name, None)
        if isinstance(candidate, type) and not class_name.startswith("_"):
            cls = candidate
    if cls is None:
        raise ValueError(
            f"Unknown {kind} class {class_name!r}: not in {module.__name__}. "
            f"Pass it in custom_objects={{{class_name!r}: ...}}"
        )
    from_config = getattr(cls, "from_config", None)
    return from_config(config) if from_config is not None else cls(**config)
