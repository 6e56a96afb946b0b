"""scikit-learn estimators around pydl models (Keras 3's ``keras.wrappers``).

    def make_model(X, y, hidden=32):
        model = pydl.Sequential([pydl.Input(shape=(X.shape[1],)),
                                 pydl.layers.Dense(hidden, activation="relu"),
                                 pydl.layers.Dense(y.shape[1], activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model

    clf = SKLearnClassifier(make_model, model_kwargs={"hidden": 64},
                            fit_kwargs={"epochs": 20, "verbose": 0})
    GridSearchCV(clf, {"model_kwargs": [{"hidden": 16}, {"hidden": 64}]}, cv=3).fit(X, y)

``model`` is a compiled pydl model (cloned with ``pydl.models.clone_model`` -- and
compiled like the original -- before each fit, unless ``warm_start``) or a function
``model(X=X, y=y, **model_kwargs)`` returning one. A classifier one-hot encodes ``y``
(so the model sees ``(n_samples, n_classes)`` targets: use a softmax output and
categorical cross-entropy) and ``predict`` returns labels; a regressor passes ``y``
through as 2-D; a transformer's ``transform`` is the model's ``predict``.

Estimators pickle (the models are stored in pydl's own format inside the pickle), so
they run in joblib's worker processes (``n_jobs=2``). ``predict`` and ``transform`` run
the model with ``verbose=0``.

scikit-learn's ``check_estimator`` passes (tests/interop/test_sklearn_wrappers.py) except
two checks of the classifier, which Keras' own wrappers are expected to fail as well
(keras/src/wrappers/sklearn_test.py lists six):

- ``check_classifiers_train``: ``decision_function`` returns the model's outputs (here
  softmax probabilities, (n_samples, n_classes)), which the check reads as margins.
- ``check_classifiers_classes``: a model trained a few epochs on a few samples may never
  predict some class.

Of Keras' other four, ``check_classifiers_one_label_sample_weights`` passes, and the
three that compare two fits (``check_fit_idempotent``, ``check_supervised_y_2d``,
``check_classifier_data_not_an_array``) pass when two fits give the same model: seeded
initializers and ``fit_kwargs={"shuffle": False}``, as the test uses. The estimators
are tagged ``non_deterministic`` (as Keras'), since by default each fit starts from new
random weights; scikit-learn then skips the checks that need determinism.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from .utils import BaseEstimator, TargetReshaper, assert_sklearn_installed, check_model, sklearn

if sklearn is not None:
    from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin
else:
    class ClassifierMixin:
        pass

    class RegressorMixin:
        pass

    class TransformerMixin:
        pass


def _validate_data(estimator, *args, **kwargs):
    from sklearn.utils.validation import validate_data

    return validate_data(estimator, *args, **kwargs)


def _type_of_target(y) -> str:
    from sklearn.utils.multiclass import type_of_target

    target = type_of_target(y)
    if target == "unknown":
        raise ValueError(f"Unknown label type for data: {y!r}"[:300])
    return target


def _is_model(value) -> bool:
    from ..models.model import Model

    return isinstance(value, Model)


def _compiled_clone(model):
    """``clone_model(model)``, compiled as ``model`` is (a fresh optimizer of the same config)."""
    from ..models import clone_model, serialization
    from .. import losses, metrics, optimizers

    clone = clone_model(model)
    if not getattr(clone, "compiled", False) and getattr(model, "compiled", False):
        config = model._compile_config
        optimizer = optimizers.deserialize(optimizers.serialize(model.optimizer))

        def fresh(kind, module, value):
            return serialization.deserialize_object(kind, module,
                                                    serialization.serialize_object(value))

        clone.compile(optimizer=optimizer, loss=fresh("loss", losses, config["loss"]),
                      metrics=fresh("metric", metrics, config["metrics"]),
                      weighted_metrics=fresh("metric", metrics, config["weighted_metrics"]),
                      loss_weights=config.get("loss_weights"),
                      steps_per_execution=config.get("steps_per_execution", 1))
    return clone


# -- pickling: models travel as pydl files ---------------------------------------------
class _PickledModel:
    """A pydl model inside a pickle: its pydl-format file's bytes."""

    def __init__(self, model):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "model.pydl")
            model.save(path)
            with open(path, "rb") as handle:
                self.data = handle.read()

    def load(self):
        from ..models import load_model

        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "model.pydl")
            with open(path, "wb") as handle:
                handle.write(self.data)
            return load_model(path)


