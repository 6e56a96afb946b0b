"""Helpers of the scikit-learn wrappers: the sklearn import, target reshaping, model checks."""

from __future__ import annotations

import numpy as np

try:  # this module is imported only when pydl.wrappers is used (see pydl/__init__.py)
    import sklearn
    from sklearn.base import BaseEstimator, TransformerMixin
except ImportError:  # the classes still exist; building an estimator raises the ImportError
    sklearn = None

    class BaseEstimator:
        pass

    class TransformerMixin:
        pass


def assert_sklearn_installed(symbol_name: str) -> None:
    if sklearn is None:
        raise ImportError(f"{symbol_name} needs scikit-learn, which is not installed. Install "
                          "the extra: pip install 'pydl[sklearn]'")


def check_model(model) -> None:
    """The model ``fit`` trains must be a compiled pydl model with a loss and an optimizer."""
    from ..models.model import Model

    if not isinstance(model, Model):
        raise TypeError(f"model: expected a pydl Model (or a function returning one), "
                        f"received {type(model).__name__}")
    if not getattr(model, "compiled", False) or model.optimizer is None or \
            not model._compile_config or model._compile_config.get("loss") is None:
        raise RuntimeError("Given model needs to be compiled, and have a loss and an optimizer.")


class TargetReshaper(TransformerMixin, BaseEstimator):
    """Makes 1-D targets 2-D (``(n,) -> (n, 1)``) and back, for encoders that need 2-D input.

    Attributes:
        ndim_: the number of dimensions of the ``y`` it was fitted on.
    """

    def fit(self, y):
        self.ndim_ = np.ndim(y)
        return self

    def transform(self, y):
        y = np.asarray(y)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def inverse_transform(self, y):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        y = np.asarray(y)
        if self.ndim_ == 1 and y.ndim == 2:
            return np.squeeze(y, axis=1)
        return y
