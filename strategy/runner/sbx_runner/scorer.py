"""The scorer's process: it never runs strategy code.  It forks one child
per run of the strategy, reads back only the child's handover bytes, and
makes sure no process of the strategy is left before it scores.

What the child (same uid, inside the same sandbox) could otherwise do to
the scorer, and what stops it (docs/strategy.md, "Trust boundary"):

* ptrace it or write /proc/PID/mem: the scorer is not dumpable
  (PR_SET_DUMPABLE 0), so both need CAP_SYS_PTRACE, which the sandbox drops;
  the default seccomp profile denies ptrace and process_vm_writev as well;
* change its memory: fork copies it; the scorer maps nothing shared;
* signal it: every catchable signal that would end it is ignored; SIGKILL
  or SIGSTOP end or stall it, and then it writes no result (the wrapper
  reports killed or timeout, never metrics);
* outlive it and rewrite /out/result.json: the scorer is a child subreaper,
  so every orphaned descendant becomes its child, and it kills them all
  (SIGKILL, until it has no child left) before it looks at the handover;
* have it read a file it wrote: the scorer loads the data and imports all
  it uses before the first fork.
"""

import ctypes
import os
import select
import signal
import sys

from . import handover

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36

# Signals that would end or stop the scorer by default and that another
# process may send.  SIGKILL and SIGSTOP cannot be ignored; SIGSEGV and the
# other fault signals are left alone so that a real fault still ends it.
IGNORED = [getattr(signal, n) for n in
           ("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2",
            "SIGPIPE", "SIGALRM", "SIGTSTP", "SIGTTIN", "SIGTTOU",
            "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGXFSZ", "SIGIO", "SIGPWR",
            "SIGURG", "SIGWINCH", "SIGTRAP", "SIGSYS")
           if hasattr(signal, n)]

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option, arg):
    if _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "prctl(%d, %d): %s" % (option, arg, os.strerror(e)))


_before = {}      # signal -> disposition before harden(), for the children


def harden():
    """Once, before the first fork."""
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    for s in IGNORED:
        _before[s] = signal.signal(s, signal.SIG_IGN)


def _children():
    me = os.getpid()
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue       # gone meanwhile
        # "pid (comm) state ppid ...": comm may hold anything, even ")"
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == me:
            kids.append(int(name))
    return kids


def kill_all(statuses):
    """SIGKILL every child (orphaned descendants are children too: the
    scorer is a subreaper) and reap them, until there is none; a child
    forked while this runs is found on the next round.  statuses collects
    {pid: wait status}."""
    while True:
        kids = _children()
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            pid, status = os.waitpid(-1, 0 if kids else os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            statuses[pid] = status


def _child(wfd, rfd, body, quiet):
    """In the forked child: never returns."""
    code = 70
    try:
        os.close(rfd)
        if quiet:
            # the audit's runs: the loop sees the strategy's output once
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.close(null)
        for s, handler in _before.items():
            signal.signal(s, handler)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # Dumpable again: the flag is inherited, and without it the
        # strategy could not even read its own /proc/self files (they
        # become root's).  Only the scorer needs to be out of reach.
        _prctl(PR_SET_DUMPABLE, 1)
        msg = body()
        try:
            sys.stdout.flush()
        except Exception:  # noqa: B902 — the strategy may have broken it
            pass
        view = memoryview(msg)
        while view:
            n = os.write(wfd, view)
            view = view[n:]
        code = 0
    except BaseException:  # noqa: B902 — body reports its own errors
        code = 71
    finally:
        # _exit: no atexit handler or finaliser of the strategy runs
        os._exit(code)


def run_child(body, quiet=False):
    """Fork; the child runs body() (-> handover bytes) and sends them.
    Returns (bytearray, child's wait status or None) after every process of
    the run is gone.  quiet: its stdout and stderr go to /dev/null.  The
    bytes are capped at handover.MAX_BYTES + 1."""
    rfd, wfd = os.pipe2(os.O_CLOEXEC)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(wfd, rfd, body, quiet)
    os.close(wfd)
    statuses = {}
    buf = bytearray()
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(rfd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        exited = False
        while True:
            ready = dict(poller.poll())
            if rfd in ready:
                chunk = os.read(rfd, 1 << 16)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > handover.MAX_BYTES:
                    break
            elif pidfd in ready and not exited:
                # The child is gone; whatever still holds the pipe open is
                # a descendant: kill them all, then read to the end.
                exited = True
                poller.unregister(pidfd)
                kill_all(statuses)
    finally:
        os.close(pidfd)
        os.close(rfd)
        kill_all(statuses)
    return buf, statuses.get(pid)
