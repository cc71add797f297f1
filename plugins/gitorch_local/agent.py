"""The embedded local agent: offline audits from real analyzers and deterministic fixes."""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import Field

from gitorch.config import Config
from gitorch.errors import AgentError, AnalyzerMissingError
from gitorch.models import (
    Agent,
    AuditRequest,
    AuditResult,
    Availability,
    Finding,
    FixRequest,
    FixResult,
    Severity,
)
from gitorch.plugin.checks import ProjectEnvironment, RecheckRequest
from gitorch_local import bandit, codemods, radon, ruff, ruff_fix, tests_audit, verify
from gitorch_local.tools import (
    SourceLines,
    display,
    find_tool,
    is_excluded,
    parse_json,
    run,
    tool_env,
    tool_identity,
    under,
)

LEFT_FOR_AI = "left for an AI agent"


class LocalAgent(Agent):
    """Audits with bandit, ruff, radon and the test suite; fixes with ruff's safe fixes and codemodder."""

    name = "local"
    description = "embedded offline agent: bandit, ruff, radon, pytest+coverage; ruff safe fixes, codemodder"
    audits = frozenset({"security", "backend", "architecture", "tests"})
    fixes = frozenset({"security", "backend"})
    default = True  # the routing chains the configuration leaves unset
    parallel_audits = 4  # each audit is its own analyzer process (or, in-process, its own objects)
    recheck_sources = ("bandit", "ruff")  # what recheck() re-audits; radon and pytest findings are not

    class Options(Agent.Options):
        """``[agents.local]`` settings."""

        bandit: str | None = Field(None, description="bandit executable (default: next to Python, then PATH)")
        ruff: str | None = Field(None, description="ruff executable")
        radon: str | None = Field(None, description="radon executable")
        codemodder: str | None = Field(None, description="codemodder executable")
        ruff_select: list[str] = Field(default_factory=lambda: list(ruff.CURATED_SELECT),
                                       description="ruff rules when the repository has no ruff config")
        ruff_ignore: list[str] = Field(default_factory=lambda: list(ruff.CURATED_IGNORE))
        extra_fix_rules: list[str] = Field(
            default_factory=lambda: ["I"],
            description="ruff rules whose safe fixes are offered as extra fixes (when no repo ruff config)",
        )
        cc_min_rank: Literal["B", "C", "D", "E", "F"] = Field("C", description="radon cc rank reported from")
        cc_severity: dict[str, Severity] = Field(
            default_factory=lambda: {"B": Severity.P4, "C": Severity.P3, "D": Severity.P2,
                                     "E": Severity.P2, "F": Severity.P1})
        mi_min_rank: Literal["B", "C"] = Field("B", description="radon mi rank reported from")
        mi_severity: dict[str, Severity] = Field(
            default_factory=lambda: {"B": Severity.P3, "C": Severity.P2})
        mi_data_ratio: float = Field(
            0.75, gt=0, le=1, description="skip radon mi on files whose lines are mostly data-table rows")
        ruff_unsafe_fixes: bool = Field(
            True, description="also try ruff's unsafe fixes, one at a time, kept only when the checks pass")
        codemods: list[str] = Field(default_factory=lambda: list(codemods.SECURITY_CODEMODS),
                                    description="codemodder codemods used for security fixes")
        codemods_exclude: list[str] = Field(default_factory=list)
        dependency_codemods: bool = Field(
            False, description="also use the codemods that add a package (defusedxml, fickling, flask-wtf); "
                               "each such fix names the package and updates the dependency file")
        analyzer_timeout_s: float = Field(600, gt=0)
        codemod_timeout_s: float = Field(600, gt=0)

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - Agent's own signature
        super().__init__(*args, **kwargs)
        self._recheck_cache: dict[tuple[str, str], list[Finding]] = {}

    @classmethod
    def availability(cls) -> Availability:
        here = str(Path(sys.executable).parent)
        missing = [tool for tool in ("bandit", "ruff", "radon")
                   if not (shutil.which(tool, path=here) or shutil.which(tool))]
        if missing:
            names = ", ".join(missing)
            return Availability(False, f"missing analyzer(s): {names} (pip install {' '.join(missing)})")
        return Availability(True)

    # ------------------------------------------------------------------------------------------
    # Audit

    def audit(self, request: AuditRequest) -> AuditResult:
        dimension = request.dimension.name
        if dimension not in self.audits:
            raise AgentError(f"the local agent does not audit {dimension!r}; it audits "
                             f"{', '.join(sorted(self.audits))}")
        start = time.monotonic()
        root = Path(request.root).resolve()
        handler = {
            "security": self._security,
            "backend": self._backend,
            "architecture": self._architecture,
            "tests": self._tests,
        }[dimension]
        findings, notes = handler(request, root)
        return AuditResult(
            dimension=dimension,
            agent=self.name,
            path=request.path,
            findings=findings,
            duration_s=round(time.monotonic() - start, 3),
            notes=notes,
        )

    # ------------------------------------------------------------------------------------------
    # Reuse (the audit cache)

    #: The analyzers each cached dimension runs. NOTE: the tests dimension is never reused: a test run's
    #: outcome depends on more than the tree (the environment, the clock, flaky tests).
    ANALYZERS = {"security": ("bandit",), "backend": ("ruff",), "architecture": ("radon",)}

    def cache_identity(self, request: AuditRequest) -> dict | None:
        tools = self.ANALYZERS.get(request.dimension.name)
        if tools is None:
            return None
        return {tool: tool_identity(tool, getattr(self.options, tool)) for tool in tools}

    def reaudit(self, request: AuditRequest, previous: AuditResult, changed: list[str]) -> AuditResult | None:
        """bandit and ruff (curated rules) look at one file at a time: only the changed files are analysed
        again, and ``previous``'s findings in the other files are kept. Anything else runs in full: radon
        (cheap), ruff under the repository's own configuration (its rules may span files: isort's
        first-party modules), a change to an analyzer's configuration file."""
        dimension = request.dimension.name
        root = Path(request.root).resolve()
        if dimension == "security" and not bandit.config_args(root):
            config_files = bandit.CONFIG_FILES
        elif dimension == "backend" and not ruff.has_repo_config(root):
            config_files = ruff.CONFIG_FILES
        else:
            return None
        if any(PurePosixPath(f).name in config_files for f in changed):
            return None
        start = time.monotonic()
        excludes = self._excludes(request)
        scope = [f for f in changed if under(f, request.path) and f.endswith(".py")]
        targets = [f for f in scope if (root / f).is_file() and not is_excluded(f, excludes)]
        if targets:
            request.report(f"re-running {'bandit' if dimension == 'security' else 'ruff'} on "
                           f"{len(targets)} changed file(s)…")
            findings, notes = self._security_files(request, root, targets) if dimension == "security" \
                else self._backend_files(request, root, targets)
        else:
            findings, notes = [], []
        gone = set(scope)
        kept = [f for f in previous.findings if f.file not in gone]
        merged = sorted([*kept, *findings], key=lambda f: f.file or "")
        if dimension == "security":
            stale = tuple(f"bandit could not scan {f}:" for f in gone)
            old_notes = [n for n in previous.notes if not n.startswith(stale)]
            notes = sorted([*old_notes, *notes])
        else:
            notes = list(previous.notes)
        return AuditResult(
            dimension=dimension,
            agent=self.name,
            path=request.path,
            findings=merged,  # NOTE: fingerprints only repeat within a file, so each file keeps its own
            duration_s=round(time.monotonic() - start, 3),
            notes=notes,
        )

    def _security_files(
        self, request: AuditRequest, root: Path, files: list[str]
    ) -> tuple[list[Finding], list[str]]:
        if bandit.in_process_possible(root, self.options.bandit):
            report = bandit.scan(root, request.path, self._excludes(request), files=files)
            return bandit.findings(report, root, self._excludes(request))
        argv = bandit.command(self._exe("bandit", self.options.bandit, request), root, request.path,
                              self._excludes(request), files=files)
        done = run(argv, root, timeout=self.options.analyzer_timeout_s)
        if done.timed_out:
            raise AgentError(f"bandit did not finish within {self.options.analyzer_timeout_s:g}s")
        findings, notes = bandit.findings(parse_json(done, "bandit"), root, self._excludes(request))
        return findings, notes

    def _backend_files(
        self, request: AuditRequest, root: Path, files: list[str]
    ) -> tuple[list[Finding], list[str]]:
        opts = self.options
        rules = ruff.rule_args(root, opts.ruff_select, opts.ruff_ignore)
        argv = ruff.command(self._exe("ruff", opts.ruff, request), root, files, self._excludes(request),
                            [*rules, "--force-exclude"])
        return ruff.findings(self._ruff_json(argv, root), root, self._excludes(request)), []

    def _excludes(self, request: AuditRequest) -> list[str]:
        return list(request.config.exclude)

    def _security(self, request: AuditRequest, root: Path) -> tuple[list[Finding], list[str]]:
        opts = self.options
        argv = bandit.command(self._exe("bandit", opts.bandit, request), root, request.path,
                              self._excludes(request))
        if request.dry_run:
            return [], [f"would run: {display(argv, root)}"]
        request.report("running bandit…")
        if bandit.in_process_possible(root, opts.bandit):
            return bandit.findings(bandit.scan(root, request.path, self._excludes(request)), root,
                                   self._excludes(request))
        done = run(argv, root, timeout=opts.analyzer_timeout_s)
        if done.timed_out:
            raise AgentError(f"bandit did not finish within {opts.analyzer_timeout_s:g}s")
        findings, notes = bandit.findings(parse_json(done, "bandit"), root, self._excludes(request))
        return findings, notes

    def _backend(self, request: AuditRequest, root: Path) -> tuple[list[Finding], list[str]]:
        opts = self.options
        rules = ruff.rule_args(root, opts.ruff_select, opts.ruff_ignore)
        argv = ruff.command(self._exe("ruff", opts.ruff, request), root, [request.path],
                            self._excludes(request), rules)
        if request.dry_run:
            return [], [f"would run: {display(argv, root)}"]
        request.report("running ruff…")
        diagnostics = self._ruff_json(argv, root)
        notes = ["ruff: the repository's own ruff configuration" if not rules
                 else f"ruff: curated rules {','.join(opts.ruff_select)}"]
        return ruff.findings(diagnostics, root, self._excludes(request)), notes

    def _architecture(self, request: AuditRequest, root: Path) -> tuple[list[Finding], list[str]]:
        opts = self.options
        exe = self._exe("radon", opts.radon, request)
        excludes = self._excludes(request)
        cc = radon.cc_command(exe, request.path, excludes, opts.cc_min_rank)
        skip = [] if request.dry_run else radon.data_files(root, request.path, excludes, opts.mi_data_ratio)
        mi = radon.mi_command(exe, request.path, excludes, skip)
        if request.dry_run:
            return [], [f"would run: {display(cc, root)}", f"would run: {display(mi, root)}"]
        request.report("running radon cc…")
        cc_report = self._json(cc, root, "radon cc")
        request.report("running radon mi…")
        mi_report = self._json(mi, root, "radon mi")
        found, notes = radon.cc_findings(cc_report, root, excludes, opts.cc_min_rank, opts.cc_severity)
        more, more_notes = radon.mi_findings(mi_report, root, excludes, opts.mi_min_rank, opts.mi_severity)
        skipped = [f"radon mi skipped {len(skip)} data table file(s) (radon mi blows up on those): "
                   f"{', '.join(skip[:5])}{' …' if len(skip) > 5 else ''}"] if skip else []
        return found + more, notes + more_notes + skipped

    def _tests(self, request: AuditRequest, root: Path) -> tuple[list[Finding], list[str]]:
        config = request.config
        test_run = tests_audit.plan(config, request.path)
        try:
            text = tests_audit.describe(test_run, root)
            if request.dry_run:
                return [], [f"would run: {text}"]
            request.report("running the tests with coverage…")
            done = tests_audit.execute(test_run, root, config.tests.timeout_s)
            if tests_audit.lacks_pytest_cov(done):
                # The project's environment has no pytest-cov: run again without coverage, honestly.
                shutil.rmtree(test_run.workdir, ignore_errors=True)
                test_run = tests_audit.plan(config, request.path, coverage=False)
                text = tests_audit.describe(test_run, root)
                done = tests_audit.execute(test_run, root, config.tests.timeout_s)
            excludes = self._excludes(request)
            return tests_audit.audit(test_run, done, root, request.path, excludes, config, text)
        finally:
            shutil.rmtree(test_run.workdir, ignore_errors=True)

    # ------------------------------------------------------------------------------------------
    # Fix

    def fix(self, request: FixRequest) -> FixResult:
        finding = request.finding
        rule = finding.rule_id or ""
        if ruff_fix.is_group(finding):
            return self._fix_group(request)
        if not finding.file:
            return FixResult(status="cannot_fix", summary=f"no file to fix; {LEFT_FOR_AI}")
        root = Path(request.root).resolve()
        if not (root / finding.file).resolve().is_relative_to(root):
            return FixResult(status="cannot_fix", summary=f"{finding.file} is outside the worktree")
        if finding.dimension == "backend" and rule.startswith("ruff:"):
            return self._fix_ruff(request)
        if finding.dimension == "security" and (rule.startswith("codemod:") or rule.startswith("B")):
            return self._fix_codemod(request)
        return FixResult(status="cannot_fix",
                         summary=f"no deterministic fix for {rule or finding.dimension}; {LEFT_FOR_AI}")

    def _fix_ruff(self, request: FixRequest) -> FixResult:
        root, finding, opts = Path(request.root).resolve(), request.finding, self.options
        code = (finding.rule_id or "").removeprefix("ruff:")
        if code == "syntax-error":
            return FixResult(status="cannot_fix", summary=f"syntax errors are {LEFT_FOR_AI}")
        rules = ruff.rule_args(root, [code], [])
        rules = rules or ["--select", code]  # repo config: keep its settings, look at this rule only
        argv = ruff.command(find_tool("ruff", opts.ruff), root, [finding.file or "."], [], rules)
        if request.dry_run:
            return FixResult(status="unchanged", summary=f"dry run: would run {display(argv, root)}")
        path = root / (finding.file or "")
        before = path.read_bytes() if path.is_file() else b""
        outcome = ruff_fix.fix_one(root, finding, self._ruff_json(argv, root), unsafe=opts.ruff_unsafe_fixes)
        if outcome.status == "changed":
            refused = self._self_check(root, finding, before)
            if refused:
                path.write_bytes(before)
                return FixResult(status="cannot_fix", summary=f"ruff's fix undone: {refused}; {LEFT_FOR_AI}")
        return FixResult(status=outcome.status, summary=outcome.summary)  # type: ignore[arg-type]

    def _self_check(self, root: Path, finding: Finding, before: bytes) -> str | None:
        """Why the change just made to ``finding.file`` must be undone, or None: the file no longer
        parses, the change adds a finding at the same or a higher severity on the lines it touched,
        or (for an audit finding) the finding is still there. See :mod:`gitorch_local.verify`."""
        file = finding.file or ""
        old = before.decode("utf-8", "replace")
        new = (root / file).read_text(encoding="utf-8", errors="replace")
        if verify.parse_failure(root, file, before) is None:
            broken = verify.parse_failure(root, file)
            if broken:
                return f"{file} no longer parses ({broken})"
        previous = self._findings_of(root, file, before)
        check = verify.recheck_attempt(
            root, {file: verify.changed_lines(old, new)}, previous, finding, base=None,
            ruff_select=self.options.ruff_select, ruff_ignore=self.options.ruff_ignore,
            timeout=self.options.analyzer_timeout_s,
        )
        self._remember(root, check, [file])
        if check.rejection:
            return check.rejection
        audited = finding.source in ("bandit", "ruff") and any(
            f.fingerprint == finding.fingerprint for f in previous)
        if audited and not check.target_gone:
            return f"{finding.rule_id} is still reported at {finding.location} after the change"
        return None

    def _findings_of(self, root: Path, file: str, content: bytes) -> list[Finding]:
        """The re-audit findings of ``file`` with ``content`` (cached by content: a retry costs nothing)."""
        key = (file, _digest(content))
        cached = self._recheck_cache.get(key)
        if cached is None:
            current = (root / file).read_bytes()
            try:
                (root / file).write_bytes(content)
                cached = verify.reaudit(root, [file], ruff_select=self.options.ruff_select,
                                        ruff_ignore=self.options.ruff_ignore,
                                        timeout=self.options.analyzer_timeout_s)
            finally:
                (root / file).write_bytes(current)
            self._recheck_cache[key] = cached
        return cached

    def _remember(self, root: Path, check: verify.Recheck, files: list[str]) -> None:
        """Keep what a self-check found in the changed files: the fix loop's re-audit of the same content
        (:meth:`recheck`) then costs nothing."""
        for file in files:
            if file not in check.unparsable and (root / file).is_file():
                key = (file, _digest((root / file).read_bytes()))
                self._recheck_cache[key] = [f for f in check.findings if f.file == file]

    def recheck(self, request: RecheckRequest) -> list[Finding] | None:
        """The security (bandit) and backend (ruff) findings of the touched files, as the audit reports
        them (cached by content); None for the other dimensions."""
        wanted = [d for d in request.dimensions if d in verify.RECHECKED_DIMENSIONS]
        if not wanted:
            return None
        root = Path(request.root).resolve()
        found: list[Finding] = []
        todo: dict[str, tuple[str, str]] = {}
        for file in sorted(request.files):
            path = root / file
            if not file.endswith(".py") or not path.is_file():
                continue
            key = (file, _digest(path.read_bytes()))
            if key in self._recheck_cache:
                found += self._recheck_cache[key]
            else:
                todo[file] = key
        if todo:
            opts = self.options
            fresh = verify.reaudit(root, list(todo), ruff_select=opts.ruff_select,
                                   ruff_ignore=opts.ruff_ignore, timeout=opts.analyzer_timeout_s)
            for file, key in todo.items():
                self._recheck_cache[key] = [f for f in fresh if f.file == file]
                found += self._recheck_cache[key]
        return [f for f in found if f.dimension in wanted]

    def project_environment(self, checkout: Path, config: Config) -> ProjectEnvironment | None:
        """The project's interpreter or virtualenv (see :mod:`gitorch_local.environment`)."""
        from gitorch_local.environment import LocalProjectEnvironment

        return LocalProjectEnvironment(checkout, config)

    def _codemod_settings(self) -> list[str]:
        chosen = list(self.options.codemods)
        if self.options.dependency_codemods:
            chosen += [c for c in codemods.DEPENDENCY_CODEMODS if c not in chosen]
        return [c for c in chosen if c not in set(self.options.codemods_exclude)]

    def _fix_codemod(self, request: FixRequest) -> FixResult:
        root, finding, opts = Path(request.root).resolve(), request.finding, self.options
        excludes = list(request.config.exclude)
        selected = self._codemod_settings()
        rule = finding.rule_id or ""
        if rule.startswith("codemod:") and rule.removeprefix("codemod:") not in selected:
            return FixResult(status="cannot_fix", summary=f"{rule} is not among the enabled codemods")
        nothing = FixResult(status="cannot_fix",
                            summary=f"no security codemod fixes {rule} at {finding.location}; {LEFT_FOR_AI}")
        if codemods.outside_scope(finding.file or "", excludes):
            return nothing  # codemodder never looks there (tests, vendored code)
        if request.dry_run:
            return FixResult(status="unchanged", summary="dry run: would apply a codemodder change")
        # NOTE: a codemodder run costs minutes; only rules some codemod targets are worth one.
        targeted = codemods.targeted(rule)
        # After a whole-tree run timed out (a large tree), runs are limited to the finding's file.
        one_file = finding.file if codemods.whole_tree_timed_out(
            root, selected, excludes, request.path, opts.codemod_timeout_s) else None
        try:
            changes, fresh, basis = codemods.load_or_produce(
                root, selected, excludes, request.path, opts.codemod_timeout_s, opts.codemodder,
                file=one_file, produce_missing=targeted,
            )
        except AnalyzerMissingError:
            raise
        except AgentError as exc:
            return FixResult(status="failed", summary=str(exc))
        for attempt in range(2):
            candidates = [c for c in changes if codemods.matches(c, finding, by_line=fresh)]
            for change in candidates:
                done = self._apply_change(root, finding, change, changes)
                if done is not None:
                    return done
            if fresh or attempt or not (targeted or candidates):
                break
            if not candidates and codemods.line_was_there(root, basis, finding.file or "", finding.snippet):
                break  # the report saw this very line and proposed nothing for it
            # A report made before earlier fixes: run codemodder again on this one file.
            try:
                changes, fresh, basis = codemods.load_or_produce(root, selected, excludes, request.path,
                                                          opts.codemod_timeout_s, opts.codemodder,
                                                          file=finding.file, fresh_only=True)
            except AnalyzerMissingError:
                raise
            except AgentError as exc:
                return FixResult(status="failed", summary=str(exc))
        return FixResult(status="cannot_fix",
                         summary=f"no security codemod fixes {rule} at {finding.location}; {LEFT_FOR_AI}")

    def _apply_change(self, root: Path, finding: Finding, change: codemods.Change,
                      changes: list[codemods.Change]) -> FixResult | None:
        """Apply one codemodder change (and the dependency-file change that goes with it), checked;
        None when it does not apply."""
        target = root / change.path
        before = target.read_bytes() if target.is_file() else b""
        unproven = codemods.unproven(change, before.decode("utf-8", "replace"))
        if unproven:
            return FixResult(status="cannot_fix", summary=f"codemodder's {change.short_id} not applied at "
                                                          f"{change.path}: {unproven}; {LEFT_FOR_AI}")
        extra = codemods.companions(change, changes) if change.codemod in codemods.DEPENDENCY_CODEMODS else []
        if change.codemod in codemods.DEPENDENCY_CODEMODS and not extra:
            why = f"codemodder's {change.short_id} adds a package, and the project has no dependency file"
            return FixResult(status="cannot_fix", summary=f"{why} to record it in; {LEFT_FOR_AI}")
        saved = {c.path: (root / c.path).read_bytes() for c in extra if (root / c.path).is_file()}
        ok, _ = codemods.apply(root, change)
        if not ok:
            return None
        refused = self._self_check(root, finding.model_copy(update={"file": change.path}), before)
        if not refused and not all(codemods.apply(root, c)[0] for c in extra):
            refused = "its dependency-file change no longer applies"
        if refused:
            target.write_bytes(before)
            for path, content in saved.items():
                (root / path).write_bytes(content)
            return FixResult(status="cannot_fix",
                             summary=f"codemodder's {change.short_id} undone: {refused}; {LEFT_FOR_AI}")
        summary = f"codemodder {change.codemod}: {change.description} ({change.path}:{change.first_line})"
        if extra:
            packages = ", ".join(p for c in extra for p in c.packages)
            files = ", ".join(sorted({c.path for c in extra}))
            summary += f"; adds the dependency {packages} (recorded in {files}): a new dependency to confirm"
        return FixResult(status="changed", summary=summary)

    # ------------------------------------------------------------------------------------------
    # Deterministic fixes beyond the audit's findings

    def deterministic_fixes(self, request: AuditRequest) -> list[Finding]:
        """Safe, offline changes that match no audit finding (codemodder's security codemods for
        ``security``, ruff's safe fixes of ``extra_fix_rules`` for ``backend``), as findings the loop
        may pass to :meth:`fix`. Cheap to apply, so worth it in any phase."""
        dimension = request.dimension.name
        root = Path(request.root).resolve()
        if request.dry_run or dimension not in self.fixes:
            return []
        if dimension == "backend":
            return self._extra_ruff(request, root)
        audit = self.audit(request)
        selected = self._codemod_settings()
        changes, fresh, _ = codemods.load_or_produce(
            root, selected, list(request.config.exclude), request.path, self.options.codemod_timeout_s,
            self.options.codemodder, report=request.report,
        )
        lines = SourceLines(root)
        out: list[Finding] = []
        for change in changes:
            if is_excluded(change.path, list(request.config.exclude)) or change.adds_dependency:
                continue  # a dependency-file change goes with its code change, never alone
            if any(codemods.matches(change, f, by_line=fresh) for f in audit.findings):
                continue
            if not fresh and not codemods.apply(root, change, check=True)[0]:
                continue  # a report from an earlier commit: this change is applied already (or moot)
            finding = change.as_finding(lines.line(change.path, change.first_line))
            if not fresh:
                finding = finding.model_copy(update={"line": _current_line(root, finding)})
            out.append(finding)
        return out

    def _extra_ruff(self, request: AuditRequest, root: Path) -> list[Finding]:
        """Trivial style fixes, one finding per rule (a reviewer reads one import-sorting commit, not
        forty): ruff's safe fixes of ``extra_fix_rules`` (when the repository has no ruff config of its
        own) and of the audit's own trivial rules (``ruff_fix.GROUPED_RULES``: unused imports, ...)."""
        opts = self.options
        excludes = list(request.config.exclude)
        own = ruff.has_repo_config(root)
        extra = [] if own else list(opts.extra_fix_rules)
        audited = ruff.rule_args(root, opts.ruff_select, opts.ruff_ignore)
        exe = find_tool("ruff", opts.ruff)
        request.report("running ruff for safe fixes…")
        diagnostics = self._ruff_json(ruff.command(exe, root, [request.path], excludes, audited), root)
        if extra:
            rules = ruff.rule_args(root, extra, [])
            diagnostics += self._ruff_json(ruff.command(exe, root, [request.path], excludes, rules), root)
        info = {d.get("code") for d in diagnostics if any((d.get("code") or "").startswith(r) for r in extra)}
        return ruff_fix.group_findings(diagnostics, root, excludes, info_codes=info)

    def _group_rules(self, root: Path, code: str) -> list[str]:
        # the repository's config with this one rule, or the curated mode's isolation
        return ruff.rule_args(root, [code], []) or ["--select", code]

    def _fix_group(self, request: FixRequest) -> FixResult:
        """Apply one rule's safe fixes across the audited path, then check every touched file; files
        whose change fails the checks are put back."""
        root, finding, opts = Path(request.root).resolve(), request.finding, self.options
        code = (finding.rule_id or "").removeprefix("ruff:")
        excludes = list(request.config.exclude)
        exe = find_tool("ruff", opts.ruff)
        rules = self._group_rules(root, code)
        argv = ruff.command(exe, root, [request.path], excludes, rules)
        if request.dry_run:
            return FixResult(status="unchanged", summary=f"dry run: would run {display(argv, root)} --fix")
        files = ruff_fix.fixable_files(self._ruff_json(argv, root), root, code)
        if not files:
            return FixResult(status="unchanged", summary=f"ruff no longer reports a safe {code} fix")
        before = {f: (root / f).read_bytes() for f in files}
        previous = verify.reaudit(root, files, ruff_select=opts.ruff_select, ruff_ignore=opts.ruff_ignore,
                                  timeout=opts.analyzer_timeout_s)
        fix_argv = [exe, "check", "--fix", "--no-cache", "--exit-zero", "--quiet", *rules, *files]
        run(fix_argv, root, timeout=opts.analyzer_timeout_s, env=tool_env())
        changed = [f for f in files if (root / f).read_bytes() != before[f]]
        touched = {f: verify.changed_lines(before[f].decode("utf-8", "replace"),
                                           (root / f).read_text(encoding="utf-8", errors="replace"))
                   for f in changed}
        check = verify.recheck_attempt(root, touched, previous, None, base=None, ruff_select=opts.ruff_select,
                                       ruff_ignore=opts.ruff_ignore, timeout=opts.analyzer_timeout_s)
        bad = set(check.unparsable) | {f.file for f in check.new if f.file}
        for file in bad:
            (root / file).write_bytes(before[file])
        kept = [f for f in changed if f not in bad]
        self._remember(root, check, kept)
        if not kept:
            why = check.rejection or "ruff changed nothing"
            return FixResult(status="cannot_fix", summary=f"ruff's {code} fixes undone: {why}")
        listed = ", ".join(kept[:8]) + (" …" if len(kept) > 8 else "")
        undone = f"; undone in {len(bad)} file(s): {check.rejection}" if bad else ""
        return FixResult(status="changed",
                         summary=f"ruff {code} safe fixes in {len(kept)} file(s): {listed}{undone}")

    # ------------------------------------------------------------------------------------------

    def _exe(self, tool: str, override: str | None, request: AuditRequest) -> str:
        try:
            return find_tool(tool, override)
        except AgentError:
            if request.dry_run:
                return tool
            raise

    def _json(self, argv: list[str], root: Path, tool: str):  # noqa: ANN202
        done = run(argv, root, timeout=self.options.analyzer_timeout_s, env=tool_env())
        if done.timed_out:
            raise AgentError(f"{tool} did not finish within {self.options.analyzer_timeout_s:g}s")
        return parse_json(done, tool)

    def _ruff_json(self, argv: list[str], root: Path) -> list[dict]:
        done = run(argv, root, timeout=self.options.analyzer_timeout_s, env=tool_env())
        if done.returncode not in (0, 1):
            raise AgentError(f"ruff exited {done.returncode}: {(done.stderr or done.stdout).strip()[-500:]}")
        return parse_json(done, "ruff")


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _current_line(root: Path, finding: Finding) -> int | None:
    """Where the finding's snippet is now (nearest its old line), after earlier fixes moved lines."""
    try:
        text = (root / (finding.file or "")).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return finding.line
    want = " ".join((finding.snippet or "").split())
    hits = [n for n, line in enumerate(text, 1) if " ".join(line.split()) == want]
    return min(hits, key=lambda n: abs(n - (finding.line or 0))) if hits else finding.line


__all__ = ["LocalAgent"]
