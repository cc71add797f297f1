"""Backend dimension: ruff's JSON diagnostics turned into findings, with a curated rule set."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from gitorch.models import Finding, Severity
from gitorch_local.tools import SourceLines, is_excluded, relative

# NOTE: correctness and bug risk only (see docs/local-agent.md). Security rules (S) are left to
# bandit, style families (E1-E5, W, I, UP, SIM) would drown the bugs and are no backend risk.
CURATED_SELECT = ["F", "E7", "E9", "B", "PLE", "PLW", "T10", "RUF006"]
CURATED_IGNORE = [
    "B008",  # call in argument defaults: FastAPI/Typer's Depends()/Option() idiom
    "B905",  # zip() without strict=: an opinion, not a bug
    "E731",  # lambda assignment: style
    "E741",  # ambiguous variable name: style
    "PLW0603",  # global statement: style
    "PLW2901",  # loop variable overwritten: mostly intended
]

# NOTE: a file that does not parse is the worst a change can leave: the program no longer runs. ruff
# reports it without a code (older releases) or as ``invalid-syntax``; either is P0, never info.
SYNTAX_ERROR_CODES = frozenset({"", "invalid-syntax", "syntax-error", "E999"})

# Longest matching prefix wins. Rules that crash or misbehave at run time first.
SEVERITY_BY_PREFIX: dict[str, Severity] = {
    "E902": Severity.P1,  # a file ruff cannot read
    "F63": Severity.P1,  # comparisons that are always wrong (is with a literal, assert on tuple)
    "F7": Severity.P1,  # break/return/yield outside their context
    "F82": Severity.P1,  # undefined names
    "PLE": Severity.P1,  # pylint errors: calls that raise
    "F5": Severity.P2,  # %-format / str.format mismatches
    "F541": Severity.P3,  # f-string without placeholders: harmless
    "F6": Severity.P2,  # repeated dict keys, star-expression misuse
    "F811": Severity.P2,  # redefinition of an unused name
    "F": Severity.P3,  # unused imports and variables
    "B": Severity.P2,  # bugbear: likely bugs
    "B9": Severity.P3,  # bugbear's opinionated checks
    "T10": Severity.P2,  # leftover debugger
    "RUF006": Severity.P2,  # dangling asyncio task
    "S": Severity.P2,  # bandit rules, when a repository's own config selects them
    "E7": Severity.P3,  # None/True comparisons, bare except, type comparisons
    "PLW": Severity.P3,
    "C90": Severity.P3,
}
DEFAULT_SEVERITY = Severity.P4  # families a repository's own config adds: style, docs, naming


def severity_of(code: str) -> Severity:
    if code in SYNTAX_ERROR_CODES:
        return Severity.P0
    best = ""
    for prefix in SEVERITY_BY_PREFIX:
        if code.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return SEVERITY_BY_PREFIX[best] if best else DEFAULT_SEVERITY


#: Files whose change makes a per-file re-audit unsafe: ruff's own configuration.
CONFIG_FILES = frozenset({"ruff.toml", ".ruff.toml", "pyproject.toml"})


def has_repo_config(root: Path) -> bool:
    """True when the repository configures ruff itself (``ruff.toml``, ``.ruff.toml``, ``[tool.ruff]``)."""
    if (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file():
        return True
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return False
        return "ruff" in data.get("tool", {})
    return False


def rule_args(root: Path, select: list[str], ignore: list[str]) -> list[str]:
    """``--select`` the curated set, unless the repository has its own ruff configuration."""
    if has_repo_config(root):
        return []
    args = ["--isolated", "--select", ",".join(select)]
    if ignore:
        args += ["--ignore", ",".join(ignore)]
    return args


def command(exe: str, root: Path, targets: list[str], excludes: list[str], rules: list[str]) -> list[str]:
    """One ruff process, JSON on stdout, no cache written into the user's tree."""
    argv = [exe, "check", "--no-cache", "--output-format", "json", "--exit-zero", *rules]
    if excludes:
        argv += ["--extend-exclude", ",".join(excludes)]
    return [*argv, *targets]


def is_syntax_error(item: dict[str, Any]) -> bool:
    return (item.get("code") or "") in SYNTAX_ERROR_CODES


def rule_id(item: dict[str, Any]) -> str:
    return "ruff:syntax-error" if is_syntax_error(item) else f"ruff:{item['code']}"


def findings(diagnostics: list[dict[str, Any]], root: Path, excludes: list[str]) -> list[Finding]:
    """Findings from ruff's JSON diagnostics."""
    lines = SourceLines(root)
    out: list[Finding] = []
    unparsable: set[str] = set()
    for item in diagnostics:
        file = relative(root, item["filename"])
        if is_excluded(file, excludes):
            continue
        if is_syntax_error(item):
            if file in unparsable:
                continue  # one finding per unparsable file: the follow-on errors add nothing
            unparsable.add(file)
        code = item.get("code") or ""
        line = (item.get("location") or {}).get("row")
        end = (item.get("end_location") or {}).get("row")
        fix = item.get("fix") or {}
        if fix.get("applicability") == "safe":
            advice = f"{fix.get('message') or 'Apply ruff fix'} (safe automatic fix)."
        elif fix:
            advice = f"{fix.get('message') or 'A fix exists'} (ruff marks it unsafe: review it)."
        else:
            advice = "Fix by hand; see " + (item.get("url") or "ruff's rule documentation")
        out.append(
            Finding(
                dimension="backend",
                severity=severity_of(code),
                rule_id=rule_id(item),
                file=file,
                line=line,
                end_line=end,
                description=f"{item.get('message', '').strip()} "
                f"({'syntax error: the file does not parse' if is_syntax_error(item) else code}"
                f"{' ' + item['name'] if item.get('name') and not is_syntax_error(item) else ''})",
                recommendation=advice,
                snippet=lines.line(file, line),
                source="ruff",
            )
        )
    out.sort(key=lambda f: f.file or "")  # NOTE: one order whether all files or only changed ones ran
    return out
