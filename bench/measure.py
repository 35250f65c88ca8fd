"""Measurements: hyperfine comparisons, throughput loops, peak RSS, phases.

Medians, never means: the machines are shared and noisy, and a few slow
outliers move a mean a lot and a median hardly at all.
"""
import json
import os
import shlex
import signal
import statistics
import subprocess
import threading


def quantiles(xs):
    """(p25, median, p75) of a non-empty list."""
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def run_checked(argv, env, timeout):
    """Run once; return None if it exited 0, else a one-line reason."""
    try:
        p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        return "timed out after %ds" % timeout
    except OSError as e:
        return str(e)
    if p.returncode == 0:
        return None
    lines = [ln for ln in p.stderr.decode(errors="replace").splitlines()
             if ln.strip() and "sbx: warning:" not in ln]
    return "exit %d: %s" % (p.returncode, lines[-1][:200] if lines else "(no message)")


RUNNING = set()   # process groups of hyperfine calls in flight, for kill_running()


def _group_run(argv, env, timeout):
    """Run a command in its own process group; kill the group on timeout."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    RUNNING.add(p.pid)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return -1, "timed out"
    finally:
        RUNNING.discard(p.pid)
    return p.returncode, out.decode(errors="replace")


def kill_running():
    """After an interrupt: end the hyperfine calls still running (each in a
    process group of its own, so the terminal's Ctrl-C did not reach them)."""
    for pgid in list(RUNNING):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def hyperfine_rounds(commands, rounds, runs, warmup, env, workdir, tag, timeout, log,
                     as_user=None):
    """Time {name: argv} with hyperfine, all commands in the same call.

    hyperfine runs every run of one command before the next command, so a
    burst of load from elsewhere lands on one command only.  Splitting the
    runs into rounds, each one hyperfine call with the command order rotated,
    spreads such bursts over all of them; the times of all rounds are pooled.

    as_user: (prefix, uid).  Commands whose argv starts with prefix (a
    setpriv to uid) are timed by a second hyperfine call of the same round
    that itself runs under that prefix, with the prefix taken off each
    command: a rootless user starts the runtime directly, and a setpriv in
    front of every run would add its own exec (about 1.2-1.7 ms) to both
    sides of every rootless ratio.  The two calls of a round alternate in
    order.  Returns {name: [seconds...]} and a list of failure notes.
    """
    groups = [(None, {n: a for n, a in commands.items()
                      if not as_user or a[:len(as_user[0])] != as_user[0]})]
    if as_user:
        prefix, uid = as_user
        theirs = {n: a[len(prefix):] for n, a in commands.items() if a[:len(prefix)] == prefix}
        if theirs:
            # hyperfine writes its JSON as that user
            udir = os.path.join(workdir, "hf-%s-as-%d" % (tag, uid))
            os.makedirs(udir, exist_ok=True)
            os.chown(udir, uid, uid)
            groups.append(((prefix, udir), theirs))
    groups = [(u, c) for u, c in groups if c]
    times = {n: [] for n in commands}
    notes = []
    for r in range(rounds):
        for g in range(len(groups)):
            user, cmds = groups[(g + r) % len(groups)]
            names = list(cmds)
            k = r % len(names)
            order = names[k:] + names[:k]
            out = os.path.join(user[1] if user else workdir, "hf-%s-%d.json" % (tag, r))
            argv = (list(user[0]) if user else []) + [
                "hyperfine", "--shell=none", "--style", "basic", "--warmup", str(warmup),
                "--runs", str(runs), "--export-json", out]
            for n in order:
                argv += ["--command-name", n]
            argv += [shlex.join(cmds[n]) for n in order]
            label = tag + (" (as uid %d)" % as_user[1] if user else "")
            for attempt in (1, 2):
                rc, text = _group_run(argv, env, timeout)
                if rc == 0:
                    break
                log("  round %d of %s failed (attempt %d): %s" % (r + 1, label, attempt,
                                                                 text.strip().splitlines()[-1:]))
            if rc != 0:
                notes.append("%s: round %d failed twice and was left out" % (label, r + 1))
                continue
            with open(out) as f:
                results = json.load(f)["results"]
            for n, res in zip(order, results):
                times[n].extend(res["times"])
        log("  round %d/%d of %s done" % (r + 1, rounds, tag))
    return times, notes


class Spawner:
    """posix_spawn + wait4, for the runs whose report is read."""

    def __init__(self, env):
        self.env = env
        self.devnull = [(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                        (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
        self.live = set()
        self.lock = threading.Lock()

    def run(self, argv):
        """Returns (exit status, ru_maxrss in KiB: counts Python's own memory)."""
        pid = os.posix_spawnp(argv[0], argv, self.env, file_actions=self.devnull,
                              setpgroup=0)
        with self.lock:
            self.live.add(pid)
        _, status, ru = os.wait4(pid, 0)
        with self.lock:
            self.live.discard(pid)
        return os.waitstatus_to_exitcode(status), ru.ru_maxrss

    def kill_all(self):
        with self.lock:
            for pid in self.live:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def build_spawn(src, out):
    """Compile bench/spawn.c (static; see there why)."""
    subprocess.run(["cc", "-O2", "-static", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    "-D_GNU_SOURCE", src, "-o", out], check=True)


def _spawn_args(uid, log):
    return (["--uid", str(uid)] if uid is not None else []) + ["--log", log]


def failure_summary(log, limit=3):
    """The last distinct lines of a spawn log that say why runs failed
    (sbx's warning about running without a cgroup is expected, not one)."""
    try:
        with open(log, errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip() and "sbx: warning:" not in ln]
    except OSError:
        return []
    out = []
    for ln in reversed(lines):
        if ln not in out:
            out.append(ln[:200])
        if len(out) == limit:
            break
    return out


def throughput(spawn, argv, uid, loops, n, env, timeout, log):
    """loops loops at once, each running argv n times back to back (through
    bench/spawn).  Returns (runs per second over all loops, failed runs)."""
    cmd = [spawn, "loop"] + _spawn_args(uid, log) + [str(loops), str(n), "--"] + argv
    rc, out = _group_run(cmd, env, timeout)
    if rc != 0:
        return None, loops * n
    secs, failed = out.split()
    return loops * n / float(secs), int(failed)


def peak_rss(spawn, argv, uid, n, env, timeout, log):
    """Median over n runs of wait4's ru_maxrss (KiB): the largest resident
    set of the process and of the descendants it reaped, so for a runtime
    running /bin/true it is the runtime's own peak (or its helper's)."""
    cmd = [spawn, "rss"] + _spawn_args(uid, log) + [str(n), "--"] + argv
    rc, out = _group_run(cmd, env, timeout)
    values = [int(x) for x in out.split()] if rc == 0 else []
    return statistics.median(values) if values else None


def phases(spawner, argv_for_report, report_path, n):
    """Run sbx n times with --report; median of each phases_us entry and of
    wall_ms.  argv_for_report(path) gives the command."""
    per = {}
    walls = []
    for _ in range(n):
        if os.path.exists(report_path):
            os.unlink(report_path)
        code, _ = spawner.run(argv_for_report(report_path))
        if code != 0 or not os.path.exists(report_path):
            continue
        with open(report_path) as f:
            rep = json.load(f)
        walls.append(rep["wall_ms"])
        for k, v in rep["phases_us"].items():
            per.setdefault(k, []).append(v)
    if not walls:
        return None
    return {"runs": len(walls), "wall_ms": statistics.median(walls),
            "phases_us": {k: statistics.median(v) for k, v in per.items()}}
