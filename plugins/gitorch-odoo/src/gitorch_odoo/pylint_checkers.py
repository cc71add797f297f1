"""gitorch-odoo's own pylint checker, run beside pylint-odoo: Odoo security rules pylint-odoo lacks.

- ``sudo-call`` (W9801): every ``.sudo()`` call. sudo() runs with access rights and record rules off;
  each call needs a reason (``# pylint: disable=sudo-call`` records one).
- ``missing-model-access`` (W9802): a model the module creates (``_name`` on a ``Model`` or
  ``TransientModel``, not an extension of itself) with no ``ir.model.access`` entry in the module's data
  files (``ir.model.access*.csv`` rows, or ``ir.model.access`` XML records, listed in the manifest's
  ``data``). Such a model is usable by the superuser only, and Odoo logs a warning at every start.

Loaded with ``--load-plugins=gitorch_odoo.pylint_checkers``; pylint's own ``disable`` comments apply.
"""

from __future__ import annotations

import ast
import csv
from functools import lru_cache
from pathlib import Path

from astroid import nodes
from pylint.checkers import BaseChecker

MODEL_BASES = {"Model", "TransientModel"}
ACCESS_COLUMNS = ("model_id:id", "model_id/id", "model_id")


class OdooSecurityChecker(BaseChecker):
    name = "gitorch-odoo"
    msgs = {
        "W9801": (
            "sudo() bypasses access rights and record rules: make sure the records it reads or writes "
            "are the ones this user may see",
            "sudo-call",
            "Every sudo() needs a reason; record it with `# pylint: disable=sudo-call`.",
        ),
        "W9802": (
            'Model "%s" has no access rule (ir.model.access) in this module',
            "missing-model-access",
            "Add a line for model_%s to security/ir.model.access.csv (and list the file in the "
            "manifest's data).",
        ),
    }

    def visit_call(self, node: nodes.Call) -> None:
        func = node.func
        if isinstance(func, nodes.Attribute) and func.attrname == "sudo":
            self.add_message("sudo-call", node=node)

    def visit_classdef(self, node: nodes.ClassDef) -> None:
        if not any(_base_name(base) in MODEL_BASES for base in node.bases):
            return
        name_node, name = _class_string(node, "_name")
        if name is None or name in _inherits(node):
            return
        path = Path(node.root().file or "")
        if "tests" in path.parts:
            return  # test models are registered by the tests themselves
        module = _module_dir(path)
        if module is None:
            return
        if f"model_{name.replace('.', '_')}" not in _access_models(str(module)):
            self.add_message("missing-model-access", node=name_node or node, args=(name,))


def _base_name(base: nodes.NodeNG) -> str:
    if isinstance(base, nodes.Attribute):
        return base.attrname
    if isinstance(base, nodes.Name):
        return base.name
    return ""


def _class_string(node: nodes.ClassDef, attribute: str) -> tuple[nodes.NodeNG | None, str | None]:
    for statement in node.body:
        if isinstance(statement, nodes.Assign) and any(
            isinstance(t, nodes.AssignName) and t.name == attribute for t in statement.targets
        ):
            value = statement.value
            if isinstance(value, nodes.Const) and isinstance(value.value, str):
                return statement, value.value
            return statement, None
    return None, None


def _inherits(node: nodes.ClassDef) -> set[str]:
    for statement in node.body:
        if isinstance(statement, nodes.Assign) and any(
            isinstance(t, nodes.AssignName) and t.name == "_inherit" for t in statement.targets
        ):
            value = statement.value
            if isinstance(value, nodes.Const) and isinstance(value.value, str):
                return {value.value}
            if isinstance(value, nodes.List | nodes.Tuple):
                return {
                    e.value for e in value.elts if isinstance(e, nodes.Const) and isinstance(e.value, str)
                }
    return set()


def _module_dir(path: Path) -> Path | None:
    for parent in path.parents:
        if (parent / "__manifest__.py").is_file():
            return parent
    return None


@lru_cache(maxsize=64)
def _access_models(module: str) -> frozenset[str]:
    """``model_<name>`` references of the module's ir.model.access entries (its manifest's data files)."""
    root = Path(module)
    try:
        manifest = ast.literal_eval((root / "__manifest__.py").read_text(encoding="utf-8"))
        data = [str(f) for f in manifest.get("data", [])]
    except (ValueError, SyntaxError, OSError, AttributeError):
        return frozenset()
    found: set[str] = set()
    for rel in data:
        path = root / rel
        if path.suffix == ".csv" and path.name.startswith("ir.model.access"):
            found |= _csv_models(path)
        elif path.suffix == ".xml":
            found |= _xml_models(path)
    return frozenset(found)


def _csv_models(path: Path) -> set[str]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return set()
    found = set()
    for row in rows:
        for column in ACCESS_COLUMNS:
            if row.get(column):
                found.add(row[column].strip().split(".")[-1])
                break
    return found


def _xml_models(path: Path) -> set[str]:
    from lxml import etree

    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except (OSError, etree.XMLSyntaxError):
        return set()
    found = set()
    for record in tree.iter("record"):
        if record.get("model") != "ir.model.access":
            continue
        for field in record.iter("field"):
            if field.get("name") == "model_id" and field.get("ref"):
                found.add(field.get("ref").split(".")[-1])
    return found


def register(linter) -> None:
    linter.register_checker(OdooSecurityChecker(linter))
