"""What a deterministic rewrite cannot see, proven at the call site (libcst) before it is applied.

NOTE: a codemod rewrites one call; whether the rewrite keeps the program working can depend on code
elsewhere: ``shell=False`` works only when the command is a list (a string built in a variable is run
as one program name and fails at run time), and SQL placeholders must be the driver's own (``?`` for
sqlite3, ``%s`` for psycopg2/aiopg/pymysql). These checks accept a rewrite only when the source around
the call proves it; anything they cannot prove is left alone (the finding goes to an AI agent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider, ScopeProvider

_SHELL_META = re.compile(r"[\s|&;<>()$`\\\"'*?\[\]#~=%{}!]")
_LIST_MAKERS = ("shlex.split", "split")


def _name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_name(node.value)}.{node.attr.value}"
    return ""


def _command_arg(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is None and arg.star == "":
            return arg.value
        if arg.keyword is not None and arg.keyword.value == "args":
            return arg.value
    return None


def _is_shell_true(call: cst.Call) -> bool:
    return any(
        a.keyword is not None and a.keyword.value == "shell" and m.matches(a.value, m.Name("True"))
        for a in call.args
    )


def _proven_list(value: cst.BaseExpression, call: cst.Call, scopes, depth: int = 0) -> bool:
    """Is ``value`` certainly a list of arguments (or a single word a shell would not split)?"""
    if isinstance(value, cst.List | cst.Tuple):
        return True
    if isinstance(value, cst.SimpleString):
        text = value.evaluated_value
        return isinstance(text, str) and bool(text) and not _SHELL_META.search(text)
    if isinstance(value, cst.Call):
        return _name(value.func) in _LIST_MAKERS or _name(value.func).endswith(".split")
    if isinstance(value, cst.Name) and depth < 3:
        scope = scopes.get(call)
        if scope is None:
            return False
        assignments = [a for a in scope.assignments[value.value]]
        if not assignments:
            return False
        for assignment in assignments:
            node = getattr(assignment, "node", None)
            parent = _assigned_value(node, scope)
            if parent is None or not _proven_list(parent, call, scopes, depth + 1):
                return False  # a parameter, a loop variable, an import, or a string
        return True
    return False


def _assigned_value(target: cst.CSTNode | None, scope) -> cst.BaseExpression | None:  # noqa: ANN001
    """The value assigned to ``target`` by a plain ``name = value`` statement, else None."""
    for stmt in _statements(scope):
        if isinstance(stmt, cst.Assign) and any(t.target is target for t in stmt.targets):
            return stmt.value
        if isinstance(stmt, cst.AnnAssign) and stmt.target is target and stmt.value is not None:
            return stmt.value
    return None


def _statements(scope) -> Iterable[cst.CSTNode]:  # noqa: ANN001
    node = scope.node
    return m.findall(node, m.Assign() | m.AnnAssign())


def _calls_on_lines(source: str, lines: set[int]):  # noqa: ANN202
    wrapper = MetadataWrapper(cst.parse_module(source))
    positions = wrapper.resolve(PositionProvider)
    scopes = wrapper.resolve(ScopeProvider)
    for node, where in positions.items():
        if isinstance(node, cst.Call) and any(where.start.line <= n <= where.end.line for n in lines):
            yield node, scopes


def shell_false_is_safe(source: str, lines: Iterable[int]) -> bool:
    """True when every ``shell=True`` call on ``lines`` of ``source`` passes a command that is proven
    to be a list (a literal list or tuple, ``shlex.split(...)``, a name only ever assigned those in its
    scope) or one word with no shell syntax. A source that does not parse proves nothing."""
    try:
        calls = [(c, s) for c, s in _calls_on_lines(source, set(lines)) if _is_shell_true(c)]
    except cst.ParserSyntaxError:
        return False
    if not calls:
        return False
    for call, scopes in calls:
        command = _command_arg(call)
        if command is None or not _proven_list(command, call, scopes):
            return False
    return True


# --- SQL placeholders ---------------------------------------------------------------------------

# DB-API drivers by import name -> their paramstyle's placeholder.
DRIVER_PLACEHOLDERS: dict[str, str] = {
    "sqlite3": "?",
    "aiosqlite": "?",
    "psycopg2": "%s",
    "psycopg": "%s",
    "aiopg": "%s",
    "pymysql": "%s",
    "MySQLdb": "%s",
    "mysql.connector": "%s",
    "aiomysql": "%s",
}


def drivers_imported(source: str) -> set[str]:
    """The DB-API drivers ``source`` imports (``import sqlite3``, ``from psycopg2 import ...``)."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return set()
    found: set[str] = set()
    for node in m.findall(module, m.Import() | m.ImportFrom()):
        names = ([_name(a.name) for a in node.names] if isinstance(node, cst.Import)
                 else [_name(node.module)] if node.module is not None else [])
        for name in names:
            for driver in DRIVER_PLACEHOLDERS:
                if name == driver or name.startswith(driver + "."):
                    found.add(driver)
    return found


_PLACEHOLDER = re.compile(r"(\?|%s|%\(\w+\)s|:\w+)")


def sql_placeholders_match_driver(before: str, added_lines: Iterable[str]) -> bool:
    """True when the module's one imported driver is known and every placeholder the change adds is
    that driver's. A module that gets its connection from elsewhere identifies no driver: not proven."""
    drivers = drivers_imported(before)
    wanted = {DRIVER_PLACEHOLDERS[d] for d in drivers}
    if len(wanted) != 1:
        return False
    placeholder = wanted.pop()
    added = [p for line in added_lines for p in _PLACEHOLDER.findall(line)]
    return bool(added) and all(p == placeholder for p in added)
