"""fit reports NaN/inf in the data before training, naming where it is."""

import numpy as np
import pytest

from helpers import small_data, small_model


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fit_refuses_non_finite_x(bad):
    x, y = small_data(64)
    x[10, 3] = bad
    model = small_model()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"x: expected finite values, received .* at index \(10, 3\)"):
        model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_fit_refuses_non_finite_regression_targets_and_weights():
    import pydl

    x = np.ones((8, 2), np.float32)
    model = pydl.Sequential([pydl.Input(shape=(2,)), pydl.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    y = np.zeros((8, 1), np.float32)
    y[5] = np.nan
    with pytest.raises(ValueError, match=r"y: expected finite values"):
        model.fit(x, y, verbose=0)
    sw = np.ones(8, np.float32)
    sw[2] = np.inf
    with pytest.raises(ValueError, match=r"sample_weight: expected"):
        model.fit(x, np.zeros((8, 1), np.float32), sample_weight=sw, verbose=0)


def test_check_can_be_switched_off():
    x, y = small_data(64)
    x[0, 0] = np.nan
    model = small_model()
    model.fit(x, y, epochs=1, verbose=0, check_finite=False)
    assert np.isnan(model.get_weights()[0]).any()
