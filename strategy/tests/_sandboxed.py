"""What the tests that run strategies through build/sbx, as the wrapper
runs them, share: the check that sbx and the test rootfs exist, and the
wrapper's configuration.

SBX_TEST_RUNNER_DIR runs them against another copy of the runner (e.g. an
older commit's strategy/runner, to see a test fail before a fix)."""
import os
import tempfile

import _paths
import sbx_wrapper as sw

SBX = os.path.join(_paths.BUILD, "sbx")
RUNNER_DIR = os.environ.get("SBX_TEST_RUNNER_DIR", _paths.RUNNER_DIR)


def missing():
    if not os.access(SBX, os.X_OK):
        return "%s is missing (make programs)" % SBX
    if not os.access(os.path.join(_paths.ROOTFS, "usr/bin/python3"), os.X_OK):
        return "%s has no python3 (make fixtures)" % _paths.ROOTFS
    return None


def work_dir():
    d = tempfile.mkdtemp(prefix="sbx-strategy-test-")
    os.chmod(d, 0o711)      # traversable, as $TMPDIR is
    return d


def wrapper(work, **config):
    c = {"sbx": SBX, "rootfs": _paths.ROOTFS, "runner_dir": RUNNER_DIR,
         "data_dir": _paths.DATA_EU, "work_dir": work,
         "limits": {"timeout": 60, "memory": "1G"}, "user": "1000:1000"}
    c.update(config)
    return sw.SandboxExecutionWrapper(c)


def describe(r):
    return ("status=%s error=%s findings=%s metrics=%s\nstdout:\n%s\n"
            "stderr:\n%s" % (r.status, r.error, r.findings, r.metrics,
                              r.stdout_tail[-2000:],
                              r.stderr_tail[-2000:]))
