"""The runner forked from a warm interpreter on the host: no sandbox, no
pool, no client.  bench/pool.py's floor row for a fork server of this
runner — what a pooled job would cost if isolation were free.

    python3 bench/warm_fork.py RUNNER_DIR      (driven by bench/pool.py)

It imports what a pool zygote imports (`sbx_runner.preload` from
RUNNER_DIR, which warms the scoring path), freezes the collector as the
zygote does, and then serves one request per line on stdin: a JSON list,
the runner's arguments.  For each it forks a child that runs the runner's
main() with them (stdout and stderr to /dev/null) and _exits with its
status; it answers one JSON line on stdout: the status, and the CPU time
and page faults of the child and everything it waited for (the
strategy's runs), from getrusage(RUSAGE_CHILDREN).
"""
import gc
import json
import os
import resource
import sys


def main():
    runner = os.path.abspath(sys.argv[1])
    sys.path.insert(0, runner)
    import sbx_runner.preload  # noqa: F401 — the zygote's preload
    from sbx_runner import main as runner_main
    sys.path.remove(runner)
    gc.freeze()
    for line in sys.stdin:
        argv = json.loads(line)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            code = 70
            try:
                code = runner_main.main(argv)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(json.dumps({
            "status": os.waitstatus_to_exitcode(status),
            "cpu_ms": 1000 * (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime),
            "sys_ms": 1000 * (after.ru_stime - before.ru_stime),
            "minflt": after.ru_minflt - before.ru_minflt}), flush=True)


if __name__ == "__main__":
    main()
