"""gitorch: audit a repository along dimensions and fix it on a reviewable branch.

Plugins import what they need from here::

    from gitorch import Agent, Dimension, Finding, Severity, hookimpl
"""

from __future__ import annotations

from gitorch.hookspecs import hookimpl
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
