"""The GridSearchCV of the sklearn workload, one framework per call; also run as a script
(``python benchmarks/sklearn_grid.py keras '<json settings>'``) so that Keras gets a
process of its own (its backend and thread pools are fixed when it is imported).

The same search three ways, on scikit-learn's bundled digits (1797 8x8 images, pixels/16,
an 80/20 stratified split): an MLP 64-h-10 (relu, softmax), Adam, batch 32, `epochs`
epochs, no weight penalty, over hidden width h x learning rate, 3-fold CV, then a refit
of the best on the whole training set and its accuracy on the test set.

- pydl: pydl.wrappers.SKLearnClassifier (categorical cross-entropy on one-hot targets)
- scikit-learn: MLPClassifier(solver="adam", alpha=0, max_iter=epochs, no early stop)
- Keras: keras.wrappers.SKLearnClassifier on the jax backend (torch when JAX is missing)
"""

from __future__ import annotations

import json
import sys
import time
import warnings


def settings_for(mode: str) -> dict:
    if mode == "smoke":
        return {"epochs": 1, "cv": 2, "hidden": [8], "learning_rate": [1e-3], "batch": 32}
    epochs = 20 if mode == "quick" else 30
    return {"epochs": epochs, "cv": 3, "hidden": [32, 64], "learning_rate": [1e-3, 3e-3],
            "batch": 32}


def digits():
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    return train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)


def _grid(settings: dict) -> list[dict]:
    return [{"hidden": h, "learning_rate": lr} for h in settings["hidden"]
            for lr in settings["learning_rate"]]


def _wrapper_grid(settings: dict) -> dict:
    """The wrappers' grid. fit_kwargs rides in it: Keras 3.15's wrapper loses fit_kwargs when
    scikit-learn clones it (its __sklearn_clone__), and the grid's values are set after
    the clone."""
    fit = {"epochs": settings["epochs"], "batch_size": settings["batch"], "verbose": 0}
    return {"model_kwargs": _grid(settings), "fit_kwargs": [fit]}


def _wrapper_search(api, settings):
    """The search through `api.wrappers.SKLearnClassifier`, for pydl or Keras (the same
    Keras-API model builder for both)."""

    def build(X, y, hidden, learning_rate):
        model = api.Sequential([api.Input(shape=(X.shape[1],)),
                                api.layers.Dense(hidden, activation="relu"),
                                api.layers.Dense(y.shape[1], activation="softmax")])
        model.compile(optimizer=api.optimizers.Adam(learning_rate),
                      loss="categorical_crossentropy")
        return model

    return api.wrappers.SKLearnClassifier(build), _wrapper_grid(settings)


def _pydl_search(settings):
    import pydl

    return _wrapper_search(pydl, settings)


def _sklearn_search(settings):
    from sklearn.neural_network import MLPClassifier

    estimator = MLPClassifier(solver="adam", alpha=0.0, batch_size=settings["batch"],
                              max_iter=settings["epochs"], tol=0.0,
                              n_iter_no_change=settings["epochs"] + 1, random_state=0)
    return estimator, {"hidden_layer_sizes": [(h,) for h in settings["hidden"]],
                       "learning_rate_init": settings["learning_rate"]}


def _keras_search(settings):
    import keras

    return _wrapper_search(keras, settings)


SEARCHES = {"pydl": _pydl_search, "scikit-learn": _sklearn_search, "keras": _keras_search}


def run_search(framework: str, settings: dict) -> dict:
    """One GridSearchCV: {"seconds", "accuracy", "best", "fits"}."""
    from sklearn.model_selection import GridSearchCV

    X_train, X_test, y_train, y_test = digits()
    estimator, grid = SEARCHES[framework](settings)
    search = GridSearchCV(estimator, grid, cv=settings["cv"], n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLPClassifier's ConvergenceWarning at max_iter
        started = time.perf_counter()
        search.fit(X_train, y_train)
        seconds = time.perf_counter() - started
        accuracy = float(search.score(X_test, y_test))
    candidates = len(search.cv_results_["params"])
    return {"seconds": seconds, "accuracy": accuracy,
            "best": json.dumps({k: v for k, v in search.best_params_.items() if k != "fit_kwargs"},
                               default=str),
            "fits": candidates * settings["cv"] + 1}


if __name__ == "__main__":  # the Keras child: python benchmarks/sklearn_grid.py keras '{...}'
    print(json.dumps(run_search(sys.argv[1], json.loads(sys.argv[2]))), flush=True)
