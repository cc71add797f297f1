"""The base class of AI coding-CLI agents: :class:`ExternalCliAgent`.

A subclass describes one CLI (see ``plugins/gitorch_agents/``): how to build its argv for a task
(:meth:`ExternalCliAgent.invocation`) and how to read what it printed
(:meth:`ExternalCliAgent.parse_output`, a pure function of stdout, stderr, exit code and the side
files the call asked for). :meth:`ExternalCliAgent.call` does the rest, once, with one collaborator
per concern:

- the process: :func:`gitorch.process.runner.run_process` (stdin closed or fed the prompt, its own
  process group, a wall-clock timeout and a silence watchdog, nothing left behind);
- masking: :class:`~gitorch.agents.masking.CallMasker` (the prompt, the output, the record);
- money: :class:`~gitorch.agents.accounting.CallAccount` (a worst-case estimate checked against the
  budget before the call; the call priced and charged after it, failed or not);
- records: :class:`~gitorch.agents.recording.CallLog` (every call kept; in replay mode the recorded
  call served instead of running anything);
- a fix's change: :class:`~gitorch.vcs.patch.ChangeCapture` (kept with the call, re-applied on replay);
- reading an audit: :func:`~gitorch.agents.reading.read_audit` (JSON schema or Markdown report).

A failed call raises :class:`~gitorch.errors.AgentError` naming the agent, the exit code and the
start of stderr; it never yields a score.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from gitorch.agents.accounting import CallAccount, SpendWatch, priced
from gitorch.agents.masking import CallMasker
from gitorch.agents.output import CallOutcome, Invocation, ParsedOutput, argv_prompt
from gitorch.agents.prompts import audit_variables, fix_variables, minimal_audit_prompt, minimal_fix_prompt
from gitorch.agents.reading import read_audit
from gitorch.agents.recording import WORKTREE_PATCH, CallLog
from gitorch.agents.schema import findings_schema
from gitorch.errors import AgentError
from gitorch.models import Agent, AuditRequest, AuditResult, Availability, FixRequest, FixResult, Usage
from gitorch.process.launch import current_policy
from gitorch.process.runner import Completed, run_process
from gitorch.services.redact import is_secret_file
from gitorch.vcs.guard import ContainmentBreach
from gitorch.vcs.patch import ChangeCapture

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


def in_gitorch_sandbox() -> bool:
    """Whether an agent call made now runs in gitorch's sandbox (:mod:`gitorch.process.sandbox`): a CLI
    whose own sandbox cannot nest in it (codex's bubblewrap, when gitorch runs as root) runs without its
    own."""
    return current_policy().confines("agent")


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
    # A CLI process may write anywhere its own sandbox lets it; gitorch's sandbox holds it (runs_as_process).
    confined = False
    # NOTE: paid calls never overlap, so that a budget check before a call sees every charge before it.
    audit_group = "external-cli"
    runs_as_process = True
    # What the CLI writes besides its working directory (its configuration, sessions, caches): writable in
    # gitorch's sandbox. ``{home}``, ``{config}``, ``{data}``, ``{cache}``, ``{state}`` are HOME and the XDG
    # directories; a path ending with "/" is a directory (made when missing), else a file (writable when
    # it exists). ``Options.writable`` adds more.
    writes: ClassVar[tuple[str, ...]] = ()
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
        writable: list[str] = Field(
            default_factory=list,
            description="more paths the CLI may write in gitorch's sandbox (~ and {home}, {config}, {data}, "
            "{cache}, {state} expand; a trailing / marks a directory)",
        )

    class StreamingOptions(Options):
        """Options of a CLI that can print events as they happen or one object at the very end."""

        stream: bool = Field(
            True, description="print events as they happen (the silence watchdog needs them) instead of "
            "one object at the very end"
        )

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

    # Helpers for subclasses ----------------------------------------------------------------------

    def model_args(self, flag: str) -> list[str]:
        """``[flag, model]`` when ``Options.model`` is set, else nothing."""
        return [flag, self.options.model] if self.options.model else []

    def prompt_args(self, prompt: str, flag: str | None = None,
                    on_stdin: tuple[str, ...] = ()) -> tuple[list[str], str | None]:
        """The argv words carrying ``prompt`` and what goes to stdin.

        ``[flag, prompt]`` (or ``[prompt]``) when the prompt fits in one argv string; a longer prompt
        (over :data:`ARGV_PROMPT_LIMIT` bytes) goes to stdin instead, with ``on_stdin`` as the words.
        """
        if len(prompt.encode()) > ARGV_PROMPT_LIMIT:
            return list(on_stdin), prompt
        return [*([flag] if flag else []), argv_prompt(prompt)], None

    def environment(self, invocation: Invocation) -> dict[str, str]:
        """The user's environment, then :attr:`default_env` where unset, the invocation's, ``Options.env``."""
        env = dict(os.environ)
        for key, value in self.default_env.items():
            env.setdefault(key, value)
        env.update(invocation.env)
        env.update(self.options.env)
        return env

    def writable_paths(self, env: dict[str, str]) -> list[Path]:
        """Where the CLI may write besides its working directory (:attr:`writes`, ``Options.writable``),
        expanded for the environment it runs with; missing directories are made."""
        home = Path(env.get("HOME") or Path.home())
        places = {
            "home": home,
            "config": Path(env.get("XDG_CONFIG_HOME") or home / ".config"),
            "data": Path(env.get("XDG_DATA_HOME") or home / ".local" / "share"),
            "cache": Path(env.get("XDG_CACHE_HOME") or home / ".cache"),
            "state": Path(env.get("XDG_STATE_HOME") or home / ".local" / "state"),
        }
        paths = []
        for entry in [*self.writes, *self.options.writable]:
            entry = f"{{home}}{entry[1:]}" if entry.startswith("~") else entry
            path = Path(entry.format(**{k: str(v) for k, v in places.items()}))
            if entry.endswith("/"):
                with contextlib.suppress(OSError):
                    path.mkdir(parents=True, exist_ok=True)
            paths.append(path)
        return paths

    def timeout_s(self, config: Config | None) -> float:
        base = self.options.timeout_s or (config.agent_timeout_s if config is not None else 900.0)
        return base * self.timeout_factor

    def spend_cap_usd(self) -> float | None:
        """What the run may still spend on this call (None without a budget): for a CLI with a spending
        cap of its own (claude's ``--max-budget-usd``)."""
        budget = self.context.budget
        return None if budget is None else budget.left_usd

    def stream_usage(self, line: str) -> tuple[str, Usage] | None:
        """One line of the CLI's stdout → (an id of the model turn, its usage) when the line reports one.

        A CLI that streams its usage turn by turn overrides this; its calls are then watched while they
        run, and stopped before the next turn could take the run past its budget (:class:`SpendWatch`).
        """
        return None

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

    def command_line(self, invocation: Invocation, cwd: Path) -> str:
        """The shell-quoted command of an invocation, as ``--dry-run`` shows it."""
        line = shlex.join(invocation.argv)
        if invocation.stdin is not None:
            line += " < prompt"
        return f"(cd {shlex.quote(str(cwd))} && {line})"

    # One call ------------------------------------------------------------------------------------

    def masker(self) -> CallMasker:
        return CallMasker(self.context.redactor, self.options.env)

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
        replayed worktree patch is applied to ``cwd``.
        """
        mask = self.masker()
        prompt = mask(prompt)
        account = CallAccount(self.context.budget, config.pricing if config is not None else None,
                              f"{self.name} {task}")
        account.check(lambda: self.estimate_usd(prompt, config))
        log = CallLog(self.context.recorder, self.name, mask, self.options.model)
        if log.replaying:
            return self._replay(task, prompt, cwd, log, account)
        with tempfile.TemporaryDirectory(prefix=f"gitorch-{self.name}-") as tmp:
            invocation = self._invocation(task, prompt, cwd, Path(tmp), schema)
            started_at = datetime.now(UTC)
            watch = self._spend_watch(account, config)
            try:
                completed = self._run(task, invocation, cwd, Path(tmp), config, watch)
            except (KeyboardInterrupt, ContainmentBreach) as stopped:
                # The group is dead; keep what the call cost (unknown: its estimate) and re-raise.
                why = "interrupted (Ctrl-C)" if isinstance(stopped, KeyboardInterrupt) else str(stopped)
                log.keep(task, prompt, cwd, invocation.argv, started_at, account.interrupted(), why)
                raise
            extra = {role: mask(_read(path)) for role, path in invocation.files.items()}
        if capture is not None:
            extra.update({key: mask(value) for key, value in capture().items() if value})
        # Parse the masked text: it is what the ledger keeps, so a replay reads exactly the same.
        stdout, stderr = mask(completed.stdout), mask(completed.stderr)
        parsed = self._parse(stdout, stderr, completed.exit_code, extra, task, mask)
        if completed.timed_out:
            parsed.ok, parsed.error = False, f"killed: {completed.reason}"
        if completed.stopped:
            parsed.ok, parsed.error = False, f"stopped: {completed.stopped}"
            if watch is not None and not (parsed.usage.input_tokens or parsed.usage.cost_usd):
                parsed.usage = watch.usage()  # the turns it streamed before it was stopped
        parsed.model = parsed.model or self.options.model  # codex names no model in its output
        killed = completed.timed_out or bool(completed.stopped)
        usage = account.settle(parsed.usage, parsed.model, price_as=self.name, killed=killed)
        error = None if parsed.ok else self._error_text(parsed.error, completed.exit_code, stderr)
        call_id = log.keep(
            task, prompt, cwd, invocation.argv, started_at, usage, error, model=parsed.model, stdout=stdout,
            stderr=stderr, extra=extra, exit_code=completed.exit_code, duration_s=completed.duration_s,
            timed_out=completed.timed_out, overshoot_usd=account.overshoot_usd,
        )
        if completed.stopped:
            from gitorch.services.budget import BudgetExceeded

            raise BudgetExceeded(f"{self.name} {task} {completed.stopped}", what=f"{self.name} {task}")
        if error is not None:
            raise (AgentTimeout if completed.timed_out else AgentError)(error)
        return CallOutcome(text=parsed.text, usage=usage, structured=parsed.structured, call_id=call_id,
                           notes=parsed.notes)

    def _invocation(
        self, task: Task, prompt: str, cwd: Path, calldir: Path, schema: dict[str, Any] | None
    ) -> Invocation:
        return self.invocation(task, prompt, cwd, calldir, schema).with_extra(self.options.extra_args)

    def _spend_watch(self, account: CallAccount, config: Config | None) -> SpendWatch | None:
        """A watch on the usage the CLI streams, when it streams any and the run has a budget."""
        left = account.left_usd()
        if left is None or type(self).stream_usage is ExternalCliAgent.stream_usage:
            return None
        pricing = config.pricing if config is not None else None

        def price(usage: Usage) -> float:
            model = usage.models[0] if usage.models else (self.options.model or self.name)
            return priced(usage, model, pricing).cost_usd

        return SpendWatch(self.stream_usage, price, left)

    def _run(
        self, task: Task, invocation: Invocation, cwd: Path, calldir: Path, config: Config | None,
        watch: SpendWatch | None = None,
    ) -> Completed:
        """Run the CLI: it may write the call's private directory and its own files, and for a fix its
        working directory (gitorch's sandbox holds it to that)."""
        env = self.environment(invocation)
        try:
            return run_process(
                invocation.argv, cwd=cwd, env=env, stdin_text=invocation.stdin,
                timeout=self.timeout_s(config), silence_timeout=self.options.silence_timeout_s,
                writable=(calldir, *self.writable_paths(env)), purpose="agent", cwd_writable=task == "fix",
                watch=None if watch is None else watch.feed,
            )
        except FileNotFoundError:
            raise AgentError(f"agent {self.name!r}: {invocation.argv[0]!r} is not on PATH") from None
        except PermissionError:
            raise AgentError(f"agent {self.name!r}: {invocation.argv[0]!r} is not executable") from None

    def _parse(
        self, stdout: str, stderr: str, exit_code: int | None, extra: dict[str, str], task: Task,
        mask: CallMasker,
    ) -> ParsedOutput:
        try:
            parsed = self.parse_output(stdout, stderr, exit_code, extra, task)
        except Exception as exc:  # a parser bug must not lose the call's record or its cost
            return ParsedOutput(ok=False, error=f"unreadable output ({type(exc).__name__}: {exc})")
        return mask.parsed(parsed)

    def _error_text(self, error: str | None, exit_code: int | None, stderr: str) -> str:
        message = f"agent {self.name!r} failed (exit {exit_code}): {error or 'unsuccessful run'}"
        stderr = stderr.strip()[:STDERR_IN_ERRORS]
        return f"{message}; stderr: {stderr}" if stderr else message

    def _replay(self, task: Task, prompt: str, cwd: Path, log: CallLog, account: CallAccount) -> CallOutcome:
        """Serve the next recorded call: parsed as if it had just run, charged its recorded usage."""
        recorded = log.next(prompt, cwd)
        account.replayed(recorded.usage)
        if recorded.error:
            raise (AgentTimeout if recorded.timed_out else AgentError)(recorded.error)
        log.reapply(recorded, cwd)
        parsed = self._parse(recorded.stdout, recorded.stderr, recorded.exit_code, recorded.extra, task,
                             self.masker())
        return CallOutcome(text=parsed.text, usage=recorded.usage, structured=parsed.structured,
                           call_id=recorded.id, notes=parsed.notes)

    def _dry_run(self, task: Task, prompt: str, cwd: Path, schema: dict[str, Any] | None) -> str:
        """``dry run: <the command line a call would run>``, masked; nothing runs."""
        with tempfile.TemporaryDirectory(prefix=f"gitorch-{self.name}-") as tmp:
            line = self.command_line(self._invocation(task, prompt, cwd, Path(tmp), schema), cwd)
        return f"dry run: {self.masker()(line)}"

    # Audit and fix -------------------------------------------------------------------------------

    def render(self, name: str, fallback: str, **variables: Any) -> str:
        templates = self.context.templates
        if templates is None:
            return fallback
        return templates.render(name, **variables)

    def cache_identity(self, request: AuditRequest) -> dict[str, Any] | None:
        """The prompt templates (all of them: a prompt includes partials) and the CLI's executable (its
        path, size and modification time stand for its version without starting it)."""
        templates = self.context.templates
        identity: dict[str, Any] = {"templates": templates.digest() if templates is not None else None}
        found = shutil.which(self.executable(), path=self.options.env.get("PATH"))
        if found:
            stat = os.stat(found)
            identity["executable"] = [os.path.realpath(found), stat.st_size, stat.st_mtime_ns]
        return identity

    def wants_schema(self) -> bool:
        return self.supports_schema and self.options.use_schema

    def audit(self, request: AuditRequest) -> AuditResult:
        dimension = request.dimension
        self.scope = request.path
        schema = findings_schema() if self.wants_schema() else None
        prompt = self.masker()(self.render(
            dimension.template_name(),
            minimal_audit_prompt(dimension, request.path, schema is not None),
            **audit_variables(request, schema),
        ))
        cwd = Path(request.root)
        if request.dry_run:
            return AuditResult(dimension=dimension.name, agent=self.name, path=request.path,
                               notes=[self._dry_run("audit", prompt, cwd, schema)])
        request.report(f"{self.name}: auditing {dimension.name}")
        started = time.monotonic()
        outcome = self.call("audit", prompt, cwd, config=request.config, schema=schema)
        result = read_audit(outcome.text, outcome.structured, schema_used=schema is not None,
                            dimension=dimension.name, agent=self.name, parser=self.context.parser)
        return result.model_copy(update={
            "agent": self.name,
            "path": request.path,
            "usage": outcome.usage,
            "duration_s": round(time.monotonic() - started, 3),
            "notes": [*result.notes, *outcome.notes],
        })

    def fix(self, request: FixRequest) -> FixResult:
        """Let the CLI edit ``request.root``; AgentError (retried by routing) when the call fails."""
        finding = request.finding
        excerpt = self._excerpt(request)
        prompt = self.masker()(self.render(
            "fix_finding", minimal_fix_prompt(request, excerpt), **fix_variables(request, excerpt)
        ))
        cwd = Path(request.root)
        # aider takes the finding's file as a chat file: never a secret file.
        self.targets = [finding.file] if finding.file and not is_secret_file(finding.file) else []
        if request.dry_run:
            return FixResult(status="unchanged", summary=self._dry_run("fix", prompt, cwd, None))
        change = ChangeCapture(cwd)
        # NOTE: keep what the CLI changed with the call, so that a replay re-applies it with no agent.
        # Only from a clean worktree: otherwise the patch would also hold changes made before.
        keep = (lambda: {WORKTREE_PATCH: change.after()}) if change.clean_before else None
        outcome = self.call("fix", prompt, cwd, config=request.config, capture=keep)
        return FixResult(status="changed" if change.changed() else "unchanged",
                         summary=outcome.text.strip()[:2000], usage=outcome.usage, call_id=outcome.call_id)

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
