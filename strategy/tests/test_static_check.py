"""Each rule of the static check: one source it must flag, one it must not."""
import textwrap
import unittest

import _paths  # noqa: F401
from sbx_runner.static_check import RULES, check_source


def rules(src):
    return [f.rule for f in check_source(textwrap.dedent(src))]


class RuleCases(unittest.TestCase):
    def flags(self, rule, src):
        self.assertIn(rule, rules(src), src)

    def passes(self, rule, src):
        self.assertNotIn(rule, rules(src), src)

    def test_syntax_error(self):
        self.flags("syntax-error", "x = (\n")
        self.passes("syntax-error", "x = (1,\n 2)\n")

    def test_import_disallowed(self):
        for src in ("import os", "import os.path", "import sys as s",
                    "from subprocess import run", "import socket",
                    "import ctypes", "import importlib.util",
                    "from multiprocessing.connection import Client",
                    "import shutil", "from pathlib import Path",
                    "from pandas.io.common import os", "from . import x",
                    "import builtins", "from io import open"):
            self.flags("import-disallowed", src)
        for src in ("import numpy as np", "import pandas as pd",
                    "from math import sqrt", "import collections.abc",
                    "from pandas import DataFrame", "import statistics"):
            self.passes("import-disallowed", src)

    def test_call_disallowed(self):
        for src in ("eval('1')", "exec('x = 1')", "compile('1', 'f', 'eval')",
                    "globals()", "breakpoint()", "vars()"):
            self.flags("call-disallowed", src)
        self.flags("call-disallowed", "__import__('os')")
        for src in ("max(1, 2)", "df.eval('a + b')", "sorted([2, 1])"):
            self.passes("call-disallowed", src)

    def test_getattr_dunder(self):
        for src in ("getattr(x, '__class__')", "getattr(x, name)",
                    "setattr(x, '__dict__', 1)", "getattr(x, '_private')",
                    "hasattr(x, '__globals__')"):
            self.flags("getattr-dunder", src)
        self.passes("getattr-dunder", "getattr(close, 'mean')()")

    def test_dunder_attribute(self):
        for src in ("().__class__.__bases__[0].__subclasses__()",
                    "f.__globals__", "x.__dict__", "m.__builtins__"):
            self.flags("dunder-attribute", src)
        self.passes("dunder-attribute", "print(f.__name__, close.mean())")

    def test_attribute_disallowed(self):
        for src in ("e = pd.io.common.os.environ", "np.ctypeslib.as_array(x)",
                    "x.system('id')", "f = pd.io.common.urlopen"):
            self.flags("attribute-disallowed", src)
        for src in ("close.rolling(20).mean()", "df.dtypes",
                    "pd.api.types.is_bool_dtype(x)", "d.osc", "x.systems"):
            self.passes("attribute-disallowed", src)

    def test_format_dunder(self):
        for src in ("'{0.__class__}'.format(x)", "f = '{x._secret}'",
                    "'{0[_k]}'.format(d)"):
            self.flags("format-dunder", src)
        for src in ("'{0:.2f}'.format(x)", "'{name}_{i}'.format(name=n, i=1)",
                    "f'{x.mean():.3f}'", "'a_b {}'.format(1)"):
            self.passes("format-dunder", src)

    def test_dunder_name(self):
        self.flags("dunder-name", "b = __builtins__")
        self.flags("dunder-name", "print(__loader__)")
        self.passes("dunder-name", "if __name__ == '__strategy__': pass")

    def test_open_path(self):
        for src in ("open('/etc/passwd')", "open(path)", "open('x.csv')",
                    "open('/data/../etc/shadow')", "open('/database')",
                    "open(file='/proc/self/environ')"):
            self.flags("open-path", src)
        for src in ("open('/data/EuStockMarkets.csv')",
                    "open('/out/notes.txt', 'w')", "open('/data')"):
            self.passes("open-path", src)

    def test_path_outside_data(self):
        for src in ("pd.read_csv('/etc/passwd')",
                    "pd.read_csv(filepath_or_buffer='/proc/self/environ')",
                    "np.loadtxt('/root/.ssh/id_rsa')"):
            self.flags("path-outside-data", src)
        for src in ("pd.read_csv('/data/EuStockMarkets.csv')",
                    "df.to_csv('/out/x.csv')", "s.split('/')",
                    "x = '/etc/passwd'"):
            self.passes("path-outside-data", src)

    def test_url_literal(self):
        for src in ("pd.read_csv('http://example.com/x.csv')",
                    "pd.read_json('https://api.example.com/q')",
                    "pd.read_csv('file:///etc/passwd')"):
            self.flags("url-literal", src)
        for src in ("print('a://b is not a url ' * 0)",
                    "s.replace('http', 'x')"):
            self.passes("url-literal", src)

    def test_every_rule_is_tested(self):
        tested = {n[len("test_"):].replace("_", "-") for n in dir(self)
                  if n.startswith("test_")}
        self.assertEqual(set(RULES) - tested, set())


class FindingShape(unittest.TestCase):
    def test_line_and_column(self):
        src = "import numpy as np\nx = 1\n  \nclose = eval('2')\nimport os\n"
        found = [(f.line, f.col, f.rule) for f in check_source(src)]
        self.assertEqual(found, [(4, 9, "call-disallowed"),
                                 (5, 1, "import-disallowed")])

    def test_syntax_error_position(self):
        [f] = check_source("x = 1\ny = (2 +\n")
        self.assertEqual(f.rule, "syntax-error")
        self.assertEqual(f.line, 2)

    def test_examples_pass(self):
        import os
        for name in _paths.EXAMPLE_STRATEGIES:
            path = os.path.join(_paths.EXAMPLES, name)
            with open(path) as f:
                self.assertEqual(check_source(f.read()), [], path)


if __name__ == "__main__":
    unittest.main()
