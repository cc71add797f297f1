"""The audit API: pick an agent for a dimension, run it, post-process, score.

The CLI is one caller; the fix loop is another. Nothing here knows about terminals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from gitorch.audit.discovery import discover
from gitorch.audit.merge import merge_results
from gitorch.config import Config
from gitorch.errors import AgentError, GitorchError, UsageError
from gitorch.models import Agent, AgentContext, AuditRequest, AuditResult
from gitorch.plugin.manager import Plugins
from gitorch.score import FORMULA_VERSION, compute_score


def audit_context(
    root: Path, config: Config, plugins: Plugins, *, templates_root: Path | None = None
) -> AgentContext:
    """The services an agent gets for a stand-alone audit: templates, redaction, the default parser.

    (No recorder and no budget: those belong to a fix session.) Without a default parser the context
    has none; only agents that answer in prose need one, and they say so. The templates are the
    repository's overrides, then those plugins contribute for ``root`` (``gitorch_template_dirs``), then
    gitorch's; ``templates_root`` is where the overrides are read from, when not ``root`` (a fix run works
    in a worktree of the user's repository).
    """
    from gitorch.services.redact import Redactor
    from gitorch.services.templates import Templates

    redactor = Redactor.for_repository(root)
    templates = Templates(
        templates_root or root,
        config.templates_dir,
        redactor=redactor,
        plugin_dirs=plugins.template_dirs(root),
    )
    return AgentContext(redactor=redactor, parser=plugins.default_parser(required=False), templates=templates)


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
    the agents plugins declare ``default`` (for every dimension, or for this one) when the configuration
    sets none."""
    return config.routing.chain(task, dimension, default=plugins.default_agents(dimension))


def applies(plugins: Plugins, name: str, request: AuditRequest) -> bool:
    """Whether agent ``name`` has anything to audit for ``request`` (:meth:`Agent.applies_to`)."""
    try:
        return bool(plugins.agent_class(name).applies_to(request))
    except GitorchError:
        raise
    except Exception as exc:  # applies_to must never raise: a bug of the agent's, named
        raise AgentError(f"agent {name!r}: applies_to failed: {type(exc).__name__}: {exc}") from exc


def choose_agent(
    plugins: Plugins,
    dimension: str,
    config: Config,
    requested: str | None = None,
    *,
    root: Path | None = None,
    path: str = ".",
) -> str:
    """The agent that audits ``dimension``: the one asked for, or the first usable one of its chain.

    With ``root`` (the tree to audit, ``path`` inside it), an agent of the chain that declines the tree
    (:meth:`Agent.applies_to`) is passed over; an agent asked for by name never is.
    """
    if requested is not None:
        cls = plugins.agent_class(requested)
        if not cls.can_audit(dimension):
            able = ", ".join(agents_for(plugins, dimension)) or "none installed"
            raise UsageError(f"agent {requested!r} cannot audit {dimension!r} (agents that can: {able})")
        return requested
    chain = agent_chain(plugins, config, "audit", dimension)
    agents = plugins.agents()
    request = None
    if root is not None:
        rel = resolve_path(root, path)
        request = AuditRequest(root=root, dimension=plugins.dimension(dimension), config=config, path=rel)
    declined = []
    for name in chain:
        if name in agents and agents[name].can_audit(dimension):
            if request is not None and not applies(plugins, name, request):
                declined.append(name)
                continue
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
    if declined and request is not None:
        who = ", ".join(repr(name) for name in declined)
        head += f" here ({who}: nothing to audit under {request.path!r})"
    raise UsageError(
        f"{head}; agents that can: {', '.join(able)} "
        f"(use --agent NAME, or set [routing.{dimension}] audit = [...])"
    )


def audit_contributors(
    plugins: Plugins, config: Config, dimension: str, auditor: str
) -> tuple[list[str], bool]:
    """``(names, configured)``: the agents whose findings join ``auditor``'s audit of ``dimension`` — the
    configured ``audit_with``, or (``configured`` False) those plugins declare as contributing."""
    configured = config.routing.contributors(dimension)
    names = configured if configured is not None else plugins.contributors(dimension)
    return [name for name in dict.fromkeys(names) if name != auditor], configured is not None


