"""Keras 3's weights layout (``model.weights.h5``): where each variable lives, and the
optimizer's state in Keras' order.

Keras names a layer's group after its class, not its name (names vary between two
instances of one model), counting repeats in the order of ``model.layers``:

    vars/                               the model's own variables (none), attr name
    layers/dense/vars/0, 1              first Dense: kernel, bias
    layers/dense_1/vars/0, 1            second Dense
    layers/sequential/layers/dense/...  a nested model, recursively
    optimizer/vars/0, 1, 2, ...         iterations, learning_rate, then the slots

A layer's variables are numbered trainable first, then non-trainable, each in creation
order. The optimizer's slots follow Keras' build: one list per slot kind over the
trainable variables in that same layer order, except that Adam's momentum and velocity
are interleaved variable by variable.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from . import hdf5

# Optimizers whose first two slot kinds Keras creates interleaved, per variable.
_INTERLEAVED = {"Adam": 2, "AdamW": 2}


def snake_case(name: str) -> str:
    """Keras' to_snake_case (keras/src/utils/naming.py)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_model(layer) -> bool:
    from ..models.model import Model

    return isinstance(layer, Model)


def keras_class_name(layer) -> str:
    if _is_model(layer):
        return "Sequential" if type(layer).__name__ == "Sequential" else "Functional"
    return type(layer).__name__


def _unique(name: str, used: dict) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _join(*parts) -> str:
    return "/".join(p for p in parts if p)


def model_layers(model) -> list:
    """``model.layers``: Keras' order (a functional model's by depth, InputLayers included)."""
    return list(model.layers)


_BASE_ATTRIBUTES = None


def _sublayer_attributes(layer) -> list:
    """(attribute, value) pairs of a custom layer that hold layers, Keras' visiting order
    (sorted by name, private ones last)."""
    from ..layers.layer import Layer

    global _BASE_ATTRIBUTES
    if _BASE_ATTRIBUTES is None:
        _BASE_ATTRIBUTES = set(vars(Layer()))
    out = []
    for name in sorted(vars(layer), key=lambda n: "~" + n if n.startswith("_") else n):
        if name in _BASE_ATTRIBUTES:
            continue
        value = vars(layer)[name]
        if isinstance(value, Layer) or (isinstance(value, (list, tuple, dict)) and value):
            out.append((name, value))
    return out


def saveables(model, path: str = "") -> list:
    """``[(h5 path, layer or model)]`` of every object with a ``vars`` group, in order."""
    out = [(path, model)]
    used: dict = {}
    for layer in model_layers(model):
        child = _join(path, "layers", _unique(snake_case(keras_class_name(layer)), used))
        out.extend(saveables(layer, child) if _is_model(layer) else _layer_saveables(layer, child))
    return out


def _layer_saveables(layer, path: str, seen=None) -> list:
    from ..layers.layer import Layer

    seen = set() if seen is None else seen
    if id(layer) in seen:
        return []
    seen.add(id(layer))
    out = [(path, layer)]
    for name, value in _sublayer_attributes(layer):
        if isinstance(value, Layer):
            out.extend(_layer_saveables(value, _join(path, name), seen))
            continue
        used: dict = {}
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            if isinstance(item, Layer):
                key = _unique(snake_case(type(item).__name__), used)
                out.extend(_layer_saveables(item, _join(path, name, key), seen))
    return out


def own_variables(layer) -> list:
    """The layer's own variables in Keras' order: created trainable first, then the rest."""
    if _is_model(layer):
        return []
    own = list(layer._own_variables())
    created = getattr(layer, "_created_trainable", set())
    return [v for v in own if id(v) in created] + [v for v in own if id(v) not in created]


def vars_path(path: str) -> str:
    return _join(path, "vars")


def trainable_in_keras_order(model) -> list:
    """The variables a Keras optimizer is built on, in Keras' order."""
    out = []
    for _, layer in saveables(model):
        if all(getattr(owner, "trainable", True) for owner in (layer, model)):
            out.extend(v for v in own_variables(layer) if v.trainable)
    return out


