"""The fused training step: ``fit`` without Python per layer per step.

A Sequential made only of built-in layers (Dense, Activation, Flatten, Dropout
that is the identity in training), compiled with a built-in loss and optimizer
in float32, trains through ``_core.TrainPlan`` (csrc/plan): one core call runs
whole steps -- gather the batch, forward, loss, backward, update -- on the
model's own weight arrays and the optimizer's own slot arrays, in place. Any
other model trains on the GradientTape (``Trainer._tape_train_step``).

Both paths call the same kernels with the same arguments in the same order, so
they give bitwise identical weights, losses and metrics (tests/plan). Steps per
call: ``steps_per_execution`` when callbacks watch batches or a progress bar is
drawn (their batch hooks then run once per call, as in Keras); otherwise as many
as fit in a bounded output buffer, since nothing can tell the difference.

    reason = plan_reason(model)     # None when the model can take the plan
    plan = plan_for(model, x, y, sample_weight, batch_size)   # None: use the tape
    last_step = run_epoch(model, plan, order, steps, callback_list, batch_hooks, progbar)
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import _core

# Rows x outputs of predictions one call may return (4 MiB of float32).
_MAX_PREDICTION_VALUES = 1 << 20

_state = {"enabled": True}


@contextlib.contextmanager
def disabled():
    """Within this block, fit uses the GradientTape path for every model (tests, debugging)."""
    previous = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = previous


# -- eligibility and the plan's description --------------------------------------------
def _loss_spec(loss_fn):
    """(kind, from_logits, delta), or a str saying why the loss cannot be fused."""
    from .. import losses

    builtin = (losses.MeanSquaredError, losses.MeanAbsoluteError, losses.Huber,
               losses.BinaryCrossentropy, losses.CategoricalCrossentropy,
               losses.SparseCategoricalCrossentropy)
    if type(loss_fn) not in builtin:
        return f"the loss {loss_fn!r} is not a built-in pydl.losses class"
    if getattr(loss_fn, "label_smoothing", 0.0):
        return "label_smoothing is not fused"
    if getattr(loss_fn, "reduction", "sum_over_batch_size") != "sum_over_batch_size":
        return f"reduction {loss_fn.reduction!r} is not fused"
    options = loss_fn._options()
    return (type(loss_fn).kind, bool(options.get("from_logits", False)),
            float(options.get("delta", 1.0)))


def _optimizer_spec(opt):
    """(kind, hyperparameters, slots(variable) -> 3 slots), or a str saying why not."""
    from .. import optimizers as o

    kind = type(opt)
    hyper = {"clipnorm": opt.clipnorm, "clipvalue": opt.clipvalue,
             "global_clipnorm": opt.global_clipnorm}
    if kind is o.SGD:
        hyper.update(momentum=opt.momentum, nesterov=opt.nesterov)

        def slots(s):  # SGD._update_step: m only when momentum != 0
            return (s.get("momentum"), None, None)
        return "sgd", hyper, slots
    if kind is o.Adagrad:
        hyper.update(epsilon=opt.epsilon)
        return "adagrad", hyper, lambda s: (s["accumulator"], None, None)
    if kind is o.RMSprop:
        hyper.update(rho=opt.rho, momentum=opt.momentum, epsilon=opt.epsilon,
                     centered=opt.centered)
        return "rmsprop", hyper, lambda s: (s["velocity"], s.get("momentum"),
                                            s.get("average_gradient"))
    if kind in (o.Adam, o.AdamW):
        hyper.update(beta_1=opt.beta_1, beta_2=opt.beta_2, epsilon=opt.epsilon)
        return "adam", hyper, lambda s: (s["momentum"], s["velocity"], s.get("velocity_hat"))
    return f"the optimizer {type(opt).__name__} is not a built-in pydl optimizer"


def _layer_specs(model):
    """The plan's layers [('dense', kernel, bias, act, alpha) | ('activation', act, alpha)]
    and the Variables in trainable order, or a str saying why the model takes the tape."""
    from ..layers import Activation, Dense, Dropout, Flatten
    from ..ops.activation import core_activation
    from .sequential import Sequential

    if not isinstance(model, Sequential) or type(model).call is not Sequential.call:
        return "only a Sequential with its own call is fused"
    shape = getattr(model, "_build_input_shape", None)
    if shape is None:
        return "the model is not built"
    rank = len(shape)
    layers, variables = [], []
    for layer in model.layers:
        kind = type(layer)
        if kind is Flatten:
            rank = 2
            continue
        if kind is Dropout:
            if layer.rate == 0.0:
                continue  # the identity, drawing nothing, even in training
            return "Dropout with rate > 0 takes the tape"
        if rank != 2:
            return "a layer before Flatten sees inputs of rank > 2"
        if kind is Dense:
            if any(getattr(layer, a, None) is not None for a in
                   ("kernel_regularizer", "bias_regularizer", "activity_regularizer")):
                return "regularizers take the tape"
            spec = core_activation(layer.activation)
            if spec is None:
                return f"the activation of {layer.name!r} is a custom function"
            weights = [layer.kernel] + ([layer.bias] if layer.use_bias else [])
            if not layer.trainable or any(not w.trainable for w in weights):
                return "non-trainable weights take the tape"
            if any(w.value.dtype != np.float32 for w in weights):
                return "only float32 weights are fused"
            layers.append(("dense", layer.kernel.value,
                           layer.bias.value if layer.use_bias else None, spec[0], spec[1]))
            variables += weights
        elif kind is Activation:
            spec = core_activation(layer.activation)
            if spec is None:
                return f"the activation of {layer.name!r} is a custom function"
            if spec[0] != "linear":  # linear returns its input unchanged on the tape too
                layers.append(("activation", spec[0], spec[1]))
        else:
            return f"layer {layer.name!r} ({kind.__name__}) is not a built-in fused layer"
    if not variables:
        return "the model has no Dense layer"
    trainable = model.trainable_weights
    if len(trainable) != len(variables) or any(a is not b for a, b in zip(trainable, variables)):
        return "the trainable weights are not the Dense layers' kernels and biases in order"
    if len(model.weights) != len(variables):
        return "the model has weights outside its Dense layers"
    return layers, variables


def plan_reason(model):
    """None when ``fit`` can run ``model`` on a fused plan, else why not (a str)."""
    if not _state["enabled"]:
        return "the plan is disabled (pydl.models._plan.disabled())"
    if getattr(model, "_loss_weight", 1.0) != 1.0:
        return "loss_weights take the tape"
    for spec in (_loss_spec(model._loss_fn), _optimizer_spec(model.optimizer),
                 _layer_specs(model)):
        if isinstance(spec, str):
            return spec
    return None


# -- the plan ---------------------------------------------------------------------------
class FusedPlan:
    """A ``_core.TrainPlan`` over a model's arrays, with its reusable call buffers."""

    def __init__(self, core, key, variables, optimizer, batch_size: int):
        self.core = core
        self.key = key
        self.variables = variables
        self.optimizer = optimizer
        self.batch_size = batch_size
        self._steps_cap = 0
        self._lr = self._losses = self._predictions = None

    def buffers(self, steps: int):
        """(learning rates, losses, predictions) of `steps` steps: views of arrays kept."""
        if steps > self._steps_cap:
            self._steps_cap = steps
            self._lr = np.empty(steps, np.float64)
            self._losses = np.empty(steps, np.float32)
            self._predictions = np.empty((steps * self.batch_size, self.core.output_features),
                                         np.float32)
        return self._lr[:steps], self._losses[:steps], self._predictions

    def learning_rates(self, out: np.ndarray) -> np.ndarray:
        """The rate of each step: a schedule is evaluated at each step's iteration count."""
        opt = self.optimizer
        rate = opt._learning_rate
        if callable(rate):
            start = opt.iterations
            for j in range(out.shape[0]):
                out[j] = float(rate(start + j))
        else:
            out.fill(rate)
        return out


