"""Expected failures. Each carries the exit code the CLI turns it into; anything else is a bug."""

from __future__ import annotations


class GitorchError(Exception):
    """An expected failure: the CLI prints ``gitorch: <message>`` on one line and exits with ``exit_code``."""

    exit_code: int = 2


class UsageError(GitorchError):
    """Bad input from the user: an unknown dimension, a path outside the repository, not a git repository."""

    exit_code = 2


class ConfigError(GitorchError):
    """A configuration file or value is invalid; the message names the file, the key and the reason."""

    exit_code = 2


class PluginError(GitorchError):
    """A plugin failed to load or misbehaved (strict mode, duplicate names, a hook that raised)."""

    exit_code = 3


class AgentError(GitorchError):
    """An agent or analyzer could not do its job: missing binary, crash, unparseable output, timeout."""

    exit_code = 3


class AnalyzerMissingError(AgentError):
    """An analyzer the embedded agent needs is not installed."""
