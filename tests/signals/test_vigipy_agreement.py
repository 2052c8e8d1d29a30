"""Independent implementation: vigipy's MGPS (pair counting) with the same fixed prior."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from repigment.signals import Theta, count_long, score


def test_ebgm_matches_vigipy(caers: Path, test_theta: Theta) -> None:
    import vigipy  # a locked test dependency: its absence is a failure, not a skip

    df = pd.read_csv(caers)
    agg = df.groupby(["var1", "var2"]).size().reset_index(name="count")
    cont = vigipy.convert(agg, product_label="var1", ae_label="var2", count_label="count")
    res = vigipy.gps(
        cont, prior_param=list(test_theta), min_events=1, decision_metric="rank", decision_thres=1.0
    ).all_signals
    ours = score(count_long(caers, strata=[], semantics="pairs"), test_theta)
    ours = ours.assign(drug=ours["drug"].astype(str), event=ours["event"].astype(str))
    m = ours.merge(
        res, left_on=["drug", "event"], right_on=["Product", "Adverse Event"], suffixes=("", "_vigipy")
    )
    assert len(m) == len(ours) == 17_189
    assert np.array_equal(m["N"].to_numpy(float), m["Count"].to_numpy(float))
    assert np.allclose(m["E"], m["Expected Count"], rtol=1e-12)
    assert np.allclose(m["EBGM"], m["EBGM_vigipy"], rtol=1e-9)
    # vigipy's 5%/95% bounds come from a coarser root search; ours invert the CDF to 1e-13.
    assert np.allclose(m["QUANT_05"], m["LowerBound"], rtol=5e-4)
    assert np.allclose(m["QUANT_95"], m["UpperBound"], rtol=5e-4)
