"""Security fixes from codemodder: one dry run per commit (a CodeTF report, cached), then its per-change
unified diffs applied one at a time.

NOTE: one codemodder run starts semgrep for its semgrep-backed codemods and takes minutes on a real
project (issue 3), so it runs once per commit in dry-run mode; the report is cached in the git
directory, keyed by commit, and reused after the loop commits other fixes (``git apply`` finds
hunks that moved). A change that no longer applies triggers a fresh run on that one file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError
from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from gitorch.errors import AgentError
from gitorch.models import Finding, Severity
from gitorch.vcs.git import DIFF_SAFETY, Git
from gitorch_local.tools import find_tool, run, tool_env

# Security codemods that change only the user's code (no new dependency). See docs/local-agent.md.
SECURITY_CODEMODS = [
    "pixee:python/add-requests-timeouts",
    "pixee:python/disable-graphql-introspection",
    "pixee:python/django-debug-flag-on",
    "pixee:python/django-json-response-type",
    "pixee:python/django-session-cookie-secure-off",
    "pixee:python/enable-jinja2-autoescape",
    "pixee:python/flask-json-response-type",
    "pixee:python/harden-pyyaml",
    "pixee:python/harden-ruamel",
    "pixee:python/https-connection",
    "pixee:python/jwt-decode-verify",
    "pixee:python/limit-readline",
    "pixee:python/replace-flask-send-file",
    "pixee:python/requests-verify",
    "pixee:python/safe-lxml-parser-defaults",
    "pixee:python/safe-lxml-parsing",
    "pixee:python/secure-flask-cookie",
    "pixee:python/secure-flask-session-configuration",
    "pixee:python/secure-random",
    "pixee:python/secure-tempfile",
    "pixee:python/sql-parameterization",
    "pixee:python/subprocess-shell-false",
    "pixee:python/upgrade-sslcontext-minimum-version",
    "pixee:python/upgrade-sslcontext-tls",
]

# Security codemods that add a package to the project (and to its dependency file): used only with the
# ``dependency_codemods`` option, since a new dependency needs a human's yes (see docs/local-agent.md).
DEPENDENCY_CODEMODS = [
    "pixee:python/use-defusedxml",  # defusedxml
    "pixee:python/harden-pickle-load",  # fickling
    "pixee:python/flask-enable-csrf-protection",  # flask-wtf
]

# Left out on purpose, with the reason (shown in the docs).
EXCLUDED_CODEMODS = {
    "pixee:python/url-sandbox": "wraps requests in the `security` package's sandbox (changes behaviour)",
    "pixee:python/sandbox-process-creation": "wraps subprocess calls in the `security` package's sandbox",
}

# bandit test -> the codemods that fix it. A finding whose test is not listed may take any change on
# its lines.
BANDIT_CODEMODS: dict[str, set[str]] = {
    "B113": {"add-requests-timeouts"},
    "B306": {"secure-tempfile"},
    "B311": {"secure-random"},
    "B309": {"https-connection"},
    "B501": {"requests-verify"},
    "B502": {"upgrade-sslcontext-tls"},
    "B503": {"upgrade-sslcontext-tls"},
    "B504": {"upgrade-sslcontext-tls"},
    "B506": {"harden-pyyaml"},
    "B602": {"subprocess-shell-false"},
    "B604": {"subprocess-shell-false"},
    "B608": {"sql-parameterization"},
    "B701": {"enable-jinja2-autoescape"},
    # with dependency_codemods
    **dict.fromkeys(["B313", "B314", "B315", "B316", "B317", "B318", "B319",
                     "B405", "B406", "B407", "B408", "B409"], {"use-defusedxml"}),
    "B320": {"safe-lxml-parsing", "safe-lxml-parser-defaults", "use-defusedxml"},
    "B410": {"safe-lxml-parsing", "safe-lxml-parser-defaults", "use-defusedxml"},
    "B301": {"harden-pickle-load"},
    "B403": {"harden-pickle-load"},
}

DEFAULT_PATH_EXCLUDES = [  # codemodder's own defaults, which --path-exclude would otherwise replace
    "test/**", "tests/**", "**/__test__/**", "**/__tests__/**", "conftest.py", "build/**", "dist/**",
    "venv/**", "**/site-packages/**", ".venv/**", ".tox/**", ".nox/**", ".eggs/**", ".git/**",
    ".mypy_cache/**", ".pytest_cache/**", ".hypothesis/**", ".coverage*",
]

_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text.strip())


# ---------------------------------------------------------------------------------------------
# CodeTF, the part we read.


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CodetfPackageAction(_Loose):
    action: str = ""
    result: str = ""
    package: str = ""


class CodetfChange(_Loose):
    lineNumber: int  # noqa: N815 - CodeTF's own key
    description: str | None = None
    packageActions: list[CodetfPackageAction] = []  # noqa: N815


class CodetfChangeset(_Loose):
    path: str
    diff: str
    changes: list[CodetfChange] = []


class CodetfResult(_Loose):
    codemod: str
    summary: str = ""
    changeset: list[CodetfChangeset] = []


class Codetf(_Loose):
    results: list[CodetfResult] = []


@dataclass(frozen=True)
class Change:
    """One codemod's change to one file: the unit applied at once."""

    codemod: str
    path: str
    patch: str  # a unified diff with a/ b/ headers, ready for git apply
    summary: str
    description: str
    lines: tuple[int, ...]  # changed lines in the new file (CodeTF's lineNumber)
    removed: tuple[tuple[int, str], ...] = field(default=())  # (old line number, text)
    added: tuple[str, ...] = field(default=())  # the lines it adds
    packages: tuple[str, ...] = field(default=())  # packages it adds to a dependency file

    @property
    def adds_dependency(self) -> bool:
        return bool(self.packages)

    @property
    def short_id(self) -> str:
        return self.codemod.split("/", 1)[-1]

    @property
    def primary(self) -> tuple[int, str] | None:
        """The removed line nearest the first changed line: the one the change is about."""
        if not self.removed:
            return None
        if not self.lines:
            return self.removed[0]
        return min(self.removed, key=lambda item: abs(item[0] - self.lines[0]))

    @property
    def first_line(self) -> int:
        primary = self.primary
        return primary[0] if primary else (self.lines[0] if self.lines else 1)

    def as_finding(self, source_line: str | None) -> Finding:
        """A deterministic fix that matches no audit finding, offered to the loop."""
        return Finding(
            dimension="security",
            severity=Severity.P3,
            rule_id=f"codemod:{self.codemod}",
            file=self.path,
            line=self.first_line,
            description=f"{self.summary}: {self.description}",
            recommendation=f"Apply codemodder's {self.codemod} change (deterministic, offline).",
            snippet=self.primary[1] if self.primary else source_line,
            source="codemodder",
        )


