"""Protocol conformance with jupyter_kernel_test, stock ipykernel's samples.

The same samples run against stock ipykernel (``python3``) in the same
session, so a regression shows as a difference between the two classes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import jupyter_kernel_test as jkt
import pytest


@pytest.fixture(scope="module", autouse=True)
def _own_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The history tests search every session's inputs: the kernels here get
    an IPython directory of their own, not the user's accumulated history."""
    old = os.environ.get("IPYTHONDIR")
    os.environ["IPYTHONDIR"] = str(tmp_path_factory.mktemp("ipython"))
    yield
    if old is None:
        del os.environ["IPYTHONDIR"]
    else:
        os.environ["IPYTHONDIR"] = old


class _IPythonSamples(jkt.KernelTests):
    __test__ = False
    language_name = "python"
    file_extension = ".py"
    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ['print("hello', "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]
    code_page_something = "zip?"
    code_generate_error = "raise"
    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
    ]
    code_display_data = [
        {"code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
         "mime": "text/html"},
        {"code": "from IPython.display import Math, display; display(Math('\\frac{1}{2}'))",
         "mime": "text/latex"},
    ]
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "search")
    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"


class TestReactiveConformance(_IPythonSamples):
    __test__ = True
    kernel_name = "reactive"


class TestStockIPyKernelConformance(_IPythonSamples):
    __test__ = True
    kernel_name = "python3"
