"""The handover: the only thing that crosses from a strategy's process to
the scorer, as bytes in a strict format that the scorer parses itself.

Nothing here builds objects from the bytes beyond str, int, float, list and
dict (json) and float64/int64 arrays (numpy.frombuffer with a fixed dtype):
no pickle, no class names, nothing that runs code.  The sender is hostile
(it ran after the strategy and may be patched by it), so every field is
checked by `decode` and `validate`, and anything off is a HandoverError
with a precise message.

    b"SBXPOS1\\n"  uint32 LE header length  header (JSON, UTF-8)
    then, for a position: rows x int64 LE dates (ns since the epoch),
    rows*cols x float64 LE values (row-major), and, when the header says
    "prices": "frame", the same for the prices frame.

    header = {"kind": "bool" | "float", "rows": R, "cols": C,
              "columns": [str, ...], "fee_ratio": f, "periods_per_year": p,
              "prices": "frame" | null, "prices_rows": R2,
              "prices_columns": [...]}
          or {"error": {"type", "message", "line", "traceback"}}
"""

import json
import math
import struct

import numpy as np
import pandas as pd

MAGIC = b"SBXPOS1\n"
MAX_HEADER = 1 << 20          # 1 MiB of JSON
MAX_BYTES = 64 << 20          # the whole message
MAX_LABEL = 200               # characters of a symbol
MAX_TEXT = 6000               # characters of an error field
MAX_PERIODS_PER_YEAR = 366    # daily data: more would only inflate Sharpe
MAX_FEE_RATIO = 1.0