# -- the optimizer -----------------------------------------------------------------------
def _has_rate_variable(optimizer) -> bool:
    from ..optimizers import schedules

    return not callable(getattr(optimizer, "_learning_rate", None)) and \
        not isinstance(getattr(optimizer, "_learning_rate", None), schedules.LearningRateSchedule)


def _keras_slot_order(optimizer, count: int) -> list:
    """(kind, variable index) of each Keras slot, in Keras' order: the moving averages
    first when use_ema (Keras' base build makes them before the rule's slots), then the
    rule's slots. Kinds index pydl's slot kinds (the average is pydl's last kind)."""
    kinds = len(optimizer._slot_specs())
    order = [(kinds, i) for i in range(count)] if getattr(optimizer, "use_ema", False) else []
    interleaved = min(_INTERLEAVED.get(type(optimizer).__name__, 1), kinds)
    order += [(k, i) for i in range(count) for k in range(interleaved)]
    order += [(k, i) for k in range(interleaved, kinds) for i in range(count)]
    return order


def optimizer_to_keras(model) -> list:
    """The arrays of Keras' ``optimizer/vars``: iterations, learning rate, slots."""
    optimizer = model.optimizer
    variables = trainable_in_keras_order(model)
    arrays = [np.array(optimizer.iterations, dtype=np.int64)]
    if _has_rate_variable(optimizer):
        arrays.append(np.array(optimizer.learning_rate, dtype=np.float32))
    specs = optimizer._all_slot_specs()
    for kind, i in _keras_slot_order(optimizer, len(variables)):
        variable = variables[i]
        position = optimizer._index.get(id(variable)) if optimizer.built else None
        if position is None:  # not built yet: the values Keras' build would create
            arrays.append(np.full(variable.value.shape, specs[kind][1], dtype=variable.value.dtype))
        else:
            arrays.append(optimizer._slots[kind][position])
    return arrays


def optimizer_from_keras(model, arrays: list, what: str) -> None:
    """Restores Keras' ``optimizer/vars`` arrays into the compiled pydl model's optimizer."""
    optimizer = model.optimizer
    variables = trainable_in_keras_order(model)
    order = _keras_slot_order(optimizer, len(variables))
    head = 2 if _has_rate_variable(optimizer) else 1
    if len(arrays) not in (head, head + len(order)):
        # Keras' rule: a state of another size is skipped with a warning
        warnings.warn(
            f"{what}: skipping the optimizer state: it has {len(arrays)} variables, "
            f"{type(optimizer).__name__} over {len(variables)} trainable weights has "
            f"{head + len(order)}", stacklevel=3)
        return
    iterations = arrays[0]
    if iterations.shape != () or iterations.dtype.kind not in "iu" or int(iterations) < 0:
        raise ValueError(f"{what}: the optimizer's iteration count is not an int >= 0")
    if len(arrays) == head and order:  # saved before the optimizer was built: no slots yet
        if int(iterations) != 0:
            raise ValueError(f"{what}: the optimizer ran {int(iterations)} steps but its "
                             f"slots are missing")
        _restore_rate(optimizer, arrays, head, what)
        return
    kinds = len(optimizer._all_slot_specs())
    pydl_order = {id(v): i for i, v in enumerate(model.trainable_weights)}
    slots = [[None] * len(pydl_order) for _ in range(kinds)]
    for (kind, i), array in zip(order, arrays[head:]):
        variable = variables[i]
        if array.shape != variable.value.shape or array.dtype.kind != "f":
            raise ValueError(f"{what}: an optimizer slot of {getattr(variable, 'path', '?')} has "
                             f"shape {array.shape} and dtype {array.dtype}, expected "
                             f"{variable.value.shape} float")
        slots[kind][pydl_order[id(variable)]] = array
    if any(s is None for kind in slots for s in kind):
        raise ValueError(f"{what}: the optimizer state does not cover every trainable weight")
    optimizer.set_variables([iterations] + [s for kind in slots for s in kind],
                            var_list=model.trainable_weights)
    _restore_rate(optimizer, arrays, head, what)


