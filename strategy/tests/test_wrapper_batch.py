"""Batches without a sandbox: run_many's order, concurrency and executors,
the progress display, the leaderboard, equity.csv, the report directory and
the CLI, against a fake sbx that plays back what the source asks for."""
import concurrent.futures as cf
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import _paths
import sbx_equity
import sbx_leaderboard
import sbx_progress
import sbx_report
import sbx_text
import sbx_wrapper as sw

# A stand-in for `sbx run`: the strategy source (stdin) is a JSON object
# saying what the run should look like.  It writes the report and /out's
# files where the wrapper told it to, like sbx does after a run.
FAKE_SBX = r'''#!/usr/bin/python3
import json, os, sys, time
args = sys.argv[1:]
out = args[args.index("--out") + 1].rsplit(":", 1)[0]
report = args[args.index("--report") + 1]
spec = json.loads(sys.stdin.read())
running = spec.get("running")
if running:
    mark = os.path.join(running, str(os.getpid()))
    open(mark, "w").close()
    with open(os.path.join(running, "..", "seen"), "a") as f:
        f.write("%d\n" % len(os.listdir(running)))
time.sleep(spec.get("sleep", 0))
if running:
    os.unlink(mark)
rep = {"status": "exited", "exit_code": 0, "signal": None,
       "oom_killed": False, "timed_out": False, "error": None,
       "wall_ms": 10.0, "memory_peak_bytes": 1 << 20,
       "seccomp_denials": spec.get("denials", [])}
rep.update(spec.get("report", {}))
json.dump(rep, open(report, "w"))
if "result" in spec:
    json.dump(spec["result"], open(os.path.join(out, "result.json"), "w"))
if "equity" in spec:
    open(os.path.join(out, "equity.csv"), "w").write(spec["equity"])
sys.exit(rep["exit_code"] or 0)
'''

CURVE = ("date,equity,drawdown\n1991-07-01,1.0,0.0\n1991-07-02,1.1,0.0\n"
         "1991-07-03,0.99,-0.1\n1991-07-04,1.2,0.0\n")


def ok(sharpe, **kw):
    spec = {"result": {"status": "ok", "metrics": {
        "sharpe": sharpe, "annual_return": 0.05, "max_drawdown": -0.1,
        "trades": 3}}, "equity": CURVE}
    spec.update(kw)
    return json.dumps(spec)


