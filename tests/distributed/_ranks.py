"""What each process runs in the distributed tests: ``mpiexec -n 2 python _ranks.py NAME OUT``.

Each scenario trains or checks on every rank and writes what it saw to
``OUT/rank{r}.json`` (numbers, lists, strings) and ``OUT/rank{r}.npz`` (arrays); the
tests (test_*.py beside this file) read them. A 1-process reference, where one is
needed, is computed inside the rank with the distribution switched off.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings

import numpy as np

import pydl
from pydl import distribution as dist


def _save(out: str, values: dict, arrays: dict | None = None) -> None:
    r = dist.rank()
    with open(os.path.join(out, f"rank{r}.json"), "w") as f:
        json.dump(values, f)
    if arrays:
        np.savez(os.path.join(out, f"rank{r}.npz"), **arrays)


def _digest(model) -> str:
    import hashlib

    h = hashlib.sha256()
    for w in model.weights:
        h.update(w.value.tobytes())
    return h.hexdigest()


def _classifier(seed=1, features=6, hidden=7, classes=3, optimizer=None, metrics=("accuracy",)):
    pydl.utils.set_random_seed(seed)
    model = pydl.Sequential([pydl.Input((features,)),
                             pydl.layers.Dense(hidden, activation="relu"),
                             pydl.layers.Dense(classes, activation="softmax")])
    model.compile(optimizer=optimizer or pydl.optimizers.SGD(0.1),
                  loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def _data(n, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.integers(0, classes, n)
    return x, y


class _StepRecorder(pydl.callbacks.Callback):
    """The running loss and a digest of the weights after every step."""

    def __init__(self):
        super().__init__()
        self.losses, self.accuracies, self.digests = [], [], []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))
        self.accuracies.append(float(logs["accuracy"]))
        self.digests.append(_digest(self.model))


def _trained(path: str, n: int, batch_size: int, epochs: int, parallel: bool, **fit):
    """(model, recorder) after fit on the plan or the tape, data-parallel or not."""
    dist.set_distribution(dist.DataParallel() if parallel else None)
    try:
        with pydl.models.plan.disabled() if path == "tape" else contextlib.nullcontext():
            model = _classifier()
            x, y = _data(n)
            recorder = _StepRecorder()
            model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                      callbacks=[recorder], **fit)
            assert model._trained_on == path
    finally:
        dist.set_distribution(None)
    return model, recorder


def equivalence(out: str) -> None:
    """2 ranks vs 1 process: one SGD step; an epoch's per-step losses; bitwise equal
    ranks after every step; a run without batch callbacks gives the same bits."""
    values, arrays = {}, {}
    for path in ("plan", "tape"):
        for n in (26, 25):  # last batch of 2 rows (1 per rank) / of 1 row (none on rank 1)
            key = f"{path}_{n}"
            one, _ = _trained(path, n, 8, 1, True, shuffle=False, steps_per_epoch=1)
            ref, _ = _trained(path, n, 8, 1, False, shuffle=False, steps_per_epoch=1)
            for i, (a, b) in enumerate(zip(one.weights, ref.weights)):
                arrays[f"{key}_step_{i}"] = a.value
                arrays[f"{key}_step_ref_{i}"] = b.value
            model, rec = _trained(path, n, 8, 2, True)
            ref, ref_rec = _trained(path, n, 8, 2, False)
            values[f"{key}_losses"] = rec.losses
            values[f"{key}_ref_losses"] = ref_rec.losses
            values[f"{key}_accuracies"] = rec.accuracies
            values[f"{key}_ref_accuracies"] = ref_rec.accuracies
            values[f"{key}_digests"] = rec.digests
            for i, (a, b) in enumerate(zip(model.weights, ref.weights)):
                arrays[f"{key}_final_{i}"] = a.value
                arrays[f"{key}_final_ref_{i}"] = b.value
            dist.set_distribution(dist.DataParallel())
            try:  # no batch callback: whole epochs per core call, the same steps
                with pydl.models.plan.disabled() if path == "tape" else \
                        contextlib.nullcontext():
                    quiet = _classifier()
                    quiet.fit(*_data(n), batch_size=8, epochs=2, verbose=0)
            finally:
                dist.set_distribution(None)
            values[f"{key}_quiet_digest"] = _digest(quiet)
            values[f"{key}_final_digest"] = _digest(model)
    _save(out, values, arrays)


def custom_loop(out: str) -> None:
    """A GradientTape loop under DataParallel: each rank its half of every batch; the
    update through optimizer.apply_gradients equals a 1-process step on the whole batch.
    And a model's own train_step in fit."""
    x, y = _data(32)
    x[:, 0] *= 30  # large gradients: the clipping below is active
    r, size = dist.rank(), dist.size()

    def run(parallel: bool):
        pydl.utils.set_random_seed(5 + (dist.rank() if parallel else 0))  # ranks start apart
        model = pydl.Sequential([pydl.Input((6,)), pydl.layers.Dense(5, activation="tanh"),
                                 pydl.layers.Dense(3)])
        optimizer = pydl.optimizers.Adam(0.01, global_clipnorm=0.05)  # clips the reduced sum
        loss_fn = pydl.losses.SparseCategoricalCrossentropy(from_logits=True)
        digests = []
        dist.set_distribution(dist.DataParallel() if parallel else None)
        try:
            if parallel:
                dist.broadcast_weights(model)
            for step in range(4):
                xb, yb = x[step * 8:(step + 1) * 8], y[step * 8:(step + 1) * 8]
                if parallel:
                    xb, yb = xb[r * 4:(r + 1) * 4], yb[r * 4:(r + 1) * 4]
                with pydl.GradientTape() as tape:
                    loss = loss_fn(yb, model(xb, training=True))
                grads = tape.gradient(loss, model.trainable_weights)
                optimizer.apply_gradients(zip(grads, model.trainable_weights))
                digests.append(_digest(model))
        finally:
            dist.set_distribution(None)
        return model, digests

    model, digests = run(True)
    ref, _ = run(False)
    arrays = {}
    for i, (a, b) in enumerate(zip(model.weights, ref.weights)):
        arrays[f"loop_{i}"], arrays[f"loop_ref_{i}"] = a.value, b.value

    # Without broadcast_weights, the first update finds the ranks apart and says so.
    pydl.utils.set_random_seed(5 + r)
    apart = pydl.Sequential([pydl.Input((6,)), pydl.layers.Dense(3)])
    dist.set_distribution(dist.DataParallel())
    try:
        with pydl.GradientTape() as tape:
            loss = pydl.ops.mean(apart(x[:4]))
        grads = tape.gradient(loss, apart.trainable_weights)
        try:
            pydl.optimizers.SGD(0.1).apply_gradients(zip(grads, apart.trainable_weights))
            apart_error = ""
        except RuntimeError as exc:
            apart_error = str(exc)
    finally:
        dist.set_distribution(None)

    class Custom(pydl.Model):
        def train_step(self, data):
            xb, yb = data
            with pydl.GradientTape() as tape:
                loss = self.compute_loss(y=yb, y_pred=self(xb, training=True))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self._loss_tracker.update_state(loss, sample_weight=len(xb))
            return {"loss": self._loss_tracker.result(), "custom": float(dist.rank())}

    def custom(parallel: bool, n: int):
        pydl.utils.set_random_seed(3)
        inputs = pydl.Input((6,))
        model = Custom(inputs, pydl.layers.Dense(3, activation="softmax")(inputs))
        model.compile(optimizer=pydl.optimizers.SGD(0.2), loss="sparse_categorical_crossentropy")
        dist.set_distribution(dist.DataParallel() if parallel else None)
        try:
            history = model.fit(x[:n], y[:n], batch_size=8, epochs=2, shuffle=False, verbose=0)
        finally:
            dist.set_distribution(None)
        return model, history.history

    def clipped(parallel: bool):  # on the plan: clipping after the reduction, too
        dist.set_distribution(dist.DataParallel() if parallel else None)
        try:
            model = _classifier(optimizer=pydl.optimizers.SGD(0.5, clipnorm=0.02))
            model.fit(x, y, batch_size=8, epochs=1, verbose=0)
            assert model._trained_on == "plan"
        finally:
            dist.set_distribution(None)
        return model

    for i, (a, b) in enumerate(zip(clipped(True).weights, clipped(False).weights)):
        arrays[f"clipped_{i}"], arrays[f"clipped_ref_{i}"] = a.value, b.value

    cmodel, chist = custom(True, 30)
    cref, cref_hist = custom(False, 30)
    for i, (a, b) in enumerate(zip(cmodel.weights, cref.weights)):
        arrays[f"custom_{i}"], arrays[f"custom_ref_{i}"] = a.value, b.value
    try:
        custom(True, 25)  # last batch of 1 row: rank 1 would have none
        empty_error = ""
    except ValueError as exc:
        empty_error = str(exc)
    _save(out, {"digests": digests, "history": chist, "ref_history": cref_hist,
                "apart_error": apart_error, "empty_error": empty_error, "size": size}, arrays)


