"""The audit API: pick an agent for a dimension, run it, post-process, score.

The CLI is one caller; the fix loop is another. Nothing here knows about terminals.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    from gitorch.services.redact import LazyRedactor, Redactor
    from gitorch.services.templates import Templates

    redactor = LazyRedactor(lambda: Redactor.for_repository(root))
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
    hint: str | None = None,
) -> str:
    """The agent that audits ``dimension``: the one asked for, or the first usable one of its chain.

    With ``root`` (the tree to audit, ``path`` inside it), an agent of the chain that declines the tree
    (:meth:`Agent.applies_to`) is passed over; an agent asked for by name never is.
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
    hint = hint or f"use --agent NAME, or set [routing.{dimension}] audit = [...]"
    raise UsageError(f"{head}; agents that can: {', '.join(able)} ({hint})")


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


class AuditSlots:
    """The limits on audits running at once: one semaphore per agent group
    (:attr:`Agent.parallel_audits`, :attr:`Agent.audit_group`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[str, threading.BoundedSemaphore] = {}

    def slot(self, agent: Agent) -> threading.BoundedSemaphore:
        group = agent.audit_group or agent.name
        with self._lock:
            if group not in self._groups:
                self._groups[group] = threading.BoundedSemaphore(max(1, int(agent.parallel_audits or 1)))
            return self._groups[group]


def run_audits(
    root: Path,
    dimensions: list[str],
    config: Config,
    plugins: Plugins,
    *,
    workers: int | None = None,
    progress: Callable[[str, str], None] | None = None,
    **options: Any,
) -> list[AuditResult]:
    """:func:`run_audit` of each of ``dimensions``, concurrently, in their order.

    NOTE: at most ``workers`` audits at once (default: the machine's cores), and no more of one agent's
    than it allows (:class:`AuditSlots`). The first failure is raised once every audit has ended (none is
    left running); ``progress(dimension, message)`` is called from the audits' threads.
    """
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, len(dimensions)))
    for registry in (plugins.agents, plugins.dimensions):
        registry()  # built once, before the threads
    slots = AuditSlots()

    def one(dimension: str) -> AuditResult:
        report = None if progress is None else (lambda message: progress(dimension, message))
        return run_audit(root, dimension, config, plugins, progress=report, slots=slots, **options)

    if workers == 1:
        return [one(d) for d in dimensions]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gitorch-audit")
    try:
        # each audit in a copy of this context: the launch policy (the sandbox) holds in its thread too
        futures = [pool.submit(contextvars.copy_context().run, one, d) for d in dimensions]
        errors = [f.exception() for f in futures]
    finally:  # an interrupt: the audits not started never start
        pool.shutdown(wait=True, cancel_futures=True)
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]


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
    cache: bool = True,
    slots: AuditSlots | None = None,
) -> AuditResult:
    """Audit ``dimension`` of ``root/path`` and return a scored :class:`AuditResult`.

    The auditor is ``agent``, or the first agent of the routing chain that applies to the tree. Without
    ``agent``, the contributors (``audit_with``, or the agents plugins declare as contributing) audit too
    and their findings are merged by fingerprint before the one score is computed.

    With ``cache`` (and not ``dry_run``) an audit of the same tree by the same agents with the same
    configuration is served from the audit cache (``result.cached``), and after a change the agents are
    asked to re-audit only the changed files (:mod:`gitorch.audit.cache`).
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
    contributors, notes = [], []
    if agent is None:
        contributors, notes = _contributors(plugins, name, config, context, request)
    instances = {n: make_agent(plugins, n, config, context) for n in [name, *contributors]}
    store = key = base = None
    if cache and not dry_run:
        from gitorch.audit.cache import AuditCache, audit_key

        store = AuditCache.for_repository(root)
        key = audit_key(root, request, config, plugins, list(instances.items())) if store else None
        if store is not None and key is not None:
            hit = store.load(key.key)
            if hit is not None:
                request.report("cached")
                return hit.final()
            base = store.latest(key.lineage)
    changed = None
    if base is not None and key is not None:
        from gitorch.vcs.state import changed_paths

        changed = changed_paths(root, base.state, key.state)
    raw: dict[str, AuditResult] = {}
    for n, instance in instances.items():
        if n != name:
            request.report(f"{n} contributes…")
        previous = base.raw.get(n) if base is not None and changed is not None else None
        if slots is None:
            raw[n] = _audit_by(plugins, n, config, context, request, instance, previous, changed)
        else:
            with slots.slot(instance):
                raw[n] = _audit_by(plugins, n, config, context, request, instance, previous, changed)
    result = raw[name]
    if agent is None:
        result = merge_results(result, [(n, raw[n]) for n in contributors], notes)
    duration = time.monotonic() - started
    final = finish_result(result, root, rel, dimension, name, config, plugins, duration, dry_run=dry_run)
    if store is not None and key is not None:
        store.store(key, final, raw)
    return final


def _audit_by(
    plugins: Plugins,
    name: str,
    config: Config,
    context: AgentContext,
    request: AuditRequest,
    instance: Agent | None = None,
    previous: AuditResult | None = None,
    changed: list[str] | None = None,
) -> AuditResult:
    """Agent ``name``'s audit of ``request``, its duration measured when it reports none: a re-audit of the
    ``changed`` files when it has a ``previous`` result and accepts to (:meth:`Agent.reaudit`)."""
    dimension = request.dimension.name
    if instance is None:
        instance = make_agent(plugins, name, config, context)
    availability = instance.availability()
    if not availability and not request.dry_run:
        raise AgentError(f"agent {name!r} is not available: {availability.reason}")
    started = time.monotonic()
    try:
        result = None
        if previous is not None and changed is not None:
            result = instance.reaudit(request, previous, changed)
        if result is None:
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


def _contributors(
    plugins: Plugins, auditor: str, config: Config, context: AgentContext, request: AuditRequest
) -> tuple[list[str], list[str]]:
    """The contributors that audit ``request`` with ``auditor``, and notes on those left out.

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
    chosen: list[str] = []
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
        chosen.append(name)
    return chosen, notes


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
