# sbx pool zygote: a Python interpreter that has imported the preloaded
# modules and forks one sandboxed job per request.  It runs inside its own
# sbx sandbox (user, pid, mount, net, uts, ipc and cgroup namespaces, read-only
# rootfs) as root of that user namespace with its capabilities, and never runs
# job code: each job is forked, moved into its own cgroup and namespaces, given
# fresh mounts, stripped of every capability, filtered by its own seccomp
# program, and only then runs the job's script.
#
# Process tree of one job (see docs/architecture.md, "Warm pool"):
#   zygote --fork--> P1 (pid 1 of the job's pid namespace, which the zygote
#                       made for it and left at once): reads the request,
#                       joins the job's cgroup (v1 or v2, through descriptors
#                       the supervisor opened), unshares mount/uts/ipc/net/
#                       cgroup namespaces, mounts, hostname, loopback, fresh
#                       /proc, hands its pidfd and /out to the supervisor,
#                       maps W's user namespace, reaps
#          P1 --fork--> W (pid 2): a user namespace of its own, its counters
#                       and (no cgroup) rlimits, setsid, ids, capabilities,
#                       env, workdir, seccomp last, then the script as
#                       `python3 SCRIPT` would
#
# Requests come on fd 0 (a SOCK_SEQPACKET socket from the pool): one JSON
# object and its descriptors per packet.  The wire format of the messages to
# the supervisor is runtime/sync.h's struct sbx_msg.
import ctypes
import json
import os
import select
import signal
import socket
import struct
import sys

# argv: "sbx-recycle=N" (end after N jobs, 0 = never), "sbx-path=DIR"
# (--preload-path, optional), then the modules.
_args = sys.argv[1:]
_recycle = int(_args.pop(0).split("=", 1)[1]) if _args and _args[0].startswith("sbx-recycle=") else 0
_path = _args.pop(0).split("=", 1)[1] if _args and _args[0].startswith("sbx-path=") else None
_preload = [m for m in _args if m]


def preload(modules, path):
    """Import the modules, from `path` too when given.  The path is on
    sys.path only meanwhile: a job's sys.path is that of a fresh
    interpreter (the job's own script puts its directory there)."""
    if path is not None:
        sys.path.insert(0, path)
    try:
        for m in modules:
            __import__(m)
    finally:
        if path is not None:
            sys.path.remove(path)
            sys.path_importer_cache.pop(path, None)


preload(_preload, _path)
# Started by name with no PATH in its environment, the interpreter could not
# tell where it is: look where sbx's exec found it.
if not sys.executable:
    for _d in "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".split(":"):
        if os.access(_d + "/python3", os.X_OK):
            sys.executable = _d + "/python3"
            break

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x20000000, 0x40000000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
NR = {"x86_64": {"move_mount": 429, "seccomp": 317, "capset": 126},
      "aarch64": {"move_mount": 429, "seccomp": 277, "capset": 90}}[os.uname().machine]
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 4, 24, 28
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
PR_SET_CHILD_SUBREAPER = 36
# NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED, NO_CAP_AMBIENT_RAISE, all locked
SECUREBITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
# runtime/sync.h's enum sbx_msg_type, as each request says it (set_msg_types)
MSG_SETUP_ERROR = MSG_EXIT = MSG_TAKEN = MSG_SECCOMP_FD = MSG_READY = MSG_POOL_STARTED = None


def set_msg_types(t):
    global MSG_SETUP_ERROR, MSG_EXIT, MSG_TAKEN, MSG_SECCOMP_FD, MSG_READY, MSG_POOL_STARTED
    MSG_SETUP_ERROR, MSG_EXIT, MSG_TAKEN = t["setup_error"], t["exit"], t["taken"]
    MSG_SECCOMP_FD, MSG_READY, MSG_POOL_STARTED = t["seccomp_fd"], t["ready"], t["pool_started"]
MSG = struct.Struct("=IiiI3Q3Q1024s")


class SetupError(Exception):
    pass


