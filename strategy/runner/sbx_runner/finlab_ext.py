"""A few finlab-style DataFrame helpers, so that `close > close.average(20)`
works as in finlab.  Added to pandas.DataFrame only where pandas has no
attribute of that name; they change nothing else.
"""

import pandas as pd


def average(self, n):
    """Rolling mean over n rows (NaN until n rows are available)."""
    return self.rolling(n, min_periods=n).mean()


def rise(self, n=1):
    """True where the value is above its value n rows earlier."""
    return self > self.shift(n)


def fall(self, n=1):
    """True where the value is below its value n rows earlier."""
    return self < self.shift(n)


def is_largest(self, n):
    """True for the n largest values of each row (ties share the rank)."""
    return self.rank(axis=1, ascending=False, method="min") <= n


def is_smallest(self, n):
    """True for the n smallest values of each row."""
    return self.rank(axis=1, ascending=True, method="min") <= n


def sustain(self, n):
    """True where a boolean frame was True on each of the last n rows."""
    return self.astype("float64").rolling(n, min_periods=n).sum() >= n


HELPERS = {f.__name__: f for f in
           (average, rise, fall, is_largest, is_smallest, sustain)}


def install():
    for name, func in HELPERS.items():
        if not hasattr(pd.DataFrame, name):
            setattr(pd.DataFrame, name, func)
