"""The project's own environment: finding it, compiling and importing touched modules in it, and
saying how strong the test gate is. Real virtualenvs, real interpreters, real git repositories."""

from __future__ import annotations

import subprocess
import sys
import venv

from gitorch_local import project_env
from gitorch_local.project_env import ProjectEnv, find_project_env

from gitorch.config import Config

HERE = ProjectEnv(sys.executable, "tests.command")


def config(**tests) -> Config:
    return Config.model_validate({"tests": tests} if tests else {})


def test_an_in_tree_virtualenv_is_the_projects_environment(tmp_path):
    venv.create(tmp_path / ".venv", with_pip=False)
    env = find_project_env(tmp_path)
    assert env.source == ".venv" and env.python == str(tmp_path / ".venv" / "bin" / "python")
    assert env.test_command() == f"{tmp_path}/.venv/bin/python -m pytest -q"
    done = subprocess.run(env.argv("-c", "import sys; print(sys.prefix)"), capture_output=True, text=True)
    assert done.stdout.strip() == str(tmp_path / ".venv")


def test_without_an_environment_it_says_what_is_missing_and_the_line_that_fixes_it(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask\n")
    env = find_project_env(tmp_path)
    assert not env.found and env.source == "none"
    assert "pip install -r requirements.txt" in env.missing
    assert '[tests] command = "/path/to/its/python -m pytest -q"' in env.missing


def test_a_declared_tool_is_named_in_the_hint(tmp_path):
    (tmp_path / "poetry.lock").write_text("")
    (tmp_path / "tox.ini").write_text("[tox]\n")
    env = find_project_env(tmp_path)
    assert not env.found and "poetry, tox" in env.missing and "`poetry install`" in env.missing


def test_configuration_wins(tmp_path):
    venv.create(tmp_path / ".venv", with_pip=False)
    assert find_project_env(tmp_path, Config(command_prefix="docker compose exec app")).prefix == (
        "docker", "compose", "exec", "app")
    explicit = find_project_env(tmp_path, config(command=f"{sys.executable} -m pytest"))
    assert explicit.source == "tests.command" and explicit.python == sys.executable


def test_modules_are_compiled_and_imported_as_the_project_would(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "good.py").write_text("from pkg import helper\nX = helper.Y\n")
    (tmp_path / "pkg" / "helper.py").write_text("Y = 1\nopen('written-on-import.txt', 'w').close()\n")
    (tmp_path / "pkg" / "needs.py").write_text("import a_package_nobody_installed\n")
    (tmp_path / "pkg" / "broken.py").write_text("def f(:\n")
    checks = {c.file: c for c in project_env.check_modules(
        tmp_path, ["pkg/good.py", "pkg/needs.py", "pkg/broken.py", "README.md"], HERE)}
    assert set(checks) == {"pkg/good.py", "pkg/needs.py", "pkg/broken.py"}
    assert checks["pkg/good.py"].ok and checks["pkg/good.py"].module == "pkg.good"
    assert checks["pkg/needs.py"].imports is False and "ModuleNotFoundError" in checks["pkg/needs.py"].error
    assert checks["pkg/broken.py"].compiles is False and checks["pkg/broken.py"].error.startswith("line 1")
    assert not (tmp_path / "written-on-import.txt").exists()  # relative writes land in a scratch folder


def test_a_module_whose_import_hangs_is_stopped(tmp_path):
    (tmp_path / "server.py").write_text("import time\n\nSTARTED = time.sleep(60)\n")
    [check] = project_env.check_modules(tmp_path, ["server.py"], HERE, timeout=2)
    assert check.imports is False and "did not finish in 2s" in check.error


def test_only_modules_the_change_broke_count(project):
    root = project({
        "app.py": "import json\n",
        "models.py": "import a_package_nobody_installed\n",  # fails before the change as well
    })
    (root / "app.py").write_text("import json\nimport a_package_nobody_installed\n")
    (root / "models.py").write_text("import a_package_nobody_installed\nX = 1\n")
    broken = project_env.broken_modules(root, ["app.py", "models.py"], HERE)
    assert [c.file for c in broken] == ["app.py"]
    assert (root / "app.py").read_text().endswith("a_package_nobody_installed\n")  # the change is kept
    assert project_env.broken_modules(root, ["models.py"], HERE) == []


def test_module_names_follow_packages(tmp_path):
    (tmp_path / "src" / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "pkg" / "sub" / "__init__.py").write_text("")
    assert project_env.module_name(tmp_path, "src/pkg/sub/m.py") == ("pkg.sub.m", tmp_path / "src")
    assert project_env.module_name(tmp_path, "src/pkg/__init__.py") == ("pkg", tmp_path / "src")
    assert project_env.module_name(tmp_path, "scripts/run.py") == ("run", tmp_path / "scripts")
    assert project_env.module_name(tmp_path, "notes.txt") is None


def test_coverage_of_the_touched_files():
    report = {"files": {"a.py": {"summary": {"num_statements": 10, "covered_lines": 5}},
                        "b.py": {"summary": {"num_statements": 30, "covered_lines": 30}}}}
    assert project_env.coverage_of(report, ["a.py", "b.py"]) == 87.5
    assert project_env.coverage_of(report, ["c.py"]) is None


def test_scripts_are_compiled_not_run(tmp_path):
    (tmp_path / "tool.py").write_text("with open('out.txt', 'w') as f:\n    f.write('ran')\n")
    (tmp_path / "ca-create.py").write_text("X = 1\n")
    (tmp_path / "lib.py").write_text(
        '"""doc"""\nimport os\ntry:\n    import json\nexcept ImportError:\n    json = None\n'
        "PATH = os.sep\n\n\ndef main():\n    pass\n\n\nif __name__ == '__main__':\n    main()\n")
    files = ["tool.py", "ca-create.py", "lib.py"]
    checks = {c.file: c for c in project_env.check_modules(tmp_path, files, HERE)}
    assert checks["tool.py"].compiles and checks["tool.py"].imports is None
    assert checks["ca-create.py"].imports is None
    assert checks["lib.py"].imports is True
    assert not (tmp_path / "out.txt").exists()
