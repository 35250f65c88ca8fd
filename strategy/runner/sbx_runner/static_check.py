"""Static check of a strategy's source, run before anything else.

This is the first layer, not the security boundary: it rejects the obvious
(imports of os/subprocess/socket, eval/exec, dunder tricks, files outside
/data and /out) cheaply and with a precise reason the research loop can feed
back to the model.  Whatever it misses still runs inside the sandbox, which
is where the isolation actually holds.  Only the standard library is used so
that a rejection never pays for importing pandas.
"""

import ast
import posixpath
import re
from dataclasses import dataclass

# Modules (and everything below them) a strategy may not import.  A strategy
# needs pandas/numpy/math; these give access to the process, the file
# system, the network or the interpreter's internals.
DISALLOWED_MODULES = frozenset({
    "os", "posix", "nt", "sys", "subprocess", "socket", "ctypes", "cffi",
    "importlib", "imp", "pkgutil", "runpy", "zipimport", "multiprocessing",
    "concurrent", "threading", "_thread", "signal", "pty", "tty", "termios",
    "fcntl", "resource", "mmap", "select", "selectors", "asyncio",
    "shutil", "pathlib", "glob", "tempfile", "io", "builtins", "gc",
    "inspect", "code", "codeop", "sysconfig", "site", "marshal", "pickle",
    "shelve", "dbm", "sqlite3", "ssl", "http", "urllib", "ftplib", "smtplib",
    "poplib", "imaplib", "telnetlib", "xmlrpc", "socketserver", "webbrowser",
    "requests", "urllib3", "platform", "getpass", "pwd", "grp", "syslog",
    "faulthandler", "tracemalloc", "atexit", "weakref", "types", "dis",
})

# Built-in callables that run or reach code by name.
DISALLOWED_CALLS = frozenset({
    "eval", "exec", "compile", "__import__", "globals", "locals", "vars",
    "breakpoint", "input", "help", "memoryview",
})

# getattr & co. turn a string into attribute access; only plain, non-dunder
# literal names are accepted.
ATTR_FUNCS = frozenset({"getattr", "setattr", "delattr", "hasattr"})

# Dunder names harmless enough to allow.
ALLOWED_DUNDERS = frozenset({"__name__", "__doc__", "__init__", "__len__"})

# Attribute names that lead to the same places as the modules above when a
# library re-exports them (`pd.io.common.os.environ`).  Kept short: a name
# here is refused on every object.
DISALLOWED_ATTRIBUTES = frozenset({
    "os", "sys", "subprocess", "socket", "ctypes", "ctypeslib", "importlib",
    "builtins", "shutil", "pathlib", "posix", "_posixsubprocess", "environ",
    "system", "popen", "urlopen",
})

# A format field that reaches an attribute or item starting with "_":
# "{0.__class__}".format(x) walks objects like x.__class__ does.
_FORMAT_UNDERSCORE = re.compile(r"\{[^{}]*?(\.|\[)_")

ALLOWED_PATH_ROOTS = ("/data", "/out")

RULES = {
    "syntax-error": "the source does not parse",
    "import-disallowed": "import of a module that reaches the process, files or network",
    "call-disallowed": "call of a builtin that runs code or exposes the interpreter",
    "getattr-dunder": "getattr/setattr/delattr/hasattr with a dunder or computed name",
    "dunder-attribute": "access to a dunder attribute (__class__, __globals__, ...)",
    "attribute-disallowed": "attribute that re-exports a disallowed module (x.os, x.environ)",
    "format-dunder": "format string reaching an underscore attribute ('{0.__class__}')",
    "dunder-name": "use of a dunder name (__builtins__, __loader__, ...)",
    "open-path": "open() of a path that is not a literal under /data or /out",
    "path-outside-data": "absolute path literal outside /data and /out passed to a call",
    "url-literal": "URL literal passed to a call (no network in the sandbox)",
}


@dataclass(frozen=True)
class Finding:
    line: int
    col: int
    rule: str
    message: str

    def to_dict(self):
        return {"line": self.line, "col": self.col, "rule": self.rule,
                "message": self.message}


def _is_dunder(name):
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _module_disallowed(dotted):
    parts = dotted.split(".")
    return any(".".join(parts[:i]) in DISALLOWED_MODULES
               for i in range(1, len(parts) + 1))


