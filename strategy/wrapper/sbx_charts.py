"""Charts of a batch, on the host (never inside the sandbox): one PNG per
strategy (equity and drawdown) and a comparison chart.

matplotlib is imported only here and only when a chart is drawn (Debian:
python3-matplotlib).  No pyplot: a Figure with the Agg canvas needs no
display and keeps no global state, so it is safe next to the batch's
threads.  Strategy names are the user's but a curve's values came out of
the sandbox: they were validated by sbx_equity, and math text is off so a
'$' in a name is drawn as it is.
"""

import datetime
import io

import sbx_text

COMPARE_CURVES = 10     # equity curves on the comparison chart
COMPARE_BARS = 25       # Sharpe bars on it


class Unavailable(RuntimeError):
    pass


def _mpl():
    try:
        import matplotlib
        import matplotlib.ticker  # noqa: F401 — mpl.ticker below
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise Unavailable("charts need matplotlib (Debian: apt-get install "
                          "python3-matplotlib): %s" % e) from None
    return matplotlib, Figure, FigureCanvasAgg


def _label(name, width):
    """The end of a name (a path's file name is at its end)."""
    name = sbx_text.clean(name, 1000)
    return name if len(name) <= width else "..." + name[-(width - 3):]


def _dates(curve):
    out = []
    for d in curve["date"]:
        try:
            out.append(datetime.datetime.fromisoformat(d))
        except ValueError:
            return list(range(len(curve["date"])))
    return out


def _png(fig, canvas_cls):
    buf = io.BytesIO()
    canvas_cls(fig).print_png(buf)
    return buf.getvalue()


def strategy_png(name, curve, subtitle=""):
    """PNG bytes: equity above, drawdown (a fraction <= 0, in %) below."""
    mpl, Figure, Canvas = _mpl()
    with mpl.rc_context({"text.parse_math": False, "font.size": 9}):
        fig = Figure(figsize=(8, 4), dpi=80)
        top, bottom = fig.subplots(2, 1, sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1.3]})
        x = _dates(curve)
        top.plot(x, curve["equity"], color="#1f5fa8", linewidth=1.2)
        top.set_ylabel("equity")
        top.grid(alpha=0.3)
        top.set_title(sbx_text.clean(name, 90) +
                      ("\n" + subtitle if subtitle else ""), fontsize=10)
        dd = [100.0 * v for v in curve["drawdown"]]
        bottom.fill_between(x, dd, 0, color="#c0392b", alpha=0.5,
                            linewidth=0)
        bottom.set_ylabel("drawdown %")
        bottom.grid(alpha=0.3)
        fig.autofmt_xdate()
        fig.tight_layout()
        return _png(fig, Canvas)


def comparison_png(entries):
    """PNG bytes comparing ranked leaderboard entries (sbx_leaderboard.rank):
    the equity curves of the best COMPARE_CURVES (log scale), and the
    Sharpe ratio of the best COMPARE_BARS."""
    mpl, Figure, Canvas = _mpl()
    with mpl.rc_context({"text.parse_math": False, "font.size": 9}):
        fig = Figure(figsize=(10, 7.5), dpi=80)
        top, bottom = fig.subplots(2, 1,
                                   gridspec_kw={"height_ratios": [3, 2]})
        drawn = 0
        for e in entries:
            curve = e["result"].equity
            if drawn >= COMPARE_CURVES or not curve:
                continue
            if min(curve["equity"]) <= 0:
                continue        # no log scale for a wiped-out account
            top.plot(_dates(curve), curve["equity"], linewidth=1.1,
                     label="#%d %s" % (e["rank"], _label(e["name"], 40)))
            drawn += 1
        top.set_yscale("log")
        # plain numbers: the log axis' default labels are math text, which
        # is off here (it would print "$\\mathdefault{10^{0}}$")
        plain = mpl.ticker.FormatStrFormatter("%g")
        top.yaxis.set_major_formatter(plain)
        top.yaxis.set_minor_formatter(plain)
        top.set_ylabel("equity (log)")
        top.set_title("Equity of the best %d by Sharpe" % drawn)
        top.grid(alpha=0.3, which="both")
        if drawn:
            top.legend(fontsize=7, loc="upper left")
        bars = [e for e in entries if e["sharpe"] is not None][:COMPARE_BARS]
        labels = ["#%d %s" % (e["rank"], _label(e["name"], 32))
                  for e in bars]
        values = [e["sharpe"] for e in bars]
        bottom.barh(range(len(bars)), values,
                    color=["#1f5fa8" if v >= 0 else "#c0392b"
                           for v in values])
        bottom.set_yticks(range(len(bars)))
        bottom.set_yticklabels(labels, fontsize=7)
        bottom.invert_yaxis()
        bottom.set_xlabel("Sharpe ratio")
        bottom.grid(alpha=0.3, axis="x")
        fig.tight_layout()
        return _png(fig, Canvas)
