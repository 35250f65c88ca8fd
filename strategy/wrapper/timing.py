"""Wall time of each example strategy through the wrapper (sbx) against the
bare runner on the same data, and where the difference goes.

    /usr/bin/python3 strategy/wrapper/timing.py [--config FILE] [-n RUNS]

Columns, medians over the runs, milliseconds:
  bare      the runner as a plain host process (python3 run.py ...)
  wrapped   SandboxExecutionWrapper.run, as the loop sees it
  py_start  interpreter start and exit, bare (wall - runner's own total)
  py_sbx    the same in the sandbox (sbx_wall - setup - teardown - total)
  imp_bare  pandas/numpy import, bare (runner's timing_ms.import)
  import    the same in the sandbox
  strategy  the strategy and its backtest (timing_ms.strategy, in sandbox)
  sbx_wall  the sbx report's wall_ms (clone to teardown)
  setup     sbx phases before exec (config..exec in phases_us)
  teardown  sbx's teardown phase
  wrapper   wrapped - sbx_wall: temp dirs, fork/exec of sbx, reading JSON
A benchmark, not a test: nothing here asserts a time.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import sbx_wrapper as sw  # noqa: E402

RUNNER = os.path.join(REPO, "strategy", "runner", "run.py")
EXAMPLES = os.path.join(REPO, "strategy", "examples")
SETUP_PHASES = ("config", "seccomp_compile", "cgroup", "clone", "idmap",
                "mounts", "net", "exec")


def bare(path, data_dir):
    tmp = tempfile.mkdtemp(prefix="sbx-timing-")
    try:
        t = time.monotonic()
        subprocess.run(["/usr/bin/python3", RUNNER, path, "--data", data_dir,
                        "--out", tmp], check=True, capture_output=True,
                       env={"PYTHONHASHSEED": "0", "LANG": "C.UTF-8"})
        wall = time.monotonic() - t
        with open(os.path.join(tmp, "result.json")) as f:
            return wall * 1000.0, json.load(f)
    finally:
        shutil.rmtree(tmp)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", default=os.path.join(
        REPO, "config", "learning_system.example.yaml"))
    p.add_argument("-n", type=int, default=5)
    a = p.parse_args()
    os.chdir(REPO)
    w = sw.SandboxExecutionWrapper.from_yaml(a.config)
    data_dir = w.config["data_dir"]
    cols = ("bare", "wrapped", "py_start", "py_sbx", "imp_bare",
            "import", "strategy", "sbx_wall",
            "setup", "teardown", "wrapper")
    print("%-22s" % "strategy" + "".join("%10s" % c for c in cols))
    for name in sorted(os.listdir(EXAMPLES)):
        if name == "autonomous_loop.py":    # the loop, not a strategy
            continue
        path = os.path.join(EXAMPLES, name)
        with open(path) as f:
            code = f.read()
        rows = []
        for _ in range(a.n):
            b_ms, b_res = bare(path, data_dir)
            r = w.run(code)
            if r.status != "ok":
                print("%s: %s %s" % (name, r.status, r.error))
                break
            ph = r.report.get("phases_us", {})
            setup = sum(ph.get(k, 0) for k in SETUP_PHASES) / 1000.0
            teardown = ph.get("teardown", 0) / 1000.0
            rows.append({
                "bare": b_ms, "wrapped": r.wall_time * 1000.0,
                "py_start": b_ms - b_res["timing_ms"]["total"],
                "imp_bare": b_res["timing_ms"]["import"],
                "import": r.result["timing_ms"]["import"],
                "strategy": r.result["timing_ms"]["strategy"],
                "sbx_wall": r.report["wall_ms"],
                "py_sbx": r.report["wall_ms"] - setup - teardown
                - r.result["timing_ms"]["total"],
                "setup": setup, "teardown": teardown,
                "wrapper": r.wall_time * 1000.0 - r.report["wall_ms"],
            })
        if rows:
            print("%-22s" % name + "".join(
                "%10.1f" % statistics.median(x[c] for x in rows)
                for c in cols))


if __name__ == "__main__":
    main()
