"""Agreement statistics checked against published worked examples and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa

from edxreview.cohort import cohen_kappa, compute_agreement, find_disagreements, gwet_ac1, ratings_table
from edxreview.cohort._agreement import CLASSIFICATIONS

# Wikipedia, "Cohen's kappa", worked example: 50 grant proposals read by A (rows) and B
# (columns), categories (yes, no): both yes 20, A yes B no 5, A no B yes 10, both no 15;
# published p_o = 0.7, p_e = 0.5, kappa = 0.4.
WIKI_COHEN = np.array([[20, 5], [10, 15]])


def test_cohen_kappa_published_example_and_hand_se():
    res = cohen_kappa(WIKI_COHEN)
    assert res["kappa"] == pytest.approx(0.4)
    # asymptotic SE (Fleiss, Cohen & Everitt 1969) by hand, p = table / 50:
    # p = [[.4, .1], [.2, .3]], rows .5/.5, columns .6/.4, kappa .4, pe .5
    # diagonal: .4(1 - (.5+.6)(.6))^2 + .3(1 - (.5+.4)(.6))^2 = .04624 + .06348 = .10972
    # off-diagonal: (.6)^2 [.1(.6+.5)^2 + .2(.4+.5)^2] = .36 (.121 + .162) = .10188
    # minus (kappa - pe(1 - kappa))^2 = (.4 - .3)^2 = .01; over n(1 - pe)^2 = 12.5
    se = math.sqrt((0.10972 + 0.10188 - 0.01) / 12.5)
    assert res["se"] == pytest.approx(se, rel=1e-9)
    assert res["ci_low"] == pytest.approx(0.4 - 1.959963985 * se, rel=1e-6)
    assert res["ci_high"] == pytest.approx(0.4 + 1.959963985 * se, rel=1e-6)


def test_gwet_ac1_hand_computation():
    res = gwet_ac1(WIKI_COHEN)
    # pi_yes = (25/50 + 30/50) / 2 = .55; pe = 2 (.55)(.45) = .495; AC1 = (.7 - .495) / .505
    assert res["pa"] == pytest.approx(0.7)
    assert res["pe"] == pytest.approx(0.495)
    assert res["ac1"] == pytest.approx(0.205 / 0.505)
    # Gwet (2008) variance, two raters, q = 2, by hand:
    # sum p_kk (1 - pi_k) = .4(.45) + .3(.55) = .345;  minus pa pe = .3465 -> -.0015
    # sum p_kl (1 - (pi_k + pi_l)/2)^2 = .4(.45^2) + .1(.5^2) + .2(.5^2) + .3(.55^2) = .24675;
    # minus pe^2 = .245025 -> .001725
    g = 0.205 / 0.505
    var = (0.7 * 0.3 - 4 * (1 - g) * (-0.0015) + 4 * (1 - g) ** 2 * 0.001725) / (50 * 0.505 ** 2)
    assert res["se"] == pytest.approx(math.sqrt(var), rel=1e-9)
    assert res["se"] == pytest.approx(0.130152, abs=1e-6)


@pytest.mark.parametrize("table", [WIKI_COHEN, np.array([[28, 13], [7, 27]]),
                                   np.array([[3, 1, 0], [2, 9, 1], [0, 4, 30]])])
def test_gwet_variance_equals_the_linearised_form(table):
    """Gwet (2008)'s expanded variance equals the linearised form of Gwet's Handbook of
    Inter-Rater Reliability (2014), as in his irrCAC package: an independent algebra."""
    res = gwet_ac1(table)
    p = table / table.sum()
    q = len(p)
    pi = (p.sum(0) + p.sum(1)) / 2
    g, pa, pe = res["ac1"], res["pa"], res["pe"]
    w = np.eye(q)
    s = sum(p[k, m] * (w[k, m] - 2 * (1 - g) / (q - 1) * (1 - (pi[k] + pi[m]) / 2)) ** 2
            for k in range(q) for m in range(q))
    var = (s - (pa - 2 * (1 - g) * pe) ** 2) / (table.sum() * (1 - pe) ** 2)
    assert res["se"] == pytest.approx(math.sqrt(var), rel=1e-9)


def test_fleiss_kappa_published_example():
    # Fleiss (1971) statistic on the worked example of Wikipedia, "Fleiss' kappa":
    # 10 subjects, 14 raters, 5 categories; published kappa = 0.210
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                      [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                      [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert fleiss_kappa(table, method="fleiss") == pytest.approx(0.210, abs=5e-4)


def test_kappa_undefined_when_all_in_one_category_ac1_is_not():
    assert math.isnan(cohen_kappa(np.array([[10, 0], [0, 0]]))["kappa"])
    assert gwet_ac1(np.array([[10, 0], [0, 0]]))["ac1"] == pytest.approx(1.0)


def _software(n_yes: int, n: int) -> pd.DataFrame:
    ids = [f"P{i:03d}" for i in range(n)]
    frame = pd.DataFrame({"patient_id": ids, "included": True, "explanation": "why"})
    for c in CLASSIFICATIONS:
        frame[c] = np.arange(n) < n_yes
    return frame


def test_pairs_and_fleiss_on_a_small_cohort_by_hand():
    soft = _software(13, 59)
    # reader A agrees on everything; reader B says no for P000 and P001 (software yes) and
    # yes for P058 (software no), on emg_denervation only
    rows = []
    for reader in ("A", "B"):
        for pid, val in zip(soft["patient_id"], soft["emg_denervation"]):
            if reader == "B" and pid in ("P000", "P001", "P058"):
                val = not val
            rows.append(dict(patient_id=pid, reader=reader, classification="emg_denervation",
                             value=val, comment="", row=0))
    readers = pd.DataFrame(rows)
    table = compute_agreement(ratings_table(soft, readers))
    emg = table[table["classification"] == "emg_denervation"].set_index(["rater_a", "rater_b"])
    sb = emg.loc[("software", "B")]
    assert sb["n"] == 59 and sb["n_agree"] == 56
    # software 13 yes, B 12 yes: pe = (13*12 + 46*47)/59^2 = 2318/3481,
    # kappa = (56*59 - 2318)/(3481 - 2318) = 986/1163
    assert sb["kappa"] == pytest.approx(986 / 1163)
    # pi_yes = 25/118, pe = 2(25/118)(93/118) = 4650/13924, AC1 = (56*236 - 4650)/(13924 - 4650)
    assert sb["ac1"] == pytest.approx(8566 / 9274)
    assert emg.loc[("software", "A")]["kappa"] == pytest.approx(1.0)
    assert emg.loc[("A", "B")]["kappa"] == pytest.approx(986 / 1163)
    # Fleiss, 3 raters: 56 patients P_i = 1, 3 patients (2, 1) -> P_i = (4+1-3)/6 = 1/3;
    # mean P = 57/59; yes ratings 13+13+12 = 38 of 177: Pe = (38^2 + 139^2)/177^2
    # kappa = (57*531 - 20765)/(31329 - 20765) = 9502/10564
    assert emg.loc[("all", "all")]["kappa"] == pytest.approx(9502 / 10564)
    assert emg.loc[("all", "all")]["n_raters"] == 3
    # readers gave no other classification: only emg_denervation rows
    assert set(table["classification"]) == {"emg_denervation"}
    dis = find_disagreements(soft, readers)
    assert dis["patient_id"].tolist() == ["P000", "P001", "P058"]
    assert dis["software"].tolist() == ["yes", "yes", "no"]
    assert dis["reader:B"].tolist() == ["no", "no", "yes"]
    assert dis["reader:A"].tolist() == ["yes", "yes", "no"]


# Gwet's irrCAC package (R), vignette "Computing chance-corrected agreement coefficients":
# the contingency table cont3x3abstractors (two abstractors, 100 pregnancies, Ectopic / AIU /
# NIU) and the 15 x 5 distribution distrib.6raters (6 psychiatrists), with their printed
# outputs: gwet.ac1.table 0.8493305 (SE 0.04321747, CI (0.764, 0.935) with Student t, 99 df),
# kappa2.table 0.7964094 (SE 0.05891072), fleiss.kappa.dist 0.4139265.
ABSTRACTORS = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
SIX_RATERS = np.array([[0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6],
                       [0, 3, 0, 3, 0], [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0],
                       [2, 0, 0, 4, 0], [0, 0, 0, 0, 6], [1, 0, 0, 5, 0], [1, 1, 0, 4, 0],
                       [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1]])


def test_published_irrcac_examples():
    from scipy import stats

    ac1 = gwet_ac1(ABSTRACTORS)
    assert ac1["ac1"] == pytest.approx(0.8493305, abs=1e-7)
    assert ac1["se"] == pytest.approx(0.04321747, abs=1e-8)
    t = stats.t.ppf(0.975, 99)  # irrCAC's interval; ours is normal (z), slightly narrower
    assert round(ac1["ac1"] - t * ac1["se"], 3) == 0.764
    assert round(ac1["ac1"] + t * ac1["se"], 3) == 0.935
    assert ac1["ci_low"] == pytest.approx(0.8493305 - 1.959964 * 0.04321747, abs=1e-6)
    kappa = cohen_kappa(ABSTRACTORS)
    assert kappa["kappa"] == pytest.approx(0.7964094, abs=1e-7)
    assert kappa["se"] == pytest.approx(0.05891072, abs=1e-8)
    assert fleiss_kappa(SIX_RATERS, method="fleiss") == pytest.approx(0.4139265, abs=1e-7)
