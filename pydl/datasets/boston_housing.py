"""Boston housing prices: 506 samples of 13 features, the target a median value in k$.

    (x_train, y_train), (x_test, y_test) = pydl.datasets.boston_housing.load_data()

The same arrays as `keras.datasets.boston_housing` (same file, hash, shuffle
and split; the data carry the ethical problem Keras' documentation describes),
downloaded once into ``~/.pydl/datasets`` (or ``$PYDL_HOME/datasets``).
"""

from __future__ import annotations

from . import _files, _tabular

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2,
              seed: int = 113) -> _files.Splits:
    """Loads the data as Keras 3 does: ``((x_train, y_train), (x_test, y_test))``.

    Args:
        path: the file, relative to ``~/.pydl/datasets`` (or an absolute path).
        test_split: fraction of the shuffled samples held out (last), in [0, 1).
        seed: seed of the shuffle.

    Returns:
        x of shape (N, 13) and y of shape (N,), in the dtype the file stores.
    """
    _tabular.check_test_split(test_split)
    x, y = _tabular.load_xy(_files.get_file(path, URL, SHA256))
    return _tabular.shuffle_split(x, y, test_split, seed)
