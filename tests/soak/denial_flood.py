#!/usr/bin/python3
"""How much a workload can make the supervisor spend by denied calls.

Every denied syscall is answered and counted by the supervisor (seccomp user
notification), outside the sandbox's cgroup.  This runs a workload that
makes N denied calls with N different numbers (x32 numbers, or numbers above
the profile's newest syscall), and prints the supervisor's CPU time and peak
memory, the sandbox's own CPU time and the report's size and entry count,
next to a run that makes the same calls with one number.  What the
supervisor spends should not grow with the number of distinct calls.

Usage: tests/soak/denial_flood.py [--calls N] [--sbx build/sbx] [--rootfs build/rootfs]
"""
import argparse
import json
import os
import resource
import subprocess
import tempfile

WORKLOAD = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
base, n, distinct = int(sys.argv[1], 0), int(sys.argv[2]), sys.argv[3] == "1"
for k in range(n):
    libc.syscall(ctypes.c_long(base + (k if distinct else 0)))
"""


def run(a, base, distinct, tmp):
    script = os.path.join(tmp, "flood.py")
    with open(script, "w") as f:
        f.write(WORKLOAD)
    report = os.path.join(tmp, "report.json")
    cmd = [a.sbx, "run", "--rootfs", a.rootfs, "--bind", f"{script}:/opt/flood.py", "--timeout", str(a.timeout),
           "--report", report, "--", "python3", "/opt/flood.py", hex(base), str(a.calls), "1" if distinct else "0"]
    # Each measurement in its own child so RUSAGE_CHILDREN is this run's.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        os.write(w, json.dumps([p.returncode, ru.ru_utime, ru.ru_stime, ru.ru_maxrss]).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    rc, ut, st, rss = json.loads(data)
    with open(report) as f:
        rep = json.load(f)
    return {"rc": rc, "sup_cpu_s": ut + st, "sup_maxrss_mb": rss / 1024, "sandbox_cpu_s":
            (rep["cpu_user_ms"] + rep["cpu_system_ms"]) / 1000, "entries": len(rep["seccomp_denials"]),
            "report_kb": os.path.getsize(report) / 1024, "wall_s": rep["wall_ms"] / 1000}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=100000)
    ap.add_argument("--sbx", default="build/sbx")
    ap.add_argument("--rootfs", default="build/rootfs")
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    print(f"{a.calls} denied calls per run (the supervisor's CPU includes starting the sandbox)")
    print("| calls | entries | supervisor CPU s | supervisor peak MB | sandbox CPU s | report KB | wall s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="flood-") as tmp:
        for label, base, distinct in (("one number", 0x40000000, False), ("x32, all different", 0x40000000, True),
                                      ("above the newest, all different", 1000, True)):
            m = run(a, base, distinct, tmp)
            print(f"| {label} | {m['entries']} | {m['sup_cpu_s']:.2f} | {m['sup_maxrss_mb']:.0f} | "
                  f"{m['sandbox_cpu_s']:.2f} | {m['report_kb']:.0f} | {m['wall_s']:.1f} |")


if __name__ == "__main__":
    main()
