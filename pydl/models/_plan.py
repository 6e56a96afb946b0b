"""The fused training step: ``fit`` without Python per layer per step.

A Sequential made only of built-in layers (Dense, with L1/L2 weight
regularizers or none, Activation, Flatten, Dropout), compiled with a built-in
loss and optimizer in float32, trains through ``_core.TrainPlan`` (csrc/plan):
one core call runs whole steps -- gather the batch, forward, loss, backward,
update -- on the model's own weight arrays and the optimizer's own slot arrays,
in place. Any other model trains on the GradientTape (``Trainer._tape_train_step``).

Dropout masks come from the layer's own generator, as on the tape: before a
call, each Dropout layer draws the uniforms of all the call's rows in one
``generator.random((rows, features), dtype=float32)``, the values its per-step
draws would give (NumPy's stream does not depend on how it is chunked).

Both paths call the same kernels with the same arguments in the same order, so
they give bitwise identical weights, losses and metrics (tests/plan). Steps per
call: ``steps_per_execution`` when callbacks watch batches or a progress bar is
redrawn during the epoch (batch hooks then run once per call, as in Keras);
otherwise as many as fit in bounded prediction and dropout buffers (the whole
epoch when neither is needed), since nothing can tell the difference.

The trainer asks ``train_step_factory(model)`` (see ``register``) for its step
when training starts: a ``PlanStep`` (``step(x, y, sw)`` for one batch, and
``step.run_epoch(...)`` that fit calls for a whole epoch) or None for the tape.
``plan_reason(model)`` says why a model takes the tape; ``disabled()`` forces it.

Describing a model walks every layer, and fit asks at every call: the description
and its PlanStep are cached on the model (``cached_step``) while everything they
read is unchanged, compared by identity (``_model_state``: layer attributes,
weight arrays and flags, loss and optimizer attributes, the structure counter);
tests/plan/test_plan_cache.py changes each between fit calls against the tape.
"""

from __future__ import annotations

import contextlib
import operator

import numpy as np

from .. import _core
from .compiled import VariableList
from ..layers import layer as _layer_module

_LAYER_CACHE = _layer_module._CACHE

# Rows x outputs of predictions one call may return (4 MiB of float32).
_MAX_PREDICTION_VALUES = 1 << 20
# Rows x features of dropout uniforms one call may draw, all layers (4 MiB of float32).
_MAX_DROPOUT_VALUES = 1 << 20

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
    """(layers, variables, dropouts): the plan's layers [('dense', kernel, bias, act,
    alpha, kernel penalty, bias penalty) | ('activation', act, alpha) | ('dropout',
    rate)], the Variables in trainable order and the Dropout layers the plan draws
    for, in order; or a str saying why the model takes the tape."""
    from ..layers import Activation, Dense, Dropout, Flatten
    from ..ops.activation import core_activation
    from .sequential import Sequential

    if not isinstance(model, Sequential) or type(model).call is not Sequential.call:
        return "only a Sequential with its own call is fused"
    shape = getattr(model, "_build_input_shape", None)
    if shape is None:
        return "the model is not built"
    rank = len(shape)
    layers, variables, dropouts = [], [], []
    for layer in model.layers:
        kind = type(layer)
        if kind is Flatten:
            rank = 2
            continue
        if kind is Dropout and layer.rate == 0.0:
            continue  # the identity, drawing nothing, even in training
        if rank != 2:
            return "a layer before Flatten sees inputs of rank > 2"
        if kind is Dropout:
            if layer.noise_shape is not None:
                # A mask broadcast over some axes: another draw shape per step.
                return f"Dropout {layer.name!r} has a noise_shape, which takes the tape"
            if any(d.generator is layer.generator for d in dropouts):
                # Interleaved draws from one stream: the per-layer bulk draw would differ.
                return f"Dropout {layer.name!r} shares its generator with another layer"
            layers.append(("dropout", float(layer.rate)))
            dropouts.append(layer)
        elif kind is Dense:
            if layer.activity_regularizer is not None:
                return "activity_regularizer takes the tape"
            spec = core_activation(layer.activation)
            if spec is None:
                return f"the activation of {layer.name!r} is a custom function"
            weights = [layer.kernel] + ([layer.bias] if layer.use_bias else [])
            # The penalty is the weight's own regularizer (what Layer.losses reads).
            penalties = [_penalty_spec(w.regularizer) for w in weights]
            for p in penalties:
                if isinstance(p, str):
                    return p
            if not layer.trainable or any(not w.trainable for w in weights):
                return "non-trainable weights take the tape"
            if any(w.value.dtype != np.float32 for w in weights):
                return "only float32 weights are fused"
            layers.append(("dense", layer.kernel.value,
                           layer.bias.value if layer.use_bias else None, spec[0], spec[1],
                           penalties[0], penalties[1] if layer.use_bias else None))
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
    return layers, variables, dropouts


