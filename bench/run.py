#!/usr/bin/python3
"""make bench: what isolation costs, layer by layer, next to other runtimes.

Steps: install the tools (apt-get, only what is missing); enter a private
mount namespace and hide the controller-less cgroup v2 mount of hybrid hosts
there (crun refuses hybrid hosts otherwise); write OCI bundles for crun and
runc; check every runner once; time every workload with hyperfine, all its
runners in the same calls; throughput, peak RSS and sbx's phases; write
docs/benchmarks.md (full run) or print the tables (QUICK).  Everything it
creates lives under the work directory and is removed at the end, also on
errors and Ctrl-C.  Slowness never fails it; a runner that cannot run here
is left out with the reason written next to the results.

Standard library only; run as root (crun, runc and sbx's root mode need it).
"""
import argparse
import os
import platform
import shutil
import signal
import stat
import subprocess
import tempfile
import sys
import time

sys.dont_write_bytecode = True   # leave no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402
import report  # noqa: E402
import runners as rn  # noqa: E402

TOOLS = {"hyperfine": "hyperfine", "bwrap": "bubblewrap", "crun": "crun", "runc": "runc", "podman": "podman",
         "gnuplot": "gnuplot-nox", "setpriv": "util-linux"}
HIDE_V2 = "/sys/fs/cgroup/unified"
HOST_DEV_NULL = -1  # an O_PATH fd of the host's /dev/null, once covered
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Iterations: (rounds, runs per round, warmup) per workload class, then loop
# lengths.  QUICK is sized to finish in under a minute on 2 cores.
FULL = {"light": (10, 10, 2), "heavy": (5, 4, 1), "seq": 200, "rss": 10, "phases": 50}
QUICK = {"light": (2, 4, 1), "heavy": (1, 2, 0), "seq": 10, "rss": 3, "phases": 5}


def log(msg):
    print("bench: " + msg, flush=True)


def install_tools():
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if not missing:
        return
    log("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Wait for another apt-get instead of failing on its lock.
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q", "-y"]
    if subprocess.run(apt + ["install", "--no-install-recommends"] + missing, env=env).returncode:
        subprocess.run(apt + ["update"], env=env, check=True)
        subprocess.run(apt + ["install", "--no-install-recommends"] + missing, env=env,
                       check=True)


def is_hybrid():
    """v1 controllers at /sys/fs/cgroup (a tmpfs) and a cgroup2 mount beside them."""
    with open("/proc/self/mountinfo") as f:
        mounts = {ln.split(" - ")[0].split()[4]: ln.split(" - ")[1].split()[0] for ln in f}
    return mounts.get("/sys/fs/cgroup") == "tmpfs" and mounts.get(HIDE_V2) == "cgroup2"


def enter_private_mountns(argv):
    """Re-exec inside `unshare --mount` (unshare execs us, same pid), then
    cover the cgroup v2 mount with an empty read-only tmpfs.  The namespace
    dies with the benchmark, so nothing on the host changes.  Every runner
    runs in it: the v2 mount has no controllers here, so no runner used it
    for limits, and all see the same host."""
    if os.environ.get("SBX_BENCH_MOUNTNS") != "1":
        os.environ["SBX_BENCH_MOUNTNS"] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "--",
                              sys.executable, os.path.abspath(__file__)] + argv)
    private_dev_null()
    if is_hybrid():
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=4k,mode=0555",
                        "sbx-bench-hide-v2", HIDE_V2], check=True)
        return True
    return False


