"""The re-run compiler cache, on IPython's own CachingCompiler (no kernel)."""

from __future__ import annotations

import ast
import linecache

from IPython.core.compilerop import CachingCompiler

from reactive_kernel._compat.compiling import CachingCompilerProxy


def compile_cell(proxy: CachingCompilerProxy, code: str, number: int) -> list[object]:
    """What run_cell_async does: name, parse, compile each statement."""
    name = proxy.cache(code, number)
    tree = proxy.ast_parse(code, filename=name)
    codes = []
    for node in tree.body[:-1]:
        codes.append(proxy(ast.Module([node], []), name, "exec"))
    codes.append(proxy(ast.Interactive([tree.body[-1]]), name, "single"))
    return codes


def test_unchanged_code_is_parsed_and_compiled_once() -> None:
    real = CachingCompiler()
    proxy = CachingCompilerProxy(real)
    code = "x = 1\ny = x + 1\ny"
    first = compile_cell(proxy, code, 3)
    second = compile_cell(proxy, code, 7)
    assert first == second and all(a is b for a, b in zip(first, second, strict=True))
    name = proxy.cache(code, 9)
    # The traceback label follows the latest number, the source stays in linecache.
    assert real.format_code_name(name) == ("Cell", "In[9]")
    assert linecache.getline(name, 2) == "y = x + 1\n"
    namespace: dict[str, object] = {}
    for compiled in first:
        exec(compiled, namespace)
    assert namespace["y"] == 2


def test_other_code_and_flags_compile_anew() -> None:
    proxy = CachingCompilerProxy(CachingCompiler())
    a = compile_cell(proxy, "v = 1", 1)
    b = compile_cell(proxy, "v = 2", 1)
    assert a[0] is not b[0]
    with proxy.extra_flags(ast.PyCF_ALLOW_TOP_LEVEL_AWAIT):
        c = compile_cell(proxy, "v = 1", 1)
    assert c[0] is not a[0]


def test_label_overrides_the_number_and_lost_linecache_entries_come_back() -> None:
    real = CachingCompiler()
    proxy = CachingCompilerProxy(real)
    proxy.label = 4
    name = proxy.cache("z = 1", 12)
    assert real.format_code_name(name) == ("Cell", "In[4]")
    del linecache.cache[name]
    proxy.label = None
    again = proxy.cache("z = 1", 5)
    assert linecache.getline(again, 1) == "z = 1\n"
    assert real.format_code_name(again) == ("Cell", "In[5]")