def _plan_key(layers, loss, opt_kind, hyper, state, batch_size):
    """What a cached plan must match: every array by identity, every setting by value."""
    def ident(a):
        return None if a is None else id(a)

    layer_key = tuple((spec[0],) + tuple(ident(v) if isinstance(v, np.ndarray) else v
                                         for v in spec[1:]) for spec in layers)
    state_key = tuple((ident(a), ident(b), ident(c), d) for a, b, c, d in state)
    return (layer_key, loss, opt_kind, tuple(sorted(hyper.items())), state_key)


def plan_for(model, x, y, sample_weight, batch_size: int):
    """The model's plan for this data, built or reused, or None when fit must use the tape."""
    if plan_reason(model) is not None:
        return None
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        return None
    if sample_weight is not None and (sample_weight.dtype != np.float32
                                      or not sample_weight.flags.c_contiguous):
        return None
    kind, from_logits, delta = _loss_spec(model._loss_fn)
    opt = model.optimizer
    opt_kind, hyper, slot_of = _optimizer_spec(opt)
    layers, variables = _layer_specs(model)
    out = layers[-1][1].shape[1] if layers[-1][0] == "dense" else None
    for spec in reversed(layers):
        if spec[0] == "dense":
            out = spec[1].shape[1]
            break
    if kind == "sparse_categorical_crossentropy":
        if y.dtype not in (np.int64, np.int32) or y.size != y.shape[0]:
            return None
    elif y.dtype != np.float32 or y.size != y.shape[0] * out:
        return None
    if not y.flags.c_contiguous:
        return None
    if not opt.built:
        opt.build(variables)  # what apply_gradients does on its first call
    state = []
    for v in variables:
        s = slot_of(opt.slots(v))
        state.append((s[0], s[1], s[2], float(opt._decay_for(v))))
    key = _plan_key(layers, (kind, from_logits, delta), opt_kind, hyper, state, batch_size)
    cached = getattr(model, "_fused_plan", None)
    if cached is not None and cached.key == key and cached.optimizer is opt \
            and batch_size <= cached.core.max_batch:
        cached.batch_size = batch_size
        cached._steps_cap = 0  # buffers are sized for the batch size
        return cached
    core = _core.TrainPlan(
        int(np.prod(x.shape[1:], dtype=np.int64)), layers, kind, opt_kind, state, batch_size,
        from_logits=from_logits, delta=delta, **hyper)
    plan = FusedPlan(core, key, variables, opt, batch_size)
    model._fused_plan = plan
    return plan


