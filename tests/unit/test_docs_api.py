"""docs/api.md cannot rot, without a chain: every ```pyi block is compared with the code it
names: parameters, annotations, defaults and return types of each function and method, and the
fields of each dataclass and enum, as the source writes them. Its ```python blocks run against a
real lab in tests/fork/test_docs_api.py.

A ```pyi block names its module in a comment line (`# flasharb.execute.plan`); the statements
after it are looked up there. `= ...` as a default means "has a default" (the code's is too long
to show). Every name of `flasharb.__all__` must be in some ```pyi block.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import re
import textwrap
from collections.abc import Iterator
from typing import Any

import flasharb
from tests.api_doc import blocks

MODULE_LINE = re.compile(r"^# (flasharb(?:\.\w+)*)$")


# ---------------------------------------------------------------- the signatures are the code's


def _source_node(obj: Any) -> ast.FunctionDef | ast.ClassDef:
    node = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(obj)))).body[0]
    assert isinstance(node, ast.FunctionDef | ast.ClassDef), obj
    return node


def _text(node: ast.AST | None) -> str | None:
    return None if node is None else ast.unparse(node)


def _is_ellipsis(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _params(fn: ast.FunctionDef) -> list[tuple[str, str, str | None, ast.expr | None]]:
    """(kind, name, annotation, default node) per parameter, in order."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    out = [
        ("positional", p.arg, _text(p.annotation), d)
        for p, d in zip(positional, [*defaults, *a.defaults], strict=True)
    ]
    if a.vararg:
        out.append(("*args", a.vararg.arg, _text(a.vararg.annotation), None))
    out += [
        ("keyword", p.arg, _text(p.annotation), d)
        for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    if a.kwarg:
        out.append(("**kwargs", a.kwarg.arg, _text(a.kwarg.annotation), None))
    return out


def _compare_def(where: str, stub: ast.FunctionDef, code: ast.FunctionDef) -> list[str]:
    problems = []
    s_params, c_params = _params(stub), _params(code)
    s_shape = [(k, n, ann) for k, n, ann, _ in s_params]
    c_shape = [(k, n, ann) for k, n, ann, _ in c_params]
    if s_shape != c_shape:
        problems.append(f"{where}: parameters {s_shape} != code {c_shape}")
    else:
        for (_, name, _, s_def), (_, _, _, c_def) in zip(s_params, c_params, strict=True):
            if _is_ellipsis(s_def) and c_def is not None:
                continue
            if _text(s_def) != _text(c_def):
                problems.append(f"{where}: {name} default {_text(s_def)} != {_text(c_def)}")
    if _text(stub.returns) != _text(code.returns):
        problems.append(f"{where}: returns {_text(stub.returns)} != {_text(code.returns)}")
    s_dec = [ast.unparse(d) for d in stub.decorator_list]
    c_dec = [ast.unparse(d) for d in code.decorator_list]
    if s_dec != c_dec:
        problems.append(f"{where}: decorators {s_dec} != {c_dec}")
    return problems


def _member_def(cls: type, name: str) -> ast.FunctionDef | None:
    """`name`'s def in the first class of cls's MRO that defines it (flasharb's own only)."""
    for klass in cls.__mro__:
        if name in vars(klass) and klass.__module__.startswith("flasharb"):
            node = _source_node(klass)
            for st in node.body:
                if isinstance(st, ast.FunctionDef) and st.name == name:
                    return st
    return None


def _compare_class(where: str, stub: ast.ClassDef, obj: type) -> list[str]:
    problems = []
    mro = {k.__name__ for k in obj.__mro__}
    for base in stub.bases:
        if ast.unparse(base).rsplit(".", 1)[-1] not in mro:
            problems.append(f"{where}: {ast.unparse(base)} is not a base of {obj.__name__}")
    code = _source_node(obj)
    assigned: dict[str, ast.AnnAssign | ast.Assign] = {}
    for st in code.body:
        if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
            assigned[st.target.id] = st
        elif isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
            assigned[st.targets[0].id] = st
    fields: list[str] = []
    for st in stub.body:
        if isinstance(st, ast.AnnAssign | ast.Assign):
            target = st.target if isinstance(st, ast.AnnAssign) else st.targets[0]
            assert isinstance(target, ast.Name)
            fields.append(target.id)
            theirs = assigned.get(target.id)
            if theirs is None:
                problems.append(f"{where}.{target.id}: not in the code")
                continue
            s_ann = _text(st.annotation) if isinstance(st, ast.AnnAssign) else None
            c_ann = _text(theirs.annotation) if isinstance(theirs, ast.AnnAssign) else None
            if s_ann != c_ann:
                problems.append(f"{where}.{target.id}: annotation {s_ann} != {c_ann}")
            if not _is_ellipsis(st.value) and _text(st.value) != _text(theirs.value):
                problems.append(
                    f"{where}.{target.id}: value {_text(st.value)} != {_text(theirs.value)}"
                )
        elif isinstance(st, ast.FunctionDef):
            found = _member_def(obj, st.name)
            if found is None:
                problems.append(f"{where}.{st.name}: no such method")
            else:
                problems += _compare_def(f"{where}.{st.name}", st, found)
        elif not (isinstance(st, ast.Expr) and _is_ellipsis(st.value)):
            problems.append(f"{where}: unexpected {ast.unparse(st)}")
    if dataclasses.is_dataclass(obj):
        expected = [f.name for f in dataclasses.fields(obj) if not f.name.startswith("_")]
        if fields != expected:
            problems.append(f"{where}: fields {fields} != the dataclass's {expected}")
    if issubclass(obj, enum.Enum) and fields != list(obj.__members__):
        problems.append(f"{where}: members {fields} != {list(obj.__members__)}")
    return problems


def _stubs() -> Iterator[tuple[str, str, ast.stmt]]:
    """(where in the doc, module, statement) for every top-level statement of the pyi blocks."""
    for first, code in blocks("pyi"):
        modules = [
            (i + 1, m.group(1))
            for i, line in enumerate(code.splitlines())
            if (m := MODULE_LINE.match(line))
        ]
        for st in ast.parse(code).body:
            module = [name for line, name in modules if line < st.lineno]
            assert module, f"docs/api.md:{first + st.lineno - 1}: no '# flasharb.module' line above"
            yield f"docs/api.md:{first + st.lineno - 1}", module[-1], st


def test_every_pyi_block_is_the_code() -> None:
    problems: list[str] = []
    documented: set[str] = set()
    for where, module, st in _stubs():
        if not isinstance(st, ast.FunctionDef | ast.ClassDef):
            problems.append(f"{where}: only defs and classes in a pyi block")
            continue
        obj = getattr(importlib.import_module(module), st.name, None)
        if obj is None:
            problems.append(f"{where}: {module} has no {st.name}")
            continue
        if st.name in flasharb.__all__:
            documented.add(st.name)
            # what `from flasharb import name` loads (flasharb.audit can be its subpackage)
            exported = getattr(importlib.import_module(flasharb._EXPORTS[st.name]), st.name)
            if exported is not obj:
                problems.append(f"{where}: flasharb.{st.name} is not {module}.{st.name}")
        if isinstance(st, ast.FunctionDef):
            problems += _compare_def(f"{where} {st.name}", st, _source_node(obj))  # type: ignore[arg-type]
        else:
            problems += _compare_class(f"{where} {st.name}", st, obj)
    missing = set(flasharb.__all__) - {"__version__"} - documented
    assert not missing, f"exported but not in a pyi block of docs/api.md: {sorted(missing)}"
    assert not problems, "\n".join(problems)
