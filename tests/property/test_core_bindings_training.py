"""Property-based tests for the loss, optimizer and gather bindings of pydl._core:
random shapes, dtypes, strides and values give a correct result or a
TypeError/ValueError, never a crash (run under ASan/UBSan by
tools/check_sanitizers.sh).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pydl import _core

from test_core_bindings import SETTINGS, arrays, call, is_clean

LOSSES = ["mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy",
          "sparse_categorical_crossentropy"]


@st.composite
def loss_case(draw):
    kind = draw(st.sampled_from(LOSSES + ["hinge"]))
    batch, classes = draw(st.integers(0, 12)), draw(st.integers(0, 6))
    y_pred = draw(arrays(shape=(batch, classes)))
    if kind == "sparse_categorical_crossentropy":
        hi = max(classes, 1) + draw(st.sampled_from([0, 0, 0, 2]))  # sometimes out of range
        labels = draw(st.lists(st.integers(-1, hi), min_size=batch, max_size=batch))
        dtype = draw(st.sampled_from([np.int64, np.int32, np.float32, np.uint8]))
        y_true = np.asarray(labels).astype(dtype) if labels else np.zeros(0, dtype)
    else:
        y_true = draw(arrays(shape=y_pred.shape))
    grad = draw(st.one_of(st.none(), arrays(shape=y_pred.shape)))
    sample_weight = draw(st.one_of(st.none(), arrays(shape=(batch,))))
    return kind, y_true, y_pred, grad, sample_weight, draw(st.booleans())


@SETTINGS
@given(loss_case())
def test_loss_random_arguments(case):
    kind, y_true, y_pred, grad, sample_weight, from_logits = case
    ok = call(_core.loss, kind, y_true, y_pred, grad=grad, sample_weight=sample_weight,
              from_logits=from_logits)
    dense_ok = kind in LOSSES and kind != "sparse_categorical_crossentropy"
    valid = (dense_ok and is_clean(y_true, y_pred) and y_pred.size > 0
             and (grad is None or is_clean(grad, dtype=y_pred.dtype))
             and (sample_weight is None or is_clean(sample_weight, dtype=y_pred.dtype)))
    if valid:
        assert ok, "a valid loss call was refused"


@SETTINGS
@given(st.data())
def test_mse_value_matches_numpy(data):
    batch, width = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    y_true = data.draw(arrays(shape=(batch, width), dtype=np.float64, allow_bad=False))
    y_pred = data.draw(arrays(shape=(batch, width), dtype=np.float64, allow_bad=False))
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()) or np.abs(y_pred).max() > 1e100:
        return
    got = _core.loss("mse", y_true, y_pred)
    np.testing.assert_allclose(got, np.mean((y_true - y_pred) ** 2), rtol=1e-12)


@st.composite
def optimizer_case(draw):
    shape = tuple(draw(st.lists(st.integers(0, 7), min_size=0, max_size=3)))
    w = draw(arrays(shape=shape))
    def other():
        return draw(st.one_of(arrays(shape=shape), arrays()))
    return w, other(), other(), other(), other()


@SETTINGS
@given(optimizer_case(), st.sampled_from(["sgd", "adagrad", "rmsprop", "adam"]))
def test_optimizer_steps_random_arguments(case, kind):
    w, g, s1, s2, s3 = case
    before = w.copy()
    if kind == "sgd":
        ok = call(_core.sgd_step, w, g, s1, lr=0.1, momentum=0.9)
    elif kind == "adagrad":
        ok = call(_core.adagrad_step, w, g, s1, lr=0.1, epsilon=1e-7)
    elif kind == "rmsprop":
        ok = call(_core.rmsprop_step, w, g, s1, s2, s3, lr=0.1, rho=0.9, momentum=0.5,
                  epsilon=1e-7, centered=True)
    else:
        ok = call(_core.adam_step, w, g, s1, s2, s3, lr=0.1, beta_1=0.9, beta_2=0.999,
                  epsilon=1e-7, step=1)
    if not ok and w.flags.writeable:
        np.testing.assert_array_equal(w, before)  # a refused call leaves the weights alone
    if ok:
        assert g.shape == w.shape and g.dtype == w.dtype


@SETTINGS
@given(st.data())
def test_gather_rows_random_arguments(data):
    src = data.draw(arrays())
    n = src.shape[0] if src.ndim else 0
    count = data.draw(st.integers(0, 8))
    indices = np.asarray(data.draw(st.lists(st.integers(-2, n + 2), min_size=count,
                                            max_size=count)), dtype=data.draw(
        st.sampled_from([np.int64, np.int32, np.float64])))
    out_shape = (count,) + src.shape[1:] if src.ndim else (count,)
    out = data.draw(st.one_of(arrays(shape=out_shape, dtype=src.dtype), arrays()))
    ok = call(_core.gather_rows, src, indices, out)
    if ok:
        np.testing.assert_array_equal(out, src[indices.astype(np.int64)])


@SETTINGS
@given(arrays())
def test_sum_of_squares_random_arguments(x):
    try:
        got = _core.sum_of_squares(x)
    except (TypeError, ValueError):
        return
    with np.errstate(all="ignore"):
        ref = float(np.sum(x.astype(np.float64) ** 2))
    if np.isfinite(ref):
        np.testing.assert_allclose(got, ref, rtol=1e-6)