def _penalty_spec(regularizer):
    """None, the (l1, l2) factors of a built-in L1 / L2 / L1L2 (the core computes its
    penalty as the tape does), or a str saying why the model takes the tape."""
    from .. import regularizers

    if regularizer is None:
        return None
    if type(regularizer) not in (regularizers.L1, regularizers.L2, regularizers.L1L2):
        return f"the regularizer {regularizer!r} is not a built-in L1, L2 or L1L2"
    return (float(regularizer.l1), float(regularizer.l2))


def describe(model):
    """(loss spec, optimizer spec, layers, variables, dropout layers) of a model that
    can take the plan, or a str saying why it takes the tape."""
    if not _state["enabled"]:
        return "the plan is disabled (pydl.models._plan.disabled())"
    if getattr(model, "_loss_weight", 1.0) != 1.0:
        return "loss_weights take the tape"
    loss = _loss_spec(model._loss_fn)
    if isinstance(loss, str):
        return loss
    optimizer = _optimizer_spec(model.optimizer)
    if isinstance(optimizer, str):
        return optimizer
    layers = _layer_specs(model)
    if isinstance(layers, str):
        return layers
    return loss, optimizer, layers[0], layers[1], layers[2]


def plan_reason(model):
    """None when ``fit`` can run ``model`` on a fused plan, else why not (a str)."""
    description = describe(model)
    return description if isinstance(description, str) else None


# -- what a cached description depends on -----------------------------------------------
def _model_state(model):
    """(objects, values): everything `describe` and `matching_plan` read from a model, its
    layers, weights, loss and optimizer, except the data, the learning rate and the
    step count, and whether add_loss was ever used (penalties). Objects compare by
    identity (an attribute rebound to an equal value only costs a rebuild), values by ==.

    Layers contribute every attribute they hold (activation, use_bias, trainable,
    regularizers, rate, kernel, bias, ...), weights their array, trainable flag,
    regularizer (and its factors) and name; containers of layers bump `_generation`
    when mutated. The optimizer contributes its attributes but `iterations` and the
    learning rate (read by every run), so rebuilt slots or changed hyperparameters
    are seen."""
    opt = model.optimizer
    loss = model._loss_fn
    objects = [type(model), model.__dict__.get("_build_input_shape"), model._loss_weight,
               loss, type(loss), opt, type(opt)]
    objects += getattr(loss, "__dict__", {}).values()
    opt_state = dict(opt.__dict__)
    opt_state.pop("iterations", None)
    opt_state.pop("_learning_rate", None)
    objects += opt_state.values()
    for layer in model.layers:
        state = dict(layer.__dict__)
        state.pop("_losses", None)  # a new list at each outer call once add_loss was used
        state.pop(_LAYER_CACHE, None)  # follows _generation
        objects.append(type(layer))
        objects += state.values()
    for v in model.weights:
        objects += (v.value, v.trainable, v.regularizer, v.name)
        if v.regularizer is not None:  # its factors, which the plan computes with
            objects += getattr(v.regularizer, "__dict__", {}).values()
    values = (_state["enabled"], _layer_module._generation[0], model._trainable,
              _layer_module._add_loss_used[0],
              len(getattr(opt, "_decay_excluded_ids", ())),
              len(getattr(opt, "_decay_excluded_names", ())))
    return objects, values


