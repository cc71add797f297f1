"""Auditing: one dimension of a tree, by one agent, into a scored :class:`~gitorch.models.AuditResult`.

- :mod:`gitorch.audit.run`: the core API (:func:`run_audit`), the agent context of an audit, and the
  choice of agent (:func:`agent_chain`: the routing chain, or the agents plugins declare default);
- :mod:`gitorch.audit.discovery`: what is in the audited tree (files, lines of code, project kind);
- :mod:`gitorch.audit.render`: table, JSON, Markdown and SARIF output.
"""

from __future__ import annotations

from gitorch.audit.run import agent_chain, audit_context, choose_agent, make_agent, resolve_path, run_audit

__all__ = ["agent_chain", "audit_context", "choose_agent", "make_agent", "resolve_path", "run_audit"]