def _restore_rate(optimizer, arrays: list, head: int, what: str) -> None:
    if head == 2:
        rate = arrays[1]
        if rate.shape != () or rate.dtype.kind != "f" or not np.isfinite(rate) or rate < 0:
            raise ValueError(f"{what}: the optimizer's learning rate is not a float >= 0")
        # Keras keeps the rate in float32: the config's rate stands when it rounds to it
        # (pydl's own files round-trip exactly), else the variable was changed (e.g. by
        # ReduceLROnPlateau) and wins.
        if np.float32(optimizer.learning_rate) != rate:
            optimizer.learning_rate = float(rate)


# -- files -------------------------------------------------------------------------------
def require_h5py():
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(f"Writing Keras .keras and .weights.h5 files needs h5py ({exc}). "
                          "Install the extra: pip install 'pydl[h5]'") from None
    return h5py


def write_h5(model, handle, include_optimizer: bool = True) -> None:
    """Writes ``model``'s weights (and optimizer state) in Keras' layout with h5py."""
    h5py = require_h5py()
    with h5py.File(handle, "w") as f:
        for path, layer in saveables(model):
            group = f.create_group(vars_path(path))
            group.attrs["name"] = layer.name
            for i, variable in enumerate(own_variables(layer)):
                group.create_dataset(str(i), data=np.asarray(variable.value))
        if include_optimizer and getattr(model, "compiled", False) and model.optimizer is not None:
            group = f.create_group("optimizer/vars")
            group.attrs["name"] = model.optimizer.name
            for i, array in enumerate(optimizer_to_keras(model)):
                group.create_dataset(str(i), data=array)


def _vars_group(f: hdf5.File, path: str):
    try:
        group = f.root[vars_path(path)]
    except KeyError:
        return None
    if not isinstance(group, hdf5.Group):
        raise ValueError(f"{vars_path(path)!r} is a dataset, expected a group")
    return group


def read_h5(model, data: bytes, what: str, load_optimizer: bool = True) -> None:
    """Loads weights written in Keras' layout into ``model`` (and the optimizer state when
    the model is compiled); every array is checked before any is assigned."""
    try:
        f = hdf5.File(data)
        staged = []
        for path, layer in saveables(model):
            variables = own_variables(layer)
            group = _vars_group(f, path)
            found = [] if group is None else group.keys()
            expected = [str(i) for i in range(len(variables))]
            if sorted(found, key=_natural) != expected:
                raise ValueError(
                    f"the layer {layer.name!r} ({vars_path(path)}) has {len(variables)} variables "
                    f"({[getattr(v, 'name', '?') for v in variables]}), the file holds "
                    f"{len(found)} there")
            for key, variable in zip(expected, variables):
                staged.append((variable, _checked(group[key], variable.value, layer)))
        optimizer_arrays = None
        if load_optimizer and getattr(model, "compiled", False) and model.optimizer is not None:
            group = _vars_group(f, "optimizer")
            if group is not None:
                keys = sorted(group.keys(), key=_natural)
                if keys != [str(i) for i in range(len(keys))]:
                    raise ValueError(f"optimizer/vars holds {keys}, expected 0, 1, 2, ...")
                optimizer_arrays = [_dataset(group[k]).read() for k in keys]
    except hdf5.HDF5Error as exc:
        raise ValueError(f"{what}: the weights are damaged or unsupported: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    for variable, array in staged:
        variable.value[...] = array
    if optimizer_arrays is not None:
        optimizer_from_keras(model, optimizer_arrays, what)


def _natural(key: str):
    return (0, int(key)) if key.isdigit() else (1, key)


def _dataset(node):
    if not isinstance(node, hdf5.Dataset):
        raise ValueError(f"{node.path!r} is a group, expected a dataset")
    return node


def _checked(node, target: np.ndarray, layer) -> np.ndarray:
    ds = _dataset(node)
    if "dtype" in ds.attribute_names:
        raise ValueError(f"{ds.path!r} is marked as a special dtype (bfloat16), which pydl "
                         "does not load")
    if ds.shape != target.shape:
        raise ValueError(f"{ds.path!r} of layer {layer.name!r} has shape {ds.shape}, the "
                         f"model's variable has shape {target.shape}")
    if ds.dtype.kind != target.dtype.kind:
        raise ValueError(f"{ds.path!r} of layer {layer.name!r} has dtype {ds.dtype}, the "
                         f"model's variable is {target.dtype}")
    return ds.read()
