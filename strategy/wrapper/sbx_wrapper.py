"""Run a strategy's source in an sbx sandbox and get its metrics back.

The research loop's side of sbx (stdlib only; PyYAML only to read a YAML
config file):

    from sbx_wrapper import SandboxExecutionWrapper
    w = SandboxExecutionWrapper.from_yaml("config/learning_system.yaml")
    r = w.run(code, data_dir="strategy/data/eu", timeout=30)
    if r.status == "ok": use(r.metrics)
    else: feed_back(r.status, r.findings or r.error)

    results = w.run_many(sources, workers=4)   # in input order; any
                                               # concurrent.futures executor

From a shell (several at a time, a leaderboard, an HTML report):

    sbx_wrapper.py --config C [--workers N] [--jsonl FILE]
                   [--report-dir DIR] STRATEGY...

`run` never raises for anything the strategy did: every outcome is an
ExecutionResult whose status is one of

    ok            the runner finished; metrics are set
    rejected      the static check refused the code; findings are set
    error         the strategy raised (error = type, message, traceback) or
                  the runner gave no result
    timeout       the wall-clock limit killed the sandbox
    oom           the memory limit killed it
    killed        it died of a signal otherwise
    sandbox_error sbx could not set up or run the sandbox (error says why)

It is safe to call from several threads: each run has its own temporary
directory and sbx process, and the configuration is only read.  sbx is
started with a minimal environment, so nothing of the loop's environment
(API keys...) can reach the sandbox even if a configuration passed it on.
"""

import argparse
import copy
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

import sbx_equity  # beside this file, as are the batch modules

STATUSES = ("ok", "rejected", "error", "timeout", "oom", "killed",
            "sandbox_error")

DEFAULTS = {
    "sbx": "sbx",                       # the sbx binary (PATH or a path)
    "rootfs": None,                     # required
    "python": "/usr/bin/python3",       # inside the rootfs
    "runner": "/opt/sbx-runner/run.py",  # inside the rootfs
    "runner_dir": None,                 # host copy of the runner to use
    "data_dir": None,                   # default data directory (host)
    "network": "none",
    "user": None,                       # UID[:GID] inside (sbx default: 0)
    "seccomp": "default",
    "strategy_via": "stdin",            # stdin | bind
    "limits": {"memory": "512M", "memory_swap": "0", "pids": 128,
               "cpus": 1.0, "timeout": 60, "output": "1M", "out": "16M"},
    "env": {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"},
    "cgroup_parent": None,
    "allow_no_cgroup": False,
    "extra_args": [],                   # more `sbx run` flags, verbatim
    "work_dir": None,                   # parent of per-run temp dirs
    "tail_bytes": 8192,                 # stdout/stderr kept per stream
    "grace_seconds": 30,                # beyond timeout before sbx is killed
    "audit": True,                      # the runner's look-ahead audit
    "pool": None,                       # {size: N, preload: [pandas, numpy]}:
                                        # jobs forked from an `sbx pool` of N
                                        # pre-imported interpreters
}

LIMIT_FLAGS = {"memory": "--memory", "memory_swap": "--memory-swap",
               "pids": "--pids", "cpus": "--cpus", "timeout": "--timeout",
               "output": "--output-limit"}

# Where the sandbox is told to find things; fixed by the runner's contract.
DATA_MOUNT = "/data"
STRATEGY_MOUNT = "/strategy"
DEV_RUNNER_MOUNT = "/sbx-runner"        # where runner_dir is bound

# The only environment sbx itself gets (not the sandbox's: that is `env`).
SBX_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                   "/sbin:/bin", "LANG": "C.UTF-8"}


