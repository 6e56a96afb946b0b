"""JAX's side (optional): a jitted training step, when JAX is importable.

The step (forward, loss, grad, SGD-momentum or Adam with Keras 3's rules) is one
jax.jit function; batches are gathered in NumPy as for the NumPy baseline.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from .threads import all_cores


# XLA sizes its CPU thread pools once, when JAX is imported, and its flags do not
# bound all of them: the thread count every jax.jit number of this process runs
# with (None until imported).
_threads = {"count": None}


def import_jax(thread_counts):
    """(jax, jax.numpy, None), or (None, None, why). When every table of the run is
    single-threaded, this thread is first pinned to one CPU, so that every thread
    XLA creates inherits that bound (its flags leave some pools unbounded; every
    other competitor runs one thread anyway); otherwise JAX keeps its default, all
    cores."""
    if "jax" not in sys.modules and max(thread_counts) == 1 and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    try:
        import jax
        import jax.numpy as jnp
    except Exception as exc:
        return None, None, f"JAX not installed ({type(exc).__name__})"
    if _threads["count"] is None:
        _threads["count"] = all_cores()  # the affinity mask: 1 once pinned
    return jax, jnp, None


def thread_count():
    """The threads jax.jit runs with in this process (None before import_jax)."""
    return _threads["count"]


def epoch_fn(net, x: np.ndarray, y: np.ndarray, jax, jnp):
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(net.sizes[:-1], net.sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params.append((jnp.asarray(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)),
                       jnp.zeros((fan_out,), jnp.float32)))
    classify = net.loss != "mse"

    def loss_fn(params, xb, yb):
        h = xb
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        if classify:
            logp = jax.nn.log_softmax(h)
            return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))
        return jnp.mean((h - yb) ** 2)

    lr = net.learning_rate
    if net.optimizer == "sgd":
        state = jax.tree_util.tree_map(jnp.zeros_like, params)

        def update(params, state, grads, t):
            state = jax.tree_util.tree_map(lambda m, g: 0.9 * m - lr * g, state, grads)
            return jax.tree_util.tree_map(lambda p, m: p + m, params, state), state
    else:
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        state = (zeros, zeros)

        def update(params, state, grads, t):
            m, v = state
            m = jax.tree_util.tree_map(lambda m, g: m + (g - m) * 0.1, m, grads)
            v = jax.tree_util.tree_map(lambda v, g: v + (g * g - v) * 0.001, v, grads)
            alpha = lr * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            params = jax.tree_util.tree_map(
                lambda p, m, v: p - alpha * m / (jnp.sqrt(v) + 1e-7), params, m, v)
            return params, (m, v)

    @jax.jit
    def step(params, state, xb, yb, t):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        params, state = update(params, state, grads, t)
        return params, state, loss

    holder = {"params": params, "state": state, "t": 0}
    y_in = y.astype(np.int32) if classify else y

    def run_epoch():
        order = rng.permutation(len(x))
        loss = None
        for start in range(0, len(x) - net.batch + 1, net.batch):
            index = order[start:start + net.batch]
            holder["t"] += 1
            holder["params"], holder["state"], loss = step(
                holder["params"], holder["state"], x[index], y_in[index],
                jnp.float32(holder["t"]))
        return float(loss)

    return run_epoch
