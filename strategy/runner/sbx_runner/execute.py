"""Run an accepted strategy in its own process and hand its position over.

This is the strategy's side of the trust boundary (docs/strategy.md): it
runs in a process forked by the scorer (sbx_runner.scorer), and everything
here may be patched by the strategy once it runs — so nothing here decides
a metric.  It only records what the strategy's last `sim` call asked for
and sends it to the scorer as plain bytes (sbx_runner.handover).

The contract: the strategy's globals hold `data`, `pd`, `np` and `sim`.  It
either calls `sim(position, **options)` (the last call counts; it returns
the metrics dict, computed here, for the strategy's own comparisons) or
leaves a global named `position`, which is then passed to `sim` with
default options.

The builtins it gets are a copy with `open` limited to the data and out
directories, `import` refusing the static check's modules, and the
code-running builtins removed.  This repeats the static check at run time
for the routes it cannot see (a computed module name); it is still not the
security boundary — the sandbox and the scorer's separate process are.
"""

import builtins
import os

import pandas as pd

from . import backtest, handover
from .static_check import DISALLOWED_CALLS, _module_disallowed


class NoPosition(Exception):
    pass


class _Sim:
    """The `sim` a strategy calls; remembers the last call, encoded."""

    def __init__(self, data):
        self.data = data
        self.message = None
        self.called = False

    def __call__(self, position, prices=None, fee_ratio=0.0,
                 periods_per_year=252):
        prices, own = self._prices(prices)
        metrics = backtest.sim(position, prices, fee_ratio=fee_ratio,
                               periods_per_year=periods_per_year)
        self.record(position, prices, own, fee_ratio, periods_per_year)
        return dict(metrics)

    def _prices(self, prices):
        """(the prices frame, the frame to hand over or None for close)"""
        if prices is None:
            return self.data.get("close"), None
        if isinstance(prices, str):
            prices = self.data.get(prices)
        # handed over too: the scorer checks that it is (a part of) one of
        # the data's tables and then uses its own copy
        return prices, prices if isinstance(prices, pd.DataFrame) else None

    def record(self, position, prices, own, fee_ratio=0.0,
               periods_per_year=252):
        """Encode now: what counts is the position as it was at this call,
        whatever the strategy does to the object afterwards."""
        aligned, kind = backtest.align(position, prices)
        self.message = handover.encode_position(
            aligned, kind, {"fee_ratio": fee_ratio,
                            "periods_per_year": periods_per_year}, own)
        self.called = True


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


def run_strategy(source, data, allowed_dirs, filename):
    """compile and exec the strategy; returns the handover message (bytes)
    of its last sim call.  Raises whatever the strategy raised, or
    NoPosition."""
    import numpy as np

    code = compile(source, filename, "exec")
    sim = _Sim(data)
    env = {"__name__": "__strategy__", "__builtins__":
           _guarded_builtins(allowed_dirs),
           "data": data, "pd": pd, "np": np, "sim": sim}
    exec(code, env)
    if not sim.called:
        if "position" not in env:
            raise NoPosition("the strategy neither called sim(position) nor "
                             "assigned a global 'position'")
        # no metrics wanted here: only the position, checked and encoded
        sim.record(env["position"], *sim._prices(None))
    return sim.message
