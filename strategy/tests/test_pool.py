"""The wrapper with sandbox.pool: it starts an `sbx pool`, runs strategies
through it with results byte-identical to cold runs, and stops it leaving
nothing behind.  Needs root (the pool's jobs need a cgroup), build/sbx and
the test rootfs; skipped otherwise, saying why."""
import json
import os
import shutil
import unittest

import _paths
import _sandboxed as sb
import sbx_wrapper as sw

POOL = {"size": 2, "preload": ["pandas", "numpy"]}


def example(name):
    with open(os.path.join(_paths.EXAMPLES, name)) as f:
        return f.read()


def comparable(r):
    """What must not differ between a cold and a pooled run: everything
    but the runner's own stopwatch."""
    result = dict(r.result or {})
    result.pop("timing_ms", None)
    return (r.status, r.exit_code, json.dumps(result, sort_keys=True),
            r.stdout_tail, r.stderr_tail, r.findings)


@unittest.skipIf(os.geteuid() != 0, "pool jobs need a cgroup: run as root")
@unittest.skipIf(sb.missing(), sb.missing() or "")
class PoolWrapperTest(unittest.TestCase):
    def setUp(self):
        self.work = sb.work_dir()

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def test_results_identical_to_cold_runs(self):
        cold = sb.wrapper(self.work)
        with sb.wrapper(self.work, pool=POOL) as pooled:
            for name in _paths.EXAMPLE_STRATEGIES:
                code = example(name)
                c = cold.run(code)
                p = pooled.run(code)
                self.assertEqual(c.status, "ok", name + sb.describe(c))
                self.assertEqual(comparable(p), comparable(c), name)
                self.assertIn("pool", p.report)
                self.assertNotIn("pool", c.report)
            # a strategy that fails, and one the static check rejects
            for code in ("raise KeyError('x')\n", "import os\n"):
                self.assertEqual(comparable(pooled.run(code)),
                                 comparable(cold.run(code)), code)

    def test_run_many_through_the_pool(self):
        codes = [example(n) for n in _paths.EXAMPLE_STRATEGIES] * 2
        cold = sb.wrapper(self.work).run_many(codes, workers=2)
        with sb.wrapper(self.work, pool=POOL) as pooled:
            warm = pooled.run_many(codes, workers=2)
        self.assertEqual([comparable(r) for r in warm],
                         [comparable(r) for r in cold])
        self.assertTrue(all("pool" in r.report for r in warm))

    def test_copies_in_other_processes_use_the_same_pool(self):
        from concurrent.futures import ProcessPoolExecutor
        code = example("ma_trend.py")
        with sb.wrapper(self.work, pool=POOL) as pooled, \
                ProcessPoolExecutor(2) as ex:
            rs = pooled.run_many([code] * 3, executor=ex)
            sock = pooled._pool[1]
        self.assertEqual([r.status for r in rs], ["ok"] * 3)
        for r in rs:
            self.assertIn("--pool", r.command)
            self.assertEqual(r.command[r.command.index("--pool") + 1], sock)

    def test_pool_is_stopped_and_leaves_nothing(self):
        w = sb.wrapper(self.work, pool=POOL)
        r = w.run(example("ma_trend.py"))
        self.assertEqual(r.status, "ok", sb.describe(r))
        proc, sock, d = w._pool
        self.assertTrue(os.path.exists(sock))
        w.close()
        self.assertIsNotNone(proc.poll(), "sbx pool still runs")
        self.assertEqual(proc.returncode, 0)
        self.assertFalse(os.path.exists(d))
        self.assertEqual(os.listdir(self.work), [])

    def test_bad_pool_config(self):
        for bad in ({"size": 0}, {"size": "2"}, {"preload": "pandas"},
                    {"preload": ["os; rm"]}, {"sizes": 2}, [2]):
            with self.assertRaises(sw.ConfigError, msg=repr(bad)):
                sb.wrapper(self.work, pool=bad)


if __name__ == "__main__":
    unittest.main()
