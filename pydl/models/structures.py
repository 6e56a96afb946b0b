"""Nested structures of data (Keras' ``tree``, the small part pydl needs).

A structure is a leaf (an array, a Tensor, None, ...), or a list, tuple or dict of
structures. ``flatten`` lists the leaves in order, dicts in sorted key order (as
keras.tree does, so a model's dict outputs flatten as in Keras 3); ``pack_as``
rebuilds a structure's shape from a flat list.
"""

from __future__ import annotations


def is_nested(value) -> bool:
    return isinstance(value, (list, tuple, dict))


def flatten(structure) -> list:
    """The leaves of `structure`, in order."""
    if not is_nested(structure):
        return [structure]
    out: list = []
    _flatten_into(structure, out)
    return out


def _flatten_into(structure, out: list) -> None:
    if isinstance(structure, dict):
        for key in sorted(structure):
            _flatten_into(structure[key], out)
    elif isinstance(structure, (list, tuple)):
        for value in structure:
            _flatten_into(value, out)
    else:
        out.append(structure)


def pack_as(structure, flat):
    """`structure` with its leaves replaced, in order, by the values of `flat`."""
    iterator = iter(flat)
    packed = _pack(structure, iterator)
    return packed


def _pack(structure, iterator):
    if isinstance(structure, dict):
        return {k: _pack(structure[k], iterator) for k in sorted(structure)}
    if isinstance(structure, list):
        return [_pack(v, iterator) for v in structure]
    if isinstance(structure, tuple):
        items = [_pack(v, iterator) for v in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else tuple(items)
    return next(iterator)


def map_structure(fn, structure):
    """`structure` with `fn` applied to every leaf."""
    return pack_as(structure, [fn(leaf) for leaf in flatten(structure)])
