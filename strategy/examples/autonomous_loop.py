"""The research loop: generate strategies, run them in sbx sandboxes, keep
the history, generate again from what worked.

    /usr/bin/python3 strategy/examples/autonomous_loop.py \\
        [--config config/learning_system.example.yaml] [--iterations N]

Settings come from the config's `loop:` section (the sandbox from its
`sandbox:` section; docs/strategy.md).  The history is a JSON-lines file,
one line per strategy run (its iteration, id, parent, source and the
wrapper's result), appended as each iteration ends; a second start goes on
from it.  Each iteration prints its best strategy.

The generator is pluggable: any function that takes the history (a list of
those dicts, oldest first) and returns a list of new strategy sources.  The
shipped one, `mutate`, varies the numeric parameters of the best strategies
so far (the examples to begin with) and needs no network.  An LLM client
plugs in at the same place: `generator: mypackage.llm:propose` in the
config (or --generator), where `propose(history)` prompts the model with
the best sources, their metrics and the failures' reasons, and returns the
code it wrote.  Whatever it returns is untrusted and only ever runs in the
sandbox.

This file is the loop, not a strategy: it runs on the host.
"""

import argparse
import ast
import importlib
import json
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "strategy", "wrapper"))

import sbx_leaderboard  # noqa: E402
import sbx_progress  # noqa: E402
import sbx_wrapper  # noqa: E402

LOOP_DEFAULTS = {
    "iterations": 5,
    "population": 6,          # new strategies per iteration
    "parents": 3,             # the best this many are mutated
    "workers": None,          # strategies at a time (default: the CPUs)
    "history": "build/loop/history.jsonl",
    "report_dir": None,       # a report of each iteration's batch there
    "seed": 1,
    "generator": "mutate",    # or "module:function" (e.g. an LLM client)
    "examples": "strategy/examples",
}

# keyword arguments that are costs or accounting, not parameters to tune:
# mutating them would "improve" a strategy by pretending trading is cheaper
FROZEN_KEYWORDS = {"fee_ratio", "periods_per_year"}


def strategy_examples(directory):
    """The example strategies' sources (every .py but this loop)."""
    out = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py") and name != os.path.basename(__file__):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                out.append(f.read())
    return out


def parameters(source):
    """The tunable numeric literals of a source: (line, col, end_col,
    value) for ints >= 2 (windows, counts) and floats other than 0 and 1
    (thresholds), not under a FROZEN_KEYWORDS keyword."""
    tree = ast.parse(source)
    frozen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in FROZEN_KEYWORDS:
            frozen.update(id(n) for n in ast.walk(node.value))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in frozen:
            continue
        v = node.value
        if isinstance(v, bool) or node.lineno != node.end_lineno:
            continue
        if (isinstance(v, int) and v >= 2) or \
                (isinstance(v, float) and math.isfinite(v)
                 and v not in (0.0, 1.0)):
            out.append((node.lineno, node.col_offset, node.end_col_offset, v))
    return sorted(out)


def mutate_source(source, rng, rate=0.7):
    """The source with some of its parameters moved by up to -30 %/+40 %
    (at least one, when it has any); (new source, what changed)."""
    params = parameters(source)
    if not params:
        return source, []
    chosen = [p for p in params if rng.random() < rate] or [rng.choice(params)]
    lines = source.splitlines(keepends=True)
    changes = []
    # right to left, so that earlier columns stay valid
    for line, col, end, v in sorted(chosen, reverse=True):
        f = rng.uniform(0.7, 1.4)
        new = max(2, int(round(v * f))) if isinstance(v, int) \
            else round(v * f, 3)
        if new == v:
            new = v + 1 if isinstance(v, int) else round(v * 1.1, 3)
        text = lines[line - 1]
        lines[line - 1] = text[:col] + repr(new) + text[end:]
        changes.append("%s->%s" % (v, new))
    return "".join(lines), changes[::-1]


def sharpe_of(entry):
    m = entry.get("metrics") if entry.get("status") == "ok" else None
    s = (m or {}).get("sharpe")
    if isinstance(s, bool) or not isinstance(s, (int, float)) or \
            not math.isfinite(s):
        return None
    return float(s)


