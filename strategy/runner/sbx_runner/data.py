"""The data API a strategy sees: `data.get(name)` over the CSVs in /data.

Two file layouts are understood (see docs/strategy.md):

* wide: a date column plus one price column per symbol, e.g.
  EuStockMarkets.csv (`approx_date,year_frac,DAX,SMI,CAC,FTSE`).  The file
  feeds the field named by its stem when that is a field name
  (`volume.csv` -> "volume"), otherwise "close".
* OHLCV: a date column plus Open/High/Low/Close[/Volume] of one symbol, e.g.
  xts_sample_matrix.csv; the symbol is the file's stem and each column feeds
  its field.

`data.get(field)` returns a DataFrame indexed by date (DatetimeIndex named
"date"), one float column per symbol; several files feeding one field are
joined on the date.  `data.get(stem)` returns one file's whole table.
"""

import csv
import os

import pandas as pd

DATE_COLUMNS = ("date", "approx_date", "datetime", "timestamp", "time")
META_COLUMNS = frozenset({"year_frac"})
FIELDS = ("open", "high", "low", "close", "volume", "adj_close")
_FIELD_ALIASES = {
    "adjusted": "adj_close", "adj close": "adj_close", "adjclose": "adj_close",
    # finlab's names, so that strategies written for it read naturally.
    "收盤價": "close", "開盤價": "open", "最高價": "high", "最低價": "low",
    "成交股數": "volume",
}


class DataError(KeyError):
    """An unknown name or an unreadable data file."""

    def __str__(self):
        return str(self.args[0]) if self.args else "data error"


def _field_name(column):
    key = column.strip().lower()
    key = _FIELD_ALIASES.get(key, key)
    return key if key in FIELDS else None


class _File:
    def __init__(self, path):
        self.path = path
        self.stem = os.path.splitext(os.path.basename(path))[0]
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
        self.columns = [c.strip() for c in header]
        lowered = [c.lower() for c in self.columns]
        self.date_col = next((self.columns[lowered.index(d)]
                              for d in DATE_COLUMNS if d in lowered), None)
        if self.date_col is None:
            raise DataError("%s: no date column (one of %s)"
                            % (self.stem, ", ".join(DATE_COLUMNS)))
        values = [c for c in self.columns
                  if c != self.date_col and c.lower() not in META_COLUMNS
                  and c.lower() not in DATE_COLUMNS]
        fields = [_field_name(c) for c in values]
        if values and all(fields):
            # OHLCV of one symbol: field -> column
            self.layout = "ohlcv"
            self.fields = dict(zip(fields, values))
        else:
            self.layout = "wide"
            self.fields = {_field_name(self.stem) or "close": None}
        self.values = values
        self._table = None

    def table(self):
        if self._table is None:
            df = pd.read_csv(self.path)
            df.columns = [c.strip() for c in df.columns]
            index = pd.DatetimeIndex(pd.to_datetime(df[self.date_col]),
                                     name="date")
            df = df[self.values].astype("float64")
            df.index = index
            self._table = df.sort_index()
        return self._table

    def field(self, name):
        table = self.table()
        if self.layout == "ohlcv":
            return table[[self.fields[name]]].set_axis([self.stem], axis=1)
        return table


class Data:
    """finlab-style access to the data directory: `data.get("close")`."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self._files = [_File(os.path.join(data_dir, n))
                       for n in sorted(os.listdir(data_dir))
                       if n.lower().endswith(".csv")]
        self._cache = {}

    def load_all(self):
        """Read every file and build every name now.  The scorer calls it
        before any strategy runs, so that it never reads a file after
        strategy code could have touched the filesystem."""
        for name in self.names():
            self.get(name)
        return self

    def until(self, last):
        """A Data that sees only the rows dated up to `last` (the look-ahead
        audit's cut); every table is cut the same way."""
        self.load_all()
        cut = Data.__new__(Data)
        cut.data_dir = self.data_dir
        cut._files = self._files
        cut._cache = {k: v.loc[:last] for k, v in self._cache.items()}
        return cut

    def dates(self):
        """The dates the audit cuts at: those of "close", else of the
        first table."""
        names = self.names()
        if not names:
            return pd.DatetimeIndex([])
        key = "close" if "close" in names else names[0]
        return self.get(key).index

    def names(self):
        """Every name `get` accepts: the fields, then the file stems."""
        fields = sorted({f for x in self._files for f in x.fields},
                        key=lambda f: (FIELDS.index(f), f))
        return fields + [x.stem for x in self._files]

    def symbols(self):
        return list(self.get("close").columns) if "close" in self.names() \
            else []

    def get(self, name):
        """A fresh copy of the named table (callers may modify it)."""
        key = self._resolve(name)
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key].copy()

    def _resolve(self, name):
        if not isinstance(name, str):
            raise DataError("data name must be a string, not %s"
                            % type(name).__name__)
        raw = name.strip()
        if raw.lower().startswith("price:"):
            raw = raw[len("price:"):]
        field = _field_name(raw)
        if field and any(field in f.fields for f in self._files):
            return ("field", field)
        for f in self._files:
            if f.stem == raw:
                return ("file", f.stem)
        raise DataError("no data named %r; available: %s"
                        % (name, ", ".join(self.names()) or "(none)"))

    def _load(self, key):
        kind, name = key
        if kind == "file":
            return next(f for f in self._files if f.stem == name).table()
        parts = [f.field(name) for f in self._files if name in f.fields]
        if len(parts) == 1:
            return parts[0]
        cols = [c for p in parts for c in p.columns]
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            raise DataError("field %r: symbols %s appear in several files"
                            % (name, ", ".join(dup)))
        return pd.concat(parts, axis=1, join="outer").sort_index()
