"""``gitorch status``: the runs of this repository, their state, score and cost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("status", epilog="Example: gitorch status --json")(status)


def _score(value) -> str:
    return "-" if value is None else f"{value:g}"


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
) -> None:
    """List gitorch runs: state, scores, iterations, cost, branch."""
    import sys

    from gitorch.cli._common import color_enabled
    from gitorch.loop.lock import RunLock
    from gitorch.loop.session import list_sessions
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    lock = RunLock(root).read()
    rows = []
    for s in list_sessions(root):
        state = s.status
        if s.status == "running":
            alive = lock is not None and lock.session == s.id and lock.alive() is not False
            state = "running" if alive else "dead (resumable)"
        initial = min((v for v in s.initial_scores.values() if v is not None), default=None)
        final = min((v for v in s.scores.values() if v is not None), default=None)
        rows.append(
            {
                "session": s.id,
                "state": state,
                "stop_reason": s.stop_reason,
                "exit_code": s.exit_code,
                "initial_score": initial,
                "score": final,
                "target": s.options.target_score,
                "iterations": s.iterations_done,
                "max_iterations": s.options.max_iterations,
                "cost_usd": round(s.cost_usd, 4),
                "budget_usd": s.options.budget_usd,
                "commits": s.commits,
                "branch": s.branch,
                "dimensions": s.options.dimensions,
                "started_at": s.started_at,
                "cleaned": s.cleaned,
            }
        )
    if as_json:
        typer.echo(json.dumps({"lock": lock.model_dump() if lock else None, "runs": rows}, indent=2))
        return
    if not rows:
        typer.echo("no gitorch runs in this repository")
        return
    for r in rows:
        ended = r["stop_reason"] or r["state"]
        typer.echo(
            f"{r['session']}  {ended:<12} "
            f"score {_score(r['initial_score'])} → {_score(r['score'])}/{r['target']:g}  "
            f"iter {r['iterations']}/{r['max_iterations']}  ${r['cost_usd']:.3f}/${r['budget_usd']:.2f}  "
            f"{r['commits']} commit(s)  {r['branch']}{'  (cleaned)' if r['cleaned'] else ''}"
        )
    if lock is not None and lock.alive() is False:
        typer.secho(
            f"stale lock: {lock.describe()} — `gitorch resume {lock.session}` or `gitorch clean`",
            fg="yellow",
            err=True,
            color=color_enabled(sys.stderr),
        )
