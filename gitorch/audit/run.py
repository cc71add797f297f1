"""The audit API: pick an agent for a dimension, run it, post-process, score.

The CLI is one caller; the fix loop is another. Nothing here knows about terminals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from gitorch.audit.discovery import discover
from gitorch.config import Config
from gitorch.errors import AgentError, GitorchError, UsageError
from gitorch.models import Agent, AgentContext, AuditRequest, AuditResult
from gitorch.plugin.manager import Plugins
from gitorch.score import compute_score


def audit_context(
    root: Path, config: Config, plugins: Plugins, *, templates_root: Path | None = None
) -> AgentContext:
    """The services an agent gets for a stand-alone audit: templates, redaction, the default parser.

    (No recorder and no budget: those belong to a fix session.) Without a default parser the context
    has none; only agents that answer in prose need one, and they say so. ``templates_root`` is where
    the template overrides are read from, when not ``root`` (a fix run works in a worktree of the
    user's repository).
    """
    from gitorch.services.redact import Redactor
    from gitorch.services.templates import Templates

    redactor = Redactor.for_repository(root)
    return AgentContext(
        redactor=redactor,
        parser=plugins.default_parser(required=False),
        templates=Templates(templates_root or root, config.templates_dir, redactor=redactor),
    )


def make_agent(plugins: Plugins, name: str, config: Config, context: AgentContext | None = None) -> Agent:
    """Instantiate agent ``name`` with its validated ``[agents.<name>]`` options."""
    cls = plugins.agent_class(name)
    return cls(config.agent_options(cls), context)


def agents_for(plugins: Plugins, dimension: str, task: str = "audit") -> list[str]:
    """Names of the agents that can do ``task`` ("audit" or "fix") for ``dimension``."""
    method = "can_audit" if task == "audit" else "can_fix"
    return sorted(name for name, cls in plugins.agents().items() if getattr(cls, method)(dimension))


def agent_chain(plugins: Plugins, config: Config, task: str, dimension: str | None = None) -> list[str]:
    """The agents asked to do ``task`` for ``dimension``, best first: the configured routing chain, or
    the agents plugins declare ``default`` when the configuration sets none."""
    return config.routing.chain(task, dimension, default=plugins.default_agents())


def choose_agent(
    plugins: Plugins, dimension: str, config: Config, requested: str | None = None, *, hint: str | None = None
) -> str:
    """The agent that audits ``dimension``: the one asked for, or the first usable one of its chain.

    ``hint`` replaces the advice given when none can (``gitorch fix``'s ``--agent`` chooses the fixer).
    """
    if requested is not None:
        cls = plugins.agent_class(requested)
        if not cls.can_audit(dimension):
            able = ", ".join(agents_for(plugins, dimension)) or "none installed"
            raise UsageError(f"agent {requested!r} cannot audit {dimension!r} (agents that can: {able})")
        return requested
    chain = agent_chain(plugins, config, "audit", dimension)
    agents = plugins.agents()
    for name in chain:
        if name in agents and agents[name].can_audit(dimension):
            return name
    able = agents_for(plugins, dimension)
    if not able:
        raise UsageError(f"no installed agent can audit {dimension!r}")
    if config.routing.chain("audit", dimension) is None:
        names = ", ".join(repr(name) for name in chain) or "(none installed)"
        agents_have = f"agents {names} have" if len(chain) > 1 else f"agent {names} has"
        head = f"the default {agents_have} no auditor for {dimension!r}"
    else:
        head = f"no agent in the audit chain {chain} can audit {dimension!r}"
    hint = hint or f"use --agent NAME, or set [routing.{dimension}] audit = [...]"
    raise UsageError(f"{head}; agents that can: {', '.join(able)} ({hint})")


def select_dimensions(
    plugins: Plugins,
    config: Config,
    requested: list[str] | None,
    *,
    all_dims: bool = False,
    agent: str | None = None,
) -> list[str]:
    """The dimensions to audit: those asked for (default ``default_dimensions``), or with ``all_dims``
    every dimension ``agent`` (or, without one, the routing) can audit. An unknown one is a usage error."""
    if all_dims:
        names = sorted(plugins.dimensions())
        if agent is not None:
            able = plugins.agent_class(agent)
            return [d for d in names if able.can_audit(d)]
        return [d for d in names if agents_for(plugins, d) and _routable(plugins, d, config)]
    names = list(dict.fromkeys(requested or config.default_dimensions))
    for name in names:
        plugins.dimension(name)  # unknown dimension → one clear line before anything runs
    return names


def _routable(plugins: Plugins, dimension: str, config: Config) -> bool:
    try:
        choose_agent(plugins, dimension, config)
    except UsageError:
        return False
    return True


def resolve_path(root: Path, path: str) -> str:
    """``path`` relative to ``root`` (POSIX), refusing anything outside the repository."""
    root = root.resolve()
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise UsageError(f"path {path!r} is outside the repository {root}")
    if not target.exists():
        raise UsageError(f"path {path!r} does not exist in {root}")
    rel = target.relative_to(root).as_posix()
    return rel or "."


def run_audit(
    root: Path,
    dimension: str,
    config: Config,
    plugins: Plugins,
    *,
    agent: str | None = None,
    path: str = ".",
    progress: Callable[[str], None] | None = None,
    dry_run: bool = False,
    context: AgentContext | None = None,
) -> AuditResult:
    """Audit ``dimension`` of ``root/path`` and return a scored :class:`AuditResult`."""
    dim = plugins.dimension(dimension)
    rel = resolve_path(root, path)
    name = choose_agent(plugins, dimension, config, agent)
    if context is None:
        context = audit_context(root, config, plugins)
    instance = make_agent(plugins, name, config, context)
    availability = instance.availability()
    if not availability and not dry_run:
        raise AgentError(f"agent {name!r} is not available: {availability.reason}")
    request = AuditRequest(
        root=root, dimension=dim, config=config, path=rel, progress=progress, dry_run=dry_run
    )
    started = time.monotonic()
    try:
        result = instance.audit(request)
    except GitorchError:
        raise
    except NotImplementedError as exc:
        raise AgentError(f"agent {name!r} cannot audit {dimension!r}: {exc}") from None
    except Exception as exc:  # an agent's bug must not look like a clean audit
        raise AgentError(
            f"agent {name!r} failed auditing {dimension!r}: {type(exc).__name__}: {exc}"
        ) from exc
    duration = time.monotonic() - started
    return finish_result(result, root, rel, dimension, name, config, plugins, duration, dry_run=dry_run)


def finish_result(
    result: AuditResult,
    root: Path,
    rel: str,
    dimension: str,
    agent: str,
    config: Config,
    plugins: Plugins,
    duration: float,
    *,
    dry_run: bool = False,
) -> AuditResult:
    """Apply ``gitorch_process_findings``, count the code, and compute the score gitorch steers on."""
    findings = plugins.process_findings(list(result.findings), result, config)
    facts = discover(root, rel, config)
    claimed, claimed_scale = result.claimed_score, result.claimed_score_scale
    if claimed is None and result.score_source == "reported":
        claimed, claimed_scale = result.score, result.score_scale
    update = {
        "findings": findings,
        "dimension": dimension,
        "agent": agent,
        "path": rel,
        "loc": facts.loc,
        "files": facts.files,
        "duration_s": round(result.duration_s or duration, 3),
        "claimed_score": claimed,
        "claimed_score_scale": claimed_scale,
    }
    if dry_run:
        update |= {"score": None, "score_scale": None, "score_source": "none"}
    else:
        update |= {
            "score": compute_score(findings, facts.loc),
            "score_scale": 100,
            "score_source": "computed",
        }
    return AuditResult.model_validate(result.model_dump() | update)


def restrict_to_files(result: AuditResult, root: Path, files: list[str]) -> AuditResult:
    """The audit of only ``files`` (paths relative to ``root``, as pre-commit passes the changed ones): their
    findings, scored on their own lines of code. The analyzers still ran on the whole path, with its
    context."""
    from gitorch.audit.discovery import CODE_SUFFIXES, count_loc

    wanted = {Path(f).as_posix().removeprefix("./") for f in files}
    findings = [f for f in result.findings if f.file in wanted]
    loc = 0
    for rel in sorted(wanted):
        path = root / rel
        if path.suffix in CODE_SUFFIXES and path.is_file():
            loc += count_loc(path.read_text(encoding="utf-8", errors="replace"))
    note = f"restricted to {len(wanted)} file(s) given on the command line ({loc} lines of code)"
    update = {"findings": findings, "loc": loc, "files": len(wanted), "notes": [*result.notes, note]}
    if result.score is not None:
        update["score"] = compute_score(findings, loc)
    return AuditResult.model_validate(result.model_dump() | update)
