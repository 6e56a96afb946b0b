"""Model graphs and custom steps (issue 11): samples/s of one training epoch.

- two-tower: two 784-256 relu branches joined by Concatenate, Dense 512 relu, Dense 10
  softmax, batch 128, SGD momentum: pydl's Functional model (the fused plan) against
  the same network in PyTorch eager (an nn.Module with two towers) and jax.jit.
- functional vs sequential: 784-512-256-10 (batch 128, SGD momentum) built both ways in
  pydl (target: the Functional model at >= 0.97x the Sequential's samples/s).
- custom train_step: a subclassed model with the Keras guide's train_step (on the
  GradientTape) on 64-32-10 batch 32 and 784-512-256-10 batch 128, against the same
  hand-written loop in PyTorch eager (target: at least as fast).
"""

from __future__ import annotations

import numpy as np

from .. import jax_side
from ..results import Run, Table, fmt, ratio
from .common import per_thread_count, present, record_timings, time_competitors, torch_or_none

WORKLOAD = "graph"
TWO_TOWER = "two-tower 2x784-256, concat, 512, 10 (batch 128)"
SAME_LAYERS = "784-512-256-10 (batch 128)"
CUSTOM = {"64-32-10 (batch 32)": ((64, 32, 10), 32), "784-512-256-10 (batch 128)":
          ((784, 512, 256, 10), 128)}
LR = 0.01


