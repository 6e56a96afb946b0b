"""Nested structures of lists, tuples and dicts, flattened and packed as Keras 3 does.

    flatten({"b": y, "a": [x, z]})          # [x, z, y]: dict values in sorted key order
    pack_sequence_as({"b": 0, "a": [0, 0]}, [1, 2, 3])   # {"b": 3, "a": [1, 2]}

Leaves are everything that is not a list, tuple or dict (None included). Dicts
are walked in sorted key order (insertion order when the keys do not sort), so
a model's ``inputs``/``outputs`` come in the order Keras gives them.
"""

from __future__ import annotations

_NESTED = (list, tuple, dict)


def is_nested(value) -> bool:
    return isinstance(value, _NESTED)


def _keys(mapping: dict) -> list:
    try:
        return sorted(mapping)
    except TypeError:  # keys of mixed types: keep the insertion order
        return list(mapping)


def flatten(structure) -> list:
    """The leaves of ``structure``, depth first."""
    out = []
    _flatten(structure, out)
    return out


def _flatten(structure, out: list) -> None:
    if isinstance(structure, dict):
        for key in _keys(structure):
            _flatten(structure[key], out)
    elif isinstance(structure, (list, tuple)):
        for item in structure:
            _flatten(item, out)
    else:
        out.append(structure)


def pack_sequence_as(structure, flat):
    """``flat`` (leaves in ``flatten`` order) put back into the shape of ``structure``."""
    items = iter(flat)
    packed = _pack(structure, items)
    if next(items, _END) is not _END:
        raise ValueError(f"pack_sequence_as: more values than the {len(flatten(structure))} "
                         "leaves of the structure")
    return packed


_END = object()


def _pack(structure, items):
    if isinstance(structure, dict):
        values = {key: _pack(structure[key], items) for key in _keys(structure)}
        return type(structure)((key, values[key]) for key in structure)
    if isinstance(structure, (list, tuple)):
        packed = [_pack(item, items) for item in structure]
        if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # a namedtuple
            return type(structure)(*packed)
        return type(structure)(packed) if type(structure) in (list, tuple) else packed
    value = next(items, _END)
    if value is _END:
        raise ValueError("pack_sequence_as: fewer values than the leaves of the structure")
    return value


def map_structure(fn, structure):
    """``structure`` with ``fn`` applied to every leaf."""
    return pack_sequence_as(structure, [fn(leaf) for leaf in flatten(structure)])