def metrics_and_callbacks(out: str) -> None:
    """Logs from reduced metric state: History, EarlyStopping, ReduceLROnPlateau and the
    validation logs agree on every rank and with 1 process; evaluate and test_on_batch."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(61, 4)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    xv = rng.normal(size=(23, 4)).astype("float32")
    yv = (xv[:, 0] > 0).astype("float32")

    def run(parallel: bool):
        pydl.utils.set_random_seed(2)
        model = pydl.Sequential([pydl.Input((4,)), pydl.layers.Dense(6, activation="relu"),
                                 pydl.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=pydl.optimizers.SGD(0.3), loss="binary_crossentropy",
                      metrics=["accuracy", pydl.metrics.AUC(name="auc"),
                               pydl.metrics.Precision(name="precision")])
        callbacks = [pydl.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=1),
                     pydl.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                      patience=0, min_delta=0.05)]
        dist.set_distribution(dist.DataParallel() if parallel else None)
        try:
            history = model.fit(x, y, batch_size=16, epochs=8, validation_data=(xv, yv),
                                verbose=0, callbacks=callbacks)
            evaluated = model.evaluate(xv, yv, batch_size=5, verbose=0, return_dict=True)
            on_batch = model.test_on_batch(xv[:9], yv[:9], return_dict=True)
        finally:
            dist.set_distribution(None)
        return (history.history, evaluated, on_batch, float(model.optimizer.learning_rate),
                callbacks[0].stopped_epoch)

    hist, evaluated, on_batch, lr, stopped = run(True)
    ref = run(False)
    _save(out, {"history": hist, "evaluate": evaluated, "on_batch": on_batch, "lr": lr,
                "stopped": stopped, "ref_history": ref[0], "ref_evaluate": ref[1],
                "ref_on_batch": ref[2], "ref_lr": ref[3], "ref_stopped": ref[4]})


def output(out: str) -> None:
    """Progress lines, CSVLogger, ModelCheckpoint and model.save: rank 0 writes."""
    from pydl.models import saving

    calls = []
    original = saving.save_model

    def counted(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    saving.save_model = counted
    model = _classifier()
    x, y = _data(40)
    csv = pydl.callbacks.CSVLogger(os.path.join(out, "log.csv"))
    checkpoint = pydl.callbacks.ModelCheckpoint(os.path.join(out, "ckpt_{epoch}.pydl"),
                                                verbose=1)
    callbacks = [csv, checkpoint, pydl.callbacks.BackupAndRestore(
        os.path.join(out, "backup"), delete_checkpoint=False)]
    try:
        import tensorboardX  # noqa: F401

        callbacks.append(pydl.callbacks.TensorBoard(os.path.join(out, "tb")))
    except ImportError:
        pass
    dist.set_distribution(dist.DataParallel())
    try:
        print(f"rank {dist.rank()} before fit", flush=True)
        model.fit(x, y, batch_size=8, epochs=2, verbose=2, validation_split=0.25,
                  callbacks=callbacks)
        model.save(os.path.join(out, "final.pydl"))
        loaded = pydl.models.load_model(os.path.join(out, "final.pydl"))  # every rank reads it
        same = all(np.array_equal(a.value, b.value) for a, b in zip(model.weights,
                                                                   loaded.weights))
    finally:
        dist.set_distribution(None)
    _save(out, {"save_calls": calls, "csv_opened": csv.csv_file is not None,
                "loaded_equal": bool(same), "tensorboard": len(callbacks) == 4})


def failure_after_start(out: str) -> None:
    """Rank 1 raises in epoch 2: every process must end (MPI_Abort), never hang."""

    class Boom(pydl.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1 and dist.rank() == 1:
                raise ValueError("boom on purpose")

    dist.set_distribution(dist.DataParallel())
    model = _classifier()
    model.fit(*_data(32), batch_size=8, epochs=3, verbose=0, callbacks=[Boom()])
    _save(out, {"finished": True})  # never reached


def failure_before_start(out: str) -> None:
    """Rank 1's data has a NaN: it raises before the first collective; both ranks raise."""
    dist.set_distribution(dist.DataParallel())
    x, y = _data(32)
    if dist.rank() == 1:
        x[3, 2] = np.nan
    try:
        _classifier().fit(x, y, batch_size=8, epochs=1, verbose=0)
        error = ""
    except (ValueError, RuntimeError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    _save(out, {"error": error})


def mismatches(out: str) -> None:
    """Different data shapes, sample counts, values or models: a clear error on both."""
    r = dist.rank()
    dist.set_distribution(dist.DataParallel())
    errors = {}

    def attempt(name, build, x, y):
        try:
            build().fit(x, y, batch_size=8, epochs=1, verbose=0)
            errors[name] = ""
        except ValueError as exc:
            errors[name] = str(exc)

    def lazy(units=7):
        pydl.utils.set_random_seed(1)
        model = pydl.Sequential([pydl.layers.Dense(units, activation="relu"),
                                 pydl.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        return model

    x, y = _data(24, features=6 if r == 0 else 5)
    attempt("shapes", lazy, x, y)
    x, y = _data(24 if r == 0 else 20)
    attempt("samples", _classifier, x, y)
    x, y = _data(24, seed=r)
    attempt("values", _classifier, x, y)
    attempt("model", lambda: lazy(7 if r == 0 else 8), *_data(24))
    x, y = _data(24)

    def batches():
        for k in range(3):
            yield x[8 * k:8 * k + 8], y[8 * k:8 * k + 8]

    attempt("stream", _classifier, batches(), None)
    attempt("fine_after", _classifier, x, y)
    _save(out, errors)


def own_shards(out: str) -> None:
    """auto_shard_dataset=False: each rank its own shard; the steps consume every sample
    once at the global pace; equal to 1-process steps on the same global batches."""
    r = dist.rank()
    sizes = [15, 8]
    shards = [_data(sizes[k], seed=10 + k) for k in range(2)]
    pydl.utils.set_random_seed(1)
    dist.set_distribution(dist.DataParallel(auto_shard_dataset=False))
    try:
        model = _classifier()
        recorder = _StepRecorder()
        history = model.fit(*shards[r], batch_size=8, epochs=2, shuffle=False, verbose=0,
                            callbacks=[recorder], validation_data=_data(5 + 2 * r, seed=20 + r))
    finally:
        dist.set_distribution(None)
    # 1 process, the same global batches: rank 0's rows of step k then rank 1's.
    from pydl.distribution.shards import Shards

    schedule = Shards(sizes, 8, 3, 0, auto=False)
    ref = _classifier()
    for _ in range(2):
        for k in range(3):
            parts = []
            for rank in range(2):
                start = int(schedule.sizes_by_rank[rank, :k].sum())
                stop = start + int(schedule.sizes_by_rank[rank, k])
                parts.append([a[start:stop] for a in shards[rank]])
            ref.train_on_batch(np.concatenate([p[0] for p in parts]),
                               np.concatenate([p[1] for p in parts]))
    arrays = {}
    for i, (a, b) in enumerate(zip(model.weights, ref.weights)):
        arrays[f"w_{i}"], arrays[f"ref_{i}"] = a.value, b.value
    _save(out, {"digests": recorder.digests, "history": history.history,
                "global_sizes": schedule.global_sizes.tolist()}, arrays)


def helpers(out: str) -> None:
    """allreduce, broadcast, broadcast_weights (with optimizer state), barrier, the
    replica check, BatchNormalization's statistics, show_config, the thread warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist.initialize()
    r = dist.rank()
    values = {"rank": r, "size": dist.size(), "chief": dist.is_chief(),
              "warnings": [str(w.message) for w in caught],
              "config": {k: v for k, v in pydl.show_config(print_it=False).items()
                         if k in ("threads", "processes", "processes_on_node", "cores", "mpi")}}
    values["sum_int"] = dist.allreduce(np.array([1, 2]) * (r + 1)).tolist()
    values["mean_float"] = dist.allreduce(np.float32(r + 1.0), op="mean").tolist()
    values["sum_bool"] = dist.allreduce(np.array([True, r == 1])).tolist()
    values["broadcast"] = dist.broadcast(np.arange(3.0) + 10 * r, root=1).tolist()
    dist.barrier()

    pydl.utils.set_random_seed(100 + r)  # the ranks start apart
    model = _classifier(optimizer=pydl.optimizers.Adam(0.01))
    model.fit(*_data(16, seed=r), batch_size=8, epochs=1, verbose=0)  # local: slots apart
    dist.broadcast_weights(model)
    values["weights_digest"] = _digest(model)
    values["slots_digest"] = sum(float(s.sum()) for k in model.optimizer._slots for s in k)
    values["iterations"] = model.optimizer.iterations

    # The replica check: rank 1 changes a weight behind the step's back.
    class Tamper(pydl.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0 and dist.rank() == 1:
                self.model.weights[0].value[0, 0] += 1.0

    dist.set_distribution(dist.DataParallel())
    try:
        model = _classifier()
        model.fit(*_data(16), batch_size=8, epochs=1, verbose=0, callbacks=[Tamper()])
        values["tamper_error"] = ""
    except RuntimeError as exc:
        values["tamper_error"] = str(exc)
    # BatchNormalization: local batch statistics, moving statistics averaged each epoch.
    pydl.utils.set_random_seed(4)
    bn = pydl.Sequential([pydl.Input((6,)), pydl.layers.Dense(5),
                          pydl.layers.BatchNormalization(), pydl.layers.Dense(3, activation="softmax")])
    bn.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    bn.fit(*_data(24), batch_size=8, epochs=2, verbose=0)
    dist.set_distribution(None)
    values["bn_digest"] = _digest(bn)
    _save(out, values)


def threads(out: str) -> None:
    """The threads per process and the oversubscription warning, as initialize() sets them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist.initialize()
    _save(out, {"warnings": [str(w.message) for w in caught],
                "config": pydl.show_config(print_it=False)})


def example(out: str) -> None:
    """examples/distributed_digits.py, 15 epochs, quiet."""
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                        "distributed_digits.py")
    spec = importlib.util.spec_from_file_location("distributed_digits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(epochs=15, verbose=0)


if __name__ == "__main__":
    globals()[sys.argv[1]](sys.argv[2])
