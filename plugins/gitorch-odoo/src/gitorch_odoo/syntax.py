"""Does a module still parse? Python (and the manifest), XML and CSV files, read the way Odoo reads them.

This is what ``gitorch odoo check`` runs (a test command for a repository without an Odoo server) and
what the odoo agent checks before it hands back a fix.
"""

from __future__ import annotations

import ast
import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from gitorch_odoo.modules import MANIFEST, OdooModule

CHECKED_SUFFIXES = (".py", ".xml", ".csv")


@dataclass(frozen=True)
class ParseError:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


def parse_error(name: str, data: bytes) -> tuple[int | None, str] | None:
    """``(line, message)`` when ``data`` (the contents of a file called ``name``) does not parse."""
    suffix = Path(name).suffix
    if suffix == ".py":
        return _python(name, data)
    if suffix == ".xml":
        return _xml(data)
    if suffix == ".csv":
        return _csv(data)
    return None


def _python(name: str, data: bytes) -> tuple[int | None, str] | None:
    try:
        compile(data, name, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return exc.lineno, f"Python syntax error: {exc.msg}"
    except ValueError as exc:  # null bytes
        return None, f"Python source cannot be compiled: {exc}"
    if Path(name).name == MANIFEST:
        try:
            value = ast.literal_eval(data.decode("utf-8"))
        except (ValueError, SyntaxError, UnicodeDecodeError) as exc:
            return None, f"the manifest is not a literal dictionary: {exc}"
        if not isinstance(value, dict):
            return None, "the manifest is not a dictionary"
    return None


def _xml(data: bytes) -> tuple[int | None, str] | None:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as exc:
        return exc.lineno, f"XML syntax error: {exc.msg}"
    return None


def _csv(data: bytes) -> tuple[int | None, str] | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8: {exc}"
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return None, f"CSV error: {exc}"
    if not rows:
        return None
    width = len(rows[0])
    for number, row in enumerate(rows[1:], 2):
        if row and len(row) != width:
            return number, f"CSV row has {len(row)} columns, the header {width}"
    return None


def check_modules(root: Path, modules: list[OdooModule], exclude: list[str]) -> tuple[int, list[ParseError]]:
    """Parse every Python, XML and CSV file of ``modules``: ``(files checked, errors)``."""
    skip = set(exclude)
    checked = 0
    errors: list[ParseError] = []
    for module in modules:
        for current, dirs, files in os.walk(root / module.path):
            dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
            for name in sorted(files):
                if not name.endswith(CHECKED_SUFFIXES):
                    continue
                path = Path(current) / name
                rel = path.relative_to(root).as_posix()
                checked += 1
                try:
                    found = parse_error(name, path.read_bytes())
                except OSError as exc:
                    found = (None, f"cannot be read: {exc}")
                if found is not None:
                    errors.append(ParseError(rel, *found))
    return checked, errors
