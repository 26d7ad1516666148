"""ParallelTrial: validation, simulation layout, dropout, from_pilot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rehabstats as rs
from rehabstats.design import ParallelTrial
from rehabstats.errors import DesignError

VISITS = ["pre", "post", "followup"]
MEAN = {"control": [2.0, 2.3, 2.3], "cimt": [2.0, 3.3, 3.1]}


def trial(**kw: object) -> ParallelTrial:
    args: dict[str, object] = dict(
        n_per_arm=10, visits=VISITS, mean=MEAN, sd=1.0, correlation=("cs", 0.6)
    )
    args.update(kw)
    return ParallelTrial(**args)  # type: ignore[arg-type]


def test_simulate_layout_and_order() -> None:
    data = trial(retention=[1, 0.9, 0.7]).simulate(rng=3)
    assert list(data.columns) == ["subject", "arm", "visit", "outcome"]
    assert data["visit"].cat.ordered
    assert list(data["visit"].cat.categories) == VISITS
    assert list(data["arm"].cat.categories) == ["control", "cimt"]
    assert data["subject"].nunique() == 20
    # every subject seen at the first visit; dropped visits absent, not NaN
    assert (data[data["visit"] == "pre"].shape[0]) == 20
    assert data["outcome"].notna().all()
    # monotone: a subject missing at post is missing at follow-up
    seen = data.pivot(index="subject", columns="visit", values="outcome").notna()
    assert not (seen["followup"] & ~seen["post"]).any()


def test_visit_order_is_the_given_order_not_alphabetical() -> None:
    t = trial(visits=["week12", "week2", "baseline"])
    data = t.simulate(rng=1)
    assert list(data["visit"].cat.categories) == ["week12", "week2", "baseline"]


def test_same_seed_same_data_and_arms_option() -> None:
    a = trial().simulate(rng=5)
    b = trial().simulate(rng=5)
    pd.testing.assert_frame_equal(a, b)
    t = trial(arms=["cimt", "control"])
    assert t.arm_labels == ["cimt", "control"]
    assert t.effect == pytest.approx(2.3 - 3.1, rel=1e-12)


def test_baseline_covariate_layout() -> None:
    data = trial(baseline_covariate=True).simulate(rng=2)
    assert list(data.columns) == ["subject", "arm", "visit", "outcome", "baseline"]
    assert list(data["visit"].cat.categories) == ["post", "followup"]
    assert data.groupby("subject")["baseline"].nunique().max() == 1


def test_moments_of_a_large_simulation() -> None:
    t = trial(n_per_arm=20000, sd=[1.0, 2.0, 1.5], correlation=("ar1", 0.5))
    y, obs = t._draw(np.random.SeedSequence(7))
    ctrl = y[t.arm_codes() == 0]
    np.testing.assert_allclose(ctrl.mean(0), MEAN["control"], atol=0.05)
    np.testing.assert_allclose(ctrl.std(0), [1.0, 2.0, 1.5], rtol=0.03)
    np.testing.assert_allclose(np.corrcoef(ctrl.T)[0, 2], 0.25, atol=0.02)
    assert obs.all()


def test_mcar_retention_rates() -> None:
    t = trial(n_per_arm=20000, retention=[1, 0.8, 0.6])
    _, obs = t._draw(np.random.SeedSequence(1))
    np.testing.assert_allclose(obs.mean(0), [1, 0.8, 0.6], atol=0.01)


def test_mar_dropout_depends_on_last_value() -> None:
    t = trial(n_per_arm=20000, retention=[1, 0.8, 0.6], dropout="mar")
    y, obs = t._draw(np.random.SeedSequence(1))
    ctrl = t.arm_codes() == 0
    low = y[ctrl, 0] < MEAN["control"][0]
    # gamma = -1: lower previous values drop out more often
    assert obs[ctrl][low, 1].mean() < obs[ctrl][~low, 1].mean() - 0.05
    t2 = trial(n_per_arm=20000, retention=[1, 0.8, 0.6], dropout=("mar", 1.5))
    y2, obs2 = t2._draw(np.random.SeedSequence(1))
    low2 = y2[ctrl, 0] < MEAN["control"][0]
    assert obs2[ctrl][low2, 1].mean() > obs2[ctrl][~low2, 1].mean() + 0.05


def test_common_random_numbers_are_nested() -> None:
    seed = np.random.SeedSequence(11)
    y10, _ = trial(n_per_arm=10)._draw(seed)
    y15, _ = trial(n_per_arm=15)._draw(seed)
    np.testing.assert_array_equal(y10[:10], y15[:10])  # control arm
    np.testing.assert_array_equal(y10[10:], y15[15:25])  # first 10 of the active arm


def test_unequal_arms() -> None:
    t = trial(n_per_arm={"control": 5, "cimt": 8})
    data = t.simulate(rng=1)
    assert data.groupby("arm", observed=True)["subject"].nunique().to_dict() == {
        "control": 5,
        "cimt": 8,
    }


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"correlation": ("cs", 1.2)}, "correlation"),
        ({"correlation": ("cs", -0.6)}, "positive definite"),
        ({"correlation": ("ar1", 1.0)}, "correlation"),
        ({"correlation": ("toep", [0.5])}, "2 finite lag"),
        ({"correlation": ("unstructured", 0.5)}, "structure"),
        ({"correlation": [[1, 0.5, 0.2], [0.4, 1, 0.5], [0.2, 0.5, 1]]}, "not symmetric"),
        ({"correlation": [[2, 0.5, 0.2], [0.5, 1, 0.5], [0.2, 0.5, 1]]}, "unit diagonal"),
        ({"correlation": [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]}, "not positive definite"),
        ({"correlation": np.eye(2)}, "3 x 3"),
        ({"retention": [1, 1.1, 0.9]}, "retention"),
        ({"retention": [1, 0.7, 0.8]}, "non-increasing"),
        ({"retention": [0.9, 0.8, 0.7]}, "start at 1"),
        ({"retention": [1, 0.8]}, "retention"),
        ({"sd": -1.0}, "'sd'"),
        ({"sd": [1, 1]}, "'sd'"),
        ({"n_per_arm": 1}, "n_per_arm"),
        ({"n_per_arm": 2.5}, "n_per_arm"),
        ({"n_per_arm": {"control": 5}}, "n_per_arm"),
        ({"mean": {"control": [1, 2, 3]}}, "'mean'"),
        ({"mean": {"control": [1, 2], "cimt": [1, 2]}}, "mean"),
        ({"arms": ["a", "b"]}, "'arms'"),
        ({"dropout": "mnar"}, "dropout"),
        ({"visits": ["a", "a", "b"]}, "repeated"),
        ({"baseline_covariate": "yes"}, "baseline_covariate"),
    ],
)
def test_every_parameter_is_validated(kw: dict[str, object], match: str) -> None:
    with pytest.raises(DesignError, match=match):
        trial(**kw)


def test_from_pilot_cimt_ms() -> None:
    pilot = rs.datasets.load("cimt_ms")
    before = pilot.copy()
    t = ParallelTrial.from_pilot(
        pilot, outcome="mal_aou", arm="arm", visit="visit", subject="subject"
    )
    pd.testing.assert_frame_equal(pilot, before)
    assert t.arm_labels == ["control", "cimt"]
    assert list(t.visits) == ["pre", "post", "followup"]
    # the MMRM's model-based means and covariance
    obs = pilot.dropna(subset=["mal_aou"])
    fit = rs.mmrm("mal_aou ~ arm * visit", obs, subject="subject", visit="visit")
    np.testing.assert_allclose(t.covariance_matrix, fit.covariance_matrix.to_numpy(), rtol=1e-10)
    em = fit.emmeans(["arm", "visit"])
    row = em[(em["arm"] == "cimt") & (em["visit"] == "followup")]
    assert t.mean["cimt"][2] == pytest.approx(float(row["estimate"].iloc[0]), rel=1e-10)
    assert t.pilot is not None
    np.testing.assert_allclose(t.pilot.retention.to_numpy(), [1, 1, 0.95], rtol=1e-12)
    text = t.summary()
    assert "Retention" in text
    assert "pilot" in text


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_from_pilot_recovers_known_parameters(seed: int) -> None:
    truth = trial(
        n_per_arm=400, sd=[1.0, 1.5, 2.0], correlation=("ar1", 0.6), retention=[1, 0.9, 0.75]
    )
    data = truth.simulate(rng=seed)
    est = ParallelTrial.from_pilot(
        data, outcome="outcome", arm="arm", visit="visit", subject="subject"
    )
    # 4 SEs of a visit-3 mean (SD 2, about 300 observed per arm)
    np.testing.assert_allclose(est._means, truth._means, atol=0.5)
    np.testing.assert_allclose(est._sd, truth._sd, rtol=0.12)
    np.testing.assert_allclose(est._R, truth._R, atol=0.1)
    np.testing.assert_allclose(est._ret, truth._ret, atol=0.05)


def test_from_pilot_bad_columns() -> None:
    pilot = rs.datasets.load("cimt_ms")
    with pytest.raises(rs.DataError, match="nope"):
        ParallelTrial.from_pilot(pilot, outcome="nope", arm="arm", visit="visit", subject="subject")


def test_from_pilot_uses_the_shared_visit_and_reference_rules() -> None:
    """The visit order and the reference arm come from the library's one rule each
    (rehabstats._entry), not from the row order or a private list of control labels."""
    pilot = rs.datasets.load("cimt_ms")
    pilot = pilot.assign(
        arm=pilot["arm"].astype(str).map({"control": "usual", "cimt": "cimt"}),
        visit=pilot["visit"].astype(str),
    )  # plain labels, not Categoricals
    shuffled = pilot.sample(frac=1.0, random_state=3)
    with pytest.raises(DesignError, match="visit_order"):  # rows no longer in time order
        ParallelTrial.from_pilot(
            shuffled, outcome="mal_aou", arm="arm", visit="visit", subject="subject"
        )
    order = ["pre", "post", "followup"]
    a = ParallelTrial.from_pilot(
        pilot, outcome="mal_aou", arm="arm", visit="visit", subject="subject"
    )
    b = ParallelTrial.from_pilot(
        shuffled, outcome="mal_aou", arm="arm", visit="visit", subject="subject", visit_order=order
    )
    assert a.arm_labels == b.arm_labels == ["usual", "cimt"]  # "usual" is a control label
    assert list(a.visits) == list(b.visits) == order
    np.testing.assert_allclose(a.covariance_matrix, b.covariance_matrix, rtol=1e-6)
    c = ParallelTrial.from_pilot(
        pilot, outcome="mal_aou", arm="arm", visit="visit", subject="subject", reference="cimt"
    )
    assert c.arm_labels == ["cimt", "usual"]


def test_from_pilot_hostile_outcomes() -> None:
    pilot = rs.datasets.load("cimt_ms")
    kw = {"outcome": "mal_aou", "arm": "arm", "visit": "visit", "subject": "subject"}
    with pytest.raises(rs.DataError, match="infinite"):
        ParallelTrial.from_pilot(
            pilot.assign(mal_aou=pilot["mal_aou"].replace(pilot["mal_aou"].iloc[0], np.inf)), **kw
        )
    with pytest.raises(rs.DataError, match="numeric"):
        ParallelTrial.from_pilot(
            pilot.assign(mal_aou=pilot["mal_aou"].astype(str).where(pilot.index != 2, "n/a")), **kw
        )
    with pytest.raises(rs.DataError, match=r"1e\+?150"):
        ParallelTrial.from_pilot(pilot.assign(mal_aou=pilot["mal_aou"] * 1e300), **kw)
    with pytest.raises(rs.DataError, match="differ only in case"):
        ParallelTrial.from_pilot(
            pilot.assign(arm=pilot["arm"].astype(str).where(pilot.index != 0, "Control")), **kw
        )
    with pytest.raises(DesignError, match="one per visit .3 in 'visits'"):
        ParallelTrial(
            n_per_arm=5,
            visits=[0, 4, 12],
            mean={"a": [0, 0], "b": [0, 1]},
            sd=1.0,
            correlation=("cs", 0.5),
        )


@pytest.mark.parametrize(
    ("n", "match"),
    [
        (1e8, r"'n_per_arm' must be a whole number >= 2 \(an int"),
        (10**8, r"'n_per_arm' must be at most 1,000,000"),
        (np.int64(10**12), r"'n_per_arm' must be at most"),
        ({"control": 10, "cimt": 10**7}, r"'n_per_arm\['cimt'\]' must be at most"),
    ],
)
def test_n_per_arm_has_an_upper_bound(n: object, match: str) -> None:
    with pytest.raises(DesignError, match=match):
        trial(n_per_arm=n)


def test_observations_per_data_set_have_an_upper_bound() -> None:
    """2 arms x 600,000 x 10 visits = 12,000,000 observations > 10,000,000."""
    visits = [f"v{i}" for i in range(10)]
    with pytest.raises(DesignError, match=r"'n_per_arm' \(600000\) x 2 arms x 10 'visits'"):
        trial(n_per_arm=600_000, visits=visits, mean={"control": [0.0] * 10, "cimt": [1.0] * 10})
    ok = trial(n_per_arm=500_000, visits=visits, mean={"control": [0.0] * 10, "cimt": [1.0] * 10})
    assert ok._ns == [500_000, 500_000]


def test_largest_n_per_arm_is_accepted_without_drawing() -> None:
    t = trial(n_per_arm=10**6)  # 6,000,000 observations: accepted, nothing drawn yet
    assert t._ns == [10**6, 10**6]


def test_power_refuses_a_block_that_cannot_fit_in_memory() -> None:
    t = trial(n_per_arm=10**5)
    with pytest.raises(DesignError, match=r"'n_per_arm'.*too large to simulate.*GiB"):
        rs.power.simulate(t, "mmrm", n_sims=10, rng=1)
