"""Local days and elapsed hours across daylight-saving changes, checked against R (system tz database)."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess

import pytest

from repigment.label.checks import hours_between
from repigment.label.validation import instant, time_zone

ZONES = ("Europe/Stockholm", "America/New_York", "Australia/Sydney")
# transitions in 2026: Stockholm 29 Mar / 25 Oct, New York 8 Mar / 1 Nov, Sydney 5 Apr / 4 Oct
AROUND = [
    dt.datetime(2026, m, d, tzinfo=dt.UTC) for m, d in ((3, 29), (10, 25), (3, 8), (11, 1), (4, 5), (10, 4))
]

R_SCRIPT = r"""
x <- read.csv(file("stdin"), header = TRUE, colClasses = "character")
t <- as.POSIXct(strptime(x$at, "%Y-%m-%dT%H:%M:%S%z", tz = "UTC"))
day <- format(t, "%Y-%m-%d", tz = x$zone[1])
hours <- c(NA, as.numeric(difftime(t[-1], t[-length(t)], units = "secs")) / 3600)
cat(paste(day, sprintf("%.6f", hours), sep = ","), sep = "\n")
"""


@pytest.mark.r_oracle
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
@pytest.mark.parametrize("zone_name", ZONES)
def test_local_days_and_elapsed_hours_match_r(zone_name: str) -> None:
    rng = random.Random(zone_name)
    zone = time_zone(zone_name, "timezone")
    stamps = sorted(
        base + dt.timedelta(minutes=rng.randint(-36 * 60, 36 * 60)) for base in AROUND for _ in range(25)
    )
    # written in assorted offsets, as clients send them; the local day must come from the patient's zone
    writers: list[dt.tzinfo] = [
        dt.UTC,
        zone,
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
        dt.timezone(-dt.timedelta(hours=3)),
    ]
    texts = [s.astimezone(rng.choice(writers)).isoformat() for s in stamps]
    r_input = "at,zone\n" + "".join(f"{t[:-3] + t[-2:]},{zone_name}\n" for t in texts)  # R's %z: +0100
    out = subprocess.run(
        ["Rscript", "-e", R_SCRIPT], input=r_input, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    rows = out.stdout.strip().splitlines()
    assert len(rows) == len(texts)
    parsed = [instant(t, "at").astimezone(zone) for t in texts]
    for i, (row, at) in enumerate(zip(rows, parsed, strict=True)):
        r_day, r_hours = row.split(",")
        assert at.date().isoformat() == r_day
        if i:
            assert float(hours_between(parsed[i - 1], at)) == pytest.approx(float(r_hours), abs=1e-6)
