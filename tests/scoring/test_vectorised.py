"""The vectorised path agrees with the exact path and rejects bad input."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repigment.body import VASI_REGIONS
from repigment.scoring import (
    DEPIGMENTATION_LADDER,
    REGION_CODES,
    Patch,
    ScoringError,
    Variant,
    score_many,
    score_patches,
)

patch = st.tuples(
    st.integers(0, 4),
    st.sampled_from(VASI_REGIONS),
    st.decimals(min_value=0, max_value="0.004", places=3),
    st.sampled_from(DEPIGMENTATION_LADDER),
)


@settings(max_examples=60)
@given(st.lists(patch, max_size=25), st.booleans(), st.booleans())
def test_matches_exact_path(rows, lids, head) -> None:  # type: ignore[no-untyped-def]
    variant = Variant(lids, head)
    out = score_many(
        [r[0] for r in rows],
        [REGION_CODES[r[1]] for r in rows],
        [float(r[2]) for r in rows],
        [r[3] for r in rows],
        n_assessments=5,
        variant=variant,
    )
    for i in range(5):
        exact = score_patches(
            [Patch(r[1], Fraction(r[2]), r[3]) for r in rows if r[0] == i],
            40,
            variant,  # type: ignore[arg-type]
        )
        for key in ("f_vasi", "t_vasi", "f_bsa_percent", "t_bsa_percent"):
            assert out[key][i] == pytest.approx(float(getattr(exact, key)), abs=1e-12)


@pytest.mark.parametrize(
    ("region", "hu", "depig", "field"),
    [
        (0, 1.0, 60, "patches[1].depigmentation_percent"),
        (0, -1.0, 50, "patches[1].hand_units"),
        (0, np.nan, 50, "patches[1].hand_units"),
        (99, 1.0, 50, "patches[1].region_code"),
    ],
)
def test_bad_rows_named(region: int, hu: float, depig: float, field: str) -> None:
    with pytest.raises(ScoringError) as e:
        score_many([0, 0], [0, region], [1.0, hu], [100, depig])
    assert e.value.field == field
