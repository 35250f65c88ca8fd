"""Run an accepted strategy and collect the position it produces.

The contract (docs/strategy.md): the strategy's globals hold `data`, `pd`,
`np` and `sim`.  It either calls `sim(position, **options)` (the last call
counts; it returns the metrics dict) or leaves a global named `position`,
which the runner then passes to `sim` with default options.

The builtins it gets are a copy with `open` limited to the data and out
directories, `import` refusing the static check's modules, and the
code-running builtins removed.  This repeats the static check at run time
for the routes it cannot see (a computed module name); it is still not the
security boundary — the sandbox is.
"""

import builtins
import os

from . import backtest
from .static_check import DISALLOWED_CALLS, _module_disallowed


class NoPosition(Exception):
    pass


class _Sim:
    """The `sim` a strategy calls; remembers the last call."""

    def __init__(self, data):
        self.data = data
        self.metrics = None
        self.called = False

    def __call__(self, position, prices=None, fee_ratio=0.0,
                 periods_per_year=252):
        if prices is None:
            prices = self.data.get("close")
        self.metrics = backtest.sim(position, prices, fee_ratio=fee_ratio,
                                    periods_per_year=periods_per_year)
        self.called = True
        return dict(self.metrics)


def _guarded_builtins(allowed_dirs):
    real_open = builtins.open
    real_import = builtins.__import__
    roots = [os.path.realpath(d) for d in allowed_dirs]

    def open(file, *args, **kwargs):
        if not isinstance(file, (str, bytes)):
            raise PermissionError("open() needs a path under /data or /out")
        path = os.path.realpath(os.fsdecode(file))
        if not any(path == r or path.startswith(r + os.sep) for r in roots):
            raise PermissionError("open() of %r is outside /data and /out"
                                  % os.fsdecode(file))
        return real_open(file, *args, **kwargs)

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        if level or _module_disallowed(name):
            raise ImportError("import of %r is not allowed" % name)
        for item in fromlist or ():
            if _module_disallowed(item):
                raise ImportError("import of %r is not allowed" % item)
        return real_import(name, globals, locals, fromlist, level)

    table = dict(vars(builtins))
    for name in DISALLOWED_CALLS:
        table.pop(name, None)
    table["open"] = open
    table["__import__"] = __import__
    return table


def run_strategy(code, data, allowed_dirs):
    """exec the compiled strategy; returns the metrics dict.

    Raises whatever the strategy raised, or NoPosition."""
    import numpy as np
    import pandas as pd

    sim = _Sim(data)
    env = {"__name__": "__strategy__", "__builtins__":
           _guarded_builtins(allowed_dirs),
           "data": data, "pd": pd, "np": np, "sim": sim}
    exec(code, env)
    if sim.called:
        return sim.metrics
    if "position" not in env:
        raise NoPosition("the strategy neither called sim(position) nor "
                         "assigned a global 'position'")
    return sim(env["position"])