def private_dev_null():
    """Cover /dev/null, in this namespace only, with a node of our own.

    crun up to 1.23 (Debian 12 ships 1.8) chowns its stdio to the
    container's root when they are not a terminal, /dev/null included
    (crun issue 1845); hyperfine and bench/spawn give every run /dev/null,
    so each crun run handed the host's /dev/null to uid 1000000000.  A
    char 1:3 node on a private tmpfs behaves the same and takes the chown.
    The host's node is kept open to check it at the end (host_dev_null_ok)."""
    global HOST_DEV_NULL
    HOST_DEV_NULL = os.open("/dev/null", os.O_PATH)
    # The tmpfs is detached once the node is bound (the bind keeps it), so
    # the host keeps no directory and no mount of ours.
    d = tempfile.mkdtemp(prefix="sbx-bench-dev-")
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k,mode=0755", "sbx-bench-dev", d], check=True)
        os.mknod(d + "/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod(d + "/null", 0o666)
        subprocess.run(["mount", "--bind", d + "/null", "/dev/null"], check=True)
        subprocess.run(["umount", "--lazy", d], check=True)
    finally:
        os.rmdir(d)
    # Our own stdio may be the host's node, opened before this namespace
    # (a shell's `</dev/null`): runners that inherit it would reach it.
    mine = os.stat("/dev/null")
    for fd in (0, 1, 2):
        st = os.fstat(fd)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == mine.st_rdev and st.st_ino != mine.st_ino:
            null = os.open("/dev/null", os.O_RDWR)
            os.dup2(null, fd)
            os.close(null)


def host_dev_null_ok():
    """The host's /dev/null as it was: root's, 0666."""
    st = os.fstat(HOST_DEV_NULL)
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o666)


def write_bundles(env, ws, quick):
    here = os.path.dirname(os.path.abspath(__file__))
    for rt in ("crun", "runc"):
        for w in ws:
            # /bin/true runs in two concurrent loops too: a bundle (and for
            # runc a cgroup) per loop.
            loops = (0, 1) if w.key == "true" else (0,)
            for loop in loops:
                d = rn.bundle_dir(env, rt, w.key, loop)
                argv = [sys.executable, os.path.join(here, "oci_bundle.py"), "--dir", d,
                        "--rootfs", env.rootfs, "--sbx", env.sbx]
                for src, dst in w.binds:
                    argv += ["--bind", "%s:%s" % (src, dst)]
                if rt == "crun":
                    argv.append("--no-cgroup")
                else:
                    # Relative: runc creates it beneath its own cgroup in
                    # every hierarchy and removes it after the run.
                    argv += ["--cgroup-path", rn.container_id(rt, w.key, loop)]
                subprocess.run(argv + ["--"] + w.argv, check=True)


def own_cgroups():
    """{hierarchy mount dir: our cgroup's directory} for the v1 hierarchies."""
    out = {}
    with open("/proc/self/cgroup") as f:
        for ln in f:
            _, ctrls, path = ln.rstrip("\n").split(":", 2)
            if not ctrls:
                continue
            name = ctrls.replace("name=", "")
            base = "/sys/fs/cgroup/" + name
            if os.path.isdir(base):
                out[base] = base + path
    return out


def podman_cgroups():
    """podman's cgroupfs manager makes libpod_parent (and conmon's cgroup
    in it) at the top of each v1 hierarchy for the podman rows, and leaves
    them."""
    return {os.path.join("/sys/fs/cgroup", h, "libpod_parent") for h in os.listdir("/sys/fs/cgroup")
            if os.path.isdir(os.path.join("/sys/fs/cgroup", h, "libpod_parent"))}


def remove_podman_cgroups(before):
    """The libpod_parent trees that were not there before the run, once
    conmon (and the `podman container cleanup` it starts) has exited."""
    for _ in range(100):
        if subprocess.run(["pgrep", "-x", "conmon"], capture_output=True).returncode != 0:
            break
        time.sleep(0.1)
    for attempt in range(3):
        for top in podman_cgroups() - before:
            for dirpath, _, _ in os.walk(top, topdown=False):
                try:
                    os.rmdir(dirpath)
                except OSError as e:
                    if attempt == 2:  # conmon may still be leaving before that
                        log("could not remove cgroup %s: %s" % (dirpath, e))
        if not podman_cgroups() - before:
            return
        time.sleep(0.2)


