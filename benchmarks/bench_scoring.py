"""Scoring throughput: 1 M patches through the vectorised path, against a plain-Python loop baseline.

The baseline accumulates the same formula patch by patch in a dict (what a naive implementation
does); the exact ``Fraction`` path, which the API uses for single assessments, is measured too.
Rates are patches per second; ratios are against the plain loop measured in this run.
"""

from __future__ import annotations

import os
import time
from fractions import Fraction

import numpy as np

from repigment.body import VASI_REGIONS
from repigment.scoring import DEPIGMENTATION_LADDER, Patch, Variant, score_many, score_patches

N_PATCHES = 100_000 if os.environ.get("REPIGMENT_BENCH_QUICK") == "1" else 1_000_000
PATCHES_PER_ASSESSMENT = 10


def _data(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20231)
    assessment = np.repeat(np.arange(n // PATCHES_PER_ASSESSMENT), PATCHES_PER_ASSESSMENT)
    region = rng.integers(0, len(VASI_REGIONS), n)
    hand_units = rng.integers(0, 2, n) / 100.0  # 0 or 0.01 HU: ten of them fit even the eyelids
    depig = rng.choice(np.array(DEPIGMENTATION_LADDER, dtype=float), n)
    return assessment, region, hand_units, depig


def _best_of(repeats: int, fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _plain_loop(assessment, region, hand_units, depig) -> dict[int, float]:  # type: ignore[no-untyped-def]
    t: dict[int, float] = {}
    for a, h, d in zip(assessment.tolist(), hand_units.tolist(), depig.tolist(), strict=True):
        t[a] = t.get(a, 0.0) + h * d / 100.0
    return t


def main() -> str:
    a, r, h, d = _data(N_PATCHES)
    n_assess = int(a.max()) + 1
    vec = _best_of(3, lambda: score_many(a, r, h, d, n_assessments=n_assess, variant=Variant()))
    loop = _best_of(1, lambda: _plain_loop(a, r, h, d))

    n_exact = 20_000
    patches = [
        Patch(VASI_REGIONS[int(r[i])], Fraction(int(round(h[i] * 100)), 100), int(d[i]))
        for i in range(n_exact)
    ]
    groups = [patches[i : i + PATCHES_PER_ASSESSMENT] for i in range(0, n_exact, PATCHES_PER_ASSESSMENT)]
    exact = _best_of(1, lambda: [score_patches(g, 40) for g in groups])

    # The two paths agree on the data benchmarked.
    out = score_many(a[:n_exact], r[:n_exact], h[:n_exact], d[:n_exact])
    first = score_patches(groups[0], 40)
    assert abs(out["t_vasi"][0] - float(first.t_vasi)) < 1e-12

    rate_vec, rate_loop, rate_exact = N_PATCHES / vec, N_PATCHES / loop, n_exact / exact
    return "\n".join(
        [
            "## Scoring (vectorised VASI)",
            "",
            f"`python -m benchmarks scoring`: {N_PATCHES:,} patches in {n_assess:,} assessments "
            f"({PATCHES_PER_ASSESSMENT} patches each), F-VASI, T-VASI, F-BSA and T-BSA per assessment.",
            "",
            "| path | time | patches/s | ratio to plain loop |",
            "|---|---|---|---|",
            f"| plain-Python loop (baseline, T-VASI only) | {loop:.3f} s | {rate_loop:,.0f} | 1.0× |",
            f"| `score_many` (NumPy, all four scores) | {vec:.3f} s | {rate_vec:,.0f} "
            f"| {rate_vec / rate_loop:.1f}× |",
            f"| `score_patches` (exact Fractions, {n_exact:,} patches) | {exact:.3f} s | {rate_exact:,.0f} "
            f"| {rate_exact / rate_loop:.2f}× |",
        ]
    )


if __name__ == "__main__":
    print(main())
