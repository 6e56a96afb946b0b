"""A battery of user mistakes through the public API: each gets a ValueError or
TypeError whose message names the argument and what was expected/received.
(Each area's own tests hold more; this is the cross-cutting list of issue 7.)"""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers

X = np.random.default_rng(0).random((16, 4)).astype(np.float32)
Y = np.arange(16) % 3


def model(loss="sparse_categorical_crossentropy", metrics=None):
    m = pydl.Sequential([pydl.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    m.compile("adam", loss, metrics=metrics)
    return m


def fit(**kwargs):
    args = dict(x=X, y=Y, verbose=0)
    args.update(kwargs)
    metrics = args.pop("metrics", None)
    loss = args.pop("loss", "sparse_categorical_crossentropy")
    return model(loss, metrics).fit(**args)


CASES = [
    # (label, callable, exception, regex the message must match)
    ("units=0", lambda: layers.Dense(0), ValueError, r"units.*received units=0"),
    ("units=-3", lambda: layers.Dense(-3), ValueError, r"units"),
    ("dropout rate 1.5", lambda: layers.Dropout(1.5), ValueError, r"rate.*1\.5"),
    ("unknown activation", lambda: layers.Dense(2, activation="relux"), ValueError,
     r"relux.*relu"),
    ("unknown loss", lambda: model("msee"), ValueError, r"msee.*mean_squared_error"),
    ("unknown optimizer", lambda: pydl.Sequential([layers.Dense(2)]).compile("adamm", "mse"),
     ValueError, r"adamm.*adam"),
    ("unknown metric", lambda: fit(metrics=["acuracy"]), ValueError, r"acuracy.*accuracy"),
    ("negative learning rate", lambda: pydl.optimizers.Adam(learning_rate=-1.0), ValueError,
     r"learning_rate.*-1"),
    ("batch_size=0", lambda: fit(batch_size=0), ValueError, r"batch_size.*received batch_size=0"),
    ("batch_size=-2", lambda: fit(batch_size=-2), ValueError, r"batch_size"),
    ("epochs=-1", lambda: fit(epochs=-1), ValueError, r"epochs.*-1"),
    ("validation_split=1.0", lambda: fit(validation_split=1.0), ValueError, r"validation_split"),
    ("x/y lengths", lambda: fit(y=Y[:5]), ValueError, r"16 samples.*5 samples"),
    ("empty x", lambda: fit(x=X[:0], y=Y[:0]), ValueError, r"x: expected at least one sample"),
    ("x of rank 1", lambda: fit(x=X[:, 0]), ValueError, r"x"),
    ("complex x", lambda: fit(x=X.astype(np.complex64)), TypeError, r"x: .*complex64"),
    ("object x", lambda: fit(x=X.astype(object)), TypeError, r"x: .*object"),
    ("string x", lambda: fit(x=X.astype(str)), TypeError, r"x"),
    ("NaN in x", lambda: fit(x=np.where(X > 0.9, np.nan, X)), ValueError,
     r"x: expected finite values"),
    ("sparse label too large", lambda: fit(y=Y + 5), ValueError, r"y: .*\[0, 3\)"),
    ("sparse label negative", lambda: fit(y=Y - 1), ValueError, r"y: .*\[0, 3\)"),
    ("float labels for sparse CE", lambda: fit(y=Y + 0.5), ValueError, r"y: .*integer"),
    ("one-hot rows not summing to 1",
     lambda: fit(loss="categorical_crossentropy", y=np.full((16, 3), 0.9, np.float32)),
     ValueError, r"y: categorical_crossentropy expects .* sum to 1"),
    ("integer labels for categorical CE", lambda: fit(loss="categorical_crossentropy"),
     ValueError, r"y"),
    ("sparse labels with categorical_accuracy",
     lambda: fit(metrics=["categorical_accuracy"]), ValueError, r"sparse_categorical_accuracy"),
    ("wrong feature count", lambda: model().predict(np.ones((2, 5), np.float32), verbose=0),
     ValueError, r"x: .*\(None, 4\).*\(2, 5\)"),
    ("summary before build", lambda: pydl.Sequential([layers.Dense(2)]).summary(), ValueError,
     r"not been built"),
    ("fit before compile", lambda: pydl.Sequential([pydl.Input(shape=(4,)), layers.Dense(2)]).fit(
        X, Y, verbose=0), (RuntimeError, ValueError), r"compile"),
    ("set_weights wrong shape", lambda: model().set_weights([np.ones((5, 3)), np.ones(3)]),
     ValueError, r"\(5, 3\)"),
    ("to_categorical negative", lambda: pydl.utils.to_categorical([-1, 2]), ValueError,
     r"y: expected class indices >= 0"),
    ("set_num_threads(0)", lambda: pydl.set_num_threads(0), ValueError, r"n: expected"),
    ("gradient outside a tape",
     lambda: pydl.GradientTape().gradient(pydl.ops.add(1.0, 2.0), []), RuntimeError, r"tape"),
    ("matmul shapes", lambda: pydl.ops.matmul(np.ones((2, 3), np.float32),
                                              np.ones((4, 2), np.float32)), ValueError,
     r"\(2, 3\).*\(4, 2\)"),
    ("load missing file", lambda: pydl.models.load_model("/nonexistent/m.pydl"),
     (FileNotFoundError, ValueError), r"m\.pydl"),
]


@pytest.mark.parametrize("label, fn, exc, pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(label, fn, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fn()



def test_metric_and_rows_checks_accept_valid_data():
    onehot = pydl.utils.to_categorical(Y, 3)
    fit(loss="categorical_crossentropy", y=onehot, metrics=["categorical_accuracy"])
    soft = np.full((16, 3), 1 / 3, np.float32)  # probability rows are fine too
    fit(loss="categorical_crossentropy", y=soft)
    pydl.optimizers.Adam(learning_rate=0.0)