class HandoverError(ValueError):
    """The strategy's process handed over something the scorer refuses."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind          # the error type reported in result.json


# -- the strategy's side (runs in its process; not trusted) -------------

def _block(frame):
    dates = pd.DatetimeIndex(frame.index).asi8.astype("<i8")
    values = np.ascontiguousarray(frame.to_numpy(dtype="float64"),
                                  dtype="<f8")
    return dates.tobytes() + values.tobytes()


def encode_position(aligned, kind, options, prices=None):
    """aligned: backtest.align's frame; prices: None (the data's close) or
    the prices frame the strategy passed."""
    header = {"kind": kind, "rows": int(aligned.shape[0]),
              "cols": int(aligned.shape[1]),
              "columns": [str(c) for c in aligned.columns],
              "fee_ratio": float(options["fee_ratio"]),
              "periods_per_year": float(options["periods_per_year"]),
              "prices": None}
    body = _block(aligned)
    if prices is not None:
        header.update(prices="frame", prices_rows=int(prices.shape[0]),
                      prices_columns=[str(c) for c in prices.columns])
        body += _block(prices.astype("float64"))
    return _frame(header) + body


def encode_error(err):
    return _frame({"error": err})


def _frame(header):
    raw = json.dumps(header, allow_nan=False).encode("utf-8")
    return MAGIC + struct.pack("<I", len(raw)) + raw


# -- the scorer's side ----------------------------------------------------

class Position:
    """A decoded, not yet validated handover."""

    def __init__(self, kind, dates, columns, values, fee_ratio,
                 periods_per_year, prices):
        self.kind = kind
        self.dates = dates          # int64 ns
        self.columns = columns
        self.values = values        # float64 rows x cols
        self.fee_ratio = fee_ratio
        self.periods_per_year = periods_per_year
        self.prices = prices        # None or (dates, columns, values)


def _bad(message):
    return HandoverError("BadHandover", message)


def _labels(x, what):
    if not isinstance(x, list) or not all(isinstance(c, str) and
                                          len(c) <= MAX_LABEL for c in x):
        raise _bad("%s must be a list of strings of at most %d characters"
                   % (what, MAX_LABEL))
    if len(set(x)) != len(x):
        raise _bad("%s has duplicates" % what)
    return x


def _count(h, key):
    v = h.get(key)
    if type(v) is not int or v < 0:
        raise _bad("header field %r must be a non-negative integer" % key)
    return v


def _number(h, key):
    v = h.get(key)
    if type(v) not in (int, float) or not math.isfinite(v):
        raise _bad("header field %r must be a finite number" % key)
    return int(v) if float(v).is_integer() and abs(v) < 1e15 else float(v)


def _take_block(buf, pos, rows, cols):
    need = rows * 8 + rows * cols * 8
    if len(buf) - pos < need:
        raise _bad("message ends early: %d rows x %d columns need %d bytes,"
                   " %d left" % (rows, cols, need, len(buf) - pos))
    dates = np.frombuffer(buf, dtype="<i8", count=rows, offset=pos)
    values = np.frombuffer(buf, dtype="<f8", count=rows * cols,
                           offset=pos + rows * 8).reshape(rows, cols)
    return dates.astype("int64"), values.astype("float64"), pos + need


def _text(x, limit=MAX_TEXT):
    return x[:limit] if isinstance(x, str) else ""


def decode(buf):
    """Position, or a dict (the strategy's error, fields sanitised);
    raises HandoverError."""
    if len(buf) > MAX_BYTES:
        raise HandoverError("HandoverTooLarge", "the position is larger than"
                            " %d bytes" % MAX_BYTES)
    if not buf:
        raise HandoverError("NoHandover", "the strategy's process handed "
                            "over nothing")
    if not buf.startswith(MAGIC) or len(buf) < len(MAGIC) + 4:
        raise _bad("message does not start with the handover's magic")
    (hlen,) = struct.unpack_from("<I", buf, len(MAGIC))
    start = len(MAGIC) + 4
    if hlen > MAX_HEADER or start + hlen > len(buf):
        raise _bad("header length %d is beyond the message or the limit"
                   % hlen)
    try:
        h = json.loads(bytes(buf[start:start + hlen]).decode("utf-8"),
                       parse_constant=lambda c: None)
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad("header is not JSON: %s" % e) from None
    if not isinstance(h, dict):
        raise _bad("header is not a JSON object")
    pos = start + hlen
    if "error" in h:
        e = h["error"] if isinstance(h["error"], dict) else {}
        line = e.get("line")
        if pos != len(buf):
            raise _bad("%d bytes after an error message" % (len(buf) - pos))
        return {"type": _text(e.get("type"), 200) or "Error",
                "message": _text(e.get("message")),
                "line": line if type(line) is int else None,
                "traceback": _text(e.get("traceback"))}
    kind = h.get("kind")
    if kind not in ("bool", "float"):
        raise _bad("kind must be bool or float, not %r" % (kind,))
    rows, cols = _count(h, "rows"), _count(h, "cols")
    columns = _labels(h.get("columns"), "columns")
    if len(columns) != cols:
        raise _bad("%d column names for %d columns" % (len(columns), cols))
    if rows * (cols + 1) * 8 > MAX_BYTES:
        raise HandoverError("HandoverTooLarge", "%d rows x %d columns is "
                            "over the limit" % (rows, cols))
    fee, ppy = _number(h, "fee_ratio"), _number(h, "periods_per_year")
    dates, values, pos = _take_block(buf, pos, rows, cols)
    prices = None
    if h.get("prices") == "frame":
        prows = _count(h, "prices_rows")
        pcols = _labels(h.get("prices_columns"), "prices_columns")
        if prows * (len(pcols) + 1) * 8 > MAX_BYTES:
            raise HandoverError("HandoverTooLarge", "prices too large")
        pdates, pvalues, pos = _take_block(buf, pos, prows, len(pcols))
        prices = (pdates, pcols, pvalues)
    elif h.get("prices") is not None:
        raise _bad("prices must be \"frame\" or null")
    if pos != len(buf):
        raise _bad("%d bytes after the position" % (len(buf) - pos))
    return Position(kind, dates, columns, values, fee, ppy, prices)


def _prices_table(data, pdates, pcols, pvalues):
    """The data table that the handed-over prices are a part of, cut to
    them (the scorer's own copy); HandoverError when none is."""
    idx = pd.DatetimeIndex(pdates)
    for name in data.names():
        table = data.get(name)
        if not set(pcols) <= set(map(str, table.columns)):
            continue
        if not idx.isin(table.index).all():
            continue
        part = table.set_axis([str(c) for c in table.columns], axis=1) \
            .loc[idx, pcols]
        if np.array_equal(part.to_numpy(dtype="float64"), pvalues,
                          equal_nan=True):
            return part
    raise HandoverError("PricesError", "prices must be one of the data's "
                        "tables (data.get(name)) or a part of one, unchanged")


def validate(p, data):
    """(position frame, prices frame, options) that backtest.run can take,
    built from the scorer's own data; raises HandoverError naming the first
    thing that is off."""
    if not (0.0 <= p.fee_ratio <= MAX_FEE_RATIO):
        raise HandoverError("PositionError", "fee_ratio must be between 0 "
                            "and %g, not %r" % (MAX_FEE_RATIO, p.fee_ratio))
    if not (0.0 < p.periods_per_year <= MAX_PERIODS_PER_YEAR):
        raise HandoverError("PositionError", "periods_per_year must be in "
                            "(0, %d], not %r" % (MAX_PERIODS_PER_YEAR,
                                                 p.periods_per_year))
    if p.prices is None:
        if "close" not in data.names():
            raise HandoverError("PricesError", "the data has no close prices")
        prices = data.get("close")
        prices = prices.set_axis([str(c) for c in prices.columns], axis=1)
    else:
        prices = _prices_table(data, *p.prices)
    if len(prices.index) < 2:
        raise HandoverError("PositionError", "need prices on at least two "
                            "dates")
    unknown = [c for c in p.columns if c not in prices.columns]
    if unknown:
        raise HandoverError("PositionError", "position has symbols not in "
                            "the prices: %s" % ", ".join(unknown[:10]))
    idx = pd.DatetimeIndex(p.dates)
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise HandoverError("PositionError", "position dates are not "
                            "strictly increasing")
    outside = ~idx.isin(prices.index)
    if outside.any():
        raise HandoverError("PositionError", "position date %s is not a "
                            "date of the prices"
                            % idx[outside.argmax()].strftime("%Y-%m-%d"))
    bad = ~np.isfinite(p.values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise HandoverError("PositionError", "position value at %s, %s is "
                            "not finite" % (idx[r].strftime("%Y-%m-%d"),
                                            p.columns[c]))
    if p.kind == "bool" and not np.isin(p.values, (0.0, 1.0)).all():
        raise HandoverError("PositionError", "a boolean position holds "
                            "values other than 0 and 1")
    frame = pd.DataFrame(p.values.copy(), index=idx, columns=p.columns)
    frame.index.name = prices.index.name
    if p.kind == "bool":
        frame = frame.astype(bool)
    return frame, prices, {"fee_ratio": p.fee_ratio,
                           "periods_per_year": p.periods_per_year}
