"""Regression on scikit-learn's bundled diabetes data: a small MLP trained with MSE.

    pip install pydl[examples]
    python examples/diabetes_regression.py    # prints the test MAE (about 42-45, in target units)
"""

import argparse

import numpy as np

import pydl
from pydl import layers


def load(test_split=0.2, seed=0):
    try:
        from sklearn.datasets import load_diabetes
    except ImportError:
        raise SystemExit("this example needs scikit-learn: pip install scikit-learn (or pydl[examples])")
    data = load_diabetes()
    x, y = data.data.astype("float32"), data.target.astype("float32")[:, None]
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_split)
    test, train = order[:n_test], order[n_test:]
    x_mean, x_std = x[train].mean(0), x[train].std(0)
    y_mean, y_std = y[train].mean(), y[train].std()
    # Train on standardized targets; report errors back in the original units.
    scale = lambda a, m, s: (a - m) / s  # noqa: E731
    return ((scale(x[train], x_mean, x_std), scale(y[train], y_mean, y_std)),
            (scale(x[test], x_mean, x_std), y[test]), (y_mean, y_std))


def main(epochs=100, verbose=0):
    pydl.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test), (y_mean, y_std) = load()
    model = pydl.Sequential([
        pydl.Input(shape=(x_train.shape[1],)),
        layers.Dense(32, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer=pydl.optimizers.Adam(learning_rate=0.001), loss="mse", metrics=["mae"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1,
                        verbose=verbose)
    predictions = model.predict(x_test, verbose=0) * y_std + y_mean
    mae = float(np.mean(np.abs(predictions - y_test)))
    baseline = float(np.mean(np.abs(y_mean - y_test)))
    print(f"diabetes: final training loss {history.history['loss'][-1]:.4f} (standardized); "
          f"test MAE {mae:.1f} vs {baseline:.1f} predicting the mean")
    return mae, baseline


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    main(parser.parse_args().epochs, verbose=2)
