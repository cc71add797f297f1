"""Reach probes: the agent reaches the user's refs, stash, configuration or hooks.

The trial: the run's linked worktree shared refs, stashes, config and hooks with the user's repository;
an agent deleted or moved a branch, dropped the stash, set a filter driver (which gitorch's own git
commands then ran) or planted a hook, and it all stayed. The workspace now has a git directory of its
own; with the sandbox the user's repository is read-only to the agent; without it, the guard compares
refs, stash, configuration, hooks and ``info/`` (and the user's git configuration files) around every
call, puts them back from the copy taken before and stops the run.
"""

from __future__ import annotations

import pytest
from reachkit import check_contained, fingerprint


@pytest.mark.parametrize(
    ("name", "reached"),
    [
        ("branch-delete", [".git/refs/heads/feature"]),
        ("branch-move", [".git/refs/heads/feature", ".git/refs/heads/agent"]),
        ("stash-drop", [".git/refs/stash", ".git/logs/refs/stash"]),
        ("commit-on-branch", [".git/refs/heads/main"]),
        ("filter-driver", [".git/config", ".git/info/attributes"]),
        ("hooks", [".git/config", ".git/hooks/post-checkout", ".git/hooks/reference-transaction"]),
        ("fsmonitor", [".git/config"]),
    ],
)
def test_the_users_git_directory(user, probe, mode, name, reached):
    run = probe(name)
    before = fingerprint(user)
    outcome = run.run()
    check_contained(user, before, outcome, mode, reached=reached)


def test_the_users_global_git_configuration(user, probe, mode):
    run = probe("global-config")
    before = fingerprint(user)
    outcome = run.run()
    check_contained(
        user,
        before,
        outcome,
        mode,
        reached=[str(user.home / ".gitconfig"), str(user.home / ".config" / "git" / "attributes")],
    )


def test_what_an_agent_does_in_its_own_workspace_is_rejected_and_undone(user, probe, mode):
    """A commit and a hook path in the workspace's own git directory: never the user's. The attempt is
    rejected (gate git-dir) and the workspace put back; the run goes on."""
    run = probe("workspace-only")
    before = fingerprint(user)
    outcome = run.run()
    check_contained(user, before, outcome, mode, reached=[])
    gates = [hit for gate in outcome.of("gate") for hit in gate["hits"] if hit["gate"] == "git-dir"]
    if mode == "fallback":
        assert gates, outcome.of("gate")