def check(r, what):
    if r < 0:
        e = ctypes.get_errno()
        raise SetupError("%s: %s" % (what, os.strerror(e)))
    return r


def send(sock, mtype, status=0, text="", phases=(0, 0, 0), fds=(), usage=(0, 0, 0)):
    data = MSG.pack(mtype, 0, status, 0, *phases, *usage, text.encode()[:1023])
    sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % len(fds), *fds))] if fds else [])


def mount(src, dst, fstype, flags, data=None):
    enc = lambda s: s.encode() if isinstance(s, str) else s
    check(libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)), "mount %s on %s" % (fstype or src, dst))


def tmpfs(target, size, mode, uid, gid, noexec):
    libc.umount2(target.encode(), MNT_DETACH)  # the zygote's, if any: gone from this namespace
    inodes = max(size // 4096, 1024)
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | (MS_NOEXEC if noexec else 0),
          "size=%d,nr_inodes=%d,mode=%s,uid=%d,gid=%d" % (size, inodes, mode, uid, gid))


def job_mounts(job, binds):
    """In the job's new mount namespace: nothing the zygote or an earlier job could
    write stays visible; the job's own tmpfs, /out and binds."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # The zygote's own small tmpfs at each mount point it offers (/out,
    # --mount-point) would be shared by every job that mounts nothing there.
    for stub in job["stubs"]:
        check(libc.umount2(stub.encode(), MNT_DETACH), "unmounting the zygote's %s" % stub)
    noexec = not job["tmpfs_exec"]
    tmpfs("/tmp", job["tmp"], "1777", 0, 0, noexec)
    tmpfs("/dev/shm", job["tmp"], "1777", 0, 0, noexec)
    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
    for t in job["tmpfs"]:
        tmpfs(t["target"], t["size"], "1777", 0, 0, noexec)
    if job["out_size"]:
        tmpfs("/out", job["out_size"], "0755", job["uid"], job["gid"], noexec)
    for b, fd in zip(job["binds"], binds):
        # A detached mount made by the supervisor (open_tree + mount_setattr
        # on the host), attached here: the host path is never looked up
        # from inside the sandbox.
        r = libc.syscall(NR["move_mount"], fd, b"", -100, b["target"].encode(), 0x4)
        check(r, "bind %s" % b["target"])
        os.close(fd)


def job_proc():
    """P1, first thing in the new pid namespace: a procfs of this namespace
    over the zygote's, with the same masks as runtime/mounts.c.  Returns an
    O_PATH fd of its /proc/sys/user, taken before /proc/sys is made
    read-only: the workload sets its own user namespace's counters through
    it (the kernel resolves those files to the opener's user namespace at
    open)."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    userdir = os.open("/proc/sys/user", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    for f in ("kcore", "keys", "timer_list", "sched_debug", "latency_stats"):
        if os.path.exists("/proc/" + f):
            mount("/dev/null", "/proc/" + f, None, MS_BIND)
            mount(None, "/proc/" + f, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    for d in ("acpi", "scsi"):
        if os.path.isdir("/proc/" + d):
            mount("tmpfs", "/proc/" + d, "tmpfs", MS_RDONLY, "size=0,nr_inodes=1")
    for p in ("sys", "sysrq-trigger", "irq", "bus", "fs"):
        if os.path.exists("/proc/" + p):
            mount("/proc/" + p, "/proc/" + p, None, MS_BIND | MS_REC)
            mount(None, "/proc/" + p, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    return userdir


def loopback_up():
    import fcntl
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0))
        flags = struct.unpack("16sH14x", ifr)[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def drop_privileges(job):
    """W: the order of runtime/workload.c.  Bounding set, ambient set and
    locked securebits while CAP_SETPCAP is still held; then the ids; then the
    remaining sets emptied."""
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "dropping capability %d from the bounding set" % cap)
    check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing the ambient set")
    check(libc.prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0), "setting securebits")
    # A rootless sandbox's user namespace has setgroups denied (and so has
    # the job's, its child): as sbx run, the groups stay as they are there.
    with open("/proc/self/setgroups") as f:
        if f.read().strip() != "deny":
            os.setgroups([])
    try:
        os.setresgid(job["gid"], job["gid"], job["gid"])
        os.setresuid(job["uid"], job["uid"], job["uid"])
    except OSError as e:
        raise SetupError("switching to user %d:%d: %s" % (job["uid"], job["gid"], e.strerror))
    hdr = struct.pack("=Ii", 0x20080522, 0)
    data = bytes(24)
    check(libc.syscall(NR["capset"], hdr, data), "setting capability sets")
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_seccomp(job, sync):
    sc = job["seccomp"]
    if sc is None:
        return
    code = bytes.fromhex(sc["bpf"])
    buf = ctypes.create_string_buffer(code, len(code))
    prog = SockFprog(len(code) // 8, ctypes.addressof(buf))
    r = libc.syscall(NR["seccomp"], 1, sc["flags"], ctypes.byref(prog))
    if r < 0 and ctypes.get_errno() == 22 and sc["flags"] & 32:  # no WAIT_KILLABLE_RECV: older kernel
        r = libc.syscall(NR["seccomp"], 1, sc["flags"] & ~32, ctypes.byref(prog))
    check(r, "loading the seccomp filter (%d instructions)" % (len(code) // 8))
    if sc["flags"] & 8:  # NEW_LISTENER: the supervisor answers and counts denials
        send(sync, MSG_SECCOMP_FD, fds=[r])
        os.close(r)


def fresh_stdio():
    """Text streams made the way a starting interpreter makes them, for the
    job's descriptors (the zygote's were built for its control socket)."""
    import io
    enc = sys.stdout.encoding
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                                 encoding=enc, errors=sys.stdin.errors)
    out_tty = os.isatty(1)
    raw = io.FileIO(1, "w", closefd=False)
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(raw), encoding=enc, errors=sys.stdout.errors,
                                                   line_buffering=out_tty, write_through=False)
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                                   encoding=enc, errors="backslashreplace", line_buffering=True)


