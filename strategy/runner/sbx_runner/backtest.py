"""A small vectorised backtest: positions x close-to-close returns.

Conventions (docs/strategy.md has the long form):

* position: DataFrame indexed by date, one column per symbol.  Booleans mean
  "hold", split equally among the True symbols of a row; numbers are weights
  (fractions of equity, negative = short), scaled down when the gross weight
  of a row exceeds 1.  Rows are carried forward to the price dates (so a
  monthly position holds through the month); dates before the first row and
  missing symbols are flat.
* A weight decided on date t (from data up to the close of t) is traded at
  that close and earns the return from t to t+1.  The fee, a fraction of
  traded value, is charged in that same period.  Trades on the last date earn
  nothing and are not counted.
* Metrics over the T-1 periods of T price dates, `periods_per_year` periods a
  year (252 by default):
    annual_return  final_equity ** (1 / years) - 1
    volatility     stdev(period returns, ddof=1) * sqrt(periods_per_year)
    sharpe         mean / stdev(ddof=1) * sqrt(periods_per_year), risk-free 0
                   (null when the stdev is 0)
    max_drawdown   min over t of equity_t / max(equity_0..t) - 1, equity_0 = 1
    trades         entries: a symbol's weight becoming non-zero from zero or
                   flipping sign
    turnover       sum over dates and symbols of |w_t - w_t-1| (w_-1 = 0),
                   per year; turnover_total is the unannualised sum
    exposure       mean gross weight sum(|w_t|)
"""

import math

import numpy as np
import pandas as pd


class PositionError(ValueError):
    pass


def align(position, prices):
    """The position as the backtest holds it: a float64 frame on exactly the
    price dates, one column per symbol of the position, and its kind
    ("bool": hold the non-zero symbols; "float": weights).

    Each row of the position is first made flat where it is NaN (or
    infinite), then carried forward to the price dates; dates before its
    first row are flat.  Every later step works row by row, so this gives
    the same weights as computing them on the position's own rows and
    carrying those forward.  The scorer receives positions in this form
    (sbx_runner.handover), and the audit compares them in it."""
    if isinstance(position, pd.Series):
        position = position.to_frame(position.name if position.name
                                     is not None else prices.columns[0])
    if not isinstance(position, pd.DataFrame):
        raise PositionError("position must be a pandas DataFrame, not %s"
                            % type(position).__name__)
    unknown = [c for c in position.columns if c not in prices.columns]
    if unknown:
        raise PositionError("position has symbols not in the prices: %s"
                            % ", ".join(map(str, unknown[:10])))
    if position.columns.duplicated().any():
        raise PositionError("position has duplicate symbols")
    if len(position.index) and not position.index.is_monotonic_increasing:
        try:
            position = position.sort_index()
        except TypeError as e:
            raise PositionError("position index cannot be sorted: %s"
                                % e) from None
    if position.index.has_duplicates:
        raise PositionError("position has duplicate dates")

    kind = "bool" if all(pd.api.types.is_bool_dtype(t)
                         for t in position.dtypes) else "float"
    try:
        v = (position.fillna(False) if kind == "bool" else position) \
            .astype("float64")
    except (TypeError, ValueError) as e:
        raise PositionError("position values must be booleans or "
                            "numbers: %s" % e) from None
    if v.index.equals(prices.index):
        # already on the price dates (a position computed from the
        # prices): nothing to carry forward, and plain arrays are faster
        a = v.to_numpy(dtype="float64", copy=True)
        a[~np.isfinite(a)] = 0.0
        return pd.DataFrame(a, index=prices.index, columns=v.columns), kind
    v = v.replace([np.inf, -np.inf], np.nan).fillna(0.0)
    try:
        v = v.reindex(v.index.union(prices.index)).ffill() \
             .reindex(prices.index)
    except TypeError as e:
        raise PositionError("position index does not match the price dates:"
                            " %s" % e) from None
    return v.fillna(0.0), kind


def _weights(position, prices):
    """(T, N) float64 array: the weights held on each price date, one
    column per price column (symbols the position lacks are flat)."""
    v, kind = align(position, prices)
    a = v.to_numpy(dtype="float64")       # finite: align made it so
    if kind == "bool":
        held = (a != 0.0).astype("float64")
        count = held.sum(axis=1, keepdims=True)
        w = np.divide(held, count, out=np.zeros_like(held), where=count > 0)
    else:
        gross = np.abs(a).sum(axis=1, keepdims=True)
        w = a / np.where(gross > 1.0, gross, 1.0)
    out = np.zeros((len(prices.index), len(prices.columns)))
    cols = prices.columns.get_indexer(v.columns)
    out[:, cols] = w
    return out


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _date(x):
    return x.strftime("%Y-%m-%d") if hasattr(x, "strftime") else str(x)


