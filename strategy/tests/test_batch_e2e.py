"""Batches through build/sbx and the test rootfs: every failure mode in one
leaderboard, and a dask LocalCluster of two worker processes as the
executor.  Skipped, saying why, without build/sbx, the rootfs, or (for the
cluster) python3-distributed."""
import os
import shutil
import sys
import tempfile
import unittest

import _paths
import sbx_leaderboard
import sbx_wrapper as sw
from test_e2e import RAISES, REJECTED, _missing, example

# numpy's ctypes helper reaches libc by a route the static check does not
# see; the seccomp filter then refuses a new user namespace.
SECCOMP = """\
import operator
ct = operator.attrgetter("ctype" + "slib.ctypes")(np)
libc = ct.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) != 0:
    raise PermissionError(ct.get_errno(), "unshare refused")
position = data.get("close") > 0
"""

ENDLESS = "while True:\n    pass\n"

HUNGRY = ("blocks = []\nwhile True:\n"
          "    blocks.append(np.ones(16 * 1024 * 1024 // 8))\n")


class Batch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = _missing()
        if why:
            print("\nbatch E2E skipped: " + why, file=sys.stderr)
            raise unittest.SkipTest(why)
        cls.work = tempfile.mkdtemp(prefix="sbx-batch-e2e-")
        os.chmod(cls.work, 0o711)
        cls.config = {
            "sbx": os.path.join(_paths.BUILD, "sbx"),
            "rootfs": _paths.ROOTFS, "runner_dir": _paths.RUNNER_DIR,
            "data_dir": _paths.DATA_EU, "work_dir": cls.work,
            "limits": {"timeout": 60, "memory": "1G"}, "user": "1000:1000"}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def tearDown(self):
        self.assertEqual(os.listdir(self.work), [], "temp dirs left behind")

    def test_every_failure_mode_in_the_leaderboard(self):
        w = sw.SandboxExecutionWrapper(self.config)
        names = ["good", "rejected", "raises", "seccomp", "endless",
                 "hungry"]
        codes = [example("ma_trend.py"), REJECTED, RAISES, SECCOMP,
                 ENDLESS, HUNGRY]
        rs = w.run_many(codes, workers=2, timeout=4, memory="200M")
        self.assertEqual([r.status for r in rs],
                         ["ok", "rejected", "error", "error", "timeout",
                          "oom"], [(r.status, r.error) for r in rs])
        # at least once (a runner may run the strategy more than once)
        self.assertEqual([d["syscall"] for d in rs[3].seccomp_denials],
                         ["unshare"])
        self.assertGreaterEqual(rs[3].seccomp_denials[0]["count"], 1)
        text = sbx_leaderboard.format_text(names, rs)
        sys.stderr.write("\n" + text)
        why = {n: sbx_leaderboard.reason(r)
               for n, r in zip(names, rs) if not r.ok}
        self.assertIn("line 1, col 1: import-disallowed", why["rejected"][1])
        self.assertIn("line 3, col 1: attribute-disallowed",
                      why["rejected"][2])
        self.assertEqual(why["raises"][0],
                         "KeyError: 'NIKKEI' (line 3)")
        # the strategy's frame, though the error surfaced inside pandas
        self.assertIn('File "<strategy>", line 3', why["raises"][1])
        self.assertEqual(why["raises"][2].strip(),
                         'position = momentum["NIKKEI"] > 1')
        self.assertRegex(why["seccomp"][0],
                         r"^blocked by seccomp: denied unshare x\d+$")
        self.assertTrue(why["endless"][0].startswith(
            "timeout: killed at the wall-clock limit after 4."))
        self.assertTrue(why["hungry"][0].startswith(
            "oom: killed at the memory limit (peak "))
        for lines in why.values():
            for line in lines:
                self.assertIn(line, text)
        self.assertIn("   1  good", text)


class DaskCluster(unittest.TestCase):
    """run_many on Client.get_executor() of a LocalCluster with two worker
    processes: the runs happen in the workers (other processes, which
    import the wrapper by name), the results come back in input order."""

    def setUp(self):
        why = _missing()
        if why:
            self.skipTest(why)
        try:
            import distributed  # noqa: F401
        except ImportError:
            self.skipTest("python3-distributed is not installed")
        self.work = tempfile.mkdtemp(prefix="sbx-dask-e2e-")
        os.chmod(self.work, 0o711)
        # dask's own scratch (locks, spill), which it would otherwise
        # leave in /tmp/dask-worker-space
        self.scratch = tempfile.mkdtemp(prefix="sbx-dask-scratch-")

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def children(self):
        try:
            with open("/proc/self/task/%d/children" % os.getpid()) as f:
                own = set(f.read().split())
        except OSError:
            own = set()
        return own

    def test_local_cluster_two_processes(self):
        from distributed import Client, LocalCluster
        before = self.children()
        w = sw.SandboxExecutionWrapper({
            "sbx": os.path.join(_paths.BUILD, "sbx"),
            "rootfs": _paths.ROOTFS, "runner_dir": _paths.RUNNER_DIR,
            "data_dir": _paths.DATA_EU, "work_dir": self.work,
            "limits": {"timeout": 60, "memory": "1G"}, "user": "1000:1000"})
        names = ["ma_trend.py", "mean_reversion.py", "momentum_rotation.py"]
        codes = [example(n) for n in names] + [REJECTED]
        # The workers import sbx_wrapper by name: give them its directory.
        env = {"PYTHONPATH": _paths.WRAPPER_DIR}
        cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                               processes=True, dashboard_address=None,
                               local_directory=self.scratch, env=env)
        try:
            with Client(cluster) as client:
                pids = set(client.run(os.getpid).values())
                rs = w.run_many(codes, executor=client.get_executor())
        finally:
            cluster.close()
        self.assertEqual(len(pids), 2)
        self.assertNotIn(os.getpid(), pids)
        self.assertEqual([r.status for r in rs],
                         ["ok", "ok", "ok", "rejected"],
                         [(r.status, r.error) for r in rs])
        local = w.run_many(codes[:3], workers=2)
        for name, a, b in zip(names, rs, local):
            self.assertEqual(a.metrics, b.metrics, name)
        self.assertEqual(self.children(), before, "cluster left processes")
        self.assertEqual(os.listdir(self.work), [])


if __name__ == "__main__":
    unittest.main()
