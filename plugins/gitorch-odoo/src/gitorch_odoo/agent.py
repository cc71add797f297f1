"""The ``odoo`` agent: audits Odoo modules with pylint-odoo and the OCA checks, fixes with their fixers."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from gitorch import Agent, AuditRequest, AuditResult, Availability, Finding, FixRequest, FixResult
from gitorch.agents import class_or_instance
from gitorch.errors import AgentError, AnalyzerMissingError
from gitorch.models import SeverityField
from gitorch.services.source import SourceLines
from pydantic import Field

from gitorch_odoo import oca, pylint_run
from gitorch_odoo.modules import OdooModule, enclosing_module, find_modules, has_module, under
from gitorch_odoo.rules import OCA, OWN, PYLINT, RULES, Rule, rule_for
from gitorch_odoo.syntax import parse_error

LEFT_FOR_AI = "left for an AI agent"
SOURCES = {"module": "oca-checks-odoo-module", "po": "oca-checks-po"}


class OdooAgent(Agent):
    """Audits compliance, and the Odoo rules of security and backend, offline; fixes with the OCA fixers."""

    name = "odoo"
    description = (
        "offline Odoo agent: pylint-odoo and the OCA checks (compliance, Odoo rules of security and "
        "backend); fixes with oca-checks-odoo-module --fix and oca-checks-odoo-module-fixit"
    )
    audits = frozenset({"compliance", "security", "backend"})
    fixes = frozenset({"compliance"})
    # NOTE: the default auditor of compliance only, and a contributor to security and backend: in a tree
    # holding an Odoo module (applies_to), `gitorch audit --dim compliance` routes here with no
    # configuration, and the security and backend audits keep the embedded agent's bandit and ruff
    # findings with the Odoo rules merged in (one score). Elsewhere the agent declines and changes nothing.
    default = frozenset({"compliance"})
    contributes = frozenset({"security", "backend"})

    class Options(Agent.Options):
        """``[agents.odoo]`` settings."""

        oca_python: str | None = Field(
            None,
            description="the Python of the environment holding oca-odoo-pre-commit-hooks "
            "(default: found from the oca-checks-odoo-module script)",
        )
        oca_checks: bool = Field(True, description="run the OCA checks (false: pylint-odoo only)")
        translations: bool = Field(True, description="run oca-checks-po on the modules' i18n files")
        odoo_series: str | None = Field(
            None, pattern=r"^\d{1,2}\.\d$", description="the series for a manifest whose version names none"
        )
        disable: list[str] = Field(
            default_factory=lambda: ["po-pretty-format"],
            description="message codes never reported (default: po-pretty-format, as OCA's own pre-commit "
            "configuration does)",
        )
        severity: dict[str, SeverityField] = Field(
            default_factory=dict, description="severity per message code (or rule id), overriding the table"
        )
        timeout_s: float = Field(600, gt=0, description="time limit of one analyzer or fixer run")

    @class_or_instance
    def availability(cls, self: OdooAgent | None = None) -> Availability:
        """pylint-odoo in gitorch's environment; the OCA hooks' Python when the OCA checks are on."""
        if importlib.util.find_spec("pylint_odoo") is None:
            return Availability(False, "pylint-odoo is not installed (pip install gitorch-odoo)")
        options = self.options if self is not None else cls.Options()
        if options.oca_checks and oca.find_python(options.oca_python) is None:
            where = f" at {options.oca_python!r}" if options.oca_python else ""
            return Availability(False, f"oca-odoo-pre-commit-hooks not found{where}: {oca.INSTALL_HINT}")
        return Availability(True)

    @classmethod
    def applies_to(cls, request: AuditRequest) -> bool:
        """Only a tree holding an Odoo module (or a path inside one) has anything for this agent."""
        return has_module(Path(request.root), request.path, list(request.config.exclude))

    # ------------------------------------------------------------------------------------------
    # Audit

    def audit(self, request: AuditRequest) -> AuditResult:
        dimension = request.dimension.name
        if dimension not in self.audits:
            raise AgentError(
                f"the odoo agent does not audit {dimension!r}; it audits {', '.join(sorted(self.audits))}"
            )
        started = time.monotonic()
        root = Path(request.root).resolve()
        excludes = list(request.config.exclude)
        modules = find_modules(root, request.path, excludes)
        if not modules:
            raise AgentError(
                f"no Odoo module under {request.path!r} (a module is a directory with a __manifest__.py)"
            )
        notes = [_describe_modules(modules, self.options.odoo_series)]
        runs = self._plan(dimension, modules, root, excludes, request.dry_run)
        if request.dry_run:
            return AuditResult(
                dimension=dimension,
                agent=self.name,
                path=request.path,
                notes=notes + [f"would run: {' '.join(argv)}" for _, argv, _ in runs],
            )
        raw: list[Raw] = []
        for label, _argv, work in runs:
            request.report(f"running {label}…")
            t = time.monotonic()
            found = work()
            raw += found
            notes.append(f"{label}: {len(found)} message(s) in {time.monotonic() - t:.1f}s")
        findings, elsewhere = self._findings(raw, root, request.path, dimension, excludes)
        if elsewhere:
            other = ", ".join(f"{n} {d}" for d, n in sorted(elsewhere.items()))
            notes.append(f"messages of other dimensions left out ({other}): audit them with --dim")
        return AuditResult(
            dimension=dimension,
            agent=self.name,
            path=request.path,
            findings=findings,
            duration_s=round(time.monotonic() - started, 3),
            notes=notes,
        )

    def _plan(
        self,
        dimension: str,
        modules: list[OdooModule],
        root: Path,
        excludes: list[str],
        dry_run: bool = False,
    ) -> list[tuple[str, list[str], Work]]:
        """``(label, argv, run)`` for each analyzer run the dimension needs; ``run()`` gives its messages."""
        opts = self.options
        runs: list[tuple[str, list[str], Work]] = []
        by_series: dict[str | None, list[OdooModule]] = {}
        for module in modules:
            by_series.setdefault(module.series or opts.odoo_series, []).append(module)
        disable = [c for c in opts.disable if c in RULES[PYLINT] or c in RULES[OWN]]
        for series, group in by_series.items():
            argv = pylint_run.command([m.path for m in group], series, disable)
            label = f"pylint-odoo ({series or 'every series'})"
            runs.append((label, argv, self._pylint_work(argv, root)))
        if opts.oca_checks and dimension in {r.dimension for r in RULES[OCA].values()} | {"compliance"}:
            python = oca.find_python(opts.oca_python) if dry_run else self._oca_python()
            python = python or "<python of oca-odoo-pre-commit-hooks>"
            options = [f"--disable={','.join(opts.disable)}"] if opts.disable else []
            paths = [m.path for m in modules]
            runs.append(
                (
                    SOURCES["module"],
                    [python, str(oca.BRIDGE), "module", *options, *paths],
                    self._oca_work(python, "module", paths, options, root),
                )
            )
            po_files = (
                _po_files(root, modules, excludes)
                if (opts.translations and dimension == "compliance")
                else []
            )
            if po_files:
                runs.append(
                    (
                        SOURCES["po"],
                        [python, str(oca.BRIDGE), "po", *options, f"<{len(po_files)} .po files>"],
                        self._oca_work(python, "po", po_files, options, root),
                    )
                )
        return runs

    def _pylint_work(self, argv: list[str], root: Path) -> Work:
        def work() -> list[Raw]:
            messages = pylint_run.run(argv, root, self.options.timeout_s)
            out = []
            for m in messages:
                tool = OWN if m.symbol in RULES[OWN] else PYLINT
                out.append((rule_for(tool, m.symbol, m.kind), m.file, m.line, m.end_line, m.message, tool))
            return out

        return work

    def _oca_work(self, python: str, command: str, paths: list[str], options: list[str], root: Path) -> Work:
        def work() -> list[Raw]:
            messages = oca.run(python, command, paths, root, options=options, timeout=self.options.timeout_s)
            source = SOURCES[command]
            return [(rule_for(OCA, m.code), m.file, m.line, None, m.message, source) for m in messages]

        return work

    def _findings(
        self, raw: list[Raw], root: Path, path: str, dimension: str, excludes: list[str]
    ) -> tuple[list[Finding], Counter[str]]:
        disabled = set(self.options.disable)
        lines = SourceLines(root)
        findings: list[Finding] = []
        elsewhere: Counter[str] = Counter()
        for rule, file, line, end_line, message, source in raw:
            if rule.code in disabled or rule.rule_id in disabled:
                continue
            rel = _relative(root, file)
            if rel is None or not under(rel, path) or _excluded(rel, excludes):
                continue
            if rule.dimension != dimension:
                elsewhere[rule.dimension] += 1
                continue
            severity = self.options.severity.get(rule.rule_id) or self.options.severity.get(rule.code)
            findings.append(
                Finding(
                    dimension=dimension,
                    severity=severity or rule.severity,
                    rule_id=rule.rule_id,
                    file=rel,
                    line=line,
                    end_line=end_line if end_line and line and end_line > line else None,
                    description=" ".join(message.split()),
                    recommendation=_recommendation(rule),
                    snippet=lines.line(rel, line),
                    source=source,
                )
            )
        findings.sort(key=lambda f: (f.severity.rank, f.file or "", f.line or 0, f.rule_id or ""))
        return findings, elsewhere

    def _oca_python(self) -> str:
        python = oca.find_python(self.options.oca_python)
        if python is None:
            raise AnalyzerMissingError(f"oca-odoo-pre-commit-hooks not found: {oca.INSTALL_HINT}")
        return python

    # ------------------------------------------------------------------------------------------
    # Fix

    def fix(self, request: FixRequest) -> FixResult:
        finding = request.finding
        tool, _, code = (finding.rule_id or "").partition(":")
        rule = RULES.get(tool, {}).get(code)
        if rule is None or rule.fixer is None or not finding.file:
            return FixResult(
                status="cannot_fix", summary=f"no OCA fixer for {finding.rule_id}; {LEFT_FOR_AI}"
            )
        root = Path(request.root).resolve()
        target = (root / finding.file).resolve()
        if not target.is_relative_to(root) or not target.is_file() or (root / finding.file).is_symlink():
            return FixResult(
                status="cannot_fix", summary=f"{finding.file} is not a regular file of the worktree"
            )
        module = enclosing_module(root, target)
        if module is None:
            return FixResult(status="cannot_fix", summary=f"{finding.file} is in no Odoo module")
        kind, check = rule.fixer.split(":", 1)
        command = "fixit" if kind == "fixit" else "module"
        if request.dry_run:
            return FixResult(
                status="unchanged",
                summary=f"dry run: would run {oca.SCRIPT}{'-fixit' if kind == 'fixit' else ''} --fix "
                f"--enable={check} on {finding.file}",
            )
        try:
            python = self._oca_python()
        except AgentError as exc:
            return FixResult(status="failed", summary=str(exc))
        before = target.read_bytes()
        try:
            after = self._fixed_copy(python, command, check, root, module, target)
        except AgentError as exc:
            return FixResult(status="failed", summary=str(exc))
        if after is None or after == before:
            return FixResult(
                status="cannot_fix",
                summary=f"{check} fixer changed nothing in {finding.file}; {LEFT_FOR_AI}",
            )
        broken = parse_error(target.name, after)
        if broken is not None:
            line, message = broken
            return FixResult(
                status="failed",
                summary=f"{check} fixer left {finding.file} unparseable ({line}: {message}): not applied",
            )
        target.write_bytes(after)
        removed, added = _changed_lines(before, after)
        tool_name = f"{oca.SCRIPT}-fixit" if kind == "fixit" else oca.SCRIPT
        return FixResult(
            status="changed",
            summary=f"{tool_name} --fix --enable={check} on {finding.file}: -{removed} +{added} line(s); "
            f"every {check} occurrence in this file",
        )

    def _fixed_copy(
        self, python: str, command: str, check: str, root: Path, module: OdooModule, target: Path
    ) -> bytes | None:
        """The target file as the fixer leaves it, the fixer run on a copy of its module.

        NOTE: the fixers rewrite every file of a module; running them on a copy and taking back only the
        finding's file keeps one fix to one file and one check, and nothing else of the worktree is touched.
        """
        with tempfile.TemporaryDirectory(prefix="gitorch-odoo-") as tmp:
            base = Path(tmp)
            (base / ".git").mkdir()  # the hooks anchor their paths on the nearest .git
            copy = base / module.name
            # NOTE: symbolic links are left out: a fixer writing through one would write outside the copy.
            shutil.copytree(root / module.path, copy, symlinks=True, ignore=_links_and_git)
            settings = root / ".oca_hooks.cfg"  # the repository's check settings (XML attribute order …)
            if settings.is_file() and not settings.is_symlink():
                shutil.copyfile(settings, base / settings.name)
            rel = target.relative_to((root / module.path).resolve())
            paths = [str(copy / rel)] if command == "fixit" else [str(copy)]
            oca.run(
                python,
                command,
                paths,
                base,
                options=["--fix", f"--enable={check}"],
                timeout=self.options.timeout_s,
            )
            fixed = copy / rel
            return fixed.read_bytes() if fixed.is_file() else None


# --------------------------------------------------------------------------------------------------

# One analyzer message: (rule, absolute file, line, end line, message, source tool).
Raw = tuple[Rule, str, "int | None", "int | None", str, str]
Work = Callable[[], list[Raw]]


def _links_and_git(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == ".git" or Path(directory, n).is_symlink()}


def _describe_modules(modules: list[OdooModule], default_series: str | None) -> str:
    parts = []
    for m in modules[:12]:
        series = m.series or (f"{default_series} (odoo_series)" if default_series else "no series")
        parts.append(f"{m.path} ({series}{', manifest: ' + m.error if m.error else ''})")
    more = f" and {len(modules) - 12} more" if len(modules) > 12 else ""
    return f"{len(modules)} Odoo module(s): {', '.join(parts)}{more}"


def _po_files(root: Path, modules: list[OdooModule], excludes: list[str]) -> list[str]:
    files = []
    for module in modules:
        for pattern in ("i18n/*.po", "i18n_extra/*.po"):
            files += [p.relative_to(root).as_posix() for p in sorted((root / module.path).glob(pattern))]
    return [f for f in files if not _excluded(f, excludes)]


def _relative(root: Path, file: str) -> str | None:
    path = Path(file)
    if not path.is_absolute():
        path = root / path
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def _excluded(rel: str, excludes: list[str]) -> bool:
    parts = PurePosixPath(rel).parts[:-1]
    return any(e.strip("/") in parts or rel.startswith(e.strip("/") + "/") for e in excludes)


def _recommendation(rule: Rule) -> str:
    text = rule.why[0].upper() + rule.why[1:] + "."
    if rule.fixer:
        kind, check = rule.fixer.split(":", 1)
        tool = f"{oca.SCRIPT}-fixit" if kind == "fixit" else oca.SCRIPT
        text += f" Fixed offline by `{tool} --fix --enable={check}` (gitorch fix --dim {rule.dimension})."
    return text


def _changed_lines(before: bytes, after: bytes) -> tuple[int, int]:
    import difflib

    old = before.decode("utf-8", "replace").splitlines()
    new = after.decode("utf-8", "replace").splitlines()
    removed = added = 0
    for line in difflib.unified_diff(old, new, lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed += 1
        elif line.startswith("+") and not line.startswith("+++"):
            added += 1
    return removed, added
