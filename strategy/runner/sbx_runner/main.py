"""The runner's entry point: check, load, run, backtest, write result.json.

    run.py [STRATEGY] [--data DIR] [--out DIR]

STRATEGY is a file, a directory holding strategy.py, or "-" for stdin
(default /strategy, falling back to stdin when it does not exist).  Exit
status: 0 ok, 1 the strategy failed, 2 rejected by the static check,
3 the runner itself could not work (unreadable input, no out directory).
The order is fixed so that a rejection costs no pandas import.
"""

import argparse
import os
import sys
import time

from . import result as res
from .static_check import check_source


def _parse(argv):
    p = argparse.ArgumentParser(prog="sbx-runner")
    p.add_argument("strategy", nargs="?", default="/strategy")
    p.add_argument("--data", default="/data")
    p.add_argument("--out", default="/out")
    return p.parse_args(argv)


def _read_source(spec):
    if spec == "-" or (spec == "/strategy" and not os.path.exists(spec)):
        raw = sys.stdin.buffer.read()
    else:
        if os.path.isdir(spec):
            spec = os.path.join(spec, "strategy.py")
        with open(spec, "rb") as f:
            raw = f.read()
    return raw.decode("utf-8")


def _ms(t0):
    return round((time.perf_counter() - t0) * 1000.0, 3)


def main(argv=None):
    args = _parse(sys.argv[1:] if argv is None else argv)
    start = time.perf_counter()
    out = res.new_result()
    timing = out["timing_ms"]

    def finish(status, code):
        out["status"] = status
        timing["total"] = _ms(start)
        try:
            res.write(out, args.out)
        except OSError as e:
            print("sbx-runner: cannot write result.json: %s" % e,
                  file=sys.stderr)
            return res.EXIT_RUNNER
        print("sbx-runner: %s" % status, file=sys.stderr)
        return code

    try:
        source = _read_source(args.strategy)
    except (OSError, UnicodeDecodeError) as e:
        out["error"] = {"type": "SourceError", "message": str(e),
                        "line": None, "traceback": ""}
        return finish("error", res.EXIT_RUNNER)

    t = time.perf_counter()
    findings = check_source(source)
    timing["check"] = _ms(t)
    if findings:
        out["findings"] = [f.to_dict() for f in findings]
        return finish("rejected", res.EXIT_REJECTED)

    t = time.perf_counter()
    import pandas  # timed: the bulk of a run's start-up
    # Same numbers wherever the runner runs: pandas would otherwise use
    # bottleneck/numexpr when installed (a host usually has them, the
    # sandbox image not), and their sums differ in the last bits.
    pandas.set_option("compute.use_bottleneck", False)
    pandas.set_option("compute.use_numexpr", False)
    from . import finlab_ext
    from .data import Data
    from .execute import run_strategy
    finlab_ext.install()
    timing["import"] = _ms(t)

    runner_files = {os.path.abspath(__file__),
                    os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "execute.py")}
    try:
        data = Data(args.data)
    except (OSError, ValueError, KeyError) as e:
        out["error"] = {"type": type(e).__name__, "message": str(e),
                        "line": None, "traceback": ""}
        return finish("error", res.EXIT_RUNNER)

    t = time.perf_counter()
    try:
        code = compile(source, res.STRATEGY_FILENAME, "exec")
        res.register_source(source)
        out["metrics"] = run_strategy(code, data, (args.data, args.out))
    except BaseException as e:  # noqa: B902 — SystemExit too: report it
        timing["strategy"] = _ms(t)
        out["error"] = res.error_dict(e, skip_files=runner_files)
        return finish("error", res.EXIT_ERROR)
    timing["strategy"] = _ms(t)
    return finish("ok", res.EXIT_OK)
