"""OCI runtime mode: sbx driven as runc is, directly and through real clients.

Direct: create/start/state/kill/delete/run with bundles made by `sbx spec`
over the test rootfs (build/rootfs).  This process makes itself a child
subreaper, as containerd's shim and conmon are, so that the supervisor left by
`sbx create` is re-parented to it and its exit status can be read: that
status is the container's, the contract clients rely on.

Clients: podman (--runtime sbx, --rootfs) and containerd (a private instance,
`ctr run --runc-binary sbx`, the runc v2 shim as Kubernetes uses it).  Each
class skips, with the reason, only when its client is not installed.

Every test leaves nothing behind: state directories, processes, cgroups,
mounts, podman containers, containerd's state, files in /tmp.
Run as root: tests/suites.d/oci BUILD_DIR.
"""
import array
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("SBX_BUILD", os.path.join(REPO, "build")))
SBX = os.path.join(BUILD, "sbx")
ROOTFS = os.path.join(REPO, "build", "rootfs")
# podman's default rlimits exceed these hosts' hard limits (see docs/oci.md).
ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]
CGROUP_ROOT = "/sys/fs/cgroup"


def setUpModule():
    if os.geteuid() != 0:
        raise unittest.SkipTest("the OCI suites run as root (podman and containerd as root)")
    if not os.path.isfile(os.path.join(ROOTFS, ".sbx-fixture")):
        raise unittest.SkipTest("no test rootfs: make fixtures")
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_CHILD_SUBREAPER")