class _StepCache:
    """`cached_step`'s memory on the model. An object with slots, not a tuple: Layer
    scans tuple, list and dict attributes for Variables and layers to track, and
    would count the weights held here as the model's own (penalties twice)."""

    __slots__ = ("objects", "values", "description", "step")

    def __init__(self, objects, values, description, step):
        self.objects = objects
        self.values = values
        self.description = description
        self.step = step

    def matches(self, objects, values) -> bool:
        return values == self.values and len(objects) == len(self.objects) and \
            all(map(operator.is_, objects, self.objects))


def cached_step(model):
    """(description, PlanStep or None) of `model`, reused while `_model_state(model)` is
    unchanged: describing walks every layer and costs several microseconds per layer,
    and fit asks at every call. The PlanStep keeps its checked plan between calls."""
    objects, values = _model_state(model)
    cached = model.__dict__.get("_plan_step")
    if cached is not None and cached.matches(objects, values):
        return cached.description, cached.step
    description = describe(model)
    step = None
    if not isinstance(description, str):
        step = PlanStep(model, description)
        # What the trainer's _begin_training would work out: fixed by the same state.
        model._begin_evaluation()
        step.training_state = (model._step_penalties,
                               VariableList(model.trainable_weights))
        if not model.optimizer.built:
            # As Keras builds it when fit starts; matching_plan would at the first step. The
            # state it is described in is then the built one, seen again next call.
            model.optimizer.build(description[3])
            objects, values = _model_state(model)
    # object.__setattr__: no tracked attribute, and no Layer.__setattr__ scan to pay.
    object.__setattr__(model, "_plan_step", _StepCache(objects, values, description, step))
    return description, step


# -- the plan ---------------------------------------------------------------------------
class FusedPlan:
    """A ``_core.TrainPlan`` over a model's arrays, with its reusable call buffers."""

    def __init__(self, core, key, optimizer):
        self.core = core
        self.key = key
        self.optimizer = optimizer
        self._rows = 0
        self._lr = self._losses = self._predictions = None
        self._arange = np.arange(core.max_batch, dtype=np.int64)
        self._uniforms = [np.empty(0, np.float32) for _ in core.dropout_features]

    def buffers(self, steps: int, rows: int):
        """(learning rates, losses, predictions) for `steps` steps of `rows` rows in all:
        views of arrays kept between calls."""
        if self._lr is None or steps > self._lr.shape[0]:
            self._lr = np.empty(steps, np.float64)
            self._losses = np.empty(steps, np.float32)
        if rows > self._rows or self._predictions is None:
            self._rows = rows
            self._predictions = np.empty((rows, self.core.output_features), np.float32)
        return self._lr[:steps], self._losses[:steps], self._predictions[:rows]

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

    def dropout_uniforms(self, dropouts, rows: int):
        """Each Dropout layer's uniforms for `rows` rows, drawn from its own generator
        as its calls on the tape would draw them, into buffers kept between calls."""
        out = []
        for j, (layer, features) in enumerate(zip(dropouts, self.core.dropout_features)):
            size = rows * features
            if self._uniforms[j].shape[0] < size:
                self._uniforms[j] = np.empty(size, np.float32)
            u = self._uniforms[j][:size].reshape(rows, features)
            layer.generator.random(out=u, dtype=np.float32)
            out.append(u)
        return out

    def run(self, x, y, sw, indices, first: int, batch: int, steps: int,
            predict: bool = True, dropouts=()):
        """Runs the steps; returns (losses, predictions) views, valid until the next call.
        Without `predict`, predictions is None and the core skips a final softmax /
        sigmoid that only the predictions would read (same losses and weights).
        `dropouts`: the model's Dropout layers (description[4]), which draw here."""
        rows = min(indices.shape[0], first + steps * batch) - first
        lr, losses, predictions = self.buffers(steps, rows if predict else 0)
        if not predict:
            predictions = None
        uniforms = self.dropout_uniforms(dropouts, rows) if dropouts else None
        self.core.run(x, y, indices, first, batch, steps, self.learning_rates(lr),
                      self.optimizer.iterations, losses, sample_weight=sw,
                      predictions=predictions, dropout_uniforms=uniforms)
        self.optimizer.iterations += steps
        return losses, predictions


