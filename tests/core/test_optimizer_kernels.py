"""Optimizer steps against their written Keras 3 update rules, over several steps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import num_threads
from pydl import _core

INF = math.inf


# ---------------------------------------------------------------------------
# The written rules (Keras 3 update_step + base optimizer), in float64.


def prepare(g, grad_scale, clip_value):
    return np.clip(g * grad_scale, -clip_value, clip_value)


def reference_step(kind, w, g, slots, hp, t):
    """One step in place on float64 arrays; slots is a dict of arrays."""
    lr = hp["lr"]
    g = prepare(g, hp.get("grad_scale", 1.0), hp.get("clip_value", INF))
    wd = hp.get("weight_decay", 0.0)
    if wd:
        w -= w * wd * lr
    if kind == "sgd":
        if "m" not in slots:
            w -= lr * g
            return
        m = slots["m"]
        m[...] = hp["momentum"] * m - lr * g
        w += hp["momentum"] * m - lr * g if hp.get("nesterov") else m
    elif kind == "adagrad":
        acc = slots["acc"]
        acc += g * g
        w -= lr * g / np.sqrt(acc + hp["epsilon"])
    elif kind == "rmsprop":
        rho, eps = hp["rho"], hp["epsilon"]
        v = slots["v"]
        v[...] = rho * v + (1 - rho) * g * g
        if hp["centered"]:
            mg = slots["mg"]
            mg[...] = rho * mg + (1 - rho) * g
            den = v - mg * mg + eps
        else:
            den = v + eps
        inc = lr * g / np.sqrt(den)
        if hp["momentum"] > 0:
            mom = slots["mom"]
            mom[...] = hp["momentum"] * mom + inc
            w -= mom
        else:
            w -= inc
    elif kind == "adam":
        b1, b2 = hp["beta_1"], hp["beta_2"]
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        m, v = slots["m"], slots["v"]
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        if "vhat" in slots:
            np.maximum(slots["vhat"], v, out=slots["vhat"])
            v = slots["vhat"]
        w -= alpha * m / (np.sqrt(v) + hp["epsilon"])
    else:
        raise AssertionError(kind)


SLOTS = {"sgd": ("m",), "adagrad": ("acc",), "rmsprop": ("v", "mom", "mg"), "adam": ("m", "v", "vhat")}
COMMON = {"grad_scale", "clip_value", "weight_decay"}

# (kind, slots used, hyper-parameters). Transforms mixed in so each appears
# with several rules.
CONFIGS = [
    ("sgd", (), dict(lr=0.1)),
    ("sgd", ("m",), dict(lr=0.05, momentum=0.9)),
    ("sgd", ("m",), dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd", (), dict(lr=0.1, clip_value=0.3, grad_scale=0.5)),
    ("adagrad", ("acc",), dict(lr=0.1, epsilon=1e-7)),
    ("adagrad", ("acc",), dict(lr=0.1, epsilon=1e-3, clip_value=0.5, weight_decay=0.1)),
    ("rmsprop", ("v",), dict(lr=0.01, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)),
    ("rmsprop", ("v", "mg"), dict(lr=0.01, rho=0.8, momentum=0.0, epsilon=1e-7, centered=True)),
    ("rmsprop", ("v", "mom"), dict(lr=0.01, rho=0.9, momentum=0.5, epsilon=1e-7, centered=False,
                                   grad_scale=0.7)),
    ("rmsprop", ("v", "mom", "mg"), dict(lr=0.01, rho=0.9, momentum=0.9, epsilon=1e-6, centered=True)),
    ("adam", ("m", "v"), dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7)),
    ("adam", ("m", "v", "vhat"), dict(lr=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-7)),
    ("adam", ("m", "v"), dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.004,
                              clip_value=1.0, grad_scale=0.25)),  # AdamW with clipping
]


def config_id(config):
    kind, slots, hp = config
    return "-".join([kind, *slots, *(f"{k}={v}" for k, v in sorted(hp.items()))])


def core_step(kind, w, g, slots, hp, t):
    fn = getattr(_core, f"{kind}_step")
    kwargs = dict(hp)
    if kind == "adam":
        kwargs["step"] = t
    return fn(w, g, **slots, **kwargs)


def initial_slots(kind, names, shape, dtype, rng):
    init = {"acc": 0.1, "vhat": 0.0}  # Keras' adagrad initial_accumulator_value
    slots = {}
    for name in names:
        if name in ("v", "acc", "vhat"):
            slots[name] = np.full(shape, init.get(name, 0.0)) + rng.uniform(0, 0.01, size=shape)
        else:
            slots[name] = rng.normal(scale=0.01, size=shape)
    return {k: v.astype(dtype) for k, v in slots.items()}


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_written_rule_over_steps(isa, rng, config, dtype):
    kind, names, hp = config
    for shape in [(1,), (7,), (17, 3), (1000,)]:
        w = rng.normal(size=shape).astype(dtype)
        slots = initial_slots(kind, names, shape, dtype, rng)
        w_ref = w.astype(np.float64)
        slots_ref = {k: v.astype(np.float64) for k, v in slots.items()}
        for t in range(1, 6):
            g = rng.normal(size=shape).astype(dtype)
            g_before = g.copy()
            core_step(kind, w, g, slots, hp, t)
            reference_step(kind, w_ref, g.astype(np.float64), slots_ref, hp, t)
            np.testing.assert_array_equal(g, g_before)  # g is never modified
        rtol, atol = (1e-12, 1e-14) if dtype == np.float64 else (2e-5, 1e-6)
        assert w.dtype == dtype
        np.testing.assert_allclose(w, w_ref, rtol=rtol, atol=atol)
        for name in names:
            np.testing.assert_allclose(slots[name], slots_ref[name], rtol=rtol, atol=atol, err_msg=name)


def test_keras_docstring_example_rmsprop():
    # keras.optimizers.RMSprop(learning_rate=0.1) on loss var**2/2 from var=10 -> 9.683772
    w = np.array([10.0], np.float32)
    v = np.zeros(1, np.float32)
    _core.rmsprop_step(w, w.copy(), v, lr=0.1, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)
    assert w[0] == pytest.approx(9.683772, abs=1e-6)


def test_clip_value_and_grad_scale_only_change_the_gradient():
    w = np.zeros(4)
    g = np.array([-3.0, -0.1, 0.1, 3.0])
    _core.sgd_step(w, g, lr=1.0, grad_scale=2.0, clip_value=1.0)
    np.testing.assert_array_equal(w, [1.0, 0.2, -0.2, -1.0])


def test_weight_decay_is_decoupled_and_applied_first():
    w = np.array([2.0, -4.0])
    _core.sgd_step(w, np.zeros(2), lr=0.5, weight_decay=0.1)
    np.testing.assert_array_equal(w, [2.0 - 2.0 * 0.1 * 0.5, -4.0 + 4.0 * 0.1 * 0.5])


def test_nan_gradient_propagates_without_crashing():
    w = np.ones(3, np.float32)
    m, v = np.zeros(3, np.float32), np.zeros(3, np.float32)
    g = np.array([np.nan, 1.0, 1.0], np.float32)
    _core.adam_step(w, g, m, v, lr=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=1,
                    clip_value=0.5)
    assert np.isnan(w[0]) and np.all(np.isfinite(w[1:]))


@pytest.mark.parametrize("config", [CONFIGS[2], CONFIGS[9], CONFIGS[11]], ids=config_id)
def test_same_bits_at_one_and_two_threads(rng, config):
    kind, names, hp = config
    shape = (300_001,)
    w0 = rng.normal(size=shape).astype(np.float32)
    g = rng.normal(size=shape).astype(np.float32)
    slots0 = initial_slots(kind, names, shape, np.float32, rng)
    results = []
    for n in (1, 2):
        w = w0.copy()
        slots = {k: v.copy() for k, v in slots0.items()}
        with num_threads(n):
            for t in (1, 2):
                core_step(kind, w, g, slots, hp, t)
        results.append((w, slots))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for name in names:
        np.testing.assert_array_equal(results[0][1][name], results[1][1][name])


# ---------------------------------------------------------------------------
# sum_of_squares and global_norm.


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 7, 17, 1000, 300_001])
def test_sum_of_squares_matches_numpy(rng, dtype, n):
    x = rng.normal(size=n).astype(dtype)
    expected = np.sum(x.astype(np.float64) ** 2)
    assert _core.sum_of_squares(x) == pytest.approx(expected, rel=1e-13, abs=0.0)


def test_sum_of_squares_same_bits_at_one_and_two_threads(rng):
    x = rng.normal(size=(1000, 1001)).astype(np.float32)
    with num_threads(1):
        one = _core.sum_of_squares(x)
    with num_threads(2):
        two = _core.sum_of_squares(x)
    assert one == two


def test_global_norm(rng):
    arrays = [rng.normal(size=s).astype(np.float32) for s in [(3, 4), (4,), (1,), (0,)]]
    arrays.append(rng.normal(size=(5, 2)))  # float64 mixed in
    expected = math.sqrt(sum(np.sum(a.astype(np.float64) ** 2) for a in arrays))
    assert _core.global_norm(arrays) == pytest.approx(expected, rel=1e-13)
    assert _core.global_norm([]) == 0.0
    with pytest.raises(TypeError, match=r"arrays\[1\].*float32 or float64"):
        _core.global_norm([arrays[0], np.zeros(3, np.int32)])


# ---------------------------------------------------------------------------
# Bad inputs name the argument.


def _adam(**overrides):
    args = dict(w=np.zeros(3), g=np.zeros(3), m=np.zeros(3), v=np.zeros(3))
    args.update(overrides)
    return lambda: _core.adam_step(**args, lr=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=1)


def _readonly(shape):
    a = np.zeros(shape)
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("call,error,pattern", [
    (_adam(w=np.zeros(3, np.int32)), TypeError, "w: expected dtype float32 or float64"),
    (_adam(g=np.zeros(3, np.float32)), TypeError, "g: expected dtype float64"),
    (_adam(m=np.zeros(4)), ValueError, r"m: expected shape \(3,\)"),
    (_adam(v=np.zeros(6)[::2]), ValueError, "v: expected a C-contiguous"),
    (_adam(w=_readonly(3)), ValueError, "w: expected a writeable"),
    (_adam(vhat=_readonly(3)), ValueError, "vhat: expected a writeable"),
    (_adam(m=None), ValueError, "m: expected an array"),
    (_adam(g=[0.0, 0.0, 0.0]), TypeError, "g: expected a numpy.ndarray"),
    (lambda: _core.adam_step(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), lr=0.1, beta_1=0.9,
                             beta_2=0.999, epsilon=1e-7, step=0), ValueError, "step"),
    (lambda: _core.sgd_step(np.zeros(3), np.zeros(3), lr=0.1, momentum=0.9), ValueError, "m: expected an array"),
    (lambda: _core.sgd_step(np.zeros(3), np.zeros(3), lr=0.1, clip_value=0.0), ValueError, "clip_value"),
    (lambda: _core.rmsprop_step(np.zeros(3), np.zeros(3), np.zeros(3), lr=0.1, rho=0.9, momentum=0.0,
                                epsilon=1e-7, centered=True), ValueError, "mg: expected an array"),
    (lambda: _core.rmsprop_step(np.zeros(3), np.zeros(3), np.zeros(3), lr=0.1, rho=0.9, momentum=0.5,
                                epsilon=1e-7, centered=False), ValueError, "mom: expected an array"),
    (lambda: _core.adagrad_step(np.zeros(3), np.zeros(3), None, lr=0.1, epsilon=1e-7), ValueError, "acc"),
])
def test_bad_inputs(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_arrays_must_not_share_memory():
    w = np.zeros(3)
    with pytest.raises(ValueError, match="w and m"):
        _core.sgd_step(w, np.zeros(3), w, lr=0.1, momentum=0.9)
    buf = np.zeros(6)
    with pytest.raises(ValueError, match="m and v"):
        _core.adam_step(np.zeros(3), np.zeros(3), buf[:3], buf[:3], lr=0.1, beta_1=0.9, beta_2=0.999,
                        epsilon=1e-7, step=1)


# ---------------------------------------------------------------------------
# An independent implementation: torch.optim (optional). Epsilon sits in a
# different place in torch (outside the square root, or unscaled by the bias
# correction), so it is made negligible; momentum conventions differ by the
# factor lr, which cancels for a constant learning rate.

TORCH_CASES = [
    ("sgd", dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9)),
    ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("adagrad", dict(lr=0.1, epsilon=1e-14), dict(lr=0.1, eps=1e-14, initial_accumulator_value=0.1)),
    ("rmsprop", dict(lr=0.01, rho=0.9, momentum=0.5, epsilon=1e-14, centered=True),
     dict(lr=0.01, alpha=0.9, momentum=0.5, eps=1e-14, centered=True)),
    ("adam", dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-14),
     dict(lr=0.01, betas=(0.9, 0.999), eps=1e-14)),
    ("adam", dict(lr=0.01, beta_1=0.9, beta_2=0.99, epsilon=1e-14),
     dict(lr=0.01, betas=(0.9, 0.99), eps=1e-14, amsgrad=True)),
    ("adamw", dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-14, weight_decay=0.05),
     dict(lr=0.01, betas=(0.9, 0.999), eps=1e-14, weight_decay=0.05)),
]


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[2].values()))}")
def test_matches_torch_optim(rng, case):
    torch = pytest.importorskip("torch")
    kind, ours, theirs = case
    shape = (13, 5)
    w = rng.normal(size=shape)
    param = torch.nn.Parameter(torch.tensor(w.copy()))
    optimizer_class = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad,
                       "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
                       "adamw": torch.optim.AdamW}[kind]
    optimizer = optimizer_class([param], **theirs)
    if kind == "adamw":
        kind = "adam"
    names = {"sgd": ("m",), "adagrad": ("acc",), "rmsprop": ("v", "mom", "mg"),
             "adam": ("m", "v", "vhat") if theirs.get("amsgrad") else ("m", "v")}[kind]
    slots = {name: np.full(shape, 0.1 if name == "acc" else 0.0) for name in names}
    for t in range(1, 7):
        g = rng.normal(size=shape)
        core_step(kind, w, g, slots, ours, t)
        param.grad = torch.tensor(g)
        optimizer.step()
    np.testing.assert_allclose(w, param.detach().numpy(), rtol=1e-9, atol=1e-12)
