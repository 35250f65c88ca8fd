"""result.json: what the runner tells the host about one strategy run.

    {"status": "ok" | "rejected" | "error",
     "metrics": {...} | null,          # backtest.sim's dict when ok
     "findings": [{"line", "col", "rule", "message"}],   # when rejected
     "error": {"type", "message", "traceback"} | null,   # when error
     "timing_ms": {"check", "import", "strategy", "total"},
     "runner_version": 1}
"""

import json
import linecache
import math
import os
import traceback

RUNNER_VERSION = 1
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
            "timing_ms": {}, "runner_version": RUNNER_VERSION}


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


def write(result, out_dir):
    """Write result.json atomically (a reader never sees half a file)."""
    path = os.path.join(out_dir, "result.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(_clean(result), f, allow_nan=False, sort_keys=True,
                  default=str)
        f.write("\n")
    os.replace(tmp, path)
    return path
