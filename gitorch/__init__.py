"""gitorch: audit a repository along dimensions and fix it on a reviewable branch.

Plugins import what they need from here::

    from gitorch import Agent, Dimension, Finding, Severity, hookimpl
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitorch.hookspecs import hookimpl

if TYPE_CHECKING:
    from gitorch.models import (
        Agent,
        AuditRequest,
        AuditResult,
        Availability,
        Dimension,
        Finding,
        FixRequest,
        FixResult,
        Parser,
        Severity,
        Usage,
    )

# NOTE: the models load on first use (PEP 562), not with the package: importing any gitorch module —
# the test kit pytest loads in every project that has gitorch installed, say — must not pay for
# pydantic. `from gitorch import Agent` works as before.
_MODELS = frozenset(
    {
        "Agent",
        "AuditRequest",
        "AuditResult",
        "Availability",
        "Dimension",
        "Finding",
        "FixRequest",
        "FixResult",
        "Parser",
        "Severity",
        "Usage",
    }
)


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        from gitorch import models

        return getattr(models, name)
    raise AttributeError(f"module 'gitorch' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AuditRequest",
    "AuditResult",
    "Availability",
    "Dimension",
    "Finding",
    "FixRequest",
    "FixResult",
    "Parser",
    "Severity",
    "Usage",
    "__version__",
    "hookimpl",
]
