"""Pointing a real CLI at a :class:`~gitorch.testing.model_server.ModelServer`: its environment, argv
and settings files (claude, codex, gemini, qwen)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitorch.testing.model_server.server import ModelServer


@dataclass(frozen=True)
class Redirect:
    """What points one CLI at a :class:`ModelServer`: environment variables, extra argv, a model.

    ``args`` are the provider flags alone; :attr:`argv` adds the model flag, and goes right after
    the subcommand (``codex exec <argv> ...``). Files the CLI needs (such as Gemini's
    ``settings.json``) have already been written into the given home directory.
    """

    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    model: str = ""
    model_flag: str = "--model"

    @property
    def argv(self) -> list[str]:
        """Provider flags followed by the model flag."""
        return [*self.args, self.model_flag, self.model] if self.model else list(self.args)

    def agent_options(self) -> dict[str, Any]:
        """Options for gitorch's own agent plugin of this CLI (``ExternalCliAgent.Options``):
        ``model``, ``env`` and ``extra_args``."""
        return {"model": self.model, "env": dict(self.env), "extra_args": list(self.args)}


def minimal_env(home: str | Path, path: str | None = None) -> dict[str, str]:
    """A minimal environment for a CLI subprocess: a fresh ``HOME`` and little else."""
    import os

    home = str(home)
    return {
        "PATH": path if path is not None else os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "TERM": "dumb",
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "XDG_CONFIG_HOME": f"{home}/.config",
        "XDG_CACHE_HOME": f"{home}/.cache",
        "XDG_DATA_HOME": f"{home}/.local/share",
        "XDG_STATE_HOME": f"{home}/.local/state",
        "TMPDIR": f"{home}/tmp",
    }


def claude_redirect(
    server: ModelServer, home: str | Path | None = None, *, model: str = "claude-sonnet-4-5"
) -> Redirect:
    """Environment that points Claude Code at ``server`` (Anthropic Messages protocol).

    ``IS_SANDBOX=1`` lets the bypass permission modes run as root (CI runs as root).
    """
    env = {
        "ANTHROPIC_BASE_URL": server.url,
        "ANTHROPIC_API_KEY": "sk-ant-gitorch-loopback",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "IS_SANDBOX": "1",
        "ANTHROPIC_MODEL": model,
        "ANTHROPIC_SMALL_FAST_MODEL": model,
    }
    return Redirect(env=env, args=[], model=model)


def codex_redirect(
    server: ModelServer, home: str | Path | None = None, *, model: str = "gpt-5.5"
) -> Redirect:
    """``-c`` overrides that point ``codex exec`` at ``server`` through a custom provider.

    ``OPENAI_BASE_URL`` does not redirect codex 0.169; a ``model_providers`` entry with
    ``wire_api="responses"`` and no retries does.
    """
    provider = (
        '{name="gitorch-loopback",'
        f'base_url="{server.openai_base_url}",'
        'env_key="GITORCH_LOOPBACK_API_KEY",wire_api="responses",'
        "request_max_retries=0,stream_max_retries=0,stream_idle_timeout_ms=300000}"
    )
    args = [
        "-c",
        'model_provider="gitorch-loopback"',
        "-c",
        f"model_providers.gitorch-loopback={provider}",
        "-c",
        "check_for_update_on_startup=false",
        "-c",
        "analytics.enabled=false",
    ]
    env = {"GITORCH_LOOPBACK_API_KEY": "sk-gitorch-loopback"}
    if home is not None:
        env["CODEX_HOME"] = str(Path(home) / ".codex")
        (Path(home) / ".codex").mkdir(parents=True, exist_ok=True)
    return Redirect(env=env, args=args, model=model, model_flag="-m")


def gemini_redirect(server: ModelServer, home: str | Path, *, model: str = "gemini-2.5-flash") -> Redirect:
    """Environment (and ``~/.gemini/settings.json``) that point Gemini CLI at ``server``.

    ``GOOGLE_GEMINI_BASE_URL`` alone selects the ``gateway`` auth type, which headless mode
    rejects; the settings file selects ``gemini-api-key``. Telemetry, update checks and the model
    router's classifier are switched off so that the scripted turns meet only agent requests.
    """
    settings_dir = Path(home) / ".gemini"
    settings_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
    }
    (settings_dir / "settings.json").write_text(json.dumps(settings, indent=2))
    env = {
        "GOOGLE_GEMINI_BASE_URL": server.url,
        "GEMINI_API_KEY": "gitorch-loopback-key",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    return Redirect(env=env, args=["--skip-trust"], model=model, model_flag="-m")


def qwen_redirect(server: ModelServer, home: str | Path, *, model: str = "gpt-4o") -> Redirect:
    """Environment, argv and ``~/.qwen/settings.json`` that point Qwen Code at ``server``
    (OpenAI chat completions).

    The settings switch off the managed auto-memory extractor, a sub-agent that otherwise sends a
    second generation request (with its own tools) after every run, and telemetry.
    """
    settings_dir = Path(home) / ".qwen"
    settings_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "memory": {"enableManagedAutoMemory": False},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
    }
    (settings_dir / "settings.json").write_text(json.dumps(settings, indent=2))
    env = {"OPENAI_API_KEY": "sk-gitorch-loopback", "OPENAI_BASE_URL": server.openai_base_url}
    return Redirect(env=env, args=["--auth-type", "openai"], model=model, model_flag="-m")


_REDIRECTS: dict[str, Callable[..., Redirect]] = {
    "claude": claude_redirect,
    "codex": codex_redirect,
    "gemini": gemini_redirect,
    "qwen": qwen_redirect,
}


def redirect_for(cli: str, server: ModelServer, home: str | Path) -> Redirect:
    """The :class:`Redirect` for ``cli`` (``claude``, ``codex``, ``gemini`` or ``qwen``)."""
    try:
        return _REDIRECTS[cli](server, home)
    except KeyError:
        raise ValueError(f"no loopback redirect known for {cli!r}") from None


