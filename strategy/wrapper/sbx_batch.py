"""Many strategies at once: SandboxExecutionWrapper.run_many.

Each run is an sbx process, so threads are enough on one machine (the
default executor).  Any concurrent.futures.Executor works in its place —
dask.distributed's `Client.get_executor()` spreads the runs over a cluster
whose workers have sbx, the rootfs and the data at the configured paths.
"""

import concurrent.futures as cf
import os


def default_workers():
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _lost(exc, result_cls):
    """A run whose executor failed it (a dask worker died, the task could
    not be sent...): a sandbox_error like any other, never an exception
    that would lose the rest of the batch."""
    return result_cls(status="sandbox_error", error={
        "type": "ExecutorError",
        "message": "executor: %s: %s" % (type(exc).__name__, exc)})


def run_many(run, result_cls, sources, workers=None, executor=None,
             progress=None, **run_kw):
    """Run every source through run (a wrapper's bound run method); the
    results (result_cls) in input order.

    workers: at most this many runs at a time (default: the number of
    CPUs with the built-in thread pool; with an executor, as many as it
    takes).  progress: called as progress(index, result) as each run ends,
    in the calling thread; its start(total) and finish() are called too
    when it has them (sbx_progress.Progress).  run_kw: run()'s data_dir
    and limits, the same for every source."""
    sources = list(sources)
    for i, s in enumerate(sources):
        if not isinstance(s, str):
            raise TypeError("sources[%d] is %s, not the source text (str)"
                            % (i, type(s).__name__))
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError("workers must be a positive integer")
    total = len(sources)
    results = [None] * total
    own = None
    if executor is None:
        workers = workers or default_workers()
        own = executor = cf.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="sbx-run")
    # With an executor of unknown size, hand it everything; with a worker
    # count, keep only that many in flight so that a large batch does not
    # sit in a remote queue and `workers` means the same everywhere.
    window = workers or total
    if hasattr(progress, "start"):
        progress.start(total)
    pending = {}
    nxt = 0
    try:
        while nxt < total or pending:
            while nxt < total and len(pending) < window:
                f = executor.submit(run, sources[nxt], **run_kw)
                pending[f] = nxt
                nxt += 1
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for f in done:
                i = pending.pop(f)
                try:
                    r = f.result()
                except Exception as e:  # noqa: B902 — keep the batch going
                    r = _lost(e, result_cls)
                results[i] = r
                if progress is not None:
                    progress(i, r)
    except BaseException:
        # Ctrl-C or a failing progress callback: start nothing more; the
        # runs already going end at their own timeout, and sbx removes
        # their cgroups.
        for f in pending:
            f.cancel()
        raise
    finally:
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)
        if hasattr(progress, "finish"):
            progress.finish()
    return results
