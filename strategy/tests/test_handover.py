"""The handover's parser and checks (sbx_runner.handover), on messages
built by hand: what a hostile strategy process could send instead of an
honest position.  No sandbox, no subprocess."""
import json
import math
import struct
import unittest

import _paths
import numpy as np
import pandas as pd

from sbx_runner import backtest, handover as ho
from sbx_runner.data import Data

DATA = Data(_paths.DATA_EU).load_all()
CLOSE = DATA.get("close")


def message(header, *blocks):
    raw = json.dumps(header).encode()
    return ho.MAGIC + struct.pack("<I", len(raw)) + raw + b"".join(blocks)


def block(dates, values):
    return (np.asarray(dates, dtype="<i8").tobytes() +
            np.asarray(values, dtype="<f8").tobytes())


def header(rows, columns, kind="float", **kw):
    h = {"kind": kind, "rows": rows, "cols": len(columns),
         "columns": columns, "fee_ratio": 0.0, "periods_per_year": 252,
         "prices": None}
    h.update(kw)
    return h


DATES = CLOSE.index.asi8[:3]


def honest(rows=3, values=None, columns=("DAX",), **kw):
    values = np.full((rows, len(columns)), 0.25) if values is None \
        else values
    return message(header(rows, list(columns), **kw),
                   block(CLOSE.index.asi8[:rows], values))


class Decode(unittest.TestCase):
    def assertRefused(self, buf, kind, text=""):
        with self.assertRaises(ho.HandoverError) as c:
            got = ho.decode(buf)
            ho.validate(got, DATA)
        self.assertEqual(c.exception.kind, kind, str(c.exception))
        self.assertIn(text, str(c.exception))

    def test_round_trip_of_an_honest_position(self):
        pos = CLOSE > CLOSE.rolling(50).mean()
        aligned, kind = backtest.align(pos, CLOSE)
        buf = ho.encode_position(aligned, kind, {"fee_ratio": 0.001,
                                                 "periods_per_year": 252})
        frame, prices, opts = ho.validate(ho.decode(buf), DATA)
        self.assertEqual(opts, {"fee_ratio": 0.001, "periods_per_year": 252})
        self.assertTrue(frame.equals(aligned.astype(bool)))
        self.assertEqual(backtest.sim(frame, prices, **opts),
                         backtest.sim(pos, CLOSE, **opts))

    def test_framing(self):
        good = honest()
        self.assertRefused(b"", "NoHandover")
        self.assertRefused(b"PICKLE\n" + good[7:], "BadHandover", "magic")
        self.assertRefused(good[:-1], "BadHandover", "ends early")
        self.assertRefused(good + b"\0", "BadHandover", "after")
        self.assertRefused(ho.MAGIC + struct.pack("<I", 1 << 30),
                           "BadHandover", "header length")
        raw = b"\x80not json"
        self.assertRefused(ho.MAGIC + struct.pack("<I", len(raw)) + raw,
                           "BadHandover", "not JSON")
        self.assertRefused(message([1, 2]), "BadHandover", "object")
        self.assertRefused(b"x" * (ho.MAX_BYTES + 1), "HandoverTooLarge")

    def test_header_fields(self):
        d = block(DATES, [[0.1]] * 3)
        for h, text in (
                (header(3, ["DAX"], kind="pickle"), "kind"),
                (header(-3, ["DAX"]), "rows"),
                (header(3.0, ["DAX"]), "rows"),
                (dict(header(3, ["DAX"]), cols=2), "column names"),
                (header(3, [7]), "strings"),
                (header(3, ["x" * 500]), "strings"),
                (header(3, ["DAX", "DAX"]), "duplicates"),
                (dict(header(3, ["DAX"]), fee_ratio="0"), "fee_ratio"),
                (dict(header(3, ["DAX"]), prices="open"), "prices"),
                (header(10 ** 9, ["DAX"]), "over the limit")):
            with self.subTest(text=text, h=h):
                self.assertRefused(message(h, d),
                                   "HandoverTooLarge" if "limit" in text
                                   else "BadHandover", text)

    def test_values(self):
        for bad in (math.nan, math.inf, -math.inf):
            v = np.array([[0.1], [bad], [0.1]])
            self.assertRefused(honest(values=v), "PositionError",
                               "%s, DAX is not finite"
                               % CLOSE.index[1].strftime("%Y-%m-%d"))
        self.assertRefused(honest(kind="bool"), "PositionError", "0 and 1")

    def test_labels(self):
        self.assertRefused(honest(columns=("NIKKEI",)), "PositionError",
                           "NIKKEI")
        later = CLOSE.index.asi8[[0, 1]].tolist() + [
            CLOSE.index.asi8[1] + 3600 * 10 ** 9]
        self.assertRefused(message(header(3, ["DAX"]),
                                   block(later, [[0.1]] * 3)),
                           "PositionError", "not a date of the prices")
        back = CLOSE.index.asi8[[2, 1, 0]]
        self.assertRefused(message(header(3, ["DAX"]),
                                   block(back, [[0.1]] * 3)),
                           "PositionError", "increasing")

    def test_options_that_would_inflate_metrics(self):
        self.assertRefused(honest(periods_per_year=10 ** 6),
                           "PositionError", "periods_per_year")
        self.assertRefused(honest(periods_per_year=0), "PositionError",
                           "periods_per_year")
        self.assertRefused(honest(fee_ratio=-0.01), "PositionError",
                           "fee_ratio")

    def test_prices_must_be_the_data(self):
        pos = CLOSE > 0
        aligned, kind = backtest.align(pos, CLOSE)
        opts = {"fee_ratio": 0.0, "periods_per_year": 252}
        part = CLOSE.iloc[100:, :]
        a2, k2 = backtest.align(pos, part)
        frame, prices, _ = ho.validate(ho.decode(
            ho.encode_position(a2, k2, opts, part)), DATA)
        self.assertTrue(prices.equals(part))
        for fake in (CLOSE * 1.01, CLOSE.cumsum(),
                     CLOSE.shift(-1).iloc[:-1]):
            buf = ho.encode_position(*backtest.align(pos, fake), opts, fake)
            self.assertRefused(buf, "PricesError")

    def test_strategy_error_is_sanitised(self):
        got = ho.decode(ho.encode_error({"type": 7, "message": "m" * 10 ** 5,
                                         "line": "3", "traceback": None}))
        self.assertEqual(got, {"type": "Error", "message": "m" * ho.MAX_TEXT,
                               "line": None, "traceback": ""})


class Align(unittest.TestCase):
    def test_same_weights_as_on_the_own_rows(self):
        # NaN on a row is flat on that row, not the row before carried on
        idx = CLOSE.index[[0, 5]]
        pos = pd.DataFrame({"DAX": [0.5, np.nan]}, index=idx)
        v, kind = backtest.align(pos, CLOSE)
        self.assertEqual(kind, "float")
        self.assertEqual(v["DAX"].iloc[:5].tolist(), [0.5] * 5)
        self.assertEqual(v["DAX"].iloc[5:].abs().sum(), 0.0)


if __name__ == "__main__":
    unittest.main()