def _plan_key(layers, loss, opt_kind, hyper, state):
    """What a cached plan must match: every array by identity, every setting by value."""
    def ident(a):
        return None if a is None else id(a)

    layer_key = tuple((spec[0],) + tuple(ident(v) if isinstance(v, np.ndarray) else v
                                         for v in spec[1:]) for spec in layers)
    state_key = tuple((ident(a), ident(b), ident(c), d) for a, b, c, d in state)
    return (layer_key, loss, opt_kind, tuple(sorted(hyper.items())), state_key)


def _data_fits(plan_core, loss_kind, x, y, sw) -> bool:
    """Whether fit's converted data is what the plan reads (else the tape takes it)."""
    if x.dtype != np.float32 or not x.flags.c_contiguous or x.ndim < 2:
        return False
    if sw is not None and (sw.dtype != np.float32 or not sw.flags.c_contiguous):
        return False
    if not y.flags.c_contiguous or y.shape[0] != x.shape[0]:
        return False
    if loss_kind == "sparse_categorical_crossentropy":
        return y.dtype in (np.int64, np.int32) and y.size == y.shape[0]
    return y.dtype == np.float32 and y.size == y.shape[0] * plan_core.output_features


def _optimizer_token(opt):
    """What `matching_plan` reads from the optimizer, for `PlanStep` to notice a change
    between epochs: its slot arrays (rebuilt by `build`) and weight-decay settings."""
    return (id(opt), id(opt.__dict__.get("_slots")), opt.weight_decay,
            len(getattr(opt, "_decay_excluded_ids", ())),
            len(getattr(opt, "_decay_excluded_names", ())))


def matching_plan(model, description, x, batch_size: int):
    """The model's plan for `description` and the optimizer's current state, built or
    reused (None when `x` does not have the plan's input features)."""
    (kind, from_logits, delta), (opt_kind, hyper, slot_of), layers, variables = description[:4]
    opt = model.optimizer
    if not opt.built:
        opt.build(variables)  # what apply_gradients does on its first call
    state = []
    for v in variables:
        s = slot_of(opt.slots(v))
        state.append((s[0], s[1], s[2], float(opt._decay_for(v))))
    key = _plan_key(layers, (kind, from_logits, delta), opt_kind, hyper, state)
    plan = getattr(model, "_fused_plan", None)
    if plan is None or plan.key != key or plan.optimizer is not opt \
            or batch_size > plan.core.max_batch:
        in_features = int(np.prod(x.shape[1:], dtype=np.int64)) if x.ndim >= 2 else 0
        if in_features != layers_input_features(layers):
            return None
        core = _core.TrainPlan(in_features, layers, kind, opt_kind, state, batch_size,
                               from_logits=from_logits, delta=delta, **hyper)
        plan = FusedPlan(core, key, opt)
        object.__setattr__(model, "_fused_plan", plan)  # not a tracked type: no Layer hook
    return plan


def layers_input_features(layers) -> int:
    for spec in layers:
        if spec[0] == "dense":
            return spec[1].shape[0]
    return -1