class SKLBase(BaseEstimator):
    """Base of the scikit-learn wrappers.

    Args:
        model: a compiled pydl ``Model``, or a function ``model(X=X, y=y, **model_kwargs)``
            returning one. A model is cloned (``pydl.models.clone_model``) before each
            fit unless ``warm_start=True``.
        warm_start: train the model given (or the one fitted last) further instead of a
            fresh clone.
        model_kwargs: keyword arguments for ``model`` when it is a function.
        fit_kwargs: keyword arguments for ``model.fit`` (epochs, batch_size, verbose, ...);
            those passed to ``fit`` itself take precedence.

    Attributes:
        model_: the fitted pydl model.
        history_: ``model_.fit``'s history, a dict of lists (``{"loss": [...], ...}``).
        n_features_in_: the number of features seen in ``fit``.
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        assert_sklearn_installed(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __getstate__(self):
        state = dict(self.__dict__)
        for key in ("model", "model_"):
            if _is_model(state.get(key)):
                state[key] = _PickledModel(state[key])
        return state

    def __setstate__(self, state):
        for key in ("model", "model_"):
            if isinstance(state.get(key), _PickledModel):
                state[key] = state[key].load()
        self.__dict__.update(state)

    @property
    def epoch_(self) -> int:
        """The number of epochs the fitted model was trained in its last fit."""
        history = getattr(self, "history_", None) or {}
        return len(next(iter(history.values()), []))

    def set_fit_request(self, **kwargs):
        """Requests metadata (e.g. ``sample_weight=True``) for ``fit`` under scikit-learn's
        metadata routing (``sklearn.set_config(enable_metadata_routing=True)``)."""
        if not sklearn.get_config().get("enable_metadata_routing", False):
            raise RuntimeError(
                "This method is only available when metadata routing is enabled. You can "
                "enable it using sklearn.set_config(enable_metadata_routing=True).")
        from sklearn.utils.metadata_routing import MetadataRequest

        self._metadata_request = MetadataRequest(owner=type(self).__name__)
        for param, alias in kwargs.items():
            self._metadata_request.fit.add_request(param=param, alias=alias)
        return self

    def _get_model(self, X, y):
        if self.warm_start and getattr(self, "model_", None) is not None:
            return self.model_
        if _is_model(self.model):
            return self.model if self.warm_start else _compiled_clone(self.model)
        if not callable(self.model):
            raise TypeError(f"model: expected a compiled pydl Model or a function returning "
                            f"one, received {type(self.model).__name__}")
        return self.model(X=X, y=y, **(self.model_kwargs or {}))

    def fit(self, X, y, **kwargs):
        """Trains the model on ``X`` (n_samples, n_features) and ``y``.

        Args:
            X: the input samples.
            y: the targets, (n_samples,) or (n_samples, n_outputs).
            **kwargs: passed to ``model.fit`` (over ``fit_kwargs``), e.g.
                ``sample_weight``, ``epochs``.
        """
        X, y = _validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        check_model(model)
        fit_kwargs = {**(self.fit_kwargs or {}), **kwargs}
        history = model.fit(X, y, **fit_kwargs)
        self.history_ = {k: list(v) for k, v in history.history.items()}
        self.model_ = model
        return self

    def predict(self, X):
        """The model's predictions for ``X`` (class labels for a classifier)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self._reverse_process_target(self.model_.predict(X, verbose=0))

    def _process_target(self, y, reset=False):
        _type_of_target(y)
        if reset:
            self._target_encoder = TargetReshaper().fit(y)
        return self._target_encoder.transform(y)

    def _reverse_process_target(self, y):
        return self._target_encoder.inverse_transform(y)


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier around a pydl model (Keras 3's ``SKLearnClassifier``).

    ``y`` is one-hot encoded before the model sees it (``(n_samples, n_classes)``), and
    ``predict`` gives back labels (the argmax of the model's outputs). Arguments and
    attributes as ``SKLBase``, plus ``classes_`` (the class labels).
    """

    def decision_function(self, X):
        """The model's raw outputs for ``X``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X, verbose=0)

    def _process_target(self, y, reset=False):
        target = _type_of_target(y)
        if target not in ("binary", "multiclass"):
            raise ValueError(f"Only binary and multiclass target types are supported. Target "
                             f"type: {target}")
        if reset:
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import OneHotEncoder

            self._target_encoder = make_pipeline(
                TargetReshaper(), OneHotEncoder(sparse_output=False)).fit(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        return self._target_encoder.transform(y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor around a pydl model (Keras 3's ``SKLearnRegressor``).

    ``y`` reaches the model as 2-D (``(n_samples, 1)`` for a 1-D ``y``); ``predict``
    returns the shape ``y`` had. Arguments and attributes as ``SKLBase``.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A scikit-learn transformer around a pydl model (Keras 3's ``SKLearnTransformer``):
    ``fit`` trains it as the regressor does, ``transform(X)`` is ``model_.predict(X)``
    (e.g. an embedding model in a Pipeline). Arguments and attributes as ``SKLBase``.
    """

    def transform(self, X):
        """The model's outputs for ``X``, (n_samples, n_outputs)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X, verbose=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

