"""_core.plan.Plan on a chain of layers against the GradientTape path, bit for bit, and
against float64 math."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import _core, optimizers

from conftest import num_threads
from .tape_reference import tape_steps


def make_layers(rng, in_features, layers):
    """Plan layer tuples with fresh float32 weights: ('dense', units, act[, use_bias]) or
    ('activation', act, alpha)."""
    out, features = [], in_features
    for spec in layers:
        if spec[0] == "dense":
            units, act = spec[1], spec[2]
            use_bias = spec[3] if len(spec) > 3 else True
            w = (rng.standard_normal((features, units)) / np.sqrt(features)).astype(np.float32)
            b = (0.1 * rng.standard_normal(units)).astype(np.float32) if use_bias else None
            alpha = {"leaky_relu": 0.2, "elu": 1.0}.get(act, 0.0)
            out.append(("dense", w, b, act, alpha))
            features = units
        else:
            out.append(spec)
    return out


def weights_of(layers):
    arrays = []
    for spec in layers:
        if spec[0] == "dense":
            arrays.append(spec[1])
            if spec[2] is not None:
                arrays.append(spec[2])
    return arrays


def copy_layers(layers):
    return [(s[0], s[1].copy(), None if s[2] is None else s[2].copy(), s[3], s[4])
            if s[0] == "dense" else s for s in layers]


class ChainPlan:
    """A _core.plan.Plan over a chain of layer tuples (one input, one loss head)."""

    def __init__(self, core, out_features, sparse):
        self.core, self.output_features, self.sparse = core, out_features, sparse

    @property
    def fused_loss(self):
        return self.core.head_fused(0)


def build_plan(layers, optimizer, loss, max_batch, in_features, from_logits=False, delta=1.0):
    variables = [pydl.Variable(a) for a in weights_of(layers)]
    optimizer.build(variables)
    # The plan works on the Variables' own arrays.
    it = iter(range(len(variables)))
    calls, features = [], in_features
    for k, s in enumerate(layers):
        if s[0] == "dense":
            w = next(it)
            b = next(it) if s[2] is not None else None
            node = _core.plan.Dense(variables[w].value,
                                    None if b is None else variables[b].value, s[3], s[4])
            calls.append(_core.plan.Call(node, [k], [w] + ([] if b is None else [b])))
            features = s[1].shape[1]
        else:
            calls.append(_core.plan.Call(_core.plan.Activation(s[1], s[2]), [k], []))
    tensors = [_core.plan.TrainableTensor(v.value, optimizer._core_slots[i],
                                          weight_decay=optimizer._decay_for(v))
               for i, v in enumerate(variables)]
    head = _core.plan.LossHead(len(layers), loss, from_logits=from_logits, delta=delta)
    core = _core.plan.Plan([[in_features]], calls, [head], tensors, [],
                           optimizer._update_rule(), max_batch)
    return ChainPlan(core, features, loss == "sparse_categorical_crossentropy"), variables


def run_plan(plan, optimizer, x, y, indices, batch, steps, first=0, sample_weight=None,
             outputs=True):
    lr = np.array([optimizer.learning_rate] * steps, np.float64)
    if callable(optimizer._learning_rate):
        lr = np.array([optimizer._learning_rate(optimizer.iterations + j) for j in range(steps)])
    losses = np.empty((steps, 2), np.float32)
    rows = min(len(indices), first + steps * batch) - first
    predictions = np.empty((rows, plan.output_features), np.float32) if outputs else None
    plan.core.run([x], [y], [sample_weight], indices, first, batch, steps, lr,
                  optimizer.iterations, losses, [predictions], [])
    optimizer.iterations += steps
    np.testing.assert_array_equal(losses[:, 0], losses[:, 1])  # one head, weight 1
    return losses[:, 0].copy(), predictions


def targets(rng, loss, n, out):
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, out, n).astype(np.int64)
    if loss == "categorical_crossentropy":
        return np.eye(out, dtype=np.float32)[rng.integers(0, out, n)]
    if loss == "binary_crossentropy":
        return (rng.random((n, out)) < 0.5).astype(np.float32)
    return rng.standard_normal((n, out)).astype(np.float32)


CASES = {
    "sgd-momentum-relu-softmax-sparse": (
        [("dense", 13, "relu"), ("dense", 5, "softmax")],
        "sparse_categorical_crossentropy", lambda: optimizers.SGD(0.1, momentum=0.9), {}),
    "adam-tanh-activation-softmax-categorical": (
        [("dense", 11, "tanh"), ("dense", 4, "linear"), ("activation", "softmax", 0.0)],
        "categorical_crossentropy", lambda: optimizers.Adam(0.01), {}),
    "rmsprop-centered-sigmoid-bce-weighted": (
        [("dense", 9, "selu"), ("dense", 3, "sigmoid")], "binary_crossentropy",
        lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True), {"weighted": True}),
    "adagrad-gelu-mse": (
        [("dense", 10, "gelu"), ("dense", 2, "linear")], "mse",
        lambda: optimizers.Adagrad(0.05), {}),
    "sgd-nesterov-clipnorm-elu-huber": (
        [("dense", 8, "elu"), ("dense", 3, "linear")], "huber",
        lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True, clipnorm=0.5),
        {"delta": 0.7}),
    "adamw-amsgrad-globalclip-leaky-softmax-mse": (
        [("dense", 12, "leaky_relu", False), ("activation", "silu", 0.0), ("dense", 4, "softmax")],
        "mse", lambda: optimizers.AdamW(0.01, amsgrad=True, global_clipnorm=0.3), {}),
    "rmsprop-clipvalue-softplus-mae": (
        [("dense", 6, "softplus"), ("dense", 2, "linear")], "mae",
        lambda: optimizers.RMSprop(0.01, clipvalue=0.01), {}),
    "sgd-schedule-logits-sparse": (
        [("dense", 7, "relu"), ("dense", 4, "linear")], "sparse_categorical_crossentropy",
        lambda: optimizers.SGD(optimizers.schedules.ExponentialDecay(0.1, 3, 0.5)),
        {"from_logits": True}),
    "adam-sigmoid-activation-bce": (
        [("dense", 5, "linear"), ("activation", "relu", 0.0), ("dense", 1, "linear"),
         ("activation", "sigmoid", 0.0)], "binary_crossentropy",
        lambda: optimizers.Adam(0.02, weight_decay=0.01), {}),
}


def case_problem(case, seed):
    """(layers, x, y, sample_weight, loss options, shuffled indices) of a CASES entry:
    45 samples of 6 features, so batches of 8 leave a last one of 5 rows."""
    spec, loss, _, opts = CASES[case]
    rng = np.random.default_rng(seed)
    n, in_features = 45, 6
    layers = make_layers(rng, in_features, spec)
    out = [s for s in layers if s[0] == "dense"][-1][1].shape[1]
    x = rng.standard_normal((n, in_features)).astype(np.float32)
    y = targets(rng, loss, n, out)
    sw = rng.random(n).astype(np.float32) if opts.get("weighted") else None
    extra = {k: v for k, v in opts.items() if k in ("from_logits", "delta")}
    return layers, x, y, sw, extra, rng.permutation(n).astype(np.int64)


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_matches_tape_bitwise(case, isa):
    spec, loss, make_opt, opts = CASES[case]
    layers, x, y, sw, extra, indices = case_problem(case, 7)
    in_features, batch, steps = x.shape[1], 8, 6

    tape_vars = [pydl.Variable(a) for a in weights_of(layers)]
    tape_opt = make_opt()
    tape_losses, tape_pred = tape_steps(layers, tape_vars, tape_opt, loss, x, y, indices, batch,
                                        steps, sample_weight=sw, **extra)

    plan_opt = make_opt()
    core, plan_vars = build_plan(copy_layers(layers), plan_opt, loss, batch, in_features, **extra)
    # Two calls of 4 and 2 steps: the execution size must not matter.
    l1, p1 = run_plan(core, plan_opt, x, y, indices, batch, 4, 0, sw)
    l2, p2 = run_plan(core, plan_opt, x, y, indices, batch, 2, 32, sw)

    np.testing.assert_array_equal(np.concatenate([l1, l2]), tape_losses)
    np.testing.assert_array_equal(np.concatenate([p1, p2]), tape_pred)
    for a, b in zip(plan_vars, tape_vars):
        np.testing.assert_array_equal(a.value, b.value)
    for a, b in zip(plan_opt.variables, tape_opt.variables):
        np.testing.assert_array_equal(a, b)
    assert core.fused_loss == (loss.endswith("crossentropy") and not extra.get("from_logits")
                               and spec[-1][2 if spec[-1][0] == "dense" else 1]
                               in ("softmax", "sigmoid"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_not_requested_change_no_bit(case):
    """Without `predictions` the plan skips a fused loss's final softmax / sigmoid; the
    losses and every weight and slot stay bitwise those of a run that returns outputs."""
    _, loss, make_opt, _ = CASES[case]
    layers, x, y, sw, extra, indices = case_problem(case, 11)
    in_features, batch = x.shape[1], 8
    runs = []
    for outputs in (True, False):
        opt = make_opt()
        core, variables = build_plan(copy_layers(layers), opt, loss, batch, in_features, **extra)
        losses, _ = run_plan(core, opt, x, y, indices, batch, 6, 0, sw, outputs=outputs)
        runs.append((losses, [v.value.copy() for v in variables], [a.copy() for a in opt.variables]))
    (l1, w1, s1), (l2, w2, s2) = runs
    np.testing.assert_array_equal(l1, l2)
    for a, b in zip(w1 + s1, w2 + s2):
        np.testing.assert_array_equal(a, b)


def test_plan_same_bits_at_1_and_2_threads():
    rng = np.random.default_rng(3)
    n, batch = 200, 64
    layers = make_layers(rng, 300, [("dense", 256, "relu"), ("dense", 10, "softmax")])
    x = rng.standard_normal((n, 300)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    indices = rng.permutation(n).astype(np.int64)
    results = []
    for threads in (1, 2):
        opt = optimizers.Adam(0.01)
        core, variables = build_plan(copy_layers(layers), opt, "sparse_categorical_crossentropy",
                                     batch, 300)
        with num_threads(threads):
            losses, _ = run_plan(core, opt, x, y, indices, batch, 4)
        results.append((losses, [v.value.copy() for v in variables]))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_one_sgd_step_matches_float64_math():
    """Plain SGD, relu + softmax + sparse cross-entropy: the update written out in NumPy."""
    rng = np.random.default_rng(11)
    n, d, h, c = 16, 5, 7, 3
    layers = make_layers(rng, d, [("dense", h, "relu"), ("dense", c, "softmax")])
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, c, n).astype(np.int64)
    w1, b1, w2, b2 = (a.astype(np.float64) for a in weights_of(layers))
    z1 = x @ w1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ w2 + b2
    p = np.exp(z2 - z2.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    dz2 = (p - np.eye(c)[y]) / n
    dw2, db2 = a1.T @ dz2, dz2.sum(0)
    dz1 = (dz2 @ w2.T) * (z1 > 0)
    dw1, db1 = x.T @ dz1, dz1.sum(0)
    lr = 0.5
    expected = [w1 - lr * dw1, b1 - lr * db1, w2 - lr * dw2, b2 - lr * db2]

    opt = optimizers.SGD(lr)
    core, variables = build_plan(copy_layers(layers), opt, "sparse_categorical_crossentropy", n, d)
    losses, _ = run_plan(core, opt, x, y, np.arange(n, dtype=np.int64), n, 1)
    assert losses[0] == pytest.approx(loss, rel=1e-5)
    for v, e in zip(variables, expected):
        np.testing.assert_allclose(v.value, e, rtol=1e-5, atol=1e-6)


def test_plan_learns_xor():
    rng = np.random.default_rng(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    layers = make_layers(rng, 2, [("dense", 8, "tanh"), ("dense", 1, "sigmoid")])
    opt = optimizers.Adam(0.05)
    core, variables = build_plan(layers, opt, "binary_crossentropy", 4, 2)
    indices = np.tile(np.arange(4, dtype=np.int64), 1)
    for _ in range(300):
        losses, pred = run_plan(core, opt, x, y, indices, 4, 1)
    assert losses[-1] < 0.05
    np.testing.assert_array_equal(pred > 0.5, y > 0.5)


# -- argument checks ---------------------------------------------------------------------
@pytest.fixture
def small_plan():
    rng = np.random.default_rng(1)
    layers = make_layers(rng, 4, [("dense", 3, "relu"), ("dense", 2, "softmax")])
    opt = optimizers.SGD(0.1)
    plan, variables = build_plan(layers, opt, "sparse_categorical_crossentropy", 8, 4)
    x = rng.standard_normal((10, 4)).astype(np.float32)
    y = rng.integers(0, 2, 10).astype(np.int64)
    return plan.core, x, y


def _run(core, x, y, indices=None, first=0, batch=4, steps=1, lr=None, losses=None,
         sample_weight=None, predictions=None):
    indices = np.arange(len(x), dtype=np.int64) if indices is None else indices
    lr = np.full(steps, 0.1) if lr is None else lr
    losses = np.empty((steps, 2), np.float32) if losses is None else losses
    core.run([x], [y], [sample_weight], indices, first, batch, steps, lr, 0, losses,
             [predictions], [])


def test_run_rejects_bad_arguments(small_plan):
    core, x, y = small_plan
    with pytest.raises(TypeError, match=r"inputs\[0\]: expected dtype float32"):
        _run(core, x.astype(np.float64), y)
    with pytest.raises(ValueError, match=r"inputs\[0\]: expected N samples of 4 values"):
        _run(core, x[:, :3].copy(), y)
    with pytest.raises(ValueError, match=r"targets\[0\]: expected class indices for 10 samples"):
        _run(core, x, y[:5])
    with pytest.raises(TypeError, match=r"targets\[0\]: expected int32 or int64"):
        _run(core, x, y.astype(np.float32))
    with pytest.raises(ValueError, match=r"targets\[0\]: expected class indices in \[0, 2\)"):
        _run(core, x, np.full(10, 2, np.int64))
    with pytest.raises(ValueError, match=r"indices: expected sample positions in \[0, 10\)"):
        _run(core, x, y, indices=np.array([0, 1, 10, 2], np.int64))
    with pytest.raises(ValueError, match=r"batch_size: expected an int in \[1, 8\]"):
        _run(core, x, y, batch=9)
    with pytest.raises(ValueError, match="first: expected every one of the 3 steps"):
        _run(core, x, y, steps=3, batch=4, first=2)
    with pytest.raises(ValueError, match="learning_rates: expected shape"):
        _run(core, x, y, lr=np.full(2, 0.1))
    with pytest.raises(ValueError, match=r"predictions\[0\]: expected shape"):
        _run(core, x, y, predictions=np.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"sample_weights\[0\]: expected shape"):
        _run(core, x, y, sample_weight=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="losses: expected shape"):
        _run(core, x, y, losses=np.empty((1, 1), np.float32))


def _plan(calls, tensors, rule=None, heads=None, inputs=([4],)):
    rule = rule or _core.UpdateRule("sgd")
    heads = heads if heads is not None else [_core.plan.LossHead(len(calls), "mse")]
    return _core.plan.Plan([list(s) for s in inputs], calls, heads, tensors, [], rule, 4)


def test_constructor_rejects_bad_graphs():
    w = np.zeros((4, 3), np.float32)
    b = np.zeros(3, np.float32)
    dense = _core.plan.Dense(w, b, "relu")
    with pytest.raises(ValueError, match=r"Dense\(4 -> 3\) expects one input whose last axis has 4"):
        _plan([_core.plan.Call(dense, [0], [-1, -1])], [], inputs=([5],))
    with pytest.raises(ValueError, match="activation: expected one of"):
        _core.plan.Dense(w, None, "nope")
    with pytest.raises(ValueError, match="reads value 1, which is not written before it"):
        _plan([_core.plan.Call(dense, [1], [-1, -1])], [])
    with pytest.raises(ValueError, match="has 2 tensors, received 1 indices"):
        _plan([_core.plan.Call(dense, [0], [0])], [])
    with pytest.raises(ValueError, match="is not trainable tensor 0"):
        other = np.zeros((4, 3), np.float32)
        _plan([_core.plan.Call(dense, [0], [0, -1])],
              [_core.plan.TrainableTensor(other, (None, None, None))])
    with pytest.raises(ValueError, match=r"slots\[0\]: expected the optimizer slot array"):
        _plan([_core.plan.Call(dense, [0], [0, -1])],
              [_core.plan.TrainableTensor(w, (None, None, None))], rule=_core.UpdateRule("adam"))
    with pytest.raises(ValueError, match="kind: expected one of"):
        _core.plan.LossHead(1, "nope")
    with pytest.raises(ValueError, match="share memory|overlap"):
        _plan([_core.plan.Call(dense, [0], [0, -1])],
              [_core.plan.TrainableTensor(w, (w, None, None))],
              rule=_core.UpdateRule("sgd", momentum=0.9))
    with pytest.raises(ValueError, match="two losses read the same value"):
        _plan([_core.plan.Call(dense, [0], [-1, -1])], [],
              heads=[_core.plan.LossHead(1, "mse"), _core.plan.LossHead(1, "mae")])
    with pytest.raises(ValueError, match="at least one loss"):
        _plan([_core.plan.Call(dense, [0], [-1, -1])], [], heads=[])
