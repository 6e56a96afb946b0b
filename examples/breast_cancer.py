"""Binary classification of scikit-learn's bundled breast-cancer data: sigmoid + binary cross-entropy.

    pip install pydl[examples]
    python examples/breast_cancer.py    # prints the test accuracy (about 96-98%) and AUC
"""

import argparse

import numpy as np

import pydl
from pydl import layers


def load(test_split=0.2, seed=0):
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        raise SystemExit("this example needs scikit-learn: pip install scikit-learn (or pydl[examples])")
    data = load_breast_cancer()
    x, y = data.data.astype("float32"), data.target.astype("float32")[:, None]
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_split)
    test, train = order[:n_test], order[n_test:]
    # Standardize with the training set's statistics only.
    mean, std = x[train].mean(0), x[train].std(0) + 1e-6
    return ((x[train] - mean) / std, y[train]), ((x[test] - mean) / std, y[test])


def main(epochs=30, verbose=2):
    pydl.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load()
    model = pydl.Sequential([
        pydl.Input(shape=(x_train.shape[1],)),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["accuracy", pydl.metrics.AUC()])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    loss, accuracy, auc = model.evaluate(x_test, y_test, verbose=0)
    print(f"breast cancer: test loss {loss:.4f}, test accuracy {accuracy:.4f}, test AUC {auc:.4f}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    main(parser.parse_args().epochs)
