"""The data API over the shipped CSVs and small hand-made directories."""
import os
import shutil
import tempfile
import unittest

import _paths
import pandas as pd
from sbx_runner import finlab_ext
from sbx_runner.data import Data, DataError


class EuStockMarkets(unittest.TestCase):
    def setUp(self):
        self.data = Data(_paths.DATA_EU)

    def test_names(self):
        self.assertEqual(self.data.names(), ["close", "EuStockMarkets"])

    def test_close(self):
        close = self.data.get("close")
        self.assertEqual(list(close.columns), ["DAX", "SMI", "CAC", "FTSE"])
        self.assertEqual(len(close), 1860)
        self.assertIsInstance(close.index, pd.DatetimeIndex)
        self.assertEqual(close.index.name, "date")
        self.assertTrue(close.index.is_monotonic_increasing)
        self.assertEqual(str(close.index[0].date()), "1991-07-01")
        self.assertEqual(str(close.index[-1].date()), "1998-08-14")
        self.assertEqual(close.iloc[0].tolist(),
                         [1628.75, 1678.1, 1772.8, 2443.6])
        self.assertEqual(close.iloc[-1].tolist(),
                         [5473.72, 7676.3, 3995.0, 5455.0])
        self.assertTrue((close.dtypes == "float64").all())
        self.assertFalse(close.isna().any().any())

    def test_aliases(self):
        for name in ("price:close", "Close", "price:收盤價"):
            self.assertTrue(self.data.get(name).equals(self.data.get("close")))

    def test_whole_file(self):
        t = self.data.get("EuStockMarkets")
        self.assertEqual(list(t.columns), ["DAX", "SMI", "CAC", "FTSE"])

    def test_copy(self):
        a = self.data.get("close")
        a.iloc[0, 0] = -1.0
        self.assertEqual(self.data.get("close").iloc[0, 0], 1628.75)

    def test_unknown(self):
        with self.assertRaises(DataError) as cm:
            self.data.get("volume")
        self.assertIn("available: close, EuStockMarkets", str(cm.exception))
        with self.assertRaises(KeyError):  # DataError is a KeyError
            self.data.get(3)


class Ohlcv(unittest.TestCase):
    def test_xts(self):
        data = Data(_paths.DATA_XTS)
        self.assertEqual(data.names(), ["open", "high", "low", "close",
                                        "xts_sample_matrix"])
        o = data.get("open")
        self.assertEqual(list(o.columns), ["xts_sample_matrix"])
        self.assertEqual(len(o), 180)
        self.assertAlmostEqual(o.iloc[0, 0], 50.0397819115463, places=12)
        self.assertAlmostEqual(data.get("close").iloc[0, 0],
                               50.1177772350145, places=12)


class HandMade(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def test_join_wide_and_ohlcv(self):
        self.write("wide.csv", "date,AAA,BBB\n2020-01-02,1,2\n"
                               "2020-01-01,3,4\n")
        self.write("CCC.csv", "Date,Open,High,Low,Close,Volume\n"
                              "2020-01-02,9,9,9,10,100\n")
        self.write("notes.txt", "not data")
        data = Data(self.dir)
        self.assertEqual(data.names(), ["open", "high", "low", "close",
                                        "volume", "CCC", "wide"])
        close = data.get("close")
        self.assertEqual(sorted(close.columns), ["AAA", "BBB", "CCC"])
        self.assertEqual(close.loc["2020-01-01", "AAA"], 3.0)  # sorted
        self.assertEqual(close.loc["2020-01-02", "CCC"], 10.0)
        self.assertTrue(pd.isna(close.loc["2020-01-01", "CCC"]))
        self.assertEqual(data.get("volume").iloc[0, 0], 100.0)

    def test_wide_file_named_by_field(self):
        self.write("volume.csv", "date,AAA\n2020-01-01,5\n")
        self.assertEqual(Data(self.dir).names(), ["volume", "volume"])

    def test_duplicate_symbol(self):
        self.write("a.csv", "date,AAA\n2020-01-01,1\n")
        self.write("b.csv", "date,AAA\n2020-01-01,1\n")
        with self.assertRaises(DataError):
            Data(self.dir).get("close")

    def test_no_date_column(self):
        self.write("a.csv", "when,AAA\n2020-01-01,1\n")
        with self.assertRaises(DataError):
            Data(self.dir)


class FinlabHelpers(unittest.TestCase):
    def setUp(self):
        finlab_ext.install()
        self.df = pd.DataFrame({"A": [1.0, 2.0, 3.0, 2.0],
                                "B": [4.0, 1.0, 1.0, 5.0]})

    def test_average(self):
        a = self.df.average(2)
        self.assertTrue(pd.isna(a.iloc[0, 0]))
        self.assertEqual(a["A"].tolist()[1:], [1.5, 2.5, 2.5])

    def test_rise_fall(self):
        self.assertEqual(self.df.rise()["A"].tolist(),
                         [False, True, True, False])
        self.assertEqual(self.df.fall()["B"].tolist(),
                         [False, True, False, False])

    def test_largest_smallest(self):
        self.assertEqual(self.df.is_largest(1)["A"].tolist(),
                         [False, True, True, False])
        self.assertEqual(self.df.is_smallest(1)["B"].tolist(),
                         [False, True, True, False])

    def test_sustain(self):
        s = (self.df > 1).sustain(2)
        self.assertEqual(s["A"].tolist(), [False, False, True, True])


if __name__ == "__main__":
    unittest.main()
