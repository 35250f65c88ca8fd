"""A batch's report directory: one PNG per strategy with an equity curve,
comparison.png, and index.html with the leaderboard and every chart
embedded (one self-contained file: it can be mailed or archived alone).

Everything from the sandbox is escaped (html.escape after sbx_text.clean):
an error message is text, never markup or script.  File names are made
from the input's position and a sanitised stem, so a strategy's name cannot
place a file outside the directory.
"""

import base64
import html
import os
import re
import time

import sbx_leaderboard
import sbx_text


def _stem(name):
    base = os.path.splitext(os.path.basename(str(name)))[0]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("._")[:40] or "s"


def png_name(index, name):
    return "%03d-%s.png" % (index + 1, _stem(name))


def _e(text, limit=500):
    return html.escape(sbx_text.clean(text, limit))


def _pct(x):
    return "" if x is None else "%.1f%%" % (x * 100)


def _img(png, alt):
    return '<img alt="%s" src="data:image/png;base64,%s">' % (
        _e(alt), base64.b64encode(png).decode("ascii"))


CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1100px}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em}
th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.top td{background:#eef5ee}
.st{font-weight:bold} .st-rejected{color:#8a6d00} .st-error{color:#b03a2e}
.st-timeout,.st-oom,.st-killed{color:#7d3c98} .st-sandbox_error{color:#555}
pre{margin:0;white-space:pre-wrap;font-size:.85em}
img{max-width:100%;border:1px solid #eee}
.warn{color:#8a6d00}
"""


def render_html(names, results, charts, comparison, warnings, title):
    ranked, failed = sbx_leaderboard.rank(names, results)
    h = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         # no script, no remote anything: the page shows data only
         '<meta http-equiv="Content-Security-Policy" content="default-src '
         "'none'; img-src data:; style-src 'unsafe-inline'\">",
         "<title>%s</title><style>%s</style></head><body>" % (_e(title), CSS),
         "<h1>%s</h1>" % _e(title),
         "<p>%d strategies: %d ran, %d failed. Written %s.</p>" % (
             len(results), len(ranked), len(failed),
             time.strftime("%Y-%m-%d %H:%M:%S %Z"))]
    for w in warnings:
        h.append('<p class="warn">%s</p>' % _e(w))
    h.append("<h2>Leaderboard (by Sharpe)</h2>")
    if ranked:
        h.append("<table><tr><th>#</th><th>strategy</th><th>Sharpe</th>"
                 "<th>annual return</th><th>max drawdown</th><th>trades</th>"
                 "<th>time</th><th>seccomp denials</th></tr>")
        for e in ranked:
            h.append('<tr%s><td class="n">%d</td><td><a href="#s%d">%s</a>'
                     '</td><td class="n">%s</td><td class="n">%s</td>'
                     '<td class="n">%s</td><td class="n">%s</td>'
                     '<td class="n">%.2f s</td><td>%s</td></tr>' % (
                         ' class="top"' if e["rank"] == 1 else "",
                         e["rank"], e["index"], _e(e["name"]),
                         "" if e["sharpe"] is None else "%.3f" % e["sharpe"],
                         _pct(e["annual_return"]), _pct(e["max_drawdown"]),
                         "" if e["trades"] is None else "%.0f" % e["trades"],
                         e["wall_time"], _e(e["seccomp"])))
        h.append("</table>")
    else:
        h.append("<p>No strategy ran to the end.</p>")
    if failed:
        h.append("<h2>Failed</h2><table><tr><th>strategy</th><th>status</th>"
                 "<th>why</th></tr>")
        for e in failed:
            h.append('<tr><td>%s</td><td class="st st-%s">%s</td><td><pre>'
                     '%s</pre></td></tr>' % (
                         _e(e["name"]), _e(e["status"], 20), _e(e["status"]),
                         html.escape("\n".join(e["reason"]))))
        h.append("</table>")
    if comparison:
        h.append("<h2>Comparison</h2>" + _img(comparison, "comparison"))
    if charts:
        h.append("<h2>Each strategy</h2>")
        for e in ranked:
            if e["index"] in charts:
                h.append('<div id="s%d">%s</div>' % (
                    e["index"], _img(charts[e["index"]], e["name"])))
    h.append("</body></html>")
    return "\n".join(h) + "\n"


def write(report_dir, names, results, title="sbx strategy batch"):
    """Write the report; (path of index.html, warnings).  Without
    matplotlib the page still has the leaderboard, and a warning says
    why there are no charts."""
    os.makedirs(report_dir, exist_ok=True)
    ranked, _ = sbx_leaderboard.rank(names, results)
    warnings = []
    charts, comparison = {}, None
    no_curve = [e for e in ranked if not e["result"].equity]
    if no_curve:
        bad = [e for e in no_curve if e["result"].equity_error]
        warnings.append(
            "%d of %d strategies that ran have no equity curve (the runner "
            "writes equity.csv next to result.json)%s" % (
                len(no_curve), len(ranked),
                "; refused: " + "; ".join(
                    "%s: %s" % (sbx_text.clean(e["name"], 60),
                                sbx_text.clean(e["result"].equity_error, 120))
                    for e in bad[:5]) if bad else ""))
    import sbx_charts
    try:
        for e in ranked:
            curve = e["result"].equity
            if not curve:
                continue
            sub = "Sharpe %s, annual %s, max drawdown %s" % (
                "-" if e["sharpe"] is None else "%.3f" % e["sharpe"],
                _pct(e["annual_return"]) or "-",
                _pct(e["max_drawdown"]) or "-")
            png = sbx_charts.strategy_png(e["name"], curve, sub)
            charts[e["index"]] = png
            with open(os.path.join(report_dir,
                                   png_name(e["index"], e["name"])),
                      "wb") as f:
                f.write(png)
        if ranked:
            comparison = sbx_charts.comparison_png(ranked)
            with open(os.path.join(report_dir, "comparison.png"), "wb") as f:
                f.write(comparison)
    except sbx_charts.Unavailable as e:
        warnings.append(str(e))
    index = os.path.join(report_dir, "index.html")
    with open(index, "w", encoding="utf-8") as f:
        f.write(render_html(names, results, charts, comparison, warnings,
                            title))
    return index, warnings
