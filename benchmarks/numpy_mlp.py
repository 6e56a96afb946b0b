"""The NumPy baseline: an MLP and its optimizers written as a competent engineer would.

This is the code pydl is compared against, so it is meant to be good NumPy, not a
strawman:

- float32 throughout; every matrix product goes through BLAS (``np.matmul(..., out=)``);
- all parameters live in one flat float32 vector (weights and biases are views into
  it), and so do their gradients, so an optimizer step is a handful of whole-vector
  NumPy calls, whatever the depth of the network;
- every activation, gradient, mask and batch buffer is allocated once per batch size
  and reused: a training step allocates only NumPy's small per-call temporaries;
- softmax cross-entropy is computed stably (log-sum-exp) and fused with its gradient
  ``(p - y) / B``;
- optimizer updates are in place and follow Keras 3's rules exactly (see ``SGD`` and
  ``Adam``).

The network: ``Dense`` layers with a hidden activation (relu) and either a softmax +
sparse categorical cross-entropy head or a linear + mean-squared-error head, as the
pydl models the benchmarks train.
"""

from __future__ import annotations

import numpy as np

LOSSES = ("sparse_categorical_crossentropy", "mse")


class SGD:
    """Keras 3 SGD with momentum, in place over a flat parameter vector.

        m = momentum * m - learning_rate * g
        w += m                      (momentum > 0)
        w -= learning_rate * g      (momentum == 0)
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0):
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.m = None

    def build(self, params: np.ndarray) -> None:
        self.m = np.zeros_like(params) if self.momentum > 0 else None

    def update(self, params: np.ndarray, grads: np.ndarray) -> None:
        # The gradient buffer is recomputed every step, so it doubles as scratch.
        grads *= self.learning_rate
        if self.m is None:
            params -= grads
            return
        self.m *= self.momentum
        self.m -= grads
        params += self.m


class Adam:
    """Keras 3 Adam, in place over a flat parameter vector.

        t += 1
        alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g * g - v) * (1 - beta_2)
        w -= alpha * m / (sqrt(v) + epsilon)
    """

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7):
        self.learning_rate = float(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.iterations = 0

    def build(self, params: np.ndarray) -> None:
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.scratch = np.empty_like(params)
        self.iterations = 0

    def update(self, params: np.ndarray, grads: np.ndarray) -> None:
        self.iterations += 1
        t = self.iterations
        alpha = self.learning_rate * np.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        tmp = self.scratch
        np.subtract(grads, self.m, out=tmp)
        tmp *= 1.0 - self.beta_1
        self.m += tmp
        np.square(grads, out=tmp)
        tmp -= self.v
        tmp *= 1.0 - self.beta_2
        self.v += tmp
        np.sqrt(self.v, out=tmp)
        tmp += self.epsilon
        np.divide(self.m, tmp, out=tmp)
        tmp *= alpha
        params -= tmp


class _Buffers:
    """Activations, their gradients and relu masks for one batch size."""

    def __init__(self, sizes: tuple[int, ...], batch: int, dtype):
        self.batch = batch
        self.x = np.empty((batch, sizes[0]), dtype)
        self.a = [self.x] + [np.empty((batch, n), dtype) for n in sizes[1:]]
        # da[i] is d(loss)/d(a[i]) for hidden layers, and the delta of the last layer.
        self.da = [None] + [np.empty((batch, n), dtype) for n in sizes[1:]]
        self.mask = [None] + [np.empty((batch, n), bool) for n in sizes[1:-1]] + [None]
        self.rows = np.arange(batch)


class NumpyMLP:
    """A dense network trained with NumPy only.

    Args:
        sizes: layer widths, input first, e.g. ``(784, 512, 256, 10)``.
        loss: ``"sparse_categorical_crossentropy"`` (softmax head, integer labels) or
            ``"mse"`` (linear head).
        optimizer: an ``SGD`` or ``Adam`` instance.
        seed: seeds the Glorot-uniform initialization (biases start at zero).
        dtype: float32 (the benchmark) or float64 (tests).
    """

    def __init__(self, sizes, loss, optimizer, seed: int = 0, dtype=np.float32):
        if loss not in LOSSES:
            raise ValueError(f"loss: expected one of {LOSSES}, received {loss!r}")
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes: expected >= 2 positive widths, received {sizes!r}")
        self.sizes = tuple(int(n) for n in sizes)
        self.loss = loss
        self.optimizer = optimizer
        self.dtype = np.dtype(dtype)
        shapes = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            shapes += [(fan_in, fan_out), (fan_out,)]
        total = sum(int(np.prod(s)) for s in shapes)
        self.params = np.zeros(total, self.dtype)
        self.grads = np.zeros(total, self.dtype)
        self._param_views = self._views(self.params, shapes)
        self._grad_views = self._views(self.grads, shapes)
        rng = np.random.default_rng(seed)
        for w in self.kernels:
            limit = np.sqrt(6.0 / (w.shape[0] + w.shape[1]))
            w[...] = rng.uniform(-limit, limit, w.shape)
        self.optimizer.build(self.params)
        self._buffers: dict[int, _Buffers] = {}

    @staticmethod
    def _views(flat: np.ndarray, shapes) -> list[np.ndarray]:
        views, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            views.append(flat[start:start + size].reshape(shape))
            start += size
        return views

    @property
    def kernels(self) -> list[np.ndarray]:
        return self._param_views[0::2]

    @property
    def biases(self) -> list[np.ndarray]:
        return self._param_views[1::2]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of [W0, b0, W1, b1, ...], the order Keras' ``get_weights`` uses."""
        return [v.copy() for v in self._param_views]

    def set_weights(self, weights) -> None:
        for view, value in zip(self._param_views, weights):
            view[...] = value

    def _buffers_for(self, batch: int) -> _Buffers:
        buffers = self._buffers.get(batch)
        if buffers is None:
            buffers = self._buffers[batch] = _Buffers(self.sizes, batch, self.dtype)
        return buffers

    # -- forward ---------------------------------------------------------------------
    def _forward(self, buf: _Buffers) -> np.ndarray:
        """Fills buf.a[1:] from buf.x; returns the last layer's pre-activation (logits)."""
        last = len(self.sizes) - 2
        for i, (w, b) in enumerate(zip(self.kernels, self.biases)):
            out = buf.a[i + 1]
            np.matmul(buf.a[i], w, out=out)
            out += b
            if i < last:
                np.maximum(out, 0, out=out)
        return buf.a[-1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Model output (softmax probabilities or regression values) for a batch."""
        buf = self._buffers_for(len(x))
        np.copyto(buf.x, x, casting="same_kind")
        out = self._forward(buf)
        if self.loss == "sparse_categorical_crossentropy":
            out = out.copy()
            out -= out.max(axis=1, keepdims=True)
            np.exp(out, out=out)
            out /= out.sum(axis=1, keepdims=True)
            return out
        return out.copy()

    # -- loss and its gradient ---------------------------------------------------------
    def _loss_and_delta(self, buf: _Buffers, y: np.ndarray) -> float:
        """Loss of the batch; leaves d(loss)/d(logits) in buf.da[-1]."""
        out, delta = buf.a[-1], buf.da[-1]
        n = buf.batch
        if self.loss == "mse":
            np.subtract(out, y, out=delta)
            loss = float(np.vdot(delta, delta)) / delta.size
            delta *= 2.0 / delta.size
            return loss
        # Stable softmax cross-entropy: loss_i = log(sum(exp(z - m))) - (z[y] - m).
        shifted = delta
        row_max = out.max(axis=1, keepdims=True)
        np.subtract(out, row_max, out=shifted)
        true_logit = shifted[buf.rows, y]
        np.exp(shifted, out=shifted)
        row_sum = shifted.sum(axis=1, keepdims=True)
        loss = float(np.log(row_sum).sum() - true_logit.sum()) / n
        # Fused gradient: (softmax - onehot) / B.
        shifted *= 1.0 / row_sum
        shifted[buf.rows, y] -= 1.0
        shifted *= 1.0 / n
        return loss

    # -- backward ------------------------------------------------------------------------
    def _backward(self, buf: _Buffers) -> None:
        """Fills self.grads from buf.da[-1] (the delta of the last layer)."""
        kernels = self.kernels
        dws, dbs = self._grad_views[0::2], self._grad_views[1::2]
        for i in range(len(kernels) - 1, -1, -1):
            delta = buf.da[i + 1]
            np.matmul(buf.a[i].T, delta, out=dws[i])
            np.sum(delta, axis=0, out=dbs[i])
            if i == 0:
                break  # the input needs no gradient
            da = buf.da[i]
            np.matmul(delta, kernels[i].T, out=da)
            np.greater(buf.a[i], 0, out=buf.mask[i])  # relu'(z) from its output
            np.multiply(da, buf.mask[i], out=da)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One step of forward, loss, backward and update on a batch; returns the loss."""
        buf = self._buffers_for(len(x))
        np.copyto(buf.x, x, casting="same_kind")
        return self._step(buf, y)

    def _step(self, buf: _Buffers, y: np.ndarray) -> float:
        self._forward(buf)
        loss = self._loss_and_delta(buf, y)
        self._backward(buf)
        self.optimizer.update(self.params, self.grads)
        return loss

    def fit_epoch(self, x: np.ndarray, y: np.ndarray, batch_size: int,
                  rng: np.random.Generator | None = None) -> float:
        """One epoch as Keras' fit runs it: shuffle, gather each batch, step.

        Returns the mean of the batch losses.
        """
        n = len(x)
        order = rng.permutation(n) if rng is not None else np.arange(n)
        full = self._buffers_for(batch_size)
        y_batch = np.empty((batch_size,) + y.shape[1:], y.dtype)
        total, steps = 0.0, 0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            if len(index) == batch_size:
                buf, yb = full, y_batch
            else:  # the short last batch
                buf = self._buffers_for(len(index))
                yb = np.empty((len(index),) + y.shape[1:], y.dtype)
            np.take(x, index, axis=0, out=buf.x)
            np.take(y, index, axis=0, out=yb)
            total += self._step(buf, yb)
            steps += 1
        return total / steps
