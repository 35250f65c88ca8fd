"""The runner's entry point: check, load, run, audit, score, write.

    run.py [STRATEGY] [--data DIR] [--out DIR] [--no-audit]

STRATEGY is a file, a directory holding strategy.py, or "-" for stdin
(default /strategy, falling back to stdin when it does not exist).  Exit
status: 0 ok, 1 the strategy failed, 2 rejected (static check or
look-ahead audit), 3 the runner itself could not work (unreadable input,
no out directory).  The order is fixed so that a rejection by the static
check costs no pandas import.

This process is the scorer: it never compiles or runs strategy code.  Each
run of the strategy (the full data, then each audit cut) happens in a
forked child that hands back only its position (sbx_runner.scorer,
sbx_runner.handover); the metrics are computed here, with pandas and numpy
as no strategy has touched them.
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
    p.add_argument("--no-audit", dest="audit", action="store_false",
                   help="skip the look-ahead audit (runs on cut data)")
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


class _Failed(Exception):
    """Ends a run with (status, exit code, error dict)."""

    def __init__(self, status, code, error):
        super().__init__(error.get("message"))
        self.status, self.code, self.error = status, code, error


def _err(kind, message):
    return {"type": kind, "message": message, "line": None, "traceback": ""}


def _how_it_ended(status):
    if status is None:
        return "ended"
    if os.WIFSIGNALED(status):
        return "was killed by signal %d" % os.WTERMSIG(status)
    return "exited with status %d" % os.waitstatus_to_exitcode(status)


def main(argv=None):
    args = _parse(sys.argv[1:] if argv is None else argv)
    start = time.perf_counter()
    out = res.new_result()
    timing = out["timing_ms"]

    def finish(status, code, curve=None):
        out["status"] = status
        timing["total"] = _ms(start)
        try:
            if curve is not None:
                res.write_equity(curve, args.out)
            else:
                # one the strategy left there is not the scorer's
                res.remove(args.out, "equity.csv")
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
        out["error"] = _err("SourceError", str(e))
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
    from . import audit, backtest, finlab_ext, handover, scorer
    from .data import Data
    from .execute import run_strategy
    finlab_ext.install()
    timing["import"] = _ms(t)

    here = os.path.dirname(os.path.abspath(__file__))
    runner_files = {os.path.join(here, n) for n in
                    ("main.py", "execute.py", "scorer.py")}
    try:
        data = Data(args.data).load_all()
        _warm_up(data, backtest, handover, audit)
        scorer.harden()
    except (OSError, ValueError, KeyError) as e:
        out["error"] = _err(type(e).__name__, str(e))
        return finish("error", res.EXIT_RUNNER)
    res.register_source(source)

    def one_run(d, quiet=False):
        """The strategy on data d, in a child: Position or error dict."""
        def body():
            try:
                return run_strategy(source, d, (args.data, args.out),
                                    res.STRATEGY_FILENAME)
            except BaseException as e:  # noqa: B902 — SystemExit too
                return handover.encode_error(
                    res.error_dict(e, skip_files=runner_files))
        buf, status = scorer.run_child(body, quiet)
        try:
            return handover.decode(buf)
        except handover.HandoverError as e:
            msg = str(e)
            if e.kind == "NoHandover":
                msg = ("the strategy's process %s without handing over a "
                       "position" % _how_it_ended(status))
            return _err(e.kind, msg)

    def checked(got, d):
        if isinstance(got, dict):
            raise _Failed("error", res.EXIT_ERROR, got)
        try:
            return handover.validate(got, d)
        except handover.HandoverError as e:
            raise _Failed("error", res.EXIT_ERROR, _err(e.kind, str(e)))

    try:
        # The audit's runs first: state a run leaves behind (/tmp, /out) is
        # there for the next.  Run after the full run, a cut run could
        # replay the full run's positions; this way a full run that
        # replays the cut runs' positions can only hide look-ahead after
        # the last cut, which the audit cannot see anyway.
        t = time.perf_counter()
        out["audit"] = {"enabled": args.audit, "cuts": []}
        cuts = []
        if args.audit:
            for last in audit.cut_dates(data.dates()):
                day = last.strftime("%Y-%m-%d")
                out["audit"]["cuts"].append(day)
                try:
                    cuts.append((last, checked(
                        one_run(data.until(last), quiet=True), data)[0]))
                except _Failed as f:
                    cuts.append((last, f.error))
            timing["audit"] = _ms(t)
        t = time.perf_counter()
        position, prices, options = checked(one_run(data), data)
        timing["strategy"] = _ms(t)
        for last, cut in cuts:
            day = last.strftime("%Y-%m-%d")
            if isinstance(cut, dict):
                raise _Failed("error", res.EXIT_ERROR, dict(
                    cut, type="AuditError", cut=day, message="on the data "
                    "up to %s the strategy failed where it did not on all "
                    "of it: %s: %s" % (day, cut["type"], cut["message"])))
            diff = audit.compare(position, cut, last)
            if diff:
                raise _Failed("rejected", res.EXIT_REJECTED, diff)
        t = time.perf_counter()
        out["metrics"], curve = backtest.run(position, prices, **options)
        timing["score"] = _ms(t)
    except _Failed as f:
        out["error"] = f.error
        return finish(f.status, f.code)
    return finish("ok", res.EXIT_OK, curve)


def _warm_up(data, backtest, handover, audit):
    """Everything the scoring path does, once, on a trivial position before
    any fork: modules that pandas and numpy import lazily are imported now,
    from files no strategy has had a chance to write."""
    if "close" not in data.names():
        return
    close = data.get("close").iloc[:20]     # the same calls, on little
    aligned, kind = backtest.align(close > 0, close)
    msg = handover.encode_position(aligned, kind, {"fee_ratio": 0.0,
                                                   "periods_per_year": 252},
                                   close.iloc[:, :1])
    got = handover.decode(msg)
    got.prices = None
    pos, prices, opts = handover.validate(got, data)
    audit.compare(pos, pos, pos.index[len(pos.index) // 2])
    backtest.run(pos, close, **opts)
    try:
        handover.validate(handover.decode(handover.encode_position(
            aligned, kind, {"fee_ratio": 0.0, "periods_per_year": 252},
            close.iloc[:, :1])), data)
    except handover.HandoverError:
        pass
