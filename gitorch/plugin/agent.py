"""The Agent plugin kind: who audits dimensions and fixes findings, and what the core lends it.

A plugin returns Agent subclasses from the ``gitorch_agents`` hook
(:func:`gitorch.hookspecs.gitorch_agents`). The requests an agent receives and the results it returns
(:class:`~gitorch.models.AuditRequest`, :class:`~gitorch.models.FixRequest`,
:class:`~gitorch.models.AuditResult`, :class:`~gitorch.models.FixResult`) are data, in
:mod:`gitorch.models`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pathlib import Path

    from gitorch.config import Config
    from gitorch.models import AuditRequest, AuditResult, Finding, FixRequest, FixResult
    from gitorch.plugin.checks import ProjectEnvironment, RecheckRequest
    from gitorch.plugin.parser import Parser


@dataclass(frozen=True)
class Availability:
    """Whether an agent can run here, and why not (``bool(availability)`` is ``ok``)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass
class AgentContext:
    """Services the core lends an agent for its calls; each may be None (then the agent does without).

    - ``recorder`` (:class:`gitorch.services.recorder.Recorder`): keeps every external call (record
      mode) or serves recorded ones back (replay mode).
    - ``budget`` (:class:`gitorch.services.budget.Budget`): checked with a worst-case estimate before
      each call, charged with the real usage after it.
    - ``redactor`` (:class:`gitorch.services.redact.Redactor`): masks secrets in prompts and in what
      is recorded.
    - ``parser``: the :class:`~gitorch.plugin.parser.Parser` that turns a free-text report into an
      :class:`~gitorch.models.AuditResult` (the default parser, :meth:`Plugins.default_parser
      <gitorch.plugin.manager.Plugins.default_parser>`).
    - ``templates`` (:class:`gitorch.services.templates.Templates`): renders prompt templates.
    """

    recorder: Any = None
    budget: Any = None
    redactor: Any = None
    parser: Parser | None = None
    templates: Any = None


