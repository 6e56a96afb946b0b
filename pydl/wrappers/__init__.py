"""scikit-learn estimators around pydl models (Keras 3's ``keras.wrappers``; needs
``pip install 'pydl[sklearn]'``). Imported on first use of ``pydl.wrappers``, so that
``import pydl`` does not import scikit-learn.

    clf = pydl.wrappers.SKLearnClassifier(make_model, fit_kwargs={"epochs": 10, "verbose": 0})
"""

from .sklearn_wrapper import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
