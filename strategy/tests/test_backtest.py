"""Backtest metrics against values computed by hand on a 4-date series.

Prices: A 100, 110, 99, 108.9 (returns +10%, -10%, +10%);
        B  50,  50, 55,  55   (returns 0, +10%, 0).
periods_per_year = 3, so the three periods are exactly one year.
"""
import math
import unittest

import _paths  # noqa: F401
import numpy as np
import pandas as pd
from sbx_runner.backtest import PositionError, align, sim

DATES = pd.date_range("2020-01-01", periods=4, freq="D")
PRICES = pd.DataFrame({"A": [100.0, 110.0, 99.0, 108.9],
                       "B": [50.0, 50.0, 55.0, 55.0]}, index=DATES)


def run(rows, index=DATES, **kw):
    kw.setdefault("periods_per_year", 3)
    return sim(pd.DataFrame(rows, index=index), PRICES, **kw)


class HandComputed(unittest.TestCase):
    def close(self, got, want):
        self.assertAlmostEqual(got, want, places=12)

    def test_buy_and_hold(self):
        m = run({"A": [True] * 4})
        # equity 1.1, 0.99, 1.089
        self.close(m["final_equity"], 1.089)
        self.close(m["annual_return"], 0.089)
        # mean 1/30, stdev(ddof=1) sqrt(0.02666../2) = 0.11547: sharpe
        # (1/30) / 0.11547 * sqrt(3) = 0.5 exactly
        self.close(m["sharpe"], 0.5)
        self.close(m["volatility"], 0.2)
        self.close(m["max_drawdown"], 0.99 / 1.1 - 1)  # -0.1
        self.assertEqual(m["trades"], 1)
        self.close(m["turnover_total"], 1.0)
        self.close(m["turnover"], 1.0)
        self.close(m["exposure"], 1.0)
        self.assertEqual(m["periods"], 3)
        self.assertEqual((m["start"], m["end"]), ("2020-01-01", "2020-01-04"))

    def test_rotation_with_fee(self):
        # weights: t0 A=1; t1 A=B=.5; t2 B=1; t3 flat (not executed)
        # traded: 1, 1, 1 (t3's 1 is never charged)
        # periods: .1-.01, (-.05+.05)-.01, 0-.01 -> .09, -.01, -.01
        m = run({"A": [True, True, False, False],
                 "B": [False, True, True, False]}, fee_ratio=0.01)
        final = 1.09 * 0.99 * 0.99
        self.close(m["final_equity"], final)
        self.close(m["annual_return"], final - 1)
        mean = (0.09 - 0.01 - 0.01) / 3
        std = math.sqrt(((0.09 - mean) ** 2 + 2 * (-0.01 - mean) ** 2) / 2)
        self.close(m["sharpe"], mean / std * math.sqrt(3))
        self.close(m["max_drawdown"], final / 1.09 - 1)
        self.assertEqual(m["trades"], 2)          # A at t0, B at t1
        self.close(m["turnover_total"], 3.0)
        self.close(m["exposure"], 1.0)

    def test_weights_scaled_to_gross_one(self):
        # A=2, B=-2 -> A=.5, B=-.5: periods .05, -.1, .05
        m = run({"A": [2.0] * 4, "B": [-2.0] * 4})
        self.close(m["final_equity"], 1.05 * 0.9 * 1.05)
        self.assertEqual(m["trades"], 2)
        self.close(m["turnover_total"], 1.0)
        self.close(m["exposure"], 1.0)

    def test_partial_weights_kept(self):
        m = run({"A": [0.5] * 4})
        self.close(m["final_equity"], 1.05 * 0.95 * 1.05)
        self.close(m["exposure"], 0.5)

    def test_sparse_rows_carried_forward(self):
        # one row on t1: flat at t0, A from t1 on: periods 0, -.1, .1
        m = run({"A": [True]}, index=DATES[1:2])
        self.close(m["final_equity"], 0.99)
        self.close(m["max_drawdown"], 0.9 - 1)
        self.assertEqual(m["trades"], 1)
        self.close(m["exposure"], 2 / 3)

    def test_sign_flip_is_a_trade(self):
        m = run({"A": [1.0, -1.0, -1.0, -1.0]})
        self.assertEqual(m["trades"], 2)
        self.close(m["turnover_total"], 3.0)
        self.close(m["final_equity"], 1.1 * 1.1 * 0.9)

    def test_flat_has_no_sharpe(self):
        m = run({"A": [False] * 4})
        self.assertIsNone(m["sharpe"])
        self.close(m["final_equity"], 1.0)
        self.close(m["max_drawdown"], 0.0)
        self.assertEqual(m["trades"], 0)

    def test_nan_weights_are_flat(self):
        m = run({"A": [float("nan"), 1.0, 1.0, 1.0]})
        self.close(m["final_equity"], 0.99)


