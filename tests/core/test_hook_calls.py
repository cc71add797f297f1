"""One test per hook: a plugin implementing it changes what gitorch does."""

import typer

from gitorch import Agent, AuditResult, Dimension, Finding, Parser, hookimpl
from gitorch.plugin.manager import get_plugins


class Colour(Dimension):
    name = "colour"
    description = "Colours."


class Painter(Agent):
    name = "painter"
    audits = frozenset({"colour"})

    def audit(self, request):
        return AuditResult(
            dimension="colour",
            agent=self.name,
            findings=[
                Finding(dimension="colour", severity="P2", description="too grey", file="README.md", line=1),
                Finding(dimension="colour", severity="P3", description="ignore me", file="README.md", line=1),
            ],
        )


class Shout(Parser):
    name = "shout"

    def parse(self, text, *, dimension="general"):
        return AuditResult(
            dimension=dimension,
            agent="unknown",
            findings=[
                Finding(dimension=dimension, severity="P1", description=line)
                for line in text.splitlines()
                if line.isupper()
            ],
        )


class Plugin:
    @hookimpl
    def gitorch_dimensions(self):
        return [Colour]

    @hookimpl
    def gitorch_agents(self):
        return [Painter]

    @hookimpl
    def gitorch_parsers(self):
        return [Shout]

    @hookimpl
    def gitorch_process_findings(self, findings, result, config):
        return [f for f in findings if f.description != "ignore me"]

    @hookimpl
    def gitorch_add_commands(self, app):
        @app.command("paint")
        def paint(colour: str = "red"):
            """Paint."""
            typer.echo(f"painted {colour}")


def _plugins():
    plugins = get_plugins()
    plugins.pm.register(Plugin(), name="painter-plugin")
    return plugins


def test_hook_gitorch_dimensions():
    assert _plugins().dimension("colour").description == "Colours."


def test_hook_gitorch_agents():
    assert _plugins().agent_class("painter") is Painter


def test_hook_gitorch_parsers():
    result = _plugins().parser("shout").parse("quiet\nLOUD\n", dimension="d")
    assert [f.description for f in result.findings] == ["LOUD"]


def test_hook_gitorch_process_findings(git_repo):
    from pathlib import Path

    from gitorch.audit.run import run_audit
    from gitorch.config import Config

    result = run_audit(Path(git_repo.working_tree_dir), "colour", Config(), _plugins(), agent="painter")
    assert [f.description for f in result.findings] == ["too grey"]
    assert result.score_source == "computed" and result.score == 98.63  # one P2: 80 + 19·100/102


def test_hook_gitorch_add_commands(monkeypatch):
    from typer.testing import CliRunner

    plugins = _plugins()
    app = typer.Typer()

    @app.command("noop")
    def noop():
        """Nothing."""

    plugins.hook.gitorch_add_commands(app=app)
    result = CliRunner().invoke(app, ["paint", "--colour", "blue"])
    assert result.exit_code == 0 and result.stdout.strip() == "painted blue"


def test_hook_gitorch_template_dirs(git_repo, tmp_path, cli, monkeypatch, capsys):
    import json
    from pathlib import Path

    from gitorch import cli as cli_module
    from gitorch.audit.run import audit_context
    from gitorch.config import Config

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "audit_colour.md.j2").write_text("Look at the colours of {{ module_path }}.\n")

    class Templating:
        @hookimpl
        def gitorch_template_dirs(self, root):  # only for trees that have a palette
            return [prompts] if root is None or (root / "palette.txt").exists() else []

    class Broken:
        @hookimpl
        def gitorch_template_dirs(self):
            return [tmp_path / "nowhere"]

    plugins = _plugins()
    plugins.pm.register(Templating(), name="templating")
    plugins.pm.register(Broken(), name="broken")
    root = Path(git_repo.working_tree_dir)
    assert "audit_colour" not in audit_context(root, Config(), plugins).templates.names()
    (root / "palette.txt").write_text("red\n")
    templates = audit_context(root, Config(), plugins).templates
    assert templates.info("audit_colour").origin == "plugin:templating"
    assert templates.render("audit_colour", module_path="app") == "Look at the colours of app.\n"
    assert [(f.name, f.error) for f in plugins.failures] == [
        ("broken", f"gitorch_template_dirs failed: PluginError: not a directory: {tmp_path / 'nowhere'}")
    ]  # reported once, however often the hook is called
    assert "plugin 'broken'" in capsys.readouterr().err

    monkeypatch.setattr(cli_module, "get_app_plugins", lambda: plugins)
    monkeypatch.chdir(root)
    rows = {r["name"]: r for r in json.loads(cli("templates", "--json").stdout)}
    assert rows["audit_colour"]["origin"] == "plugin:templating"
    assert rows["audit_colour"]["path"] == str(prompts / "audit_colour.md.j2")
    line = next(x for x in cli("templates").stdout.splitlines() if x.startswith("audit_colour"))
    assert "plugin:templating" in line


