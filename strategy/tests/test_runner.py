"""The runner as a program, without a sandbox: exit codes and result.json."""
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest

import _paths


def run_bare(source, data=_paths.DATA_EU, via="file", env=None, args=(),
             files=None):
    """Run the runner on `source`; returns (exit code, result, stderr,
    stdout).  files: a dict that receives the other files of the out
    directory, by name."""
    tmp = tempfile.mkdtemp(prefix="sbx-runner-test-")
    try:
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        src = os.path.join(tmp, "strategy.py")
        with open(src, "w") as f:
            f.write(textwrap.dedent(source))
        arg = "-" if via == "stdin" else (tmp if via == "dir" else src)
        with open(src, "rb") as stdin:
            p = subprocess.run([_paths.PYTHON, _paths.RUNNER, arg,
                                "--data", data, "--out", out] + list(args),
                               stdin=stdin, capture_output=True,
                               env=env if env is not None else
                               {"PYTHONHASHSEED": "0", "LANG": "C.UTF-8"},
                               timeout=120)
        try:
            with open(os.path.join(out, "result.json")) as f:
                result = json.load(f)
        except FileNotFoundError:
            result = None
        if files is not None:
            for name in os.listdir(out):
                if name != "result.json":
                    with open(os.path.join(out, name)) as f:
                        files[name] = f.read()
        return p.returncode, result, p.stderr.decode(), p.stdout.decode()
    finally:
        shutil.rmtree(tmp)