def _steps(run: Run, batch: int) -> int:
    base = 400 if batch <= 32 else 32
    if run.settings.mode == "smoke":
        return 2
    return max(4, base // 4) if run.settings.mode == "quick" else base


def _data(rng, samples: int, widths, classes: int):
    xs = [rng.standard_normal((samples, w), dtype=np.float32) for w in widths]
    return xs, rng.integers(0, classes, samples).astype(np.int32)


# -- pydl ---------------------------------------------------------------------------------
def _pydl_two_tower():
    import pydl
    from pydl import layers

    pydl.utils.set_random_seed(0)
    a, b = pydl.Input((784,)), pydl.Input((784,))
    h = layers.Concatenate()([layers.Dense(256, activation="relu")(a),
                              layers.Dense(256, activation="relu")(b)])
    h = layers.Dense(512, activation="relu")(h)
    model = pydl.Model([a, b], layers.Dense(10, activation="softmax")(h))
    model.compile(optimizer=pydl.optimizers.SGD(LR, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    return model


def _pydl_mlp(sizes, functional: bool):
    import pydl
    from pydl import layers

    pydl.utils.set_random_seed(0)
    hidden = [layers.Dense(n, activation="relu") for n in sizes[1:-1]]
    head = layers.Dense(sizes[-1], activation="softmax")
    if functional:
        x = inputs = pydl.Input((sizes[0],))
        for layer in hidden + [head]:
            x = layer(x)
        model = pydl.Model(inputs, x)
    else:
        model = pydl.Sequential([pydl.Input((sizes[0],))] + hidden + [head])
    model.compile(optimizer=pydl.optimizers.SGD(LR, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    return model


def _pydl_custom_step(sizes):
    """The keras.io guide's CustomModel, imports swapped (tf.GradientTape -> pydl's)."""
    import pydl
    from pydl import layers

    class CustomModel(pydl.Model):
        def train_step(self, data):
            x, y = data
            with pydl.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply(gradients, trainable_vars)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    pydl.utils.set_random_seed(0)
    x = inputs = pydl.Input((sizes[0],))
    for n in sizes[1:-1]:
        x = layers.Dense(n, activation="relu")(x)
    model = CustomModel(inputs, layers.Dense(sizes[-1], activation="softmax")(x))
    model.compile(optimizer=pydl.optimizers.SGD(LR, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    return model


def _pydl_epoch(model, x, y, batch):
    def run():
        history = model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)
        return history.history["loss"][-1]
    return run


# -- PyTorch ------------------------------------------------------------------------------
def _torch_two_tower(torch):
    class TwoTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.left = torch.nn.Linear(784, 256)
            self.right = torch.nn.Linear(784, 256)
            self.hidden = torch.nn.Linear(512, 512)
            self.out = torch.nn.Linear(512, 10)

        def forward(self, a, b):
            h = torch.cat([torch.relu(self.left(a)), torch.relu(self.right(b))], dim=1)
            return self.out(torch.relu(self.hidden(h)))

    return TwoTower()


def _torch_mlp(torch, sizes):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _torch_epoch(torch, model, xs, y, batch):
    """The hand-written loop (what the guide's train_step does, in PyTorch eager)."""
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    X = [torch.from_numpy(x) for x in xs]
    Y = torch.from_numpy(y.astype(np.int64))
    buffers = [torch.empty((batch, x.shape[1])) for x in X]
    yb = torch.empty(batch, dtype=torch.int64)
    generator = torch.Generator().manual_seed(0)
    n = Y.shape[0]

    def run():
        order = torch.randperm(n, generator=generator)
        loss = None
        for start in range(0, n - batch + 1, batch):
            index = order[start:start + batch]
            for src, dst in zip(X, buffers):
                torch.index_select(src, 0, index, out=dst)
            torch.index_select(Y, 0, index, out=yb)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(*buffers), yb)
            loss.backward()
            optimizer.step()
        return float(loss.detach())
    return run


# -- JAX ----------------------------------------------------------------------------------
def _jax_two_tower_epoch(jax, jnp, xs, y, batch):
    rng = np.random.default_rng(0)

    def dense(fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return (jnp.asarray(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)),
                jnp.zeros((fan_out,), jnp.float32))

    params = [dense(784, 256), dense(784, 256), dense(512, 512), dense(512, 10)]
    state = jax.tree_util.tree_map(jnp.zeros_like, params)

    def loss_fn(params, a, b, yb):
        (wl, bl), (wr, br), (wh, bh), (wo, bo) = params
        h = jnp.concatenate([jax.nn.relu(a @ wl + bl), jax.nn.relu(b @ wr + br)], axis=1)
        logits = jax.nn.relu(h @ wh + bh) @ wo + bo
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    @jax.jit
    def step(params, state, a, b, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, a, b, yb)
        state = jax.tree_util.tree_map(lambda m, g: 0.9 * m - LR * g, state, grads)
        params = jax.tree_util.tree_map(lambda p, m: p + m, params, state)
        return params, state, loss

    holder = {"params": params, "state": state}

    def run():
        order = rng.permutation(len(y))
        loss = None
        for start in range(0, len(y) - batch + 1, batch):
            index = order[start:start + batch]
            holder["params"], holder["state"], loss = step(
                holder["params"], holder["state"], xs[0][index], xs[1][index], y[index])
        return float(loss)
    return run


# -- measuring ----------------------------------------------------------------------------
def _time(run: Run, case: str, threads: int, makers: dict, batch: int, steps: int) -> None:
    if run.find(WORKLOAD, case, threads, next(iter(makers))):
        return
    timings = time_competitors(run, makers, threads, f"training on {case}", min_sample_s=0.0)
    record_timings(run, WORKLOAD, case, threads, timings, "samples/s",
                   value=lambda s: steps * batch / s)


def measure(run: Run, threads: int) -> None:
    rng = np.random.default_rng(0)
    torch = torch_or_none(run, "graph training")
    jax = jnp = None
    if run.settings.use_jax:
        jax, jnp, reason = jax_side.import_jax(run.settings.threads)
        if jax is not None and jax_side.thread_count() != threads:
            jax = None
    # Two towers.
    steps = _steps(run, 128)
    xs, y = _data(rng, steps * 128, (784, 784), 10)
    makers = {"pydl": lambda: _pydl_epoch(_pydl_two_tower(), xs, y, 128)}
    if torch is not None:
        makers["torch"] = lambda: _torch_epoch(torch, _torch_two_tower(torch), xs, y, 128)
    if jax is not None:
        makers["jax.jit"] = lambda: _jax_two_tower_epoch(jax, jnp, xs, y, 128)
    _time(run, TWO_TOWER, threads, makers, 128, steps)
    # The same layers, Sequential and Functional.
    (x,), y = _data(rng, steps * 128, (784,), 10)
    sizes = (784, 512, 256, 10)
    _time(run, SAME_LAYERS, threads, {
        "pydl Sequential": lambda: _pydl_epoch(_pydl_mlp(sizes, False), x, y, 128),
        "pydl Functional": lambda: _pydl_epoch(_pydl_mlp(sizes, True), x, y, 128)},
        128, steps)
    # The guide's custom train_step, on the tape.
    for case, (sizes, batch) in CUSTOM.items():
        steps = _steps(run, batch)
        (x,), y = _data(rng, steps * batch, (sizes[0],), sizes[-1])
        makers = {"pydl custom train_step": lambda: _pydl_epoch(_pydl_custom_step(sizes), x, y,
                                                                  batch)}
        if torch is not None:
            makers["torch"] = lambda: _torch_epoch(torch, _torch_mlp(torch, sizes), [x], y, batch)
        _time(run, f"custom train_step {case}", threads, makers, batch, steps)


def table(run: Run, threads: int) -> Table:
    rows = []
    cases = [(TWO_TOWER, "pydl", ("torch", "jax.jit"), ">= 1.2x torch and jax.jit"),
             (SAME_LAYERS, "pydl Functional", ("pydl Sequential",), ">= 0.97x Sequential")]
    cases += [(f"custom train_step {case}", "pydl custom train_step", ("torch",),
               ">= 1.0x torch eager") for case in CUSTOM]
    for case, subject, rivals, target in cases:
        names = present(run, WORKLOAD, [case], threads, (subject,) + rivals)
        if subject not in names:
            continue
        value = run.value(WORKLOAD, case, threads, subject)
        cells = [f"{r}: {fmt(run.value(WORKLOAD, case, threads, r))}" for r in rivals
                 if r in names]
        ratios = [f"{ratio(value, run.value(WORKLOAD, case, threads, r))} {r}" for r in rivals
                  if r in names]
        rows.append([case, f"{subject}: {fmt(value)}", "; ".join(cells) or "n/a",
                     "; ".join(ratios) or "n/a", target])
    notes = ["One timed sample = one epoch (shuffle, gather, a step per batch), SGD momentum "
             "0.9; medians of interleaved repeats.",
             "pydl's two-tower and Functional models train on the fused plan; the custom "
             "train_step runs on the GradientTape (it is the user's own code)."]
    return Table(f"Model graphs and custom steps, {threads} thread(s)",
                 ["case", "pydl samples/s", "others samples/s", "pydl / other", "target"],
                 rows, notes)


def run_workload(run: Run) -> None:
    per_thread_count(run, lambda threads: measure(run, threads),
                     lambda threads: table(run, threads))
