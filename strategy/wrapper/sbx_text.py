"""Text from a sandbox made safe to print or embed.

Error messages, tracebacks, findings and metric values come out of the
sandbox (a strategy can write its own result.json), so they may carry
terminal escape sequences (to rewrite the user's screen or title), bidi
overrides, or be megabytes long.  Everything shown on a terminal goes
through clean(); HTML additionally through html.escape."""

import math
import numbers


def clean(text, limit=500, keep_newlines=False):
    """Printable characters only (others as \\xNN / \\uNNNN), at most
    `limit` characters."""
    text = str(text)
    out = []
    for ch in text[:limit]:
        if ch.isprintable() or (keep_newlines and ch == "\n"):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append("\\u%04x" % ord(ch) if ord(ch) < 0x10000
                       else "\\U%08x" % ord(ch))
    if len(text) > limit:
        out.append("[...]")
    return "".join(out)


def number(value):
    """A finite float from a metric, or None (missing, a string, NaN, a
    bool pretending to be a number...)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None
