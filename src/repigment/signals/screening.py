"""Named signal-screening rules used by regulators and monitoring centres."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

# EMA: ROR025 > 1 with a >= 5 (a >= 3 for products under additional monitoring). UNCONFIRMED in our
# reference; kept as a named parameter and recorded with the output.
EMA_MIN_COUNT = 5


@dataclass(frozen=True)
class Preset:
    name: str
    rule: str
    source: str
    test: Callable[[pd.DataFrame], np.ndarray]


def _evans(t: pd.DataFrame) -> np.ndarray:
    return np.asarray((t["PRR"] >= 2) & (t["chi2_yates"] >= 4) & (t["N"] >= 3))


def _ema(min_count: int) -> Callable[[pd.DataFrame], np.ndarray]:
    def test(t: pd.DataFrame) -> np.ndarray:
        return np.asarray((t["ROR025"] > 1) & (t["N"] >= min_count))

    return test


def _who(t: pd.DataFrame) -> np.ndarray:
    return np.asarray(t["IC025"] > 0)


def _eb05(t: pd.DataFrame) -> np.ndarray:
    return np.asarray(t["QUANT_05"] >= 2)


def _mhra(t: pd.DataFrame) -> np.ndarray:
    return np.asarray((t["QUANT_05"] >= 1.8) & (t["N"] >= 3) & (t["EBGM"] >= 2.5))


def presets(ema_min_count: int = EMA_MIN_COUNT) -> dict[str, Preset]:
    return {
        "evans": Preset(
            "evans", "PRR >= 2 and Yates chi2 >= 4 and N >= 3", "Evans, Waller & Davis 2001", _evans
        ),
        "ema": Preset(
            "ema",
            f"ROR025 > 1 and N >= {ema_min_count} (ema_min_count, UNCONFIRMED)",
            "EMA EudraVigilance signal detection guideline",
            _ema(ema_min_count),
        ),
        "who_umc": Preset("who_umc", "IC025 > 0", "Noren et al. 2013 (WHO-UMC)", _who),
        "eb05": Preset("eb05", "EB05 >= 2", "Szarfman, Machado & O'Neill 2002 (FDA)", _eb05),
        "mhra": Preset("mhra", "EB05 >= 1.8 and N >= 3 and EBGM >= 2.5", "MHRA", _mhra),
    }


def flag(
    table: pd.DataFrame, names: list[str] | None = None, *, ema_min_count: int = EMA_MIN_COUNT
) -> pd.DataFrame:
    """Add one boolean ``signal_<preset>`` column per preset."""
    ps = presets(ema_min_count)
    for name in names or list(ps):
        if name not in ps:
            raise KeyError(name)
        table[f"signal_{name}"] = ps[name].test(table)
    return table
