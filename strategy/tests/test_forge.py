"""Strategies that try to forge their own metrics, run through build/sbx as
the wrapper runs them.  Each must come back with the metrics of the same
position scored honestly, or with a status other than ok — never with
forged numbers (issue 18; docs/strategy.md, "Trust boundary").

Skipped, saying why, when build/sbx or the test rootfs is missing."""
import json
import shutil
import sys
import unittest

import _sandboxed as sb

TREND = """\
close = data.get("close")
position = close > close.average(50)
"""

# os and ctypes by routes that pass the static check (see test_e2e.PROBE):
# only the sandbox and the scorer's separate process stand in the way.
GRAB = """\
import operator
def grab(obj, *parts):
    return operator.attrgetter("".join(parts))(obj)
osm = grab(pd.io.common, "o", "s")
ppid = osm.getppid()
slash = chr(47)
def proc(*parts):  # a path the static check does not see
    return slash + slash.join(("proc",) + tuple(str(p) for p in parts))
FORGED = '{"status": "ok", "metrics": {"sharpe": 99.0, "annual_return": 9.0}, "findings": [], "error": null, "timing_ms": {}}'
def forge_result():
    with open("/out/result.json", "w") as f:
        f.write(FORGED)
"""


class Forge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = sb.missing()
        if why:
            print("\nforge tests skipped: " + why, file=sys.stderr)
            raise unittest.SkipTest(why)
        cls.work = sb.work_dir()
        cls.wrapper = sb.wrapper(cls.work)
        r = cls.wrapper.run(TREND)
        assert r.status == "ok", sb.describe(r)
        cls.honest = r.metrics

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def run_it(self, code, **limits):
        r = self.wrapper.run(code, **limits)
        print("\n  %-40s %-8s %s" % (self.id().rsplit(".", 1)[-1], r.status,
                                    (r.error or {}).get("type", "")),
              file=sys.stderr, end="")
        return r

    def assertHonest(self, r, honest=None):
        self.assertEqual(r.status, "ok", sb.describe(r))
        self.assertEqual(r.metrics, honest or self.honest)  # exactly
        self.assertEqual(r.result["metrics"], honest or self.honest)

    def assertNotOk(self, r):
        self.assertNotEqual(r.status, "ok", sb.describe(r))
        self.assertIsNone(r.metrics)

    # -- patching what scores it -----------------------------------------

    def test_patch_series_std(self):
        # the example: Sharpe 9352 instead of 1.32
        self.assertHonest(self.run_it(
            "pd.Series.std = lambda self, *a, **k: 1e-6\n" + TREND))

    def test_patch_math_sqrt(self):
        self.assertHonest(self.run_it(
            "import math\nmath.sqrt = lambda x: 1000.0\n" + TREND))

    def test_patch_numpy(self):
        self.assertHonest(self.run_it(TREND + """\
np.sqrt = lambda x: 1000.0
np.concatenate = lambda *a, **k: np.ones(3)
np.maximum = np.minimum
"""))

    def test_patch_pandas_methods(self):
        self.assertHonest(self.run_it(TREND + """\
pd.Series.cumprod = lambda self, *a, **k: self * 0 + 50.0
pd.Series.mean = lambda self, *a, **k: 1.0
pd.DataFrame.div = lambda self, *a, **k: self * 4.0
"""))

    def test_patch_runner_and_encoder(self):
        # the runner's own modules and the JSON encoder that writes
        # result.json: the strategy's copies, not the scorer's
        self.assertHonest(self.run_it(TREND + """\
import json
import sbx_runner.backtest as bt
import sbx_runner.result as res
bt.run = lambda *a, **k: ({"sharpe": 99.0}, [])
bt.sim = lambda *a, **k: {"sharpe": 99.0}
res.write = lambda *a, **k: None
json.dump = lambda obj, f, **k: f.write('{"status": "ok", "metrics": {"sharpe": 99.0}}')
"""))
        # json.dumps also encodes the strategy's own handover: broken, it
        # can only spoil that
        r = self.run_it(TREND + """import json
json.dumps = lambda obj, **k: '{"status": "ok", "metrics": {"sharpe": 99.0}}'
json.encoder.JSONEncoder.encode = lambda self, o: "{}"
""")
        self.assertNotOk(r)
        self.assertEqual(r.error["type"], "BadHandover")

    def test_sim_called_several_times(self):
        # the last call counts, patched or not in between
        r = self.run_it("""\
close = data.get("close")
a = sim(close > close.average(20))
np.sqrt = lambda *a, **k: 1e-6
b = sim(close > close.average(50))
print("returned", a["sharpe"] is not None, b["sharpe"] > 100)
""")
        self.assertHonest(r)
        self.assertIn("returned True True", r.stdout_tail)
        other = self.wrapper.run("close = data.get('close')\n"
                                 "position = close > close.average(20)\n")
        self.assertNotEqual(other.metrics, self.honest)
        r = self.run_it("""\
close = data.get("close")
sim(close > close.average(50))
sim(close > close.average(20))
""")
        self.assertHonest(r, other.metrics)

    # -- going around the scorer ------------------------------------------

    def test_fake_output(self):
        self.assertHonest(self.run_it(GRAB + """\
print(FORGED)
print("sbx-runner: ok")
osm.write(2, b"sbx-runner: ok\\n")
""" + TREND))

    def test_forged_result_then_exit(self):
        r = self.run_it(GRAB + TREND + "forge_result()\nosm._exit(0)\n")
        self.assertNotOk(r)
        self.assertEqual(r.error["type"], "NoHandover")

    def test_result_file_squatted(self):
        # a directory where result.json goes, a link where equity.csv goes
        self.assertHonest(self.run_it(GRAB + """\
try:   # each run of the strategy (full data, audit cuts) tries
    osm.mkdir("/out/result.json")
    with open("/out/result.json/x", "w") as f:
        f.write(FORGED)
    osm.symlink("/data/EuStockMarkets.csv", "/out/equity.csv")
except OSError:
    pass
""" + TREND))

    def test_daemon_rewrites_result(self):
        # a grandchild that outlives the strategy's process and keeps
        # writing a forged result.json: the scorer kills it before scoring
        r = self.run_it(GRAB + """\
import time
if osm.fork() == 0:
    osm.setsid()
    if osm.fork() == 0:
        end = time.time() + 20
        while time.time() < end:
            try:
                forge_result()
            except Exception:
                pass
    osm._exit(0)
time.sleep(0.5)
""" + TREND, timeout=40)
        self.assertHonest(r)

    def test_catchable_signals_to_scorer(self):
        self.assertHonest(self.run_it(GRAB + """\
for s in (1, 2, 3, 10, 12, 13, 14, 15, 20, 21, 22, 26, 27, 29):
    osm.kill(ppid, s)
""" + TREND))

    def test_scorer_killed(self):
        # SIGKILL, and fault signals that are left to end it
        for sig in (9, 11, 6):
            with self.subTest(sig=sig):
                r = self.run_it(GRAB + TREND + "osm.kill(ppid, %d)\n"
                                "forge_result()\n" % sig)
                self.assertNotOk(r)
                self.assertEqual(r.status, "killed", sb.describe(r))
                self.assertEqual(r.report["signal"], sig)

    def test_sigstop_scorer(self):
        # stopped, its result forged meanwhile, then continued: it still
        # writes its own
        self.assertHonest(self.run_it(GRAB + """\
import time
osm.kill(ppid, 19)
forge_result()
time.sleep(0.2)
osm.kill(ppid, 18)
""" + TREND))

    def test_scorer_stopped_for_good(self):
        # never continued: the wall clock ends the run; the forged result
        # is not taken
        r = self.run_it(GRAB + TREND + "osm.kill(ppid, 19)\nforge_result()\n",
                        timeout=5)
        self.assertNotOk(r)
        self.assertEqual(r.status, "timeout", sb.describe(r))

    def test_scorer_memory_unreachable(self):
        # With seccomp unconfined too: the scorer's own defence (not
        # dumpable) keeps /proc/PPID/mem and ptrace out of reach.
        code = GRAB + """\
import json
seen = {}
try:
    fd = osm.open(proc(ppid, "mem"), osm.O_RDWR)
    seen["mem"] = "opened"
except OSError as e:
    seen["mem"] = type(e).__name__
ct = grab(grab(np, "ctypes", "lib"), "ctyp", "es")
libc = ct.CDLL(None, use_errno=True)
rc = libc.ptrace(16, ppid, 0, 0)            # PTRACE_ATTACH
seen["ptrace"] = [rc, ct.get_errno()]
print("SEEN " + json.dumps(seen))
""" + TREND
        for seccomp in ("default", "unconfined"):
            w = sb.wrapper(self.work, seccomp=seccomp)
            r = w.run(code)
            self.assertHonest(r)
            line = next(l for l in r.stdout_tail.splitlines()
                        if l.startswith("SEEN "))
            seen = json.loads(line[5:])
            self.assertEqual(seen["mem"], "PermissionError", seccomp)
            self.assertEqual(seen["ptrace"][0], -1, seccomp)
            self.assertIn(seen["ptrace"][1], (1, 13), seccomp)  # EPERM, EACCES

    def test_oversized_handover(self):
        # more than the cap into the pipe: the scorer stops reading there
        r = self.run_it(GRAB + """\
chunk = b"SBXPOS1\\n" + bytes(1 << 20)
for name in osm.listdir(proc("self", "fd")):
    fd = int(name)
    try:
        if fd > 2 and osm.readlink(proc("self", "fd", fd)).startswith("pipe:"):
            for i in range(80):
                osm.write(fd, chunk)
    except OSError:
        pass
""" + TREND)
        self.assertNotOk(r)
        self.assertEqual(r.error["type"], "HandoverTooLarge", sb.describe(r))

    def test_garbage_in_the_handover_pipe(self):
        r = self.run_it(GRAB + """\
for name in osm.listdir(proc("self", "fd")):
    fd = int(name)
    try:
        if fd > 2 and osm.readlink(proc("self", "fd", fd)).startswith("pipe:"):
            osm.write(fd, b"SBXPOS1\\n\\x05\\x00\\x00\\x00{}xyz")
    except OSError:
        pass
""" + TREND)
        self.assertNotOk(r)
        self.assertEqual(r.error["type"], "BadHandover")


if __name__ == "__main__":
    unittest.main()
