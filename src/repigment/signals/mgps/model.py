"""The MGPS prior and the marginal of one of its components.

lambda ~ P Gamma(a1, b1) + (1-P) Gamma(a2, b2) (DuMouchel 1999); each component gives N | E a negative
binomial NB(size a_i, prob b_i/(b_i+E)), which both the prior fit and the posterior use.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import special

from repigment.signals.errors import SignalsError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Theta(NamedTuple):
    """Prior hyperparameters (alpha1, beta1, alpha2, beta2, P)."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float

    @classmethod
    def parse(cls, text: str) -> Theta:
        parts = [s.strip() for s in text.split(",")]
        if len(parts) != 5:
            raise SignalsError("theta", f"expected 5 comma-separated numbers a1,b1,a2,b2,p, got {len(parts)}")
        try:
            vals = [float(s) for s in parts]
        except ValueError:
            raise SignalsError("theta", f"not a list of numbers: {text!r}") from None
        return cls(*vals).validated()

    def validated(self) -> Theta:
        for name in ("alpha1", "beta1", "alpha2", "beta2"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise SignalsError("theta", f"{name} must be a positive number, got {v}")
        if not (0 < self.p < 1):
            raise SignalsError("theta", f"p must lie strictly between 0 and 1, got {self.p}")
        return self

    def as_text(self) -> str:
        return ",".join(repr(float(v)) for v in self)


def log_nb(n: FloatArray, e: FloatArray, alpha: float, beta: float) -> FloatArray:
    """log NB(n; size alpha, prob beta/(beta+E)), the marginal of one prior component."""
    lbe = np.log(beta + e)
    out: FloatArray = (
        special.gammaln(n + alpha)
        - special.gammaln(alpha)
        - special.gammaln(n + 1.0)
        + alpha * (math.log(beta) - lbe)
        + n * (np.log(e) - lbe)
    )
    return out