class Runner(unittest.TestCase):
    def test_examples(self):
        for name in _paths.EXAMPLE_STRATEGIES:
            with open(os.path.join(_paths.EXAMPLES, name)) as f:
                rc, res, err, _ = run_bare(f.read())
            self.assertEqual(rc, 0, err)
            self.assertEqual(res["status"], "ok")
            m = res["metrics"]
            for key in ("annual_return", "sharpe", "max_drawdown", "trades",
                        "turnover"):
                self.assertIn(key, m)
            self.assertGreater(m["trades"], 0, name)
            self.assertLessEqual(m["max_drawdown"], 0.0)
            self.assertEqual(m["symbols"], ["DAX", "SMI", "CAC", "FTSE"])

    def test_sources(self):
        src = "position = data.get('close') > 0\n"
        for via in ("file", "dir", "stdin"):
            rc, res, err, _ = run_bare(src, via=via)
            self.assertEqual((rc, res["status"]), (0, "ok"), via + err)
            # buy and hold all four, equal weight: one entry each
            self.assertEqual(res["metrics"]["trades"], 4)

    def test_sim_options_and_return(self):
        rc, res, err, out = run_bare("""
            close = data.get("close")
            r = sim(close > 0, fee_ratio=0.5, periods_per_year=260)
            print("sharpe", r["sharpe"] is not None)
        """)
        self.assertEqual(rc, 0, err)
        self.assertEqual(res["metrics"]["periods_per_year"], 260)
        self.assertEqual(res["metrics"]["fee_ratio"], 0.5)
        self.assertEqual(out, "sharpe True\n")

    def test_equity_csv(self):
        files = {}
        rc, res, err, _ = run_bare("close = data.get('close')\n"
                                   "sim(close > close.average(50))\n",
                                   files=files)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(files), ["equity.csv"])  # no temp file left
        lines = files["equity.csv"].splitlines()
        self.assertEqual(lines[0], "date,equity,drawdown")
        rows = [l.split(",") for l in lines[1:]]
        self.assertEqual(len(rows), res["metrics"]["periods"] + 1)
        self.assertEqual((rows[0][0], rows[-1][0]),
                         (res["metrics"]["start"], res["metrics"]["end"]))
        self.assertEqual(rows[0][1:], ["1.0", "0.0"])
        self.assertEqual(float(rows[-1][1]), res["metrics"]["final_equity"])
        dd = [float(r[2]) for r in rows]
        self.assertTrue(all(d <= 0 for d in dd))
        self.assertEqual(min(dd), res["metrics"]["max_drawdown"])
        # none for a run without metrics, not even one the strategy wrote
        files = {}
        run_bare("x = 1\n", files=files)
        self.assertEqual(files, {})
        tmp = tempfile.mkdtemp(prefix="sbx-runner-test-")
        try:
            src = os.path.join(tmp, "s.py")
            with open(src, "w") as f:
                f.write("o = open\n"
                        "with o(%r + '/equity.csv', 'w') as f:\n"
                        "    f.write('date,equity,drawdown\\n"
                        "1998-08-14,99.0,0.0\\n')\n"
                        "raise ValueError('after a fake equity.csv')\n"
                        % "/".join(tmp.split("/")))
            p = subprocess.run([_paths.PYTHON, _paths.RUNNER, src, "--data",
                                _paths.DATA_EU, "--out", tmp],
                               capture_output=True, timeout=120)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertEqual(sorted(os.listdir(tmp)), ["result.json", "s.py"])
            with open(os.path.join(tmp, "result.json")) as f:
                self.assertIn("fake equity", json.load(f)["error"]["message"])
        finally:
            shutil.rmtree(tmp)

    def test_audit_flag(self):
        src = ("close = data.get('close')\n"
               "position = close.pct_change().shift(-1) > 0\n")
        rc, res, err, _ = run_bare(src)
        self.assertEqual((rc, res["status"], res["error"]["type"]),
                         (2, "rejected", "LookAhead"), err)
        rc, res, err, _ = run_bare(src, args=["--no-audit"])
        self.assertEqual((rc, res["status"]), (0, "ok"), err)
        self.assertEqual(res["audit"], {"enabled": False, "cuts": []})
        self.assertNotIn("audit", res["timing_ms"])

    def test_sim_options_cannot_inflate(self):
        for opt, kind in (("periods_per_year=100000", "PositionError"),
                          ("prices=close * 1.5", "PricesError"),
                          ("prices=close.shift(-5).iloc[:-5]",
                           "PricesError")):
            rc, res, err, _ = run_bare("close = data.get('close')\n"
                                       "sim(close > 0, %s)\n" % opt)
            self.assertEqual((rc, res["error"]["type"]), (1, kind), opt)
        # prices by name, or a part of a table, unchanged: accepted
        for opt in ("prices='close'", "prices=close.iloc[500:]"):
            rc, res, err, _ = run_bare("close = data.get('close')\n"
                                       "sim(close > 0, %s)\n" % opt)
            self.assertEqual(rc, 0, opt + err)

    def test_rejected(self):
        rc, res, err, _ = run_bare("import os\nx = eval('1')\n")
        self.assertEqual(rc, 2)
        self.assertEqual(res["status"], "rejected")
        self.assertEqual([(f["line"], f["col"], f["rule"])
                          for f in res["findings"]],
                         [(1, 1, "import-disallowed"),
                          (2, 5, "call-disallowed")])
        self.assertNotIn("import", res["timing_ms"])  # pandas never loaded
        self.assertIsNone(res["metrics"])

    def test_exception(self):
        rc, res, err, _ = run_bare("""
            close = data.get("close")

            def signal(df):
                return df / 0 if False else 1 / 0

            position = signal(close)
        """)
        self.assertEqual(rc, 1)
        self.assertEqual(res["status"], "error")
        e = res["error"]
        self.assertEqual(e["type"], "ZeroDivisionError")
        self.assertEqual(e["message"], "division by zero")
        self.assertEqual(e["line"], 5)
        self.assertIn('File "<strategy>", line 7', e["traceback"])
        self.assertIn("1 / 0", e["traceback"])
        self.assertNotIn("sbx_runner", e["traceback"])

    def test_exception_that_breaks_str(self):
        rc, res, err, _ = run_bare("""
            class Nasty(Exception):
                def __str__(self):
                    raise RuntimeError("no")

            raise Nasty()
        """)
        self.assertEqual(rc, 1, err)
        self.assertEqual(res["error"]["type"], "Nasty")
        self.assertIn("RuntimeError", res["error"]["message"])

    def test_error_inside_pandas(self):
        rc, res, err, _ = run_bare("close = data.get('close')\n"
                                   "x = close['NOPE']\n")
        self.assertEqual(rc, 1)
        self.assertEqual(res["error"]["type"], "KeyError")
        self.assertEqual(res["error"]["line"], 2)

    def test_bad_position(self):
        rc, res, err, _ = run_bare("position = 'everything'\n")
        self.assertEqual(rc, 1)
        self.assertEqual(res["error"]["type"], "PositionError")

    def test_no_position(self):
        rc, res, err, _ = run_bare("x = 1\n")
        self.assertEqual(rc, 1)
        self.assertEqual(res["error"]["type"], "NoPosition")

    def test_unknown_data(self):
        rc, res, err, _ = run_bare("position = data.get('pe_ratio')\n")
        self.assertEqual(rc, 1)
        self.assertEqual(res["error"]["type"], "DataError")
        self.assertIn("available: close", res["error"]["message"])

    def test_system_exit(self):
        rc, res, err, _ = run_bare("exit(0)\n")
        self.assertEqual(rc, 1)
        self.assertEqual(res["error"]["type"], "SystemExit")

    def test_runtime_open_guard(self):
        # `o = open` hides the call from the static check; the runner's
        # open() still refuses paths outside the data and out directories.
        rc, res, err, _ = run_bare("o = open\no('/etc/' + 'hostname')\n")
        self.assertEqual(rc, 1)
        self.assertEqual(res["error"]["type"], "PermissionError")
        rc, res, err, _ = run_bare("""
            o = open
            d = '%s'
            with o(d + '/EuStockMarkets.csv') as f:
                header = f.readline()
            assert header.startswith('approx_date'), header
            position = data.get('close') > 0
        """ % _paths.DATA_EU)
        self.assertEqual(rc, 0, res)

    def test_runtime_import_guard(self):
        from sbx_runner.execute import _guarded_builtins
        imp = _guarded_builtins(["/data"])["__import__"]
        self.assertEqual(imp("math").__name__, "math")
        for name in ("os", "importlib.util"):
            with self.assertRaises(ImportError):
                imp(name)
        with self.assertRaises(ImportError):
            imp("pandas.io.common", fromlist=("os",))

    def test_what_the_check_misses(self):
        # Reaching os through pandas' own modules passes both layers: the
        # sandbox is the boundary (see the E2E test), not the runner.
        rc, res, err, _ = run_bare("import operator\n"
                                   "m = operator.attrgetter('o' + 's')\n"
                                   "f = m(pd.io.common).getpid\n"
                                   "position = data.get('close') > 0\n")
        self.assertEqual((rc, res["status"]), (0, "ok"))

    def test_builtins_removed(self):
        rc, res, err, _ = run_bare("f = max\nprint(f(1, 2))\n"
                                   "g = [v for k, v in dict(a=1).items()]\n"
                                   "position = data.get('close') > 0\n")
        self.assertEqual(rc, 0, res)

    def test_unreadable_source(self):
        tmp = tempfile.mkdtemp()
        try:
            p = subprocess.run([_paths.PYTHON, _paths.RUNNER,
                                os.path.join(tmp, "missing.py"),
                                "--data", _paths.DATA_EU, "--out", tmp],
                               capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 3)
            with open(os.path.join(tmp, "result.json")) as f:
                self.assertEqual(json.load(f)["error"]["type"], "SourceError")
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