@dataclass
class ExecutionResult:
    status: str
    metrics: Optional[Dict[str, Any]] = None
    findings: List[Dict[str, Any]] = field(default_factory=list)
    error: Optional[Dict[str, Any]] = None
    report: Optional[Dict[str, Any]] = None     # sbx's JSON report
    result: Optional[Dict[str, Any]] = None     # the runner's result.json
    exit_code: Optional[int] = None             # sbx's exit status
    stdout_tail: str = ""
    stderr_tail: str = ""
    wall_time: float = 0.0                      # seconds, as the loop saw it
    command: List[str] = field(default_factory=list)
    # The run's equity curve from out/equity.csv ({"date", "equity",
    # "drawdown"} lists), when the runner wrote a well-formed one;
    # equity_error says why a file that was there was refused.
    equity: Optional[Dict[str, List[Any]]] = None
    equity_error: Optional[str] = None

    @property
    def ok(self):
        return self.status == "ok"

    @property
    def seccomp_denials(self):
        """[{"syscall", "count"}] from sbx's report: what the seccomp
        filter refused during the run."""
        out = []
        for d in (self.report or {}).get("seccomp_denials") or []:
            if isinstance(d, dict) and isinstance(d.get("syscall"), str):
                out.append({"syscall": d["syscall"],
                            "count": int(d.get("count") or 0)})
        return out

    def summary(self, strategy):
        """The JSON line of the CLI and the batch (DESIGN.md's contract;
        seccomp_denials added)."""
        return {"strategy": strategy, "status": self.status,
                "metrics": self.metrics, "findings": self.findings,
                "error": self.error, "wall_time": round(self.wall_time, 3),
                "seccomp_denials": self.seccomp_denials}

    def to_dict(self):
        return asdict(self)


class ConfigError(ValueError):
    pass


