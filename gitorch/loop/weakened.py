"""Whether an edit weakens the tests of a Python test file, read from the syntax trees before and after.

Each test function (``test*`` at module level, and in ``Test*`` classes or ``TestCase`` subclasses) is
summed up as a :class:`TestShape`: its assertions that can fail, the ones that cannot (``assert True``,
``assert x or True``, ``assert a == a``, ``self.assertTrue(1)``), the skips and xfails it carries
(decorators, ``pytest.skip()``, ``self.skipTest()``, ``raise unittest.SkipTest``), the ``return``
statements that come before an assertion, and the ``except`` clauses that swallow a failed assertion. An
edit weakens a test when, for a test that existed before, any of these moves the wrong way, when the
test disappears (deleted, renamed), or when the module turns collection off (``__test__ = False``, a
``pytestmark`` skip, a module-level ``pytest.skip``) or defines a test name twice (the second one
shadows the first).

NOTE: the trees are compared, not the text: a comment, a reformatting or a changed expected value is
no weakening; ``assert add(1, 2) == 3 or True`` is, however it is spelled.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field

_SKIP_NAMES = frozenset({"skip", "skipif", "xfail", "skipIf", "skipUnless", "expectedFailure", "skipTest",
                         "importorskip"})
_SKIP_EXCEPTIONS = ("SkipTest", "Skipped", "skip.Exception", "xfail.Exception", "XFailed")
_CONTEXT_ASSERTIONS = frozenset({"raises", "warns", "assertRaises", "assertRaisesRegex", "assertWarns",
                                 "deprecated_call"})
_BROAD_EXCEPTIONS = frozenset({"AssertionError", "Exception", "BaseException"})
_ALWAYS_EQUAL = (ast.Eq, ast.Is, ast.LtE, ast.GtE)
_EQUALITY_ASSERTS = frozenset({"assertEqual", "assertEquals", "assertIs", "assertAlmostEqual",
                               "assertCountEqual", "assertListEqual", "assertDictEqual", "assertSetEqual",
                               "assertTupleEqual", "assertSequenceEqual", "assertMultiLineEqual",
                               "assertLessEqual", "assertGreaterEqual", "assert_equal", "assert_array_equal"})


@dataclass
class TestShape:
    """What makes one test function able to fail."""

    __test__ = False  # not a pytest test class

    assertions: int = 0  # that can fail
    trivial: int = 0  # that cannot
    skips: int = 0
    early_returns: int = 0
    swallowed: int = 0


@dataclass
class ModuleShape:
    tests: dict[str, TestShape] = field(default_factory=dict)
    duplicates: set[str] = field(default_factory=set)
    collection_off: int = 0  # __test__ = False, a pytestmark skip, a module-level pytest.skip()


def shape(source: str) -> ModuleShape | None:
    """The tests of a module (None when it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names = _Aliases(tree)
    module = ModuleShape()
    seen: Counter[str] = Counter()
    for qualified, func, decorators in _test_functions(tree.body, ""):
        seen[qualified] += 1
        module.tests[qualified] = _shape_of(func, decorators, names)
    module.duplicates = {name for name, n in seen.items() if n > 1}
    module.collection_off = _collection_off(tree, names)
    return module


def weakenings(path: str, before: str, after: str) -> list[str]:
    """How the edit from ``before`` to ``after`` weakens the tests of ``path`` (empty: it does not)."""
    old, new = shape(before), shape(after)
    if old is None:
        return []  # nothing to compare against; the test run still judges the file
    if new is None:
        return [f"{path} no longer parses"]
    found = []
    if new.collection_off > old.collection_off:
        found.append(f"{path}: collection of the module turned off (__test__, pytestmark skip or skip())")
    for name in sorted(new.duplicates - old.duplicates):
        found.append(f"{path}: {name} is defined twice (the second definition hides the first)")
    for name, was in old.tests.items():
        now = new.tests.get(name)
        if now is None:
            found.append(f"{path}: {name} removed or renamed")
            continue
        if now.assertions < was.assertions:
            lost = was.assertions - now.assertions
            found.append(f"{path}: {name} lost {lost} assertion(s) that could fail")
        if now.trivial > was.trivial:
            found.append(f"{path}: {name} gained an assertion that cannot fail")
        if now.skips > was.skips:
            found.append(f"{path}: {name} gained a skip or xfail")
        if now.early_returns > was.early_returns:
            found.append(f"{path}: {name} returns before its assertions")
        if now.swallowed > was.swallowed:
            found.append(f"{path}: {name} catches its own assertion failures")
    return found


# --------------------------------------------------------------------------------------------------


class _Aliases:
    """Imported names back to what they import (``from unittest import SkipTest as S``: S is SkipTest)."""

    def __init__(self, tree: ast.Module) -> None:
        self.map: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.map[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else (
                        alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.map[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def dotted(self, node: ast.AST) -> str:
        """``pytest.mark.skip`` for ``@pytest.mark.skip(...)``, through import aliases; '' when not a name."""
        if isinstance(node, ast.Call):
            node = node.func
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ".".join(reversed(parts))
        parts.append(self.map.get(node.id, node.id))
        return ".".join(reversed(parts))


def _is_test_class(node: ast.ClassDef) -> bool:
    if node.name.startswith("Test"):
        return True
    return any((b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "")).endswith("TestCase")
               for b in node.bases)


def _test_functions(body: list[ast.stmt], prefix: str, inherited: tuple[ast.expr, ...] = ()):
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            yield prefix + node.name, node, (*inherited, *node.decorator_list)
        elif isinstance(node, ast.ClassDef) and _is_test_class(node):
            yield from _test_functions(node.body, f"{prefix}{node.name}.", (*inherited, *node.decorator_list))


def _own_nodes(func: ast.AST):
    """The nodes of a function, without those of functions or classes defined inside it."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def _is_skip(name: str) -> bool:
    return bool(name) and name.split(".")[-1] in _SKIP_NAMES


def _shape_of(func: ast.FunctionDef | ast.AsyncFunctionDef, decorators: tuple[ast.expr, ...],
              names: _Aliases) -> TestShape:
    result = TestShape(skips=sum(1 for d in decorators if _is_skip(names.dotted(d))))
    assertion_lines: list[int] = []
    returns: list[int] = []
    for node in _own_nodes(func):
        kind = _assertion(node, names)
        if kind is not None:
            assertion_lines.append(node.lineno)
            if kind:
                result.assertions += 1
            else:
                result.trivial += 1
        if isinstance(node, ast.Call) and _is_skip(names.dotted(node.func)):
            result.skips += 1
        elif isinstance(node, ast.Raise) and node.exc is not None:
            raised = names.dotted(node.exc)
            if raised.endswith(_SKIP_EXCEPTIONS):
                result.skips += 1
        elif isinstance(node, ast.Return):
            returns.append(node.lineno)
        elif isinstance(node, ast.Try | ast.TryStar) and _swallows(node, names):
            result.swallowed += 1
    last = max(assertion_lines, default=0)
    result.early_returns = sum(1 for line in returns if line < last)
    return result


def _assertion(node: ast.AST, names: _Aliases) -> bool | None:
    """None: not an assertion; True: one that can fail; False: one that cannot."""
    if isinstance(node, ast.Assert):
        return not _always_true(node.test)
    if isinstance(node, ast.With | ast.AsyncWith):
        for item in node.items:
            last = names.dotted(item.context_expr).split(".")[-1]
            if last in _CONTEXT_ASSERTIONS:
                return True
        return None
    if not isinstance(node, ast.Call):
        return None
    last = names.dotted(node.func).split(".")[-1]
    if not last.startswith(("assert", "fail")):
        return None
    args = node.args
    trivial = (
        (last in ("assertTrue", "assert_") and bool(args) and _always_true(args[0]))
        or (last == "assertFalse" and bool(args) and _constant_truth(args[0]) is False)
        or (last in _EQUALITY_ASSERTS and len(args) >= 2 and ast.dump(args[0]) == ast.dump(args[1]))
    )
    return not trivial


def _constant_truth(node: ast.expr) -> bool | None:
    if isinstance(node, ast.Constant):
        return bool(node.value)
    if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
        return bool(node.elts) if not isinstance(node, ast.Dict) else bool(node.keys)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _constant_truth(node.operand)
        return None if inner is None else not inner
    return None


def _always_true(node: ast.expr) -> bool:
    if _constant_truth(node) is True:
        return True
    if isinstance(node, ast.BoolOp):
        checks = [_always_true(v) for v in node.values]
        return any(checks) if isinstance(node.op, ast.Or) else all(checks)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], _ALWAYS_EQUAL):
        return ast.dump(node.left) == ast.dump(node.comparators[0])
    if isinstance(node, ast.IfExp):
        return _always_true(node.body) and _always_true(node.orelse)
    return False


def _swallows(node: ast.Try | ast.TryStar, names: _Aliases) -> bool:
    """A ``try`` around an assertion whose handler catches the failure."""
    if not any(_assertion(n, names) for stmt in node.body for n in ast.walk(stmt)):
        return False
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(names.dotted(t).split(".")[-1] in _BROAD_EXCEPTIONS for t in types):
            return True
    return False


def _collection_off(tree: ast.Module, names: _Aliases) -> int:
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            targets += [t.attr for t in node.targets if isinstance(t, ast.Attribute)]
            if "__test__" in targets and _constant_truth(node.value) is not True:
                count += 1
            marks = [n for n in ast.walk(node.value) if isinstance(n, ast.Attribute | ast.Call)]
            if "pytestmark" in targets and any(_is_skip(names.dotted(n)) for n in marks):
                count += 1
    for node in _own_nodes(tree):  # pytest.skip(..., allow_module_level=True), outside any function
        if isinstance(node, ast.Call) and _is_skip(names.dotted(node.func)):
            count += 1
    return count
