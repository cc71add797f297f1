"""Prompt templates: Jinja2 files rendered with documented variables (see ``docs/templates.md``).

The built-in templates live in ``templates/`` (the repository root in a checkout, ``gitorch/templates``
in an installed wheel). Plugins contribute directories through the ``gitorch_template_dirs`` hook,
searched before the built-in one. A repository overrides any template, partials included, by putting
a file of the same name in ``<root>/.gitorch/templates/`` (``templates_dir`` in the configuration):
the repository first, then the plugins, then gitorch.

Templates are rendered in Jinja's sandbox (a repository's templates are untrusted input), with
``StrictUndefined`` (a misspelt variable is an error, not an empty string) and no HTML escaping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

import gitorch
from gitorch.errors import ConfigError, UsageError
from gitorch.services.redact import is_secret_file
from gitorch.services.source import read_source

if TYPE_CHECKING:
    from gitorch.services.redact import Redactor

SUFFIX = ".md.j2"
AUDIT_DIMENSIONS = ("compliance", "backend", "frontend", "tests", "security", "architecture")
TASK_TEMPLATES = (
    "fix_finding",
    "enhance",
    "develop_feature",
    "refactor",
    "optimize",
    "document",
    "create_tests",
)

# Optional variables every template may use; callers pass what they have and the rest default here.
DEFAULTS: dict[str, Any] = {
    "module_path": ".",
    "dimension": "general",
    "dimension_title": "",
    "dimension_description": "",
    "languages": [],
    "findings": [],
    "finding": None,
    "file_excerpt": "",
    "diff": "",
    "test_output": "",
    "failure": "",
    "constraints": [],
    "command_prefix": "",
    "test_command": "",
    "attempt": 1,
    "feature": "",
    "requirements": [],
    "target": "",
    "output_format": "markdown",
    "json_schema": None,
}
# Variables a template cannot do without.
REQUIRED: dict[str, tuple[str, ...]] = {
    "fix_finding": ("finding",),
    "develop_feature": ("feature",),
}

#: Where a template comes from: ``"repository"``, ``"plugin:<name>"`` or ``"built-in"``.
Origin = str


class _ContainedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that refuses a template resolving outside its directories (a symlink in a
    repository's templates pointing at ``.env`` or ``~/.ssh``) or to a secret file."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        roots = [Path(p).resolve() for p in self.searchpath]
        if is_secret_file(real) or not any(real.is_relative_to(r) for r in roots):
            raise jinja2.TemplateNotFound(f"{template} (refused: it resolves to {real})")
        return source, filename, uptodate


def builtin_dir() -> Path:
    """The built-in templates: ``gitorch/templates`` (wheel) or ``<checkout>/templates``."""
    package = Path(gitorch.__file__).parent
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(
        f"gitorch's built-in templates are missing (looked in {package}/templates and beside it)"
    )


@dataclass(frozen=True)
class TemplateInfo:
    """Where one template comes from."""

    name: str
    path: Path
    origin: Origin

    @property
    def partial(self) -> bool:
        return self.name.startswith("_")


class Templates:
    """The prompt templates for one repository: its overrides first, then the plugins' directories
    (``plugin_dirs``: ``(plugin name, directory)`` in order, from
    :meth:`Plugins.template_dirs <gitorch.plugin.manager.Plugins.template_dirs>`), then the built-in ones.

    ``redactor``, when given, masks every rendered prompt.
    """

    def __init__(
        self,
        root: Path | None = None,
        templates_dir: str = ".gitorch/templates",
        *,
        redactor: Redactor | None = None,
        builtin: Path | None = None,
        plugin_dirs: Sequence[tuple[str, Path]] = (),
    ) -> None:
        self.builtin = Path(builtin) if builtin is not None else builtin_dir()
        self.override = (Path(root) / templates_dir) if root is not None and templates_dir else None
        self.plugin_dirs = [(name, Path(directory)) for name, directory in plugin_dirs]
        self.redactor = redactor
        searchpath = [str(directory) for directory, _ in self._dirs()]
        self.env = SandboxedEnvironment(
            loader=_ContainedLoader(searchpath),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _dirs(self) -> list[tuple[Path, Origin]]:
        """The search path, first match wins: the repository, the plugins, gitorch."""
        out: list[tuple[Path, Origin]] = []
        if self.override is not None and self.override.is_dir():
            out.append((self.override, "repository"))
        out += [(directory, f"plugin:{name}") for name, directory in self.plugin_dirs if directory.is_dir()]
        out.append((self.builtin, "built-in"))
        return out

    def infos(self, *, partials: bool = True) -> list[TemplateInfo]:
        """Every template name with the file that wins and where it comes from, sorted by name."""
        found: dict[str, TemplateInfo] = {}
        for directory, origin in self._dirs():
            for path in sorted(directory.glob(f"*{SUFFIX}")):
                name = path.name[: -len(SUFFIX)]
                if name not in found:
                    found[name] = TemplateInfo(name, path, origin)
        return [found[n] for n in sorted(found) if partials or not found[n].partial]

    def digest(self) -> str:
        """A hash of every template that wins (name and content, partials included): a change to any
        template a prompt may render changes it (the audit cache keys AI audits on it)."""
        import hashlib

        h = hashlib.sha256()
        for info in self.infos():
            h.update(info.name.encode() + b"\0" + info.path.read_bytes() + b"\0")
        return h.hexdigest()

    def names(self) -> list[str]:
        """The prompt template names (partials, whose names start with ``_``, left out)."""
        return [info.name for info in self.infos(partials=False)]

    def info(self, name: str) -> TemplateInfo:
        for info in self.infos():
            if info.name == name:
                return info
        known = ", ".join(self.names())
        raise UsageError(f"no template named {name!r} (known: {known})")

    def source(self, name: str) -> tuple[Path, str]:
        """``(path, text)`` of the template that wins for ``name``."""
        info = self.info(name)
        return info.path, info.path.read_text(encoding="utf-8")

    def render(self, name: str, **variables: Any) -> str:
        """Render template ``name``; missing optional variables take :data:`DEFAULTS`."""
        info = self.info(name)
        missing = [v for v in REQUIRED.get(name, ()) if variables.get(v) in (None, "")]
        if missing:
            raise UsageError(f"template {name}: variable(s) {', '.join(missing)} required")
        context = {**DEFAULTS, **variables}
        dimension = context["dimension"]
        if not isinstance(dimension, str) and hasattr(dimension, "name"):  # a Dimension class or instance
            context["dimension"] = dimension.name
            context["dimension_title"] = context["dimension_title"] or getattr(dimension, "title", "")
            context["dimension_description"] = context["dimension_description"] or getattr(
                dimension, "description", ""
            )
        if not context["dimension_title"]:
            context["dimension_title"] = str(context["dimension"]).replace("-", " ").replace("_", " ").title()
        try:
            text = self.env.get_template(info.path.name).render(**context)
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or info.path
            line = getattr(exc, "lineno", None)
            raise ConfigError(
                f"template {name} ({where}{f':{line}' if line else ''}): {type(exc).__name__}: {exc}"
            ) from None
        text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
        return self.redactor.mask(text) if self.redactor is not None else text


# --------------------------------------------------------------------------------------------------
# The relevant lines of a file, for fix prompts.

MAX_LINE_CHARS = 400


def file_excerpt(
    root: Path | str,
    file: str | Path | int | None = None,
    line: int | None = None,
    context: int = 8,
    redactor: Redactor | None = None,
    *,
    end_line: int | None = None,
    strict: bool = False,
) -> str:
    """Lines ``line - context`` … ``end_line + context`` of ``root/file``, numbered, secrets masked.

    The reported line(s) are marked with ``>``. A secret file (``.env``, keys: see
    :func:`gitorch.services.redact.is_secret_file`), a path outside ``root``, a binary or missing file gives a
    one-line note instead of contents (``strict=True``: a :class:`UsageError`). Without ``line`` the
    first ``2 * context + 1`` lines are shown. Also callable as ``file_excerpt(path, line, end_line)``.
    """
    if isinstance(file, int) or (file is None and Path(root).is_file()):
        # the positional form file_excerpt(path, line, end_line)
        line, end_line = (file if isinstance(file, int) else None), line
        file, root = Path(root).name, Path(root).parent
    root = Path(root)
    rel = str(file or "")

    def refuse(reason: str) -> str:
        if strict:
            raise UsageError(f"{rel}: {reason}")
        return f"({rel}: {reason})"

    source = read_source(root, rel)
    if source.refused is not None:
        return refuse(source.refused)
    lines = source.lines
    if not lines:
        return refuse("empty file")
    first_mark = line if line and line > 0 else None
    last_mark = end_line if first_mark and end_line and end_line >= first_mark else first_mark
    if first_mark is None:
        start, stop = 1, min(len(lines), 2 * context + 1)
    else:
        start = max(1, first_mark - context)
        stop = min(len(lines), (last_mark or first_mark) + context)
        if start > len(lines):
            return refuse(f"line {first_mark} is past the end ({len(lines)} lines)")
    width = len(str(stop))
    out = []
    for number in range(start, stop + 1):
        text = lines[number - 1]
        if len(text) > MAX_LINE_CHARS:
            text = text[:MAX_LINE_CHARS] + " …"
        marked = first_mark is not None and first_mark <= number <= (last_mark or first_mark)
        out.append(f"{'>' if marked else ' '} {number:>{width}} | {text}".rstrip())
    excerpt = "\n".join(out)
    return redactor.mask(excerpt) if redactor is not None else excerpt
