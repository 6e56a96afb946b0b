"""Datasets with Keras 3's loaders: `mnist`, `fashion_mnist`, `cifar10`, `imdb`, `reuters`,
`boston_housing`, `california_housing` (downloaded once, hash-checked, into
``~/.pydl/datasets`` or ``$PYDL_HOME/datasets``: pydl/datasets/_files.py), and `digits`
(bundled with scikit-learn, no download)."""

from . import (boston_housing, california_housing, cifar10, digits, fashion_mnist, imdb, mnist,
               reuters)

__all__ = ["boston_housing", "california_housing", "cifar10", "digits", "fashion_mnist", "imdb",
           "mnist", "reuters"]
