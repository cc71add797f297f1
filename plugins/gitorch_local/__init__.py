"""The embedded local agent: offline audits (bandit, ruff, radon, pytest+coverage) and deterministic
fixes (ruff's safe fixes, codemodder's security codemods). See docs/local-agent.md."""

from __future__ import annotations

from gitorch import hookimpl


@hookimpl
def gitorch_agents():  # noqa: ANN201
    from gitorch_local.agent import LocalAgent  # NOTE: lazy, keeps `gitorch --help` fast

    return [LocalAgent]