def python_signals():
    """Dispositions of a starting interpreter, whatever a preload changed."""
    for s in range(1, signal.NSIG):
        if s in (signal.SIGKILL, signal.SIGSTOP) or signal.SIGRTMIN <= s <= signal.SIGRTMAX and s > 34:
            continue
        try:
            signal.signal(s, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def run_script(argv):
    """What `python3 SCRIPT ARG...` does after start-up: __main__ is a new
    module, sys.argv and sys.path[0] are the script's; an uncaught exception
    prints its traceback (without our frames) and exits 1."""
    import types
    script = argv[1]
    sys.argv = argv[1:]
    sys.orig_argv = list(argv)
    if "/" in argv[0]:
        sys.executable = argv[0]
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    main = types.ModuleType("__main__")
    main.__dict__.update({"__file__": script, "__cached__": None, "__builtins__": __builtins__})
    sys.modules["__main__"] = main
    try:
        with open(script, "rb") as f:
            source = f.read()
    except OSError as e:
        sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n" % (argv[0], script, e.errno, e.strerror))
        return 2
    try:
        exec(compile(source, script, "exec"), main.__dict__)
    except SystemExit as e:
        return exit_code(e)
    except BaseException as e:
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next
        sys.excepthook(type(e), e, tb)
        if isinstance(e, KeyboardInterrupt):
            return -signal.SIGINT  # CPython exits by SIGINT then
        return 1
    return 0


def exit_code(e):
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code & 0xff
    try:
        sys.stderr.write("%s\n" % (e.code,))
    except Exception:
        pass
    return 1


def finish(code):
    """The interpreter's exit without its teardown: threads joined, atexit
    run, streams flushed; then _exit.  Tearing down the modules inherited
    from the zygote would write to (and so copy) every page they live on:
    200 ms for pandas, for nothing a job can observe but __del__ at exit."""
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
    except BaseException:
        pass
    try:
        import atexit
        atexit._run_exitfuncs()
    except SystemExit as e:
        code = exit_code(e)
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            if stream is sys.stdout and code == 0:
                code = 120  # as CPython when stdout cannot be flushed
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code)


