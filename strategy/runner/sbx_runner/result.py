"""result.json: what the runner tells the host about one strategy run.

    {"status": "ok" | "rejected" | "error",
     "metrics": {...} | null,          # backtest.sim's dict when ok
     "findings": [{"line", "col", "rule", "message"}],   # when rejected
     "error": {"type", "message", "traceback"} | null,   # when error
     "audit": {"enabled": bool, "cuts": ["YYYY-MM-DD", ...]} | null,
     "timing_ms": {"check", "import", "strategy", "audit", "score",
                   "total"},
     "runner_version": 2}
"""

import json
import linecache
import math
import os
import shutil
import tempfile
import traceback

RUNNER_VERSION = 2
STRATEGY_FILENAME = "<strategy>"
MAX_MESSAGE = 2000
MAX_FRAMES = 12
MAX_TRACEBACK = 6000

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REJECTED = 2
EXIT_RUNNER = 3


def new_result():
    return {"status": None, "metrics": None, "findings": [], "error": None,
            "audit": None, "timing_ms": {}, "runner_version": RUNNER_VERSION}


def register_source(source):
    """Let tracebacks show the strategy's lines although it has no file."""
    lines = source.splitlines(True)
    linecache.cache[STRATEGY_FILENAME] = (len(source), None, lines,
                                          STRATEGY_FILENAME)


def error_dict(exc, skip_files=()):
    """type, message and a trimmed traceback of `exc`.

    Kept: the strategy's own frames and the innermost two frames (where it
    was raised, often inside pandas); dropped: the runner's frames, which say
    nothing about the strategy.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in frames if f.filename not in skip_files]
    keep = [i for i, f in enumerate(frames)
            if f.filename == STRATEGY_FILENAME or i >= len(frames) - 2]
    trimmed = [frames[i] for i in keep][-MAX_FRAMES:]
    tb = "".join(traceback.format_list(trimmed))
    if len(tb) > MAX_TRACEBACK:
        tb = "...\n" + tb[-MAX_TRACEBACK:]
    try:
        message = str(exc)
    except Exception as e:  # a strategy's exception class may break str()
        message = "<str() of the exception raised %s>" % type(e).__name__
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "..."
    line = next((f.lineno for f in reversed(frames)
                 if f.filename == STRATEGY_FILENAME), None)
    return {"type": type(exc).__name__, "message": message,
            "line": line, "traceback": tb}


def _clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def remove(out_dir, name):
    """Remove out_dir/name, whatever it is (file, link, directory)."""
    path = os.path.join(out_dir, name)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _replace(out_dir, name, write_body):
    """Write out_dir/name through a fresh temp file and a rename, so that a
    reader never sees half a file.  Whatever is at that name already (a
    file, a link, a directory a strategy made there) is removed first: the
    scorer's file must be the one that stays."""
    path = os.path.join(out_dir, name)
    if os.path.isdir(path) and not os.path.islink(path):
        remove(out_dir, name)
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write_body(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write(result, out_dir):
    """Write result.json atomically."""
    def body(f):
        json.dump(_clean(result), f, allow_nan=False, sort_keys=True,
                  default=str)
        f.write("\n")
    return _replace(out_dir, "result.json", body)


def write_equity(curve, out_dir):
    """equity.csv: date,equity,drawdown per price date of the scored
    position (backtest.run's curve; drawdown a fraction <= 0)."""
    def body(f):
        f.write("date,equity,drawdown\n")
        for date, equity, drawdown in curve:
            f.write("%s,%r,%r\n" % (date, equity, drawdown))
    return _replace(out_dir, "equity.csv", body)