def changes_of(report: Codetf) -> list[Change]:
    out: list[Change] = []
    for result in report.results:
        for changeset in result.changeset:
            body = changeset.diff.split("\n", 2)
            if len(body) < 3 or not body[0].startswith("---"):
                continue
            patch = f"--- a/{changeset.path}\n+++ b/{changeset.path}\n{body[2]}"
            try:
                parsed = PatchSet(patch)
            except UnidiffParseError:
                continue
            removed = tuple(
                (line.source_line_no, _norm(line.value))
                for pfile in parsed for hunk in pfile for line in hunk
                if line.is_removed and line.source_line_no
            )
            added = tuple(line.value.rstrip("\n") for pfile in parsed for hunk in pfile for line in hunk
                          if line.is_added)
            descriptions = [c.description for c in changeset.changes if c.description]
            out.append(
                Change(
                    codemod=result.codemod,
                    path=changeset.path,
                    patch=patch,
                    summary=result.summary or result.codemod,
                    description=descriptions[0] if descriptions else result.summary,
                    lines=tuple(c.lineNumber for c in changeset.changes),
                    removed=removed,
                    added=added,
                    packages=tuple(a.package for c in changeset.changes for a in c.packageActions
                                   if a.action == "add" and a.package),
                )
            )
    return out


