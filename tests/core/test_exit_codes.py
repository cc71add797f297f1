"""Exit codes are defined once (gitorch.errors.ExitCode) and the README shows exactly that list."""

import ast
import importlib
import pathlib
import pkgutil
import typing

import gitorch
from gitorch.errors import ExitCode, GitorchError, exit_code_table

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "gitorch").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")])


def test_the_readme_table_is_the_generated_one():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- exit-codes: generated from gitorch.errors.exit_code_table() -->\n")
    block = text[text.index("\n", start) + 1 : text.index("<!-- /exit-codes -->")]
    assert block == exit_code_table(), "README's exit-code table is stale: paste exit_code_table() into it"


def test_every_code_has_a_meaning_and_its_commands():
    assert len({int(code) for code in ExitCode}) == len(ExitCode.__members__)
    for code in ExitCode:
        assert code.meaning and code.commands, code


def _all_gitorch_errors() -> set[type]:
    for module in pkgutil.walk_packages(gitorch.__path__, "gitorch."):
        if module.name.startswith(("gitorch.testing.model_server", "gitorch.sample")):
            continue
        importlib.import_module(module.name)
    for name in ("gitorch_local", "gitorch_agents", "gitorch_markdown", "gitorch_dimensions"):
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            importlib.import_module(module.name)
    found, todo = set(), [GitorchError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_gitorch_error_exits_with_an_exit_code_member():
    errors = _all_gitorch_errors()
    assert len(errors) >= 8  # UsageError, ConfigError, PluginError, AgentError, GitError, BudgetExceeded…
    for cls in errors:
        assert isinstance(cls.exit_code, ExitCode), f"{cls.__module__}.{cls.__name__}.exit_code"


def test_every_stop_reason_of_the_fix_loop_has_its_exit_code():
    from gitorch.loop.session import EXIT_CODES, StopReason

    assert set(EXIT_CODES) == set(typing.get_args(StopReason))
    assert all(isinstance(code, ExitCode) for code in EXIT_CODES.values())


def _literal_exit_codes(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            exits = ("typer.Exit", "sys.exit", "SystemExit", "exit")
            if func in exits and isinstance(node.args[0].value, int):
                found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            names = [ast.unparse(t) for t in node.targets]
            if "exit_code" in names and isinstance(node.value.value, int):
                found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_command_exits_with_a_literal_number():
    sources = [p for p in SOURCES if "model_server" not in p.name and "gitorch-example" not in p.parts]
    assert len(sources) > 50
    assert [hit for path in sources for hit in _literal_exit_codes(path)] == []


def test_the_literal_exit_code_check_can_fail(tmp_path):
    sample = tmp_path / "probe.py"
    sample.write_text("import typer\nclass E:\n    exit_code = 9\nraise typer.Exit(4)\n")
    assert len(_literal_exit_codes(sample)) == 2


def test_audit_exit_codes_come_from_the_enum(cli, git_repo):
    from gitorch.testing.fixtures import commit

    commit(git_repo, {"app.py": "import os\n"}, "unused import")
    root = git_repo.working_tree_dir
    under = cli("audit", "--dim", "backend", "--fail-under", "100", "--format", "json", "--repo", root)
    assert under.exit_code == ExitCode.UNDER_THRESHOLD, under.output
    ok = cli("audit", "--dim", "backend", "--fail-under", "0", "--format", "json", "--repo", root)
    assert ok.exit_code == ExitCode.OK, ok.output
    bad = cli("audit", "--dim", "nope", "--repo", root)
    assert bad.exit_code == ExitCode.USAGE and "unknown dimension 'nope'" in bad.stderr
