"""``gitorch plan``: modules × dimensions of real repositories, with their cost, as a CI matrix."""

import json
from pathlib import Path

from gitorch.testing.fixtures import commit

PACKAGES = {
    "app/__init__.py": "",
    "app/views.py": "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n",
    "app/sub/__init__.py": "X = 1\n",
    "lib/util/__init__.py": "def f():\n    return 1\n",
    "lib/notes.md": "# not code\n",
    "scripts/deploy.py": "print('deploy')\n",
    "manage.py": "import app\n",
    "build/gen/__init__.py": "Y = 2\n",  # excluded by default
    ".hidden/pkg/__init__.py": "Z = 3\n",
    "docs/index.md": "# docs\n",
}


def _plan(cli, root: Path, *args: str) -> list[dict]:
    done = cli("plan", "--json", "--repo", str(root), *args)
    assert done.exit_code == 0, done.output
    matrix = json.loads(done.stdout)
    assert list(matrix) == ["include"]  # a GitHub Actions matrix as it is: no other axis
    return matrix["include"]


def test_python_packages_and_the_rest_are_the_units_and_cover_the_repository(git_repo, cli):
    from gitorch.audit.discovery import discover
    from gitorch.config import Config

    commit(git_repo, PACKAGES, "packages")
    root = Path(git_repo.working_tree_dir)
    units = _plan(cli, root, "--dim", "security", "--dim", "backend")
    rows = {(u["path"], u["dimension"]): u for u in units}
    paths = sorted({u["path"] for u in units})
    # outermost packages (app/sub is part of app), lib/util (lib is no package), and the rest: the
    # loose file at the root and the directory that holds code but no package
    assert paths == ["app", "lib/util", "manage.py", "scripts"]
    assert {u["kind"] for u in units if u["path"] in ("app", "lib/util")} == {"python"}
    assert {u["kind"] for u in units if u["path"] in ("manage.py", "scripts")} == {"rest"}
    assert len(units) == 8 and all(u["agent"] == "local" for u in units)
    assert rows[("app", "security")]["loc"] == 4 and rows[("app", "security")]["files"] == 3
    assert rows[("app", "security")]["id"] == "security:app"
    assert rows[("lib/util", "backend")]["slug"] == "backend-lib-util"
    # the embedded agent calls no model
    assert all(u["estimated_tokens"] == 0 and u["estimated_usd"] == 0 for u in units)
    # the units' lines add up to the whole repository's, as discovery counts them
    whole = discover(root, ".", Config())
    assert sum(rows[(p, "security")]["loc"] for p in paths) == whole.loc
    assert sum(rows[(p, "security")]["files"] for p in paths) == whole.files

    table = cli("plan", "--repo", str(root), "--dim", "security")
    assert table.exit_code == 0, table.output
    assert "4 unit(s) in 4 module(s)" in table.stdout and "lib/util" in table.stdout


def test_an_ai_agent_unit_has_a_token_and_price_estimate(git_repo, cli):
    commit(git_repo, {"pkg/__init__.py": "x = 1\n" * 300}, "code")
    root = Path(git_repo.working_tree_dir)
    (root / ".gitorch.toml").write_text(
        '[routing.security]\naudit = ["claude"]\n[agents.claude]\nmodel = "sonnet"\n'
    )
    units = _plan(cli, root, "--dim", "security")
    (unit,) = units
    assert unit["agent"] == "claude"
    # the CLI's overhead (20,000) + 1,800 bytes of source at 3 bytes a token + the output bound (8,000)
    assert unit["estimated_tokens"] == 20_000 + 600 + 8_000
    assert 0 < unit["estimated_usd"] < 1


def test_configured_modules_replace_discovery_and_narrow_dimensions(git_repo, cli):
    commit(git_repo, PACKAGES, "packages")
    root = Path(git_repo.working_tree_dir)
    (root / ".gitorch.toml").write_text(
        '[[modules]]\npath = "app"\nname = "web"\n\n'
        '[[modules]]\npath = "scripts"\ndimensions = ["security"]\n'
    )
    units = _plan(cli, root, "--dim", "security", "--dim", "backend")
    assert sorted((u["module"], u["path"], u["dimension"], u["kind"]) for u in units) == [
        ("scripts", "scripts", "security", "configured"),
        ("web", "app", "backend", "configured"),
        ("web", "app", "security", "configured"),
    ]
    (root / ".gitorch.toml").write_text('[[modules]]\npath = "nowhere"\n')
    bad = cli("plan", "--repo", str(root))
    assert bad.exit_code == 2
    assert "modules: 'nowhere' is not a directory of the repository" in bad.stderr


def test_a_repository_without_modules_is_one_unit_and_unknown_dimensions_are_refused(git_repo, cli):
    commit(git_repo, {"a.py": "x = 1\n", "b.py": "y = 2\n"}, "flat")
    root = Path(git_repo.working_tree_dir)
    units = _plan(cli, root, "--dim", "security")
    assert [(u["path"], u["kind"], u["loc"]) for u in units] == [(".", "root", 2)]
    bad = cli("plan", "--repo", str(root), "--dim", "nonsense")
    assert bad.exit_code == 2 and "nonsense" in bad.stderr
    both = cli("plan", "--repo", str(root), "--dim", "security", "--all")
    assert both.exit_code == 2 and "not both" in both.stderr
