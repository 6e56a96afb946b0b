"""California housing: 20,640 districts of 8 features, the target a median house value.

    (x_train, y_train), (x_test, y_test) = pydl.datasets.california_housing.load_data()

The same arrays as `keras.datasets.california_housing` (same file, hash,
shuffle and split), downloaded once into ``~/.pydl/datasets`` (or
``$PYDL_HOME/datasets``).
"""

from __future__ import annotations

from . import _files, _tabular

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
SMALL = 600  # samples of version="small"


def load_data(version: str = "large", path: str = "california_housing.npz",
              test_split: float = 0.2, seed: int = 113) -> _files.Splits:
    """Loads the data as Keras 3 does: ``((x_train, y_train), (x_test, y_test))``.

    Args:
        version: "large" (all 20,640 samples) or "small" (the first 600).
        path: the file, relative to ``~/.pydl/datasets`` (or an absolute path).
        test_split: fraction of the shuffled samples held out (last), in [0, 1).
        seed: seed of the shuffle.

    Returns:
        x of shape (N, 8) and y of shape (N,), in the dtype the file stores.
    """
    _tabular.check_test_split(test_split)
    if version not in ("large", "small"):
        raise ValueError(f"version: expected 'large' or 'small', received version={version!r}")
    x, y = _tabular.load_xy(_files.get_file(path, URL, SHA256))
    if version == "small":
        x, y = x[:SMALL], y[:SMALL]
    return _tabular.shuffle_split(x, y, test_split, seed)
