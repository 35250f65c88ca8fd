"""Progress of a batch on stderr: a bar redrawn in place on a terminal,
plain lines otherwise (a log file or CI must not fill with carriage
returns)."""

import sys
import time

import sbx_text


def _clock(seconds):
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%d:%02d" % (m, s)


class Progress:
    """progress(index, result) for run_many.  names: what to call each
    input in plain lines (default its number)."""

    BAR = 24

    def __init__(self, stream=None, names=None, tty=None, clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.names = names
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.clock = clock
        self.total = self.done = self.failed = 0
        self.started = None

    def start(self, total):
        self.total, self.done, self.failed = total, 0, 0
        self.started = self.clock()
        if self.tty:
            self._draw()

    def stats(self):
        """(rate per second, seconds left or None)."""
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else None
        return rate, left

    def _line(self):
        rate, left = self.stats()
        eta = _clock(left) if left is not None else "-"
        return "%d/%d  %.2f/s  ETA %s  failed %d" % (
            self.done, self.total, rate, eta, self.failed)

    def _draw(self):
        filled = self.BAR * self.done // self.total if self.total else self.BAR
        bar = "#" * filled + "-" * (self.BAR - filled)
        self.stream.write("\r[%s] %s\x1b[K" % (bar, self._line()))
        self.stream.flush()

    def __call__(self, index, result):
        self.done += 1
        if not result.ok:
            self.failed += 1
        if self.tty:
            self._draw()
            return
        name = self.names[index] if self.names else "#%d" % (index + 1)
        self.stream.write("[%s] %-13s %s  %.2fs\n" % (
            self._line(), result.status, sbx_text.clean(name),
            result.wall_time))
        self.stream.flush()

    def finish(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
