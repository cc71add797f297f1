"""Security dimension: bandit's JSON report turned into findings."""

from __future__ import annotations

import configparser
import io
import json
import threading
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


def command(
    exe: str, root: Path, path: str, excludes: list[str], files: list[str] | None = None
) -> list[str]:
    """One bandit process over ``path`` (or over ``files`` only, relative to ``root``), JSON on stdout."""
    globs = ["-x", exclude_globs(root, excludes)]
    if files is not None:
        return [exe, "-f", "json", "-q", *config_args(root), *globs, "--", *files]
    return [exe, "-r", path, "-f", "json", "-q", *config_args(root), *globs]


def in_process_possible(root: Path, override: str | None) -> bool:
    """Whether :func:`scan` can replace the bandit command: no executable of the user's own choosing and no
    ``.bandit`` ini file (read by bandit's command line only)."""
    return override is None and not (root / ".bandit").is_file()


_SCAN_LOCK = threading.Lock()


def scan(root: Path, path: str, excludes: list[str], files: list[str] | None = None) -> dict[str, Any]:
    """What ``bandit -r path -f json -q [-c config] -x globs`` prints, from bandit's manager API in this
    process (or over ``files`` only).

    NOTE: issue 14 — a second interpreter importing bandit cost more than the scan on a small repository
    (docs/performance.md). bandit parses the files (``ast``), it never runs them; its loggers are kept
    off gitorch's stderr. Targets and globs are absolute: the process's working directory is not the
    audited root. One scan at a time (bandit's extension manager is shared).
    """
    import logging

    from bandit.core import config as b_config
    from bandit.core import extension_loader
    from bandit.core import manager as b_manager
    from bandit.formatters import json as b_json

    logger = logging.getLogger("bandit")
    if logger.propagate:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    args = config_args(root)
    base = root.resolve()
    globs = ",".join(_anchored(base, g) for g in exclude_globs(root, excludes).split(",") if g)
    targets = [str(base / f) for f in files] if files is not None else [str(base / path)]
    with _SCAN_LOCK:
        conf = b_config.BanditConfig(config_file=str(base / args[1]) if args else None)
        tests, skips = conf.get_option("tests") or [], conf.get_option("skips") or []
        profile = {"include": set(tests), "exclude": set(skips)}
        extension_loader.MANAGER.validate_profile(profile)
        manager = b_manager.BanditManager(conf, "file", False, profile=profile, verbose=False, quiet=True)
        manager.discover_files(targets, True, globs)
        manager.run_tests()
        out = _Report()
        b_json.report(manager, out, "UNDEFINED", "UNDEFINED", 3)
    return json.loads(out.text)


def _anchored(base: Path, glob: str) -> str:
    """A ``-x`` glob written for ``./``-relative paths, for absolute ones under ``base`` only (a checkout
    inside ``.git`` must not be excluded by its own location)."""
    if glob.startswith("./"):
        return f"{base}/{glob[2:]}"
    if glob.startswith("*/"):
        return f"{base}/{glob[2:]},{base}/{glob}"
    return glob


class _Report(io.StringIO):
    """bandit's JSON formatter writes to a named file and closes it."""

    name = "<gitorch>"
    text = ""

    def close(self) -> None:
        self.text = self.getvalue()
        super().close()


#: Files whose change makes a per-file re-audit unsafe: bandit's own configuration.
CONFIG_FILES = frozenset(
    {".bandit", "pyproject.toml", "bandit.yaml", "bandit.yml", ".bandit.yaml", ".bandit.yml"}
)


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
    errors = sorted(report.get("errors", []), key=lambda e: relative(root, e.get("filename", "?")))
    for error in errors:
        file = relative(root, error.get("filename", "?"))
        notes.append(f"bandit could not scan {file}: {error.get('reason', '')}")
        if file.endswith(".py") and not is_excluded(file, excludes):
            out.append(parse_error(file, error.get("reason", "")))
    out.sort(key=lambda f: f.file or "")  # NOTE: one order whether every file or only changed ones ran
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