def mutate(settings):
    """The shipped generator: history -> new sources.  The parents are the
    best `parents` strategies of the history by Sharpe (the examples while
    none has run); each new source is a parent with mutated parameters, a
    comment line saying where it came from, and never one already run."""
    rng = random.Random(settings["seed"])
    examples = strategy_examples(settings["examples"])

    def generate(history):
        seen = {h["source"] for h in history}
        ranked = sorted((h for h in history if sharpe_of(h) is not None),
                        key=lambda h: -sharpe_of(h))
        parents = [(h["id"], _body(h["source"]))
                   for h in ranked[:settings["parents"]]]
        if not parents:
            parents = [("example-%d" % i, s) for i, s in enumerate(examples)]
        out = []
        for attempt in range(settings["population"] * 20):
            if len(out) == settings["population"]:
                break
            pid, body = parents[attempt % len(parents)]
            new, changes = mutate_source(body, rng)
            src = "# from %s: %s\n%s" % (pid, ", ".join(changes) or "as is",
                                         new)
            if src not in seen:
                seen.add(src)
                out.append(src)
        return out

    return generate


def _body(source):
    """A generated source without its provenance comment."""
    if source.startswith("# from "):
        return source.split("\n", 1)[1]
    return source


def load_generator(spec, settings):
    if spec == "mutate":
        return mutate(settings)
    module, _, func = spec.partition(":")
    if not module or not func:
        raise SystemExit("generator must be 'mutate' or 'module:function', "
                         "not %r" % spec)
    return getattr(importlib.import_module(module), func)


def read_history(path):
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        raise SystemExit("%s:%d: not a JSON line" % (path, n))
    except FileNotFoundError:
        pass
    return out


def iteration(n, generator, wrapper, history, settings, out=sys.stdout):
    """One round: generate, run, append to the history; the new entries."""
    sources = generator(list(history))
    if not isinstance(sources, list) or \
            not all(isinstance(s, str) for s in sources):
        raise SystemExit("the generator must return a list of source texts")
    if not sources:
        out.write("iteration %d: the generator has nothing new\n" % n)
        return []
    ids = ["i%d-%02d" % (n, k) for k in range(len(sources))]
    progress = sbx_progress.Progress(sys.stderr, names=ids)
    results = wrapper.run_many(sources, workers=settings["workers"],
                               progress=progress)
    entries = []
    for sid, src, r in zip(ids, sources, results):
        e = r.summary(sid)
        e.update({"iteration": n, "id": sid, "source": src,
                  "parent": src[len("# from "):].split(":", 1)[0]
                  if src.startswith("# from ") else None})
        entries.append(e)
    with open(settings["history"], "a", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e, sort_keys=True) + "\n")
    if settings["report_dir"]:
        import sbx_report
        sbx_report.write(os.path.join(settings["report_dir"],
                                      "iteration-%d" % n), ids, results,
                         title="research loop, iteration %d" % n)
    ranked, failed = sbx_leaderboard.rank(ids, results)
    best = ranked[0] if ranked and ranked[0]["sharpe"] is not None else None
    if best:
        pct = (lambda x: "-" if x is None else "%.1f%%" % (x * 100))
        out.write("iteration %d: best %s  sharpe %.3f  annual %s  max "
                  "drawdown %s  (%d ran, %d failed)\n" % (
                      n, best["name"], best["sharpe"],
                      pct(best["annual_return"]), pct(best["max_drawdown"]),
                      len(ranked), len(failed)))
        src = entries[best["index"]]["source"]
        out.write("    " + src.splitlines()[0] + "\n")
    else:
        out.write("iteration %d: no strategy ran (%d failed)\n"
                  % (n, len(failed)))
    out.flush()
    return entries


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=os.path.join(
        REPO, "config", "learning_system.example.yaml"))
    p.add_argument("--iterations", type=int)
    p.add_argument("--history", help="JSON-lines history file")
    p.add_argument("--generator", help="mutate, or module:function")
    a = p.parse_args(argv)
    try:
        loop = sbx_wrapper.load_config(a.config, "loop")
    except sbx_wrapper.ConfigError:
        loop = {}
    unknown = sorted(set(loop) - set(LOOP_DEFAULTS))
    if unknown:
        raise SystemExit("%s: unknown loop keys: %s"
                         % (a.config, ", ".join(unknown)))
    settings = dict(LOOP_DEFAULTS, **loop)
    for key in ("iterations", "history", "generator"):
        if getattr(a, key) is not None:
            settings[key] = getattr(a, key)
    wrapper = sbx_wrapper.SandboxExecutionWrapper.from_yaml(a.config)
    generator = load_generator(settings["generator"], settings)
    os.makedirs(os.path.dirname(os.path.abspath(settings["history"])),
                exist_ok=True)
    history = read_history(settings["history"])
    start = max((h.get("iteration", 0) for h in history), default=0) + 1
    for n in range(start, start + settings["iterations"]):
        history += iteration(n, generator, wrapper, history, settings)
    best = max((h for h in history if sharpe_of(h) is not None),
               key=sharpe_of, default=None)
    if best:
        print("best so far: %s  sharpe %.3f  (history: %s, %d runs)"
              % (best["id"], sharpe_of(best), settings["history"],
                 len(history)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
