"""The look-ahead audit, through build/sbx as the wrapper runs it: the
issue's two look-ahead examples are rejected (LookAhead, naming the date
and the symbol), causal idioms and the shipped examples are not, and the
audit can be turned off.

Skipped, saying why, when build/sbx or the test rootfs is missing."""
import os
import shutil
import sys
import unittest

import numpy as np
import pandas as pd

import _paths
import _sandboxed as sb
from sbx_runner import audit

LOOK_AHEAD = {
    # tomorrow's return, known today
    "tomorrow": """\
close = data.get("close")
position = close.pct_change().shift(-1) > 0
""",
    # a threshold computed over the whole sample
    "whole_sample_threshold": """\
close = data.get("close")
ret = close.pct_change(20)
position = ret > ret.quantile(0.6)
""",
    # numeric weights scaled by the whole sample's volatility
    "whole_sample_scale": """\
close = data.get("close")
ret = close.pct_change()
position = (ret.rolling(20).mean() / ret.std()).clip(-1, 1) / 4
""",
}

CAUSAL = {
    "rolling": """\
close = data.get("close")
z = (close - close.rolling(30).mean()) / close.rolling(30).std()
position = (-z).clip(-1, 1) / 4
""",
    "pct_change": """\
close = data.get("close")
position = close.pct_change(10) > 0
""",
    "ewm": """\
close = data.get("close")
position = close.ewm(span=20).mean() > close.ewm(span=60).mean()
""",
    "cross_sectional_rank": """\
close = data.get("close")
mom = close.pct_change(40)
position = mom.rank(axis=1, ascending=False) <= 2
""",
    "resample_last": """\
close = data.get("close")
month = close.resample("M").last()
position = month > month.rolling(3).mean()
""",
}


class Audit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = sb.missing()
        if why:
            print("\naudit tests skipped: " + why, file=sys.stderr)
            raise unittest.SkipTest(why)
        cls.work = sb.work_dir()
        cls.wrapper = sb.wrapper(cls.work)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_look_ahead_rejected(self):
        for name, code in sorted(LOOK_AHEAD.items()):
            with self.subTest(name):
                r = self.wrapper.run(code)
                self.assertEqual(r.status, "rejected", sb.describe(r))
                self.assertIsNone(r.metrics)
                e = r.error
                self.assertEqual(e["type"], "LookAhead")
                self.assertIn(e["symbol"], ("DAX", "SMI", "CAC", "FTSE"))
                self.assertRegex(e["date"], r"^199\d-\d\d-\d\d$")
                self.assertLessEqual(e["date"], e["cut"])
                self.assertIn(e["date"], e["message"])
                self.assertIn(e["symbol"], e["message"])
                self.assertEqual(r.report["exit_code"], 2)

    def test_tomorrow_is_caught_at_the_cut(self):
        # a position from tomorrow's return first differs on the cut date
        # itself: there, the cut data has no tomorrow
        r = self.wrapper.run(LOOK_AHEAD["tomorrow"])
        self.assertEqual(r.error["date"], r.error["cut"])
        self.assertEqual(r.error["cut"], r.result["audit"]["cuts"][0])

    def test_causal_idioms_pass(self):
        for name, code in sorted(CAUSAL.items()):
            with self.subTest(name):
                r = self.wrapper.run(code)
                self.assertEqual(r.status, "ok", sb.describe(r))
                self.assertEqual(len(r.result["audit"]["cuts"]), 2)
                self.assertGreater(r.metrics["trades"], 0)

    def test_examples_pass(self):
        for name in _paths.EXAMPLE_STRATEGIES:
            with self.subTest(name):
                with open(os.path.join(_paths.EXAMPLES, name)) as f:
                    r = self.wrapper.run(f.read())
                self.assertEqual(r.status, "ok", sb.describe(r))
                self.assertEqual(r.result["audit"],
                                 {"enabled": True,
                                  "cuts": ["1995-01-23", "1996-11-04"]})

    def test_fails_only_on_cut_data(self):
        # a value looked up by a later date: on the cut data it is not
        # there, so the strategy raises only there
        r = self.wrapper.run("""\
close = data.get("close")
later = close.loc["1998-01-05"]
position = close > later
""")
        self.assertEqual(r.status, "error", sb.describe(r))
        self.assertEqual(r.error["type"], "AuditError")
        self.assertEqual(r.error["cut"], "1995-01-23")
        self.assertIn("KeyError", r.error["message"])

    def test_audit_off(self):
        w = sb.wrapper(self.work, audit=False)
        r = w.run(LOOK_AHEAD["tomorrow"])
        self.assertEqual(r.status, "ok", sb.describe(r))
        self.assertEqual(r.result["audit"], {"enabled": False, "cuts": []})
        self.assertIn("--no-audit", r.command)


