"""`Layer`: the base class of every layer, with Keras 3's lifecycle.

    class Linear(pydl.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units))
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")
        def call(self, x):
            return pydl.ops.matmul(x, self.w) + self.b

`__call__` builds the layer from the first input's shape, then runs `call`;
the `pydl.ops` it runs are recorded by an active GradientTape, so a layer
needs no backward code. Weights of sublayers assigned as attributes (also in
lists, tuples and dicts) are tracked.
"""

from __future__ import annotations

import inspect
import re
import threading
import warnings

import numpy as np

from .. import dtype_policies, initializers
from ..saving import object_registration
from ..tensor import Tensor
from ..variable import Variable
from . import keras_tensor as _keras_tensor
from . import node as _node
from . import weight_budget

_ALLOWED_KWARGS = ("input_shape", "input_dim", "batch_input_shape", "batch_size", "autocast")
_name_uids: dict = {}


def _snake_case(name: str) -> str:
    # Keras' to_snake_case: GlobalAveragePooling1D -> global_average_pooling1d.
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """`base`, then `base_1`, `base_2`, ... (Keras' auto-naming)."""
    n = _name_uids.get(base, 0)
    _name_uids[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_names() -> None:
    """Restarts auto-naming (dense, dense_1, ..., keras_tensor, ...) from scratch."""
    _name_uids.clear()
    _keras_tensor.reset_names()


# Weight lists are cached per layer and recomputed when anything that can change
# them changed anywhere (an attribute holding a layer, variable or container; a
# tracked list or dict mutated; add_weight). One global counter keeps this exact
# across sublayers that build later, at the cost of a few rare recomputations.
_generation = [0]
_CACHE = "_pydl_cache"  # the per-layer cache attribute, never scanned for weights


def _structure_changed() -> None:
    _generation[0] += 1


def _tracks(value) -> bool:
    return isinstance(value, (Layer, Variable, list, tuple, dict))


def _changed(method):
    """`method` of a tracked container, followed by invalidating the weight caches."""
    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        _structure_changed()
        return result
    wrapper.__name__ = method.__name__
    return wrapper


class _TrackedList(list):
    """A list attribute of a layer: mutating it invalidates the weight caches (as Keras)."""

    append = _changed(list.append)
    extend = _changed(list.extend)
    insert = _changed(list.insert)
    remove = _changed(list.remove)
    pop = _changed(list.pop)
    clear = _changed(list.clear)
    sort = _changed(list.sort)
    reverse = _changed(list.reverse)
    __setitem__ = _changed(list.__setitem__)
    __delitem__ = _changed(list.__delitem__)
    __iadd__ = _changed(list.__iadd__)


class _TrackedDict(dict):
    """A dict attribute of a layer: mutating it invalidates the weight caches."""

    __setitem__ = _changed(dict.__setitem__)
    __delitem__ = _changed(dict.__delitem__)
    pop = _changed(dict.pop)
    popitem = _changed(dict.popitem)
    clear = _changed(dict.clear)
    update = _changed(dict.update)
    setdefault = _changed(dict.setdefault)


class _CallContext(threading.local):
    """The `training` flag of the outermost layer call, inherited by inner calls."""

    def __init__(self):
        self.depth = 0
        self.training = None


_context = _CallContext()
_add_loss_used = [False]  # skip clearing losses on every call until add_loss is used
_accepts_training: dict = {}
_accepts_mask: dict = {}


def _call_accepts_training(cls) -> bool:
    known = _accepts_training.get(cls)
    if known is None:
        params = inspect.signature(cls.call).parameters
        known = "training" in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        _accepts_training[cls] = known
    return known


def _call_accepts_mask(cls) -> bool:
    known = _accepts_mask.get(cls)
    if known is None:
        known = _accepts_mask[cls] = "mask" in inspect.signature(cls.call).parameters
    return known


def _propagate_mask(layer, inputs, outputs, previous_mask) -> None:
    """Keras 3 masking after a call: a layer that supports masking attaches
    ``compute_mask(inputs, previous_mask)`` to its (Tensor) output as ``_keras_mask``;
    one that does not drops an incoming mask with Keras' warning."""
    if not layer.supports_masking:
        if previous_mask is None:
            return
        warnings.warn(f"Layer {layer.name!r} (of type {type(layer).__name__}) was passed an "
                      "input with a mask attached to it. However, this layer does not support "
                      "masking and will therefore destroy the mask information. Downstream "
                      "layers will not see the mask.", stacklevel=3)
        return
    if outputs.__class__ is Tensor and outputs._keras_mask is None:
        mask = layer.compute_mask(inputs, previous_mask)
        if mask is not None:
            outputs._keras_mask = np.asarray(mask, dtype=bool)


def _shape_of(x):
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    return tuple(np.shape(x))


class Layer:
    """Base layer.

    Called on KerasTensors (``pydl.Input``), a layer records a node of a model's
    graph instead of computing (see node.py); ``input``/``output`` are then the
    symbolic tensors of its first call.

    Args:
        trainable: whether the layer's weights are trained.
        name: unique name; default: the class name in snake_case, numbered.
        dtype: the dtype policy: "float32", "float64", "mixed_bfloat16" (float32
            weights, bfloat16 matrix products: docs/mixed_precision.md) or a
            `pydl.DTypePolicy`; default the global policy
            (`pydl.mixed_precision.global_policy()`, float32 unless set).
        input_shape / input_dim / batch_input_shape / batch_size: accepted for the
            first layer of a Sequential (stored, not used by the layer itself).
    """

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None, **kwargs):
        unknown = {k: v for k, v in kwargs.items() if k not in _ALLOWED_KWARGS}
        if unknown:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                            f"{unknown}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a str, received {name!r}")
        try:
            policy = dtype_policies.get(dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{type(self).__name__}: dtype must be 'float32', 'float64', "
                             f"'mixed_bfloat16' or a DTypePolicy, received dtype={dtype!r} "
                             f"({exc})") from None
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self._set_dtype_policy(policy)
        self._trainable = bool(trainable)
        self.built = False
        self._weights_own = []
        self._created_trainable = set()  # ids of own weights made trainable=True
        object.__setattr__(self, "_losses", [])  # plain list: add_loss must not bump caches
        self._input_shape_arg = _input_shape_from(kwargs)
        self._batch_size_arg = kwargs.get("batch_size")
        if type(self).compute_mask is not Layer.compute_mask:
            self.supports_masking = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # pydl's own public layers and models are known by class name to load_model.
        if cls.__module__.startswith("pydl.") and not cls.__name__.startswith("_") \
                and "<locals>" not in cls.__qualname__:
            object_registration.register_builtin(cls)

    def __setattr__(self, name, value):
        if type(value) is list:
            value = _TrackedList(value)
        elif type(value) is dict:
            value = _TrackedDict(value)
        if _tracks(value) or _tracks(self.__dict__.get(name)):
            _structure_changed()
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        _structure_changed()
        object.__delattr__(self, name)

    def _cached(self, key, compute):
        cache = self.__dict__.get(_CACHE)
        if cache is None or cache[0] != _generation[0]:
            cache = (_generation[0], {})
            self.__dict__[_CACHE] = cache
        found = cache[1].get(key)
        if found is None:
            found = cache[1][key] = compute()
        return found

    def _attributes(self):
        return [v for k, v in self.__dict__.items() if k != _CACHE]

    # -- lifecycle ------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Creates the weights from the input shape (batch dimension first). Override it."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The computation, from `pydl.ops`. Override it."""
        return inputs

    # Keras 3: whether the layer passes on (or computes) a mask; True by default for a
    # layer that overrides compute_mask (set in __init__), else as the class declares.
    supports_masking = False

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the output (a bool array), given the input's; default: the same."""
        return previous_mask

    def __call__(self, inputs, *args, training=None, **kwargs):
        cls = inputs.__class__
        if cls is not np.ndarray and cls is not Tensor and _node.is_symbolic(inputs, args, kwargs):
            return _node.symbolic_call(self, inputs, args, training, kwargs)
        inputs = self._convert_inputs(inputs)
        outer = _context.depth == 0
        if training is None:
            training = _context.training
        if not self.built:
            self.build(_shape_of(inputs))
            self.built = True
        if outer and _add_loss_used[0]:
            self._clear_losses()
        # Keras 3 masking: a mask rides on a Tensor (`_keras_mask`) and is passed to
        # a `call` that takes `mask`, unless one was given explicitly.
        previous_mask = kwargs.get("mask")
        if previous_mask is None and inputs.__class__ is Tensor:
            previous_mask = inputs._keras_mask
            if previous_mask is not None and _call_accepts_mask(type(self)):
                kwargs["mask"] = previous_mask
        saved = _context.training
        _context.depth += 1
        _context.training = training
        try:
            if _call_accepts_training(type(self)):
                kwargs["training"] = training
            outputs = self.call(inputs, *args, **kwargs)
        finally:
            _context.depth -= 1
            _context.training = saved
        if previous_mask is not None or type(self).compute_mask is not Layer.compute_mask:
            _propagate_mask(self, inputs, outputs, previous_mask)
        return outputs

    def _convert_inputs(self, inputs):
        # NumPy / list input becomes an array of the layer's dtype (float inputs are cast,
        # as Keras autocasts); Tensors and Variables pass unchanged.
        if isinstance(inputs, (Tensor, Variable)):
            return inputs
        if inputs.__class__ is np.ndarray:
            dtype = inputs.dtype
            if dtype is not self._np_dtype and dtype.kind in "fiub" and dtype != self._np_dtype:
                return inputs.astype(self._np_dtype)
            return inputs
        if isinstance(inputs, (list, tuple)) and inputs and all(
                isinstance(v, (Tensor, Variable, np.ndarray)) for v in inputs):
            return type(inputs)(self._convert_inputs(v) for v in inputs)
        if isinstance(inputs, dict):
            return {k: self._convert_inputs(v) for k, v in inputs.items()}
        return np.asarray(inputs, dtype=self.dtype)

    # -- dtype policy (Keras 3) -------------------------------------------------------------
    def _set_dtype_policy(self, policy) -> None:
        self.__dict__["_dtype_policy"] = policy
        self.__dict__["_np_dtype"] = np.dtype(policy.variable_dtype)
        if policy.compute_dtype == "bfloat16":
            dtype_policies.bf16_kernels()  # the one-time warning where they do not run

    @property
    def dtype_policy(self):
        """The layer's `pydl.DTypePolicy` (settable with a name or a policy)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value) -> None:
        policy = dtype_policies.get(value)
        if self.built and np.dtype(policy.variable_dtype) != self._np_dtype:
            raise ValueError(f"{self.name}: a built layer keeps its variable dtype "
                             f"{self.variable_dtype}; the policy {policy.name!r} would change it")
        self._set_dtype_policy(policy)

    @property
    def dtype(self) -> str:
        """Alias of `variable_dtype` (Keras 3): the dtype of the weights and of the arrays
        the layer returns."""
        return self._np_dtype.name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations ("bfloat16" under mixed_bfloat16)."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights."""
        return self._np_dtype.name

    @property
    def _bf16(self) -> bool:
        """Whether this layer's matrix products read bfloat16-rounded operands (the
        core runs them on float32 kernels where bfloat16 ones are not installed)."""
        return self._dtype_policy.compute_dtype == "bfloat16"

    def compute_output_shape(self, input_shape):
        raise NotImplementedError(f"{type(self).__name__} does not implement "
                                  "compute_output_shape")

    # -- symbolic calls (the graph of a model) --------------------------------------------
    @property
    def _inbound_nodes(self) -> list:
        """The Nodes of this layer's calls on KerasTensors, in call order (node.py)."""
        nodes = self.__dict__.get("_pydl_inbound_nodes")
        if nodes is None:
            nodes = self.__dict__["_pydl_inbound_nodes"] = []
        return nodes

    @property
    def input(self):
        """The input KerasTensor(s) of the layer's first symbolic call (Keras 3)."""
        return self._first_node_attribute("input_tensors", "input")

    @property
    def output(self):
        """The output KerasTensor(s) of the layer's first symbolic call (Keras 3)."""
        return self._first_node_attribute("outputs", "output")

    def _first_node_attribute(self, attribute: str, what: str):
        nodes = self._inbound_nodes
        if not nodes:
            raise AttributeError(f"The layer {self.name!r} has never been called on symbolic "
                                 f"tensors and thus has no defined {what}")
        values = getattr(nodes[0], attribute)
        return values[0] if len(values) == 1 else list(values)

    # -- weights --------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True,
                   autocast: bool = True, regularizer=None, constraint=None,
                   aggregation: str = "none", name: str | None = None) -> Variable:
        """Creates a weight Variable tracked by this layer.

        Args:
            shape: the weight's shape (default: scalar).
            initializer: name, Initializer or callable (default "glorot_uniform").
            dtype: default the layer's dtype.
            trainable: whether it is trained.
            name: the variable's name (its `path` is "layer_name/name").
            regularizer: name or callable `regularizer(variable) -> scalar Tensor`,
                added to `layer.losses`.
            constraint: callable applied by optimizers after each update.
            autocast, aggregation: accepted for Keras 3 compatibility (no effect).
        """
        shape = () if shape is None else tuple(int(n) for n in shape)
        dtype = self.dtype if dtype is None else np.dtype(dtype).name
        init = initializers.get("glorot_uniform" if initializer is None else initializer)
        if not callable(init):
            raise TypeError(f"add_weight: initializer must be a name or a callable, received "
                            f"{initializer!r}")
        if name is None:
            name = f"variable_{len(self._weights_own)}" if self._weights_own else "variable"
        weight_budget.charge(shape, dtype)  # a no-op unless a file is being loaded
        variable = Variable(init(shape, dtype=dtype), trainable=trainable, name=name,
                            dtype=dtype)
        variable.path = f"{self.name}/{name}"
        variable.regularizer = _get_regularizer(regularizer)
        if constraint is not None and not callable(constraint):
            raise TypeError(f"add_weight: constraint must be callable, received {constraint!r}")
        variable.constraint = constraint
        self._weights_own.append(variable)
        _structure_changed()
        if trainable:
            self._created_trainable.add(id(variable))
        return variable

    def _own_variables(self) -> list:
        return self._cached("own", self._find_own_variables)

    def _find_own_variables(self) -> list:
        own = list(self._weights_own)
        seen = {id(v) for v in own}
        for value in self._attributes():
            for v in _find(value, Variable):
                if id(v) not in seen:
                    seen.add(id(v))
                    own.append(v)
        return own

    def _sublayers(self) -> list:
        """Layers assigned as attributes (also inside lists, tuples, dicts), in order."""
        return self._cached("sublayers", self._find_sublayers)

    def _find_sublayers(self) -> list:
        out, seen = [], set()
        for value in self._attributes():
            for layer in _find(value, Layer):
                if layer is not self and id(layer) not in seen:
                    seen.add(id(layer))
                    out.append(layer)
        return out

    def _all_weights(self) -> list:
        out, seen = [], set()
        for v in self._own_variables():
            seen.add(id(v))
            out.append(v)
        for layer in self._sublayers():
            for v in layer._all_weights():
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def weights(self) -> list:
        """All weights: this layer's (creation order), then its sublayers'."""
        return list(self._cached("weights", self._all_weights))

    @property
    def trainable_weights(self) -> list:
        if not self._trainable:
            return []
        return [v for v in self._cached("weights", self._all_weights) if v.trainable]

    @property
    def non_trainable_weights(self) -> list:
        if not self._trainable:
            return self.weights
        return [v for v in self._cached("weights", self._all_weights) if not v.trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        self._trainable = value
        for v in self._weights_own:
            if id(v) in self._created_trainable:
                v.trainable = value
        for layer in self._sublayers():
            layer.trainable = value

    def get_weights(self) -> list:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"set_weights: layer {self.name!r} has {len(mine)} weights, "
                             f"received {len(weights)} arrays")
        for v, w in zip(mine, weights):
            v.assign(w)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"count_params: layer {self.name!r} is not built yet; call it "
                             "on data or call build(input_shape) first")
        return int(sum(v.value.size for v in self.weights))

    # -- losses ---------------------------------------------------------------------------
    def _add_activity_penalty(self, outputs) -> None:
        """Adds ``self.activity_regularizer(outputs)`` to the losses, divided by the batch
        size when the output has a batch axis (Keras 3's ``Layer.__call__``: the same
        strength at any batch size)."""
        from .. import ops

        penalty = self.activity_regularizer(outputs)
        shape = np.shape(outputs)
        if shape:
            penalty = ops.divide(penalty, float(max(shape[0], 1)))
        self.add_loss(penalty)

    def _plan_activity_penalty(self, call):
        """The (l1, l2) factors of this layer's activity penalty for the fused plan, None
        without one; a regularizer the core's penalty kernel cannot compute says no."""
        regularizer = getattr(self, "activity_regularizer", None)
        return None if regularizer is None else call.penalty_factors(regularizer)

    def add_loss(self, loss) -> None:
        """Adds a scalar loss (a Tensor, built from ops) to `layer.losses` for this call."""
        _add_loss_used[0] = True
        self._losses.append(loss)

    @property
    def losses(self) -> list:
        """add_loss terms of the last call and the weights' regularization penalties.

        Penalties are computed on access with `pydl.ops`, so inside a GradientTape
        they are differentiable.
        """
        out = list(self._losses)
        out.extend(regularizer(v) for v, regularizer in self._own_penalties())
        for layer in self._sublayers():
            out.extend(layer.losses)
        return out

    def _own_penalties(self) -> list:
        """(variable, regularizer) of this layer's own penalized trainable weights."""
        return [(v, v.regularizer) for v in self._own_variables()
                if v.regularizer is not None and (v.trainable and self._trainable)]

    def _loss_terms(self) -> list:
        """The terms of ``losses`` in its order, for the fused plan (which adds them in
        this order too): ``(layer, None)`` where a layer's ``add_loss`` terms of its calls
        come, ``(variable, regularizer)`` for a weight penalty."""
        out = [(self, None)] + self._own_penalties()
        for layer in self._sublayers():
            out.extend(layer._loss_terms())
        return out

    # -- the fused training plan ----------------------------------------------------------
    def _plan_node(self, call):
        """This layer call's native form in the fused training plan (pydl/models/plan):
        ``call.native(spec, variables)`` with a ``_core.plan`` node spec and the Variables
        its tensors are, ``call.identity()``, or ``call.unsupported(reason)``. The base
        layer has none: a model using it trains on the GradientTape. See
        docs/adding_a_layer.md."""
        return call.unsupported(f"{type(self).__name__} ({self.name!r}) has no native form")

    def _clear_losses(self) -> None:
        object.__setattr__(self, "_losses", [])
        for layer in self._sublayers():
            layer._clear_losses()

    # -- config ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self._trainable,
                  "dtype": self._dtype_policy.name}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = (self._batch_size_arg,) + tuple(self._input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _input_shape_from(kwargs: dict):
    if kwargs.get("batch_input_shape") is not None:
        return tuple(kwargs["batch_input_shape"])[1:]
    if kwargs.get("input_shape") is not None:
        return tuple(kwargs["input_shape"])
    if kwargs.get("input_dim") is not None:
        return (int(kwargs["input_dim"]),)
    return None


def _find(value, kind):
    """Objects of type `kind` in `value` or inside its lists, tuples and dict values."""
    if isinstance(value, kind):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _find(item, kind)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _find(item, kind)


def _get_regularizer(regularizer):
    if regularizer is None:
        return None
    if isinstance(regularizer, (str, dict)):
        from .. import regularizers  # owned by another area; imported only when used

        return regularizers.get(regularizer)
    if callable(regularizer):
        return regularizer
    raise TypeError(f"add_weight: regularizer must be a name or a callable, received "
                    f"{regularizer!r}")