def test_hook_gitorch_gate_defaults(git_repo, cli, monkeypatch, capsys):
    import tomllib
    from pathlib import Path

    from gitorch import cli as cli_module
    from gitorch.cli._common import load_repo_config
    from gitorch.loop.gates import matches

    class Odooish:
        @hookimpl
        def gitorch_gate_defaults(self):
            return {"confirm.core_files": ["**/__manifest__.py"], "protected.test_config": [".odoo.cfg"]}

    class Broken:
        @hookimpl
        def gitorch_gate_defaults(self):
            return {"confirm.everything": ["**"]}

    plugins = _plugins()
    plugins.pm.register(Odooish(), name="odooish")
    plugins.pm.register(Broken(), name="broken")
    monkeypatch.setattr(cli_module, "get_app_plugins", lambda: plugins)
    root = Path(git_repo.working_tree_dir)
    _, config = load_repo_config(root)
    assert config.confirm.core_files == ["**/__init__.py", "**/models.py", "**/__manifest__.py"]
    assert ".odoo.cfg" in config.protected.test_config and "tox.ini" in config.protected.test_config
    assert matches("addons/x/__manifest__.py", config.confirm.core_files)
    assert [f.name for f in plugins.failures] == ["broken"] and "unknown key 'confirm.everything'" in (
        plugins.failures[0].error
    )
    assert "plugin 'broken'" in capsys.readouterr().err

    (root / ".gitorch.toml").write_text('[confirm]\ncore_files = ["setup.py"]\n')
    _, configured = load_repo_config(root)
    assert configured.confirm.core_files == ["setup.py"]  # a list the configuration sets is kept as it is
    assert ".odoo.cfg" in configured.protected.test_config  # the others still get the plugins' globs

    (root / ".gitorch.toml").unlink()
    done = cli("init", "--repo", str(root))
    assert done.exit_code == 0, done.output
    assert "plugin odooish adds to the default confirm.core_files: **/__manifest__.py" in done.stdout
    written = (root / ".gitorch.toml").read_text()
    assert '#   (plugin odooish adds "**/__manifest__.py")' in written
    assert '# core_files = ["**/__init__.py", "**/models.py", "**/__manifest__.py"]' in written
    assert "confirm" not in tomllib.loads(written) or "core_files" not in tomllib.loads(written)["confirm"]
    _, after_init = load_repo_config(root)  # the starter leaves the lists to the defaults and the plugins
    assert after_init.confirm.core_files == config.confirm.core_files


def test_hook_gitorch_modules(git_repo, cli, monkeypatch, capsys):
    import json
    from pathlib import Path

    from gitorch import cli as cli_module
    from gitorch.testing.fixtures import commit

    class Services:
        @hookimpl
        def gitorch_modules(self, root, config):
            return sorted(
                p.parent.relative_to(root).as_posix()
                for p in root.glob("services/*/service.toml")
                if not any(part in config.exclude for part in p.parts)
            )

    class Broken:
        @hookimpl
        def gitorch_modules(self):
            return ["does/not/exist"]

    plugins = _plugins()
    plugins.pm.register(Services(), name="services")
    plugins.pm.register(Broken(), name="broken")
    monkeypatch.setattr(cli_module, "get_app_plugins", lambda: plugins)
    root = Path(git_repo.working_tree_dir)
    commit(
        git_repo,
        {
            "services/__init__.py": "",
            "services/billing/service.toml": "",
            "services/billing/api.py": "x = 1\n",
            "services/mail/service.toml": "",
            "services/mail/send.py": "y = 2\n",
            "services/common.py": "z = 3\n",
            "tools/__init__.py": "",
        },
    )
    done = cli("plan", "--json", "--dim", "security", "--repo", str(root))
    assert done.exit_code == 0, done.output
    units = json.loads(done.stdout)["include"]
    # the package `services` holds the plugin's modules: it is split into them, its loose file is the rest
    assert [(u["path"], u["kind"]) for u in units] == [
        ("services/billing", "services"),
        ("services/mail", "services"),
        ("tools", "python"),
        ("services/__init__.py", "rest"),
        ("services/common.py", "rest"),
    ]
    assert [f.name for f in plugins.failures] == ["broken"]
    assert "not a directory of the repository: 'does/not/exist'" in plugins.failures[0].error
    assert "plugin 'broken'" in done.stderr + capsys.readouterr().err
