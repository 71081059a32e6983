"""The kernels' exp against the C library's (Python's math.exp), to one ulp, and at its edges."""

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explainer.worker.fast_exp import HIGHEST, LOWEST, fast_exp


def along(x: np.ndarray) -> np.ndarray:
    """fast_exp over an array in a loop the compiler vectorises, as the kernels call it, with its
    polynomial in fused multiply-adds as they compile it; each value the same without them."""
    plain, contracted = _along(x), _along_contracted(x)
    finite = np.isfinite(contracted)
    np.testing.assert_array_max_ulp(plain[finite], contracted[finite], maxulp=1)
    np.testing.assert_array_equal(plain[~finite], contracted[~finite])  # inf and NaN alike
    return contracted


def _loop(x):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = fast_exp(x[i])
    return out


_along, _along_contracted = numba.njit(_loop), numba.njit(fastmath={"contract"})(_loop)


def ulps_off(computed: np.ndarray, exact: list[float]) -> np.ndarray:
    return np.abs(computed - exact) / np.spacing(np.asarray(exact))


@settings(deadline=None)  # the first example compiles `along`
@given(st.lists(st.floats(LOWEST, HIGHEST), min_size=1, max_size=64))
def test_within_one_ulp_of_the_c_library_in_range(xs):
    x = np.array(xs)
    assert ulps_off(along(x), [math.exp(v) for v in xs]).max() <= 1


def test_within_one_ulp_on_a_dense_sweep_of_the_range():
    x = np.r_[np.linspace(LOWEST, HIGHEST, 1_000_003), np.linspace(-1, 1, 100_001), -1e-300, 1e-300]
    assert ulps_off(along(x), [math.exp(v) for v in x]).max() <= 1


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.0, 1.0),
        (-0.0, 1.0),
        (np.nextafter(LOWEST, -np.inf), 0.0),  # below LOWEST: 0, as a subnormal's bits are not made
        (-1e4, 0.0),
        (-np.inf, 0.0),
        (np.nextafter(HIGHEST, np.inf), np.inf),
        (np.inf, np.inf),
    ],
)
def test_its_edges(x, expected):
    assert along(np.array([x]))[0] == expected


def test_not_a_number_stays_not_a_number():
    assert np.isnan(along(np.array([np.nan]))[0])
