"""The workloads and the runners of the benchmark, as argument vectors.

Every runner gets the same workload argv (absolute paths, so no runner
searches PATH) and the same read-only binds.  docs/benchmarks.md describes
each runner's exact configuration; keep the two in step.
"""
import os

PY = "/usr/bin/python3"          # Debian's interpreter, the one with pandas
NOBODY = 65534                   # rootless runs: an unprivileged uid with no cgroup
# Marks a rootless runner's argv.  It is never run in front of each run:
# hyperfine itself runs as NOBODY for those (measure.hyperfine_rounds'
# as_user), bench/spawn switches the uid itself.
SETPRIV = ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"]
# Makes sbx find no cgroup parent as root, so --allow-no-cgroup runs it without
# one: the closest sbx comes today to "no cgroup layer" as root.
NO_SUCH_CGROUP = "/sbx-bench-no-such-cgroup"


class Workload:
    def __init__(self, key, title, argv, binds=(), host_argv=None, chroot=True, heavy=False):
        self.key = key
        self.title = title
        self.argv = list(argv)              # inside the sandbox
        self.binds = list(binds)            # (host source, target), read-only
        self.host_argv = host_argv or self.argv   # the bare run on the host
        self.chroot = chroot                # a bare chroot run is possible
        self.heavy = heavy                  # seconds per run, not milliseconds


def workloads(repo, work):
    """The four workloads.  The strategy's binds use mount points that exist
    in the test rootfs (/srv, /media, /mnt) so that no runner has to create
    one (crun and runc would create it in the host's rootfs directory) and
    sbx does not need its overlay root; its result goes to /tmp, a tmpfs in
    every runner."""
    runner = os.path.join(repo, "strategy/runner")
    examples = os.path.join(repo, "strategy/examples")
    data = os.path.join(repo, "strategy/data/eu")
    bare_out = os.path.join(work, "out-bare")
    return [
        Workload("true", "/bin/true", ["/bin/true"], chroot=False),
        Workload("pass", "python3 -c pass", [PY, "-c", "pass"]),
        Workload("pandas", "python3 -c 'import pandas'", [PY, "-c", "import pandas"],
                 heavy=True),
        Workload("strategy", "strategy ma_trend.py",
                 [PY, "/srv/run.py", "/media/ma_trend.py", "--data", "/mnt", "--out", "/tmp"],
                 binds=[(runner, "/srv"), (examples, "/media"), (data, "/mnt")],
                 host_argv=[PY, os.path.join(runner, "run.py"),
                            os.path.join(examples, "ma_trend.py"),
                            "--data", data, "--out", bare_out],
                 chroot=False, heavy=True),
    ]


class Runner:
    """key: stable id; label: table row; kind: what it is compared with
    (root / rootless decide which bwrap a row is put next to); layer: for the
    'sbx minus one layer' rows, the layer removed."""

    def __init__(self, key, label, short, kind, build, layer=None, variant=False, only=None):
        self.key = key
        self.label = label
        self.short = short          # for charts
        self.kind = kind
        self.build = build          # (Workload, Env) -> argv, or None
        self.layer = layer
        self.variant = variant      # a layer-removal row (skipped in QUICK for heavy workloads)
        self.only = only            # workload keys it applies to, None = all


class Env:
    """Paths the commands need."""

    def __init__(self, repo, sbx, rootfs, work):
        self.repo = repo
        self.sbx = sbx
        self.rootfs = rootfs
        self.work = work
        self.crun_state = os.path.join(work, "crun-state")
        self.runc_state = os.path.join(work, "runc-state")


def container_id(runtime, wkey, loop=0):
    """Also runc's cgroup name.  loop may be the placeholder "{loop}"."""
    return "sbx-bench-%s-%s-%s" % (runtime, wkey, loop)


def bundle_dir(env, runtime, wkey, loop=0):
    return os.path.join(env.work, "bundles", "%s-%s-%s" % (runtime, wkey, loop))


def _sbx(extra, rootless=False):
    def build(w, e):
        argv = (SETPRIV if rootless else []) + [e.sbx, "run", "--rootfs", e.rootfs]
        if rootless:
            argv.append("--allow-no-cgroup")
        for src, dst in w.binds:
            argv += ["--bind", "%s:%s:ro" % (src, dst)]
        return argv + extra + ["--"] + w.argv
    return build


