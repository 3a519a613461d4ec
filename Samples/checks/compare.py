"""The one output comparison of the Python checks, safe against NaN and infinities.

`max(0.0, nan)` is 0.0 and `nan > 1e-5` is False, so a difference computed as max|a - b| and
compared with a tolerance passes a NaN. Here special values are settled first: where the
reference is finite the actual value must be finite, and where it is not, the actual value must
be the same special value (NaN agrees only with NaN, an infinity only with the same infinity).
Any disagreement, or a shape mismatch, gives +inf, which fails every tolerance.

`python Samples/checks/compare.py` checks the function itself (scripts/test.sh runs it).
"""
import math

import numpy as np


def relative_error(actual, reference):
    """max|actual - reference| / max|reference| over the finite reference values (absolute when
    they are all zero); +inf on a shape mismatch or any special value not matched on the other side."""
    actual = np.asarray(actual, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if actual.shape != reference.shape:
        return math.inf
    finite = np.isfinite(actual) & np.isfinite(reference)
    same_special = (np.isnan(actual) & np.isnan(reference)) | (actual == reference)
    if np.any(~finite & ~same_special):
        return math.inf
    if not finite.any():
        return 0.0
    worst = float(np.abs(actual[finite] - reference[finite]).max())
    scale = float(np.abs(reference[finite]).max())
    return worst / scale if scale > 0 else worst


def _self_test():
    nan, inf = math.nan, math.inf
    reference = [0.0, 0.5, -1.0]
    for actual in ([0, nan, 0], [nan, 0, 0], [0, 0, nan], [0, inf, 0], [-inf, 0, 0]):
        error = relative_error(actual, reference)
        assert error == inf and error > 1e-5, (actual, error)
    assert relative_error([1, 2], [1, 2, 3]) == inf
    assert relative_error(np.zeros((1, 4)), np.zeros((4, 1))) == inf
    assert relative_error([1.0], [nan]) == inf
    assert relative_error([nan], [inf]) == inf
    assert relative_error([-inf], [inf]) == inf
    assert relative_error([nan, inf, -inf, 2.5], [nan, inf, -inf, 2.0]) == 0.25
    assert relative_error([1, 2.5, -3], [1, 2, -4]) == 0.25
    assert relative_error([0, 0.125], [0, 0]) == 0.125
    assert relative_error(np.float32([1, 2]), np.float32([1, 2])) == 0.0
    print("compare.py: relative_error fails on every unmatched NaN / infinity")


if __name__ == "__main__":
    _self_test()
