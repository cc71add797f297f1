"""Driving an AI coding CLI as a subprocess: :class:`ExternalCliAgent` and :func:`run_process`.

A subclass describes one CLI (see ``plugins/gitorch_agents/``): how to build its argv for a task
(:meth:`ExternalCliAgent.invocation`) and how to read what it printed
(:meth:`ExternalCliAgent.parse_output`, a pure function of stdout, stderr, exit code and the side
files the call asked for). Everything else lives here, once:

- the subprocess: stdin closed (or fed the prompt and closed), its own process group, a wall-clock
  timeout and a watchdog on silence, the whole group killed (SIGTERM, then SIGKILL) on timeout or
  Ctrl-C, and no process left behind;
- the services of :class:`~gitorch.models.AgentContext`: the budget is checked with a worst-case
  estimate before the call and charged after it (a failed call's cost counts too), the prompt and
  everything recorded are masked by the redactor, every call is recorded, and in replay mode the
  recorded call is served instead of running anything;
- audits (JSON schema where the CLI supports one, otherwise the Markdown parser) and fixes.

A failed call raises :class:`~gitorch.errors.AgentError` naming the agent, the exit code and the
start of stderr; it never yields a score.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from gitorch.agents.output import CallOutcome, Invocation, ParsedOutput
from gitorch.agents.prompts import audit_variables, fix_variables, minimal_audit_prompt, minimal_fix_prompt
from gitorch.agents.schema import findings_schema, result_from_structured, strip_fence
from gitorch.errors import AgentError
from gitorch.models import (
    Agent,
    AuditRequest,
    AuditResult,
    Availability,
    FixRequest,
    FixResult,
    Usage,
)
from gitorch.process.runner import Completed, run_process

if TYPE_CHECKING:
    from gitorch.config import Config

Task = Literal["audit", "fix"]
STDERR_IN_ERRORS = 500
# Linux refuses a single argv string above MAX_ARG_STRLEN (128 KiB); stay well below it.
ARGV_PROMPT_LIMIT = 100_000
# Worst-case output bound used for the pre-call budget estimate when Options do not set one.
DEFAULT_MAX_OUTPUT_TOKENS = 8_000
# Agentic CLIs send a system prompt and tool definitions (claude's alone is ~15k tokens) and read files.
DEFAULT_OVERHEAD_TOKENS = 20_000


class AgentTimeout(AgentError):
    """The CLI ran past its wall-clock timeout or stayed silent too long; its process group was killed."""


# --------------------------------------------------------------------------------------------------
# The base class.


def executable_availability(exe: str, path: str | None = None) -> Availability:
    """Whether ``exe`` (a name on ``path``, default PATH, or a path) can be run."""
    if exe and shutil.which(exe, path=path):
        return Availability(True)
    return Availability(False, f"{exe!r} is not on PATH" if exe else "no executable configured")


class class_or_instance:  # noqa: N801 - used as a decorator, like classmethod
    """Like ``classmethod``, but the method also receives the instance (or None) it was called on."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, cls: type) -> Callable[..., Any]:
        return functools.partial(self.func, cls, obj)