def _merge(base, override):
    out = copy.deepcopy(base)
    for k, v in (override or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_config(path, section="sandbox"):
    """The `sandbox:` section of a YAML (or JSON) file, merged on DEFAULTS."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import yaml
    except ImportError:
        try:
            doc = json.loads(text)
        except ValueError:
            raise ConfigError("%s: reading YAML needs PyYAML (Debian: "
                              "python3-yaml); or pass a dict" % path) from None
    else:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError("%s: %s" % (path, e)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get(section), dict):
        raise ConfigError("%s: no '%s:' mapping" % (path, section))
    return doc[section]


def _tail(path, limit):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return ("[...]" + text) if size > limit else text


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def classify(report, result, exit_code):
    """(status, error) from sbx's report, the runner's result.json and sbx's
    exit status.  Pure, so that each branch can be tested on its own."""
    rstat = (report or {}).get("status")
    if rstat == "setup_error" or (report is None and exit_code == 125):
        msg = (report or {}).get("error") or "sbx could not set up the sandbox"
        return "sandbox_error", {"type": "SandboxError", "message": str(msg)}
    if rstat == "timeout" or (report or {}).get("timed_out") or \
            (report is None and exit_code == 124):
        return "timeout", {"type": "Timeout",
                           "message": "wall-clock limit reached"}
    if rstat == "oom" or (report or {}).get("oom_killed"):
        return "oom", {"type": "OutOfMemory",
                       "message": "memory limit reached"}
    if rstat == "signaled" or (report is None and exit_code is not None
                               and exit_code > 128 and exit_code != 255):
        sig = (report or {}).get("signal")
        if sig is None and exit_code is not None and exit_code > 128:
            sig = exit_code - 128
        return "killed", {"type": "Killed",
                          "message": "killed by signal %s" % sig}
    if report is None:
        return "sandbox_error", {"type": "SandboxError", "message":
                                 "sbx wrote no report (exit %s)" % exit_code}
    code = report.get("exit_code", exit_code)
    expected = {"ok": 0, "error": 1, "rejected": 2}
    if result is not None and result.get("status") in expected:
        st = result["status"]
        if code not in (expected[st], 3 if st == "error" else None):
            # e.g. a crash at interpreter exit after result.json was
            # written: do not pass on metrics the runner did not stand by
            return "error", {"type": "RunnerExit", "message":
                             "result.json says %s but the runner exited %s"
                             % (st, code)}
        return st, result.get("error")
    if code in (126, 127):
        return "sandbox_error", {"type": "SandboxError", "message":
                                 "runner not executable or not found "
                                 "(exit %s)" % code}
    return "error", {"type": "NoResult", "message":
                     "the runner wrote no result.json (exit %s)" % code}


def _cgroup_and_env_args(c):
    """The sbx options a cold run and the pool that serves it share: where
    the cgroups go, and the start-up environment every job's must equal."""
    args = []
    if c["cgroup_parent"]:
        args += ["--cgroup-parent", str(c["cgroup_parent"])]
    if c["allow_no_cgroup"]:
        args += ["--allow-no-cgroup"]
    for k, v in sorted((c["env"] or {}).items()):
        args += ["--env", "%s=%s" % (k, v)]
    return args


def _wait(proc, timeout):
    """proc.wait(timeout) without its polling: Popen.wait with a timeout
    sleeps in steps of up to 50 ms, which would add that much to every
    run.  A pidfd becomes readable the moment the process exits."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return proc.wait(timeout=timeout)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if not poller.poll(max(0, int(timeout * 1000))):
            raise subprocess.TimeoutExpired(proc.args, timeout)
    finally:
        os.close(pidfd)
    return proc.wait()


class SandboxExecutionWrapper:
    def __init__(self, config=None):
        if config is None:
            config = {}
        if not isinstance(config, dict):
            raise ConfigError("config must be a mapping (the sandbox: section)")
        unknown = sorted(set(config) - set(DEFAULTS))
        if unknown:
            raise ConfigError("unknown sandbox keys: %s" % ", ".join(unknown))
        self.config = _merge(DEFAULTS, config)
        if "env" in config:
            # The sandbox's whole environment: what the config says, no
            # defaults mixed in.
            self.config["env"] = dict(config["env"] or {})
        bad = sorted(set(self.config["limits"]) - set(LIMIT_FLAGS)
                     - {"out"})
        if bad:
            raise ConfigError("unknown limits: %s" % ", ".join(bad))
        if not self.config["rootfs"]:
            raise ConfigError("sandbox.rootfs is required")
        if self.config["strategy_via"] not in ("stdin", "bind"):
            raise ConfigError("strategy_via must be stdin or bind")
        pool = self.config["pool"]
        if pool is not None:
            if not isinstance(pool, dict) or set(pool) - {"size", "preload"}:
                raise ConfigError("pool: a mapping with size and preload")
            size, preload = pool.get("size", 2), pool.get("preload") or []
            if not isinstance(size, int) or isinstance(size, bool) \
                    or not 1 <= size <= 64:
                raise ConfigError("pool.size must be an integer 1-64")
            if not isinstance(preload, list) or not all(
                    isinstance(m, str) and m.replace(".", "").replace(
                        "_", "").isalnum() for m in preload):
                raise ConfigError("pool.preload must be a list of modules")
        self._pool = None       # (process, socket path, its directory)
        self._pool_lock = threading.Lock()
        self._borrowed_pool = None  # a pickled copy's: the original's socket

    @classmethod
    def from_yaml(cls, path, section="sandbox"):
        return cls(load_config(path, section))

    # -- the pool (sandbox.pool) --------------------------------------

    def start_pool(self):
        """Start the `sbx pool` the config asks for (run() does it on
        first use); returns its socket, None without sandbox.pool."""
        c = self.config
        if c["pool"] is None:
            return None
        if self._borrowed_pool is not None:
            return self._borrowed_pool
        with self._pool_lock:
            if self._pool is not None and self._pool[0].poll() is None:
                return self._pool[1]
            d = tempfile.mkdtemp(prefix="sbx-pool-", dir=c["work_dir"])
            sock = os.path.join(d, "pool.sock")
            sbx = os.path.abspath(c["sbx"]) if os.sep in c["sbx"] else c["sbx"]
            cmd = [sbx, "pool", "--socket", sock,
                   "--rootfs", os.path.abspath(c["rootfs"]),
                   "--size", str(c["pool"].get("size", 2))]
            cmd += self._pool_preload()
            # The mount points the jobs' binds need, and the interpreters'
            # start-up environment, which every job's must equal.
            for m in (DATA_MOUNT, STRATEGY_MOUNT):
                cmd += ["--mount-point", m]
            cmd += _cgroup_and_env_args(c)
            log_path = os.path.join(d, "pool.log")
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=log,
                                        env=dict(SBX_ENV), close_fds=True,
                                        start_new_session=True)
            self._pool = (proc, sock, d)
            deadline = time.monotonic() + 30
            while not os.path.exists(sock):
                if proc.poll() is not None or time.monotonic() > deadline:
                    msg = _tail(log_path, 2000)
                    self._stop_pool_locked()
                    raise RuntimeError("sbx pool did not start: %s" % msg)
                time.sleep(0.02)
            return sock

    def _pool_preload(self):
        """The zygotes import the runner too (sbx_runner.preload: its
        modules and what its scoring imports lazily), from the runner the
        jobs run: runner_dir, bound by the pool for every job (a job's own
        bind of it would be a second one), or the image's."""
        c = self.config
        if c["runner_dir"]:
            where = DEV_RUNNER_MOUNT
            args = ["--bind", "%s:%s:ro" % (os.path.abspath(c["runner_dir"]),
                                            where)]
        else:
            where = os.path.dirname(c["runner"])
            args = []
        mods = list(c["pool"].get("preload") or []) + ["sbx_runner.preload"]
        return args + ["--preload", ",".join(mods), "--preload-path", where]

    def stop_pool(self):
        """SIGTERM: the pool lets running jobs finish, then removes its
        zygotes, their cgroups and its socket."""
        with self._pool_lock:
            self._stop_pool_locked()

    def _stop_pool_locked(self):
        if self._pool is None:
            return
        proc, _, d = self._pool
        self._pool = None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(d, ignore_errors=True)

    close = stop_pool

    def __getstate__(self):
        """A copy sent to another process (a process pool, dask) uses the
        original's pool, which only the original stops."""
        state = dict(self.__dict__)
        state.pop("_pool_lock", None)
        if self._pool is not None:
            state["_borrowed_pool"] = self._pool[1]
        state["_pool"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._pool_lock = threading.Lock()

    def __enter__(self):
        self.start_pool()
        return self

    def __exit__(self, *exc):
        self.stop_pool()

    def __del__(self):
        try:
            if getattr(self, "_pool", None) is not None:
                self.stop_pool()
        except Exception:  # noqa: B902 - interpreter shutdown
            pass

    # -- the command ---------------------------------------------------

    def _command(self, tmp, data_dir, limits, code_file):
        c = self.config
        sbx = c["sbx"]
        if os.sep in sbx:
            sbx = os.path.abspath(sbx)
        cmd = [sbx, "run"]
        sock = self._pool[1] if self._pool is not None else self._borrowed_pool
        if sock is not None:
            cmd += ["--pool", sock]
        cmd += ["--rootfs", os.path.abspath(c["rootfs"]),
               "--out", "%s:%s" % (os.path.join(tmp, "out"), limits["out"]),
               "--report", os.path.join(tmp, "report.json"),
               "--network", str(c["network"]),
               "--seccomp", str(c["seccomp"]),
               "--bind", "%s:%s:ro" % (os.path.abspath(data_dir), DATA_MOUNT)]
        for key, flag in LIMIT_FLAGS.items():
            if limits.get(key) is not None:
                cmd += [flag, str(limits[key])]
        runner = c["runner"]
        if c["runner_dir"]:
            # A host copy of the runner replaces the image's: bound at a
            # top-level mount point of its own, so that it neither shadows
            # /opt/sbx-runner nor needs a mount point inside an image
            # directory (which the sandbox's root may not be allowed to
            # create there).  A pool binds it for every job (_pool_preload).
            if sock is None:
                cmd += ["--bind", "%s:%s:ro" % (
                    os.path.abspath(c["runner_dir"]), DEV_RUNNER_MOUNT)]
            runner = DEV_RUNNER_MOUNT + "/run.py"
        if c["strategy_via"] == "bind":
            cmd += ["--bind", "%s:%s:ro" % (os.path.dirname(code_file),
                                            STRATEGY_MOUNT)]
        if c["user"] is not None:
            cmd += ["--user", str(c["user"])]
        cmd += _cgroup_and_env_args(c)
        cmd += [str(a) for a in c["extra_args"]]
        src = STRATEGY_MOUNT if c["strategy_via"] == "bind" else "-"
        cmd += ["--", c["python"], runner, src]
        if not c["audit"]:
            cmd += ["--no-audit"]
        return cmd

    @staticmethod
    def _stop(proc):
        """SIGTERM first so that sbx can still remove its cgroup."""
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                return proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return proc.wait()

    # -- many runs -----------------------------------------------------

    def run_many(self, sources, workers=None, executor=None, progress=None,
                 data_dir=None, **limits):
        """run() for each source text, `workers` at a time (default: the
        number of CPUs), on `executor` if given (any
        concurrent.futures.Executor: a dask Client.get_executor() spreads
        them over a cluster).  Returns the ExecutionResults in input
        order; a run its executor lost is a sandbox_error.  progress:
        see sbx_batch.run_many and sbx_progress.Progress."""
        import sbx_batch
        try:
            self.start_pool()  # before copies of self go to other processes
        except Exception:  # noqa: B902 - each run() reports it
            pass
        return sbx_batch.run_many(self.run, ExecutionResult, sources,
                                  workers=workers, executor=executor,
                                  progress=progress, data_dir=data_dir,
                                  **limits)

    # -- one run -------------------------------------------------------

    def run(self, code, data_dir=None, **limits):
        """Run `code` on the CSVs in `data_dir`; limits override the
        config's (memory, memory_swap, pids, cpus, timeout, output, out:
        the size of /out).  Returns an ExecutionResult; raises only for a
        caller's mistake (unknown limit name, code not a string)."""
        if not isinstance(code, str):
            raise TypeError("code must be a str")
        allowed = set(LIMIT_FLAGS) | {"out"}
        unknown = sorted(set(limits) - allowed)
        if unknown:
            raise TypeError("unknown limits: %s" % ", ".join(unknown))
        lim = dict(self.config["limits"])
        lim.update(limits)
        data_dir = data_dir or self.config["data_dir"]

        started = time.monotonic()
        res = ExecutionResult(status="sandbox_error")
        tmp = None
        try:
            if not data_dir or not os.path.isdir(data_dir):
                res.error = {"type": "SandboxError",
                             "message": "data directory %r does not exist"
                             % (data_dir,)}
                return res
            bad = [p for p in (data_dir, self.config["runner_dir"],
                               self.config["work_dir"]) if p and ":" in p]
            if bad:
                # sbx's --bind and --out separate fields with ':'
                res.error = {"type": "SandboxError", "message":
                             "path %r contains ':'" % bad[0]}
                return res
            self.start_pool()
            tmp = tempfile.mkdtemp(prefix="sbx-strategy-",
                                   dir=self.config["work_dir"])
            self._run_in(tmp, code, data_dir, lim, res)
        except Exception as e:  # noqa: B902 — never crash the loop
            res.status = "sandbox_error"
            res.error = {"type": type(e).__name__,
                         "message": "wrapper: %s" % e}
        finally:
            res.wall_time = time.monotonic() - started
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        return res

    def _run_in(self, tmp, code, data_dir, lim, res):
        c = self.config
        os.mkdir(os.path.join(tmp, "out"))
        src_dir = os.path.join(tmp, "src")
        os.mkdir(src_dir)
        code_file = os.path.join(src_dir, "strategy.py")
        with open(code_file, "w", encoding="utf-8") as f:
            f.write(code)
        if c["strategy_via"] == "bind":
            # sbx opens bind sources from inside the sandbox's user
            # namespace, as an unprivileged host uid when run as root: the
            # path must be traversable and the source readable by others.
            # The names under work_dir are random (mkdtemp).
            os.chmod(tmp, 0o711)
            os.chmod(src_dir, 0o755)
            os.chmod(code_file, 0o644)
        cmd = self._command(tmp, data_dir, lim, code_file)
        res.command = cmd
        out_path = os.path.join(tmp, "stdout")
        err_path = os.path.join(tmp, "stderr")
        timeout = float(lim["timeout"]) + float(c["grace_seconds"])

        stdin_src = code_file if c["strategy_via"] == "stdin" else os.devnull
        with open(stdin_src, "rb") as stdin, open(out_path, "wb") as so, \
                open(err_path, "wb") as se:
            try:
                proc = subprocess.Popen(cmd, stdin=stdin, stdout=so,
                                        stderr=se, env=dict(SBX_ENV),
                                        close_fds=True,
                                        start_new_session=True)
            except OSError as e:
                res.error = {"type": "SandboxError",
                             "message": "cannot start %s: %s"
                             % (c["sbx"], e)}
                return
            try:
                res.exit_code = _wait(proc, timeout)
                hung = False
            except subprocess.TimeoutExpired:
                # sbx enforces the timeout itself; still here means sbx is
                # stuck.  Its process group holds only sbx (the sandbox is
                # in its own session and cgroup, which sbx removes).
                hung = True
                res.exit_code = self._stop(proc)

        res.stdout_tail = _tail(out_path, c["tail_bytes"])
        res.stderr_tail = _tail(err_path, c["tail_bytes"])
        res.report = _read_json(os.path.join(tmp, "report.json"))
        res.result = _read_json(os.path.join(tmp, "out", "result.json"))
        res.equity, res.equity_error = sbx_equity.read(
            os.path.join(tmp, "out", "equity.csv"))
        if hung:
            res.status = "sandbox_error"
            res.error = {"type": "SandboxError", "message":
                         "sbx did not exit %ss after the timeout; killed"
                         % c["grace_seconds"]}
            return
        res.status, res.error = classify(res.report, res.result,
                                         res.exit_code)
        if res.result:
            if res.status == "ok":
                res.metrics = res.result.get("metrics")
            res.findings = res.result.get("findings") or []


class _Ordered:
    """The batch's progress callback that also writes each JSON line as
    soon as it and every line before it are done: input order, and a
    long batch's results are not all lost to a crash or a Ctrl-C."""

    def __init__(self, progress, out, names, full):
        self.progress, self.out, self.names = progress, out, names
        self.full, self.ready, self.next = full, {}, 0
        # a bar on the same terminal is wiped before a line is printed
        self.wipe = progress.tty and out.isatty()

    def start(self, total):
        self.progress.start(total)

    def finish(self):
        self.progress.finish()

    def __call__(self, index, result):
        self.ready[index] = result
        while self.next in self.ready:
            r = self.ready.pop(self.next)
            doc = r.summary(self.names[self.next])
            if self.full:
                doc = dict(r.to_dict(), strategy=self.names[self.next])
            if self.wipe:
                self.progress.stream.write("\r\x1b[K")
            self.out.write(json.dumps(doc, sort_keys=True) + "\n")
            self.out.flush()
            self.next += 1
        self.progress(index, result)


def _positive(text):
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def main(argv=None):
    """Run strategy files through the wrapper, several at a time: one JSON
    line per strategy in input order, then the leaderboard."""
    import sbx_batch
    import sbx_leaderboard
    import sbx_progress
    p = argparse.ArgumentParser(
        description="Run strategy files in sbx sandboxes, several at a "
        "time; print one JSON line per strategy (input order), then a "
        "leaderboard.",
        epilog="The JSON lines go to stdout, or to --jsonl FILE; the "
        "leaderboard to stderr, or to stdout when the JSON lines go to a "
        "file.  Progress goes to stderr: a bar on a terminal, plain lines "
        "otherwise.  Exit status: 0 when every strategy ran (status ok), "
        "1 when one did not, 2 for a usage or configuration error.")
    p.add_argument("--config", required=True,
                   help="YAML file with a sandbox: section")
    p.add_argument("--data", help="data directory (default: the config's)")
    p.add_argument("--timeout", type=float, help="seconds, per strategy")
    p.add_argument("--workers", type=_positive,
                   default=sbx_batch.default_workers(),
                   help="strategies at a time (default: the CPUs, %(default)s)")
    p.add_argument("--jsonl", metavar="FILE",
                   help="write the JSON lines to FILE instead of stdout")
    p.add_argument("--report-dir", metavar="DIR",
                   help="write index.html, one chart per strategy and a "
                   "comparison chart there (needs python3-matplotlib)")
    p.add_argument("--full", action="store_true",
                   help="print the whole result, not a summary")
    p.add_argument("strategies", nargs="+", metavar="STRATEGY")
    a = p.parse_args(argv)
    try:
        w = SandboxExecutionWrapper.from_yaml(a.config)
    except (OSError, ConfigError) as e:
        p.error("--config: %s" % e)
    sources = []
    for path in a.strategies:
        try:
            with open(path, encoding="utf-8") as f:
                sources.append(f.read())
        except (OSError, UnicodeDecodeError) as e:
            p.error("reading strategy %s: %s" % (path, e))
    limits = {"timeout": a.timeout} if a.timeout else {}
    out = open(a.jsonl, "w", encoding="utf-8") if a.jsonl else sys.stdout
    try:
        prog = _Ordered(sbx_progress.Progress(sys.stderr, a.strategies),
                        out, a.strategies, a.full)
        results = w.run_many(sources, workers=a.workers, progress=prog,
                             data_dir=a.data, **limits)
    except KeyboardInterrupt:
        # nothing new was started; the runs under way ended at their
        # timeout at the latest, and sbx removed their cgroups
        sys.stderr.write("\nsbx_wrapper: interrupted\n")
        return 130
    finally:
        w.close()  # a configured pool (sandbox.pool) lives as long as the batch
        if a.jsonl:
            out.close()
    board = sys.stdout if a.jsonl else sys.stderr
    board.write("\n" + sbx_leaderboard.format_text(a.strategies, results))
    if a.jsonl:
        board.write("JSON lines: %s\n" % a.jsonl)
    if a.report_dir:
        import sbx_report
        index, warnings = sbx_report.write(a.report_dir, a.strategies,
                                           results)
        for msg in warnings:
            sys.stderr.write("sbx_wrapper: %s\n" % msg)
        board.write("report: %s\n" % index)
    board.flush()
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    # Through the importable module, not __main__: an executor that sends
    # the wrapper to other processes (dask) must find its class by name.
    import sbx_wrapper
    sys.exit(sbx_wrapper.main())
