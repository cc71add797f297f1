"""The check of an attempt's change before its tests, the same for every agent: the cheap gate (the
touched modules still compile and import), then the re-audit of the touched files (nothing new as severe
as the finding being fixed, and the finding gone).

:class:`Verifier` lives as long as a run. It keeps the findings open at the green commit per dimension
(from the last full audit, brought up to date by every commit's re-audit), so that the re-audit of an
attempt compares like with like without auditing the green commit again::

    verifier.reset(results)                       # after every full audit
    check = verifier.verify(root, green, patch, stats, finding, texts)
    if check.decision == "pass":
        ... tests, commit ...
        verifier.committed(check)                 # the re-audit is now the green commit's

NOTE: the re-audit is asked of the agent that audited each dimension (:meth:`Agent.recheck
<gitorch.plugin.agent.Agent.recheck>`); an agent that cannot re-audit a few files leaves the attempt to
the gates and the tests, and the next full audit judges it. Only the findings of the sources an agent
re-audits (``Agent.recheck_sources``) are compared: a finding of another tool merged into the audit is
neither "gone" nor "new" because the re-audit does not see it.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from gitorch.audit.discovery import excluded_dir
from gitorch.config import Config
from gitorch.errors import GitorchError
from gitorch.loop.dependencies import DependencyChange, Texts, dependency_changes
from gitorch.models import AuditResult, Finding
from gitorch.plugin.agent import Agent
from gitorch.plugin.checks import (
    ModuleProblem,
    ProjectEnvironment,
    RecheckRequest,
    base_fingerprint,
    closed_findings,
    new_findings,
)
from gitorch.vcs.diff import DiffStats, touched_lines
from gitorch.vcs.git import Git

Decision = str  # "pass", "reject" (it breaks something), "no-effect" (it fixes nothing)


@dataclass
class Check:
    """What the verification of one attempt found."""

    decision: Decision
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rechecked: list[str] = field(default_factory=list)
    new: list[Finding] = field(default_factory=list)
    closes: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dependencies: list[DependencyChange] = field(default_factory=list)
    # per dimension re-audited: (files re-audited, findings there now, sources compared)
    after: dict[str, tuple[list[str], list[Finding], tuple[str, ...]]] = field(default_factory=dict)

    def reason(self) -> str:
        if self.problems:
            return "; ".join(self.problems[:5])
        return "; ".join(self.notes[:3])


def compile_problems(git: Git, root_files: Mapping[str, bytes | None], green: str) -> list[ModuleProblem]:
    """The core's own cheap gate when no plugin lends a project environment: the touched Python files
    that parsed at ``green`` and no longer parse (``root_files``: path → content now)."""
    out = []
    for file, content in sorted(root_files.items()):
        if not file.endswith(".py") or content is None:
            continue
        reason = _parse_error(content, file)
        if reason is None:
            continue
        done = git.call("show", f"{green}:{file}")
        if done.ok and _parse_error(done.stdout.encode(), file) is not None:
            continue  # it did not parse before either: not this change's doing
        out.append(ModuleProblem(file, f"no longer compiles ({reason})"))
    return out


def _parse_error(content: bytes, file: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(content, filename=file)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:
        return str(exc)
    return None


class Verifier:
    """The checks of every attempt of one run (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        environment: ProjectEnvironment | None,
        agent: Callable[[str], Agent],
        *,
        path: str = ".",
    ) -> None:
        self.config = config
        self.environment = environment
        self.agent = agent
        self.path = path
        self.open: dict[str, list[Finding]] = {}  # dimension -> findings open at the green commit
        self.auditors: dict[str, str] = {}  # dimension -> the agent that audited it

    def reset(self, results: Mapping[str, AuditResult]) -> None:
        """The findings of a full audit become the green commit's."""
        self.open = {dim: list(r.findings) for dim, r in results.items()}
        self.auditors = {dim: r.agent for dim, r in results.items()}

    def committed(self, check: Check) -> None:
        """The attempt was committed: its re-audit is now what the green commit holds in those files."""
        for dim, (files, after, sources) in check.after.items():
            seen = set(files)
            kept = [
                f for f in self.open.get(dim, [])
                if not (f.file in seen and (not sources or f.source in sources))
            ]
            self.open[dim] = kept + list(after)

    # the check -----------------------------------------------------------------------------------

    def verify(
        self,
        root,
        green: str,
        patch: str,
        stats: DiffStats,
        target: Finding,
        texts: Texts,
    ) -> Check:
        touched = touched_lines(patch)
        files = sorted(touched)
        deps, _ = dependency_changes(stats, texts)
        check = Check("pass", files=files, dependencies=deps)
        self._cheap_gate(root, green, touched, check)
        if check.problems:
            check.decision = "reject"
            return check
        self._recheck(root, touched, target, check)
        if check.problems:
            check.decision = "reject"
        return check

    def _cheap_gate(self, root, green: str, touched: Mapping[str, Collection[int]], check: Check) -> None:
        python = [f for f in touched if f.endswith(".py")]
        if not python:
            return
        if self.environment is not None:
            problems = self.environment.broken_modules(root, python, base=green)
        else:
            contents = {}
            for f in python:
                target = root / f
                contents[f] = target.read_bytes() if target.is_file() else None
            problems = compile_problems(Git(root), contents, green)
        declared = {d.import_name for d in check.dependencies} | {d.name for d in check.dependencies}
        for problem in problems:
            if problem.missing_module and problem.missing_module.lower() in declared:
                check.notes.append(
                    f"{problem.file} imports {problem.missing_module}, a dependency this change adds "
                    f"(not installed where gitorch checks imports)"
                )
                continue
            check.problems.append(f"{problem.file} {problem.reason}")

    def _in_scope(self, file: str) -> bool:
        """Whether the audit covers ``file`` (the run's --path, not excluded)."""
        scope = self.path.rstrip("/")
        if scope not in ("", ".") and not (file == scope or file.startswith(scope + "/")):
            return False
        folder = file.rsplit("/", 1)[0] if "/" in file else ""
        return not (folder and excluded_dir(folder, list(self.config.exclude)))

    def _recheck(self, root, touched: Mapping[str, Collection[int]], target: Finding, check: Check) -> None:
        scope = {f: lines for f, lines in touched.items() if self._in_scope(f)}
        if not scope:
            return
        by_agent: dict[str, list[str]] = {}
        for dim, name in self.auditors.items():
            by_agent.setdefault(name, []).append(dim)
        audited = any(target.fingerprint == f.fingerprint for f in self.open.get(target.dimension, []))
        judged_target = False
        for name, dims in sorted(by_agent.items()):
            try:
                agent = self.agent(name)
            except GitorchError:
                continue
            request = RecheckRequest(root=root, files=scope, dimensions=tuple(dims), config=self.config,
                                     path=self.path)
            try:
                found = agent.recheck(request)
            except GitorchError as exc:
                check.problems.append(f"the re-audit by {name} failed: {exc}")
                return
            if found is None:
                continue
            sources = tuple(getattr(agent, "recheck_sources", ()) or ())
            for dim in dims:
                after = [f for f in found if f.dimension == dim]
                before = [
                    f for f in self.open.get(dim, [])
                    if f.file in scope and (not sources or f.source in sources)
                ]
                check.rechecked.append(dim)
                check.after[dim] = (sorted(scope), after, sources)
                check.new += new_findings(before, after, scope, target.severity)
                check.closes += closed_findings(before, after, before)
                if dim == target.dimension and audited and (not sources or target.source in sources):
                    judged_target = True
        if check.new:
            check.problems += [f"new {f.severity} {f.rule_id or ''} at {f.location}".replace("  ", " ")
                               for f in check.new[:5]]
            return
        if judged_target:
            gone = any(base_fingerprint(f) == base_fingerprint(target) for f in check.closes)
            if not gone:
                check.decision = "no-effect"
                check.notes.insert(0, f"the re-audit still reports {target.rule_id or 'the finding'} at "
                                      f"{target.location}: the change does not fix it")
        elif not audited and check.rechecked and not check.closes:
            check.notes.append("a deterministic fix the audit did not report: committed on the gates")


def describe_closes(findings: Sequence[Finding]) -> list[str]:
    """One line per finding a commit closes, for its message."""
    return [f"- {f.severity} {f.rule_id or f.description.splitlines()[0][:60]} at {f.location}"
            for f in findings]
