"""The look-ahead audit: a strategy run on the data cut at an earlier date
must hold, on every date up to the cut, the positions its full run holds.

A position computed from data after its date (tomorrow's return, a
threshold over the whole sample) changes when that data is cut away; a
causal one (rolling windows, pct_change, ewm, ranks within a row,
resample(...).last() compared on the price dates) does not.  Positions are
compared as the backtest holds them (backtest.align: carried forward to
the price dates), so a resample label after the cut is not compared.
"""

import numpy as np
import pandas as pd

CUTS = (0.5, 0.75)          # fractions of the history
RTOL = 1e-9                 # floating-point noise, not a different position
ATOL = 1e-12


class LookAhead(Exception):
    pass


def cut_dates(dates, fractions=CUTS):
    """The dates to cut at: the date at each fraction of `dates` (the
    first date of the second half, ...); none for fewer than 4 dates."""
    n = len(dates)
    if n < 4:
        return []
    picks = sorted({max(1, min(n - 2, int(n * f))) for f in fractions})
    return [dates[i] for i in picks]


def _date(d):
    return d.strftime("%Y-%m-%d")


def compare(full, cut, last):
    """full, cut: validated positions (DataFrames on their price dates) of
    the full run and of the run on data up to `last`.  Returns None when
    they agree on every date up to `last`, else a dict naming the first
    date and symbol that differ."""
    dates = full.index[full.index <= last]
    columns = list(full.columns) + [c for c in cut.columns
                                    if c not in full.columns]
    # On arrays (the scorer compares after every cut run): the full run's
    # rows up to the cut, and the cut run's carried forward to each of
    # those dates (none before its first), NaN flat, in `columns` order.
    a = np.zeros((len(dates), len(columns)))
    a[:, :len(full.columns)] = full.to_numpy(dtype="float64")[:len(dates)]
    b = np.zeros_like(a)
    values = cut.to_numpy(dtype="float64")
    if np.isnan(values).any():
        values = cut.astype("float64").ffill().to_numpy()
    rows = np.searchsorted(cut.index.asi8, dates.asi8, side="right") - 1
    held = rows >= 0
    where = pd.Index(columns).get_indexer(cut.columns)
    b[np.ix_(held, where)] = values[rows[held]]
    a[np.isnan(a)] = 0.0
    b[np.isnan(b)] = 0.0
    same = np.isclose(a, b, rtol=RTOL, atol=ATOL)
    if same.all():
        return None
    r, k = np.argwhere(~same)[0]
    return {"type": "LookAhead",
            "message": "the position on %s for %s is %r with the data up to "
                       "%s but %r with all of it: it uses data from after "
                       "its date" % (_date(dates[r]), columns[k],
                                     float(b[r, k]), _date(last),
                                     float(a[r, k])),
            "date": _date(dates[r]), "symbol": str(columns[k]),
            "cut": _date(last), "full_value": float(a[r, k]),
            "cut_value": float(b[r, k]), "line": None, "traceback": ""}
