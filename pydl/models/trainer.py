"""compile / fit / evaluate / predict and the *_on_batch calls (Keras 3 semantics).

The loop converts data once at the boundary (data.py), then per epoch: a
permutation from pydl's seeded generator, batches gathered by the core into
reused buffers, one ``_train_step(x, y, sample_weight) -> (loss, y_pred)`` per
batch, metrics, callbacks, progress bar. ``_train_step`` is the single seam a
fused core plan takes over (see ``register_train_step_factory``) for models made
only of built-in layers; everything else runs the GradientTape step below.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _random
from .. import callbacks as callbacks_module
from ..layers import layer as layer_module
from . import data
from .compiled import CompiledState, VariableList
from .progbar import Progbar

_DEFAULT_BATCH_SIZE = 32


def _check_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose: expected 0, 1, 2 or 'auto', received verbose={verbose!r}")
    return int(verbose)


# Sets an attribute the trainer owns (never a layer, variable or container) without
# Layer.__setattr__, whose tracking scan costs microseconds on every fit call.
_set_internal = object.__setattr__


def _scalar(value) -> float:
    return float(np.asarray(value))


def _overrides(callback, hook: str) -> bool:
    """Whether a callback defines ``hook`` itself (else calling it per batch is waste)."""
    for klass in type(callback).__mro__:
        if hook in vars(klass):
            return not (klass.__module__ == "pydl.callbacks" and klass.__name__ == "Callback")
    return False


# Functions ``factory(model) -> step or None`` tried in order when training starts;
# the first step returned replaces the GradientTape step (a fused core plan for
# models made only of built-in layers registers itself here). A step is
# ``step(x, y, sample_weight) -> (loss: float, y_pred: np.ndarray)``, and must
# update the model's Variables and optimizer state in place. A step may carry
# ``training_state = (penalties: bool, VariableList of the trainable weights)``
# when it knows them for the model as it is now; else the trainer works them out.
_TRAIN_STEP_FACTORIES = []


def register_train_step_factory(factory) -> None:
    """Adds ``factory(model) -> step or None`` to those tried at the start of training."""
    _TRAIN_STEP_FACTORIES.append(factory)


class Trainer(CompiledState, data.InputsMixin):
    """The training API of ``pydl.Model``."""

    def _begin_evaluation(self) -> None:
        """Whether steps must add ``self.losses``: known once per call, because walking
        the layers for their penalties costs more than a small step."""
        _set_internal(self, "_step_penalties", layer_module._add_loss_used[0] or any(
            getattr(v, "regularizer", None) is not None for v in self.weights))

    def _begin_training(self) -> None:
        """What every training step needs, once per fit / train_on_batch call: the
        variables, the penalty flag, and the step itself (tape, or a registered plan)."""
        step = None
        for factory in _TRAIN_STEP_FACTORIES:
            step = factory(self)
            if step is not None:
                break
        # A step may know both already (a cached plan step: the model is unchanged).
        state = getattr(step, "training_state", None)
        if state is None:
            self._begin_evaluation()
            _set_internal(self, "_step_variables", VariableList(self.trainable_weights))
        else:
            _set_internal(self, "_step_penalties", state[0])
            _set_internal(self, "_step_variables", state[1])
        _set_internal(self, "_train_step", step or self._tape_train_step)

    def _loss_value(self, y, y_pred, sample_weight, penalties=True):
        """The compiled loss (times loss_weights) plus the regularization penalties."""
        from .. import ops

        if sample_weight is None:
            loss = self._loss_fn(y, y_pred)
        else:
            loss = self._loss_fn(y, y_pred, sample_weight=sample_weight)
        if self._loss_weight != 1.0:
            loss = ops.multiply(loss, self._loss_weight)
        if penalties:
            for penalty in self.losses:
                loss = ops.add(loss, penalty)
        return loss

    def _tape_train_step(self, x, y, sample_weight):
        """Forward with training=True under a tape, loss, gradients, one update."""
        from ..tape import GradientTape

        variables = self._step_variables.items
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._loss_value(y, y_pred, sample_weight, self._step_penalties)
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return _scalar(loss), np.asarray(y_pred)

    def _test_step(self, x, y, sample_weight):
        y_pred = self(x, training=False)
        loss = self._loss_value(y, y_pred, sample_weight, self._step_penalties)
        return _scalar(loss), np.asarray(y_pred)

    def _predict_step(self, x):
        return np.asarray(self(x, training=False))

    # -- fit -----------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, *, check_finite=True):
        """Trains for ``epochs`` passes over ``(x, y)`` in mini-batches; returns ``History``.

        Args:
            x, y: NumPy arrays with the same number of samples.
            batch_size: samples per step (default 32).
            epochs: index of the last epoch (training runs ``initial_epoch..epochs-1``).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, "auto" = 1.
            callbacks: list of ``pydl.callbacks.Callback``.
            validation_split: fraction in [0, 1) of the data (the last samples,
                before shuffling) held out for validation.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight)``.
            shuffle: reshuffle the samples before each epoch.
            class_weight: ``{class index: weight}`` applied to the loss.
            sample_weight: one weight per sample, applied to the loss.
            initial_epoch: epoch to start at (to resume a previous run).
            steps_per_epoch: batches per epoch (at most one pass), default all.
            validation_steps: at most this many validation batches (default all).
            validation_batch_size: batch size of validation (default batch_size).
            validation_freq: validate every ``validation_freq`` epochs (int), or
                at the epochs listed (1-based).
            check_finite: refuse NaN or inf in x, y and sample_weight before
                training starts (one pass over the data); False skips the check.
        """
        self._require_compiled("fit")
        verbose = _check_verbose(verbose)
        batch_size = data.check_positive_int("batch_size", batch_size, allow_none=True)
        batch_size = batch_size or _DEFAULT_BATCH_SIZE
        epochs = data.check_positive_int("epochs", epochs, minimum=0)
        initial_epoch = data.check_positive_int("initial_epoch", initial_epoch, minimum=0)
        validation_split = self._check_validation_split(validation_split, validation_data)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise ValueError(f"shuffle: expected True or False, received shuffle={shuffle!r}")
        validation_batch_size = data.check_positive_int(
            "validation_batch_size", validation_batch_size, allow_none=True) or batch_size
        should_validate = self._validation_epochs(validation_freq)

        x, y, sw = self._prepare_xy(x, y, sample_weight, class_weight)
        if check_finite:
            for name, array in (("x", x), ("y", y), ("sample_weight", sw)):
                if array is not None:
                    data.require_finite(name, array)
        val = None
        if validation_data is not None:
            val = self._unpack_validation_data(validation_data)
        elif validation_split:
            (x, y, sw), val = data.split_validation((x, y, sw), validation_split)
        n = x.shape[0]
        if n == 0:
            raise ValueError("x: expected at least one sample, received an empty array")
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            steps_per_epoch = data.check_positive_int("steps_per_epoch", steps_per_epoch)
            if steps_per_epoch > steps:
                raise ValueError(
                    f"steps_per_epoch={steps_per_epoch} exceeds the {steps} batches of "
                    f"{batch_size} in {n} samples; pass steps_per_epoch <= {steps} or None"
                )
            steps = steps_per_epoch

        callback_list = self._callback_list(callbacks, verbose, epochs, steps)
        batch_hooks = self._callbacks_use(callback_list, "on_train_batch_begin",
                                          "on_train_batch_end", "on_batch_begin", "on_batch_end")
        generator = _random.generator()
        _set_internal(self, "stop_training", False)
        self._begin_training()
        # A fused plan runs a whole epoch's steps itself; else one step per batch here.
        run_epoch = getattr(self._train_step, "run_epoch", None) or \
            self._epoch_runner(data.BatchGatherer(x, y, sw) if shuffle else None)
        logs = {}
        callback_list.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            progbar = Progbar(steps, verbose=verbose) if verbose else None
            order = generator.permutation(n) if shuffle else None
            step = run_epoch(x, y, sw, order, batch_size, steps, callback_list, batch_hooks,
                             progbar)
            logs = self._logs()
            if val is not None and should_validate(epoch + 1):
                val_logs = self._run_evaluation(*val, batch_size=validation_batch_size,
                                                callback_list=callback_list,
                                                max_steps=validation_steps)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs=logs)
            if progbar is not None:
                progbar.update(step + 1, logs, finalize=True)
            if self.stop_training:
                break
        callback_list.on_train_end(logs=logs)
        return self.history

    def _epoch_runner(self, gatherer):
        """``run(x, y, sw, order, batch_size, steps, callbacks, batch_hooks, progbar)``:
        one epoch of ``_train_step`` calls; returns the index of the last step run."""

        def run(x, y, sw, order, batch_size, steps, callback_list, batch_hooks, progbar):
            n = x.shape[0]
            step = -1
            for step in range(steps):
                if batch_hooks:
                    callback_list.on_train_batch_begin(step)
                start = step * batch_size
                stop = min(start + batch_size, n)
                if order is None:
                    xb, yb = x[start:stop], y[start:stop]
                    swb = None if sw is None else sw[start:stop]
                else:
                    xb, yb, swb = gatherer.gather(order[start:stop])
                loss, y_pred = self._train_step(xb, yb, swb)
                self._update_metrics(loss, yb, y_pred, swb)
                if batch_hooks:
                    callback_list.on_train_batch_end(step, logs=self._logs())
                if progbar is not None and progbar.due():
                    progbar.update(step + 1, self._logs())
                if self.stop_training:
                    break
            return step

        return run

    @staticmethod
    def _check_validation_split(split, validation_data) -> float:
        if split.__class__ is float and 0.0 <= split < 1.0:  # the common case, first
            return 0.0 if validation_data is not None else split
        if isinstance(split, bool) or not isinstance(split, numbers.Real) \
                or not 0.0 <= split < 1.0:
            raise ValueError(
                f"validation_split: expected a float in [0, 1), received validation_split={split!r}"
            )
        return 0.0 if validation_data is not None else float(split)

    @staticmethod
    def _validation_epochs(freq):
        """A predicate on 1-based epochs: validate every ``freq`` epochs, or at those listed."""
        if isinstance(freq, (list, tuple, set)):
            wanted = {data.check_positive_int("validation_freq", e) for e in freq}
            return wanted.__contains__
        freq = data.check_positive_int("validation_freq", freq)
        return lambda epoch: epoch % freq == 0

    def _callback_list(self, callbacks, verbose, epochs, steps, add_history=True):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, callbacks_module.Callback):
            callbacks = [callbacks]
        elif isinstance(callbacks, callbacks_module.CallbackList):
            callbacks = list(callbacks.callbacks)
        else:
            callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, callbacks_module.Callback):
                raise TypeError(f"callbacks: expected pydl.callbacks.Callback objects, "
                                f"received {type(cb).__name__}")
        if add_history:
            _set_internal(self, "history", callbacks_module.History())
            callbacks.append(self.history)
        callback_list = callbacks_module.CallbackList(callbacks)
        callback_list.set_model(self)
        callback_list.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
        return callback_list

    @staticmethod
    def _callbacks_use(callback_list, *hooks) -> bool:
        return any(_overrides(cb, hook) for cb in callback_list.callbacks for hook in hooks)

    # -- evaluate --------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics over ``(x, y)``: ``[loss, *metrics]``, ``loss`` or a dict."""
        self._require_compiled("evaluate")
        verbose = _check_verbose(verbose)
        batch_size = data.check_positive_int("batch_size", batch_size, allow_none=True)
        x, y, sw = self._prepare_xy(x, y, sample_weight, None)
        if x.shape[0] == 0:
            raise ValueError("x: expected at least one sample, received an empty array")
        callback_list = self._callback_list(callbacks, verbose, 1,
                                            math.ceil(x.shape[0] / (batch_size or 32)),
                                            add_history=False)
        logs = self._run_evaluation(x, y, sw, batch_size=batch_size or _DEFAULT_BATCH_SIZE,
                                    callback_list=callback_list, verbose=verbose,
                                    max_steps=steps)
        return self._format_results(logs, return_dict)

    def _format_results(self, logs: dict, return_dict: bool):
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _run_evaluation(self, x, y, sw, batch_size, callback_list, verbose=0, max_steps=None):
        n = x.shape[0]
        steps = math.ceil(n / batch_size)
        if max_steps is not None:
            steps = min(steps, data.check_positive_int("steps", max_steps))
        batch_hooks = self._callbacks_use(callback_list, "on_test_batch_begin",
                                          "on_test_batch_end")
        progbar = Progbar(steps, verbose=verbose) if verbose else None
        self.reset_metrics()
        self._begin_evaluation()
        callback_list.on_test_begin()
        for step in range(steps):
            if batch_hooks:
                callback_list.on_test_batch_begin(step)
            start, stop = step * batch_size, min(n, (step + 1) * batch_size)
            yb = y[start:stop]
            swb = None if sw is None else sw[start:stop]
            loss, y_pred = self._test_step(x[start:stop], yb, swb)
            self._update_metrics(loss, yb, y_pred, swb)
            if batch_hooks:
                callback_list.on_test_batch_end(step, logs=self._logs())
            if progbar is not None and progbar.due():
                progbar.update(step + 1, self._logs())
        logs = self._logs()
        callback_list.on_test_end(logs=logs)
        if progbar is not None:
            progbar.update(steps, logs, finalize=True)
        return logs

    # -- predict ---------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs on ``x``, batch by batch, as one NumPy array."""
        verbose = _check_verbose(verbose)
        batch_size = data.check_positive_int("batch_size", batch_size, allow_none=True) \
            or _DEFAULT_BATCH_SIZE
        x = self._prepare_inputs("x", x)
        n = x.shape[0]
        num_steps = math.ceil(n / batch_size)
        if steps is not None:
            num_steps = min(num_steps, data.check_positive_int("steps", steps))
        if n == 0:
            raise ValueError("x: expected at least one sample, received an empty array")
        if num_steps == 1 and not verbose and callbacks is None:
            return self._predict_step(x if n <= batch_size else x[:batch_size])
        callback_list = self._callback_list(callbacks, verbose, 1, num_steps, add_history=False)
        progbar = Progbar(num_steps, verbose=verbose) if verbose else None
        callback_list.on_predict_begin()
        rows = min(n, num_steps * batch_size)
        result = None  # allocated once the first batch shows the output shape
        for step in range(num_steps):
            callback_list.on_predict_batch_begin(step)
            start = step * batch_size
            batch = self._predict_step(x[start:start + batch_size])
            if result is None:
                result = batch if num_steps == 1 else \
                    np.empty((rows,) + batch.shape[1:], dtype=batch.dtype)
            if num_steps > 1:
                result[start:start + batch.shape[0]] = batch
            callback_list.on_predict_batch_end(step, logs={"outputs": batch})
            if progbar is not None and progbar.due():
                progbar.update(step + 1)
        callback_list.on_predict_end()
        if progbar is not None:
            progbar.update(num_steps, finalize=True)
        return result

    # -- one batch -------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One training step on this batch; running loss/metrics as Keras 3 (not reset)."""
        self._require_compiled("train_on_batch")
        x, y, sw = self._prepare_xy(x, y, sample_weight, class_weight)
        self._begin_training()
        loss, y_pred = self._train_step(x, y, sw)
        self._update_metrics(loss, y, y_pred, sw)
        return self._format_results(self._logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics of this batch (metrics reset first)."""
        self._require_compiled("test_on_batch")
        x, y, sw = self._prepare_xy(x, y, sample_weight, None)
        self.reset_metrics()
        self._begin_evaluation()
        loss, y_pred = self._test_step(x, y, sw)
        self._update_metrics(loss, y, y_pred, sw)
        return self._format_results(self._logs(), return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as a NumPy array."""
        return self._predict_step(self._prepare_inputs("x", x))