def sim(position, prices, fee_ratio=0.0, periods_per_year=252):
    """Backtest `position` on `prices` (close, one column per symbol) and
    return the metrics as a dict of plain Python values."""
    return run(position, prices, fee_ratio, periods_per_year, curve=False)[0]


def _shift(a, fill):
    """a moved one row down, `fill` in the first row (DataFrame.shift(1))."""
    out = np.empty_like(a)
    out[0] = fill
    out[1:] = a[:-1]
    return out


def _nansum_rows(a):
    """Row sums that skip NaN (0 * inf, inf - inf), as pandas' sum does."""
    return np.where(np.isnan(a), 0.0, a).sum(axis=1)


def _std_mean(x):
    """(stdev with ddof=1, mean) of the values of x that are not NaN,
    two-pass as pandas computes them: NaN when there are too few of them,
    but a stdev of 0.0 for a single period."""
    valid = x[~np.isnan(x)]
    n = len(valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = valid.sum() / n if n else float("nan")
        if len(x) < 2:
            return 0.0, float(mean)
        if n < 2:
            return float("nan"), float(mean)
        return float(np.sqrt(((mean - valid) ** 2).sum() / (n - 1))), \
            float(mean)


def run(position, prices, fee_ratio=0.0, periods_per_year=252, curve=True):
    """(metrics, curve): sim's metrics and the equity curve, a list of
    (date, equity, drawdown) per price date (equity 1 on the first); the
    curve is None when not asked for.  On numpy arrays: the same steps as
    a DataFrame would take, without pandas' cost per operation (each run
    of a strategy backtests at least once in its own process)."""
    if not isinstance(prices, pd.DataFrame) or len(prices.index) < 2:
        raise PositionError("need prices on at least two dates")
    if fee_ratio < 0 or periods_per_year <= 0:
        raise PositionError("fee_ratio must be >= 0, periods_per_year > 0")
    if not prices.columns.is_unique:
        raise PositionError("prices have duplicate symbols")
    prices = prices.astype("float64").ffill()
    w = _weights(position, prices)
    p = prices.to_numpy(dtype="float64")

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rets = p / _shift(p, np.nan) - 1.0
        rets[np.isnan(rets)] = 0.0
        prev = _shift(w, 0.0)
        traded = np.abs(w - prev).sum(axis=1)
        # period t (1..T-1) holds the weights decided at t-1 and pays for
        # trading into them.
        period = _nansum_rows(prev * rets)[1:] - fee_ratio * traded[:-1]
        decided = slice(0, len(w) - 1)    # dates whose trades are executed
        valid = ~np.isnan(period)
        # cumprod skipping NaN (as pandas'): a NaN period leaves equity
        # where it was and shows as NaN on its own date
        equity = np.cumprod(np.where(valid, 1.0 + period, 1.0))
        equity[~valid] = np.nan
    final = float(equity[-1])
    n = len(period)
    years = n / periods_per_year
    if final > 0:
        annual = final ** (1.0 / years) - 1.0
    else:
        annual = -1.0
    std, mean = _std_mean(period)
    sharpe = mean / std * math.sqrt(periods_per_year) if std > 0 else None
    eq = np.concatenate(([1.0], equity))
    with np.errstate(invalid="ignore"):
        peak = np.maximum.accumulate(eq)
        drawdown = float((eq / peak - 1.0).min())

    wd, pd_ = w[decided], prev[decided]
    entries = (wd != 0) & ((pd_ == 0) | (np.sign(wd) != np.sign(pd_)))
    turnover_total = float(traded[decided].sum())

    rows = None
    if curve:
        dates = prices.index.strftime("%Y-%m-%d") \
            if isinstance(prices.index, pd.DatetimeIndex) else prices.index
        with np.errstate(invalid="ignore"):
            rows = list(zip(map(str, dates), eq.tolist(),
                            (eq / peak - 1.0).tolist()))
    return {
        "annual_return": _num(annual),
        "sharpe": _num(sharpe) if sharpe is not None else None,
        "max_drawdown": _num(drawdown),
        "trades": int(entries.sum()),
        "turnover": _num(turnover_total / years),
        "turnover_total": _num(turnover_total),
        "volatility": _num(std * math.sqrt(periods_per_year)),
        "exposure": _num(np.abs(wd).sum(axis=1).mean()),
        "final_equity": _num(final),
        "periods": n,
        "periods_per_year": periods_per_year,
        "fee_ratio": float(fee_ratio),
        "start": _date(prices.index[0]),
        "end": _date(prices.index[-1]),
        "symbols": [str(c) for c in prices.columns],
    }, rows
