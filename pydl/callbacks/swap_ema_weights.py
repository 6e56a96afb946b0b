"""`SwapEMAWeights`: evaluates (and optionally checkpoints) with the optimizer's moving
averages of the weights (an optimizer made with `use_ema=True`)."""

from __future__ import annotations

from .callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's moving averages (Polyak averaging)
    for evaluation and prediction, and back afterwards (Keras 3).

    ```python
    optimizer = pydl.optimizers.SGD(use_ema=True)
    model.compile(optimizer=optimizer, loss=..., metrics=...)
    model.fit(x, y, validation_data=(x_val, y_val), callbacks=[SwapEMAWeights()])
    # checkpoints with the averages: SwapEMAWeights(swap_on_epoch=True) before ModelCheckpoint
    ```

    The swap is in place (no copies of the weights are kept); the behaviour is undefined
    if another callback changes the weights or the averages meanwhile.

    Args:
        swap_on_epoch: also swap at the end of each epoch and back at the start of the
            next, so that callbacks after this one (ModelCheckpoint) see the averages.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        self._ema_weights_in_model = False

    def _optimizer(self):
        optimizer = self.model.optimizer
        if not getattr(optimizer, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the "
                             f"optimizer. Received: use_ema={getattr(optimizer, 'use_ema', None)}")
        return optimizer

    def _swap_variables(self) -> None:
        optimizer = self._optimizer()
        if not optimizer.built:
            return
        for v in self.model.trainable_weights:
            i = optimizer._index.get(id(v))
            if i is None:
                continue
            average = optimizer._averages[i]
            value = v.value.copy()
            v.value[...] = average
            average[...] = value

    def _finalize_ema_values(self) -> None:
        """The averages back into the optimizer from the (swapped) model weights."""
        optimizer = self._optimizer()
        for v in self.model.trainable_weights:
            i = optimizer._index.get(id(v))
            if i is not None:
                optimizer._averages[i][...] = v.value

    def _swap_in(self) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def _swap_out(self) -> None:
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_in()
            # fit ends by setting the weights to the averages: give it the averages.
            if epoch == self.params.get("epochs", 0) - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        self._swap_in()

    def on_test_end(self, logs=None):
        self._swap_out()

    def on_predict_begin(self, logs=None):
        self._swap_in()

    def on_predict_end(self, logs=None):
        self._swap_out()
