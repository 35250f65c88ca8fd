"""The host wrapper without a sandbox: configuration, command, outcome
classification, and that it never raises nor leaks for a failing sbx."""
import os
import shutil
import stat
import tempfile
import threading
import unittest

import _paths
import sbx_wrapper as sw


def report(**kw):
    r = {"status": "exited", "exit_code": 0, "signal": None,
         "oom_killed": False, "timed_out": False, "error": None}
    r.update(kw)
    return r


class Classify(unittest.TestCase):
    def test_runner_statuses(self):
        for st in ("ok", "rejected", "error"):
            got, _ = sw.classify(report(exit_code={"ok": 0, "rejected": 2,
                                                   "error": 1}[st]),
                                 {"status": st}, 0)
            self.assertEqual(got, st)

    def test_look_ahead_comes_through(self):
        err = {"type": "LookAhead", "date": "1995-01-23", "symbol": "DAX",
               "cut": "1995-01-23", "message": "..."}
        st, got = sw.classify(report(exit_code=2),
                              {"status": "rejected", "error": err}, 2)
        self.assertEqual((st, got), ("rejected", err))

    def test_result_and_exit_code_disagree(self):
        st, err = sw.classify(report(exit_code=139), {"status": "ok"}, 139)
        self.assertEqual((st, err["type"]), ("error", "RunnerExit"))
        st, err = sw.classify(report(exit_code=3), {"status": "error",
                                                    "error": {"type": "X"}}, 3)
        self.assertEqual((st, err["type"]), ("error", "X"))

    def test_timeout(self):
        self.assertEqual(sw.classify(report(status="timeout", timed_out=True,
                                            exit_code=124), None, 124)[0],
                         "timeout")
        self.assertEqual(sw.classify(None, None, 124)[0], "timeout")

    def test_oom(self):
        self.assertEqual(sw.classify(report(status="oom", oom_killed=True,
                                            exit_code=137), None, 137)[0],
                         "oom")

    def test_killed(self):
        st, err = sw.classify(report(status="signaled", signal=9,
                                     exit_code=137), None, 137)
        self.assertEqual(st, "killed")
        self.assertIn("9", err["message"])

    def test_setup_error(self):
        st, err = sw.classify(report(status="setup_error", exit_code=125,
                                     error="mounting /data: ENOENT"),
                              None, 125)
        self.assertEqual(st, "sandbox_error")
        self.assertIn("mounting /data", err["message"])
        self.assertEqual(sw.classify(None, None, 125)[0], "sandbox_error")

    def test_no_report(self):
        self.assertEqual(sw.classify(None, {"status": "ok"}, 0)[0],
                         "sandbox_error")

    def test_no_result(self):
        self.assertEqual(sw.classify(report(exit_code=1), None, 1)[0],
                         "error")
        self.assertEqual(sw.classify(report(exit_code=127), None, 127)[0],
                         "sandbox_error")

    def test_timeout_wins_over_partial_result(self):
        self.assertEqual(sw.classify(report(status="timeout", timed_out=True),
                                     {"status": "ok"}, 124)[0], "timeout")


class Config(unittest.TestCase):
    def test_example_file(self):
        w = sw.SandboxExecutionWrapper.from_yaml(_paths.CONFIG_EXAMPLE)
        c = w.config
        self.assertEqual(c["rootfs"], "build/rootfs")
        self.assertEqual(c["limits"]["memory"], "512M")
        self.assertEqual(c["limits"]["timeout"], 60)
        self.assertEqual(set(c), set(sw.DEFAULTS))

    def test_errors(self):
        with self.assertRaises(sw.ConfigError):
            sw.SandboxExecutionWrapper({})  # no rootfs
        with self.assertRaises(sw.ConfigError):
            sw.SandboxExecutionWrapper({"rootfs": "r", "rootfsx": 1})
        with self.assertRaises(sw.ConfigError):
            sw.SandboxExecutionWrapper({"rootfs": "r",
                                        "limits": {"memroy": "1G"}})
        tmp = tempfile.mkdtemp()
        try:
            path = os.path.join(tmp, "c.yaml")
            with open(path, "w") as f:
                f.write("loop: {iterations: 5}\n")
            with self.assertRaises(sw.ConfigError):
                sw.load_config(path)
        finally:
            shutil.rmtree(tmp)

    def test_partial_limits_keep_defaults(self):
        w = sw.SandboxExecutionWrapper({"rootfs": "r",
                                        "limits": {"timeout": 5}})
        self.assertEqual(w.config["limits"]["timeout"], 5)
        self.assertEqual(w.config["limits"]["memory"], "512M")

    def test_command(self):
        w = sw.SandboxExecutionWrapper({
            "sbx": "build/sbx", "rootfs": "/r", "runner_dir": "/src/runner",
            "cgroup_parent": "/sbx.slice", "allow_no_cgroup": True,
            "env": {"A": "1"}, "extra_args": ["--hostname", "strategy"],
            "user": "1000:1000"})
        lim = dict(w.config["limits"], timeout=7)
        cmd = w._command("/T", "/d", lim, "/T/src/strategy.py")
        line = " ".join(cmd)
        self.assertTrue(cmd[0].endswith("/build/sbx") and
                        os.path.isabs(cmd[0]))
        for part in ("run --rootfs /r", "--out /T/out:16M",
                     "--report /T/report.json", "--network none",
                     "--bind /d:/data:ro", "--timeout 7", "--memory 512M",
                     "--bind /src/runner:/sbx-runner:ro",
                     "--cgroup-parent /sbx.slice", "--allow-no-cgroup",
                     "--env A=1", "--hostname strategy", "--user 1000:1000",
                     "-- /usr/bin/python3 /sbx-runner/run.py -"):
            self.assertIn(part, line)
        w.config["runner_dir"] = None
        line = " ".join(w._command("/T", "/d", lim, "/T/src/strategy.py"))
        self.assertNotIn("sbx-runner:ro", line)
        self.assertIn("-- /usr/bin/python3 /opt/sbx-runner/run.py -", line)
        w.config["runner_dir"] = "/src/runner"
        self.assertNotIn("PYTHONHASHSEED", line)  # env replaced, not merged
        w.config["strategy_via"] = "bind"
        line = " ".join(w._command("/T", "/d", lim, "/T/src/strategy.py"))
        self.assertIn("--bind /T/src:/strategy:ro", line)
        self.assertTrue(line.endswith("run.py /strategy"))

    def test_audit_switch(self):
        lim = None
        for audit, tail in ((None, "run.py -"), (True, "run.py -"),
                            (False, "run.py - --no-audit")):
            c = {"rootfs": "/r"}
            if audit is not None:
                c["audit"] = audit
            w = sw.SandboxExecutionWrapper(c)
            lim = w.config["limits"]
            line = " ".join(w._command("/T", "/d", lim, "/T/s/strategy.py"))
            self.assertTrue(line.endswith(tail), line)

    def test_caller_mistakes_raise(self):
        w = sw.SandboxExecutionWrapper({"rootfs": "r"})
        with self.assertRaises(TypeError):
            w.run(b"bytes", _paths.DATA_EU)
        with self.assertRaises(TypeError):
            w.run("x = 1", _paths.DATA_EU, memroy="1G")


