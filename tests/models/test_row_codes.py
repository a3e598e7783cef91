"""Distinct-row numbering (``models._base.row_codes``), which every model and CLV rely on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.models._base import row_codes, unique_rows


def test_rows_are_numbered_by_first_appearance_and_nan_is_a_value() -> None:
    x = np.array([1.0, 2.0, 1.0, np.nan, 2.0, np.nan, 1.0])
    t = np.array([5.0, 5.0, 5.0, 5.0, 6.0, 5.0, 5.0])
    first, codes = row_codes(x, t)
    # rows: (1,5) (2,5) (1,5) (nan,5) (2,6) (nan,5) (1,5), numbered by hand
    np.testing.assert_array_equal(codes, [0, 1, 0, 2, 3, 2, 0])
    np.testing.assert_array_equal(first, [0, 1, 3, 4])
    (ux, ut), inverse = unique_rows(x, t)
    np.testing.assert_array_equal(ux[inverse], x)  # NaN rows come back as NaN
    np.testing.assert_array_equal(ut[inverse], t)


def test_row_codes_match_a_pandas_groupby_with_missing_values() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"a": rng.integers(0, 4, 500).astype(float), "b": rng.integers(0, 3, 500).astype(float)}
    )
    frame.loc[rng.random(500) < 0.2, "b"] = np.nan
    first, codes = row_codes(frame["a"].to_numpy(), frame["b"].to_numpy())
    expected = frame.groupby(["a", "b"], sort=False, dropna=False).ngroup().to_numpy()
    np.testing.assert_array_equal(codes, expected)
    pd.testing.assert_frame_equal(frame.iloc[first], frame.drop_duplicates())