def reseed():
    """Generators seeded when the zygote imported them would give every job
    the same numbers; a fresh interpreter seeds them from the kernel."""
    if "random" in sys.modules:
        sys.modules["random"].seed()
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        np_random.seed()


def own_userns(gate):
    """W, first thing: a user namespace of the job's own, a child of the
    zygote's, which its pid 1 maps (W cannot: writing a map needs
    CAP_SETUID in the parent namespace).  RLIMIT_NPROC and the counters of
    /proc/sys/user count per user namespace: in the zygote's, every job
    would share one count with the zygote and the jobs running beside it.
    The other namespaces stay owned by the zygote's, so W gains no power
    over its mounts or network."""
    up, down = gate
    check(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    os.write(up, b"u")
    if os.read(down, 1) != b"m":
        raise SetupError("pid 1 did not map the job's user namespace")
    os.close(up)
    os.close(down)


def map_userns(pid, gate):
    """P1: W's id maps, the identity over the ids of the zygote's user
    namespace (so --user means what it means to sbx run there)."""
    up, down = gate
    if os.read(up, 1) != b"u":
        return  # W failed before; it reports why
    for f in ("uid_map", "gid_map"):
        with open("/proc/self/" + f) as m:
            ext = [l.split() for l in m.read().splitlines() if l.strip()]
        with open("/proc/%d/%s" % (pid, f), "w") as m:
            m.write("".join("%s %s %s\n" % (e[0], e[0], e[2]) for e in ext))
    os.write(down, b"m")


def job_limits(job, userdir):
    """W, in its own user namespace: its /proc/sys/user counters, then —
    only when the job has no cgroup — the rlimit fallback of
    runtime/kernel_limits.c, set here so that they bound this job and
    nothing of the zygote's.  Only lowered: a limit above the inherited hard
    one (the pool's own) stays at that."""
    for name, value in job["userns_limits"].items():
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CLOEXEC, dir_fd=userdir)
        except FileNotFoundError:
            continue  # a counter this kernel does not have
        try:
            os.write(fd, str(value).encode())
        except OSError as e:
            raise SetupError("setting /proc/sys/user/%s to %d: %s" % (name, value, e.strerror))
        finally:
            os.close(fd)
    os.close(userdir)
    import resource
    for name, value in (job["rlimits"] or {}).items():
        r = getattr(resource, name)
        hard = resource.getrlimit(r)[1]
        if hard != resource.RLIM_INFINITY and value > hard:
            value = hard
        try:
            resource.setrlimit(r, (value, value))
        except (OSError, ValueError) as e:
            raise SetupError("setrlimit %s %d: %s" % (name, value, e))


def workload(job, sync, stdio, gate, userdir):
    """W, pid 2 of the job: the last steps before job code, in the order of
    runtime/workload.c, seccomp last."""
    own_userns(gate)
    job_limits(job, userdir)
    os.setsid()  # no controlling terminal (CVE-2017-5226)
    for i, fd in enumerate(stdio):
        os.dup2(fd, i)
    keep = {0, 1, 2, sync.fileno()}
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    drop_privileges(job)
    try:
        os.chdir(job["workdir"])
    except OSError as e:
        raise SetupError("workdir %s: %s" % (job["workdir"], e.strerror))
    python_signals()
    fresh_stdio()
    os.environ.clear()
    os.environ.update(dict(kv.split("=", 1) for kv in job["env"]))
    reseed()
    load_seccomp(job, sync)
    sync.close()
    finish(run_script(job["argv"]))


