"""Workload parameters: named integers a workload file declares and its layer fields use.

A file declares ``parameters: {neighbours: 6}``; any layer field may then be written ``${expr}``,
an integer expression over the parameters with ``+ - * //``, parentheses and integer literals
(``rows: ${1 + neighbours}``).  ``--param neighbours=16`` (``load_workload(params=...)``) replaces a
declared value.  Expressions are parsed with Python's ``ast`` and only those node types are allowed;
nothing is executed.
"""

from __future__ import annotations

import ast
import re

from ..errors import InputError, short

_EXPR = re.compile(r"^\$\{(.*)\}$", re.S)
_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.FloorDiv: lambda a, b: a // b}


def parse_param(text: str) -> tuple[str, int]:
    """``NAME=INT`` (``--param``) as ``(name, value)``.  Raises InputError naming ``--param``."""
    m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(-?\d+)\s*$", text)
    if not m:
        raise InputError(f"expected NAME=INTEGER, got {short(text)}", field="--param")
    return m.group(1), int(m.group(2))


def resolve_params(declared, given: dict | None, src: str) -> dict[str, int]:
    """The parameter values: the file's ``parameters`` with ``given`` replacing declared ones.

    Raises:
        InputError: a declared value that is not an integer, or a given name the file does not declare.
    """
    declared = declared or {}
    if not isinstance(declared, dict):
        raise InputError("must be a mapping of names to integers", source=src, field="parameters")
    for k, v in declared.items():
        if not isinstance(k, str) or not k.isidentifier() or isinstance(v, bool) or not isinstance(v, int):
            raise InputError(f"parameter {short(k)} must be a name with an integer value, got {short(v)}",
                             source=src, field=f"parameters.{k}")
    out = dict(declared)
    for k, v in (given or {}).items():
        if k not in declared:
            known = ", ".join(declared) or "none"
            raise InputError(f"{src} declares no parameter {short(k)} (it declares: {known})", field="--param")
        out[k] = v
    return out


def substitute(value, params: dict[str, int], src: str, where: str):
    """``value`` with every ``${expr}`` string (at any depth) replaced by its integer value."""
    if isinstance(value, dict):
        return {k: substitute(v, params, src, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params, src, f"{where}.{i}") for i, v in enumerate(value)]
    if isinstance(value, str):
        m = _EXPR.match(value.strip())
        if m:
            return _evaluate(m.group(1), params, src, where)
    return value


def _evaluate(expr: str, params: dict, src: str, where: str) -> int:
    def bad(msg):
        raise InputError(f"${{{short(expr, quote=False)}}}: {msg}", source=src, field=where)

    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        bad("not an expression (use parameters, integers, + - * // and parentheses)")

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, int) and not isinstance(n.value, bool):
            return n.value
        if isinstance(n, ast.Name):
            if n.id not in params:
                bad(f"unknown parameter {n.id!r} (declared: {', '.join(params) or 'none'})")
            return params[n.id]
        if isinstance(n, ast.BinOp) and type(n.op) in _OPS:
            a, b = ev(n.left), ev(n.right)
            if isinstance(n.op, ast.FloorDiv) and b == 0:
                bad("division by zero")
            return _OPS[type(n.op)](a, b)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        bad("only parameters, integers, + - * // and parentheses are allowed")

    return ev(tree)