# -- one epoch ------------------------------------------------------------------------
def run_epoch(model, plan: FusedPlan, x, y, sw, order, steps: int, callback_list,
              batch_hooks: bool, progbar) -> int:
    """Runs ``steps`` training steps of one epoch on the plan, as fit's tape loop would.

    Returns the index of the last step run (fit may stop early).
    """
    batch = plan.batch_size
    n = x.shape[0]
    indices = order if order is not None else np.arange(n, dtype=np.int64)
    if indices.dtype != np.int64:
        indices = indices.astype(np.int64)
    observed = batch_hooks or (progbar is not None and progbar._dynamic) or model.stop_training
    if observed:
        per_call = 1 if model.stop_training else model.steps_per_execution
    else:
        per_call = max(1, _MAX_PREDICTION_VALUES // (batch * plan.core.output_features))
    per_call = min(per_call, steps)
    with_metrics = bool(model._metrics)
    step = 0
    while step < steps:
        count = min(per_call, steps - step)
        if batch_hooks:
            callback_list.on_train_batch_begin(step)
        lr, losses, predictions = plan.buffers(count)
        first = step * batch
        rows_total = min(n, first + count * batch) - first
        predictions = predictions[:rows_total]
        plan.core.run(x, y, indices, first, batch, count, plan.learning_rates(lr),
                      plan.optimizer.iterations, losses, sample_weight=sw,
                      predictions=predictions)
        plan.optimizer.iterations += count
        for j in range(count):
            r0 = j * batch
            r1 = min(r0 + batch, rows_total)
            yb = swb = None
            if with_metrics:  # metrics see exactly the tape path's batch
                rows = indices[first + r0:first + r1]
                yb = y[rows]
                swb = None if sw is None else sw[rows]
            model._update_metrics(float(losses[j]), yb, predictions[r0:r1], swb)
        step += count
        if batch_hooks:
            callback_list.on_train_batch_end(step - 1, model._logs())
        if progbar is not None and progbar._dynamic:
            progbar.update(step, model._logs())
        if model.stop_training:
            break
    return step - 1
