"""``gitorch odoo …``: the plugin's commands (added through the ``gitorch_add_commands`` hook)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from gitorch.errors import UsageError

from gitorch_odoo import TEMPLATES_DIR

odoo_app = typer.Typer(
    no_args_is_help=True,
    help="Odoo modules: list them, check that they parse, the rule table, configuration and templates.",
)

EXIT_PARSE_ERRORS = 1

RepoOption = Annotated[
    Path | None, typer.Option("--repo", "-C", help="Repository (default: the current directory).")
]


def _repo_root(repo: Path | None) -> Path:
    from gitorch.vcs.git import repo_root

    return repo_root(repo or Path.cwd())


def _modules(path: Path):
    from gitorch.config import Config

    from gitorch_odoo.modules import find_modules

    if not path.exists():
        raise UsageError(f"{path}: no such file or directory")
    # Paths are shown relative to the current directory when PATH lies inside it.
    cwd, target = Path.cwd().resolve(), path.resolve()
    root = cwd if target.is_relative_to(cwd) else (target if target.is_dir() else target.parent)
    modules = find_modules(root, target.relative_to(root).as_posix() or ".", Config().exclude)
    if not modules:
        raise UsageError(f"no Odoo module under {path} (a module is a directory with a __manifest__.py)")
    return root, modules


@odoo_app.command("modules")
def modules_command(
    path: Annotated[Path, typer.Argument(help="Where to look (default: the current directory).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """List the Odoo modules under PATH: name, path, manifest version and Odoo series."""
    root, modules = _modules(path)
    rows = [
        {
            "name": m.name,
            "path": m.path,
            "version": m.version,
            "series": m.series,
            "installable": m.installable,
            "error": m.error,
        }
        for m in modules
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "" if row["installable"] else " (not installable)"
        problem = f" — {row['error']}" if row["error"] else ""
        typer.echo(f"{row['path']}\t{row['version'] or '-'}\t{row['series'] or 'no series'}{state}{problem}")


@odoo_app.command("check")
def check_command(
    path: Annotated[
        Path, typer.Argument(help="Where the modules are (default: the current directory).")
    ] = Path("."),
) -> None:
    """Check that every Python, XML and CSV file of the Odoo modules under PATH parses (exit 1 if not).

    A test command for a repository without an Odoo server: `[tests] command = "gitorch odoo check"`.
    """
    from gitorch.config import Config

    from gitorch_odoo.syntax import check_modules

    root, modules = _modules(path)
    checked, errors = check_modules(root, modules, Config().exclude)
    for error in errors:
        typer.echo(str(error))
    typer.echo(f"{checked} files of {len(modules)} Odoo module(s) checked: {len(errors)} do not parse")
    if errors:
        raise typer.Exit(EXIT_PARSE_ERRORS)


@odoo_app.command("rules")
def rules_command(
    dim: Annotated[str | None, typer.Option("--dim", help="Only the rules of this dimension.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """The rule table: each analyzer message, its dimension, its severity, and the fixer that fixes it."""
    from gitorch_odoo.rules import all_rules

    rules = [r for r in all_rules() if dim is None or r.dimension == dim]
    if dim is not None and not rules:
        raise UsageError(
            f"no rule in dimension {dim!r} (the odoo agent audits compliance, security, backend)"
        )
    rules.sort(key=lambda r: (r.dimension, r.severity.rank, r.rule_id))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "rule_id": r.rule_id,
                        "dimension": r.dimension,
                        "severity": r.severity.value,
                        "why": r.why,
                        "fixer": r.fixer,
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
        return
    for r in rules:
        typer.echo(f"{r.severity.value}\t{r.dimension}\t{r.rule_id}\t{r.fixer or '-'}\t{r.why}")


def starter_config() -> str:
    """The ``.gitorch.toml`` ``gitorch odoo init`` writes."""
    return """\
# gitorch configuration for an Odoo repository, written by `gitorch odoo init` (gitorch-odoo).
# Only what differs from gitorch's defaults is here; `gitorch init` shows every key. See docs/odoo.md.
# With gitorch-odoo installed, no configuration is needed to route compliance to the odoo agent, to
# merge its Odoo rules into the security and backend audits, or to confirm fixes to a module's
# manifest and access rules (security/ir.model.access*.csv, security/*.xml): the plugin declares them.

default_dimensions = ["compliance", "security", "backend"]

# Odoo runs in a container: commands go through this prefix. The tests of a fix must see the run's
# worktree, not your checkout, hence {worktree} mounted over the addons path:
# command_prefix = "docker compose run --rm -T -v {worktree}:/mnt/extra-addons odoo"

[tests]
# Without an Odoo server: every Python, XML and CSV file of the modules must still parse.
command = "gitorch odoo check"
# With one, through command_prefix, the module's own tests (MODULE: the module's technical name):
# command = "odoo -d gitorch_test -i MODULE --test-enable --stop-after-init --no-http"
# timeout_s = 1800

# Put an AI agent after the odoo agent to have it take the findings no OCA fixer handles:
# [routing.compliance]
# fix = ["odoo", "claude"]

# The security audit is bandit's (gitorch's embedded agent) with the Odoo rules merged in. For bandit
# alone, set audit_with = []; for the Odoo rules alone, also audit = ["odoo"]:
# [routing.security]
# audit_with = []
# audit = ["odoo"]

# [agents.odoo]
# oca_python = "~/.local/share/pipx/venvs/oca-odoo-pre-commit-hooks/bin/python"
# disable = ["manifest-required-author"]
# severity = { "xml-tag-position" = "P4" }
"""


@odoo_app.command("init")
def init_command(
    repo: RepoOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing .gitorch.toml.")] = False,
) -> None:
    """Write a .gitorch.toml for an Odoo repository: compliance, security and backend audited by
    default, `gitorch odoo check` as the test command."""
    from gitorch.config import CONFIG_FILE

    root = _repo_root(repo)
    target = root / CONFIG_FILE
    if target.exists() and not force:
        raise UsageError(
            f"{target} already exists (use --force to overwrite, or add what `gitorch odoo config` prints)"
        )
    target.write_text(starter_config(), encoding="utf-8")
    typer.echo(f"wrote {target}")


@odoo_app.command("config")
def config_command() -> None:
    """Print the configuration `gitorch odoo init` writes (to merge into an existing .gitorch.toml)."""
    typer.echo(starter_config(), nl=False)


@odoo_app.command("templates")
def templates_command(
    repo: RepoOption = None,
    install: Annotated[
        bool,
        typer.Option("--install", help="Copy them into the repository's templates directory, to edit them."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite templates already there.")] = False,
) -> None:
    """The plugin's Odoo prompt templates. gitorch uses them in any repository holding an Odoo module
    (`gitorch templates` shows them as plugin:odoo); --install copies them into the repository's
    templates directory, where your edits override them.
    """
    files = sorted(TEMPLATES_DIR.glob("*.md.j2"))
    if not install:
        for path in files:
            typer.echo(f"{path.name[: -len('.md.j2')]}\t{path}")
        return
    from gitorch.config import load_config

    root = _repo_root(repo)
    directory = root / load_config(root).templates_dir
    existing = [p.name for p in files if (directory / p.name).exists()]
    if existing and not force:
        raise UsageError(f"{directory} already has {', '.join(existing)} (use --force to overwrite)")
    directory.mkdir(parents=True, exist_ok=True)
    for path in files:
        (directory / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        typer.echo(f"wrote {directory / path.name}")