class Compare(unittest.TestCase):
    """audit.cut_dates and audit.compare on their own (no sandbox)."""

    dates = pd.date_range("2020-01-01", periods=10, freq="D")

    def frame(self, **cols):
        return pd.DataFrame(cols, index=self.dates[:len(next(iter(
            cols.values())))], dtype="float64")

    def test_cut_dates(self):
        idx = pd.date_range("2000-01-03", periods=1860, freq="B")
        self.assertEqual(audit.cut_dates(idx), [idx[930], idx[1395]])
        self.assertEqual(audit.cut_dates(idx[:3]), [])
        # never the last date: a cut there would compare nothing new
        self.assertEqual(audit.cut_dates(idx[:4]), [idx[2]])

    def test_equal_up_to_the_cut(self):
        full = self.frame(A=np.arange(10.0))
        cut = full.iloc[:6].copy()
        self.assertIsNone(audit.compare(full, cut, self.dates[5]))
        # noise in the last bits is not a different position
        self.assertIsNone(audit.compare(full, cut * (1 + 1e-13),
                                        self.dates[5]))
        # rows after the cut are not compared
        late = cut.reindex(self.dates[:8]).fillna(99.0)
        self.assertIsNone(audit.compare(full, late, self.dates[5]))

    def test_first_difference_is_named(self):
        full = self.frame(A=np.ones(10), B=np.zeros(10))
        cut = self.frame(A=np.ones(6), B=[0, 0, 0, 0.5, 0.5, 0.5])
        d = audit.compare(full, cut, self.dates[5])
        self.assertEqual((d["type"], d["date"], d["symbol"], d["cut"]),
                         ("LookAhead", "2020-01-04", "B", "2020-01-06"))
        self.assertEqual((d["full_value"], d["cut_value"]), (0.0, 0.5))

    def test_symbol_held_only_in_the_cut_run(self):
        full = self.frame(A=np.ones(10))
        cut = self.frame(A=np.ones(6), C=[0, 0, 0, 0, 0, 1.0])
        d = audit.compare(full, cut, self.dates[5])
        self.assertEqual((d["date"], d["symbol"]), ("2020-01-06", "C"))

    def test_cut_rows_carry_forward(self):
        full = self.frame(A=[1, 1, 1, 0, 0, 0, 1, 1, 1, 1.0])
        # rows on dates 0 and 3 only: held through 2 and through 5
        self.assertIsNone(audit.compare(full, full.iloc[[0, 3]],
                                        self.dates[5]))
        # a NaN row carries the row before it
        gap = full.iloc[:6].copy()
        gap.iloc[4, 0] = np.nan
        self.assertIsNone(audit.compare(full, gap, self.dates[5]))
        # before the cut run's first row it is flat
        d = audit.compare(full, full.iloc[[2]], self.dates[5])
        self.assertEqual((d["date"], d["cut_value"]), ("2020-01-01", 0.0))

    def test_booleans_against_numbers(self):
        full = self.frame(A=np.ones(10)).astype(bool)
        self.assertIsNone(audit.compare(full, self.frame(A=np.ones(6)),
                                        self.dates[5]))


if __name__ == "__main__":
    unittest.main()
