"""`GradientTape`: reverse-mode automatic differentiation, micrograd style.

While a tape is active (``with GradientTape() as tape:``), every `pydl.ops`
call with a watched input -- a trainable Variable, a value passed to
`tape.watch`, or the output of an op the tape recorded -- returns a Tensor that
remembers its inputs and a backward closure. `tape.gradient` walks that graph
backward from the target: a topological order, then one reversed loop that
calls each node's closure and accumulates the input gradients in a dict keyed
by `id`. Nothing is recorded when no tape is active or no input is watched, so
inference pays one thread-local lookup per op.

Ops use two functions of this module: `recording(inputs)` before building a
result, and `record(value, inputs, rec, backward)` to make the recorded Tensor.
A new differentiable op is written so (pydl/ops/math.py has many):

    def cube(x):
        v, dtype = unary(x)                    # pydl/ops/_convert.py: float array
        out = v * v * v
        rec = recording((x,))
        if rec is None:                        # nothing watches x: no graph
            return Tensor(out)
        return record(out, (x,), rec, lambda g: (g * 3 * v * v,))

The backward closure gets the gradient of the output and returns one gradient
per input (None where `rec[0][i]` is False); it must not modify `g` in place.
The stack of active tapes is thread-local.

Where a value feeds several ops, its gradient is the sum of what they send back,
added in the reverse order of the ops' recording (the latest op's first, an op's
inputs in order): a fixed order whatever the walk, which the fused training plan
(csrc/plan/graph_plan.h) follows too, so both give the same bits.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np

from .tensor import Tensor
from .variable import Variable


class _ThreadState(threading.local):
    def __init__(self):
        self.tapes = []


_state = _ThreadState()
_sequence = itertools.count()  # when each op was recorded (Tensor._seq)


def _auto_watch(tape: "GradientTape", x) -> bool:
    """Watches `x` when it is a trainable Variable and the tape watches accessed variables."""
    if x.__class__ is not np.ndarray and tape._watch_accessed and isinstance(x, Variable) \
            and x.trainable:
        tape._watched[id(x)] = x
        return True
    return False


def recording(inputs: tuple):
    """`(needs, tapes)` when an active tape watches one of `inputs`, else None.

    `needs[i]` says whether input i needs a gradient; `tapes` are the tapes
    that record the op.
    """
    tapes = _state.tapes
    if not tapes:
        return None
    if len(tapes) == 1:  # the common case, kept short
        tape = tapes[0]
        watched = tape._watched
        needs = [id(x) in watched or _auto_watch(tape, x) for x in inputs]
        return (needs, tapes[:]) if True in needs else None
    needs = [False] * len(inputs)
    recorders = []
    for tape in tapes:
        hits = [id(x) in tape._watched or _auto_watch(tape, x) for x in inputs]
        if True in hits:
            recorders.append(tape)
            needs = [n or h for n, h in zip(needs, hits)]
    return (needs, recorders) if recorders else None


def record(value: np.ndarray, inputs: tuple, rec, backward) -> Tensor:
    """A Tensor holding `value`, recorded on the tapes of `rec = recording(inputs)`.

    `backward(g)` returns one gradient per input (None where `rec[0][i]` is False).
    """
    out = Tensor(value)
    out._inputs = inputs
    out._needs = rec[0]
    out._backward = backward
    out._seq = next(_sequence)
    key = id(out)
    tapes = rec[1]
    for tape in tapes:
        tape._watched[key] = out
        tape._recorded.add(key)
        if len(tapes) > 1:
            tape._shared.add(key)
    return out


def is_recording() -> bool:
    """True when a tape is active on this thread."""
    return bool(_state.tapes)


# -- nested structures of sources: dict / list / tuple --------------------------------
def _flatten(structure, out: list) -> list:
    if isinstance(structure, dict):
        for value in structure.values():
            _flatten(value, out)
    elif isinstance(structure, (list, tuple)):
        for value in structure:
            _flatten(value, out)
    else:
        out.append(structure)
    return out


def _pack(structure, flat_iter):
    if isinstance(structure, dict):
        return type(structure)((k, _pack(v, flat_iter)) for k, v in structure.items())
    if isinstance(structure, list):
        return [_pack(v, flat_iter) for v in structure]
    if isinstance(structure, tuple):
        items = [_pack(v, flat_iter) for v in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else tuple(items)
    return next(flat_iter)


def _value_of(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x._value
    if isinstance(x, Variable):
        return x.value
    return np.asarray(x)


class GradientTape:
    """Records differentiable operations for automatic differentiation.

    Example:
        w = pydl.Variable(np.ones((3, 2)))
        with pydl.GradientTape() as tape:
            loss = pydl.ops.sum(pydl.ops.square(x @ w))
        dw = tape.gradient(loss, w)          # np.ndarray of w's shape

    Args:
        persistent: allow several `gradient` calls (else one; the graph is
            freed after it).
        watch_accessed_variables: watch trainable Variables used by ops inside
            the context automatically.

    Second derivatives (a gradient taken inside another tape) are not supported.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = bool(persistent)
        self._watch_accessed = bool(watch_accessed_variables)
        self._watched = {}      # id -> object: watched values and recorded outputs
        self._recorded = set()  # ids of the Tensors whose op this tape recorded
        self._shared = set()    # ... of those, the ones other tapes recorded too
        self._entered = False
        self._used = False

    # -- recording ----------------------------------------------------------------------
    def __enter__(self) -> "GradientTape":
        if self._used:
            raise RuntimeError("GradientTape: this non-persistent tape was already used by "
                               "gradient(); create a new tape")
        if self in _state.tapes:
            raise RuntimeError("GradientTape: this tape is already recording")
        _state.tapes.append(self)
        self._entered = True
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        tapes = _state.tapes
        if self in tapes:
            tapes.remove(self)

    def watch(self, x) -> None:
        """Watches `x` (Variable, Tensor, NumPy array, or a nested list/tuple/dict of them)."""
        for leaf in _flatten(x, []):
            if not isinstance(leaf, (Variable, Tensor, np.ndarray)):
                raise TypeError("watch: expected a Variable, Tensor or NumPy array (or a "
                                f"list/tuple/dict of them), received {type(leaf).__name__}; "
                                "wrap Python numbers with np.asarray first")
            self._watched[id(leaf)] = leaf

    def watched_variables(self) -> list:
        """The Variables this tape watches, in the order they were first watched."""
        return [x for x in self._watched.values() if isinstance(x, Variable)]

    def stop_recording(self):
        """Context manager: ops inside it are not recorded on this tape."""
        return _Paused(self)

    def reset(self) -> None:
        """Forgets everything recorded and watched so far."""
        self._watched = {}
        self._recorded = set()
        self._shared = set()

    def _release_graph(self) -> None:
        # Cuts the graph links of the Tensors only this tape recorded, so that a
        # result kept by the user (a loss in a list) does not keep every
        # activation of the step alive.
        watched, shared = self._watched, self._shared
        for key in self._recorded:
            if key not in shared:
                node = watched[key]
                node._inputs = node._needs = node._backward = None

    # -- differentiation ----------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradient of `target` with respect to `sources`.

        Args:
            target: a scalar Tensor (or a list/tuple of them: their sum). A
                non-scalar target needs `output_gradients` (the upstream
                gradient); without it the call raises ValueError, because an
                implicit sum of a per-sample loss is a common silent mistake.
            sources: a Variable, Tensor or watched array, or a nested
                list/tuple/dict of them.
            output_gradients: same structure as `target`, each of its shape.
            unconnected_gradients: "none" (None for a source the target does not
                depend on) or "zero" (zeros).

        Returns:
            NumPy arrays in the structure of `sources`, each of its source's shape.
        """
        self._check_callable()
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError("gradient: unconnected_gradients must be 'none' or 'zero', "
                             f"received {unconnected_gradients!r}")
        if target is None:
            raise TypeError("gradient: target must be a Tensor, received None")
        targets = _flatten(target, [])
        seeds = self._seeds(targets, output_gradients)
        flat_sources = _flatten(sources, [])
        grads = self._backpropagate(targets, seeds, flat_sources)
        if not self._persistent:
            self._used = True
            self._release_graph()
            self.reset()
        results = [_finish(grads.get(id(s)), s, unconnected_gradients) for s in flat_sources]
        return _pack(sources, iter(results))

    def _check_callable(self) -> None:
        if self._used:
            raise RuntimeError("GradientTape.gradient can only be called once on a "
                               "non-persistent tape; create it with "
                               "GradientTape(persistent=True) to call it several times")
        if not self._entered:
            raise RuntimeError("GradientTape.gradient: this tape recorded nothing; compute "
                               "the target inside `with GradientTape() as tape:`")
        if self in _state.tapes:
            raise RuntimeError("GradientTape.gradient was called inside the tape's own "
                               "`with` block; call it after the block")
        if _state.tapes:
            raise RuntimeError("GradientTape.gradient was called while another tape is "
                               "recording: second derivatives (nested tapes) are not "
                               "supported by pydl")

    @staticmethod
    def _seeds(targets: list, output_gradients) -> list:
        if output_gradients is None:
            for t in targets:
                shape = np.shape(_value_of(t))
                if int(np.prod(shape)) != 1:
                    raise ValueError(
                        f"gradient: target must be a scalar, received shape {shape}; reduce "
                        "it first (pydl.ops.mean or pydl.ops.sum) or pass output_gradients")
            return [None] * len(targets)
        seeds = _flatten(output_gradients, [])
        if len(seeds) != len(targets):
            raise ValueError(f"gradient: output_gradients has {len(seeds)} entries, "
                             f"expected one per target ({len(targets)})")
        out = []
        for t, g in zip(targets, seeds):
            value = _value_of(t)
            g = np.asarray(_value_of(g), dtype=value.dtype)
            if g.shape != value.shape:
                raise ValueError(f"gradient: output_gradients entry has shape {g.shape}, "
                                 f"expected the target's shape {value.shape}")
            out.append(g)
        return out

    def _backpropagate(self, targets: list, seeds: list, sources: list) -> dict:
        watched, recorded = self._watched, self._recorded
        order = _topological_order([t for t in targets if id(t) in watched], recorded)
        source_ids = {id(s) for s in sources}
        # Only nodes on a path to a source get their backward called.
        leads = set()
        for node in order:
            key = id(node)
            if key in source_ids:
                leads.add(key)
            elif key in recorded:
                for p, need in zip(node._inputs, node._needs):
                    if need and id(p) in leads:
                        leads.add(key)
                        break
        pending = {}  # id -> [(seq of the sending op, gradient), ...]
        for t, seed in zip(targets, seeds):
            if id(t) in leads:
                g = np.ones_like(_value_of(t)) if seed is None else seed
                _contribute(pending, id(t), _SEED, g)
        for node in reversed(order):
            key = id(node)
            parts = pending.pop(key, None)
            if parts is None or key not in recorded:
                if parts is not None:
                    pending[key] = parts  # a source: summed below
                continue
            g = _sum(parts)
            if key in source_ids:
                pending[key] = [(_SEED, g)]
            input_grads = node._backward(g)
            seq = node._seq
            for p, need, pg in zip(node._inputs, node._needs, input_grads):
                if need and pg is not None and id(p) in leads:
                    _contribute(pending, id(p), seq, pg)
        return {key: _sum(parts) for key, parts in pending.items()}


def _topological_order(roots: list, recorded: set) -> list:
    """Nodes reachable from `roots` through recorded ops, inputs before outputs."""
    order, visited = [], set()
    stack = [(r, False) for r in roots]
    pop, push = stack.pop, stack.append
    while stack:
        node, expanded = pop()
        if expanded:
            order.append(node)
            continue
        key = id(node)
        if key in visited:
            continue
        visited.add(key)
        push((node, True))
        if key in recorded:
            for p, need in zip(node._inputs, node._needs):
                if need:
                    push((p, False))
    return order


_SEED = float("inf")  # a target's own gradient comes before any op's


def _contribute(pending: dict, key: int, seq, g) -> None:
    parts = pending.get(key)
    if parts is None:
        pending[key] = [(seq, g)]
    else:
        parts.append((seq, g))


def _sum(parts: list):
    """The contributions added latest op first (a stable sort keeps an op's inputs in
    order): total = g_latest; total = total + g_next; ..."""
    if len(parts) == 1:
        return parts[0][1]
    parts.sort(key=lambda part: -part[0])
    total = parts[0][1]
    for _, g in parts[1:]:
        total = total + g
    return total


def _finish(g, source, unconnected: str):
    value = _value_of(source)
    if g is None:
        return np.zeros_like(value, dtype=_grad_dtype(value)) if unconnected == "zero" else None
    g = np.asarray(g)
    dtype = _grad_dtype(value)
    if g.dtype != dtype:
        g = g.astype(dtype)
    if g.shape != value.shape:
        g = g.reshape(value.shape)
    return g


def _grad_dtype(value: np.ndarray) -> np.dtype:
    return value.dtype if value.dtype.kind == "f" else np.dtype(np.float32)


class _Paused:
    def __init__(self, tape: GradientTape):
        self._tape = tape
        self._index = None

    def __enter__(self):
        tapes = _state.tapes
        if self._tape not in tapes:
            raise RuntimeError("stop_recording: the tape is not recording")
        self._index = tapes.index(self._tape)
        tapes.pop(self._index)

    def __exit__(self, exc_type, exc, tb):
        _state.tapes.insert(self._index, self._tape)