def pid1(job, sync, stdio):
    """P1: reaper of the job's pid namespace.  Ends the job when the
    supervisor goes away (its end of the sync socket closes)."""
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    userdir = job_proc()
    out = os.open("/out", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW) if job["out_size"] else None
    me = os.pidfd_open(1)
    send(sync, MSG_POOL_STARTED, fds=[me])
    os.close(me)
    # Built: the supervisor expects this (with /out when it asked for one)
    # before its setup deadline.
    send(sync, MSG_READY, fds=[out] if out is not None else [])
    if out is not None:
        os.close(out)
    rd, wr = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wr)
    for s in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda *a: None)
    up, down = os.pipe2(os.O_CLOEXEC), os.pipe2(os.O_CLOEXEC)
    w = os.fork()
    if w == 0:
        try:
            signal.set_wakeup_fd(-1)
            for fd in (rd, wr, up[0], down[1]):
                os.close(fd)
            workload(job, sync, stdio, (up[1], down[0]), userdir)
        except (SetupError, OSError) as e:
            send(sync, MSG_SETUP_ERROR, 125, str(e))
            os._exit(125)
    for fd in stdio + [userdir, up[1], down[0]]:
        os.close(fd)
    try:
        map_userns(w, (up[0], down[1]))
    except OSError as e:
        send(sync, MSG_SETUP_ERROR, 125, "mapping the job's user namespace: %s" % e)
        os.kill(w, signal.SIGKILL)
    os.close(up[0])
    os.close(down[1])
    # As sbx run's pid 1: nothing but CAP_KILL (to signal a workload of
    # another uid) once the workload exists.
    kill = 1 << 5
    check(libc.syscall(NR["capset"], struct.pack("=Ii", 0x20080522, 0), struct.pack("=6I", kill, kill, 0, 0, 0, 0)),
          "dropping pid 1's capabilities")
    while True:
        r, _, _ = select.select([rd, sync], [], [])
        if sync in r and not sync.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
            os._exit(1)  # the supervisor is gone: our exit kills the namespace
        sigs = os.read(rd, 64) if rd in r else b""
        for s in set(sigs):
            if s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                os.kill(w, s)
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == w:
                # What W left running dies now rather than at our exit, so
                # that its CPU and memory are counted, as sbx run's wait4
                # of its pid 1 counts them.
                reap_all()
                send(sync, MSG_EXIT, status, usage=job_usage())
                os._exit(0)


def reap_all():
    """P1, once W is reaped: SIGKILL every other process of the job's pid
    namespace (we are its pid 1) and reap them all."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def job_usage():
    """P1, once every other process is reaped: what wait4 of sbx run's
    pid 1 reports — its own CPU and that of the children it reaped (W and
    the orphans it inherited), and the largest RSS among them — for the
    supervisor's report when the job has no cgroup to read it from."""
    import resource
    us = lambda tv: int(tv * 1e6)
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (us(me.ru_utime + kids.ru_utime), us(me.ru_stime + kids.ru_stime),
            max(me.ru_maxrss, kids.ru_maxrss))


def job_main(job, fds):
    """P1: forked from the zygote as pid 1 of a pid namespace of its own,
    in the zygote's other namespaces."""
    sync = socket.socket(fileno=fds[0])
    try:
        stdio = fds[1:4]
        n_cg = job["n_cgroup"]
        for fd in fds[4:4 + n_cg]:
            # Into the job's cgroup before anything is charged: a v1 "tasks"
            # file or the v2 cgroup.procs, opened by the supervisor, whose
            # credentials and cgroup namespace the kernel checks the move
            # against (the job's cgroup is outside the zygote's namespace).
            try:
                os.write(fd, b"0")
            except OSError as e:
                raise SetupError("joining the job's cgroup: %s" % e.strerror)
            os.close(fd)
        binds = fds[4 + n_cg:]
        check(libc.unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP),
              "unshare")
        job_mounts(job, binds)
        socket.sethostname(job["hostname"])
        if job["network"] == "loopback":
            loopback_up()
        pid1(job, sync, stdio)
    except (SetupError, OSError) as e:
        send(sync, MSG_SETUP_ERROR, 125, "pool job setup: %s" % e)
        os._exit(125)


def threads():
    with open("/proc/self/status") as f:
        return int([l for l in f if l.startswith("Threads:")][0].split()[1])