class FailingSbx(unittest.TestCase):
    """Whatever sbx does, run() returns a result and leaves nothing."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sbx-wrapper-test-")

    def tearDown(self):
        shutil.rmtree(self.work)

    def wrapper(self, sbx, **kw):
        cfg = {"sbx": sbx, "rootfs": "/nonexistent", "work_dir": self.work,
               "data_dir": _paths.DATA_EU}
        cfg.update(kw)
        return sw.SandboxExecutionWrapper(cfg)

    def script(self, body):
        path = os.path.join(self.work, "fake-sbx")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, stat.S_IRWXU)
        return path

    def assertClean(self):
        left = [n for n in os.listdir(self.work) if n != "fake-sbx"]
        self.assertEqual(left, [])

    def test_missing_binary(self):
        r = self.wrapper(os.path.join(self.work, "no-sbx")).run("x = 1")
        self.assertEqual(r.status, "sandbox_error")
        self.assertIn("cannot start", r.error["message"])
        self.assertGreaterEqual(r.wall_time, 0.0)
        self.assertClean()

    def test_missing_data_dir(self):
        r = self.wrapper("/bin/true").run("x = 1", "/nonexistent-data")
        self.assertEqual(r.status, "sandbox_error")
        self.assertIn("data directory", r.error["message"])

    def test_colon_in_path(self):
        d = os.path.join(self.work, "a:b")
        os.mkdir(d)
        try:
            r = self.wrapper("/bin/true").run("x = 1", d)
        finally:
            os.rmdir(d)
        self.assertEqual(r.status, "sandbox_error")
        self.assertIn("':'", r.error["message"])

    def test_exits_without_report(self):
        r = self.wrapper("/bin/false").run("x = 1")
        self.assertEqual((r.status, r.exit_code), ("sandbox_error", 1))
        self.assertClean()

    def test_environment_and_stdin(self):
        os.environ["SBX_WRAPPER_TEST_SECRET"] = "s3cr3t-7f1e"
        try:
            sbx = self.script("env\necho '--- stdin'\ncat\n"
                              "echo to-stderr >&2\nexit 3\n")
            r = self.wrapper(sbx).run("position = 1  # the code\n")
        finally:
            del os.environ["SBX_WRAPPER_TEST_SECRET"]
        self.assertNotIn("s3cr3t", r.stdout_tail)
        env = dict(l.split("=", 1) for l in
                   r.stdout_tail.split("--- stdin")[0].splitlines()
                   if "=" in l)
        self.assertLessEqual(set(env) - {"PWD", "SHLVL", "_", "OLDPWD"},
                             {"PATH", "LANG"})
        self.assertIn("position = 1  # the code", r.stdout_tail)
        self.assertEqual(r.stderr_tail, "to-stderr\n")
        self.assertEqual(r.status, "sandbox_error")
        self.assertClean()

    def test_tails_are_bounded(self):
        sbx = self.script("head -c 100000 /dev/zero | tr '\\0' x\n")
        r = self.wrapper(sbx, tail_bytes=100).run("x = 1")
        self.assertEqual(r.stdout_tail, "[...]" + "x" * 100)

    def test_hung_sbx_is_stopped(self):
        sbx = self.script("exec sleep 60\n")
        r = self.wrapper(sbx, grace_seconds=0,
                         limits={"timeout": 0.2}).run("x = 1")
        self.assertEqual(r.status, "sandbox_error")
        self.assertIn("did not exit", r.error["message"])
        self.assertLess(r.wall_time, 30)
        self.assertClean()

    def test_threads(self):
        w = self.wrapper("/bin/false")
        results = []

        def one():
            results.append(w.run("x = 1").status)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, ["sandbox_error"] * 8)
        self.assertClean()


if __name__ == "__main__":
    unittest.main()
