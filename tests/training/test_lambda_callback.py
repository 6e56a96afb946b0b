"""`LambdaCallback` in a real fit / evaluate, and its argument checks."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import callbacks, layers


def model_and_data():
    pydl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(4, activation="tanh"),
                             layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model, x, y


def test_lambda_callback_is_called_with_keras_arguments():
    model, x, y = model_and_data()
    events = []
    lam = callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch)),
        on_train_batch_begin=lambda batch, logs: events.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: events.append(("batch_end", batch,
                                                              sorted(logs))),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, logs["loss"])),
        on_train_end=lambda logs: events.append(("train_end",)),
    )
    history = model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=[lam])
    assert events[0] == ("train_begin",) and events[-1] == ("train_end",)
    begins = [e for e in events if e[0] == "batch_begin"]
    assert begins == [("batch_begin", 0), ("batch_begin", 1)] * 2
    ends = [e[:2] for e in events if e[0] == "batch_end"]
    assert ends == [("batch_end", 0), ("batch_end", 1)] * 2
    assert all("loss" in e[2] for e in events if e[0] == "batch_end")
    epoch_ends = [e for e in events if e[0] == "epoch_end"]
    assert [e[1] for e in epoch_ends] == [0, 1]
    assert [e[2] for e in epoch_ends] == pytest.approx(history.history["loss"])


def test_other_hooks_by_keyword_and_only_given_hooks_run():
    model, x, y = model_and_data()
    seen = []
    lam = callbacks.LambdaCallback(on_test_end=lambda logs: seen.append(sorted(logs)),
                                   on_epoch_end=None)
    model.fit(x, y, epochs=1, batch_size=20, verbose=0, callbacks=[lam])
    model.evaluate(x, y, verbose=0, callbacks=[lam])
    assert seen == [["loss"]]
    assert lam.on_test_end is not callbacks.Callback.on_test_end


def test_lambda_callback_rejects_what_is_not_a_function():
    with pytest.raises(TypeError, match="LambdaCallback: on_epoch_end must be a function or None, "
                                        "received 3"):
        callbacks.LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="on_test_end must be a function"):
        callbacks.LambdaCallback(on_test_end="print")


def test_epoch_only_lambda_keeps_the_plan_on_whole_epochs(monkeypatch):
    """A LambdaCallback without batch functions does not make fit watch single steps."""
    import numpy as np

    import pydl
    from pydl.models.plan import runner as plan_runner

    calls = []
    real_run = plan_runner.PlanRunner.run

    def counting_run(self, order, batch_size, step, count):
        calls.append(count)
        return real_run(self, order, batch_size, step, count)

    monkeypatch.setattr(plan_runner.PlanRunner, "run", counting_run)
    model = pydl.Sequential([pydl.Input((4,)), pydl.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    epochs = []
    model.fit(np.ones((64, 4)), np.ones((64, 2)), batch_size=8, epochs=2, verbose=0,
              callbacks=[pydl.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: epochs.append(e))])
    assert epochs == [0, 1] and calls == [8, 8]  # one call per epoch