def serve():
    ctl = socket.socket(fileno=0)
    # fork() copies only the calling thread: a preload that started threads
    # (OpenBLAS without OPENBLAS_NUM_THREADS=1) would hand jobs a broken copy.
    # Objects made so far are never collected in a job: the collector
    # would otherwise write to every one of them and copy its page.
    import gc
    gc.freeze()
    # Each job's pid 1 is our child (forked into the pid namespace made for
    # it, below); a subreaper besides, so that nothing a job leaves can
    # ever be re-parented past us to the sandbox's init.
    check(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "PR_SET_CHILD_SUBREAPER")
    global _own_pidns
    _own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    if threads() != 1:
        sys.stderr.write("sbx-zygote: preloading %s started %d threads; refusing to fork jobs\n"
                         % (",".join(_preload), threads()))
        sys.exit(3)
    try:
        ctl.sendall(json.dumps({"ready": True, "python": sys.executable,
                                "modules": _preload}).encode())
    except OSError:
        return  # the pool went away while we were importing
    served = 0
    while True:
        # A zygote that is not as it was after the preload (a thread has
        # appeared), or has served its --recycle jobs, ends: the pool
        # replaces it, and a job sent meanwhile goes to another zygote.
        if threads() != 1 or (_recycle and served >= _recycle):
            # Its jobs' pid 1s are its children (subreaper, below): were the
            # zygote to exit now, its sandbox's end would kill them.  No
            # more requests (the pool sees the socket hang up), then wait.
            ctl.close()
            while True:
                try:
                    os.wait()
                except ChildProcessError:
                    return
                except InterruptedError:
                    continue
        # The request is read by the forked child, never here: the job's
        # argv, environment and paths never enter the zygote's memory, which
        # every later job starts from (and could read).
        try:
            select.select([ctl], [], [])
            if not ctl.recv(1, socket.MSG_PEEK):
                return  # the pool closed its end: drain done
        except InterruptedError:
            continue
        except OSError:
            return
        taken_r, taken_w = os.pipe()
        # The job's pid namespace is made here, so that the child is its
        # pid 1 from the start (one fork of this big interpreter per job
        # instead of two), and left at once: setns back to our own resets
        # the namespace our later children are born in.  Our own pid
        # namespace never changes (unshare and setns of CLONE_NEWPID only
        # concern children).
        check(libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
        try:
            pid = os.fork()
        except OSError:
            check(libc.setns(_own_pidns, CLONE_NEWPID), "setns back to the zygote's pid namespace")
            raise
        if pid == 0:
            os.close(taken_r)
            take_job(ctl, taken_w)
        check(libc.setns(_own_pidns, CLONE_NEWPID), "setns back to the zygote's pid namespace")
        os.close(taken_w)
        os.read(taken_r, 1)  # b"" too if the child died before reading
        os.close(taken_r)
        served += 1
        while True:
            try:
                p, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if p == 0:
                break


def take_job(ctl, taken):
    """P1, first: the request, then nothing of the zygote's descriptors but it."""
    try:
        msg, anc, flags, _ = ctl.recvmsg(1 << 20, socket.CMSG_SPACE(253 * 4))
        fds = []
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds += struct.unpack("%di" % (len(data) // 4), data[:len(data) - len(data) % 4])
        job = json.loads(msg) if fds else None
        if job is not None:
            if job["msg_size"] != MSG.size:  # struct sbx_msg changed: refuse, never garble
                os._exit(125)
            set_msg_types(job["msg"])
            # Taken: from now on the zygote may end (--recycle) without the
            # supervisor handing the job to another one.
            os.write(fds[0], MSG.pack(MSG_TAKEN, 0, 0, 0, 0, 0, 0, 0, 0, 0, b""))
    finally:
        os.write(taken, b"1")
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd not in fds:
            try:
                os.close(fd)
            except OSError:
                pass
    ctl.detach()
    if not fds or flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
        os._exit(125)
    job_main(job, fds)


serve()