# -- fit's train step ---------------------------------------------------------------------
class PlanStep:
    """The train step of a model that takes the plan.

    ``step(x, y, sample_weight) -> (loss, y_pred)`` runs one batch (train_on_batch);
    ``run_epoch`` runs fit's epoch in executions of several steps.
    """

    def __init__(self, model, description):
        self.model = model
        self.description = description
        # The plan last found by matching_plan, and the optimizer token it matched:
        # while both hold, the plan's key (per-variable slots) need not be rebuilt.
        self._plan = None
        self._plan_token = None
        self._rows = np.empty(0, np.float64)  # step sizes for _account, reused
        self.training_state = None  # (penalties, VariableList): set by cached_step

    def plan(self, x, y, sw, batch_size: int):
        """The model's plan for this data (`matching_plan`), or None when fit must use
        the tape (no plan, or data the plan cannot read); the plan's key is not rebuilt
        while the plan is the model's and the optimizer's state arrays are those it
        matched."""
        model = self.model
        plan = self._plan
        token = _optimizer_token(model.optimizer)
        if plan is None or token != self._plan_token or batch_size > plan.core.max_batch \
                or model.__dict__.get("_fused_plan") is not plan:
            plan = matching_plan(model, self.description, x, batch_size)
            self._plan, self._plan_token = plan, _optimizer_token(model.optimizer)
            if plan is None:
                return None
        if not _data_fits(plan.core, self.description[0][0], x, y, sw):
            return None
        return plan

    def __call__(self, x, y, sample_weight):
        model = self.model
        x = np.ascontiguousarray(x)
        plan = self.plan(x, y, sample_weight, x.shape[0])
        if plan is None:
            return model._tape_train_step(x, y, sample_weight)
        rows = x.shape[0]
        losses, predictions = plan.run(x, y, sample_weight, plan._arange[:rows], 0, rows, 1,
                                       dropouts=self.description[4])
        return float(losses[0]), predictions.copy()

    def run_epoch(self, x, y, sw, order, batch_size: int, steps: int, callback_list,
                  batch_hooks: bool, progbar) -> int:
        """Runs ``steps`` training steps of one epoch as fit's tape loop would, on the
        plan; returns the index of the last step run (fit may stop early)."""
        model = self.model
        n = x.shape[0]
        indices = np.arange(n, dtype=np.int64) if order is None else order.astype(np.int64,
                                                                                   copy=False)
        plan = self.plan(x, y, sw, batch_size)
        # A progress bar redrawn during the epoch (verbose=1 on a terminal) watches steps.
        drawn = progbar is not None and getattr(progbar, "_dynamic", True)
        observed = batch_hooks or drawn or model.stop_training
        metrics = model._metrics or []
        predict = bool(metrics)  # only metrics read the predictions (callbacks get logs)
        if plan is None or model.stop_training:
            per_call = 1
        elif observed:
            per_call = model.steps_per_execution
        else:  # nothing watches single steps: as many as the call's buffers bound
            per_call = steps
            if predict:
                per_call = _MAX_PREDICTION_VALUES // (batch_size * plan.core.output_features)
            drawn_features = sum(plan.core.dropout_features)
            if drawn_features:
                per_call = min(per_call, _MAX_DROPOUT_VALUES // (batch_size * drawn_features))
            per_call = max(1, per_call)
        per_call = min(per_call, steps)
        out = plan.core.output_features if plan is not None else None
        bulk = [m for m in metrics if _exact_in_bulk(m[1], m[2], sw, out)]
        stepwise = [m for m in metrics if not any(m is b for b in bulk)]
        step = 0
        while step < steps:
            count = min(per_call, steps - step)
            if batch_hooks:
                callback_list.on_train_batch_begin(step)
            first = step * batch_size
            if plan is None:
                losses, predictions = self._tape_steps(x, y, sw, indices, first, batch_size,
                                                       count)
            else:
                losses, predictions = plan.run(x, y, sw, indices, first, batch_size, count,
                                               predict, self.description[4])
            rows = min(n, first + count * batch_size) - first
            self._account(losses, predictions, rows, y, sw, indices, first, batch_size, count,
                          bulk, stepwise)
            step += count
            if batch_hooks:
                callback_list.on_train_batch_end(step - 1, logs=model._logs())
            if progbar is not None and progbar.due():
                progbar.update(step, model._logs())
            if model.stop_training:
                break
        return step - 1

    def _account(self, losses, predictions, rows_total, y, sw, indices, first, batch_size,
                 count, bulk, stepwise):
        """The running loss and metrics of `count` steps, bit for bit as fit's tape loop
        updates them batch by batch (``CompiledState._update_metrics``; the fit tests compare).

        The loss total is a running float64 sum: np.add.accumulate adds in the same
        order, one rounding per step, without Python per step. Metrics in `bulk` get
        one update for all the steps (same bits, see _exact_in_bulk); the others are
        updated batch by batch."""
        model = self.model
        mean = model._loss_mean  # RunningMean: total += loss * n; count += n, per step
        if count == 1:  # the same two float64 roundings, without arrays
            mean.total = mean.total + float(losses[0]) * rows_total
        else:
            rows = self._rows
            if rows.shape[0] < count:
                rows = self._rows = np.empty(count, np.float64)
            rows = rows[:count]
            rows.fill(batch_size)
            rows[-1] = rows_total - (count - 1) * batch_size
            terms = np.empty(count + 1, np.float64)
            terms[0] = mean.total
            np.multiply(losses[:count], rows, out=terms[1:])  # float32 loss * n, in float64
            mean.total = float(np.add.accumulate(terms)[-1])
        mean.count += rows_total
        for j in range(count) if stepwise else ():
            r0, r1 = j * batch_size, min((j + 1) * batch_size, rows_total)
            samples = indices[first + r0:first + r1]
            yb, pred = y[samples], predictions[r0:r1]
            swb = None if sw is None else sw[samples]
            for _, metric, weighted in stepwise:
                metric.update_state(yb, pred, sample_weight=swb if weighted else None)
        if bulk:
            y_all = y[indices[first:first + rows_total]]
            for _, metric, _ in bulk:
                metric.update_state(y_all, predictions, sample_weight=None)

    def _tape_steps(self, x, y, sw, indices, first, batch_size, count):
        """Data the plan cannot read (never from fit's own conversions): tape steps."""
        losses, predictions = [], []
        for j in range(count):
            rows = indices[first + j * batch_size:first + (j + 1) * batch_size]
            loss, pred = self.model._tape_train_step(x[rows], y[rows],
                                                     None if sw is None else sw[rows])
            losses.append(loss)
            predictions.append(pred)
        return losses, np.concatenate(predictions)


def _exact_in_bulk(metric, weighted: bool, sw, outputs) -> bool:
    """Whether one update over several batches gives the bits of one update per batch.

    True for accuracies without sample weights: each sample counts 0 or 1, so the
    float64 running total and count are exact integers in any grouping."""
    from .. import metrics

    if outputs is None or (weighted and sw is not None):
        return False
    kind = type(metric)
    if kind in (metrics.CategoricalAccuracy, metrics.SparseCategoricalAccuracy):
        return True
    return kind is metrics.BinaryAccuracy and outputs == 1  # per-sample mean of 1 value


def _sequential_class():
    """pydl.Sequential, imported on first use (sequential.py imports this package)."""
    global _Sequential
    if _Sequential is None:
        from .sequential import Sequential as _Sequential
    return _Sequential


_Sequential = None


def train_step_factory(model):
    """Registered with the trainer: a PlanStep for a model that takes the plan, else None."""
    if not isinstance(model, _sequential_class()) or not _state["enabled"]:
        return None  # describe would say so at once, without the state walk
    return cached_step(model)[1]


def register() -> None:
    """Adds `train_step_factory` to the trainer's (pydl/models/__init__.py calls it)."""
    from . import trainer

    if train_step_factory not in trainer._TRAIN_STEP_FACTORIES:
        trainer.register_train_step_factory(train_step_factory)