class ExternalCliAgent(Agent):
    """An agent that runs an AI coding CLI. Subclass, set ``name``/``binary``, implement
    :meth:`invocation` and :meth:`parse_output`::

        class Echo(ExternalCliAgent):
            name = "echo"
            binary = "echo-ai"

            def invocation(self, task, prompt, cwd, calldir, schema=None):
                return Invocation([self.executable(), "--print"], stdin=prompt)

            def parse_output(self, stdout, stderr, exit_code, files, task):
                return ParsedOutput(text=stdout, ok=exit_code == 0)
    """

    binary: ClassVar[str]
    audits: ClassVar[frozenset[str] | None] = None
    fixes: ClassVar[frozenset[str] | None] = None
    supports_schema: ClassVar[bool] = False
    # A CLI process may write anywhere its own sandbox lets it: the loop watches the user's checkout.
    confined = False
    # Environment every call gets unless the user's environment or Options.env sets it.
    default_env: ClassVar[dict[str, str]] = {}

    class Options(Agent.Options):
        model: str | None = Field(None, description="model passed to the CLI (else the CLI's default)")
        binary: str | None = Field(None, description="path or name of the executable")
        extra_args: list[str] = Field(default_factory=list, description="appended to every argv")
        env: dict[str, str] = Field(
            default_factory=dict, description="extra environment, e.g. a base URL for a custom endpoint"
        )
        timeout_s: float | None = Field(None, gt=0, description="wall-clock limit (default: agent_timeout_s)")
        silence_timeout_s: float | None = Field(
            600, gt=0, description="kill after this long without output (a tool may run quietly for minutes)"
        )
        max_output_tokens: int = Field(
            DEFAULT_MAX_OUTPUT_TOKENS, gt=0, description="output bound used for the pre-call budget estimate"
        )
        overhead_tokens: int = Field(
            DEFAULT_OVERHEAD_TOKENS, ge=0,
            description="input the CLI sends besides the prompt (system prompt, tools, files it reads)",
        )
        use_schema: bool = Field(True, description="ask for findings as JSON where the CLI supports a schema")

    def __init__(self, options: Any = None, context: Any = None) -> None:
        super().__init__(options, context)
        # Routing grows the timeout 1.5x per retry through this factor.
        self.timeout_factor = 1.0
        # Files a fix is about, and the path an audit covers (aider takes files as arguments).
        self.targets: list[str] = []
        self.scope = "."

    # Availability ---------------------------------------------------------------------------------

    @class_or_instance
    def availability(cls, self: ExternalCliAgent | None = None) -> Availability:
        """Whether the executable is on PATH (cheap; never runs it).

        On the class it checks ``binary``; on an instance, the configured ``Options.binary``.
        """
        if self is None:
            return executable_availability(cls.binary)
        # The CLI is looked up on the PATH it will run with (Options.env may set one).
        return executable_availability(self.executable(), self.options.env.get("PATH"))

    @class_or_instance
    def available(cls, self: ExternalCliAgent | None = None) -> bool:
        """``bool(availability())``."""
        return bool(cls.availability() if self is None else self.availability())

    def executable(self) -> str:
        return self.options.binary or self.binary

    # What subclasses implement -------------------------------------------------------------------

    def invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None = None
    ) -> Invocation:
        """The argv (and stdin, env, side files under ``calldir``) for one call."""
        raise NotImplementedError

    def parse_output(
        self, stdout: str, stderr: str, exit_code: int | None, files: dict[str, str], task: Task
    ) -> ParsedOutput:
        """Read a run's output. ``files`` maps the Invocation's side-file roles to their contents."""
        raise NotImplementedError

    # Shared machinery ------------------------------------------------------------------------------

    def run_cli(
        self,
        argv: list[str],
        prompt: str | None,
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        silence_timeout: float | None = None,
    ) -> Completed:
        """Run one command line of this CLI (``prompt`` on stdin when given, else stdin closed).

        :meth:`call` is the usual entry point: it builds the argv from :meth:`invocation` and adds the
        budget, masking, parsing and recording around this.
        """
        return run_process(argv, cwd=cwd, env=env, stdin_text=prompt, timeout=timeout,
                           silence_timeout=silence_timeout if silence_timeout is not None
                           else self.options.silence_timeout_s)

    def model_args(self, flag: str) -> list[str]:
        return [flag, self.options.model] if self.options.model else []

    def environment(self, invocation: Invocation) -> dict[str, str]:
        env = dict(os.environ)
        for key, value in self.default_env.items():
            env.setdefault(key, value)
        env.update(invocation.env)
        env.update(self.options.env)
        return env

    def timeout_s(self, config: Config | None) -> float:
        base = self.options.timeout_s or (config.agent_timeout_s if config is not None else 900.0)
        return base * self.timeout_factor

    def _mask(self, text: str) -> str:
        redactor = self.context.redactor
        if redactor is not None:
            text = redactor.mask(text)
        # Keys set in Options.env live in configuration files the redactor never saw.
        from gitorch.services.redact import MARK, is_secret_name

        for name, value in self.options.env.items():
            if len(value) >= 6 and is_secret_name(name) and value in text:
                text = text.replace(value, MARK.format(name))
        return text

    def command_line(self, invocation: Invocation, cwd: Path) -> str:
        """The shell-quoted command of an invocation, as ``--dry-run`` shows it."""
        line = shlex.join(invocation.argv)
        if invocation.stdin is not None:
            line += " < prompt"
        return f"(cd {shlex.quote(str(cwd))} && {line})"

    def estimate_usd(self, prompt: str, config: Config | None) -> float:
        """Worst-case cost of one call: prompt + ``overhead_tokens`` in, ``max_output_tokens`` out."""
        from gitorch.services.budget import estimate_call_cost

        return estimate_call_cost(
            prompt,
            self.options.model,  # None (the CLI's default model) is priced at the highest known rate
            self.options.max_output_tokens,
            config.pricing if config is not None else None,
            overhead_tokens=self.options.overhead_tokens,
        )

    def price(self, usage: Usage, model: str | None, config: Config | None) -> Usage:
        """Keep a CLI-reported USD cost; price tokens otherwise."""
        if usage.cost_source == "reported" or not (usage.input_tokens or usage.output_tokens):
            return usage
        from gitorch.services.pricing import price_usage

        name = model or self.options.model or self.name
        cost, unknown = price_usage(
            name,
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens,
            config.pricing if config is not None else None,
        )
        return usage.model_copy(
            update={"cost_usd": round(cost, 6), "cost_source": "priced", "unknown_price": unknown}
        )

    def call(
        self,
        task: Task,
        prompt: str,
        cwd: Path,
        *,
        config: Config | None = None,
        schema: dict[str, Any] | None = None,
        capture: Callable[[], dict[str, str]] | None = None,
    ) -> CallOutcome:
        """Run the CLI once (or replay a recorded call) and return its text; AgentError on failure.

        Order: mask the prompt, check the budget with a worst-case estimate, run (or take the next
        recorded call), parse the masked output, price it, charge the budget (failed calls too),
        record it, and raise :class:`AgentError` (:class:`AgentTimeout` when killed) if it failed.
        ``capture()`` adds side outputs to the record after the run (a fix's worktree patch); a
        replayed ``worktree_patch`` is applied to ``cwd``.
        """
        prompt = self._mask(prompt)
        budget, recorder = self.context.budget, self.context.recorder
        estimate = None
        if budget is not None:
            estimate = self.estimate_usd(prompt, config)
            budget.check(estimate, what=f"{self.name} {task}")
        if recorder is not None and getattr(recorder, "replaying", False):
            return self._replay(task, prompt, cwd)
        with tempfile.TemporaryDirectory(prefix=f"gitorch-{self.name}-") as tmp:
            invocation = self.invocation(task, prompt, cwd, Path(tmp), schema)
            invocation.with_extra(self.options.extra_args)
            started_at = datetime.now(UTC)
            try:
                env = self.environment(invocation)
                completed = self.run_cli(invocation.argv, invocation.stdin, cwd, env, self.timeout_s(config))
            except KeyboardInterrupt:
                # The group is dead; keep what the call cost (unknown: its estimate) and re-raise.
                usage = Usage(calls=1, cost_usd=round(estimate or 0.0, 6),
                              cost_source="priced" if estimate else "none")
                if budget is not None:
                    budget.charge(usage, what=f"{self.name} {task} (interrupted)")
                self._keep(task, prompt, cwd, invocation.argv, started_at, usage, "interrupted (Ctrl-C)")
                raise
            except FileNotFoundError:
                raise AgentError(f"agent {self.name!r}: {invocation.argv[0]!r} is not on PATH") from None
            except PermissionError:
                raise AgentError(f"agent {self.name!r}: {invocation.argv[0]!r} is not executable") from None
            extra = {role: self._mask(_read(path)) for role, path in invocation.files.items()}
        if capture is not None:
            extra.update({key: self._mask(value) for key, value in capture().items() if value})
        # Parse the masked text: it is what the ledger keeps, so a replay reads exactly the same.
        stdout, stderr = self._mask(completed.stdout), self._mask(completed.stderr)
        parsed = self._parse(stdout, stderr, completed.exit_code, extra, task)
        if completed.timed_out:
            parsed.ok, parsed.error = False, f"killed: {completed.reason}"
        parsed.model = parsed.model or self.options.model  # codex names no model in its output
        usage = self.price(parsed.usage.model_copy(update={"calls": 1}), parsed.model, config)
        spent = usage.input_tokens or usage.output_tokens or usage.cost_usd
        if completed.timed_out and estimate and not spent:
            # Killed mid-work without a usage report: charge the worst-case estimate, not nothing.
            usage = usage.model_copy(update={"cost_usd": round(estimate, 6), "cost_source": "priced"})
        if parsed.model and parsed.model not in usage.models:
            usage = usage.model_copy(update={"models": sorted({*usage.models, parsed.model})})
        if budget is not None:
            budget.charge(usage, what=f"{self.name} {task}")  # NOTE: a failed call was paid for too
        error = None if parsed.ok else self._error_text(parsed.error, completed.exit_code, stderr)
        call_id = self._keep(
            task, prompt, cwd, invocation.argv, started_at, usage, error, model=parsed.model, stdout=stdout,
            stderr=stderr, extra=extra, exit_code=completed.exit_code, duration_s=completed.duration_s,
            timed_out=completed.timed_out,
        )
        if error is not None:
            raise (AgentTimeout if completed.timed_out else AgentError)(error)
        return CallOutcome(text=parsed.text, usage=usage, structured=parsed.structured, call_id=call_id,
                           notes=parsed.notes)

    def _keep(
        self, task: str, prompt: str, cwd: Path, argv: list[str], started_at: datetime, usage: Usage,
        error: str | None, **fields: Any,
    ) -> str | None:
        """Record one call (masked) with the context's recorder; its id, or None without a recorder."""
        recorder = self.context.recorder
        if recorder is None:
            return None
        from gitorch.services.recorder import AgentCall

        fields["model"] = fields.get("model") or self.options.model
        call = recorder.record(AgentCall(
            agent=self.name, task=task, argv=[self._mask(a) for a in argv], cwd=str(cwd), prompt=prompt,
            usage=usage, error=error, started_at=started_at, **fields,
        ))
        return call.id

    def _parse(
        self, stdout: str, stderr: str, exit_code: int | None, extra: dict[str, str], task: Task
    ) -> ParsedOutput:
        try:
            parsed = self.parse_output(stdout, stderr, exit_code, extra, task)
        except Exception as exc:  # a parser bug must not lose the call's record or its cost
            return ParsedOutput(ok=False, error=f"unreadable output ({type(exc).__name__}: {exc})")
        # NOTE: streamed answers arrive in chunks (gemini deltas, ~24 characters each), so a secret can
        # be split across two JSON events and escape the masking of the raw output: mask the joined text.
        parsed.text = self._mask(parsed.text)
        if parsed.structured is not None:
            parsed.structured = json.loads(self._mask(json.dumps(parsed.structured, ensure_ascii=False)))
        return parsed

    def _error_text(self, error: str | None, exit_code: int | None, stderr: str) -> str:
        message = f"agent {self.name!r} failed (exit {exit_code}): {error or 'unsuccessful run'}"
        stderr = stderr.strip()[:STDERR_IN_ERRORS]
        return f"{message}; stderr: {stderr}" if stderr else message

    def _replay(self, task: Task, prompt: str, cwd: Path) -> CallOutcome:
        """Serve the next recorded call: parsed as if it had just run, charged its recorded usage."""
        recorded = self.context.recorder.next_recorded(self.name, prompt, cwd=cwd)
        if self.context.budget is not None:
            self.context.budget.charge(recorded.usage, what=f"{self.name} {task} (replay)")
        if recorded.error:
            raise (AgentTimeout if recorded.timed_out else AgentError)(recorded.error)
        if recorded.extra.get("worktree_patch"):
            apply_patch(cwd, recorded.extra["worktree_patch"])
        parsed = self._parse(recorded.stdout, recorded.stderr, recorded.exit_code, recorded.extra, task)
        return CallOutcome(text=parsed.text, usage=recorded.usage, structured=parsed.structured,
                           call_id=recorded.id, notes=parsed.notes)

    # Prompts -------------------------------------------------------------------------------------

    def render(self, name: str, fallback: str, **variables: Any) -> str:
        templates = self.context.templates
        if templates is None:
            return fallback
        return templates.render(name, **variables)

    # Audit ---------------------------------------------------------------------------------------

    def wants_schema(self) -> bool:
        return self.supports_schema and self.options.use_schema

    def audit(self, request: AuditRequest) -> AuditResult:
        dimension = request.dimension
        self.scope = request.path
        schema = findings_schema() if self.wants_schema() else None
        prompt = self._mask(self.render(
            dimension.template_name(),
            minimal_audit_prompt(dimension, request.path, schema is not None),
            **audit_variables(request, schema),
        ))
        cwd = Path(request.root)
        if request.dry_run:
            with tempfile.TemporaryDirectory(prefix=f"gitorch-{self.name}-") as tmp:
                invocation = self.invocation("audit", prompt, cwd, Path(tmp), schema)
                invocation.with_extra(self.options.extra_args)
                line = self.command_line(invocation, cwd)
            return AuditResult(dimension=dimension.name, agent=self.name, path=request.path,
                               notes=[f"dry run: {self._mask(line)}"])
        request.report(f"{self.name}: auditing {dimension.name}")
        started = time.monotonic()
        outcome = self.call("audit", prompt, cwd, config=request.config, schema=schema)
        structured = outcome.structured
        if schema is not None and structured is None and strip_fence(outcome.text).startswith("{"):
            structured = outcome.text
        if schema is not None and structured is not None:
            result = result_from_structured(structured, dimension=dimension.name, agent=self.name)
        else:
            result = self._parse_markdown(outcome.text, dimension.name)
        return result.model_copy(update={
            "agent": self.name,
            "path": request.path,
            "usage": outcome.usage,
            "duration_s": round(time.monotonic() - started, 3),
            "notes": [*result.notes, *outcome.notes],
        })

    def _parse_markdown(self, text: str, dimension: str) -> AuditResult:
        parser = self.context.parser
        if parser is None:
            from gitorch.plugin.manager import get_plugins

            parser = get_plugins().parser("markdown")
        if not text.strip():
            raise AgentError(f"agent {self.name!r} returned an empty report")
        parsed = parser.parse(text, dimension=dimension)
        if not parsed.findings and parsed.score is None and parsed.claimed_score is None:
            # NOTE: "I could not read the files" must not pass for a clean audit scored 100.
            first = text.strip().splitlines()[0][:200]
            raise AgentError(
                f"agent {self.name!r} returned a report with neither findings nor a score: {first}"
            )
        claimed = parsed.claimed_score if parsed.claimed_score is not None else parsed.score
        scale = parsed.claimed_score_scale if parsed.claimed_score is not None else parsed.score_scale
        # The parser names itself as the source; the finding came from this agent.
        own = {None, "", getattr(parser, "name", None)}
        findings = [
            f.model_copy(update={"source": self.name}) if f.source in own else f for f in parsed.findings
        ]
        return parsed.model_copy(update={
            "findings": findings,
            "score": None,
            "score_scale": None,
            "score_source": "none",
            "claimed_score": claimed,
            "claimed_score_scale": scale if claimed is not None else None,
        })

    # Fix -----------------------------------------------------------------------------------------

    def fix(self, request: FixRequest) -> FixResult:
        """Let the CLI edit ``request.root``; AgentError (retried by routing) when the call fails."""
        excerpt = self._excerpt(request)
        prompt = self._mask(self.render(
            "fix_finding", minimal_fix_prompt(request, excerpt), **fix_variables(request, excerpt)
        ))
        cwd = Path(request.root)
        self.targets = [request.finding.file] if request.finding.file and not self._secret(request) else []
        if request.dry_run:
            with tempfile.TemporaryDirectory(prefix=f"gitorch-{self.name}-") as tmp:
                invocation = self.invocation("fix", prompt, cwd, Path(tmp), None)
                invocation.with_extra(self.options.extra_args)
                line = self.command_line(invocation, cwd)
            return FixResult(status="unchanged", summary=f"dry run: {self._mask(line)}")
        before = worktree_patch(cwd)
        after: list[str] = []

        def capture() -> dict[str, str]:
            after.append(worktree_patch(cwd))
            return {"worktree_patch": after[0]}

        # NOTE: keep what the CLI changed with the call, so that a replay re-applies it with no agent.
        # Only from a clean worktree: otherwise the patch would also hold changes made before.
        keep = capture if before == "" else None
        outcome = self.call("fix", prompt, cwd, config=request.config, capture=keep)
        status = "changed" if (after[0] if after else worktree_patch(cwd)) != before else "unchanged"
        return FixResult(status=status, summary=outcome.text.strip()[:2000], usage=outcome.usage,
                         call_id=outcome.call_id)

    def _secret(self, request: FixRequest) -> bool:
        from gitorch.services.redact import is_secret_file

        return bool(request.finding.file) and is_secret_file(request.finding.file)

    def _excerpt(self, request: FixRequest) -> str:
        """The finding's lines (never a secret file's: file_excerpt refuses those), masked."""
        finding = request.finding
        if not finding.file:
            return ""
        from gitorch.services.templates import file_excerpt

        return file_excerpt(request.root, finding.file, finding.line, redactor=self.context.redactor,
                            end_line=finding.end_line)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def worktree_patch(root: Path) -> str:
    """The worktree's uncommitted changes as one ``git apply``-able patch, new files included."""
    from gitorch.vcs.git import Git

    git = Git(root)
    # --no-color/--no-ext-diff: a user's diff.external or color.diff=always must not shape the patch.
    plain = ("--binary", "--no-color", "--no-ext-diff")
    try:
        parts = [git.run("diff", "HEAD", *plain, check=False)]
        untracked = git.run("ls-files", "--others", "--exclude-standard", "-z", check=False)
        for name in filter(None, untracked.split("\0")):
            # --no-index exits 1 when the files differ, which they always do here.
            parts.append(git.run("diff", "--no-index", *plain, "--", "/dev/null", name, check=False))
    except OSError:
        return ""
    return "".join(parts)


def apply_patch(root: Path, patch: str) -> None:
    """Apply a :func:`worktree_patch` to ``root``; AgentError when it does not apply."""
    done = subprocess.run(["git", "apply", "--binary", "--whitespace=nowarn", "-"], cwd=root, input=patch,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AgentError(f"replay: the recorded change does not apply: {done.stderr.strip()[:300]}")


