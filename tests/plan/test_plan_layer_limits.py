"""What the second milestone's plan nodes rely on and where they stop: token values
checked before a step (a bad one leaves fit to the tape, which raises its error), the
noise streams' chunk invariance, the layers that take the tape and why, and the node
specs' argument checks."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import _core, layers
from pydl.models import plan as _plan

from .test_fit_plan import fit_both, mlp


# -- tokens: checked on the model input before any step -------------------------------------
def _token_model(kind):
    if kind == "embedding":
        spec = [lambda: layers.Embedding(20, 3), lambda: layers.GlobalAveragePooling1D(),
                lambda: layers.Dense(1)]
    else:
        spec = [lambda: layers.CategoryEncoding(20), lambda: layers.Dense(1)]
    return mlp(spec, (6,))


def _fit(kind, x, y, use_plan, **kw):
    model = _token_model(kind)
    model.compile(optimizer="sgd", loss="mse")
    pydl.utils.set_random_seed(3)
    error = None
    try:
        if use_plan:
            model.fit(x, y, batch_size=8, epochs=1, verbose=0, **kw)
        else:
            with _plan.disabled():
                model.fit(x, y, batch_size=8, epochs=1, verbose=0, **kw)
    except ValueError as exc:
        error = str(exc)
    return model, error


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")  # the tape's astype
@pytest.mark.parametrize("kind", ["embedding", "category_encoding"])
@pytest.mark.parametrize("bad", [20.0, -1.0, 1e30, np.nan])
def test_a_token_out_of_range_raises_the_tapes_error_before_any_plan_step(kind, bad, rng):
    x = rng.integers(0, 20, (40, 6)).astype(np.float32)
    x[29, 4] = bad  # in the fourth batch (no shuffle): three tape steps run first
    y = rng.standard_normal((40, 1)).astype(np.float32)
    model, error = _fit(kind, x, y, True, shuffle=False, check_finite=False)
    tape, tape_error = _fit(kind, x, y, False, shuffle=False, check_finite=False)
    assert model._trained_on == "tape"
    assert error is not None and error == tape_error
    assert "position" in error
    for a, b in zip(model.get_weights(), tape.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["embedding", "category_encoding"])
def test_streamed_batches_are_checked_before_the_plan_reads_them(kind, rng):
    """A generator's batch with a bad token is not handed to the plan's runner (rebind
    checks it too): the tape reads it and raises, after the earlier batches trained
    exactly as on the tape."""
    x = rng.integers(0, 20, (32, 6)).astype(np.float32)
    x[27, 1] = 25.0  # in the fourth batch of 8
    y = rng.standard_normal((32, 1)).astype(np.float32)

    def batches():
        for start in range(0, 32, 8):
            yield x[start:start + 8], y[start:start + 8]

    runs = []
    for use_plan in (True, False):
        model = _token_model(kind)
        model.compile(optimizer="sgd", loss="mse")
        with (_NoContext() if use_plan else _plan.disabled()):
            with pytest.raises(ValueError, match="25") as info:
                model.fit(batches(), epochs=1, verbose=0)
        runs.append((model, str(info.value)))
    assert runs[0][1] == runs[1][1]
    for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["embedding", "category_encoding"])
def test_token_values_truncate_as_the_tape_does(kind, rng):
    """-0.9 and 19.9 truncate to 0 and 19 (NumPy's astype): in range on both paths."""
    x = rng.integers(0, 20, (40, 6)).astype(np.float32)
    x[0, :3] = [-0.9, 19.9, 4.5]
    y = rng.standard_normal((40, 1)).astype(np.float32)
    (pm, ph), (tm, th) = fit_both(lambda: _token_model(kind),
                                  lambda: dict(optimizer="adam", loss="mse"), x, y,
                                  batch_size=8, epochs=1)
    assert pm._trained_on == "plan" and ph == th
    for a, b in zip(pm.get_weights(), tm.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_values_are_indices():
    from pydl.ops.embedding import values_are_indices

    ok = np.array([[-0.99, 0.0, 4.99]], np.float32)
    assert values_are_indices(ok, 5)
    assert values_are_indices(np.empty((0, 3), np.float32), 5)
    for bad in (-1.0, 5.0, np.nan, np.inf):
        assert not values_are_indices(np.array([1.0, bad], np.float32), 5)


# -- the noise streams -----------------------------------------------------------------------
@pytest.mark.parametrize("rows_a, rows_b, features", [(1, 1, 1), (3, 4, 5), (7, 2, 13),
                                                      (16, 13, 3)])
@pytest.mark.parametrize("loc, scale", [(0.0, 0.3), (1.0, 0.5)])
def test_float64_normal_stream_does_not_depend_on_chunking(rows_a, rows_b, features, loc, scale):
    """NumPy's Generator.normal draws one value after the other (the ziggurat takes
    whole 64-bit words, no cached pair): the noise of a plan call is the tape's per
    step noise, and the generator ends in the same state."""
    for seed in (0, 7):
        steps = np.random.default_rng(seed)
        per_step = [steps.normal(loc, scale, size=(rows_a, features)),
                    steps.normal(loc, scale, size=(rows_b, features))]
        at_once_gen = np.random.default_rng(seed)
        at_once = at_once_gen.normal(loc, scale, size=(rows_a + rows_b, features))
        np.testing.assert_array_equal(np.concatenate(per_step), at_once)
        assert steps.bit_generator.state == at_once_gen.bit_generator.state


# -- layers that take the tape, and why -------------------------------------------------------
def _masked_bn():
    return [lambda: layers.Embedding(20, 4, mask_zero=True), lambda: layers.BatchNormalization(),
            lambda: layers.GlobalAveragePooling1D(), lambda: layers.Dense(1)], (6,), "tokens"


REFUSED = {
    "unit-normalization-of-a-middle-axis": ([lambda: layers.UnitNormalization(axis=1),
                                             lambda: layers.Flatten(), lambda: layers.Dense(1)],
                                            (3, 6), "normal", "not the last sample axes"),
    "embedding-of-computed-values": ([lambda: layers.Rescaling(1.0),
                                      lambda: layers.Embedding(20, 4),
                                      lambda: layers.Flatten(), lambda: layers.Dense(1)],
                                     (6,), "tokens", "reads values computed by a layer"),
    "batchnorm-with-a-mask": _masked_bn() + ("receives a mask",),
    "masked-channels-first-average": ([lambda: layers.Embedding(20, 6, mask_zero=True),
                                       lambda: layers.GlobalAveragePooling1D(
                                           data_format="channels_first"),
                                       lambda: layers.Dense(1)], (6,), "tokens",
                                      "a mask over channels_first steps"),
    "alpha-dropout-noise-shape": ([lambda: layers.Dense(4), lambda: layers.AlphaDropout(
        0.2, noise_shape=(None, 1)), lambda: layers.Dense(1)], (6,), "normal", "noise_shape"),
    "batchnorm-constraint": ([lambda: layers.Dense(4), lambda: layers.BatchNormalization(
        gamma_constraint=lambda w: w), lambda: layers.Dense(1)], (6,), "normal",
        "has a constraint"),
    "layernorm-of-a-middle-axis": ([lambda: layers.LayerNormalization(axis=1),
                                    lambda: layers.Flatten(),
                                    lambda: layers.Dense(1)], (3, 6), "normal",
                                   "not the last sample axes"),
    "normalization-split-axes": ([lambda: layers.Normalization(axis=(1, 3), mean=0.5, variance=2.0),
                                  lambda: layers.Flatten(), lambda: layers.Dense(1)], (2, 3, 2),
                                 "normal", "not one run of sample axes"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_layers_say_why_and_train_on_the_tape(case, rng):
    spec, shape, kind, reason = REFUSED[case]
    if kind == "tokens":
        x = rng.integers(0, 20, (40,) + shape).astype(np.float32)
        x[:, 4:] = 0
    else:
        x = rng.standard_normal((40,) + shape).astype(np.float32)
    y = rng.standard_normal((40, 1)).astype(np.float32)
    model = mlp(spec, shape)
    model.compile(optimizer=pydl.optimizers.Adam(0.01), loss="mse")
    assert reason in _plan.plan_reason(model)
    (pm, ph), (tm, th) = fit_both(lambda: mlp(spec, shape),
                                  lambda: dict(optimizer=pydl.optimizers.Adam(0.01), loss="mse"),
                                  x, y, batch_size=8, epochs=4)
    assert pm._trained_on == "tape" and ph == th  # the same tape run, bit for bit
    assert ph["loss"][-1] < ph["loss"][0]          # and it learns
    for a, b in zip(pm.get_weights(), tm.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_activity_penalty_counts_from_the_first_step_of_a_process_first_fit():
    """The tape adds an add_loss term even when the first add_loss of the process happens
    inside the step (compute_loss reads the flag after the forward pass)."""
    from pydl.layers import layer as layer_module

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = np.zeros((8, 1), np.float32)
    used = layer_module._add_loss_used[0]
    layer_module._add_loss_used[0] = False
    try:
        model = pydl.Sequential([pydl.Input((3,)), layers.ActivityRegularization(l1=10.0),
                                 layers.Dense(1, kernel_initializer="zeros")])
        model.compile(optimizer="sgd", loss="mse")
        with _plan.disabled():  # the tape's flag is the point (the plan has its own test)
            history = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history
    finally:
        layer_module._add_loss_used[0] = used or layer_module._add_loss_used[0]
    # mse is 0 (zero kernel and bias); the loss is the penalty alone
    assert history["loss"][0] == pytest.approx(10.0 * np.abs(x).sum() / 8, rel=1e-6)


def test_a_mask_into_a_nested_model_takes_the_tape():
    inner_in = pydl.Input((6, 4))
    inner = pydl.Model(inner_in, layers.GlobalAveragePooling1D()(inner_in))
    x = pydl.Input((6,))
    model = pydl.Model(x, layers.Dense(1)(inner(layers.Embedding(20, 4, mask_zero=True)(x))))
    model.compile(optimizer="sgd", loss="mse")
    assert "reaches the nested model" in _plan.plan_reason(model)


def test_an_integer_counter_is_not_a_weight_the_plan_trains():
    """Normalization's int64 `count` (adapt) does not send the model to the tape."""
    norm = layers.Normalization()
    norm.adapt(np.arange(12, dtype=np.float32).reshape(4, 3))
    model = pydl.Sequential([pydl.Input((3,)), norm, layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert _plan.plan_reason(model) is None


def test_adapt_after_fit_is_read_by_the_next_fit(rng):
    """The plan reads the adapted statistics in place: a later adapt changes the next fit
    exactly as it changes the tape's."""
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.standard_normal((40, 1)).astype(np.float32)
    results = []
    for use_plan in (True, False):
        norm = layers.Normalization()
        norm.adapt(x)
        pydl.utils.set_random_seed(2)
        model = pydl.Sequential([pydl.Input((3,)), norm, layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        with (_plan.disabled() if not use_plan else _NoContext()):
            model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
            norm.adapt(x * 3 + 2)
            history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history
        results.append((model, history))
    assert results[0][0]._trained_on == "plan"
    assert results[0][1] == results[1][1]
    for a, b in zip(results[0][0].get_weights(), results[1][0].get_weights()):
        np.testing.assert_array_equal(a, b)


class _NoContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# -- the node specs check their arguments -----------------------------------------------------
def test_layer_node_specs_reject_bad_arguments():
    plan = _core.plan
    v = np.ones(4, np.float32)
    with pytest.raises(TypeError, match="moving_mean: expected dtype float32"):
        plan.BatchNormalization(v, v, v.astype(np.float64), v, 0, 0.99, 1e-3, True)
    with pytest.raises(ValueError, match=r"gamma: expected shape \(4,\)"):
        plan.BatchNormalization(np.ones(3, np.float32), None, v, v.copy(), 0, 0.99, 1e-3, True)
    with pytest.raises(ValueError, match=r"momentum: expected a number in \[0, 1\]"):
        plan.BatchNormalization(None, None, v, v.copy(), 0, 1.5, 1e-3, True)
    with pytest.raises(ValueError, match="epsilon: expected a number > 0"):
        plan.BatchNormalization(None, None, v, v.copy(), 0, 0.9, 0.0, True)
    with pytest.raises(ValueError, match="axes: expected >= 1 trailing axes"):
        plan.LayerNormalization(v, None, 0, 1e-3)
    with pytest.raises(ValueError, match="table: expected a 2-D array"):
        plan.Embedding(v)
    with pytest.raises(ValueError, match="mode: expected one of multi_hot, count, one_hot"):
        plan.CategoryEncoding(10, "binary")
    with pytest.raises(ValueError, match="num_tokens: expected an int >= 1"):
        plan.CategoryEncoding(0, "count")
    with pytest.raises(ValueError, match="kind: expected 'average' or 'max'"):
        plan.GlobalPooling1D("sum")
    with pytest.raises(ValueError, match="masked: only an average over channels_last"):
        plan.GlobalPooling1D("max", masked=True)
    with pytest.raises(ValueError, match=r"b: expected 4 values \(a's size\)"):
        plan.Affine(v, np.ones(3, np.float32), 0, 1, "scale_shift")
    with pytest.raises(ValueError, match="order: expected 'scale_shift' or 'shift_divide'"):
        plan.Affine(v, v, 0, 1, "divide")
    with pytest.raises(ValueError, match="kind: expected one of gaussian_noise"):
        plan.Noise("dropout")
    with pytest.raises(ValueError, match=r"rate: expected a float in \(0, 1\)"):
        plan.Noise("alpha_dropout", rate=1.0)


def test_plan_checks_node_shapes():
    v = np.ones(4, np.float32)
    bn = _core.plan.BatchNormalization(None, None, v, v.copy(), 1, 0.9, 1e-3, True)
    w = np.ones((4, 2), np.float32)
    with pytest.raises(ValueError, match="sample axis 1 has 4 channels"):
        _core.plan.Plan([[4]], [_core.plan.Call(bn, [0], []),
                                _core.plan.Call(_core.plan.Dense(w), [1], [0])],
                        [_core.plan.LossHead(2, "mse")],
                        [_core.plan.TrainableTensor(w, (None, None, None))], [],
                        _core.UpdateRule("sgd"), 4)
    pool = _core.plan.GlobalPooling1D("average", masked=True)
    with pytest.raises(ValueError, match="one token per step"):
        _core.plan.Plan([[5, 4], [3]], [_core.plan.Call(pool, [0, 1], []),
                                        _core.plan.Call(_core.plan.Dense(w), [2], [0])],
                        [_core.plan.LossHead(3, "mse")],
                        [_core.plan.TrainableTensor(w, (None, None, None))], [],
                        _core.UpdateRule("sgd"), 4)


@pytest.mark.parametrize("bad", [5.0, -1.0, np.nan, np.inf])
def test_plan_run_checks_token_rows_before_any_step(bad):
    """The core's own net under the Python checks: Plan.run refuses a row it would read
    whose token is out of range, naming the sample, before it runs a step."""
    table = np.arange(15, dtype=np.float32).reshape(5, 3)
    w = np.ones((12, 1), np.float32)
    calls = [_core.plan.Call(_core.plan.Embedding(table), [0], [-1]),
             _core.plan.Call(_core.plan.Reshape([12]), [1], []),
             _core.plan.Call(_core.plan.Dense(w), [2], [0])]
    core = _core.plan.Plan([[4]], calls, [_core.plan.LossHead(3, "mse")],
                           [_core.plan.TrainableTensor(w, (None, None, None))], [],
                           _core.UpdateRule("sgd"), 4)
    x = np.array([[0, 1, 2, 3], [4, 4, 0, 1], [1, 2, bad, 0]], np.float32)
    y = np.zeros((3, 1), np.float32)
    losses = np.empty((1, 2), np.float32)

    def run(indices):
        core.run([x], [y], [None], np.array(indices, np.int64), 0, 4, 1, np.full(1, 0.1), 0,
                 losses, [None], [])

    before = w.copy()
    with pytest.raises(ValueError, match=r"inputs\[0\]: expected tokens in \[0, 5\), "
                                         r"received .* for sample 2 at 2"):
        run([0, 2, 1])
    np.testing.assert_array_equal(w, before)  # no step ran
    run([0, 1])  # the bad sample is not read: the call runs
    assert not np.array_equal(w, before)


def test_a_token_node_must_read_a_model_input():
    table = np.ones((5, 3), np.float32)
    w = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="reads tokens from value 1, which is not a model input"):
        _core.plan.Plan([[4]], [_core.plan.Call(_core.plan.Dense(w), [0], [0]),
                                _core.plan.Call(_core.plan.Embedding(table), [1], [-1])],
                        [_core.plan.LossHead(2, "mse")],
                        [_core.plan.TrainableTensor(w, (None, None, None))], [],
                        _core.UpdateRule("sgd"), 4)

