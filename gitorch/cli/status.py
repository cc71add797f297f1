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
    from gitorch.loop.session import scan_sessions
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    lock = RunLock(root).read()
    rows = []
    sessions, damaged = scan_sessions(root)
    for s in sessions:
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
    for error in damaged:  # one line each, naming the file and what is wrong
        typer.secho(f"gitorch: {error}", fg="red", err=True, color=color_enabled(sys.stderr))
    if as_json:
        listing: dict = {"lock": _lock_json(lock), "runs": rows}
        if damaged:
            listing["damaged"] = [str(error) for error in damaged]
        typer.echo(json.dumps(listing, indent=2))
        _exit_if_damaged(damaged)
        return
    if not rows:
        typer.echo(f"no {'readable ' if damaged else ''}gitorch runs in this repository")
        _exit_if_damaged(damaged)
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
        remedy = f"`gitorch resume {lock.session}` or `gitorch clean`"
        if lock.damaged:
            remedy = "`gitorch clean` removes it"
        line = f"stale lock: {lock.describe()} — {remedy}"
        typer.secho(line, fg="yellow", err=True, color=color_enabled(sys.stderr))
    _exit_if_damaged(damaged)


def _exit_if_damaged(damaged: list) -> None:
    """A damaged session is bad input: the other runs are listed, and the exit code says it."""
    if damaged:
        from gitorch.errors import ExitCode

        raise typer.Exit(ExitCode.DAMAGED)


def _lock_json(lock) -> dict | None:
    if lock is None:
        return None
    return lock.model_dump(exclude=None if lock.damaged else {"damaged", "age_s"})