def matches(change: Change, finding: Finding, *, by_line: bool) -> bool:
    """Does this change fix that finding? Same file; the finding's source line is among the lines the
    change removes, or (on a report made at this very commit) a changed line lies in its range."""
    if finding.file != change.path:
        return False
    rule = finding.rule_id or ""
    if rule.startswith("codemod:"):
        if rule.removeprefix("codemod:") != change.codemod:
            return False
    elif rule in BANDIT_CODEMODS and change.short_id not in BANDIT_CODEMODS[rule]:
        return False
    if finding.snippet and _norm(finding.snippet) in {text for _, text in change.removed}:
        return True
    if by_line and finding.line:
        first, last = finding.line, max(finding.end_line or finding.line, finding.line)
        if rule.startswith("codemod:"):
            return first == change.first_line
        return any(first <= n <= last for n in change.lines) or any(
            first <= n <= last for n, _ in change.removed
        )
    return False


# ---------------------------------------------------------------------------------------------
# Running codemodder and caching its report.


def command(exe: str, output: Path, codemods: list[str], path_excludes: list[str],
            path_include: str | None) -> list[str]:
    argv = [exe, ".", "--dry-run", "--output", str(output), "--output-format", "codetf",
            "--codemod-include", ",".join(codemods), "--path-exclude", ",".join(path_excludes)]
    if path_include:
        argv += ["--path-include", path_include]
    return argv


def path_excludes(excludes: list[str]) -> list[str]:
    extra = []
    for entry in excludes:
        entry = entry.strip("/")
        extra += [f"{entry}/**"] if "/" in entry else [f"{entry}/**", f"**/{entry}/**"]
    return list(dict.fromkeys(DEFAULT_PATH_EXCLUDES + extra))


def _git(root: Path, *args: str) -> str | None:
    done = Git(root).call(*args)
    return done.stdout.strip() if done.ok else None


class ReportCache:
    """CodeTF reports of one worktree, on disk in the git directory, keyed by commit and scope."""

    def __init__(self, root: Path, scope: str) -> None:
        self.root = root
        self.scope = scope
        common = _git(root, "rev-parse", "--path-format=absolute", "--git-common-dir")
        if common:
            self.dir = Path(common) / "gitorch" / "local-agent" / "codetf"
        else:  # not a git repository: a temporary folder per root
            digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
            self.dir = Path(tempfile.gettempdir()) / f"gitorch-local-{digest}"

    def head(self) -> str | None:
        """The commit the worktree is at, with a digest of uncommitted changes when it is dirty."""
        head = _git(self.root, "rev-parse", "HEAD")
        if head is None:
            return None
        status = _git(self.root, "status", "--porcelain", "--untracked-files=all", "--", "*.py")
        if status:
            diff = _git(self.root, "diff", *DIFF_SAFETY, "HEAD") or ""
            return f"{head}+{hashlib.sha256((diff + status).encode()).hexdigest()[:12]}"
        return head

    def _file(self, key: str, file: str | None) -> Path:
        extra = hashlib.sha256(file.encode()).hexdigest()[:10] if file else "all"
        return self.dir / f"{key}-{self.scope}-{extra}.json"

    def load(self, file: str | None = None) -> tuple[Codetf, bool, str] | None:
        """The report for HEAD (fresh), else the newest one of an ancestor commit, with the commit it
        was made at. With ``file``, a report counts as fresh when that file is the same now as at the
        report's commit (its line numbers still hold): a retry, or a fix after commits to other files,
        reuses it instead of running codemodder again."""
        head = self.head()
        if head is None:
            return None
        history = (_git(self.root, "rev-list", "--max-count=200", "HEAD") or "").split()
        # HEAD itself is an older state when the worktree has uncommitted changes.
        candidates = [head] + (history if "+" in head else history[1:])
        current = _git(self.root, "hash-object", "--", file) if file else None
        stale: tuple[Path, str] | None = None
        for key in candidates:
            for scoped in ([file, None] if file else [None]):
                path = self._file(key, scoped)
                if not path.is_file():
                    continue
                fresh = key == head or (current is not None and "+" not in key
                                        and _git(self.root, "rev-parse", f"{key}:{file}") == current)
                if fresh:
                    report = self._read(path)
                    if report is not None:
                        return report, True, key
                elif stale is None:
                    stale = (path, key)
        if stale is not None:
            report = self._read(stale[0])
            if report is not None:
                return report, False, stale[1]
        return None

    @staticmethod
    def _read(path: Path) -> Codetf | None:
        try:
            return Codetf.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValidationError, OSError):
            return None

    def store(self, report_text: str, file: str | None = None) -> None:
        head = self.head()
        if head is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._file(head, file).write_text(report_text, encoding="utf-8")