def cleanup(env, spawner, keep, podman_before):
    """End what is still running (after an interrupt), delete any container
    left behind, our runc cgroups, podman's, and the work directory."""
    measure.kill_running()
    if spawner is not None:
        spawner.kill_all()
    remove_podman_cgroups(podman_before)
    for rt, state in (("crun", env.crun_state), ("runc", env.runc_state)):
        if not os.path.isdir(state):
            continue
        ids = subprocess.run([rt, "--root", state, "list", "-q"], capture_output=True,
                             text=True).stdout.split()
        for cid in ids:
            subprocess.run([rt, "--root", state, "delete", "-f", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _, mine in own_cgroups().items():
        try:
            names = os.listdir(mine)
        except OSError:
            continue
        for n in names:
            if n.startswith("sbx-bench-runc-"):
                try:
                    os.rmdir(os.path.join(mine, n))
                except OSError as e:
                    log("could not remove cgroup %s: %s" % (os.path.join(mine, n), e))
    if not keep:
        shutil.rmtree(env.work, ignore_errors=True)


def machine_info(sbx, hidden):
    def first(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
        except (OSError, IndexError):
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for ln in f:
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    debian = open("/etc/debian_version").read().strip() if os.path.exists(
        "/etc/debian_version") else "?"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": "%s, %d cores" % (cpu, os.cpu_count()),
        "memory": "%.1f GiB" % (mem_kib / 1024 / 1024),
        "kernel": platform.release(),
        "os": "Debian " + debian,
        "virt": first(["systemd-detect-virt"]) if shutil.which("systemd-detect-virt") else "?",
        "cgroups": "hybrid (v1 controllers; v2 hidden from the runners)" if hidden
                   else "as mounted",
        "sbx": first([sbx, "version"]),
        "commit": first(["git", "rev-parse", "--short", "HEAD"]),
        "hyperfine": first(["hyperfine", "--version"]),
        "bwrap": first(["bwrap", "--version"]),
        "crun": first(["crun", "--version"]),
        "runc": first(["runc", "--version"]),
        "load_start": open("/proc/loadavg").read().split()[:3],
    }


def main():
    argv = sys.argv[1:]
    p = argparse.ArgumentParser(description="sbx isolation benchmark")
    p.add_argument("--sbx", default="build/sbx")
    p.add_argument("--rootfs", default="build/rootfs")
    p.add_argument("--work", default="build/bench")
    p.add_argument("--quick", action="store_true", help="few iterations, print only")
    p.add_argument("--doc", default="docs/benchmarks.md")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("bench: run as root (crun, runc and sbx's root mode need it)")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(repo)
    install_tools()
    hidden = enter_private_mountns(argv)

    it = QUICK if args.quick else FULL
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = rn.Env(repo, os.path.abspath(args.sbx), os.path.abspath(args.rootfs), work)
    # Rootless sbx writes its reports here.
    rl_dir = os.path.join(work, "rootless")
    os.makedirs(rl_dir)
    os.chown(rl_dir, rn.NOBODY, rn.NOBODY)
    for d in ("out-bare", "out-sbx"):
        os.makedirs(os.path.join(work, d))
    # Interrupts become exceptions, so the finally below always cleans up
    # (SIGINT explicitly: started in the background, it would be ignored).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    child_env = {"PATH": PATH, "PYTHONDONTWRITEBYTECODE": "1"}
    results = {"machine": machine_info(env.sbx, hidden), "quick": args.quick,
               "iterations": it, "skipped": [], "notes": [], "workloads": []}
    t0 = time.time()
    podman_before = podman_cgroups()
    spawner = measure.Spawner(child_env)
    try:
        ws = rn.workloads(repo, work)
        write_bundles(env, ws, args.quick)
        for w in ws:
            results["workloads"].append(time_workload(w, env, it, args.quick, child_env,
                                                      results))
        spawn = os.path.join(work, "spawn")
        measure.build_spawn(os.path.join(repo, "bench/spawn.c"), spawn)
        results["throughput"] = time_throughput(env, ws[0], spawn, it["seq"], child_env,
                                                results)
        results["rss"] = time_rss(env, ws[0], spawn, it["rss"], child_env)
        results["phases"] = time_phases(env, ws[0], spawner, it["phases"], rl_dir)
        results["machine"]["load_end"] = open("/proc/loadavg").read().split()[:3]
        results["seconds"] = time.time() - t0
        if args.quick:
            print(report.markdown(results))
        else:
            report.write_doc(results, args.doc, os.path.dirname(os.path.abspath(args.doc)),
                             work)
            log("wrote %s" % args.doc)
        print(report.headline(results))
    finally:
        cleanup(env, spawner, args.keep, podman_before)
    if not host_dev_null_ok():
        sys.exit("bench: the host's /dev/null changed owner or mode during the run")
    log("done in %.0f s" % (time.time() - t0))


def time_workload(w, env, it, quick, child_env, results):
    commands = {}
    for r in rn.RUNNERS:
        if not rn.applies(r, w, quick):
            continue
        argv = r.build(w, env)
        if argv is None:
            continue
        why = measure.run_checked(argv, child_env, timeout=120)
        if why:
            results["skipped"].append("%s, %s: %s" % (w.title, r.label, why))
            log("skipping %s on %s: %s" % (r.key, w.key, why))
            continue
        commands[r.key] = argv
    rounds, runs, warmup = it["heavy" if w.heavy else "light"]
    log("%s: %d runners, %d rounds x %d runs" % (w.title, len(commands), rounds, runs))
    times, notes = measure.hyperfine_rounds(commands, rounds, runs, warmup, child_env,
                                            env.work, w.key, timeout=3600, log=log,
                                            as_user=(rn.SETPRIV, rn.NOBODY))
    results["notes"] += notes
    stats = {k: measure.quantiles(v) for k, v in times.items() if v}
    return {"key": w.key, "title": w.title, "chroot": w.chroot, "stats": stats,
            "runs": {k: len(v) for k, v in times.items()},
            "commands": {k: v for k, v in commands.items()}}


def _true_argvs(env, w):
    """For each throughput/RSS runner: (argv, uid).  The rootless runs drop
    setpriv: bench/spawn switches to the uid itself.  crun's and runc's argv
    name the container (and runc's bundle its cgroup) with "{loop}", which
    bench/spawn replaces by the loop's index."""
    out = {}
    for key in ("bare", "sbx", "sbx-cgroup", "sbx-rl", "bwrap", "bwrap-rl", "crun", "runc"):
        if key in ("crun", "runc"):
            argv = (rn._crun if key == "crun" else rn._runc)(w, env, "{loop}")
        else:
            argv = rn.by_key(key).build(w, env)
        uid = None
        if argv[:len(rn.SETPRIV)] == rn.SETPRIV:
            argv, uid = argv[len(rn.SETPRIV):], rn.NOBODY
        out[key] = (argv, uid)
    return out


def time_throughput(env, w, spawn, n, child_env, results):
    log("throughput: %d sequential runs, and 2 loops of %d" % (n, n))
    out = {}
    for key, (argv, uid) in _true_argvs(env, w).items():
        slog = spawn_log(env, "throughput-" + key)
        one, f1 = measure.throughput(spawn, argv, uid, 1, n, child_env, 900, slog)
        two, f2 = measure.throughput(spawn, argv, uid, 2, n, child_env, 900, slog)
        if f1 or f2:
            results["notes"].append("throughput, %s: %d of %d runs failed (%s)" % (
                rn.by_key(key).label, f1 + f2, 3 * n,
                "; ".join(measure.failure_summary(slog))))
        out[key] = {"seq": one, "par2": two}
    return out


def spawn_log(env, name):
    """Where bench/spawn appends the runs' stderr; writable by the rootless
    runs' uid too."""
    path = os.path.join(env.work, "rootless", name + ".log")
    open(path, "w").close()
    os.chown(path, rn.NOBODY, rn.NOBODY)
    return path


def time_rss(env, w, spawn, n, child_env):
    log("peak RSS: %d runs each" % n)
    return {key: measure.peak_rss(spawn, argv, uid, n, child_env, 600,
                                  spawn_log(env, "rss-" + key))
            for key, (argv, uid) in _true_argvs(env, w).items()}


def time_phases(env, w, spawner, n, rl_dir):
    log("phases: %d runs each, root (with and without cgroup) and rootless" % n)

    def with_report(key):
        argv = rn.by_key(key).build(w, env)
        i = argv.index("--")
        return lambda path: argv[:i] + ["--report", path] + argv[i:]
    report = os.path.join(env.work, "rep.json")
    return {
        "root": measure.phases(spawner, with_report("sbx"), report, n),
        "root without cgroup": measure.phases(spawner, with_report("sbx-cgroup"), report, n),
        "rootless": measure.phases(spawner, with_report("sbx-rl"),
                                   os.path.join(rl_dir, "rep.json"), n),
    }


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
