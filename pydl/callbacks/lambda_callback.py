"""`LambdaCallback`: a callback made of plain functions, as Keras 3's."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .callback import Callback

Hook = Optional[Callable[..., Any]]
_NAMED = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
          "on_train_batch_begin", "on_train_batch_end")


class LambdaCallback(Callback):
    """Calls the given functions at the matching points of fit (evaluate, predict).

    The functions are called as the hooks are: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``.
    Any other hook of `Callback` is given by its name as a keyword, e.g.
    ``on_test_end=lambda logs: ...``.

    Args:
        on_epoch_begin, on_epoch_end, on_train_begin, on_train_end,
        on_train_batch_begin, on_train_batch_end: functions, or None.
        **kwargs: other hooks, ``hook_name=function``.

    Example:
        losses = []
        log = pydl.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
        model.fit(x, y, epochs=3, callbacks=[log])
    """

    def __init__(self, on_epoch_begin: Hook = None, on_epoch_end: Hook = None,
                 on_train_begin: Hook = None, on_train_end: Hook = None,
                 on_train_batch_begin: Hook = None, on_train_batch_end: Hook = None,
                 **kwargs: Callable[..., Any]):
        super().__init__()
        given = dict(zip(_NAMED, (on_epoch_begin, on_epoch_end, on_train_begin, on_train_end,
                                  on_train_batch_begin, on_train_batch_end)))
        for name, function in list(given.items()) + list(kwargs.items()):
            if function is not None and not callable(function):
                raise TypeError(f"LambdaCallback: {name} must be a function or None, received "
                                f"{function!r}")
        self._functions = {name: f for name, f in given.items() if f is not None}
        # Batch hooks without a function cost nothing: fit need not watch single steps.
        self._idle_hooks = frozenset(name for name in _NAMED if name not in self._functions)
        # Other hooks become attributes of the instance, as in Keras.
        self.__dict__.update(kwargs)

    def _call(self, name: str, *args, **kwargs) -> None:
        function = self._functions.get(name)
        if function is not None:
            function(*args, **kwargs)

    # The six named hooks are methods of the class; each calls its function when one was
    # given (those without one are listed in _idle_hooks, which fit reads).
    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)