def sbx(root, *args, log=None, timeout=60, check=None):
    cmd = [SBX, "--root", root]
    if log:
        cmd += ["--log", log, "--log-format", "json"]
    if "create" in args:
        # The supervisor `create` leaves behind keeps its stdio (the
        # container's output goes there): files, as clients give, not pipes
        # whose end-of-file would wait for the container.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            rc = subprocess.run(cmd + list(args), stdout=out, stderr=err, timeout=timeout).returncode
            out.seek(0)
            err.seek(0)
            p = subprocess.CompletedProcess(cmd, rc, out.read(), err.read())
    else:
        p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout)
    if check is not None and p.returncode != check:
        raise AssertionError("%s: exit %d, stderr: %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def wait_pid(pid, timeout=30):
    """The exit status of a re-parented supervisor (we are a subreaper)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p, status = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    raise AssertionError("pid %d did not exit" % pid)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def cgroup_dirs(supervisor):
    """The cgroup directories a supervisor made, in every hierarchy: sbx
    names them sbx-PID-... after its pid (other runs on the machine have
    their own)."""
    found = set()
    prefix = "sbx-%d-" % supervisor
    for h in os.listdir(CGROUP_ROOT):
        for dirpath, dirnames, _ in os.walk(os.path.join(CGROUP_ROOT, h)):
            for d in dirnames:
                if d.startswith(prefix):
                    found.add(os.path.join(dirpath, d))
    return found


def cgroups_of(pid):
    out = set()
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in ctrls.split(",") if ctrls else [""]:
                mount = os.path.join(CGROUP_ROOT, c.replace("name=", "") if c else "unified")
                if "sbx-" in path and os.path.isdir(mount):
                    out.add(mount + path)
    return out


class ConsoleSocket:
    """A client's --console-socket: takes one connection and the terminal's
    master it carries (SCM_RIGHTS), as runc's clients do."""

    def __init__(self, path):
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.fd = None
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        conn, _ = self.srv.accept()
        fds = array.array("i")
        _, anc, _, _ = conn.recvmsg(1024, socket.CMSG_SPACE(fds.itemsize))
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(data[:fds.itemsize])
        self.fd = fds[0] if fds else None
        conn.close()

    def master(self):
        self.thread.join(10)
        self.srv.close()
        return self.fd


def read_to_end(master):
    """What a terminal's master reads until its last slave holder is gone
    (EIO), then closed."""
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return out.decode()


class Bundles(unittest.TestCase):
    """A state root and bundles in a private temporary directory."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sbx-oci-test-")
        self.root = os.path.join(self.tmp, "state")
        self.ids = []

    def tearDown(self):
        for cid in self.ids:
            sbx(self.root, "delete", "--force", cid)
        # Supervisors killed by the deletes above were re-parented to us.
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        shutil.rmtree(self.tmp)

    def bundle(self, args, edit=None, name="b"):
        b = os.path.join(self.tmp, name)
        os.mkdir(b)
        subprocess.run([SBX, "spec", "--bundle", b], check=True)
        with open(os.path.join(b, "config.json")) as f:
            spec = json.load(f)
        spec["root"]["path"] = ROOTFS
        spec["process"]["args"] = args
        if edit:
            edit(spec)
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(spec, f)
        return b

    def work_dir(self, spec):
        """A host directory bound read-write at /w, owned by the sandbox's root."""
        w = os.path.join(self.tmp, "w")
        os.mkdir(w, 0o755)
        os.chown(w, 1000000000, 1000000000)
        spec["mounts"].append({"destination": "/w", "type": "bind", "source": w, "options": ["rbind", "rw"]})
        return w

    def create(self, b, cid, log=None):
        pidfile = os.path.join(self.tmp, cid + ".pid")
        p = sbx(self.root, "create", "--bundle", b, "--pid-file", pidfile, cid, log=log)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.ids.append(cid)
        with open(pidfile) as f:
            return int(f.read())

    def state(self, cid):
        p = sbx(self.root, "state", cid, check=0)
        return json.loads(p.stdout)


class Lifecycle(Bundles):
    def test_create_stops_before_the_process_and_start_lets_it_run(self):
        w = None

        def edit(spec):
            nonlocal w
            w = self.work_dir(spec)

        b = self.bundle(["/bin/sh", "-c", "echo ran > /w/ran; exit 7"], edit)
        pid = self.create(b, "c1")
        st = self.state("c1")
        self.assertEqual(st["status"], "created")
        self.assertEqual(st["pid"], pid)
        self.assertEqual(st["bundle"], b)
        self.assertTrue(alive(pid))
        time.sleep(0.3)
        self.assertFalse(os.path.exists(os.path.join(w, "ran")), "the process ran before start")
        sbx(self.root, "start", "c1", check=0)
        self.assertEqual(wait_pid(pid), 7)
        self.assertEqual(self.state("c1")["status"], "stopped")
        # What landed on the host belongs to the sandbox's root, never host root.
        stt = os.stat(os.path.join(w, "ran"))
        self.assertEqual((stt.st_uid, stt.st_gid), (1000000000, 1000000000))
        sbx(self.root, "delete", "c1", check=0)
        self.assertFalse(os.path.exists(os.path.join(self.root, "c1")))
        self.assertEqual(sbx(self.root, "state", "c1").returncode, 1)

    def test_kill_passes_the_signal_to_the_process(self):
        b = self.bundle(["/bin/sh", "-c", "trap 'exit 42' TERM; echo up; while :; do sleep 0.05; done"])
        pid = self.create(b, "c2")
        sbx(self.root, "start", "c2", check=0)
        time.sleep(0.5)
        sbx(self.root, "kill", "c2", "TERM", check=0)
        self.assertEqual(wait_pid(pid), 42)

    def test_a_process_ignoring_sigterm_runs_on_until_sigkill(self):
        b = self.bundle(["/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"])
        pid = self.create(b, "c3")
        sbx(self.root, "start", "c3", check=0)
        time.sleep(0.3)
        sbx(self.root, "kill", "c3", "SIGTERM", check=0)
        time.sleep(0.5)
        self.assertEqual(self.state("c3")["status"], "running")
        sbx(self.root, "kill", "c3", "9", check=0)
        self.assertEqual(wait_pid(pid), 128 + 9)
        self.assertEqual(self.state("c3")["status"], "stopped")
        self.assertEqual(sbx(self.root, "kill", "c3", "KILL").returncode, 1)

    def test_delete_refuses_a_running_container_and_force_leaves_nothing(self):
        b = self.bundle(["/bin/sh", "-c", "while :; do sleep 0.05; done"])
        pid = self.create(b, "c4")
        sbx(self.root, "start", "c4", check=0)
        time.sleep(0.3)
        with open(os.path.join(self.root, "c4", "state.json")) as f:
            init = json.load(f)["init_pid"]
        cgs = cgroups_of(init)
        self.assertTrue(cgs, "the sandbox is in no cgroup of its own")
        self.assertTrue(cgroup_dirs(pid), "no cgroup named after the supervisor")
        p = sbx(self.root, "delete", "c4")
        self.assertEqual(p.returncode, 1)
        self.assertIn("running", p.stderr)
        self.assertEqual(self.state("c4")["status"], "running")
        sbx(self.root, "delete", "--force", "c4", check=0)
        # delete returns once the supervisor is gone: nothing is left.
        self.assertFalse(alive(init))
        self.assertFalse(alive(pid))
        self.assertEqual(wait_pid(pid), 137)
        self.assertFalse(os.path.exists(os.path.join(self.root, "c4")))
        for cg in cgs:
            self.assertFalse(os.path.exists(cg), cg)
        self.assertEqual(cgroup_dirs(pid), set())

    def test_cgroups_path_places_the_cgroup_and_leaves_nothing(self):
        """linux.cgroupsPath (podman's form): the container's cgroup is that
        path; on v1 beneath the caller's own cgroup in each hierarchy, the
        levels sbx made removed after."""
        top = "sbx-test-cgpath-%d" % os.getpid()
        path = "/%s/libpod-c1" % top

        def edit(spec):
            spec["linux"]["cgroupsPath"] = path
            spec["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 40}}
        pid = self.create(self.bundle(["/bin/sh", "-c", "exit 0"], edit), "cg1")
        with open(os.path.join(self.root, "cg1", "state.json")) as f:
            init = json.load(f)["init_pid"]

        def line(p, ctrl):
            with open("/proc/%d/cgroup" % p) as f:
                return next(l.rstrip("\n").split(":", 2)[2] for l in f if ctrl in l.split(":")[1].split(","))
        pure_v2 = os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))
        if pure_v2:
            self.assertEqual(line(init, ""), path)
            made = os.path.join(CGROUP_ROOT, top)
        else:
            own = line(os.getpid(), "memory")
            self.assertEqual(line(init, "memory"), (own.rstrip("/") + path))
            d = os.path.join(CGROUP_ROOT, "memory") + own.rstrip("/") + path
            with open(os.path.join(d, "memory.limit_in_bytes")) as f:
                self.assertEqual(int(f.read()), 64 << 20)
            made = os.path.dirname(d)
        sbx(self.root, "delete", "--force", "cg1", check=0)
        self.assertFalse(alive(pid))
        if pure_v2:  # v2: the parent levels are the client's, as --cgroup-parent's
            self.assertFalse(os.path.exists(os.path.join(made, "libpod-c1")))
            os.rmdir(made)
        else:
            self.assertFalse(os.path.exists(made), made)
        # The systemd form is refused, named.
        def systemd(spec):
            spec["linux"]["cgroupsPath"] = "machine.slice:libpod:c2"
        p = sbx(self.root, "create", "--bundle", self.bundle(["/bin/true"], systemd, name="b2"), "cg2")
        self.assertEqual(p.returncode, 1)
        self.assertIn("linux.cgroupsPath", p.stderr)

    def test_created_container_killed_or_deleted_never_runs(self):
        w = None

        def edit(spec):
            nonlocal w
            w = self.work_dir(spec)

        b = self.bundle(["/bin/sh", "-c", "echo ran > /w/ran"], edit)
        pid = self.create(b, "c5")
        sbx(self.root, "kill", "c5", "TERM", check=0)
        self.assertEqual(wait_pid(pid), 137)
        self.assertEqual(self.state("c5")["status"], "stopped")
        self.assertEqual(sbx(self.root, "start", "c5").returncode, 1)
        sbx(self.root, "delete", "c5", check=0)
        pid = self.create(b, "c6")
        sbx(self.root, "delete", "c6", check=0)
        self.assertFalse(alive(pid))
        self.assertFalse(os.path.exists(os.path.join(w, "ran")))
        self.assertEqual(os.listdir(self.root), [".lock"])

    def test_concurrent_creates_of_one_id_make_one_container(self):
        b = self.bundle(["/bin/true"])
        results = []

        def one(i):
            results.append(sbx(self.root, "create", "--bundle", b, "same").returncode)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        self.ids.append("same")
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [0, 1, 1, 1])
        self.assertEqual(self.state("same")["status"], "created")

    def test_start_and_state_follow_runc(self):
        b = self.bundle(["/bin/sh", "-c", "sleep 5"])
        self.assertEqual(sbx(self.root, "state", "nope").returncode, 1)
        self.assertEqual(sbx(self.root, "start", "nope").returncode, 1)
        self.assertEqual(sbx(self.root, "delete", "nope").returncode, 1)
        self.assertEqual(sbx(self.root, "delete", "--force", "nope").returncode, 0)
        self.assertEqual(sbx(self.root, "state", "../etc").returncode, 1)
        pid = self.create(b, "c7")
        self.assertEqual(sbx(self.root, "create", "--bundle", b, "c7").returncode, 1)
        sbx(self.root, "start", "c7", check=0)
        self.assertEqual(sbx(self.root, "start", "c7").returncode, 1)
        sbx(self.root, "delete", "--force", "c7", check=0)
        wait_pid(pid)

    def test_start_of_a_process_that_ends_at_once(self):
        """`start` lets pid 1 through and the container may be over before
        start returns (podman's `run /bin/true` under load): start still
        succeeds.  sbx-fault pauses start right after its FIFO open, the
        moment the process goes; start used to look the supervisor up only
        then, found it gone and failed ("No such process")."""
        fault = os.path.join(BUILD, "sbx-fault")
        b = self.bundle(["/bin/true"])
        pid = self.create(b, "q1")
        p = subprocess.run([fault, "--root", self.root, "start", "q1"], capture_output=True, text=True,
                           timeout=60, env=dict(os.environ, SBX_FAULT="slow:start_fifo_opened"))
        self.assertEqual(p.returncode, 0, p.stderr)
        wait_pid(pid)
        self.assertEqual(self.state("q1")["status"], "stopped")
        sbx(self.root, "delete", "q1", check=0)

    def test_run_returns_the_exit_status_and_deletes(self):
        b = self.bundle(["/bin/sh", "-c", "echo out; exit 3"])
        p = sbx(self.root, "run", "--bundle", b, "r1")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout, "out\n")
        self.assertEqual(os.listdir(self.root), [".lock"])

    def test_unsupported_field_is_named_in_the_json_log(self):
        b = self.bundle(["/bin/true"], lambda s: s["linux"].update({"intelRdt": {"closID": "x"}}))
        log = os.path.join(self.tmp, "log.json")
        p = sbx(self.root, "create", "--bundle", b, "bad", log=log)
        self.assertEqual(p.returncode, 1)
        with open(log) as f:
            entry = json.loads(f.readline())
        self.assertEqual(entry["level"], "error")
        self.assertIn("intelRdt", entry["msg"])
        self.assertFalse(os.path.exists(os.path.join(self.root, "bad")))

    def test_systemd_cgroup_is_refused_with_a_reason(self):
        p = subprocess.run([SBX, "--root", self.root, "--systemd-cgroup", "state", "x"], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("--systemd-cgroup is not supported", p.stderr)

    def test_hooks_get_the_state_on_stdin(self):
        out = os.path.join(self.tmp, "hooks")
        os.mkdir(out)

        def edit(spec):
            spec["hooks"] = {
                "prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s/prestart" % out]}],
                "poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s/poststart" % out]}],
                "poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s/poststop" % out], "timeout": 5}],
            }
        b = self.bundle(["/bin/sh", "-c", "exit 0"], edit)
        pid = self.create(b, "h1")
        with open(os.path.join(out, "prestart")) as f:
            st = json.load(f)
        self.assertEqual((st["id"], st["status"], st["bundle"]), ("h1", "created", b))
        # Hooks get the sandbox's pid 1, whose namespaces they may enter
        # (as CNI plugins do), not the supervisor's pid.
        with open(os.path.join(self.root, "h1", "state.json")) as f:
            self.assertEqual(st["pid"], json.load(f)["init_pid"])
        self.assertNotEqual(os.readlink("/proc/%d/ns/net" % st["pid"]), os.readlink("/proc/self/ns/net"))
        self.assertFalse(os.path.exists(os.path.join(out, "poststart")))
        sbx(self.root, "start", "h1", check=0)
        self.assertEqual(wait_pid(pid), 0)
        with open(os.path.join(out, "poststart")) as f:
            self.assertEqual(json.load(f)["status"], "running")
        with open(os.path.join(out, "poststop")) as f:
            self.assertEqual(json.load(f)["status"], "stopped")

    def test_failing_prestart_hook_fails_create_and_leaves_nothing(self):
        b = self.bundle(["/bin/true"], lambda s: s.update(
            {"hooks": {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo $PPID > %s/ppid; exit 3" % self.tmp]}]}}))
        p = sbx(self.root, "create", "--bundle", b, "h2")
        self.assertEqual(p.returncode, 1)
        self.assertIn("hooks.prestart[0]", p.stderr)
        self.assertIn("status 3", p.stderr)
        self.assertEqual(os.listdir(self.root), [".lock"])
        # The hook's parent is the supervisor, whose cgroup is gone.
        with open(os.path.join(self.tmp, "ppid")) as f:
            self.assertEqual(cgroup_dirs(int(f.read())), set())

    def test_container_hooks_run_inside_with_the_state(self):
        """createContainer (a host file, run in the container at create) and
        startContainer (a container path, at start, before the process):
        the container's namespaces, its process's confinement, the state
        on stdin with the container's own pid."""
        w = None
        script = os.path.join(self.tmp, "create-container.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\ncat > /w/cc.state\n"
                    "for n in pid mnt user net ipc uts cgroup; do readlink /proc/self/ns/$n; done > /w/cc.ns\n"
                    "grep CapEff /proc/self/status > /w/cc.caps\n")
        os.chmod(script, 0o755)

        def edit(spec):
            nonlocal w
            w = self.work_dir(spec)
            spec["hooks"] = {
                "createContainer": [{"path": script, "timeout": 10}],
                "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > /w/sc.state; test ! -e /w/ran"],
                                    "env": ["PATH=/bin:/usr/bin"]}],
            }
        b = self.bundle(["/bin/sh", "-c", "test -e /w/sc.state && touch /w/ran"], edit)
        pid = self.create(b, "ch1")
        with open(os.path.join(self.root, "ch1", "state.json")) as f:
            init = json.load(f)["init_pid"]
        with open(os.path.join(w, "cc.state")) as f:
            st = json.load(f)
        self.assertEqual((st["id"], st["status"], st["bundle"], st["pid"]), ("ch1", "creating", b, 1))
        with open(os.path.join(w, "cc.ns")) as f:
            ns = f.read().split()
        # pid 1's namespaces (read from the host: pid 1 is not dumpable).
        for i, n in enumerate(("pid", "mnt", "user", "net", "ipc", "uts", "cgroup")):
            self.assertEqual(ns[i], os.readlink("/proc/%d/ns/%s" % (init, n)), n)
            self.assertNotEqual(ns[i], os.readlink("/proc/self/ns/%s" % n), n)
        with open(os.path.join(w, "cc.caps")) as f:
            self.assertEqual(f.read().split(), ["CapEff:", "0000000000000000"])
        self.assertFalse(os.path.exists(os.path.join(w, "sc.state")))
        sbx(self.root, "start", "ch1", check=0)
        self.assertEqual(wait_pid(pid), 0)
        with open(os.path.join(w, "sc.state")) as f:
            self.assertEqual(json.load(f)["pid"], 1)
        self.assertTrue(os.path.exists(os.path.join(w, "ran")), "the process ran before startContainer")

    def test_failing_create_container_hook_fails_create_and_leaves_nothing(self):
        b = self.bundle(["/bin/true"], lambda s: s.update(
            {"hooks": {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo $PPID > %s/ppid" % self.tmp]}],
                       "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 4"]}]}}))
        p = sbx(self.root, "create", "--bundle", b, "ch2")
        self.assertEqual(p.returncode, 1)
        self.assertIn("hooks.createContainer[0] (/bin/sh): exited with status 4", p.stderr)
        self.assertEqual(os.listdir(self.root), [".lock"])
        # The prestart hook's parent is the supervisor, whose cgroup is gone.
        with open(os.path.join(self.tmp, "ppid")) as f:
            supervisor = int(f.read())
        self.assertEqual(cgroup_dirs(supervisor), set())
        self.assertFalse(alive(supervisor))
        # The host file is not read by host root for the container: a
        # script its ids may run but not read fails there.
        secret = os.path.join(self.tmp, "secret-hook.sh")
        with open(secret, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(secret, 0o711)
        b = self.bundle(["/bin/true"], lambda s: s.update({"hooks": {"createContainer": [{"path": secret}]}}),
                        name="b2")
        p = sbx(self.root, "create", "--bundle", b, "ch2b")
        self.assertEqual(p.returncode, 1)
        self.assertIn("hooks.createContainer[0] (%s): exited with status" % secret, p.stderr)
        self.assertEqual(os.listdir(self.root), [".lock"])

    def test_failing_start_container_hook_fails_start_and_stops_the_container(self):
        w = None

        def edit(spec):
            nonlocal w
            w = self.work_dir(spec)
            spec["hooks"] = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 30"], "timeout": 1}]}
        b = self.bundle(["/bin/sh", "-c", "touch /w/ran"], edit)
        pid = self.create(b, "ch3")
        p = sbx(self.root, "start", "ch3")
        self.assertEqual(p.returncode, 1)
        self.assertIn("hooks.startContainer[0] (/bin/sh): timed out after 1 s", p.stderr)
        self.assertEqual(wait_pid(pid), 137)
        self.assertEqual(self.state("ch3")["status"], "stopped")
        self.assertFalse(os.path.exists(os.path.join(w, "ran")))
        self.assertEqual(cgroup_dirs(pid), set())
        sbx(self.root, "delete", "ch3", check=0)
        self.assertEqual(os.listdir(self.root), [".lock"])

    def test_ipc_and_uts_namespaces_joined_by_path_as_in_a_pod(self):
        """Kubernetes' pod pattern: a container joins /proc/PID/ns/{ipc,uts}
        of the pause container, PID being what its runtime reported (the
        pid file).  The supervisor's namespaces are the container's, and a
        container joining them shares them; host hooks still run in the
        host's."""
        out = os.path.join(self.tmp, "hooks")
        os.mkdir(out)

        def pause(spec):
            spec["hostname"] = "pod-a"
            spec["hooks"] = {"prestart": [{"path": "/bin/sh", "args": [
                "sh", "-c", "readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts > %s/ns" % out]}]}
        pa = self.bundle(["/bin/sh", "-c", "while :; do sleep 0.05; done"], pause, name="pa")
        sup = self.create(pa, "pa")
        sbx(self.root, "start", "pa", check=0)
        with open(os.path.join(self.root, "pa", "state.json")) as f:
            init = json.load(f)["init_pid"]
        kinds = ("net", "ipc", "uts")
        theirs = [os.readlink("/proc/%d/ns/%s" % (init, n)) for n in kinds]
        self.assertEqual([os.readlink("/proc/%d/ns/%s" % (sup, n)) for n in kinds], theirs)
        with open(os.path.join(out, "ns")) as f:
            self.assertEqual(f.read().split(), [os.readlink("/proc/self/ns/" + n) for n in kinds])

        def member(hostname, extra=()):
            def edit(spec):
                spec["hostname"] = hostname
                spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] not in ("ipc", "uts")]
                spec["linux"]["namespaces"] += [{"type": "ipc", "path": "/proc/%d/ns/ipc" % sup},
                                                {"type": "uts", "path": "/proc/%d/ns/uts" % sup}] + list(extra)
            return edit
        b = self.bundle(["/bin/sh", "-c", "readlink /proc/self/ns/ipc /proc/self/ns/uts; hostname"], member("pod-a"),
                        name="pb")
        p = sbx(self.root, "run", "--bundle", b, "pb")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), theirs[1:] + ["pod-a"])
        b = self.bundle(["/bin/true"], member("other"), name="pc")
        p = sbx(self.root, "run", "--bundle", b, "pc")
        self.assertEqual(p.returncode, 1)
        self.assertIn("hostname: other cannot be set in the joined uts namespace", p.stderr)
        b = self.bundle(["/bin/true"], member("pod-a", [{"type": "pid", "path": "/proc/%d/ns/pid" % init}]),
                        name="pd")
        p = sbx(self.root, "run", "--bundle", b, "pd")
        self.assertEqual(p.returncode, 1)
        self.assertIn("joining an existing pid namespace is not supported by sbx: sbx's pid 1", p.stderr)
        # The pod's ipc sysctls are the pause container's to set.
        b = self.bundle(["/bin/true"], lambda s: (member("pod-a")(s), s["linux"].update(
            {"sysctl": {"kernel.msgmax": "9000"}})), name="pe")
        p = sbx(self.root, "run", "--bundle", b, "pe")
        self.assertEqual(p.returncode, 1)
        self.assertIn("linux.sysctl.kernel.msgmax: not a sysctl of the container's own namespaces", p.stderr)
        self.assertEqual(sorted(os.listdir(self.root)), [".lock", "pa"])
        self.assertEqual(os.readlink("/proc/%d/ns/uts" % sup), theirs[2], "the pod's uts namespace changed")

    def test_devices_are_the_hosts_nodes(self):
        """linux.devices: the host's node of that type and number, bound
        (at its own path, or at another one found by its number); what the
        host lacks or sbx cannot honour is refused, named."""
        code = ("import os, stat\n"
                "for p in ('/dev/fuse', '/dev/sub/zero2'):\n"
                "    st = os.stat(p); print(p, stat.S_ISCHR(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev))\n"
                "os.close(os.open('/dev/fuse', os.O_RDWR))\n"
                "print(open('/dev/sub/zero2', 'rb').read(4) == bytes(4))\n")

        def edit(spec):
            spec["linux"]["devices"] = [
                {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o20666, "uid": 0, "gid": 0},
                {"path": "/dev/sub/zero2", "type": "c", "major": 1, "minor": 5}]
        b = self.bundle(["/usr/bin/python3", "-c", code], edit)
        p = sbx(self.root, "run", "--bundle", b, "d1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(), ["/dev/fuse True 10 229", "/dev/sub/zero2 True 1 5", "True"])
        for n, dev, why in (
                ("d2", {"path": "/dev/nope", "type": "c", "major": 250, "minor": 250}, "the host has no device node c 250:250"),
                ("d3", {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600}, "fileMode"),
                ("d4", {"path": "/dev/pts/9", "type": "c", "major": 1, "minor": 3}, "one of sbx's own /dev entries"),
                ("d5", {"path": "/dev/../etc/x", "type": "c", "major": 1, "minor": 3}, "\"..\" component"),
                ("d6", {"path": "/dev/p", "type": "p"}, "no FIFOs")):
            b = self.bundle(["/bin/true"], lambda s: s["linux"].update({"devices": [dev]}), name=n)
            p = sbx(self.root, "run", "--bundle", b, n)
            self.assertEqual(p.returncode, 1, n)
            self.assertIn("linux.devices[0]", p.stderr)
            self.assertIn(why, p.stderr)
        self.assertEqual(os.listdir(self.root), [".lock"])

    def test_create_killed_while_waiting_leaves_no_sandbox(self):
        """A client killing `sbx create` before it returned: nobody will
        start or delete that container by its pid, so the supervisor ends
        the sandbox (and removes its cgroup) instead of waiting at the gate
        for ever."""
        b = self.bundle(["/bin/true"], lambda s: s.update(
            {"hooks": {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 1"]}]}}))
        with tempfile.TemporaryFile() as out:
            p = subprocess.Popen([SBX, "--root", self.root, "create", "--bundle", b, "k1"], stdout=out, stderr=out)
            self.ids.append("k1")
            time.sleep(0.5)  # the sandbox is built, the hook runs
            p.kill()
            p.wait()
        # The supervisor was create's child: re-parented to us.
        deadline = time.monotonic() + 10
        reaped = None
        while reaped is None and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                reaped, supervisor = os.waitstatus_to_exitcode(status), pid
            time.sleep(0.02)
        self.assertEqual(reaped, 137, "the supervisor did not end the sandbox")
        self.assertEqual(self.state("k1")["status"], "stopped")
        self.assertEqual(cgroup_dirs(supervisor), set())
        sbx(self.root, "delete", "k1", check=0)

    def test_sysctl_rlimits_umask_are_the_containers(self):
        def edit(spec):
            spec["linux"]["sysctl"] = {"net.ipv4.ping_group_range": "0 1"}
            spec["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 1000}]
            spec["process"]["user"]["umask"] = 0o077
        b = self.bundle(["/bin/sh", "-c", "cat /proc/sys/net/ipv4/ping_group_range; ulimit -n; umask"], edit)
        p = sbx(self.root, "run", "--bundle", b, "s1")
        self.assertEqual(p.returncode, 0, p.stderr)
        # "0 1" was written inside the sandbox's user namespace: the
        # container reads back its own group ids.
        self.assertEqual(p.stdout.split(), ["0", "1", "1000", "0077"])
        # The host's own value is untouched.
        with open("/proc/sys/net/ipv4/ping_group_range") as f:
            self.assertNotEqual(f.read().split(), ["0", "1"])

    def test_seccomp_rules_of_the_spec_apply(self):
        def edit(spec):
            spec["linux"]["seccomp"] = {
                "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
        b = self.bundle(["/bin/sh", "-c", "mkdir /tmp/d 2>&1; echo rc=$?"], edit)
        p = sbx(self.root, "run", "--bundle", b, "sc1")
        self.assertIn("Permission denied", p.stdout)
        self.assertIn("rc=1", p.stdout)

    def test_sysfs_mqueue_cgroup_mounts_of_the_spec(self):
        """sysfs (read-only, the spec's masked paths hidden), mqueue and a
        read-only cgroup2 of the sandbox's cgroup namespace; without a
        network namespace of its own, /sys is an empty read-only tmpfs."""
        kmounts = [
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"]}]
        script = ("while read -r d m t o r; do case $m in /sys*|/dev/mqueue) echo \"$m $t $o\";; esac; done < /proc/mounts;"
                  " ls -A /sys/firmware | wc -l; ls /sys/class/net; ls -A /sys/fs/cgroup | wc -l;"
                  " touch /sys/x /sys/fs/cgroup/x 2>/dev/null; echo touch=$?")

        def edit(spec):
            spec["mounts"] += kmounts
            spec["linux"]["maskedPaths"].append("/sys/firmware")
        p = sbx(self.root, "run", "--bundle", self.bundle(["/bin/sh", "-c", script], edit), "k1")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        mounts = {l.split()[0]: l.split()[1:] for l in lines if l.startswith("/")}
        self.assertEqual(mounts["/sys"][0], "sysfs")
        # cgroup2 rooted at the sandbox's own v2 cgroup (pure v2 hosts);
        # where its cgroup is v1 (hybrid hosts) the namespace's root would be
        # the caller's cgroup: an empty tmpfs instead.
        pure_v2 = os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))
        self.assertEqual(mounts["/sys/fs/cgroup"][0], "cgroup2" if pure_v2 else "tmpfs")
        self.assertEqual(mounts["/dev/mqueue"][0], "mqueue")
        self.assertEqual(mounts["/sys/firmware"][0], "tmpfs")
        for m in ("/sys", "/sys/fs/cgroup", "/sys/firmware"):
            self.assertIn("ro", mounts[m][1].split(","), m)
        for m in ("/sys", "/sys/fs/cgroup", "/dev/mqueue"):
            self.assertTrue({"nosuid", "nodev", "noexec"} <= set(mounts[m][1].split(",")), m)
        rest = [l for l in lines if not l.startswith("/")]
        # /sys/firmware empty; the sandbox's own network devices (lo only);
        # the cgroup namespace's root has the interface files only, no child
        # cgroup of the host's (or nothing at all).
        self.assertEqual(rest[0], "0")
        self.assertEqual(rest[1], "lo")
        if not pure_v2:
            self.assertEqual(rest[2], "0")
        self.assertEqual(rest[-1], "touch=1")

        def host_net(spec):
            spec["mounts"] += kmounts
            spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "network"]
        p = sbx(self.root, "run", "--bundle", self.bundle(["/bin/sh", "-c", script], host_net, name="b2"), "k2")
        self.assertEqual(p.returncode, 0, p.stderr)
        mounts = {l.split()[0]: l.split()[1:] for l in p.stdout.splitlines() if l.startswith("/")}
        self.assertEqual(mounts["/sys"][0], "tmpfs")
        self.assertIn("ro", mounts["/sys"][1].split(","))
        self.assertEqual(mounts["/sys/fs/cgroup"][0], "cgroup2" if pure_v2 else "tmpfs")
        self.assertNotIn("eth0", p.stdout)

    def test_readonly_root(self):
        b = self.bundle(["/bin/sh", "-c", "touch /x 2>&1; echo rc=$?"])
        p = sbx(self.root, "run", "--bundle", b, "ro1")
        self.assertIn("Read-only file system", p.stdout)
        self.assertFalse(os.path.exists(os.path.join(ROOTFS, "x")))

    def test_rootless_create_start_with_xdg_runtime_dir(self):
        """As an unprivileged user (no delegated cgroup here): state under
        $XDG_RUNTIME_DIR/sbx, only the caller mapped, no limits asked, so
        no cgroup needed (as runc)."""
        if not shutil.which("setpriv"):
            self.skipTest("setpriv (util-linux) missing")
        os.chmod(self.tmp, 0o755)
        b = self.bundle(["/bin/sh", "-c", "cat /proc/self/uid_map; exit 4"],
                        lambda s: s["linux"]["namespaces"].append({"type": "user"}))
        xdg = os.path.join(self.tmp, "xdg")
        os.mkdir(xdg, 0o700)
        for d in (b, xdg):
            os.chown(d, 65534, 65534)
            os.chown(os.path.join(d, "config.json") if d == b else d, 65534, 65534)
        p = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "env",
                            "XDG_RUNTIME_DIR=" + xdg, SBX, "run", "--bundle", b, "rl1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertEqual(p.stdout.split(), ["0", "65534", "1"])
        self.assertEqual(os.listdir(os.path.join(xdg, "sbx")), [".lock"])

    def test_exec_joins_the_running_container_confined(self):
        def edit(spec):
            spec["process"]["env"].append("FROM_SPEC=yes")
            spec["linux"]["seccomp"] = {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
        b = self.bundle(["/bin/sh", "-c", "while :; do sleep 0.05; done"], edit)
        pid = self.create(b, "x1")
        sbx(self.root, "start", "x1", check=0)
        with open(os.path.join(self.root, "x1", "state.json")) as f:
            init = json.load(f)["init_pid"]
        p = sbx(self.root, "exec", "--env", "EXTRA=1", "x1", "/bin/sh", "-c",
                "echo $FROM_SPEC $EXTRA; readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/user; "
                "grep CapEff /proc/self/status; grep -c sbx-%d- /proc/self/cgroup; mkdir /tmp/d 2>&1; exit 3" % pid)
        self.assertEqual(p.returncode, 3, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "yes 1")
        self.assertEqual(lines[1:4], [os.readlink("/proc/%d/ns/%s" % (init, n)) for n in ("pid", "mnt", "user")])
        self.assertEqual(lines[4].split(), ["CapEff:", "0000000000000000"])
        self.assertGreater(int(lines[5]), 0, "not in the container's cgroups")
        self.assertIn("Permission denied", lines[6], "the container's seccomp rules do not apply")
        # --process, --user, --detach with a pid file (we are a subreaper).
        proc = os.path.join(self.tmp, "process.json")
        with open(proc, "w") as f:
            json.dump({"args": ["/bin/sh", "-c", "test $(id -u) = 1000 && test $PWD = /tmp && exit 6"],
                       "cwd": "/tmp", "env": ["PATH=/bin:/usr/bin"], "user": {"uid": 1000, "gid": 1000}}, f)
        pf = os.path.join(self.tmp, "exec.pid")
        sbx(self.root, "exec", "--process", proc, "--detach", "--pid-file", pf, "x1", check=0)
        with open(pf) as f:
            self.assertEqual(wait_pid(int(f.read())), 6)
        sbx(self.root, "delete", "--force", "x1", check=0)
        self.assertEqual(wait_pid(pid), 137)
        p = sbx(self.root, "exec", "x1", "/bin/true")
        self.assertEqual(p.returncode, 1)
        self.assertIn("does not exist", p.stderr)

    def test_exec_joins_a_cgroups_path_cgroup(self):
        """A process exec'd into a container whose cgroup cgroupsPath named
        (podman's /libpod_parent/libpod-ID; no sbx-PID-* name anywhere in
        it) is in that cgroup, bound by its limits as pid 1 is."""
        top = "libpod_parent-test-%d" % os.getpid()

        def edit(spec):
            spec["linux"]["cgroupsPath"] = "/%s/libpod-e1" % top
            spec["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 40}}
        pid = self.create(self.bundle(["/bin/sh", "-c", "while :; do sleep 0.05; done"], edit), "e1")
        sbx(self.root, "start", "e1", check=0)
        p = sbx(self.root, "exec", "e1", "/bin/sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup")
        self.assertEqual(p.returncode, 0, p.stderr)
        mine, theirs = (sorted(part.split()) for part in p.stdout.split("--\n"))
        self.assertTrue(any(line.endswith("/%s/libpod-e1" % top) for line in theirs), theirs)
        self.assertEqual(mine, theirs, "the exec'd process is not in the container's cgroups")
        sbx(self.root, "delete", "--force", "e1", check=0)
        self.assertEqual(wait_pid(pid), 137)
        if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
            os.rmdir(os.path.join(CGROUP_ROOT, top))  # v2: the parent levels are the client's
        else:
            with open("/proc/self/cgroup") as f:
                own = next(l.rstrip("\n").split(":", 2)[2] for l in f if l.split(":")[1] == "memory")
            self.assertFalse(os.path.exists(os.path.join(CGROUP_ROOT, "memory") + own.rstrip("/") + "/" + top))

    def test_terminal_through_the_console_socket(self):
        """process.terminal: the master of a pty of the sandbox's own devpts
        reaches the client's --console-socket; the process has it as its
        controlling terminal and stdio."""
        b = self.bundle(["/bin/sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; exit 5"],
                        lambda s: s["process"].update({"terminal": True}))
        path = os.path.join(self.tmp, "console.sock")
        console = ConsoleSocket(path)
        # Without the socket, a terminal is refused (runc's rule).
        self.assertEqual(sbx(self.root, "create", "--bundle", b, "t0").returncode, 1)
        pidfile = os.path.join(self.tmp, "t1.pid")
        p = sbx(self.root, "create", "--bundle", b, "--console-socket", path, "--pid-file", pidfile, "t1")
        self.ids.append("t1")
        self.assertEqual(p.returncode, 0, p.stderr)
        master = console.master()
        self.assertIsNotNone(master, "no terminal was sent")
        sbx(self.root, "start", "t1", check=0)
        with open(pidfile) as f:
            self.assertEqual(wait_pid(int(f.read())), 5)
        self.assertEqual(read_to_end(master).split(), ["/dev/pts/0", "stdin-is-a-tty"])

    def test_exec_with_a_terminal(self):
        """exec --tty: a pty of the container's devpts, its master sent to
        --console-socket, the process's controlling terminal and stdio."""
        b = self.bundle(["/bin/sh", "-c", "while :; do sleep 0.05; done"])
        pid = self.create(b, "xt1")
        sbx(self.root, "start", "xt1", check=0)
        cmd = ["/bin/sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; exit 6"]
        p = sbx(self.root, "exec", "--tty", "xt1", *cmd)
        self.assertEqual(p.returncode, 1)
        self.assertIn("a terminal needs --console-socket", p.stderr)
        path = os.path.join(self.tmp, "console.sock")
        console = ConsoleSocket(path)
        p = sbx(self.root, "exec", "--tty", "--console-socket", path, "xt1", *cmd)
        self.assertEqual(p.returncode, 6, p.stderr)
        master = console.master()
        self.assertIsNotNone(master, "no terminal was sent")
        lines = read_to_end(master).split()
        self.assertRegex(lines[0], r"^/dev/pts/[0-9]+$")
        self.assertEqual(lines[1:], ["stdin-is-a-tty"])
        sbx(self.root, "delete", "--force", "xt1", check=0)
        self.assertEqual(wait_pid(pid), 137)

    def test_features_document(self):
        p = subprocess.run([SBX, "features"], capture_output=True, text=True, check=True)
        f = json.loads(p.stdout)
        self.assertEqual(f["ociVersionMax"], "1.1.0")
        self.assertIn("SCMP_ACT_ERRNO", f["linux"]["seccomp"]["actions"])
        self.assertFalse(f["linux"]["cgroup"]["systemd"])


def podman_cgroups():
    return {os.path.join(CGROUP_ROOT, h, "libpod_parent") for h in os.listdir(CGROUP_ROOT)
            if os.path.isdir(os.path.join(CGROUP_ROOT, h, "libpod_parent"))}


def rmdir_tree(top):
    for dirpath, dirnames, _ in os.walk(top, topdown=False):
        os.rmdir(dirpath)


@unittest.skipUnless(shutil.which("podman"), "podman is not installed (apt-get install podman)")
class Podman(unittest.TestCase):
    """podman --runtime build/sbx, as root, with the test rootfs (--rootfs)."""

    @classmethod
    def setUpClass(cls):
        cls.cgroups_before = podman_cgroups()
        cls.root_existed = os.path.exists("/run/sbx")
        cls.names = []

    @classmethod
    def tearDownClass(cls):
        for n in cls.names:
            subprocess.run(["podman", "--runtime", SBX, "rm", "-f", "--ignore", n], capture_output=True)
        # podman's cgroupfs manager makes libpod_parent (and conmon's
        # cgroup) and leaves them: ours to remove if they were not there.
        # conmon and the `podman container cleanup` it starts may still be
        # exiting (and may make conmon's cgroup again): wait for them first.
        for _ in range(100):
            if subprocess.run(["pgrep", "-x", "conmon"], capture_output=True).returncode != 0:
                break
            time.sleep(0.1)
        for _ in range(3):
            for cg in podman_cgroups() - cls.cgroups_before:
                rmdir_tree(cg)
            time.sleep(0.2)
        if not cls.root_existed and os.path.isdir("/run/sbx"):
            leftovers = [e for e in os.listdir("/run/sbx") if e != ".lock"]
            assert not leftovers, "state left in /run/sbx: %s" % leftovers
            shutil.rmtree("/run/sbx")

    def podman(self, *args, timeout=120):
        return subprocess.run(["podman", "--runtime", SBX] + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def run_args(self, *cmd, name=None, detach=False):
        a = ["run"] + (["-d"] if detach else ["--rm"]) + ["--network", "none"] + ULIMITS
        if name:
            a += ["--name", name]
            self.names.append(name)
        return a + ["--rootfs", ROOTFS] + list(cmd)

    def state_of(self, name):
        p = self.podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name)
        return p.stdout.split()

    def test_exit_code_and_pandas(self):
        p = self.podman(*self.run_args("python3", "-c", "import pandas, sys; print('pandas', pandas.__version__); sys.exit(9)"))
        self.assertEqual(p.returncode, 9, p.stderr)
        self.assertIn("pandas ", p.stdout)
        p = self.podman(*self.run_args("/bin/sh", "-c", "exit 7"))
        self.assertEqual(p.returncode, 7, p.stderr)

    def test_the_sandbox_image_built_from_dockerfile_sandbox(self):
        """The production image (make oci-fixtures builds it with sbx-rootfs
        from Dockerfile.sandbox), as its unprivileged user."""
        rootfs = os.path.join(REPO, "build", "sandbox-rootfs")
        self.assertTrue(os.path.isfile(os.path.join(rootfs, ".sbx-fixture")),
                        "%s missing: make oci-fixtures" % rootfs)
        a = self.run_args("python3", "-c", "import os, pandas, numpy; print(os.getuid(), pandas.__version__)")
        i = a.index("--rootfs")
        a[i + 1] = rootfs
        a[i:i] = ["--user", "1000:1000", "--workdir", "/out"]
        p = self.podman(*a)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split()[0], "1000")

    def test_terminal(self):
        p = self.podman("run", "-t", *self.run_args("/bin/sh", "-c", "tty; exit 3")[1:])
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout.split(), ["/dev/pts/0"])

    def test_exec_with_a_terminal(self):
        n = "sbx-test-exec-tty-%d" % os.getpid()
        p = self.podman(*self.run_args("/bin/sh", "-c", "while :; do sleep 0.05; done", name=n, detach=True))
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.podman("exec", "-t", n, "/bin/sh", "-c", "tty; exit 4")
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertRegex(p.stdout.strip(), r"^/dev/pts/[0-9]+$")
        self.assertEqual(self.podman("rm", "-f", n).returncode, 0)

    def test_default_network_is_joined(self):
        # podman makes the network namespace and passes its path.
        p = self.podman("run", "--rm", *ULIMITS, "--rootfs", ROOTFS, "/bin/sh", "-c", "cat /proc/net/dev")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("lo:", p.stdout)

    def test_kernel_filesystems(self):
        # podman lists sysfs, mqueue and cgroup: with its own network
        # namespace (--network none) sysfs shows lo only; with podman's
        # joined one, /sys is an empty read-only tmpfs.
        script = "awk '$2 ~ /^\\/sys|mqueue/ {print $2, $3}' /proc/mounts; ls /sys/class/net 2>&1 | head -1"
        p = self.podman(*self.run_args("/bin/sh", "-c", script))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertIn("/sys sysfs", lines)
        self.assertIn("/dev/mqueue mqueue", lines)
        self.assertEqual(lines[-1], "lo")
        p = self.podman("run", "--rm", *ULIMITS, "--rootfs", ROOTFS, "/bin/sh", "-c", script)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("/sys tmpfs", p.stdout.splitlines())
        self.assertIn("No such file", p.stdout)

    def test_ipc_and_uts_of_another_container(self):
        """podman --ipc container:X --uts container:X: the namespaces of the
        pid sbx reported for X."""
        n = "sbx-test-pod-%d" % os.getpid()
        p = self.podman(*self.run_args("/bin/sh", "-c", "while :; do sleep 0.05; done", name=n, detach=True))
        self.assertEqual(p.returncode, 0, p.stderr)
        pid = int(self.podman("inspect", "--format", "{{.State.Pid}}", n).stdout)
        want = [os.readlink("/proc/%d/ns/%s" % (pid, k)) for k in ("ipc", "uts")]
        self.assertNotEqual(want, [os.readlink("/proc/self/ns/%s" % k) for k in ("ipc", "uts")])
        args = self.run_args("/bin/sh", "-c", "readlink /proc/self/ns/ipc /proc/self/ns/uts")
        args[1:1] = ["--ipc", "container:" + n, "--uts", "container:" + n]
        p = self.podman(*args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), want)
        self.assertEqual(self.podman("rm", "-f", n).returncode, 0)

    def test_device(self):
        """podman --device /dev/fuse: the host's node in the container."""
        args = self.run_args("/usr/bin/python3", "-c",
                             "import os; st = os.stat('/dev/fuse'); os.close(os.open('/dev/fuse', os.O_RDWR)); "
                             "print(os.major(st.st_rdev), os.minor(st.st_rdev))")
        args[1:1] = ["--device", "/dev/fuse"]
        p = self.podman(*args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["10", "229"])

    def test_rootless(self):
        """podman as an unprivileged user (nobody: no subordinate ids, a
        temporary HOME and XDG_RUNTIME_DIR, vfs storage).  podman runs sbx
        as uid 0 of a user namespace that maps only the caller: sbx maps
        only that one too, keeps its state under $XDG_RUNTIME_DIR/sbx, and
        writes podman's default sysctl inside the container's namespaces."""
        if not shutil.which("setpriv"):
            self.skipTest("setpriv (util-linux) missing")
        home = tempfile.mkdtemp(prefix="sbx-oci-rootless-")
        xdg = os.path.join(home, "run")
        try:
            os.chmod(home, 0o755)
            os.mkdir(xdg, 0o700)
            for d in (home, xdg):
                os.chown(d, 65534, 65534)
            cmd = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "env", "-i",
                   "HOME=" + home, "XDG_RUNTIME_DIR=" + xdg, "PATH=/usr/bin:/bin",
                   "podman", "--storage-driver", "vfs", "--runtime", SBX, "run", "--rm", "--network", "none"]
            p = subprocess.run(cmd + ULIMITS + ["--rootfs", ROOTFS, "/bin/sh", "-c",
                               "id -u; cat /proc/self/uid_map /proc/sys/net/ipv4/ping_group_range; exit 3"],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertEqual(p.stdout.split(), ["0", "0", "0", "1", "0", "0"])
            self.assertEqual(os.listdir(os.path.join(xdg, "sbx")), [".lock"])
        finally:
            # podman's rootless pause process holds its user namespace.
            try:
                with open(os.path.join(xdg, "libpod", "tmp", "pause.pid")) as f:
                    pause = int(f.read())
                os.kill(pause, signal.SIGKILL)
                for _ in range(100):
                    if not alive(pause):
                        break
                    time.sleep(0.05)
            except (FileNotFoundError, ProcessLookupError, ValueError):
                pass
            # It and conmon were re-parented to us (a subreaper): reap them.
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass
            shutil.rmtree(home)

    def test_stop_of_a_process_that_ignores_sigterm(self):
        n = "sbx-test-stop-%d" % os.getpid()
        p = self.podman(*self.run_args("/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", name=n,
                                       detach=True))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.state_of(n)[0], "running")
        t0 = time.monotonic()
        p = self.podman("stop", "-t", "1", n)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreaterEqual(time.monotonic() - t0, 1.0, "stopped before the SIGTERM grace period")
        self.assertEqual(self.state_of(n), ["exited", "137"])
        self.assertEqual(self.podman("rm", n).returncode, 0)

    def test_kill_with_a_signal_and_rm_force_of_a_running_container(self):
        n = "sbx-test-kill-%d" % os.getpid()
        p = self.podman(*self.run_args("/bin/sh", "-c", "trap 'exit 3' USR1; while :; do sleep 0.05; done", name=n,
                                       detach=True))
        self.assertEqual(p.returncode, 0, p.stderr)
        cid = p.stdout.strip()
        time.sleep(0.3)
        p = self.podman("exec", n, "/bin/sh", "-c", "echo in $(hostname); exit 4")
        self.assertEqual((p.returncode, p.stdout.split()[0]), (4, "in"), p.stderr)
        self.assertEqual(self.podman("kill", "-s", "USR1", n).returncode, 0)
        self.assertEqual(self.podman("wait", n).stdout.strip(), "3")
        self.assertEqual(self.podman("rm", n).returncode, 0)
        n2 = n + "-f"
        p = self.podman(*self.run_args("/bin/sh", "-c", "while :; do sleep 0.05; done", name=n2, detach=True))
        cid = p.stdout.strip()
        self.assertEqual(self.podman("rm", "-f", n2).returncode, 0)
        self.assertFalse(os.path.exists(os.path.join("/run/sbx", cid)))


    def test_container_hooks_from_a_hooks_dir(self):
        """podman's OCI hooks (--hooks-dir): a createContainer hook (a host
        file) and a startContainer hook (a path of the container) run in
        the container, with podman's state on stdin, before the process."""
        tmp = tempfile.mkdtemp(prefix="sbx-oci-hooks-")
        try:
            hooks, w = os.path.join(tmp, "hooks.d"), os.path.join(tmp, "w")
            os.mkdir(hooks)
            os.mkdir(w)
            os.chown(w, 1000000000, 1000000000)
            script = os.path.join(tmp, "cc.sh")
            with open(script, "w") as f:
                f.write("#!/bin/sh\ncat > /w/cc.state\nreadlink /proc/self/ns/mnt > /w/cc.mnt\n")
            os.chmod(script, 0o755)
            for stage, hook in (("createContainer", {"path": script}),
                                ("startContainer", {"path": "/bin/sh", "args": ["sh", "-c", "cat > /w/sc.state"]})):
                with open(os.path.join(hooks, stage + ".json"), "w") as f:
                    json.dump({"version": "1.0.0", "hook": hook, "when": {"always": True}, "stages": [stage]}, f)
            n = "sbx-test-hooks-%d" % os.getpid()
            args = self.run_args("/bin/sh", "-c", "readlink /proc/self/ns/mnt; cat /w/sc.state", name=n)
            args[1:1] = ["-v", w + ":/w"]
            p = self.podman("--hooks-dir", hooks, *args)
            self.assertEqual(p.returncode, 0, p.stderr)
            mnt, state = p.stdout.split("\n", 1)
            with open(os.path.join(w, "cc.mnt")) as f:
                self.assertEqual(f.read().strip(), mnt)
            for name, status in (("cc.state", "creating"), ("sc.state", "created")):
                with open(os.path.join(w, name)) as f:
                    st = json.load(f)
                self.assertEqual((st["status"], st["pid"]), (status, 1), name)
            self.assertEqual(json.loads(state)["id"], st["id"])
        finally:
            shutil.rmtree(tmp)

CTR_TOOLS = ["containerd", "ctr", "containerd-shim-runc-v2", "umoci", "skopeo", "busybox"]


@unittest.skipUnless(all(shutil.which(t) for t in CTR_TOOLS),
                     "needs %s (apt-get install containerd umoci skopeo busybox-static)" % ", ".join(CTR_TOOLS))
class Containerd(unittest.TestCase):
    """A private containerd (its own root, state, socket and config), an image
    imported from an OCI archive, `ctr run --runc-binary build/sbx`: the runc
    v2 shim calls sbx as it calls runc for Kubernetes."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sbx-oci-ctr-")
        cls.ns = "sbxtest%d" % os.getpid()
        cls.run_existed = os.path.exists("/run/containerd")
        d = cls.dir
        try:
            cls.make_image()
            with open(d + "/containerd.log", "w") as log:  # the daemon has its own copy
                cls.daemon = subprocess.Popen(
                    ["containerd", "--root", d + "/R", "--state", d + "/S", "--address", d + "/c.sock",
                     "--config", "/dev/null"], stdout=subprocess.DEVNULL, stderr=log)
            for _ in range(100):
                if cls.ctr("version").returncode == 0:
                    break
                time.sleep(0.1)
            # Not unpacked at import: containerd 1.6's `ctr images import
            # --index-name` unpacks through the archive's index, which the
            # image record does not keep, so the committed snapshot is not
            # labelled on the image's config, nothing holds it once the
            # import's lease ends, and the garbage collector drops it at
            # some point: `ctr run` then failed at random with "parent
            # snapshot ... does not exist" (3 of 15 runs of this class).
            # Unpacked by a container create instead, through the image
            # record, the config gets containerd.io/gc.ref.snapshot.* and
            # the snapshot stays; the container, never started (no runtime
            # is called for it), holds it too.
            p = cls.ctr("images", "import", "--no-unpack", "--index-name", "sbxtest:v1", d + "/img.tar")
            if cls.ctr("images", "ls", "-q").stdout.split() != ["sbxtest:v1"]:
                raise AssertionError("image import failed: %s" % p.stderr)
            p = cls.ctr("containers", "create", "sbxtest:v1", "sbxtest-anchor")
            if p.returncode != 0:
                raise AssertionError("creating the anchor container: %s" % p.stderr)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def make_image(cls):
        """A busybox image, as an OCI archive (umoci, skopeo)."""
        d = cls.dir
        run = lambda *a: subprocess.run(a, cwd=d, check=True, capture_output=True)
        run("umoci", "init", "--layout", "img")
        run("umoci", "new", "--image", "img:latest")
        run("umoci", "unpack", "--rootless", "--image", "img:latest", "b")
        r = os.path.join(d, "b", "rootfs")
        for sub in ("bin", "proc", "dev", "tmp", "sys", "etc"):
            os.makedirs(os.path.join(r, sub), exist_ok=True)
        shutil.copy(shutil.which("busybox"), os.path.join(r, "bin", "busybox"))
        for tool in ("sh", "sleep", "echo", "cat", "readlink", "hostname"):
            os.symlink("busybox", os.path.join(r, "bin", tool))
        run("umoci", "repack", "--image", "img:latest", "b")
        run("umoci", "config", "--image", "img:latest", "--config.cmd", "/bin/sh")
        run("skopeo", "copy", "oci:img:latest", "oci-archive:img.tar:sbxtest:v1")

    @classmethod
    def ctr(cls, *args, timeout=60):
        return subprocess.run(["ctr", "-a", cls.dir + "/c.sock", "-n", cls.ns] + list(args), capture_output=True,
                              text=True, timeout=timeout)

    @classmethod
    def tearDownClass(cls):
        d = cls.dir
        daemon = getattr(cls, "daemon", None)
        if daemon is not None:
            for t in cls.ctr("tasks", "ls", "-q").stdout.split():
                cls.ctr("tasks", "delete", "-f", t)
            for c in cls.ctr("containers", "ls", "-q").stdout.split():
                cls.ctr("containers", "delete", c)
            daemon.terminate()
            try:
                daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        # containerd's snapshot and shim mounts under its root.
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f if d in line.split()[4]]
        for m in sorted(mounts, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
        # The shim's runc root (--root /run/containerd/runc/NAMESPACE) and
        # ctr's fifo directories.
        shutil.rmtree("/run/containerd/runc/" + cls.ns, ignore_errors=True)
        if not cls.run_existed:
            shutil.rmtree("/run/containerd", ignore_errors=True)

    def status(self, cid):
        for line in self.ctr("tasks", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if f[0] == cid:
                return f[2]
        return None

    def test_run_exit_code_and_output(self):
        p = self.ctr("run", "--rm", "--runc-binary", SBX, "sbxtest:v1", "c1", "/bin/sh", "-c", "echo hi; exit 5")
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertEqual(p.stdout, "hi\n")
        self.assertEqual(os.listdir("/run/containerd/runc/" + self.ns), [".lock"])

    def test_sigterm_ignored_then_kill_and_force_delete(self):
        p = self.ctr("run", "-d", "--runc-binary", SBX, "sbxtest:v1", "c2", "/bin/sh", "-c",
                     "trap '' TERM; while :; do sleep 0.05; done")
        self.assertEqual(p.returncode, 0, p.stderr)
        time.sleep(0.3)
        self.assertEqual(self.status("c2"), "RUNNING")
        self.assertEqual(self.ctr("tasks", "kill", "c2").returncode, 0)
        time.sleep(0.5)
        self.assertEqual(self.status("c2"), "RUNNING")
        self.assertEqual(self.ctr("tasks", "kill", "-s", "SIGKILL", "c2").returncode, 0)
        for _ in range(100):
            if self.status("c2") == "STOPPED":
                break
            time.sleep(0.05)
        self.assertEqual(self.status("c2"), "STOPPED")
        p = self.ctr("tasks", "delete", "c2")
        self.assertIn("137", p.stdout + p.stderr)
        self.ctr("containers", "delete", "c2")
        p = self.ctr("run", "-d", "--runc-binary", SBX, "sbxtest:v1", "c3", "/bin/sh", "-c",
                     "while :; do sleep 0.05; done")
        self.assertEqual(p.returncode, 0, p.stderr)
        time.sleep(0.3)
        self.assertEqual(self.ctr("tasks", "delete", "-f", "c3").returncode, 0)
        self.assertIsNone(self.status("c3"))
        self.ctr("containers", "delete", "c3")
        self.assertEqual(os.listdir("/run/containerd/runc/" + self.ns), [".lock"])


    def test_pod_members_join_the_pause_containers_ipc_and_uts(self):
        """The CRI's pod: `--with-ns ipc:/proc/PID/ns/ipc` (and uts), PID
        being the pause container's task pid as the shim reports it."""
        p = self.ctr("run", "-d", "--runc-binary", SBX, "sbxtest:v1", "pause1", "/bin/sh", "-c",
                     "while :; do sleep 0.05; done")
        self.assertEqual(p.returncode, 0, p.stderr)
        pid = next(int(line.split()[1]) for line in self.ctr("tasks", "ls").stdout.splitlines()[1:]
                   if line.split()[0] == "pause1")
        want = [os.readlink("/proc/%d/ns/%s" % (pid, n)) for n in ("ipc", "uts")]
        self.assertNotEqual(want, [os.readlink("/proc/self/ns/%s" % n) for n in ("ipc", "uts")])
        hostname = subprocess.run(["nsenter", "--uts=/proc/%d/ns/uts" % pid, "hostname"], capture_output=True,
                                  text=True, check=True).stdout.strip()
        p = self.ctr("run", "--rm", "--runc-binary", SBX, "--with-ns", "ipc:/proc/%d/ns/ipc" % pid,
                     "--with-ns", "uts:/proc/%d/ns/uts" % pid, "sbxtest:v1", "member1", "/bin/sh", "-c",
                     "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), want + [hostname], p.stderr)
        self.assertEqual(self.ctr("tasks", "delete", "-f", "pause1").returncode, 0)
        self.ctr("containers", "delete", "pause1")
        self.assertEqual(os.listdir("/run/containerd/runc/" + self.ns), [".lock"])

if __name__ == "__main__":
    unittest.main()