def produce(root: Path, codemods: list[str], excludes: list[str], timeout: float,
            path_include: str | None, exe_override: str | None = None) -> str:
    """Run codemodder once in dry-run mode and return its CodeTF report (JSON text)."""
    exe = find_tool("codemodder", exe_override)
    find_tool("semgrep")  # codemodder runs it by name for several security codemods
    with tempfile.TemporaryDirectory(prefix="gitorch-codetf-") as tmp:
        output = Path(tmp) / "report.codetf.json"
        argv = command(exe, output, codemods, path_excludes(excludes), path_include)
        done = run(argv, root, timeout=timeout, env=tool_env(), writable=(Path(tmp),))
        if done.timed_out:
            raise AgentError(f"codemodder did not finish within {timeout:g}s")
        if not output.is_file():
            tail = (done.stderr or done.stdout).strip()[-500:]
            raise AgentError(f"codemodder exited {done.returncode} without a CodeTF report: {tail}")
        return output.read_text(encoding="utf-8")


def apply(root: Path, change: Change, *, check: bool = False) -> tuple[bool, str]:
    """Apply one change: ``git apply`` first (it tolerates hunks that moved), else each hunk at the
    occurrence of its old lines nearest to where it was (a hunk anchored at line 1 no longer is once
    an earlier fix added an import). ``check`` only tells whether it would apply. Returns (ok, message)."""
    with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False, encoding="utf-8") as handle:
        handle.write(change.patch if change.patch.endswith("\n") else change.patch + "\n")
        patch = handle.name
    try:
        done = Git(root).call("apply", "--whitespace=nowarn", *(["--check"] if check else []), patch)
        if done.ok:
            return True, ""
        if _relocate(root, change, write=not check):
            return True, "applied at moved lines"
        return False, done.stderr.strip()[:300]
    finally:
        Path(patch).unlink(missing_ok=True)


def _relocate(root: Path, change: Change, *, write: bool) -> bool:
    path = root / change.path
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            lines = handle.read().splitlines(keepends=True)
        hunks = list(PatchSet(change.patch)[0])
    except (OSError, UnidiffParseError, IndexError):
        return False
    # Last hunk first, so earlier hunks' positions stay valid.
    for hunk in sorted(hunks, key=lambda h: h.source_start, reverse=True):
        old = [line.value for line in hunk if line.is_context or line.is_removed]
        new = [line.value for line in hunk if line.is_context or line.is_added]
        found = [i for i in range(len(lines) - len(old) + 1) if lines[i:i + len(old)] == old]
        if not found:
            return False
        at = min(found, key=lambda i: abs(i - (hunk.source_start - 1)))
        lines[at:at + len(old)] = new
    if write:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write("".join(lines))
    return True


def companions(change: Change, changes: list[Change]) -> list[Change]:
    """The dependency-file changes that go with ``change`` (the same codemod adding its package)."""
    return [c for c in changes if c.codemod == change.codemod and c.adds_dependency and c.path != change.path]


def _where_now(change: Change, text: str) -> list[int]:
    """The lines of ``text`` the change removes: each removed line's text nearest its old number
    (earlier commits may have moved it since the report was made)."""
    current = [_norm(line) for line in text.splitlines()]
    out = []
    for number, removed in change.removed:
        hits = [i + 1 for i, line in enumerate(current) if line == removed]
        if hits:
            out.append(min(hits, key=lambda n: abs(n - number)))
    return out


