"""Discovery: what the audited module is (name, languages, dependencies, files, lines of code)."""

from __future__ import annotations

import ast
import os
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gitorch.config import Config

LANGUAGES = {
    ".py": "Python",
    ".js": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".rb": "Ruby",
    ".php": "PHP",
    ".cs": "C#",
    ".c": "C",
    ".h": "C",
    ".cpp": "C++",
    ".hpp": "C++",
    ".kt": "Kotlin",
    ".swift": "Swift",
    ".scss": "SCSS",
    ".css": "CSS",
    ".html": "HTML",
    ".xml": "XML",
    ".vue": "Vue",
    ".sh": "Shell",
    ".sql": "SQL",
}
CODE_SUFFIXES = frozenset(LANGUAGES) - {".xml", ".html", ".css", ".scss"}


@dataclass(frozen=True)
class Discovery:
    module_name: str
    module_path: str
    languages: dict[str, int] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    files: int = 0
    loc: int = 0

    def as_dict(self) -> dict:
        return {
            "module_name": self.module_name,
            "module_path": self.module_path,
            "languages": self.languages,
            "dependencies": self.dependencies,
            "files": self.files,
            "loc": self.loc,
        }


def excluded_dir(rel_dir: str, exclude: list[str]) -> bool:
    """Whether the directory ``rel_dir`` (POSIX, relative to the root) is excluded: an ``exclude`` entry
    that is a bare name matches a directory of that name at any depth; one with a slash
    (``gitorch/sample``) matches that path from the root, and everything under it."""
    parts = rel_dir.split("/")
    for entry in exclude:
        entry = entry.strip("/")
        if "/" in entry:
            if rel_dir == entry or rel_dir.startswith(entry + "/"):
                return True
        elif entry in parts:
            return True
    return False


def iter_source_files(root: Path, path: str, exclude: list[str]) -> list[Path]:
    """Source files under ``root/path`` (relative to ``root``), skipping excluded and hidden directories."""
    base = root / path
    found: list[Path] = []
    if base.is_file():
        return [base.relative_to(root)] if base.suffix in LANGUAGES else []
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath).relative_to(root).as_posix()
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and not excluded_dir(d if here == "." else f"{here}/{d}", exclude)
        )
        for name in sorted(filenames):
            if Path(name).suffix in LANGUAGES:
                found.append(Path(dirpath, name).relative_to(root))
    return found


def count_loc(text: str) -> int:
    """Non-blank lines that are not only a comment."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith(("#", "//")))


def discover(root: Path, path: str, config: Config) -> Discovery:
    files = iter_source_files(root, path, config.exclude)
    languages: Counter[str] = Counter()
    loc = 0
    code_files = 0
    for rel in files:
        languages[LANGUAGES[rel.suffix]] += 1
        if rel.suffix in CODE_SUFFIXES:
            code_files += 1
            try:
                loc += count_loc((root / rel).read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
    target = (root / path).resolve()
    return Discovery(
        module_name=_module_name(target, root),
        module_path=path,
        languages=dict(languages.most_common()),
        dependencies=_dependencies(target, root),
        files=code_files,
        loc=loc,
    )


def _module_name(target: Path, root: Path) -> str:
    manifest = target / "__manifest__.py"
    if manifest.is_file():
        try:
            data = ast.literal_eval(manifest.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("name"):
                return str(data["name"])
        except (ValueError, SyntaxError, OSError):
            pass
    pyproject = target / "pyproject.toml"
    if pyproject.is_file():
        try:
            name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
            if name:
                return str(name)
        except (tomllib.TOMLDecodeError, OSError):
            pass
    return target.name if target != root.resolve() else root.resolve().name


def _dependencies(target: Path, root: Path) -> list[str]:
    for base in (target, root):
        pyproject = base / "pyproject.toml"
        if pyproject.is_file():
            try:
                deps = (
                    tomllib.loads(pyproject.read_text(encoding="utf-8"))
                    .get("project", {})
                    .get("dependencies")
                )
            except (tomllib.TOMLDecodeError, OSError):
                deps = None
            if deps:
                return [str(d) for d in deps]
        requirements = base / "requirements.txt"
        if requirements.is_file():
            lines = requirements.read_text(encoding="utf-8", errors="replace").splitlines()
            return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-"))]
        manifest = base / "__manifest__.py"
        if manifest.is_file():
            try:
                data = ast.literal_eval(manifest.read_text(encoding="utf-8"))
                return [str(d) for d in data.get("depends", [])]
            except (ValueError, SyntaxError, OSError, AttributeError):
                pass
    return []
