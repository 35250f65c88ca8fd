"""The leaderboard of a batch: the strategies that ran ranked by Sharpe,
then every one that failed with its status and why.

Pure functions of (names, results), shared by the terminal table and the
HTML report.  Every value that came out of the sandbox is checked (metrics
must be finite numbers to rank) and cleaned before it is shown
(sbx_text.clean): a strategy can write its own result.json.
"""

import sbx_text

MAX_FINDINGS = 5          # shown per rejected strategy
TRACEBACK_LINES = 4       # last lines of an error's traceback


def _mib(n):
    return "%.0f MiB" % (n / 1048576.0)


def denials_text(result):
    """'unshare x1, mount x2' or ''."""
    return ", ".join("%s x%d" % (sbx_text.clean(d["syscall"], 40), d["count"])
                     for d in result.seccomp_denials)


def _traceback_tail(tb):
    """The last lines of a traceback; when the strategy's own last frame
    is further up (the error surfaced inside pandas), that frame first."""
    lines = [l for l in tb.splitlines()
             if l.strip() and set(l.strip()) - set("^~")]
    tail = lines[-TRACEBACK_LINES:]
    own = [i for i, l in enumerate(lines) if '"<strategy>"' in l]
    if own and own[-1] < len(lines) - TRACEBACK_LINES:
        i = own[-1]
        tail = lines[i:i + 2] + ["..."] + lines[-2:]
    return tail


def reason(result):
    """Why a run failed, as lines: the first one a summary, the rest
    details (findings, the end of a traceback)."""
    r = result
    err = r.error if isinstance(r.error, dict) else {}
    rep = r.report if isinstance(r.report, dict) else {}
    lines = []
    if r.status == "rejected":
        found = [f for f in (r.findings or []) if isinstance(f, dict)]
        lines.append("rejected by the static check (%d finding%s)"
                     % (len(found), "" if len(found) == 1 else "s"))
        for f in found[:MAX_FINDINGS]:
            lines.append("line %s, col %s: %s: %s" % (
                sbx_text.clean(f.get("line"), 10),
                sbx_text.clean(f.get("col"), 10),
                sbx_text.clean(f.get("rule"), 40),
                sbx_text.clean(f.get("message"), 200)))
        if len(found) > MAX_FINDINGS:
            lines.append("... %d more" % (len(found) - MAX_FINDINGS))
    elif r.status == "timeout":
        wall = sbx_text.number(rep.get("wall_ms"))
        lines.append("timeout: killed at the wall-clock limit"
                     + (" after %.1f s" % (wall / 1000.0) if wall else ""))
    elif r.status == "oom":
        peak = sbx_text.number(rep.get("memory_peak_bytes"))
        lines.append("oom: killed at the memory limit"
                     + (" (peak %s)" % _mib(peak) if peak else ""))
    else:
        head = "%s: %s" % (sbx_text.clean(err.get("type") or r.status, 60),
                           sbx_text.clean(err.get("message") or "", 300))
        if isinstance(err.get("line"), int):
            head += " (line %d)" % err["line"]
        lines.append(head)
        tb = err.get("traceback")
        if isinstance(tb, str):
            lines += [sbx_text.clean(l, 200) for l in _traceback_tail(tb)]
    if r.seccomp_denials:
        lines.insert(0, "blocked by seccomp: denied " + denials_text(r))
    return lines


def rank(names, results):
    """(ranked, failed): lists of dicts.  ranked: the ok runs by Sharpe,
    best first (no finite Sharpe: last), ties in input order."""
    ranked, failed = [], []
    for i, (name, r) in enumerate(zip(names, results)):
        if r.ok:
            m = r.metrics if isinstance(r.metrics, dict) else {}
            ranked.append({
                "index": i, "name": name,
                "sharpe": sbx_text.number(m.get("sharpe")),
                "annual_return": sbx_text.number(m.get("annual_return")),
                "max_drawdown": sbx_text.number(m.get("max_drawdown")),
                "trades": sbx_text.number(m.get("trades")),
                "wall_time": r.wall_time,
                "seccomp": denials_text(r), "result": r})
        else:
            failed.append({"index": i, "name": name, "status": r.status,
                           "reason": reason(r), "wall_time": r.wall_time,
                           "result": r})
    ranked.sort(key=lambda e: (e["sharpe"] is None, -(e["sharpe"] or 0.0),
                               e["index"]))
    for n, e in enumerate(ranked, start=1):
        e["rank"] = n
    return ranked, failed


def _fmt(x, spec):
    return "-" if x is None else spec % x


def _pct(x):
    return "-" if x is None else "%.1f%%" % (x * 100)


def _short(name, width):
    name = sbx_text.clean(name, 1000)
    return name if len(name) <= width else "..." + name[-(width - 3):]


def format_text(names, results, width=40):
    """The leaderboard as text for a terminal or a log."""
    ranked, failed = rank(names, results)
    out = ["Leaderboard: %d strategies, %d ran, %d failed (ranked by Sharpe)"
           % (len(results), len(ranked), len(failed))]
    if ranked:
        out.append("%4s  %-*s %7s %8s %8s %7s %7s" % (
            "#", width, "strategy", "sharpe", "annual", "max_dd", "trades",
            "time"))
        for e in ranked:
            line = "%4d  %-*s %7s %8s %8s %7s %6.2fs" % (
                e["rank"], width, _short(e["name"], width),
                _fmt(e["sharpe"], "%.3f"),
                _pct(e["annual_return"]), _pct(e["max_drawdown"]),
                _fmt(e["trades"], "%.0f"), e["wall_time"])
            if e["seccomp"]:
                line += "  seccomp denied: " + e["seccomp"]
            out.append(line)
    if failed:
        out.append("")
        out.append("Failed:")
        out.append("      %-*s %-13s %s" % (width, "strategy", "status",
                                            "reason"))
        for e in failed:
            out.append("      %-*s %-13s %s" % (
                width, _short(e["name"], width), e["status"], e["reason"][0]))
            for more in e["reason"][1:]:
                out.append("      %-*s %-13s   %s" % (width, "", "", more))
    return "\n".join(out) + "\n"
