"""Classes and functions known by name, so that a saved config can name them.

A config names a class (``{"class_name": "Dense", ...}``); loading looks the name
up here and never imports or executes anything the file says. Two tables:

- built-ins: every public ``Layer`` subclass defined in a ``pydl.*`` module
  registers itself by class name when it is defined (``Layer.__init_subclass__``),
  models included, so serialization needs to import no layer or model module;
- custom objects (Keras 3's API): ``@register_keras_serializable(package="Custom")``
  registers a user's class or function as ``"Custom>Name"``;
  ``get_custom_objects()`` is the live dict, ``custom_object_scope({...})`` adds
  objects for a block.

    @pydl.saving.register_keras_serializable(package="MyLayers")
    class Scale(pydl.layers.Layer): ...
    pydl.saving.get_registered_name(Scale)      # "MyLayers>Scale"
"""

from __future__ import annotations

import inspect
import threading

GLOBAL_CUSTOM_OBJECTS: dict = {}  # registered name -> class or function
GLOBAL_CUSTOM_NAMES: dict = {}  # class or function -> registered name
_BUILTINS: dict = {}  # class name -> pydl's own class


class _Scopes(threading.local):
    def __init__(self):
        self.stack = []


_scopes = _Scopes()


class CustomObjectScope:
    """``with custom_object_scope({"Scale": Scale}):`` -- names deserialization resolves
    inside the block.

    Args:
        custom_objects: ``{name: class or function}``.
    """

    def __init__(self, custom_objects):
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise TypeError(f"custom_object_scope: expected a dict, received "
                            f"{type(custom_objects).__name__}")
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _scopes.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scopes.stack.pop()


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """The live dict of registered custom objects (``{"Package>Name": obj}``)."""
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Registers a class or function under ``"package>name"`` (name: its ``__name__``).

    Args:
        package: the first part of the registered name.
        name: the second part; default the object's ``__name__``.

    Returns:
        A decorator that registers its argument and returns it unchanged.
    """
    if not isinstance(package, str) or not package:
        raise ValueError(f"register_keras_serializable: expected package to be a non-empty "
                         f"str, received package={package!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"register_keras_serializable: expected name to be a non-empty str "
                         f"or None, received name={name!r}")

    def decorator(obj):
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"register_keras_serializable: cannot register the class "
                             f"{obj.__name__}, which has no get_config() method")
        if not callable(obj):
            raise TypeError(f"register_keras_serializable: expected a class or a function, "
                            f"received {obj!r}")
        registered = f"{package}>{name if name is not None else obj.__name__}"
        GLOBAL_CUSTOM_OBJECTS[registered] = obj
        GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` was registered under, else its ``__name__``."""
    try:
        return GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):
        return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object called ``name``: looked up in the active ``custom_object_scope``s,
    the registered custom objects, ``custom_objects``, then ``module_objects``;
    None when none has it."""
    for scope in reversed(_scopes.stack):
        if name in scope:
            return scope[name]
    if name in GLOBAL_CUSTOM_OBJECTS:
        return GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def register_builtin(cls) -> None:
    """Records one of pydl's own classes under its class name (called at class creation)."""
    existing = _BUILTINS.get(cls.__name__)
    if existing is not None and existing is not cls and \
            (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(f"pydl defines two serializable classes named {cls.__name__!r}: "
                         f"{existing.__module__}.{existing.__qualname__} and "
                         f"{cls.__module__}.{cls.__qualname__}; rename one")
    _BUILTINS[cls.__name__] = cls


def builtin(class_name: str):
    """pydl's own class called ``class_name`` (None when there is none)."""
    return _BUILTINS.get(class_name)


def resolve(class_name: str, registered_name=None, custom_objects=None):
    """The class a config entry names: ``custom_objects`` first (by registered name,
    then class name), then scopes and registered custom objects, then pydl's own
    classes; None when nothing has that name."""
    custom_objects = custom_objects or {}
    for key in (registered_name, class_name):
        if key is not None and key in custom_objects:
            return custom_objects[key]
    for key in (registered_name, class_name):
        if key is not None:
            found = get_registered_object(key)
            if found is not None:
                return found
    return _BUILTINS.get(class_name)
