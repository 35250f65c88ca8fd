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
    v = v.replace([np.inf, -np.inf], np.nan).fillna(0.0)
    try:
        v = v.reindex(v.index.union(prices.index)).ffill() \
             .reindex(prices.index)
    except TypeError as e:
        raise PositionError("position index does not match the price dates:"
                            " %s" % e) from None
    return v.fillna(0.0), kind


def _weights(position, prices):
    v, kind = align(position, prices)
    if kind == "bool":
        held = (v != 0.0).astype("float64")
        count = held.sum(axis=1)
        w = held.div(count.where(count > 0), axis=0).fillna(0.0)
    else:
        gross = v.abs().sum(axis=1)
        w = v.div(gross.where(gross > 1.0, 1.0), axis=0)
    return w.reindex(columns=prices.columns).fillna(0.0)


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _date(x):
    return x.strftime("%Y-%m-%d") if hasattr(x, "strftime") else str(x)


def sim(position, prices, fee_ratio=0.0, periods_per_year=252):
    """Backtest `position` on `prices` (close, one column per symbol) and
    return the metrics as a dict of plain Python values."""
    return run(position, prices, fee_ratio, periods_per_year)[0]


def run(position, prices, fee_ratio=0.0, periods_per_year=252):
    """(metrics, curve): sim's metrics and the equity curve, a list of
    (date, equity, drawdown) per price date (equity 1 on the first)."""
    if not isinstance(prices, pd.DataFrame) or len(prices.index) < 2:
        raise PositionError("need prices on at least two dates")
    if fee_ratio < 0 or periods_per_year <= 0:
        raise PositionError("fee_ratio must be >= 0, periods_per_year > 0")
    prices = prices.astype("float64").ffill()
    w = _weights(position, prices)

    rets = (prices / prices.shift(1) - 1.0).fillna(0.0)
    prev = w.shift(1).fillna(0.0)
    traded = (w - prev).abs().sum(axis=1)
    # period t (1..T-1) holds the weights decided at t-1 and pays for
    # trading into them.
    period = ((prev * rets).sum(axis=1) - fee_ratio * traded.shift(1)) \
        .iloc[1:]
    decided = slice(0, len(w.index) - 1)   # dates whose trades are executed

    equity = (1.0 + period).cumprod()
    final = float(equity.iloc[-1])
    n = len(period)
    years = n / periods_per_year
    if final > 0:
        annual = final ** (1.0 / years) - 1.0
    else:
        annual = -1.0
    std = float(period.std(ddof=1)) if n > 1 else 0.0
    mean = float(period.mean())
    sharpe = mean / std * math.sqrt(periods_per_year) if std > 0 else None
    curve = np.concatenate(([1.0], equity.to_numpy()))
    drawdown = float((curve / np.maximum.accumulate(curve) - 1.0).min())

    wd = w.iloc[decided]
    pd_ = prev.iloc[decided]
    entries = (wd != 0) & ((pd_ == 0) | (np.sign(wd) != np.sign(pd_)))
    turnover_total = float(traded.iloc[decided].sum())

    dates = prices.index.strftime("%Y-%m-%d") \
        if isinstance(prices.index, pd.DatetimeIndex) else prices.index
    peak = np.maximum.accumulate(curve)
    curve_rows = list(zip(map(str, dates), curve.tolist(),
                          (curve / peak - 1.0).tolist()))
    return {
        "annual_return": _num(annual),
        "sharpe": _num(sharpe) if sharpe is not None else None,
        "max_drawdown": _num(drawdown),
        "trades": int(entries.to_numpy().sum()),
        "turnover": _num(turnover_total / years),
        "turnover_total": _num(turnover_total),
        "volatility": _num(std * math.sqrt(periods_per_year)),
        "exposure": _num(wd.abs().sum(axis=1).mean()),
        "final_equity": _num(final),
        "periods": n,
        "periods_per_year": periods_per_year,
        "fee_ratio": float(fee_ratio),
        "start": _date(prices.index[0]),
        "end": _date(prices.index[-1]),
        "symbols": [str(c) for c in prices.columns],
    }, curve_rows