class Agent:
    """Audits dimensions and fixes findings. Subclass, set ``name``, implement ``audit`` (and ``fix``).

    ``audits``/``fixes`` list the dimensions the agent can handle (``None`` = any). ``Options`` holds
    the agent's settings, validated from ``[agents.<name>]`` in the configuration::

        from gitorch import Agent, AuditResult, hookimpl


        class Echo(Agent):
            name = "echo"
            audits = frozenset({"todos"})

            class Options(Agent.Options):
                marker: str = "TODO"

            def audit(self, request):
                ...  # look at request.root / request.path, return an AuditResult
                return AuditResult(dimension=request.dimension.name, agent=self.name)


        @hookimpl
        def gitorch_agents():
            return [Echo]

    - ``audit(request)`` returns findings; gitorch counts the code and computes the score itself.
    - ``fix(request)`` edits files under ``request.root`` (the run's worktree) and says what it did;
      gitorch trusts the worktree's diff, not the summary, then gates, tests and commits.
    - ``recheck(request)`` and ``project_environment(checkout, config)`` are optional: what the fix
      loop may use to check an attempt before committing it (see :mod:`gitorch.plugin.checks`).
    - ``availability()`` must be cheap and never raise: ``gitorch agents`` calls it for every agent.
      Look for external binaries there, never at import time.
    - ``default = True`` offers the agent for the routing chains the configuration leaves unset
      (``[routing] audit``/``fix``) of every dimension; ``default = frozenset({"compliance"})`` for
      those of the dimensions named only. The default agents of a dimension are every agent that says
      so, in pluggy's call order (see :meth:`gitorch.plugin.manager.Plugins.default_agents`).
    - ``applies_to(request)`` lets an agent decline a tree it has nothing to audit in (an Odoo agent in
      a repository without an Odoo module): routing then goes on to the next agent of the chain. It
      must be cheap and never raise; the default accepts every tree.
    - ``contributes = frozenset({"security"})`` adds the agent's findings to the audit of those
      dimensions when another agent is the auditor (merged by fingerprint, one score), in every tree it
      applies to; ``[routing.<dimension>] audit_with`` does the same from the configuration.
    - ``cache_identity(request)`` and ``reaudit(request, previous, changed)`` let gitorch reuse an audit
      (:mod:`gitorch.audit.cache`): the first names what besides the tree decides the agent's result (an
      analyzer's version, the prompt templates, the CLI's version), or None when a result must never be
      reused; the second re-audits only the files a change touched.
    """

    #: Unique kebab-case id: ``--agent <name>``, ``[agents.<name>]``, routing chains.
    name: ClassVar[str]
    #: One sentence for ``gitorch agents``.
    description: ClassVar[str] = ""
    #: Dimensions this agent audits (``None``: any).
    audits: ClassVar[frozenset[str] | None] = None
    #: Dimensions whose findings this agent fixes (``None``: any; empty: none).
    fixes: ClassVar[frozenset[str] | None] = frozenset()
    #: True: part of the default routing chains of every dimension; a set of dimension names: of
    #: those dimensions' chains only (see the class docstring).
    default: ClassVar[bool | frozenset[str]] = False
    #: Dimensions to whose audit this agent adds its findings when another agent audits them.
    contributes: ClassVar[frozenset[str]] = frozenset()
    #: False for an agent that refuses to edit files under a ``.git`` path (Claude Code in acceptEdits
    #: mode): runs using it put their worktree in the user cache directory instead of the git directory.
    edits_under_git_dir: ClassVar[bool] = True
    #: False for an agent whose edits gitorch cannot confine to ``request.root`` (an external CLI): the
    #: loop then watches the user's checkout while it runs (:mod:`gitorch.vcs.guard`).
    confined: ClassVar[bool] = True
    #: How many audits of this agent may run at once when dimensions are audited concurrently (``audit
    #: --all``, the fix loop); agents with the same ``audit_group`` share the limit (default: its name).
    #: 1 by default: an agent is not assumed to be thread-safe.
    parallel_audits: ClassVar[int] = 1
    audit_group: ClassVar[str | None] = None
    #: The ``source`` of the findings :meth:`recheck` re-audits (``("bandit", "ruff")``); the loop
    #: compares only those. Empty: every finding of the dimensions it is asked about.
    recheck_sources: ClassVar[tuple[str, ...]] = ()
    #: True for an agent that does all its work in processes started by gitorch's process runner (an
    #: external CLI): the run's sandbox holds them. An agent working inside gitorch's own process is
    #: watched around each call instead (:mod:`gitorch.vcs.containment`).
    runs_as_process: ClassVar[bool] = False

    class Options(BaseModel):
        """The agent's settings, validated from ``[agents.<name>]``; unknown keys are an error."""

        model_config = ConfigDict(extra="forbid", defer_build=True)

    def __init__(self, options: BaseModel | None = None, context: AgentContext | None = None) -> None:
        self.options = options if options is not None else self.Options()
        self.context = context if context is not None else AgentContext()

    @classmethod
    def availability(cls) -> Availability:
        return Availability(True)

    @classmethod
    def can_audit(cls, dimension: str) -> bool:
        return cls.audits is None or dimension in cls.audits

    @classmethod
    def can_fix(cls, dimension: str) -> bool:
        return cls.fixes is None or dimension in cls.fixes

    @classmethod
    def is_default_for(cls, dimension: str | None) -> bool:
        """Whether the agent is in the default chains of ``dimension`` (``None``: of every dimension)."""
        if cls.default is True:
            return True
        if isinstance(cls.default, frozenset | set) and dimension is not None:
            return dimension in cls.default
        return False

    @classmethod
    def applies_to(cls, request: AuditRequest) -> bool:
        """Whether there is anything for this agent to audit in ``request.root / request.path`` for
        ``request.dimension``. Routing skips an agent that declines; cheap, never raises; True by default."""
        return True

    def audit(self, request: AuditRequest) -> AuditResult:
        raise NotImplementedError(f"agent {self.name!r} cannot audit")

    def cache_identity(self, request: AuditRequest) -> dict[str, Any] | None:
        """What decides this agent's audit of ``request`` besides what gitorch keys every cached audit on
        (the tree's content, the dimension and path, the agent's name, plugin version and options, the
        configuration, the loaded plugins' versions): JSON-able, e.g. ``{"bandit": "1.9.4"}`` — the
        versions of the analyzers it runs, a hash of the prompt templates it renders, its CLI's version.

        Return None when the result depends on more than that (a test run's outcome, the network): gitorch
        then never reuses it. The default, ``{}``, reuses an audit of the same tree. Cheap; never raises.
        """
        return {}

    def reaudit(
        self, request: AuditRequest, previous: AuditResult, changed: list[str]
    ) -> AuditResult | None:
        """Audit ``request`` again knowing ``previous`` (this agent's own result for an earlier state of
        the same tree, same identity) and the files that may have changed since (``changed``: paths
        relative to ``request.root``, some possibly deleted). Return the result a full :meth:`audit` would
        give — a per-file analyzer runs on the changed files only and keeps ``previous``'s findings
        elsewhere — or None to have gitorch run the full audit. None by default."""
        return None

    def fix(self, request: FixRequest) -> FixResult:
        from gitorch.models import FixResult  # gitorch.models imports this module at its end

        return FixResult(status="cannot_fix", summary=f"agent {self.name!r} does not fix findings")

    def deterministic_fixes(self, request: AuditRequest) -> list[Finding]:
        """Safe, offline changes the agent can make beyond the audit's findings, as findings to pass to
        :meth:`fix`. The fix loop asks for them in every iteration (they cost nothing); none by default.
        An agent offers them by overriding this method."""
        return []

    def recheck(self, request: RecheckRequest) -> list[Finding] | None:
        """Re-audit only the files an attempt touched, before the fix loop commits it.

        Return every finding of ``request.dimensions`` in ``request.files`` as :meth:`audit` would
        report it now (same rules, severities and fingerprints), from ``request.root`` (the run's
        worktree with the attempt's change). The loop asks the auditor of each dimension of the run and
        judges the answer itself (:mod:`gitorch.plugin.checks`): a new finding on a touched line as
        severe as the finding being fixed rejects the attempt, and the attempt is the fix of an audited
        finding only when the finding is gone. Raise :class:`~gitorch.errors.AgentError` when the
        re-audit fails (the attempt is then rejected: it could not be checked).

        None (the default): this agent cannot re-audit a few files cheaply; the loop then commits on the
        gates and the tests alone, and the next full audit judges the fix.
        """
        return None

    def project_environment(self, checkout: Path, config: Config) -> ProjectEnvironment | None:
        """Where the project's code and tests run, looked for in ``checkout`` (the user's checkout: the
        run's worktree holds tracked files only, no virtual environment).

        The fix loop asks the installed agents in plugin order (third-party first) and uses the first
        answer: its test command when the user set none, its cheap gate for every attempt (touched
        modules still compile and import), its coverage of the files the fixes touch. None (the
        default): this agent knows nothing about the project's environment.
        """
        return None