def select_dimensions(
    plugins: Plugins,
    config: Config,
    requested: list[str] | None,
    *,
    all_dims: bool = False,
    agent: str | None = None,
    root: Path | None = None,
    path: str = ".",
) -> list[str]:
    """The dimensions to audit: those asked for (default ``default_dimensions``), or with ``all_dims``
    every dimension ``agent`` (or, without one, the routing, for the tree at ``root`` when given) can
    audit. An unknown one is a usage error."""
    if all_dims:
        names = sorted(plugins.dimensions())
        if agent is not None:
            able = plugins.agent_class(agent)
            return [d for d in names if able.can_audit(d)]
        return [d for d in names if agents_for(plugins, d) and _routable(plugins, d, config, root, path)]
    names = list(dict.fromkeys(requested or config.default_dimensions))
    for name in names:
        plugins.dimension(name)  # unknown dimension → one clear line before anything runs
    return names


def _routable(plugins: Plugins, dimension: str, config: Config, root: Path | None, path: str) -> bool:
    try:
        choose_agent(plugins, dimension, config, root=root, path=path)
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
    """Audit ``dimension`` of ``root/path`` and return a scored :class:`AuditResult`.

    The auditor is ``agent``, or the first agent of the routing chain that applies to the tree. Without
    ``agent``, the contributors (``audit_with``, or the agents plugins declare as contributing) audit too
    and their findings are merged by fingerprint before the one score is computed.
    """
    dim = plugins.dimension(dimension)
    rel = resolve_path(root, path)
    name = choose_agent(plugins, dimension, config, agent, root=root, path=rel)
    if context is None:
        context = audit_context(root, config, plugins)
    request = AuditRequest(
        root=root, dimension=dim, config=config, path=rel, progress=progress, dry_run=dry_run
    )
    started = time.monotonic()
    result = _audit_by(plugins, name, config, context, request)
    if agent is None:
        contributed, notes = _contributions(plugins, name, config, context, request)
        result = merge_results(result, contributed, notes)
    duration = time.monotonic() - started
    return finish_result(result, root, rel, dimension, name, config, plugins, duration, dry_run=dry_run)


def _audit_by(
    plugins: Plugins, name: str, config: Config, context: AgentContext, request: AuditRequest
) -> AuditResult:
    """Agent ``name``'s audit of ``request``, its duration measured when it reports none."""
    dimension = request.dimension.name
    instance = make_agent(plugins, name, config, context)
    availability = instance.availability()
    if not availability and not request.dry_run:
        raise AgentError(f"agent {name!r} is not available: {availability.reason}")
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
    if not result.duration_s:
        result = result.model_copy(update={"duration_s": round(time.monotonic() - started, 3)})
    return result


def _contributions(
    plugins: Plugins, auditor: str, config: Config, context: AgentContext, request: AuditRequest
) -> tuple[list[tuple[str, AuditResult]], list[str]]:
    """The contributors' audits of ``request``, and notes on those left out.

    NOTE: a contributor the configuration names (``audit_with``) must be able to run: unknown, unable to
    audit the dimension or unavailable is an error, as for the auditor. One a plugin declares is left out
    with a note when unavailable, and silently where it declines the tree (nothing of its kind there).
    A contributor that fails while auditing fails the audit either way: a merged score without its
    findings would be a score nobody earned.
    """
    dimension = request.dimension.name
    names, configured = audit_contributors(plugins, config, dimension, auditor)
    agents = plugins.agents()
    where = f"[routing.{dimension}] audit_with" if configured else ""
    results: list[tuple[str, AuditResult]] = []
    notes: list[str] = []
    for name in names:
        if name not in agents and configured:
            known = ", ".join(sorted(agents)) or "none"
            raise UsageError(f"{where}: unknown agent {name!r} (known: {known})")
        if not agents[name].can_audit(dimension):
            if configured:
                raise UsageError(f"{where}: agent {name!r} cannot audit {dimension!r}")
            continue
        if not applies(plugins, name, request):
            continue
        availability = make_agent(plugins, name, config, context).availability()
        if not availability and not request.dry_run:
            if configured:
                raise AgentError(f"agent {name!r} ({where}) is not available: {availability.reason}")
            notes.append(f"{name} not available ({availability.reason}): its findings are not in this audit")
            continue
        request.report(f"{name} contributes…")
        results.append((name, _audit_by(plugins, name, config, context, request)))
    return results, notes


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
            "score_formula": FORMULA_VERSION,
        }
    return AuditResult.model_validate(result.model_dump() | update)
