"""compile / fit / evaluate / predict and the *_on_batch calls (Keras 3 semantics).

Data is converted once at the boundary (data.py): every input, target and sample
weight becomes a flat list of arrays in the model's input / output order. Then
one epoch loop (``_run_epoch``) drives a *runner* that executes training steps:

- ``TapeRunner`` calls ``train_step`` once per batch (the default one of
  steps.py, or the model's own override) on the GradientTape;
- ``PlanRunner`` (pydl/models/plan/) runs whole executions of steps in one
  fused core call, for a model of built-in layers with built-in loss and
  optimizer, and updates the same trackers and metrics ``train_step`` would.

The loop owns everything around the steps: shuffling, callbacks, progress bar,
``stop_training``, validation. ``steps_per_execution`` steps run between two
batch callbacks; when nothing watches single steps, a runner may run as many
as it likes at once (nothing can tell the difference).
"""

from __future__ import annotations

import contextlib

import math
import numbers
import warnings

import numpy as np

from .. import _random
from .. import callbacks as callbacks_module
from ..layers import layer as layer_module
from .. import _tree as tree
from . import adapters, data
from .compile_utils import LossTracker  # noqa: F401  (re-exported for plan accounting)
from .compiled import CompiledState
from .progbar import Progbar
from .replicas import LOCAL, replicated
from .steps import StepsMixin, pack_x_y_sample_weight, unpack_x_y_sample_weight

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


def _overrides(callback, hook: str) -> bool:
    """Whether a callback defines ``hook`` itself (else calling it per batch is waste).

    A callback may list in ``_idle_hooks`` the hooks it defines but does not use
    as configured (TensorBoard logging once per epoch has idle batch hooks).
    """
    if hook in getattr(callback, "_idle_hooks", ()):
        return False
    for klass in type(callback).__mro__:
        if hook in vars(klass):
            return not (klass.__module__.startswith("pydl.callbacks")
                        and klass.__name__ == "Callback")
    return False


def _pythonify(logs: dict) -> dict:
    """Logs as Python floats where they are numbers (Keras' _pythonify_logs, flattening
    nested dicts)."""
    out = {}
    for key, value in (logs or {}).items():
        if isinstance(value, dict):
            out.update(_pythonify(value))
            continue
        try:
            out[key] = float(np.asarray(value)) if np.ndim(value) == 0 else value
        except (TypeError, ValueError):
            out[key] = value
    return out


# Functions ``factory(model, training_data, batch_size) -> runner or None`` tried in
# order when fit starts; the first runner returned replaces the tape (the fused plan
# registers itself here, so this module imports nothing of it).
_RUNNER_FACTORIES = []


def register_runner_factory(factory) -> None:
    """Adds ``factory(model, training_data, batch_size) -> runner or None``."""
    if factory not in _RUNNER_FACTORIES:
        _RUNNER_FACTORIES.append(factory)


class TapeRunner:
    """Runs ``train_step`` (the default or the model's override) batch by batch."""

    kind = "tape"

    def __init__(self, model, training_data):
        self.model = model
        self.data = training_data

    def steps_per_call(self, steps: int, batch: int, observed: bool) -> int:
        return self.model.steps_per_execution if observed else steps

    def rebind(self, data) -> bool:
        """Trains on `data` from now on (a streamed batch)."""
        self.data = data
        return True

    def run(self, order, batch_size: int, step: int, count: int):
        """Runs steps [step, step + count); returns the last step's logs."""
        model, logs = self.model, None
        for k in range(step, step + count):
            batch = self.data.batch(order, k * batch_size, batch_size)
            logs = model.train_step(batch)
            if model.stop_training:
                break
        return logs