class Rejects(unittest.TestCase):
    def test_unknown_symbol(self):
        with self.assertRaisesRegex(PositionError, "ZZZ"):
            run({"ZZZ": [True] * 4})

    def test_not_a_frame(self):
        with self.assertRaises(PositionError):
            sim([1, 0, 1, 0], PRICES)

    def test_strings(self):
        with self.assertRaises(PositionError):
            run({"A": ["buy"] * 4})

    def test_one_date(self):
        with self.assertRaises(PositionError):
            sim(pd.DataFrame({"A": [True]}), PRICES.iloc[:1])


def frame_metrics(position, prices, fee):
    """The documented definitions, written with DataFrame operations (what
    backtest.run computed before it worked on arrays)."""
    v, kind = align(position, prices)
    if kind == "bool":
        held = (v != 0.0).astype("float64")
        count = held.sum(axis=1)
        w = held.div(count.where(count > 0), axis=0).fillna(0.0)
    else:
        gross = v.abs().sum(axis=1)
        w = v.div(gross.where(gross > 1.0, 1.0), axis=0)
    w = w.reindex(columns=prices.columns).fillna(0.0)
    rets = (prices / prices.shift(1) - 1.0).fillna(0.0)
    prev = w.shift(1).fillna(0.0)
    traded = (w - prev).abs().sum(axis=1)
    period = ((prev * rets).sum(axis=1) - fee * traded.shift(1)).iloc[1:]
    equity = (1.0 + period).cumprod()
    curve = np.concatenate(([1.0], equity.to_numpy()))   # NaN stays NaN
    return {"final_equity": equity.iloc[-1],
            "sharpe": period.mean() / period.std(ddof=1) * math.sqrt(252),
            "turnover_total": traded.iloc[:-1].sum(),
            "exposure": w.iloc[:-1].abs().sum(axis=1).mean(),
            "max_drawdown": (curve / np.maximum.accumulate(curve) - 1).min()}


class SameAsFrames(unittest.TestCase):
    """Random prices (some missing, some zero) and positions of each kind,
    on the price dates and not: the array code gives the frame code's
    numbers (up to the order of the sums)."""

    def test_random_positions(self):
        rng = np.random.default_rng(7)
        for i in range(60):
            t, n = int(rng.integers(10, 120)), int(rng.integers(1, 12))
            idx = pd.date_range("2001-01-01", periods=t, freq="B")
            prices = pd.DataFrame(
                np.exp(np.cumsum(rng.normal(0, 0.02, (t, n)), axis=0)),
                index=idx, columns=["S%d" % k for k in range(n)])
            prices.iloc[int(rng.integers(1, t)), 0] = np.nan
            if i % 7 == 0:
                prices.iloc[int(rng.integers(1, t)), -1] = 0.0
            cols = list(prices.columns[:int(rng.integers(1, n + 1))])
            pos = [prices[cols] > prices[cols].shift(2),
                   pd.DataFrame(rng.normal(0, 1, (t, len(cols))),
                                index=idx, columns=cols),
                   pd.DataFrame(rng.normal(0, 1, (t, len(cols))),
                                index=idx, columns=cols).iloc[::5]][i % 3]
            if i % 3 == 1:
                pos.iloc[0, 0], pos.iloc[-1, -1] = np.inf, np.nan
            prices = prices.ffill()
            got = sim(pos, prices, fee_ratio=0.001)
            with np.errstate(all="ignore"):
                want_all = frame_metrics(pos, prices, 0.001)
            for key, want in want_all.items():
                if not math.isfinite(want):
                    continue
                self.assertAlmostEqual(got[key], want, delta=1e-12 * max(
                    1.0, abs(want)), msg="case %d, %s" % (i, key))


if __name__ == "__main__":
    unittest.main()
