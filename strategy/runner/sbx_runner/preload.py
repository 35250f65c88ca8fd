"""What an `sbx pool` zygote imports for the runner (`sbx pool --preload
sbx_runner.preload --preload-path DIR`, DIR holding sbx_runner; the
wrapper's sandbox.pool does it): the runner's modules, and the parts of
pandas and numpy that its scoring path imports lazily, once per zygote
instead of once per job.

Imported in the zygote, before any job, from the pool's own copy of the
runner: nothing here sees a job's data.  It leaves no state a job could
see but the imported modules: no pandas option is set and no DataFrame
helper installed (main does both in each job), and the files it reads
are written and removed here.  A job still runs main._warm_up on its
own data before the first fork; this makes that cheap.
"""

import os
import tempfile

import numpy as np
import pandas as pd

from . import (audit, backtest, data, execute, finlab_ext,  # noqa: F401
               handover, main, result, scorer, static_check)


def _warm():
    """main._warm_up on a small made-up table, read the way a job reads
    its data (a CSV through data.Data)."""
    dates = pd.date_range("2000-01-03", periods=30, freq="B")
    close = pd.DataFrame(np.linspace(1.0, 2.0, 60).reshape(30, 2),
                         columns=["A", "B"])
    close.insert(0, "date", dates.strftime("%Y-%m-%d"))
    with tempfile.TemporaryDirectory(prefix="sbx-preload-") as d:
        close.to_csv(os.path.join(d, "prices.csv"), index=False)
        loaded = data.Data(d).load_all()
    main._warm_up(loaded, backtest, handover, audit)
    audit.cut_dates(loaded.dates())
    loaded.until(loaded.dates()[15])


_warm()