def _path_allowed(path):
    if not path.startswith("/"):
        return False
    norm = posixpath.normpath(path)
    # normpath keeps a leading "//"; treat it like "/".
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return any(norm == root or norm.startswith(root + "/")
               for root in ALLOWED_PATH_ROOTS)


def _looks_like_path(s):
    return (len(s) > 1 and s.startswith("/") and not s.startswith("//")
            and "\n" not in s and " " not in s)


def _looks_like_url(s):
    head = s.strip().lower()
    return "://" in head[:16] and head.split("://", 1)[0].isalpha()


class _Checker(ast.NodeVisitor):
    def __init__(self):
        self.findings = []

    def add(self, node, rule, message):
        self.findings.append(Finding(node.lineno, node.col_offset + 1, rule,
                                     message))

    def visit_Import(self, node):
        for alias in node.names:
            if _module_disallowed(alias.name):
                self.add(node, "import-disallowed",
                         "import of '%s' is not allowed" % alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        mod = node.module or ""
        if node.level:
            self.add(node, "import-disallowed",
                     "relative import is not allowed")
        elif _module_disallowed(mod):
            self.add(node, "import-disallowed",
                     "import from '%s' is not allowed" % mod)
        else:
            # "from os import path" is caught above; this catches
            # "from pandas.io.common import os"-style re-exports.
            for alias in node.names:
                if _module_disallowed(alias.name):
                    self.add(node, "import-disallowed",
                             "import of '%s' from '%s' is not allowed"
                             % (alias.name, mod))
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if _is_dunder(node.attr) and node.attr not in ALLOWED_DUNDERS:
            self.add(node, "dunder-attribute",
                     "access to attribute '%s' is not allowed" % node.attr)
        elif node.attr in DISALLOWED_ATTRIBUTES:
            self.add(node, "attribute-disallowed",
                     "access to attribute '%s' is not allowed" % node.attr)
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and _FORMAT_UNDERSCORE.search(
                node.value):
            self.add(node, "format-dunder",
                     "format field reaching an underscore name")

    def visit_Name(self, node):
        if _is_dunder(node.id) and node.id not in ALLOWED_DUNDERS:
            self.add(node, "dunder-name",
                     "use of name '%s' is not allowed" % node.id)
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if name in DISALLOWED_CALLS:
            self.add(node, "call-disallowed",
                     "call of '%s' is not allowed" % name)
        elif name in ATTR_FUNCS:
            self._check_attr_func(node, name)
        elif name == "open":
            self._check_open(node)
        self._check_literal_args(node, skip_first=(name == "open"))
        self.generic_visit(node)

    def _check_attr_func(self, node, name):
        if len(node.args) < 2:
            return
        arg = node.args[1]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            self.add(node, "getattr-dunder",
                     "%s() with a computed attribute name is not allowed"
                     % name)
        elif _is_dunder(arg.value) or arg.value.startswith("_"):
            self.add(node, "getattr-dunder",
                     "%s() of '%s' is not allowed" % (name, arg.value))

    def _check_open(self, node):
        target = node.args[0] if node.args else None
        for kw in node.keywords:
            if kw.arg == "file":
                target = kw.value
        if target is None:
            return
        if not (isinstance(target, ast.Constant)
                and isinstance(target.value, str)):
            self.add(node, "open-path",
                     "open() needs a literal path under /data or /out")
        elif not _path_allowed(target.value):
            self.add(node, "open-path",
                     "open() of '%s' is outside /data and /out"
                     % target.value)

    def _check_literal_args(self, node, skip_first):
        args = list(node.args[1:] if skip_first else node.args)
        args += [kw.value for kw in node.keywords
                 if not (skip_first and kw.arg == "file")]
        for arg in args:
            if not (isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)):
                continue
            s = arg.value
            if _looks_like_url(s):
                self.add(arg, "url-literal",
                         "URL '%s' passed to a call" % s[:80])
            elif _looks_like_path(s) and not _path_allowed(s):
                self.add(arg, "path-outside-data",
                         "path '%s' is outside /data and /out" % s[:80])


def check_source(source, filename="<strategy>"):
    """Return the list of findings for `source` (empty: accepted)."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as e:
        return [Finding(e.lineno or 0, e.offset or 0, "syntax-error",
                        e.msg or "invalid syntax")]
    except ValueError as e:  # e.g. NUL bytes in the source
        return [Finding(0, 0, "syntax-error", str(e))]
    checker = _Checker()
    checker.visit(tree)
    return sorted(checker.findings, key=lambda f: (f.line, f.col, f.rule))
