"""Valid data shared by the hostile-input tests (``test_hostile.py``, ``test_hostile_roots.py``).

One builder per data set, so that the catalogue and the root-fix tests start from
the same trial and single-case frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BASE = [2.0, 3.0, 5.0, 3.0, 4.0]  # single-case baseline (positive counts)
TRT = [5.0, 5.0, 7.0, 6.0, 8.0, 6.0, 9.0]


def trial(n: int = 12) -> pd.DataFrame:
    """``n`` participants x 3 visits, two arms; column names differ from argument names."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        arm = "exercise" if i % 2 else "usual"
        u = rng.normal()
        base = round(30 + u + rng.normal(0, 0.5), 2)
        for visit, t in (("week0", 0), ("week4", 4), ("week12", 12)):
            slope = 0.3 if arm == "exercise" else 0.05
            rows.append(
                {
                    "pid": f"p{i:02d}",
                    "group": arm,
                    "visit": visit,
                    "base": base,
                    "score": round(30 + u + slope * t + rng.normal(0, 0.7), 2),
                }
            )
    return pd.DataFrame(rows)


def sced_frame() -> pd.DataFrame:
    """Two cases, A-B, 5 + 7 sessions (``BASE`` then ``TRT``, case c2 shifted by 1)."""
    rows = []
    for c, shift in (("c1", 0.0), ("c2", 1.0)):
        for s, (ph, v) in enumerate([("A", b) for b in BASE] + [("B", t) for t in TRT]):
            rows.append({"unit": c, "stage": ph, "sess": s + 1, "y": v + shift})
    return pd.DataFrame(rows)