class Fake(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sbx-batch-test-")
        self.sbx = os.path.join(self.work, "fake-sbx")
        with open(self.sbx, "w") as f:
            f.write(FAKE_SBX)
        os.chmod(self.sbx, stat.S_IRWXU)
        self.runs = os.path.join(self.work, "runs")
        os.mkdir(self.runs)
        self.cfg = {"sbx": self.sbx, "rootfs": "/nonexistent",
                    "work_dir": self.runs, "data_dir": _paths.DATA_EU}
        self.w = sw.SandboxExecutionWrapper(self.cfg)

    def tearDown(self):
        self.assertEqual(os.listdir(self.runs), [], "temp dirs left behind")
        shutil.rmtree(self.work)


class RunMany(Fake):
    def test_input_order_and_at_most_workers_at_once(self):
        running = os.path.join(self.work, "running")
        os.mkdir(running)
        # the first ones take longest, so they end last
        sources = [ok(i, sleep=0.6 - 0.1 * i, running=running)
                   for i in range(6)]
        calls = []
        rs = self.w.run_many(sources, workers=3,
                             progress=lambda i, r: calls.append(i))
        self.assertEqual([r.status for r in rs], ["ok"] * 6)
        self.assertEqual([r.metrics["sharpe"] for r in rs], list(range(6)))
        self.assertEqual(sorted(calls), list(range(6)))
        self.assertNotEqual(calls, list(range(6)), "not run concurrently")
        with open(os.path.join(self.work, "seen")) as f:
            seen = [int(l) for l in f]
        self.assertLessEqual(max(seen), 3)
        self.assertGreater(max(seen), 1)

    def test_workers_one_is_sequential(self):
        running = os.path.join(self.work, "running")
        os.mkdir(running)
        rs = self.w.run_many([ok(i, sleep=0.05, running=running)
                              for i in range(4)], workers=1)
        self.assertEqual([r.metrics["sharpe"] for r in rs], [0, 1, 2, 3])
        with open(os.path.join(self.work, "seen")) as f:
            self.assertEqual({int(l) for l in f}, {1})

    def test_workers_bound_a_larger_executor(self):
        running = os.path.join(self.work, "running")
        os.mkdir(running)
        with cf.ThreadPoolExecutor(8) as ex:
            rs = self.w.run_many([ok(i, sleep=0.2, running=running)
                                  for i in range(6)], workers=2, executor=ex)
        self.assertEqual([r.status for r in rs], ["ok"] * 6)
        with open(os.path.join(self.work, "seen")) as f:
            self.assertLessEqual(max(int(l) for l in f), 2)

    def test_any_executor_process_pool(self):
        # the wrapper and its results cross a process boundary, as with dask
        with cf.ProcessPoolExecutor(2) as ex:
            rs = self.w.run_many([ok(1), ok(2), "not json"], executor=ex)
        self.assertEqual([r.status for r in rs], ["ok", "ok", "sandbox_error"])
        self.assertEqual(rs[1].equity["equity"], [1.0, 1.1, 0.99, 1.2])

    def test_a_lost_run_is_a_result(self):
        class Flaky(cf.ThreadPoolExecutor):
            n = 0

            def submit(self, fn, *a, **kw):
                Flaky.n += 1
                if Flaky.n == 2:
                    f = cf.Future()
                    f.set_exception(ConnectionError("worker died"))
                    return f
                return super().submit(fn, *a, **kw)

        with Flaky(2) as ex:
            rs = self.w.run_many([ok(1), ok(2), ok(3)], executor=ex)
        self.assertEqual([r.status for r in rs],
                         ["ok", "sandbox_error", "ok"])
        self.assertEqual(rs[1].error["type"], "ExecutorError")
        self.assertIn("worker died", rs[1].error["message"])

    def test_caller_mistakes(self):
        with self.assertRaises(TypeError):
            self.w.run_many([b"bytes"])
        with self.assertRaises(ValueError):
            self.w.run_many(["x"], workers=0)
        self.assertEqual(self.w.run_many([]), [])

    def test_seccomp_denials_kept(self):
        r = self.w.run(ok(1, denials=[{"syscall": "unshare", "count": 2}]))
        self.assertEqual(r.seccomp_denials, [{"syscall": "unshare",
                                              "count": 2}])
        self.assertEqual(r.summary("s.py")["seccomp_denials"],
                         r.seccomp_denials)


class Equity(Fake):
    def test_read_from_out(self):
        r = self.w.run(ok(1))
        self.assertEqual(r.equity["date"][0], "1991-07-01")
        self.assertEqual(r.equity["drawdown"], [0.0, 0.0, -0.1, 0.0])
        self.assertIsNone(r.equity_error)

    def test_hostile_files_are_refused(self):
        bad = {
            "header": "a,b,c\n1991-07-01,1,0\n",
            "nan": "date,equity,drawdown\n1991-07-01,nan,0\n",
            "inf": "date,equity,drawdown\n1991-07-01,1,-inf\n",
            "positive drawdown": "date,equity,drawdown\n1991-07-01,1,0.5\n",
            "date": "date,equity,drawdown\n<script>,1,0\n",
            "fields": "date,equity,drawdown\n1991-07-01,1,0,7\n",
            "not ascii": "date,equity,drawdown\n1991-07-01,1\u202e,0\n",
            "empty": "date,equity,drawdown\n",
        }
        for why, text in bad.items():
            r = self.w.run(ok(1, equity=text))
            self.assertEqual(r.status, "ok", why)
            self.assertIsNone(r.equity, why)
            self.assertTrue(r.equity_error.startswith("equity.csv: "), why)

    def test_size_and_rows_are_bounded(self):
        row = b"1991-07-01,1.0,0.0\n"
        big = b"date,equity,drawdown\n" + row * (sbx_equity.MAX_ROWS + 1)
        with self.assertRaisesRegex(sbx_equity.EquityError, "rows"):
            sbx_equity.parse(big)
        path = os.path.join(self.work, "huge.csv")
        with open(path, "wb") as f:
            f.truncate(1 << 30)     # sparse: 1 GiB on paper
        curve, err = sbx_equity.read(path)
        self.assertIsNone(curve)
        self.assertIn("larger than", err)

    def test_kept_curve_is_bounded(self):
        # the largest file accepted: what a result holds is still small
        rows = ["1991-07-01,%d.0,%s" % (i, "-0.9" if i == 77777 else "-0.1")
                for i in range(sbx_equity.MAX_ROWS)]
        c = sbx_equity.parse(("date,equity,drawdown\n" + "\n".join(rows))
                             .encode())
        self.assertEqual(c["rows"], sbx_equity.MAX_ROWS)
        self.assertLessEqual(len(c["date"]), sbx_equity.MAX_POINTS)
        self.assertEqual(len(c["equity"]), len(c["drawdown"]))
        self.assertEqual(c["equity"][0], 0.0)
        self.assertEqual(c["equity"][-1], sbx_equity.MAX_ROWS - 1.0)
        self.assertEqual(min(c["drawdown"]), -0.9)   # the deepest is kept
        short = sbx_equity.parse(CURVE.encode())
        self.assertEqual((short["rows"], len(short["date"])), (4, 4))

    def test_no_file_is_no_error(self):
        spec = json.loads(ok(1))
        del spec["equity"]
        r = self.w.run(json.dumps(spec))
        self.assertEqual((r.equity, r.equity_error), (None, None))


def result(status, **kw):
    return sw.ExecutionResult(status=status, **kw)


class Leaderboard(unittest.TestCase):
    def test_ranked_by_sharpe_then_failures(self):
        names = ["a", "b", "c", "d", "e", "f"]
        rs = [result("ok", metrics={"sharpe": 0.5}),
              result("ok", metrics={"sharpe": float("nan")}),
              result("ok", metrics={"sharpe": 1.5}),
              result("error", error={"type": "KeyError", "message": "x"}),
              result("ok", metrics={"sharpe": "9.9"}),   # forged: a string
              result("ok", metrics={"sharpe": -0.2})]
        ranked, failed = sbx_leaderboard.rank(names, rs)
        self.assertEqual([e["name"] for e in ranked],
                         ["c", "a", "f", "b", "e"])
        self.assertEqual([e["name"] for e in failed], ["d"])
        text = sbx_leaderboard.format_text(names, rs)
        self.assertLess(text.index("   1  c"), text.index("   2  a"))
        self.assertIn("Failed:", text)

    def test_each_failure_mode_says_why(self):
        tb = ("Traceback (most recent call last):\n"
              '  File "<strategy>", line 3, in <module>\n'
              '    position = momentum["NIKKEI"] > 1\n'
              "KeyError: 'NIKKEI'\n")
        cases = {
            "rejected": result("rejected", findings=[
                {"line": 1, "col": 1, "rule": "import-disallowed",
                 "message": "import of os is not allowed"},
                {"line": 3, "col": 5, "rule": "attribute-disallowed",
                 "message": "os.system"}],
                error=None),
            "error": result("error", error={
                "type": "KeyError", "message": "'NIKKEI'", "line": 3,
                "traceback": tb}),
            "timeout": result("timeout", error={"type": "Timeout"},
                              report={"wall_ms": 4012.0}),
            "oom": result("oom", error={"type": "OutOfMemory"},
                          report={"memory_peak_bytes": 200 << 20}),
            "seccomp": result("error", error={
                "type": "PermissionError", "message": "refused"},
                report={"seccomp_denials": [
                    {"syscall": "unshare", "count": 1},
                    {"syscall": "mount", "count": 2}]}),
        }
        why = {k: sbx_leaderboard.reason(r) for k, r in cases.items()}
        self.assertIn("static check", why["rejected"][0])
        self.assertEqual(why["rejected"][1:], [
            "line 1, col 1: import-disallowed: import of os is not allowed",
            "line 3, col 5: attribute-disallowed: os.system"])
        self.assertEqual(why["error"][0], "KeyError: 'NIKKEI' (line 3)")
        self.assertEqual(why["error"][-1], "KeyError: 'NIKKEI'")
        self.assertIn('line 3, in <module>', why["error"][-3])
        self.assertEqual(why["timeout"],
                         ["timeout: killed at the wall-clock limit after "
                          "4.0 s"])
        self.assertEqual(why["oom"],
                         ["oom: killed at the memory limit (peak 200 MiB)"])
        self.assertEqual(why["seccomp"][0],
                         "blocked by seccomp: denied unshare x1, mount x2")
        text = sbx_leaderboard.format_text(list(cases), list(cases.values()))
        for lines in why.values():
            for line in lines:
                self.assertIn(line, text)

    def test_no_terminal_escapes_from_the_sandbox(self):
        evil = "\x1b]0;pwned\x07\x1b[2J\u202egnp.exe\r"
        rs = [result("error", error={"type": evil, "message": evil,
                                     "traceback": evil}),
              result("rejected", findings=[{"line": evil, "col": 1,
                                            "rule": evil, "message": evil}])]
        text = sbx_leaderboard.format_text([evil, "b"], rs)
        for ch in "\x1b\x07\u202e\r":
            self.assertNotIn(ch, text)
        self.assertIn("\\x1b]0;pwned", text)

    def test_long_text_is_cut(self):
        self.assertEqual(len(sbx_text.clean("x" * 10000, 100)), 105)


class ProgressDisplay(unittest.TestCase):
    def clock(self):
        self.now += 1.0
        return self.now

    def test_plain_lines_when_not_a_terminal(self):
        self.now = 0.0
        s = io.StringIO()
        p = sbx_progress.Progress(s, names=["a.py", "b.py", "c.py"],
                                  clock=self.clock)
        self.assertFalse(p.tty)
        p.start(3)
        p(1, result("ok"))
        p(0, result("timeout"))
        p.finish()
        lines = s.getvalue().splitlines()
        self.assertEqual(len(lines), 2)
        self.assertNotIn("\r", s.getvalue())
        self.assertRegex(lines[0], r"^\[1/3  [0-9.]+/s  ETA [0-9:]+  "
                         r"failed 0\] ok +b\.py")
        self.assertRegex(lines[1], r"^\[2/3 .* failed 1\] timeout +a\.py")

    def test_bar_on_a_terminal(self):
        self.now = 0.0
        s = io.StringIO()
        p = sbx_progress.Progress(s, tty=True, clock=self.clock)
        p.start(4)
        p(0, result("ok"))
        p(1, result("error"))
        p.finish()
        out = s.getvalue()
        self.assertTrue(out.startswith("\r["))
        self.assertIn("\r[############------------] 2/4", out)
        self.assertIn("failed 1", out)
        self.assertRegex(out, r"ETA \d+:\d\d")
        self.assertTrue(out.endswith("\n"))


class Report(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sbx-report-test-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def batch(self):
        curve = sbx_equity.parse(CURVE.encode())
        evil = "<script>alert(1)</script>"
        names = ["good.py", "../../etc/pass$wd$.py", "bad.py"]
        rs = [result("ok", metrics={"sharpe": 1.0}, equity=curve),
              result("ok", metrics={"sharpe": 2.0}, equity=curve),
              result("error", error={"type": evil, "message": evil,
                                     "traceback": evil})]
        return names, rs

    def test_pngs_and_a_self_contained_page(self):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.skipTest("python3-matplotlib is not installed")
        names, rs = self.batch()
        index, warnings = sbx_report.write(self.dir, names, rs)
        self.assertEqual(warnings, [])
        self.assertEqual(sorted(os.listdir(self.dir)),
                         ["001-good.png", "002-pass_wd.png",
                          "comparison.png", "index.html"])
        for n in os.listdir(self.dir):
            if n.endswith(".png"):
                with open(os.path.join(self.dir, n), "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        with open(index, encoding="utf-8") as f:
            page = f.read()
        self.assertEqual(page.count("data:image/png;base64,"), 3)
        self.assertNotIn("<script", page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertNotIn('src="http', page)
        # ranked: the second input (Sharpe 2) first
        self.assertLess(page.index("pass$wd$"), page.index("good.py"))

    def test_without_matplotlib_the_page_says_why(self):
        names, rs = self.batch()
        with mock.patch.dict(sys.modules, {"matplotlib": None}):
            index, warnings = sbx_report.write(self.dir, names, rs)
        self.assertEqual(len(warnings), 1)
        self.assertIn("apt-get install python3-matplotlib", warnings[0])
        self.assertEqual(os.listdir(self.dir), ["index.html"])
        with open(index, encoding="utf-8") as f:
            self.assertIn("python3-matplotlib", f.read())


class Cli(Fake):
    def cli(self, *args):
        cfg = os.path.join(self.work, "c.yaml")
        with open(cfg, "w") as f:
            json.dump({"sandbox": self.cfg}, f)   # JSON is YAML
        return subprocess.run(
            [sys.executable, os.path.join(_paths.WRAPPER_DIR,
                                          "sbx_wrapper.py"),
             "--config", cfg] + list(args),
            capture_output=True, text=True, timeout=120)

    def strategy(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_jsonl_leaderboard_and_report(self):
        paths = [self.strategy("s%d.py" % i, ok(i, sleep=0.3 - 0.1 * i))
                 for i in range(3)]
        paths.append(self.strategy("rej.py", json.dumps({
            "result": {"status": "rejected", "findings": [
                {"line": 2, "col": 7, "rule": "url-literal",
                 "message": "URL"}]},
            "report": {"exit_code": 2}})))
        jsonl = os.path.join(self.work, "r.jsonl")
        rep = os.path.join(self.work, "report")
        p = self.cli("--workers", "3", "--jsonl", jsonl, "--report-dir", rep,
                     *paths)
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(jsonl) as f:
            lines = [json.loads(l) for l in f]
        self.assertEqual([l["strategy"] for l in lines], paths)
        self.assertEqual(set(lines[0]), {"strategy", "status", "metrics",
                                         "findings", "error", "wall_time",
                                         "seccomp_denials"})
        self.assertEqual([l["status"] for l in lines],
                         ["ok", "ok", "ok", "rejected"])
        self.assertIn("Leaderboard: 4 strategies, 3 ran, 1 failed",
                      p.stdout)
        self.assertIn("line 2, col 7: url-literal: URL", p.stdout)
        self.assertIn("report: %s/index.html" % rep, p.stdout)
        # stderr is a pipe here: plain progress lines, no bar
        self.assertEqual(len([l for l in p.stderr.splitlines()
                              if l.startswith("[")]), 4, p.stderr)
        self.assertNotIn("\r", p.stderr)
        self.assertTrue(os.path.exists(os.path.join(rep, "index.html")))

    def test_json_on_stdout_leaderboard_on_stderr(self):
        path = self.strategy("s.py", ok(0.7))
        p = self.cli(path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["metrics"]["sharpe"], 0.7)
        self.assertIn("Leaderboard", p.stderr)

    def test_usage_errors(self):
        p = self.cli("--workers", "0", "x.py")
        self.assertEqual(p.returncode, 2)
        p = self.cli(os.path.join(self.work, "missing.py"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("missing.py", p.stderr)


if __name__ == "__main__":
    unittest.main()
