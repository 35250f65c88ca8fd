"""Backtest metrics against values computed by hand on a 4-date series.

Prices: A 100, 110, 99, 108.9 (returns +10%, -10%, +10%);
        B  50,  50, 55,  55   (returns 0, +10%, 0).
periods_per_year = 3, so the three periods are exactly one year.
"""
import math
import unittest

import _paths  # noqa: F401
import pandas as pd
from sbx_runner.backtest import PositionError, sim

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


if __name__ == "__main__":
    unittest.main()
