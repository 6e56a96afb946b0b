"""The planner: a model's graph described in native form, by asking its parts.

The planner walks ``model._graph()`` (models/graph.py; a nested model's graph is
walked in place of its node) and asks each layer for its native form
(``Layer._plan_node``), the compiled losses for theirs (``Loss._plan_loss``), the
regularizers (``Regularizer._plan_penalty``) and the optimizer (``_update_rule``
and its core slots). Nothing here knows a built-in class: a layer without a
native form, or any part that says no, sends the model to the GradientTape, and
the reason is kept (``plan_reason``).

Masks (Keras 3 masking) are followed through the graph as the tape's
``Layer.__call__`` propagates them: a mask is the "token != 0" mask of a model
input (``Embedding(mask_zero=True)`` declares it with ``output_mask``); a layer
that supports masking with the default ``compute_mask`` passes it on; a call that
takes ``mask`` receives it as ``call.mask`` and must take it (``mask_input=True``)
or say no.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...layers import layer as layer_module


class Unsupported(Exception):
    """A part of the model has no native form; the message says which and why."""


_UNDECLARED = object()  # a layer with a compute_mask of its own did not say what it gives


def penalty_factors(regularizer, owner: str) -> tuple:
    """(l1, l2) of a regularizer the core's penalty kernel computes
    (``Regularizer._plan_penalty``), on a weight or on a layer's output; any other says
    no."""
    native = getattr(regularizer, "_plan_penalty", None)
    factors = native() if native is not None else None
    if factors is None:
        raise Unsupported(f"the regularizer {regularizer!r} of {owner} is not L1/L2")
    return tuple(factors)


class NativeCall:
    """What a layer's ``_plan_node`` returns: a ``_core.plan`` node spec and the
    Variables behind its tensors (in the spec's order), or the identity; and the
    factors of an activity penalty on the call's output."""

    __slots__ = ("node", "variables", "draw", "draw_source", "input_checks", "mask_input",
                 "output_mask", "activity_penalty")

    def __init__(self, node=None, variables=(), draw=None, draw_source=None, input_checks=(),
                 mask_input=False, output_mask=_UNDECLARED, activity_penalty=None):
        self.node = node
        self.variables = list(variables)
        self.draw = draw
        self.draw_source = draw_source
        self.input_checks = list(input_checks)  # (model input index, check)
        self.mask_input = mask_input
        self.output_mask = output_mask
        self.activity_penalty = activity_penalty  # None, or (l1, l2)


class CallContext:
    """What a layer sees of its call when asked for its native form.

    Attributes:
        input_shapes: the per-sample shape of each input (no batch dimension).
        kwargs: the call's keyword arguments recorded in the graph, but ``training``.
        training: the ``training`` the call receives in fit: always True -- train_step
            calls the model with training=True, which overrides a value recorded in a
            Functional graph (pydl/models/functional.py, as Keras 3's Functional).
        mask: None, or the mask that reaches this call (only for a layer whose
            ``call`` takes ``mask``): an opaque token; ``native(mask_input=True)``
            hands it to the node as one more input (the mask's token values).
    """

    __slots__ = ("layer", "input_shapes", "kwargs", "training", "mask", "_values",
                 "_num_inputs")

    def __init__(self, layer, input_shapes, kwargs, values=(), num_inputs=0, mask=None):
        self.layer = layer
        self.input_shapes = input_shapes
        self.kwargs = {k: v for k, v in (kwargs or {}).items() if k != "training"}
        self.training = True
        self.mask = mask
        self._values = list(values)
        self._num_inputs = num_inputs

    def model_input(self, i: int = 0):
        """The index of the model input that the call's input ``i`` is, or None when it
        is computed by a layer."""
        value = self._values[i] if i < len(self._values) else None
        return value if value is not None and value < self._num_inputs else None

    def tokens_mask(self, i: int = 0):
        """The mask "token != 0" of the call's input ``i``, a model input of tokens (for
        ``native(output_mask=...)``: Embedding(mask_zero=True))."""
        if self.model_input(i) is None:
            raise Unsupported(f"{self.layer.name!r}: a mask of tokens needs a model input")
        return self._values[i]

    def native(self, node, variables=(), draw=None, draw_source=None, input_checks=None,
               mask_input=False, output_mask=_UNDECLARED, activity_penalty=None) -> NativeCall:
        """The call's native form.

        Args:
            node: a ``_core.plan`` node spec built on the layer's weight arrays.
            variables: the Variables behind the node's tensors, in its order.
            draw: for a node that takes random draws, ``draw(out)`` fills a float32
                array (rows of the whole plan call, draws per row) from the layer's
                own generator, as its tape calls would draw them.
            draw_source: the generator ``draw`` reads (two drawing nodes may not
                share one: their interleaved draws would differ from the tape's).
            input_checks: ``{i: check}``: input ``i`` is a model input whose whole
                data ``check(x)`` (float32, samples first) must accept before fit runs
                a single step on the plan; when it does not, fit takes the tape (whose
                op raises its error at the step that reads the bad value).
            mask_input: the node takes ``call.mask``'s token values as its last input.
            output_mask: for a layer with a ``compute_mask`` of its own, the mask its
                output carries: None, or ``call.tokens_mask(i)``.
            activity_penalty: None, or the factors (l1, l2) of the penalty the call adds
                to the loss on its output, divided by the batch size
                (``Layer._add_activity_penalty``).
        """
        checks = []
        for i, check in (input_checks or {}).items():
            position = self.model_input(i)
            if position is None:
                raise Unsupported(f"{self.layer.name!r} reads values that are checked before "
                                  "a step, which only a model input's are")
            checks.append((position, check))
        if mask_input and self.mask is None:
            raise Unsupported(f"{self.layer.name!r}: no mask reaches this call")
        return NativeCall(node, variables, draw, draw_source, checks, mask_input, output_mask,
                          activity_penalty)

    def identity(self, activity_penalty=None) -> NativeCall:
        """The call passes its single input through (e.g. Dropout(0)); with
        ``activity_penalty`` (l1, l2) it adds that penalty of its input to the loss
        (ActivityRegularization)."""
        if len(self.input_shapes) != 1:
            raise Unsupported(f"{self.layer.name!r}: the identity needs exactly one input")
        return NativeCall(activity_penalty=activity_penalty)

    def penalty_factors(self, regularizer) -> tuple:
        """(l1, l2) of the layer's activity regularizer, for ``native`` / ``identity``'s
        ``activity_penalty``; a regularizer the core cannot compute says no."""
        return penalty_factors(regularizer, repr(self.layer.name))

    def unsupported(self, reason: str):
        raise Unsupported(reason)


@dataclass
class Description:
    """A model in native form: everything a ``_core.plan.Plan`` is built from."""

    input_shapes: list                       # per model input: per-sample shape
    calls: list = field(default_factory=list)   # (NativeCall, input value ids)
    shapes: list = field(default_factory=list)  # per value: per-sample shape
    output_values: list = field(default_factory=list)  # per model output
    heads: list = field(default_factory=list)   # (output index, value, kind, from_logits, delta, weight)
    variables: list = field(default_factory=list)      # the trainable Variables, in order
    # The penalties in loss order: ("weight", trainable index, (l1, l2)) or ("activity",
    # value, calls before it, its rank in call order, (l1, l2)).
    penalties: list = field(default_factory=list)
    activity: list = field(default_factory=list)       # (layer, value, calls before, (l1, l2))
    draws: list = field(default_factory=list)          # draw callbacks of the drawing nodes
    input_checks: list = field(default_factory=list)   # (model input index, check) on the data

    def add(self, native: NativeCall, inputs: list, shape: tuple) -> int:
        self.calls.append((native, inputs))
        self.shapes.append(tuple(shape))
        if native.draw is not None:
            self.draws.append(native.draw)
        self.input_checks.extend(native.input_checks)
        return len(self.shapes) - 1


def _defining_class(cls, name):
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def _same_call(layer, marker: str) -> bool:
    """Whether the class that gives the layer its native form (``marker``: the method
    that does) also defines the call that runs: a subclass that overrides call (or
    __call__) computes something else."""
    cls = type(layer)
    definer = _defining_class(cls, marker)
    for klass in cls.__mro__:
        if klass is definer:
            return True
        if "call" in vars(klass) or "__call__" in vars(klass):
            return False
    return True


def _is_graph_model(layer) -> bool:
    return callable(getattr(layer, "_graph", None)) and _same_call(layer, "_graph")


def _check_weights(layer) -> None:
    """The plan reads and trains float32 arrays; an integer non-trainable weight (a
    counter such as Normalization's ``count``) is read by no node. A constraint is
    applied by the tape's optimizer step, which the plan does not run."""
    for v in layer.weights:
        dtype = v.value.dtype
        if dtype != np.float32 and (v.trainable or dtype.kind == "f"):
            raise Unsupported(f"{v.path}: the plan trains float32 weights, this one is {dtype}")
        if getattr(v, "constraint", None) is not None:
            raise Unsupported(f"{v.path} has a constraint, applied on the tape")


def _output_mask(layer, native, previous):
    """The mask the tape's ``Layer.__call__`` attaches to the call's output."""
    own = _defining_class(type(layer), "compute_mask") is not layer_module.Layer
    if previous is None and not own:
        return None
    if not layer.supports_masking:
        return None
    if not own:
        return previous
    if native.output_mask is _UNDECLARED:
        raise Unsupported(f"{type(layer).__name__} ({layer.name!r}) computes a mask of its own, "
                          "which its native form does not describe")
    return native.output_mask


def _walk(model, values_in: list, description: Description, sources: list, masks: dict) -> list:
    graph = model._graph()
    if len(graph.inputs) != len(values_in):
        raise Unsupported(f"the model {model.name!r} takes {len(graph.inputs)} inputs, "
                          f"called with {len(values_in)}")
    n_in = len(description.input_shapes)
    keymap = dict(zip(graph.inputs, values_in))
    for node in graph.nodes:
        layer = node.layer
        inputs = [keymap[k] for k in node.inputs]
        previous = masks.get(inputs[0]) if len(inputs) == 1 else None
        if "mask" in node.kwargs:
            raise Unsupported(f"{layer.name!r} is called with a mask of its own")
        if _is_graph_model(layer):
            if previous is not None:
                raise Unsupported(f"a mask reaches the nested model {layer.name!r}")
            outputs = _walk(layer, inputs, description, sources, masks)
        else:
            if not _same_call(layer, "_plan_node"):
                raise Unsupported(f"{type(layer).__name__} ({layer.name!r}) has a call of its own")
            _check_weights(layer)
            shapes = [description.shapes[v] for v in inputs]
            takes_mask = previous is not None and layer_module._call_accepts_mask(type(layer))
            mask = previous if takes_mask else None
            native = layer._plan_node(CallContext(layer, shapes, node.kwargs, inputs, n_in, mask))
            if mask is not None and not native.mask_input:
                raise Unsupported(f"a mask reaches {type(layer).__name__} ({layer.name!r}), "
                                  "whose native form does not take it")
            if native.node is None:
                outputs = inputs
            else:
                if native.draw_source is not None:
                    if any(native.draw_source is s for s in sources):
                        raise Unsupported(f"{layer.name!r} draws from a generator another "
                                          "layer call draws from too")
                    sources.append(native.draw_source)
                shape = layer.compute_output_shape([(None,) + s for s in shapes]
                                                   if len(shapes) > 1 else (None,) + shapes[0])
                node_inputs = inputs + ([mask] if native.mask_input else [])
                outputs = [description.add(native, node_inputs, tuple(shape)[1:])]
            if native.activity_penalty is not None:
                if len(outputs) != 1:
                    raise Unsupported(f"{layer.name!r}: an activity penalty on several outputs")
                description.activity.append((layer, outputs[0], len(description.calls),
                                             tuple(native.activity_penalty)))
            out_mask = _output_mask(layer, native, previous)
            for v in outputs:
                if out_mask is not None:
                    masks[v] = out_mask
                elif v not in inputs:
                    masks.pop(v, None)
        if len(outputs) != len(node.outputs):
            raise Unsupported(f"{layer.name!r} makes {len(node.outputs)} tensors, its native "
                              f"form {len(outputs)}")
        keymap.update(zip(node.outputs, outputs))
    return [keymap[k] for k in graph.outputs]


def describe(model, input_shapes: list):
    """The model's Description for inputs of these per-sample shapes, or a str saying
    why it trains on the tape."""
    try:
        return _describe(model, input_shapes)
    except Unsupported as exc:
        return str(exc)


def _describe(model, input_shapes: list) -> Description:
    if not _is_graph_model(model):
        raise Unsupported("only a Sequential or Functional model with its own call is fused")
    description = Description(input_shapes=[tuple(s) for s in input_shapes])
    description.shapes = list(description.input_shapes)
    n_in = len(input_shapes)
    outputs = _walk(model, list(range(n_in)), description, [], {})
    description.output_values = outputs
    # Values are numbered with the model inputs first; calls write n_in + k.
    variables = model.trainable_weights
    description.variables = variables
    index = {id(v): i for i, v in enumerate(variables)}
    loss = model._compile_loss
    if loss is None:
        raise Unsupported("the model was compiled without a loss")
    seen = set()
    for i, (fn, weight) in enumerate(zip(loss.fns, loss.weights)):
        if fn is None:
            continue
        native_loss = getattr(fn, "_plan_loss", None)
        spec = native_loss() if native_loss is not None else \
            f"the loss {fn!r} is not a built-in pydl.losses class"
        if isinstance(spec, str):
            raise Unsupported(spec)
        value = outputs[i]
        if value < n_in or value in seen:
            raise Unsupported("an output that is a model input, or two outputs that are one "
                              "tensor, take the tape")
        seen.add(value)
        if any(value in ins for _, ins in description.calls):
            raise Unsupported("a model output that also feeds another layer takes the tape")
        if any(value == penalized for _, penalized, _, _ in description.activity):
            # The tape's cross-entropy may read the logits kept beside the output (a
            # fused loss) while the penalty's gradient flows through the activation.
            raise Unsupported(f"an activity penalty on the model output {i} (which has a "
                              "loss) takes the tape")
        description.heads.append((i, value) + tuple(spec) + (1.0 if weight is None else weight,))
    for owner, regularizer in model._loss_terms():
        if regularizer is None:  # the layer's activity penalties, in call order
            description.penalties.extend(
                ("activity", value, before, rank, factors)
                for rank, (layer, value, before, factors) in enumerate(description.activity)
                if layer is owner)
            continue
        factors = penalty_factors(regularizer, owner.path)
        position = index.get(id(owner))
        if position is None:
            raise Unsupported(f"{owner.path} has a penalty but is not trained")
        description.penalties.append(("weight", position, factors))
    return description
