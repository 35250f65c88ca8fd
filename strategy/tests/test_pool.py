"""The wrapper with sandbox.pool: it starts an `sbx pool`, runs strategies
through it with results byte-identical to cold runs, and stops it leaving
nothing behind.  Needs root (the pool's jobs need a cgroup), build/sbx and
the test rootfs; skipped otherwise, saying why."""
import json
import os
import shutil
import subprocess
import tempfile
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

    def test_job_with_another_runner_does_not_use_the_zygotes_copy(self):
        """The zygotes preloaded the wrapper's runner_dir; a job that runs
        another copy of the runner (here bound at /strategy) runs that
        copy's code, not the zygote's."""
        other = os.path.join(self.work, "other-runner")
        shutil.copytree(_paths.RUNNER_DIR, other,
                        ignore=shutil.ignore_patterns("__pycache__"))
        with open(os.path.join(other, "sbx_runner", "main.py"), "a") as f:
            f.write("\n_main = main\n\n\ndef main(argv=None):\n"
                    "    print('the other runner', file=sys.stderr)\n"
                    "    return _main(argv)\n")
        os.chmod(self.work, 0o755)
        with sb.wrapper(self.work, pool=POOL) as pooled:
            sock = pooled.start_pool()
            cmd = [sb.SBX, "run", "--pool", sock, "--rootfs", _paths.ROOTFS,
                   "--bind", other + ":/strategy:ro",
                   "--bind", _paths.DATA_EU + ":/data:ro",
                   "--out", os.path.join(self.work, "out"), "--",
                   "/usr/bin/python3", "/strategy/run.py", "-"]
            os.makedirs(os.path.join(self.work, "out"))
            p = subprocess.run(cmd, input=example("ma_trend.py").encode(),
                               capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertIn(b"the other runner", p.stderr)


class ForgetOtherCopyTest(unittest.TestCase):
    """run.py keeps an sbx_runner imported before it (a zygote's preload)
    only when it came from run.py's own files."""

    def probe(self, preloaded_from):
        code = ("import runpy, sys\n"
                "sys.path.insert(0, %r)\n"
                "import sbx_runner.preload\n"
                "first = sys.modules['sbx_runner']\n"
                "del sys.path[0]\n"
                "sys.argv = ['run.py', '--help']\n"
                "try:\n"
                "    runpy.run_path(%r, run_name='__main__')\n"
                "except SystemExit:\n"
                "    pass\n"
                "print(sys.modules['sbx_runner'] is first, "
                "sys.modules['sbx_runner'].__file__)\n"
                % (preloaded_from, _paths.RUNNER))
        p = subprocess.run([_paths.PYTHON, "-B", "-c", code],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.split("\n")[-2].split()

    def test_same_files_keep_the_preloaded_modules(self):
        self.assertEqual(self.probe(_paths.RUNNER_DIR), ["True", os.path.join(
            _paths.RUNNER_DIR, "sbx_runner", "__init__.py")])

    def test_another_copy_is_forgotten(self):
        with tempfile.TemporaryDirectory() as d:
            other = os.path.join(d, "runner")
            shutil.copytree(_paths.RUNNER_DIR, other,
                            ignore=shutil.ignore_patterns("__pycache__"))
            self.assertEqual(self.probe(other), ["False", os.path.join(
                _paths.RUNNER_DIR, "sbx_runner", "__init__.py")])


if __name__ == "__main__":
    unittest.main()