def _sbx_wrapper_style(w, e):
    """The strategy as strategy/wrapper runs it: /out copied back, binds at
    /sbx-runner, /data and /strategy (missing in the test rootfs, so sbx lays
    a tmpfs overlay over the root to create them)."""
    runner, examples, data = (src for src, _ in w.binds)
    return [e.sbx, "run", "--rootfs", e.rootfs, "--out", os.path.join(e.work, "out-sbx"),
            "--bind", runner + ":/sbx-runner:ro", "--bind", data + ":/data:ro",
            "--bind", examples + ":/strategy:ro", "--",
            PY, "/sbx-runner/run.py", "/strategy/ma_trend.py"]


def _bwrap(rootless):
    def build(w, e):
        argv = (SETPRIV if rootless else []) + [
            "bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", e.rootfs, "/",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for src, dst in w.binds:
            argv += ["--ro-bind", src, dst]
        return argv + w.argv
    return build


def _crun(w, e, loop=0):
    return ["crun", "--root", e.crun_state, "--cgroup-manager=disabled", "run",
            "--bundle", bundle_dir(e, "crun", w.key, loop), container_id("crun", w.key, loop)]


def _runc(w, e, loop=0):
    return ["runc", "--root", e.runc_state, "run",
            "--bundle", bundle_dir(e, "runc", w.key, loop), container_id("runc", w.key, loop)]


# podman's default rlimits exceed the development machines' hard limits
# (docs/oci.md); the same for every runtime.
PODMAN_ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]


def _podman(runtime):
    """podman with an OCI runtime, the rootfs directory as is (no image
    store): what a client pays on top of the runtime."""
    def build(w, e):
        rt = e.sbx if runtime == "sbx" else runtime
        # crun refuses cgroups on hybrid hosts: without, as the crun row.
        nocg = ["--cgroups=disabled"] if runtime.endswith("crun") else []
        return ["podman", "--runtime", rt, "run", "--rm", "--network", "none"] + nocg + PODMAN_ULIMITS + [
            "--rootfs", e.rootfs] + w.argv
    return build


RUNNERS = [
    Runner("bare", "bare fork+exec (host)", "bare", "bare", lambda w, e: list(w.host_argv)),
    Runner("chroot", "bare chroot into the rootfs", "chroot", "bare",
           lambda w, e: ["chroot", e.rootfs] + w.argv if w.chroot else None),
    Runner("sbx", "sbx root, every layer", "sbx", "root", _sbx([])),
    Runner("sbx-net", "sbx root − net namespace", "sbx −net", "root",
           _sbx(["--network", "host"]), layer="net namespace", variant=True),
    Runner("sbx-seccomp", "sbx root − seccomp", "sbx −seccomp", "root",
           _sbx(["--seccomp", "unconfined"]), layer="seccomp", variant=True),
    Runner("sbx-cgroup", "sbx root − cgroup", "sbx −cgroup", "root",
           _sbx(["--cgroup-parent", NO_SUCH_CGROUP, "--allow-no-cgroup"]),
           layer="cgroup", variant=True),
    Runner("sbx-wrapper", "sbx root, as the strategy wrapper runs it", "sbx wrapper-style",
           "root", _sbx_wrapper_style, variant=True, only={"strategy"}),
    Runner("sbx-rl", "sbx rootless, every layer (no cgroup here)", "sbx rootless", "rootless",
           _sbx([], rootless=True)),
    Runner("sbx-rl-net", "sbx rootless − net namespace", "sbx rootless −net", "rootless",
           _sbx(["--network", "host"], rootless=True), layer="net namespace", variant=True),
    Runner("sbx-rl-seccomp", "sbx rootless − seccomp", "sbx rootless −seccomp", "rootless",
           _sbx(["--seccomp", "unconfined"], rootless=True), layer="seccomp", variant=True),
    Runner("bwrap", "bubblewrap root", "bwrap", "peer-root", _bwrap(False)),
    Runner("bwrap-rl", "bubblewrap rootless", "bwrap rootless", "peer-rootless", _bwrap(True)),
    Runner("crun", "crun (root, no cgroup)", "crun", "peer-root", _crun),
    Runner("runc", "runc (root, cgroup v1)", "runc", "peer-root", _runc),
    Runner("podman-sbx", "podman --runtime sbx (OCI mode)", "podman+sbx", "peer-root", _podman("sbx"),
           only={"true"}),
    Runner("podman-crun", "podman --runtime crun (no cgroup)", "podman+crun", "peer-root", _podman("/usr/bin/crun"),
           only={"true"}),
]

# Which sbx row a layer row is compared with.
LAYER_BASE = {"root": "sbx", "rootless": "sbx-rl"}


def by_key(key):
    for r in RUNNERS:
        if r.key == key:
            return r
    raise KeyError(key)


def applies(runner, w, quick):
    if runner.only is not None and w.key not in runner.only:
        return False
    if quick and w.heavy and runner.variant:
        return False
    return True