def unproven(change: Change, before: str) -> str | None:
    """Why ``change`` must not be applied to ``before`` (its precondition is not proven at the call
    site), or None. See :mod:`gitorch_local.preconditions`."""
    from gitorch_local import preconditions  # NOTE: libcst costs ~0.3 s to import; audits never need it

    lines = _where_now(change, before)
    if change.short_id == "subprocess-shell-false" and not preconditions.shell_false_is_safe(before, lines):
        return ("its command is not proven to be a list at the call site (a string run with "
                "shell=False fails at run time)")
    sql = change.short_id == "sql-parameterization"
    if sql and not preconditions.sql_placeholders_match_driver(before, change.added):
        drivers = sorted(preconditions.drivers_imported(before)) or ["none imported in the module"]
        return f"its placeholders are not proven to be the database driver's (driver: {', '.join(drivers)})"
    return None


def targeted(rule: str) -> bool:
    """Is there a codemod aimed at this rule (worth a codemodder run)?"""
    return rule.startswith("codemod:") or rule in BANDIT_CODEMODS


def outside_scope(file: str, excludes: list[str]) -> bool:
    """True for files codemodder skips (its default excludes: tests, build, venvs; and ours)."""
    return any(fnmatch.fnmatch(file, pattern) for pattern in path_excludes(excludes))


def scope_key(codemods: list[str], excludes: list[str], path: str) -> str:
    return hashlib.sha256(json.dumps([sorted(codemods), sorted(excludes), path]).encode()).hexdigest()[:10]


def path_include_for(path: str) -> str | None:
    path = path.strip("/")
    return None if path in ("", ".") else f"{path}/*.py"


def load_or_produce(root: Path, codemods: list[str], excludes: list[str], path: str, timeout: float,
                    exe: str | None, *, file: str | None = None, fresh_only: bool = False,
                    produce_missing: bool = True, report=None) -> tuple[list[Change], bool, str | None]:  # noqa: ANN001
    """The changes codemodder proposes for ``root`` at its current commit, from cache when possible.

    ``file`` restricts a fresh run to one file (used when a cached change no longer applies, and
    for every fix once a whole-tree run has timed out here). Returns ``(changes, fresh, commit)``:
    ``fresh`` is False for a report made at an earlier ``commit``.
    """
    cache = ReportCache(root, scope_key(codemods, excludes, path))
    found = cache.load(file)
    if found is not None and (found[1] or not fresh_only):
        return changes_of(found[0]), found[1], found[2]
    if not produce_missing:
        return [], False, None
    marker = cache.dir / f"timeout-{cache.scope}-{int(timeout)}"
    if file is None and marker.exists():
        # NOTE: a whole-tree run already timed out with this timeout: do not pay it again.
        raise AgentError(f"codemodder timed out on this tree before ({timeout:g}s); raise "
                         "agents.local.codemod_timeout_s to try again")
    if report is not None:
        report(f"running codemodder ({len(codemods)} security codemods, dry run)…")
    try:
        text = produce(root, codemods, excludes, timeout, file or path_include_for(path), exe)
    except AgentError:
        if file is None and cache.head() is not None:
            cache.dir.mkdir(parents=True, exist_ok=True)
            marker.touch()
        raise
    cache.store(text, file)
    return changes_of(Codetf.model_validate_json(text)), True, cache.head()


def line_was_there(root: Path, commit: str | None, file: str, snippet: str | None) -> bool:
    """Was ``snippet`` already a line of ``file`` at ``commit``? Then a report made there saw it, and
    a new codemodder run on the same code would propose nothing more."""
    if not commit or not snippet:
        return False
    text = _git(root, "show", "--no-textconv", f"{commit.split('+')[0]}:{file}")
    return text is not None and _norm(snippet) in {_norm(line) for line in text.splitlines()}


def whole_tree_timed_out(
    root: Path, codemods: list[str], excludes: list[str], path: str, timeout: float
) -> bool:
    """Did a whole-tree codemodder run time out here (with this timeout)?"""
    cache = ReportCache(root, scope_key(codemods, excludes, path))
    return (cache.dir / f"timeout-{cache.scope}-{int(timeout)}").exists()
