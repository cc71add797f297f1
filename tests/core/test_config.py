from pathlib import Path

import pytest

from gitorch.audit import agent_chain
from gitorch.config import STARTER_CONFIG, Config, load_config
from gitorch.errors import ConfigError
from gitorch.plugin import get_plugins


def test_defaults_follow_the_original_design(tmp_path):
    config = load_config(tmp_path)
    assert (
        config.max_iterations,
        config.max_budget_usd,
        config.target_score,
        config.min_acceptable_score,
    ) == (10, 5.0, 100, 80)
    assert (config.confirm.deleted_lines, config.confirm.files) == (50, 5)
    assert config.confirm.deletions and config.confirm.new_modules and config.confirm.migrations
    assert config.routing.chain("audit", "security") is None  # the configuration names no agent…
    assert agent_chain(get_plugins(), config, "audit", "security") == ["local"]  # …plugins declare it


def test_gitorch_toml_is_read_and_flags_override_it(tmp_path):
    (tmp_path / ".gitorch.toml").write_text(
        "max_iterations = 3\ncommand_prefix = 'docker compose exec odoo'\n[tests]\ncommand = 'pytest -x'\n"
    )
    config = load_config(tmp_path, {"max_iterations": 7, "tests.command": None})
    assert config.max_iterations == 7
    assert config.command_prefix == "docker compose exec odoo"
    assert config.tests.command == "pytest -x"


def test_pyproject_tool_table_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname='x'\n[tool.gitorch]\nmax_budget_usd = 1.5\n"
        "[tool.gitorch.routing.compliance]\naudit = 'claude'\n"
    )
    config = load_config(tmp_path)
    assert config.max_budget_usd == 1.5
    assert config.routing.chain("audit", "compliance") == ["claude"]
    assert agent_chain(get_plugins(), config, "fix", "compliance") == ["local"]


def test_gitorch_toml_wins_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.gitorch]\nmax_iterations = 2\n")
    (tmp_path / ".gitorch.toml").write_text("max_iterations = 4\n")
    assert load_config(tmp_path).max_iterations == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_iteration = 3\n", r"\.gitorch\.toml: max_iteration: unknown key"),
        ("max_iterations = 'many'\n", r"\.gitorch\.toml: max_iterations: Input should be a valid integer"),
        (
            "[confirm]\nfiles = -1\n",
            r"\.gitorch\.toml: confirm\.files: Input should be greater than or equal to 0",
        ),
        ("[tests]\ncommnd = 'x'\n", r"tests\.commnd: unknown key"),
        ("[routing.security]\nautid = ['x']\n", r"routing\.security\.autid: unknown key"),
        ("max_iterations = \n", r"not valid TOML"),
    ],
)
def test_bad_configuration_names_file_key_and_reason(tmp_path, text, expected):
    (tmp_path / ".gitorch.toml").write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_config(tmp_path)


def test_pyproject_errors_name_the_tool_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.gitorch]\ntarget_score = 140\n")
    with pytest.raises(
        ConfigError,
        match=r"pyproject\.toml: tool\.gitorch\.target_score: Input should be less than or equal to 100",
    ):
        load_config(tmp_path)


def test_starter_config_is_valid_and_equals_the_defaults(tmp_path):
    path = tmp_path / ".gitorch.toml"
    path.write_text(STARTER_CONFIG)
    loaded = load_config(tmp_path)
    assert loaded.model_dump(exclude={"source"}) == Config().model_dump(exclude={"source"})


def test_agent_options_are_validated_against_the_agent(tmp_path):
    from pydantic import BaseModel, ConfigDict

    class Fake:
        name = "fake"

        class Options(BaseModel):
            model_config = ConfigDict(extra="forbid")
            model: str = "m"

    (tmp_path / ".gitorch.toml").write_text("[agents.fake]\nmodle = 'x'\n")
    config = load_config(tmp_path)
    with pytest.raises(ConfigError, match=r"agents\.fake\.modle: unknown key"):
        config.agent_options(Fake)


def test_missing_explicit_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path, file=Path(tmp_path / "nope.toml"))
