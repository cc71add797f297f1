"""``gitorch log``: a run's iterations, attempts, gates, commits and cost, from its ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("log")(log)


def _scores(scores: dict) -> str:
    return ", ".join(f"{d} {'-' if s is None else f'{s:g}'}" for d, s in scores.items())


def log(
    session: Annotated[
        str | None, typer.Argument(help="Session id or unique prefix (default: the latest).")
    ] = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
) -> None:
    """Show what a run did: iterations with scores before and after, commits, gates, confirmations, cost."""
    from gitorch.loop.session import load_session
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    state, ledger = load_session(root, session)
    echo = typer.echo
    echo(
        f"session {state.id} on {state.branch} (base {state.base_commit[:10]}) — "
        f"{state.stop_reason or state.status}"
    )
    for e in ledger.events():
        kind = e["type"]
        if kind == "audit" and e.get("kind") == "initial":
            echo(f"audit {e['dimension']}: score {e['score']} ({sum(e['counts'].values())} findings)")
        elif kind == "tests" and e.get("kind") == "baseline":
            echo(f"baseline tests: {'pass' if e['passed'] else 'FAIL'} ({e['brief']})")
        elif kind == "iteration_start":
            echo(f"\niteration {e['iteration']}: {e['phase']} — {e['candidates']} finding(s); {e['why']}")
        elif kind == "attempt":
            f = e["finding"]
            echo(
                f"  {f['severity']} {f['location']} [{f['fingerprint'][:10]}] {e['agent']} #{e['attempt']}: "
                f"{e['status']} (${e['cost_usd']:.4f})"
            )
        elif kind == "gate" and e["decision"] != "pass":
            echo(f"    gate {e['decision']}: " + "; ".join(f"{h['gate']}: {h['detail']}" for h in e["hits"]))
        elif kind == "confirmation":
            echo(f"    asked: {e['question']} → {'yes' if e['answer'] else 'no'} ({e['how']})")
        elif kind == "tests" and e.get("kind") == "attempt":
            echo(f"    tests: {'pass' if e['passed'] else 'FAIL'} ({e['brief']})")
        elif kind == "rollback_attempt":
            echo(f"    rolled back: {e['reason']} — patch {Path(e['patch']).name}")
        elif kind == "commit":
            echo(f"    commit {e['sha'][:10]} {e['subject']} (+{e['added']} -{e['removed']})")
        elif kind == "iteration_end":
            echo(
                f"  end of iteration {e['iteration']}: "
                f"{_scores(e['scores_before'])} → {_scores(e['scores_after'])}, "
                f"{e['commits']} commit(s), spent ${e['cost_usd']:.4f}"
            )
        elif kind == "strategy_change":
            echo(f"  no improvement: strategy {e['strategy']} (order {e['order']}, next agent in the chain)")
        elif kind in ("rollback", "rollback_undo"):
            echo(
                f"{kind.replace('_', ' ')}: {e['previous_tip'][:10]} → {e['target'][:10]} "
                f"(old tip saved as {e['attic']})"
            )
        elif kind == "resume":
            echo(f"\nresumed (was {e['previous']['status']}, {e['previous']['stop_reason']})")
        elif kind == "stop":
            echo(f"\nstopped: {e['reason']} — {e['detail']} (exit {e['exit_code']})")
