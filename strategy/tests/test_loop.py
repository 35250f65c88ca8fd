"""The research loop (strategy/examples/autonomous_loop.py): the shipped
generator, then five iterations end to end through build/sbx, and a
plugged-in generator in its place."""
import ast
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import _paths
from sbx_runner.static_check import check_source
from test_e2e import REJECTED, _missing

spec = importlib.util.spec_from_file_location(
    "autonomous_loop", os.path.join(_paths.EXAMPLES, "autonomous_loop.py"))
loop = importlib.util.module_from_spec(spec)
spec.loader.exec_module(loop)


def example(name):
    with open(os.path.join(_paths.EXAMPLES, name)) as f:
        return f.read()


def masked(source):
    return re.sub(r"Constant\(value=[-0-9.e]+\)", "N",
                  ast.dump(ast.parse(source)))


class Generator(unittest.TestCase):
    def settings(self, **kw):
        s = dict(loop.LOOP_DEFAULTS, examples=_paths.EXAMPLES)
        s.update(kw)
        return s

    def test_parameters_are_windows_and_thresholds_not_fees(self):
        vals = lambda n: [p[3] for p in loop.parameters(example(n))]
        self.assertEqual(vals("ma_trend.py"), [50])
        self.assertEqual(vals("momentum_rotation.py"), [60, 60, 20, 2])
        # z < -1.5: the literal is 1.5 (the minus is an operator); the
        # 1.0 and 0.0 weights are not parameters
        self.assertEqual(sorted(vals("mean_reversion.py")), [1.5, 20, 20])

    def test_mutation_changes_only_parameters(self):
        rng = random.Random(3)
        for name in _paths.EXAMPLE_STRATEGIES:
            src = example(name)
            new, changes = loop.mutate_source(src, rng)
            self.assertNotEqual(new, src, name)
            self.assertTrue(changes, name)
            self.assertEqual(check_source(new), [], name)
            self.assertEqual(new.count("fee_ratio=0.001"),
                             src.count("fee_ratio=0.001"), name)
            # the same tree once the numbers are masked
            self.assertEqual(masked(src), masked(new), name)

    def test_parents_are_the_best_and_nothing_repeats(self):
        gen = loop.mutate(self.settings(population=4, parents=1, seed=7))
        first = gen([])
        self.assertEqual(len(first), 4)
        self.assertEqual(len(set(first)), 4)
        self.assertTrue(all(s.startswith("# from example-") for s in first))
        history = [{"id": "i1-%02d" % k, "source": s, "status": "ok",
                    "metrics": {"sharpe": float(k)}}
                   for k, s in enumerate(first)]
        history.append({"id": "forged", "source": "x = 1", "status": "ok",
                        "metrics": {"sharpe": float("nan")}})
        second = gen(history)
        self.assertEqual(len(second), 4)
        self.assertTrue(all(s.startswith("# from i1-03:") for s in second),
                        [s.splitlines()[0] for s in second])
        self.assertFalse(set(second) & set(first))


class LoopE2E(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = _missing()
        if why:
            print("\nloop E2E skipped: " + why, file=sys.stderr)
            raise unittest.SkipTest(why)

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sbx-loop-e2e-")
        os.chmod(self.work, 0o711)
        self.runs = os.path.join(self.work, "runs")
        os.mkdir(self.runs)
        os.chmod(self.runs, 0o711)
        self.history = os.path.join(self.work, "history.jsonl")

    def tearDown(self):
        self.assertEqual(os.listdir(self.runs), [], "temp dirs left behind")
        shutil.rmtree(self.work)

    def run_loop(self, *args, **loop_settings):
        cfg = os.path.join(self.work, "loop.yaml")
        with open(cfg, "w") as f:
            json.dump({"sandbox": {
                "sbx": os.path.join(_paths.BUILD, "sbx"),
                "rootfs": _paths.ROOTFS, "runner_dir": _paths.RUNNER_DIR,
                "data_dir": _paths.DATA_EU, "work_dir": self.runs,
                "limits": {"timeout": 60, "memory": "1G"},
                "user": "1000:1000"},
                "loop": dict({"history": self.history, "workers": 2,
                              "examples": _paths.EXAMPLES},
                             **loop_settings)}, f)
        return subprocess.run(
            [sys.executable, os.path.join(_paths.EXAMPLES,
                                          "autonomous_loop.py"),
             "--config", cfg] + list(args), capture_output=True, text=True,
            timeout=600, env=dict(os.environ, PYTHONPATH=self.work))

    def history_lines(self):
        with open(self.history) as f:
            return [json.loads(l) for l in f]

    def test_five_iterations(self):
        p = self.run_loop(iterations=5, population=3, parents=2, seed=5)
        self.assertEqual(p.returncode, 0, p.stderr)
        sys.stderr.write("\n" + p.stdout)
        best = [l for l in p.stdout.splitlines()
                if l.startswith("iteration ")]
        self.assertEqual([l.split(":")[0] for l in best],
                         ["iteration %d" % n for n in range(1, 6)])
        for l in best:
            self.assertRegex(l, r": best i\d-\d\d  sharpe -?\d+\.\d{3} ")
        h = self.history_lines()
        self.assertEqual([e["iteration"] for e in h],
                         [n for n in range(1, 6) for _ in range(3)])
        self.assertEqual(len({e["source"] for e in h}), 15)
        self.assertEqual({e["status"] for e in h}, {"ok"},
                         [(e["id"], e["error"]) for e in h])
        # later rounds descend from the history, not from the examples
        self.assertTrue(all(e["parent"].startswith("i") for e in h[3:]))
        self.assertIn("best so far: ", p.stdout)

    def test_plugged_generator(self):
        # what an LLM client looks like to the loop: history in, code out
        with open(os.path.join(self.work, "fake_llm.py"), "w") as f:
            f.write(textwrap.dedent('''\
                CODE = [%r, %r]
                def propose(history):
                    # the second round sees the first's outcome
                    if history:
                        assert history[1]["status"] == "rejected"
                        return ["position = data.get('close') > 0\\n"]
                    return CODE
                ''' % (example("ma_trend.py"), REJECTED)))
        p = self.run_loop("--generator", "fake_llm:propose", iterations=2)
        self.assertEqual(p.returncode, 0, p.stderr)
        h = self.history_lines()
        self.assertEqual([(e["iteration"], e["status"]) for e in h],
                         [(1, "ok"), (1, "rejected"), (2, "ok")])
        self.assertEqual(h[1]["findings"][0]["rule"], "import-disallowed")
        self.assertIn("iteration 1: best i1-00", p.stdout)


if __name__ == "__main__":
    unittest.main()
