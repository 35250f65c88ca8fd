"""Read the equity curve a run left in its out directory (equity.csv).

The file comes out of the sandbox, so it is hostile input: whatever ran
inside could have written it (a strategy can write under /out).  Only a
bounded, strictly shaped file is accepted:

    date,equity,drawdown
    1991-07-01,1.0,0.0
    ...

dates ISO (YYYY-MM-DD, optionally with a time), equity and drawdown finite
numbers, drawdown a fraction <= 0.  Anything else is refused as a whole with
a reason; nothing of it is shown or drawn.

A batch keeps every result until its report is drawn, so a curve is kept
thinned to at most MAX_POINTS points (evenly, always with the first, the
last and the deepest drawdown): whatever a strategy writes, a thousand runs
hold a bounded amount of the loop's memory.  A daily curve of eight years
is kept whole.
"""

import math
import re

HEADER = "date,equity,drawdown"
MAX_BYTES = 8 << 20          # a daily curve of a century is ~1 MB
MAX_ROWS = 100000
MAX_POINTS = 2000
_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\Z")


class EquityError(ValueError):
    pass


def _number(text, what, lineno):
    try:
        x = float(text)
    except ValueError:
        raise EquityError("line %d: %s %.40r is not a number"
                          % (lineno, what, text)) from None
    if not math.isfinite(x):
        raise EquityError("line %d: %s is not finite" % (lineno, what))
    return x


def parse(data):
    """{"date": [...], "equity": [...], "drawdown": [...]} from the bytes of
    an equity.csv; raises EquityError saying what is wrong."""
    if len(data) > MAX_BYTES:
        raise EquityError("larger than %d bytes" % MAX_BYTES)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise EquityError("not ASCII") from None
    lines = text.splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise EquityError("the header is not %r" % HEADER)
    if len(lines) - 1 > MAX_ROWS:
        raise EquityError("more than %d rows" % MAX_ROWS)
    out = {"date": [], "equity": [], "drawdown": []}
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        f = line.split(",")
        if len(f) != 3:
            raise EquityError("line %d: %d fields, not 3" % (n, len(f)))
        date = f[0].strip()
        if not _DATE.match(date):
            raise EquityError("line %d: date %.40r is not YYYY-MM-DD"
                              % (n, date))
        dd = _number(f[2], "drawdown", n)
        if dd > 1e-12 or dd < -1e6:
            raise EquityError("line %d: drawdown %r is not a fraction <= 0"
                              % (n, dd))
        out["date"].append(date)
        out["equity"].append(_number(f[1], "equity", n))
        out["drawdown"].append(min(dd, 0.0))
    if not out["date"]:
        raise EquityError("no rows")
    return thin(out)


def thin(curve, limit=MAX_POINTS):
    """The curve with at most `limit` points (limit >= 3), evenly spaced,
    with the first, the last and the deepest drawdown; "rows" says how
    many it had."""
    n = len(curve["date"])
    if n <= limit:
        return dict(curve, rows=n)
    deepest = min(range(n), key=curve["drawdown"].__getitem__)
    even = {round(k * (n - 1) / (limit - 2)) for k in range(limit - 1)}
    keep = sorted(even | {deepest})
    out = {k: [v[i] for i in keep] for k, v in curve.items()}
    out["rows"] = n
    return out


def read(path):
    """(curve, None) or (None, reason); (None, None) when there is no file.
    Reads at most MAX_BYTES + 1 bytes, whatever the file's size."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None, None
    except OSError as e:
        return None, "equity.csv: %s" % e.strerror
    try:
        return parse(data), None
    except EquityError as e:
        return None, "equity.csv: %s" % e
