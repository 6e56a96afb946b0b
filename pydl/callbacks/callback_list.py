"""`CallbackList`: dispatches the hooks of fit, evaluate and predict to a list of callbacks."""

from __future__ import annotations

from .callback import Callback
from .history import History


_HOOKS = (
    "on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end", "on_train_begin", "on_train_end",
    "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
)


class CallbackList(Callback):
    """Holds callbacks and forwards every hook to each of them, in order.

    Args:
        callbacks: a list of `Callback`.
        add_history: append a `History` when none is in the list (what `fit` does).
        model: the model to give to every callback.
        **params: the `params` dict given to every callback (e.g. epochs, steps, verbose).
    """

    def __init__(self, callbacks=None, add_history=False, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected pydl.callbacks.Callback objects, received {type(cb).__name__}")
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        self._model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


def _dispatcher(hook, indexed):
    if indexed:  # (batch or epoch, logs)
        def dispatch(self, index, logs=None):
            for cb in self.callbacks:
                getattr(cb, hook)(index, logs=logs)
    else:
        def dispatch(self, logs=None):
            for cb in self.callbacks:
                getattr(cb, hook)(logs=logs)
    dispatch.__name__ = hook
    dispatch.__doc__ = f"Calls `{hook}` of every callback, in order."
    return dispatch


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _dispatcher(_hook, indexed="batch" in _hook or "epoch" in _hook))
