"""scikit-learn's bundled 8x8 handwritten digits (1,797 images), split into train and test.

    (x_train, y_train), (x_test, y_test) = pydl.datasets.digits.load_data()

No download: the data ship with scikit-learn (``pip install pydl[examples]``).
"""

from __future__ import annotations

import numpy as np


def load_data(test_split=0.2, seed=113):
    """Loads the digits like MNIST: ``((x_train, y_train), (x_test, y_test))``.

    Args:
        test_split: fraction of the samples held out for testing, in (0, 1).
        seed: seed of the shuffle before the split (the same seed gives the same split).

    Returns:
        x arrays uint8 of shape (N, 8, 8) with pixel values 0..16, y arrays uint8 of shape (N,).
    """
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float)) or not 0.0 < test_split < 1.0:
        raise ValueError(f"test_split: expected a fraction in (0, 1), received {test_split!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "pydl.datasets.digits needs scikit-learn, which bundles the data: "
            "pip install scikit-learn (or pip install pydl[examples])"
        ) from None
    bunch = load_digits()
    x = bunch.images.astype(np.uint8)
    y = bunch.target.astype(np.uint8)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_split))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])
