"""Security dimension: bandit's JSON report turned into findings."""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path
from typing import Any

from gitorch.models import Finding, Severity
from gitorch_local.tools import SourceLines, is_excluded, is_test_file, relative

# NOTE: severity x confidence -> P0..P3 (documented in docs/local-agent.md). Bandit's LOW severity
# tests (import of subprocess, assert, random) are hints, never above P3.
SEVERITY_MAP: dict[tuple[str, str], Severity] = {
    ("HIGH", "HIGH"): Severity.P0,
    ("HIGH", "MEDIUM"): Severity.P1,
    ("HIGH", "LOW"): Severity.P2,
    ("MEDIUM", "HIGH"): Severity.P1,
    ("MEDIUM", "MEDIUM"): Severity.P2,
    ("MEDIUM", "LOW"): Severity.P3,
    ("LOW", "HIGH"): Severity.P3,
    ("LOW", "MEDIUM"): Severity.P3,
    ("LOW", "LOW"): Severity.P3,
}

PARSE_ERROR_RULE = "syntax-error"

RECOMMENDATIONS = {
    "B101": "Do not rely on assert for checks that must hold in production (asserts vanish under -O).",
    "B105": "Move the secret out of the source: read it from the environment or a secret store.",
    "B106": "Move the secret out of the source: read it from the environment or a secret store.",
    "B107": "Move the secret out of the source: read it from the environment or a secret store.",
    "B113": "Pass an explicit timeout= to every requests call.",
    "B201": "Never run Flask with debug=True outside development; read it from configuration.",
    "B301": "Do not unpickle untrusted data; use JSON or a signed format.",
    "B303": "Use a strong hash (hashlib.sha256) or mark non-security use with usedforsecurity=False.",
    "B311": "Use the secrets module (or random.SystemRandom) for anything security-related.",
    "B324": "Use a strong hash (hashlib.sha256) or pass usedforsecurity=False for non-security use.",
    "B501": "Keep TLS certificate verification on (verify=True).",
    "B506": "Use yaml.safe_load (or Loader=yaml.SafeLoader).",
    "B602": "Pass the command as a list with shell=False; never build shell strings from input.",
    "B608": "Use parameterised queries instead of building SQL with string formatting.",
}


def config_args(root: Path) -> list[str]:
    """The repository's own bandit configuration, when present, as command-line arguments."""
    ini = root / ".bandit"
    if ini.is_file():
        return ["--ini", ".bandit"]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        if "bandit" in data.get("tool", {}):
            return ["-c", "pyproject.toml"]
    for name in ("bandit.yaml", "bandit.yml", ".bandit.yaml", ".bandit.yml"):
        if (root / name).is_file():
            return ["-c", name]
    return []


def _ini_excludes(root: Path) -> list[str]:
    # -x on the command line replaces the .bandit file's own exclude list; merge it back in.
    ini = root / ".bandit"
    if not ini.is_file():
        return []
    parser = configparser.ConfigParser()
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error:
        return []
    raw = parser.get("bandit", "exclude", fallback="")
    return [p.strip() for p in raw.split(",") if p.strip()]


def exclude_globs(root: Path, excludes: list[str]) -> str:
    """bandit ``-x`` globs: a bare name is excluded at any depth, a path from the root."""
    globs = []
    for entry in excludes:
        entry = entry.strip("/")
        globs.append(f"./{entry}/*" if "/" in entry else f"*/{entry}/*")
    return ",".join(globs + _ini_excludes(root))


def command(exe: str, root: Path, path: str, excludes: list[str]) -> list[str]:
    """One bandit process over ``path``, JSON on stdout."""
    return [exe, "-r", path, "-f", "json", "-q", *config_args(root), "-x", exclude_globs(root, excludes)]


def findings(report: dict[str, Any], root: Path, excludes: list[str]) -> tuple[list[Finding], list[str]]:
    """Findings and notes (files bandit could not parse) from bandit's JSON report."""
    lines = SourceLines(root)
    out: list[Finding] = []
    # NOTE: without a repository config of its own, asserts in tests are what tests are made of.
    own_config = bool(config_args(root))
    for item in report.get("results", []):
        file = relative(root, item["filename"])
        if is_excluded(file, excludes):
            continue
        if item.get("test_id") == "B101" and not own_config and is_test_file(file):
            continue
        test_id = item.get("test_id") or "bandit"
        line = int(item.get("line_number") or 0) or None
        line_range = item.get("line_range") or [line]
        severity = SEVERITY_MAP.get(
            (item.get("issue_severity", "LOW").upper(), item.get("issue_confidence", "LOW").upper()),
            Severity.P3,  # UNDEFINED severity or confidence
        )
        advice = RECOMMENDATIONS.get(test_id, f"Review the {item.get('test_name', test_id)} pattern")
        more = item.get("more_info")
        out.append(
            Finding(
                dimension="security",
                severity=severity,
                rule_id=test_id,
                file=file,
                line=line,
                end_line=max(x for x in line_range if x) if any(line_range) else line,
                description=f"{item.get('issue_text', '').strip()} ({test_id} {item.get('test_name', '')}, "
                f"severity {item.get('issue_severity')}, confidence {item.get('issue_confidence')})",
                recommendation=f"{advice} See {more}" if more else advice,
                snippet=lines.line(file, line),
                source="bandit",
            )
        )
    notes = []
    for error in report.get("errors", []):
        file = relative(root, error.get("filename", "?"))
        notes.append(f"bandit could not scan {file}: {error.get('reason', '')}")
        if file.endswith(".py") and not is_excluded(file, excludes):
            out.append(parse_error(file, error.get("reason", "")))
    return out, notes


def parse_error(file: str, reason: str) -> Finding:
    """A file bandit (or Python) cannot parse: nothing in it can be checked and the program cannot run it.

    NOTE: the worst severity there is (P0), never info: a fix that leaves a module unparsable must
    lower the score, not raise it.
    """
    return Finding(
        dimension="security",
        severity=Severity.P0,
        rule_id=PARSE_ERROR_RULE,
        file=file,
        description=f"{file} does not parse, so it was not scanned and cannot run: {reason.strip()}".strip(),
        recommendation="Make the module parse again (python -m py_compile shows the line).",
        snippet=f"module {file}",
        source="bandit",
    )
