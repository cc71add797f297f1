"""Exit codes and expected failures. Each failure carries the exit code the CLI turns it into; anything
else is a bug and keeps its traceback.

:class:`ExitCode` is the one list of the codes every ``gitorch`` command can end with; the README's
table is generated from it (:func:`exit_code_table`) and a test keeps the two equal.
"""

from __future__ import annotations

from enum import IntEnum, unique


@unique
class ExitCode(IntEnum):
    """How a ``gitorch`` command ended. Each member knows what it means and which commands use it."""

    meaning: str
    commands: str

    def __new__(cls, value: int, commands: str, meaning: str) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        member.commands = commands
        return member

    OK = (
        0,
        "all",
        "success: the audit ran (every score at or above `--fail-under`); the fix run reached its "
        "target",
    )
    UNDER_THRESHOLD = (
        1,
        "audit",
        "a score is under `--fail-under`",
    )
    USAGE = (
        2,
        "all",
        "usage or configuration error (bad flag or input, unknown dimension or agent, invalid "
        "configuration, an essential plugin disabled); nothing was changed",
    )
    PLUGIN = (
        3,
        "all",
        "plugin or agent error: a plugin failed (strict mode, duplicate names, a hook that "
        "raised), an agent or analyzer is missing or failed",
    )
    ERROR = (
        4,
        "all",
        "stopped on an error: a git command failed, or the fix run stopped on an error (its "
        "session is saved: `gitorch resume` after fixing the cause); `gitorch parse --strict`: the "
        "parse is doubtful (its warnings are on stderr)",
    )
    ITERATIONS = (
        5,
        "fix, resume, parse",
        "the fix run stopped at the iteration cap; `gitorch parse`: the report is over `--max-size` "
        "and was not read",
    )
    BUDGET = (
        6,
        "fix, resume",
        "the fix run stopped at the budget cap (`gitorch resume --budget USD` continues)",
    )
    STALLED = (
        7,
        "fix, resume",
        "the fix run stalled: no improvement, or nothing left that an available agent can fix",
    )
    NEEDS_HUMAN = (
        8,
        "fix, resume",
        "the fix run needs a human decision: a confirmation was declined (no terminal, no "
        "`--yes`), or the tests fail before any change",
    )
    DAMAGED = (
        65,
        "status, log, report, resume, rollback, clean",
        "a run's ledger is damaged (`session.json`, `events.jsonl` or the lock file): the message names "
        "the file and what is wrong; nothing was changed (`EX_DATAERR`)",
    )
    BAD_REPORT = (
        66,
        "merge",
        "a result given to `gitorch merge` cannot be used: unreadable, not a report gitorch wrote, "
        "unscored, or not from the same plan (mixed score formulas, a unit given twice, units that "
        "overlap); nothing was written (`EX_NOINPUT`)",
    )
    BUDGET_REFUSED = (
        75,
        "all",
        "a budget refused an agent call that could cost more than what is left (`EX_TEMPFAIL`); "
        "the fix loop turns this into 6",
    )
    INTERRUPTED = (
        130,
        "all",
        "interrupted (Ctrl-C or SIGTERM); a fix run can be resumed",
    )


def exit_code_table() -> str:
    """The Markdown table of every exit code, as the README shows it."""
    rows = [f"| {code.value} | `{code.name}` | {code.commands} | {code.meaning} |" for code in ExitCode]
    return "\n".join(["| code | name | commands | meaning |", "| --- | --- | --- | --- |", *rows]) + "\n"


class GitorchError(Exception):
    """An expected failure: the CLI prints ``gitorch: <message>`` on one line and exits with ``exit_code``."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(GitorchError):
    """Bad input from the user: an unknown dimension, a path outside the repository, not a git repository."""

    exit_code = ExitCode.USAGE


class InputTooLargeError(UsageError):
    """An input is over its documented size limit (``gitorch parse``'s report); nothing was written."""

    # NOTE: codes are per command; for ``gitorch parse`` 5 means "over --max-size" (see ExitCode).
    exit_code = ExitCode.ITERATIONS


class ConfigError(GitorchError):
    """A configuration file or value is invalid; the message names the file, the key and the reason."""

    exit_code = ExitCode.USAGE


class LedgerError(GitorchError):
    """A run's ledger cannot be trusted: a file that is not what gitorch wrote (damaged, truncated, edited).
    The message names the file and what is wrong, on one line."""

    exit_code = ExitCode.DAMAGED


class ReportError(GitorchError):
    """A result file ``gitorch merge`` was given cannot be used; the message names the file and why."""

    exit_code = ExitCode.BAD_REPORT


class PluginError(GitorchError):
    """A plugin failed to load or misbehaved (strict mode, duplicate names, a hook that raised)."""

    exit_code = ExitCode.PLUGIN


class AgentError(GitorchError):
    """An agent or analyzer could not do its job: missing binary, crash, unparseable output, timeout."""

    exit_code = ExitCode.PLUGIN


class AnalyzerMissingError(AgentError):
    """An analyzer the embedded agent needs is not installed."""