class Trainer(CompiledState, StepsMixin, data.InputsMixin):
    """The training API of ``pydl.Model``."""

    # What fit / evaluate ask about the processes they run on (replicas.py): one,
    # unless a data-parallel distribution puts its own here for the call.
    _replicas = LOCAL

    def _overridden_steps(self) -> set:
        """Names of the step methods this model's class overrides (steps.py)."""
        cls = type(self)
        cached = cls.__dict__.get("_pydl_overridden_steps")
        if cached is None:
            cached = frozenset(name for name in StepsMixin._STEP_METHODS
                               if getattr(cls, name) is not getattr(StepsMixin, name))
            cls._pydl_overridden_steps = cached
        return cached

    def _begin_evaluation(self) -> None:
        """Whether compute_loss must add ``self.losses``: known once per call, because
        walking the layers for their penalties costs more than a small step."""
        _set_internal(self, "_step_penalties", layer_module._add_loss_used[0] or any(
            getattr(v, "regularizer", None) is not None for v in self.weights))

    def _begin_training(self) -> None:
        self._begin_evaluation()
        _set_internal(self, "_step_variables", data.VariableList(self.trainable_weights))

    def _training_runner(self, training_data, batch_size: int):
        """The runner of this fit: the fused plan when one takes the model, else the tape."""
        runner = None
        if not self._overridden_steps():
            for factory in _RUNNER_FACTORIES:
                runner = factory(self, training_data, batch_size)
                if runner is not None:
                    break
        runner = runner or TapeRunner(self, training_data)
        _set_internal(self, "_trained_on", runner.kind)  # "plan" or "tape": tests and benchmarks read it
        return runner

    def _require_trainable_setup(self, what: str) -> None:
        """fit / train_on_batch need a loss unless train_step (or compute_loss) is the
        model's own (Keras 3 lets such a model compile with an optimizer alone)."""
        self._require_compiled(what)
        if self._compile_args[0] is None and not (
                {"train_step", "compute_loss"} & self._overridden_steps()) \
                and not self.losses:
            raise ValueError(f"{what}: no loss to compute; provide a `loss` argument in "
                             "compile(), or override train_step")

    # -- fit -----------------------------------------------------------------
    @replicated
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, *, check_finite=True):
        """Trains for ``epochs`` passes over ``(x, y)`` in mini-batches; returns ``History``.

        Args:
            x: inputs: an array (or pandas DataFrame), a list / dict (by input name)
                of arrays for a model with several inputs; or a Python generator or
                iterator of ``(x, y)`` / ``(x, y, sample_weight)`` batches, or a
                ``pydl.utils.PyDataset`` (then `y` and `sample_weight` stay None).
            y: targets: an array, or a list / dict (by output name) of arrays for a
                model with several outputs (None for a train_step that needs none).
            batch_size: samples per step (default 32; batches of a generator or
                PyDataset are what it yields).
            epochs: index of the last epoch (training runs ``initial_epoch..epochs-1``).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, "auto" = 1.
            callbacks: list of ``pydl.callbacks.Callback``.
            validation_split: fraction in [0, 1) of the data (the last samples,
                before shuffling) held out for validation.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight)``.
            shuffle: reshuffle the samples before each epoch.
            class_weight: ``{class index: weight}`` applied to the loss (one output).
            sample_weight: one weight per sample (or a list / dict per output).
            initial_epoch: epoch to start at (to resume a previous run).
            steps_per_epoch: batches per epoch (at most one pass of arrays), default
                all; a generator reads on where the last epoch stopped.
            validation_steps: at most this many validation batches (default all).
            validation_batch_size: batch size of validation (default batch_size).
            validation_freq: validate every ``validation_freq`` epochs (int), or
                at the epochs listed (1-based).
            check_finite: refuse NaN or inf in x, y and sample_weight before
                training starts (one pass over the data); False skips the check.
        """
        self._require_trainable_setup("fit")
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

        val = None if validation_data is None else self._validation_source(validation_data)
        if steps_per_epoch is not None:
            steps_per_epoch = data.check_positive_int("steps_per_epoch", steps_per_epoch)
        if adapters.is_stream(x):
            if validation_split:
                raise ValueError("validation_split: not supported when x is a generator, an "
                                 "iterator or a PyDataset; pass validation_data")
            stream = self._replicas.stream(adapters.stream_of(x, y, sample_weight))
            steps = steps_per_epoch or stream.num_batches

            def run_epoch(epoch, callback_list, batch_hooks, progbar, resume=None):
                return self._run_stream_epoch(stream, steps, epoch, shuffle, class_weight,
                                              check_finite, callback_list, batch_hooks, progbar,
                                              resume)
        else:
            train = self._prepare_data(x, y, sample_weight, class_weight)
            if check_finite:
                train.require_finite()
            if val is None and validation_split:
                train, val = train.split(validation_split)
            n = self._replicas.samples(train, val)
            if n == 0:
                raise ValueError("x: expected at least one sample, received an empty array")
            steps = math.ceil(n / batch_size)
            if steps_per_epoch is not None:
                if steps_per_epoch > steps:
                    raise ValueError(
                        f"steps_per_epoch={steps_per_epoch} exceeds the {steps} batches of "
                        f"{batch_size} in {n} samples; pass steps_per_epoch <= {steps} or None"
                    )
                steps = steps_per_epoch
            generator = _random.generator()
            runner = None

            def run_epoch(epoch, callback_list, batch_hooks, progbar, resume=None):
                nonlocal runner
                if runner is None:
                    runner = self._replicas.runner(self._training_runner, train, batch_size,
                                                   steps)
                if resume is not None:  # draw the interrupted epoch's shuffle again
                    generator.bit_generator.state = resume["generator_at_epoch_start"]
                order = self._replicas.order(generator, n, shuffle)
                start = self._resume_position(resume)
                return self._run_epoch(runner, order, batch_size, steps, callback_list,
                                       batch_hooks, progbar, start)

        callback_list = self._callback_list(callbacks, verbose, epochs, steps)
        batch_hooks = self._callbacks_use(callback_list, "on_train_batch_begin",
                                          "on_train_batch_end", "on_batch_begin", "on_batch_end")
        _set_internal(self, "stop_training", False)
        self._begin_training()
        logs = {}
        callback_list.on_train_begin()
        # callbacks.BackupAndRestore found a backup: resume where it was taken.
        resume = self.__dict__.pop("_resume_from", None)
        if resume is not None:
            initial_epoch = int(resume["epoch"])
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            progbar = self._replicas.progbar(steps, verbose)
            step, last_logs = run_epoch(epoch, callback_list, batch_hooks, progbar, resume)
            self._replicas.end_epoch(self)
            resume = None
            logs = self._epoch_logs(last_logs)
            if val is not None and should_validate(epoch + 1):
                val_logs = self._run_evaluation(val, batch_size=validation_batch_size,
                                                callback_list=callback_list,
                                                max_steps=validation_steps)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs=logs)
            if progbar is not None:
                progbar.update(step + 1, logs, finalize=True)
            if self.stop_training:
                break
        if epochs > 0 and self.optimizer is not None:
            # Keras: with use_ema, training ends on the moving averages.
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callback_list.on_train_end(logs=logs)
        return self.history

    def _run_epoch(self, runner, order, batch_size: int, steps: int, callback_list,
                   batch_hooks: bool, progbar, start: int = 0):
        """One epoch of ``steps`` steps in executions, from step `start` (a resumed
        epoch); returns (index of the last step run, the logs the last step returned or
        None)."""
        # A progress bar redrawn during the epoch (verbose=1 on a terminal) watches steps.
        drawn = progbar is not None and getattr(progbar, "_dynamic", True)
        observed = batch_hooks or drawn or self.stop_training
        per_call = max(1, runner.steps_per_call(steps, batch_size, observed))
        step, logs = start, None
        while step < steps:
            count = min(per_call, steps - step)
            if batch_hooks:
                callback_list.on_train_batch_begin(step)
            logs = runner.run(order, batch_size, step, count)
            step += count
            self._after_steps(step, logs, callback_list, batch_hooks, progbar)
            if self.stop_training:
                break
        return step - 1, logs

    def _after_steps(self, step: int, logs, callback_list, batch_hooks: bool, progbar):
        """What follows a run of steps ending before `step`: the batch-end hooks and
        the progress bar (both see the logs of the last step run)."""
        if batch_hooks:
            callback_list.on_train_batch_end(step - 1, logs=self._batch_logs(logs))
        if progbar is not None and progbar.due():
            progbar.update(step, self._batch_logs(logs))

    def _run_stream_epoch(self, stream, steps, epoch: int, shuffle, class_weight,
                          check_finite: bool, callback_list, batch_hooks: bool, progbar,
                          resume=None):
        """One epoch of batches from a generator / iterator / PyDataset: each batch is
        converted and checked as it comes (errors name it), then trained on by the
        plan or the tape, one step per batch. A resumed epoch skips the batches done."""
        if resume is not None:  # a PyDataset draws its shuffle again
            _random.generator().bit_generator.state = resume["generator_at_epoch_start"]
        batches = stream.epoch(bool(shuffle))
        runner, logs, step = None, None, 0
        if resume is not None:
            for step in range(int(resume["step"])):
                next(batches, None)
            step = int(resume["step"])
            self._resume_position(resume)
        while steps is None or step < steps:
            try:
                raw = next(batches)
            except StopIteration:
                if steps is not None:
                    raise ValueError(
                        f"x: the data ran out at batch {step} of epoch {epoch + 1}; expected "
                        f"{steps} batches per epoch (steps_per_epoch or len() of the "
                        "PyDataset): make the generator yield at least steps_per_epoch * "
                        "epochs batches") from None
                break
            batch = self._stream_batch(raw, f"batch {step} of epoch {epoch + 1}", class_weight,
                                       check_finite)
            if batch_hooks:
                callback_list.on_train_batch_begin(step)
            runner = self._runner_for_batch(runner, batch)
            logs = runner.run(None, batch.num_samples, 0, 1)
            step += 1
            self._after_steps(step, logs, callback_list, batch_hooks, progbar)
            if self.stop_training:
                break
        batches.close()
        stream.end_epoch()
        if step == 0:
            warnings.warn("Your input ran out of data; interrupting training. Make sure that "
                          "your dataset or generator can generate at least `steps_per_epoch * "
                          "epochs` batches.", stacklevel=3)
            _set_internal(self, "stop_training", True)
        return step - 1, logs

    def _stream_batch(self, raw, where: str, class_weight=None, check_finite=False,
                      targets=True):
        """A batch from a stream, converted and checked (a Dataset); errors name `where`."""
        x, y, sample_weight = unpack_x_y_sample_weight(raw)
        try:
            batch = self._prepare_data(x, y, sample_weight, class_weight, targets=targets)
            if check_finite:
                batch.require_finite()
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{where}: {exc}") from None
        if batch.num_samples == 0:
            raise ValueError(f"{where}: the batch has no samples")
        return batch

    def _resume_position(self, resume) -> int:
        """Restores what a backup taken mid-epoch holds beyond the weights (the running
        metrics, pydl's generator as it was); returns the steps already done (0 when
        not resuming)."""
        if resume is None:
            return 0
        from . import backup

        step = int(resume["step"])
        if step:  # (at step 0 the epoch's shuffle, just drawn again, is all it consumed)
            _random.generator().bit_generator.state = resume["generator_now"]
            backup.restore_metrics(self, resume["metric_arrays"])
        return step

    def _runner_for_batch(self, runner, batch):
        """The runner for one more streamed batch: the same one when it can take it."""
        if runner is not None and runner.rebind(batch):
            return runner
        return self._training_runner(batch, batch.num_samples)

    def _batch_logs(self, logs) -> dict:
        return _pythonify(self._replicas.step_logs(self, logs))

    def _epoch_logs(self, logs) -> dict:
        """Keras' _get_metrics_result_or_logs: the metrics' results, unless the step
        returned logs of other names."""
        results, logs = self._replicas.epoch_results(self, logs)
        if logs is None or set(_pythonify(logs)) == set(_pythonify(results)):
            return _pythonify(results)
        return _pythonify(logs)

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
    @replicated
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics over ``(x, y)`` (arrays, or a generator / PyDataset of
        batches): ``[loss, *metrics]``, ``loss`` or a dict."""
        self._require_compiled("evaluate")
        verbose = _check_verbose(verbose)
        batch_size = data.check_positive_int("batch_size", batch_size, allow_none=True) \
            or _DEFAULT_BATCH_SIZE
        if adapters.is_stream(x):
            source = self._replicas.stream(adapters.stream_of(x, y, sample_weight))
        else:
            source = self._prepare_data(x, y, sample_weight, None)
            if self._replicas.samples(source) == 0:
                raise ValueError("x: expected at least one sample, received an empty array")
        callback_list = self._callback_list(callbacks, verbose, 1,
                                            self._replicas.evaluation_steps(
                                                self, source, batch_size, steps),
                                            add_history=False)
        logs = self._run_evaluation(source, batch_size=batch_size, callback_list=callback_list,
                                    verbose=verbose, max_steps=steps)
        return self._format_results(logs, return_dict)

    def _validation_source(self, validation_data):
        """validation_data as a Dataset, or a stream (a generator / PyDataset)."""
        if adapters.is_stream(validation_data):
            return adapters.stream_of(validation_data, None, None, "validation_data")
        return self._validation_data(validation_data)

    @staticmethod
    def _source_steps(source, batch_size: int, max_steps=None):
        """Batches of one pass over `source` (None: unknown until a generator ends)."""
        if isinstance(source, data.Dataset):
            steps = math.ceil(source.num_samples / batch_size)
        else:
            steps = source.num_batches
        if max_steps is not None:
            max_steps = data.check_positive_int("steps", max_steps)
            steps = max_steps if steps is None else min(steps, max_steps)
        return steps

    def _evaluation_batches(self, source, batch_size: int, steps):
        """test_step's data, batch by batch, from a Dataset or a stream."""
        if isinstance(source, data.Dataset):
            for start, size in self._replicas.evaluation_batches(source, batch_size, steps):
                # a process of a data-parallel world may have no rows in a step: None
                yield source.batch(None, start, size) if size else None
            return
        with contextlib.closing(self._unshuffled_stream(source, steps, "evaluation")) as stream:
            for batch in stream:
                yield batch.batch(None, 0, batch.num_samples)

    def _format_results(self, logs: dict, return_dict: bool):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _run_evaluation(self, source, batch_size, callback_list, verbose=0, max_steps=None):
        steps = self._replicas.evaluation_steps(self, source, batch_size, max_steps)
        batch_hooks = self._callbacks_use(callback_list, "on_test_batch_begin",
                                          "on_test_batch_end")
        progbar = self._replicas.progbar(steps, verbose)
        self.reset_metrics()
        self._begin_evaluation()
        callback_list.on_test_begin()
        logs, step = None, 0
        for step, batch in enumerate(self._evaluation_batches(source, batch_size, steps)):
            if batch_hooks:
                callback_list.on_test_batch_begin(step)
            if batch is not None:
                logs = self.test_step(batch)
            if batch_hooks:
                callback_list.on_test_batch_end(step, logs=self._batch_logs(logs))
            if progbar is not None and progbar.due():
                progbar.update(step + 1, self._batch_logs(logs))
        logs = self._epoch_logs(logs)
        callback_list.on_test_end(logs=logs)
        if progbar is not None:
            progbar.update(step + 1, logs, finalize=True)
        return logs

    # -- predict ---------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs on ``x`` (arrays, or a generator / PyDataset of batches),
        batch by batch: an array, or a list / dict of arrays for several outputs."""
        verbose = _check_verbose(verbose)
        batch_size = data.check_positive_int("batch_size", batch_size, allow_none=True) \
            or _DEFAULT_BATCH_SIZE
        custom = "predict_step" in self._overridden_steps()
        if adapters.is_stream(x):
            source = adapters.stream_of(x, None, None)
        else:
            source = self._prepare_data(x, None, None, None, targets=False)
            n = source.num_samples
            if n == 0:
                raise ValueError("x: expected at least one sample, received an empty array")
            if n <= batch_size and not verbose and callbacks is None and not custom:
                return self._predict_batch(source.x_struct(0, n))
        num_steps = self._source_steps(source, batch_size, steps)
        callback_list = self._callback_list(callbacks, verbose, 1, num_steps, add_history=False)
        progbar = Progbar(num_steps, verbose=verbose) if verbose else None
        callback_list.on_predict_begin()
        pieces, structure, step = [], None, 0
        for step, x_batch in enumerate(self._prediction_batches(source, batch_size, num_steps)):
            callback_list.on_predict_batch_begin(step)
            if custom:
                outputs = self.predict_step(pack_x_y_sample_weight(x_batch))
            else:
                outputs = self._predict_batch(x_batch)
            structure = outputs
            pieces.append([np.asarray(o) for o in tree.flatten(outputs)])
            callback_list.on_predict_batch_end(step, logs={"outputs": outputs})
            if progbar is not None and progbar.due():
                progbar.update(step + 1)
        callback_list.on_predict_end()
        if progbar is not None:
            progbar.update(step + 1, finalize=True)
        if not pieces:
            raise ValueError("x: expected at least one batch to predict on, received none")
        results = [piece[0] if len(pieces) == 1 else np.concatenate(piece)
                   for piece in zip(*pieces)]
        if not tree.is_nested(structure):
            return results[0]
        return tree.pack_sequence_as(structure, results)

    def _prediction_batches(self, source, batch_size: int, steps):
        """The inputs of each batch to predict on, from a Dataset or a stream."""
        if isinstance(source, data.Dataset):
            n = source.num_samples
            for step in range(steps):
                start = step * batch_size
                yield source.x_struct(start, min(start + batch_size, n))
            return
        stream = self._unshuffled_stream(source, steps, "prediction", targets=False)
        with contextlib.closing(stream):
            for batch in stream:
                yield batch.x_struct(0, batch.num_samples)

    def _unshuffled_stream(self, source, steps, purpose: str, targets: bool = True):
        """A stream's batches in order (at most `steps`), each converted and checked,
        named "<purpose> batch <step>" in errors; the stream's epoch ends however the
        caller stops."""
        batches = source.epoch(False)
        try:
            for step, raw in enumerate(batches):
                if steps is not None and step >= steps:
                    break
                yield self._stream_batch(raw, f"{purpose} batch {step}", targets=targets)
        finally:
            batches.close()
            source.end_epoch()

    def _predict_batch(self, x):
        """The outputs of one batch (arrays), without the tape."""
        outputs = self(x, training=False)
        return tree.map_structure(np.asarray, outputs)

    # -- one batch -------------------------------------------------------------
    @replicated
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One training step on this batch; running loss/metrics as Keras 3 (not reset)."""
        self._require_trainable_setup("train_on_batch")
        batch = self._prepare_data(x, y, sample_weight, class_weight)
        n = self._replicas.samples(batch)
        self._begin_training()
        runner = self._replicas.runner(self._training_runner, batch, n, 1)
        logs = runner.run(self._replicas.order(None, n, False), n, 0, 1)
        return self._format_results(self._epoch_logs(logs), return_dict)

    @replicated
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics of this batch (metrics reset first)."""
        self._require_compiled("test_on_batch")
        batch = self._prepare_data(x, y, sample_weight, None)
        n = self._replicas.samples(batch)
        self.reset_metrics()
        self._begin_evaluation()
        logs = None
        for start, size in self._replicas.evaluation_batches(batch, max(1, n), 1):
            if size:
                logs = self.test_step(batch.batch(None, start, size))
        return self._format_results(self._epoch_logs(logs), return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as a NumPy array (or a list / dict of them)."""
        inputs = self._prepare_data(x, None, None, None, targets=False)
        x_struct = inputs.x_struct(0, inputs.num_samples)
        if "predict_step" in self._overridden_steps():
            return tree.map_structure(
                np.asarray, self.predict_step(pack_x_y_sample_weight(x_struct)))
        return self._predict_batch(x_struct)
