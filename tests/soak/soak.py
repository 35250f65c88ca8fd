#!/usr/bin/python3
"""Soak test of `sbx run` (docs/security.md, "Soak").

Many sandboxes one after another, then two loops at the same time, mixing
normal exits, signals, timeouts, OOM kills and seccomp denials.  Every run's
exit status and report are checked against what that kind of run must give.
Afterwards the host is checked for anything left behind (cgroups, mounts,
processes, /tmp/sbx-*), the supervisor for fds still open at exit (an
LD_PRELOAD shim, every run) and for leaked memory (the ASan/LSan build on a
sample), and the latency of the first and last thousand runs is printed side
by side.

Usage: tests/soak/soak.py [--runs N] [--loops L] [--loop-runs N] ...
Defaults (10000, 2, 5000) come from SOAK_RUNS, SOAK_LOOPS, SOAK_LOOP_RUNS.
Exit status 0 when every run and every check passed.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PROBE = "/usr/local/bin/sbx-probe"
HOG = "b = []\nwhile True: b.append(bytearray(8 << 20))"
MOUNT = ("import ctypes, errno\n"
         "libc = ctypes.CDLL(None, use_errno=True)\n"
         "r = libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)\n"
         "print(r, errno.errorcode.get(ctypes.get_errno()))")

# kind: (flags, command, expected exit, expected status, check(report) -> error or None)
def _denied(name):
    def check(rep):
        names = {d["syscall"]: d["count"] for d in rep.get("seccomp_denials", [])}
        return None if names.get(name, 0) >= 1 else f"no {name} denial in {rep.get('seccomp_denials')}"
    return check


def _stdout(n):
    return lambda rep: None if rep.get("stdout_bytes") == n else f"stdout_bytes {rep.get('stdout_bytes')} != {n}"


KINDS = {
    "true": ([], ["/bin/true"], 0, "exited", None),
    "exit3": ([], [PROBE, "exit", "3"], 3, "exited", None),
    "echo": ([], ["/bin/sh", "-c", "echo out; echo err >&2"], 0, "exited", _stdout(4)),
    "signal": ([], [PROBE, "kill", "15"], 143, "signaled", None),
    "timeout": (["--timeout", "0.2"], ["/bin/sleep", "5"], 124, "timeout", None),
    "oom": (["--memory", "32M", "--memory-swap", "0"], ["/usr/bin/python3", "-c", HOG], 137, "oom", None),
    "unshare": ([], ["/usr/bin/unshare", "-U", "/bin/true"], 1, "exited", _denied("unshare")),
    "mount": ([], ["/usr/bin/python3", "-c", MOUNT], 0, "exited", _denied("mount")),
}
# One cycle of 20 runs: 60% quick exits, 5% signal, 10% timeouts, 10% OOM,
# 15% seccomp denials.
CYCLE = (["true"] * 6 + ["exit3"] * 3 + ["echo"] * 3 + ["signal"] + ["timeout"] * 2 + ["oom"] * 2
         + ["unshare"] * 2 + ["mount"])
QUICK = {"true", "exit3", "echo", "signal"}


class Soak:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.pids = set()          # every sbx supervisor we started
        self.failures = []         # (phase, index, kind, message)
        self.fdfile = os.path.join(a.out, "fds.txt")
        self.env = dict(os.environ)
        if a.fdcheck:
            self.env["LD_PRELOAD"] = a.fdcheck
            self.env["SBX_FDCHECK_OUT"] = self.fdfile

    def run_one(self, sbx, phase, i, kind, report, env, extra_env=None):
        flags, cmd, want_rc, want_status, check = KINDS[kind]
        argv = [sbx, "run", "--rootfs", self.a.rootfs, "--report", report] + flags + ["--"] + cmd
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, close_fds=True, env=extra_env or env)
        with self.lock:
            self.pids.add(p.pid)
        _, err = p.communicate()
        outside = (time.monotonic() - t0) * 1000.0
        problem = None
        rep = {}
        try:
            with open(report) as f:
                rep = json.load(f)
        except (OSError, ValueError) as e:
            problem = f"report: {e}"
        if problem is None:
            if p.returncode != want_rc:
                problem = f"exit {p.returncode}, expected {want_rc}"
            elif rep.get("status") != want_status:
                problem = f"status {rep.get('status')}, expected {want_status}"
            elif check:
                problem = check(rep)
        if problem:
            tail = err.decode(errors="replace").strip().splitlines()[-3:]
            with self.lock:
                self.failures.append((phase, i, kind, problem + (" | " + " / ".join(tail) if tail else "")))
        return {"phase": phase, "i": i, "kind": kind, "rc": p.returncode, "pid": p.pid,
                "wall_ms": rep.get("wall_ms"), "outside_ms": outside, "ok": problem is None,
                "load": os.getloadavg()[0]}

    def loop(self, phase, n, results):
        report = os.path.join(self.a.out, f"report-{phase}.json")
        for i in range(n):
            results.append(self.run_one(self.a.sbx, phase, i, CYCLE[i % len(CYCLE)], report, self.env))
            # A broken setup (no rootfs, no cgroup) fails every run: stop
            # instead of counting thousands of identical failures.
            if i == len(CYCLE) - 1 and not any(r["ok"] for r in results[-len(CYCLE):]):
                with self.lock:
                    self.failures.append((phase, i, "-", "every run of the first cycle failed; stopped"))
                return
            if self.a.progress and (i + 1) % self.a.progress == 0:
                print(f"  {phase}: {i + 1}/{n}", file=sys.stderr, flush=True)


def pct(xs, p):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def stats_row(label, rs):
    q = [r for r in rs if r["kind"] in QUICK]
    def f(sel, key):
        vals = [r[key] for r in sel]
        return f"{statistics.median([v for v in vals if v is not None]):.1f} / {pct(vals, 99):.1f}" if sel else "-"
    load = statistics.mean(r["load"] for r in rs) if rs else float("nan")
    return (f"| {label} | {len(rs)} | {f(rs, 'wall_ms')} | {f(rs, 'outside_ms')} | {f(q, 'wall_ms')} | "
            f"{f(q, 'outside_ms')} | {load:.1f} |")


def leftovers(pids, tmp_before):
    """What our runs left on the host."""
    found = []
    pat = re.compile(r"^sbx-(\d+)-")
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        for d in dirs:
            m = pat.match(d)
            if m and int(m.group(1)) in pids:
                found.append(f"cgroup {os.path.join(root, d)}")
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if "sbx" in line:
                found.append(f"mount {line.strip()}")
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                cg = f.read()
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        ours = any(int(m) in pids for m in re.findall(r"/sbx-(\d+)-", cg))
        if ours or (comm in ("sbx", "sbx-probe") and int(pid) in pids):
            found.append(f"process {pid} ({comm}) cgroup {cg.strip().splitlines()[0]}")
    tmp_now = {n for n in os.listdir("/tmp") if n.startswith("sbx-")}
    for n in sorted(tmp_now - tmp_before):
        found.append(f"temporary /tmp/{n}")
    return found


def fd_leaks(path, pids):
    """Lines of the fd shim for our supervisors with more than 0, 1, 2 open."""
    bad, seen = [], 0
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 2 or int(parts[0]) not in pids:
                    continue
                seen += 1
                extra = [x for x in parts[2:] if x.split(":", 1)[0] not in ("0", "1", "2")]
                if extra:
                    bad.append(line.strip())
    except OSError:
        pass
    return seen, bad


def asan_sample(s, n):
    """n runs of every kind through the ASan/UBSan build; LSan reports at exit."""
    sbx = s.a.asan_sbx
    if not os.access(sbx, os.X_OK):
        return None, [f"{sbx} not built (make asan)"]
    logdir = tempfile.mkdtemp(prefix="asan-", dir=s.a.out)
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = f"detect_leaks=1:log_path={logdir}/asan"
    env["UBSAN_OPTIONS"] = f"print_stacktrace=1:log_path={logdir}/ubsan"
    report = os.path.join(s.a.out, "report-asan.json")
    results = []
    for i in range(n):
        results.append(s.run_one(sbx, "asan", i, CYCLE[i % len(CYCLE)], report, env, env))
    logs = sorted(os.listdir(logdir))
    problems = []
    for name in logs:
        with open(os.path.join(logdir, name)) as f:
            text = f.read()
        first = next((l for l in text.splitlines() if "ERROR" in l or "runtime error" in l), text[:200])
        problems.append(f"{name}: {first.strip()}")
    if not logs:
        os.rmdir(logdir)
    return results, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("SOAK_RUNS", 10000)))
    ap.add_argument("--loops", type=int, default=int(os.environ.get("SOAK_LOOPS", 2)))
    ap.add_argument("--loop-runs", type=int, default=int(os.environ.get("SOAK_LOOP_RUNS", 5000)))
    ap.add_argument("--sbx", default=os.environ.get("SBX", "build/sbx"))
    ap.add_argument("--asan-sbx", default=os.environ.get("SBX_ASAN", "build-asan/sbx"))
    ap.add_argument("--asan-runs", type=int, default=int(os.environ.get("SOAK_ASAN_RUNS", 40)))
    ap.add_argument("--rootfs", default=os.environ.get("SBX_ROOTFS", "build/rootfs"))
    ap.add_argument("--fdcheck", default=os.environ.get("SBX_FDCHECK", "build/soak/fdcheck.so"))
    ap.add_argument("--out", default=os.environ.get("SOAK_OUT", "build/soak"))
    ap.add_argument("--progress", type=int, default=1000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    a.fdcheck = os.path.abspath(a.fdcheck) if a.fdcheck and os.path.exists(a.fdcheck) else None
    if not os.path.exists(os.path.join(a.rootfs, PROBE.lstrip("/"))):
        sys.exit(f"soak: {a.rootfs} has no {PROBE} (make fixtures)")
    # Run a private copy: the tree is rebuilt while a soak runs, and one
    # soak measures one binary.
    for attr in ("sbx", "asan_sbx"):
        src = getattr(a, attr)
        if os.access(src, os.X_OK):
            dst = os.path.join(a.out, os.path.basename(os.path.dirname(os.path.abspath(src))) + "-sbx")
            shutil.copy2(src, dst + ".tmp")
            os.replace(dst + ".tmp", dst)
            setattr(a, attr, dst)
    s = Soak(a)
    try:
        os.unlink(s.fdfile)
    except FileNotFoundError:
        pass
    tmp_before = {n for n in os.listdir("/tmp") if n.startswith("sbx-")}

    t0 = time.monotonic()
    seq = []
    print(f"soak: {a.runs} sequential runs", file=sys.stderr, flush=True)
    s.loop("seq", a.runs, seq)
    t_seq = time.monotonic() - t0
    loops = [[] for _ in range(a.loops)]
    print(f"soak: {a.loops} concurrent loops of {a.loop_runs}", file=sys.stderr, flush=True)
    t1 = time.monotonic()
    threads = [threading.Thread(target=s.loop, args=(f"loop{k}", a.loop_runs, loops[k])) for k in range(a.loops)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_conc = time.monotonic() - t1

    # Give the kernel a moment to finish freeing what the last runs released
    # (cgroup removal is synchronous in sbx, so anything found is a leak).
    time.sleep(1)
    left = leftovers(s.pids, tmp_before)
    fd_seen, fd_bad = fd_leaks(s.fdfile, s.pids) if a.fdcheck else (0, ["fd shim not built"])
    asan_results, asan_problems = asan_sample(s, a.asan_runs) if a.asan_runs else ([], [])
    left += [x for x in leftovers(s.pids, tmp_before) if x not in left]

    all_runs = seq + [r for l in loops for r in l]
    kinds = {}
    for r in all_runs:
        k = kinds.setdefault(r["kind"], [0, 0])
        k[0] += 1
        k[1] += 0 if r["ok"] else 1
    with open(os.path.join(a.out, "runs.csv"), "w") as f:
        f.write("phase,i,kind,rc,wall_ms,outside_ms,ok,load\n")
        for r in all_runs + (asan_results or []):
            f.write(f"{r['phase']},{r['i']},{r['kind']},{r['rc']},{r['wall_ms']},{r['outside_ms']:.3f},"
                    f"{int(r['ok'])},{r['load']:.2f}\n")

    out = []
    out.append(f"soak: {len(seq)} sequential runs in {t_seq:.0f} s, {a.loops} concurrent loops of "
               f"{a.loop_runs} in {t_conc:.0f} s; sbx {a.sbx}, rootfs {a.rootfs}")
    out.append("runs by kind (failed/total): " + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(kinds.items())))
    out.append("")
    out.append("latency, ms, median / p99 (report wall_ms; outside = fork of sbx to its exit, seen by the driver;")
    out.append("quick exits = true, exit 3, echo, signal; host load = mean 1-minute load average, other work included)")
    out.append("")
    out.append("| runs | n | all: wall_ms | all: outside | quick exits: wall_ms | quick exits: outside | host load |")
    out.append("|---|---|---|---|---|---|---|")
    k = min(1000, len(seq))
    out.append(stats_row(f"sequential, first {k}", seq[:k]))
    out.append(stats_row(f"sequential, last {k}", seq[-k:]))
    conc = sorted((r for l in loops for r in l), key=lambda r: r["i"])
    k2 = min(1000, len(loops[0]) if loops else 0)
    if loops and loops[0]:
        first = [r for l in loops for r in l[:k2]]
        last = [r for l in loops for r in l[-k2:]]
        out.append(stats_row(f"concurrent, first {k2} of each loop", first))
        out.append(stats_row(f"concurrent, last {k2} of each loop", last))
    out.append("")
    failed = len(s.failures)
    out.append(f"run failures: {failed}")
    for f_ in s.failures[:20]:
        out.append(f"  {f_[0]}#{f_[1]} {f_[2]}: {f_[3]}")
    out.append(f"left on the host: {len(left)}" + ("" if not left else ""))
    for x in left[:20]:
        out.append(f"  {x}")
    out.append(f"fd check: {fd_seen} supervisor exits recorded, {len(fd_bad)} with fds other than 0-2 open")
    for x in fd_bad[:10]:
        out.append(f"  {x}")
    if a.asan_runs:
        n_asan = len(asan_results or [])
        bad_asan = sum(1 for r in (asan_results or []) if not r["ok"])
        out.append(f"ASan/LSan sample: {n_asan} runs of {a.asan_sbx}, {bad_asan} failed, "
                   f"{len(asan_problems)} sanitizer reports")
        for x in asan_problems[:10]:
            out.append(f"  {x}")
    ok = failed == 0 and not left and not fd_bad and not asan_problems
    out.append(f"soak: {'PASSED' if ok else 'FAILED'}")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
