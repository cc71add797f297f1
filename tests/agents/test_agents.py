"""Each agent plugin against a fake CLI printing the real output formats of shared/agent-clis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitorch.agents.cli_agent import AgentTimeout
from gitorch.errors import AgentError
from gitorch.services.budget import Budget, BudgetExceeded
from gitorch.services.recorder import Recorder

from .conftest import ctrl_c_after, process_alive

# cli -> (input tokens incl. cached, cached, output, cost source, cost USD or None when priced)
SUCCESS_USAGE = {
    "claude": (1234, 1000, 7, "reported", 0.001107),
    "codex": (1234, 1000, 7, "priced", None),
    "gemini": (1234, 1000, 7, "priced", None),
    "copilot": (1234, 1000, 7, "priced", None),
    "aider": (1234, 0, 7, "reported", 0.0019),
    "opencode": (2468, 2000, 14, "reported", 0.002214),
    "qwen": (2468, 2000, 14, "priced", None),
}
MODELS = {"codex": "gpt-5", "gemini": "gemini-2.5-flash", "copilot": "gpt-4o", "qwen": "gpt-4o"}


def schema_answer(score: int, summary: str = "s", **finding) -> dict:
    """An answer in gitorch's findings schema with one finding; the fields not given are null."""
    fields = {"severity": "P1", "description": "d", "rule_id": None, "file": "app/util.py", "line": 2,
              "end_line": None, "recommendation": None, "snippet": None}
    return {"score": score, "summary": summary, "findings": [{**fields, **finding}]}


def prompt_sent(cli: str, dump: dict) -> str:
    """Where each CLI's contract puts the prompt."""
    argv = dump["argv"]
    if cli in ("claude", "codex"):
        return dump["stdin"]
    if cli in ("gemini", "copilot"):
        return argv[argv.index("-p") + 1]
    if cli == "aider":
        return dump["message"]
    if cli == "opencode":
        return argv[-1]
    if cli == "qwen":
        return argv[0]
    raise AssertionError(cli)


@pytest.mark.parametrize(
    ("cli", "stream"),
    [(cli, None) for cli in sorted(SUCCESS_USAGE)] + [(cli, False) for cli in ("claude", "gemini", "qwen")],
)
def test_audit_succeeds_reads_text_and_normalises_usage(fakes, harness, cli, stream):
    fakes.scenario("success", FAKE_TEXT="## P1 High\n- [P1] stub")
    options = {"use_schema": False}
    if cli == "codex":  # codex names no model in its output: the configured one prices its tokens
        options["model"] = "gpt-5"
    if stream is not None:  # the one-object-at-the-end formats (-o json) instead of the event streams
        options["stream"] = stream
    agent = harness.agent(cli, **options)
    result = agent.audit(harness.audit_request())

    assert harness.parser.texts == ["## P1 High\n- [P1] stub"]
    assert result.agent == cli
    assert [f.description for f in result.findings] == ["stub finding"]
    assert result.findings[0].source == cli
    assert (result.claimed_score, result.claimed_score_scale) == (7, 10)
    assert result.score is None  # the core computes it from the findings

    tokens_in, cached, tokens_out, source, cost = SUCCESS_USAGE[cli]
    usage = result.usage
    assert (usage.calls, usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == (
        1,
        tokens_in,
        cached,
        tokens_out,
    )
    assert usage.cost_source == source
    if cost is not None:
        assert usage.cost_usd == pytest.approx(cost)
    else:
        from gitorch.services.pricing import price_usage

        model = MODELS[cli]
        assert usage.cost_usd == pytest.approx(price_usage(model, tokens_in, cached, tokens_out)[0])
        assert not usage.unknown_price
    assert harness.budget.spent_usd == pytest.approx(usage.cost_usd)

    dump = fakes.dump()
    prompt = prompt_sent(cli, dump)
    assert "Security" in prompt and "OWASP" in prompt  # the audit_security template
    assert Path(dump["cwd"]).resolve() == harness.root.resolve()
    assert dump["stdin"] == ("" if cli not in ("claude", "codex") else prompt)

    [call] = harness.recorder.calls
    assert call.agent == cli and call.task == "audit" and call.error is None
    assert call.usage == usage
    assert (harness.calls / f"0001-{cli}.json").is_file()


def test_claude_argv_follows_the_headless_contract(fakes, harness, monkeypatch):
    harness.agent("claude", model="sonnet", use_schema=False).audit(harness.audit_request())
    argv = fakes.dump()["argv"]
    assert argv == [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "default",
        "--no-session-persistence",
        "--model",
        "sonnet",
        "--max-budget-usd",  # what is left of the run's budget: claude's own hard cap
        "5.0000",
    ]
    assert "--dangerously-skip-permissions" not in argv and "IS_SANDBOX" not in fakes.dump()["env"]
    assert fakes.dump()["env"]["CLAUDE_CODE_MAX_RETRIES"] == "2"

    harness.agent("claude").fix(harness.fix_request())
    argv = fakes.dump()["argv"]
    assert argv[argv.index("--permission-mode") + 1] == "acceptEdits"


def test_claude_bypass_as_root_gets_is_sandbox(fakes, harness):
    import os

    harness.agent("claude", extra_args=["--dangerously-skip-permissions"]).fix(harness.fix_request())
    dump = fakes.dump()
    assert dump["argv"][-1] == "--dangerously-skip-permissions"
    assert dump["env"].get("IS_SANDBOX") == ("1" if os.geteuid() == 0 else None)


def test_codex_argv_uses_the_sandbox_not_the_removed_full_auto(fakes, harness):
    harness.agent("codex", model="gpt-5", extra_args=["-c", "x=1"]).fix(harness.fix_request())
    argv = fakes.dump()["argv"]
    assert "--full-auto" not in argv
    assert argv[:9] == [
        "exec",
        "--json",
        "-s",
        "workspace-write",
        "-C",
        str(harness.root),
        "--skip-git-repo-check",
        "-m",
        "gpt-5",
    ]
    assert argv[-3:] == ["-c", "x=1", "-"]  # extra args before the stdin marker

    harness.agent("codex").audit(harness.audit_request())
    argv = fakes.dump()["argv"]
    assert argv[argv.index("-s") + 1] == "read-only"


@pytest.mark.parametrize(
    ("cli", "fix_flags", "audit_flags"),
    [
        (
            "gemini",
            ["-o", "stream-json", "--approval-mode", "auto_edit", "--skip-trust"],
            ["-o", "stream-json", "--approval-mode", "default", "--skip-trust"],
        ),
        (
            "qwen",
            ["-o", "stream-json", "--approval-mode", "auto-edit"],
            ["-o", "stream-json", "--approval-mode", "default"],
        ),
        (
            "copilot",
            ["--allow-tool", "write", "--output-format", "json", "--usage-output-file"],
            ["--deny-tool", "write", "--output-format", "json", "--usage-output-file"],
        ),
        ("opencode", ["run", "--format", "json", "--dir"], ["run", "--format", "json", "--dir"]),
        (
            "aider",
            [
                "--yes-always",
                "--no-auto-commits",
                "--no-gitignore",
                "--no-check-update",
                "--no-show-release-notes",
                "--no-pretty",
                "--no-fancy-input",
                "--no-stream",
                "--no-analytics",
            ],
            ["--yes-always", "--no-auto-commits"],
        ),
    ],
)
def test_argv_of_fix_and_audit(fakes, harness, cli, fix_flags, audit_flags):
    harness.agent(cli).fix(harness.fix_request())
    fix_argv = fakes.dump()["argv"]
    assert _contains(fix_argv, fix_flags)
    harness.agent(cli).audit(harness.audit_request())
    audit_argv = fakes.dump()["argv"]
    assert _contains(audit_argv, audit_flags)
    if cli == "copilot":
        for flag in ("--no-auto-update", "--no-ask-user"):
            assert flag in fix_argv
        assert fix_argv[fix_argv.index("-C") + 1] == str(harness.root)
    if cli == "aider":
        assert "--dry-run" in audit_argv and "--dry-run" not in fix_argv
        assert fix_argv[-1] == "app/util.py"  # the finding's file joins the chat
        assert "--analytics-log" in fix_argv
    if cli == "opencode":
        config = json.loads(fakes.dump()["env"]["OPENCODE_CONFIG_CONTENT"])
        assert config["permission"]["edit"] == "deny"


def _contains(argv: list[str], flags: list[str]) -> bool:
    n = len(flags)
    return any(argv[i : i + n] == flags for i in range(len(argv) - n + 1))


@pytest.mark.parametrize(
    ("cli", "scenario", "task", "expected"),
    [
        ("claude", "auth", "audit", "Not logged in"),
        ("claude", "budget", "audit", "error_max_budget_usd: Reached maximum budget"),
        ("claude", "partial", "fix", "permission denied for: Write"),
        ("codex", "auth", "audit", "turn.failed: unexpected status 401"),
        ("gemini", "auth", "audit", "authentication error: Please set an Auth method"),
        ("gemini", "partial", "audit", "HTTP 401 from the API"),
        ("copilot", "auth", "audit", "authentication: Authentication failed"),
        ("opencode", "auth", "audit", "APIError: Incorrect API key"),
        ("qwen", "auth", "audit", "No auth type is selected"),
        ("qwen", "partial", "audit", "[API Error: 401"),
        ("aider", "partial", "fix", "AuthenticationError"),
        *[(cli, "garbage", "audit", "") for cli in SUCCESS_USAGE],
    ],
)
def test_a_failed_call_is_an_agent_error_recorded_and_charged(fakes, harness, cli, scenario, task, expected):
    fakes.scenario(scenario)
    agent = harness.agent(cli, use_schema=False)
    with pytest.raises(AgentError) as info:
        if task == "audit":
            agent.audit(harness.audit_request())
        else:
            agent.fix(harness.fix_request())
    message = str(info.value)
    assert f"agent {cli!r} failed (exit " in message
    assert expected in message
    assert harness.parser.texts == []  # nothing was parsed into findings, so no score exists
    [call] = harness.recorder.calls
    assert call.error == message
    assert harness.budget.history and harness.budget.history[-1].what == f"{cli} {task}"


def test_a_partial_claude_audit_keeps_its_report_and_notes_the_denial(fakes, harness):
    fakes.scenario("partial")
    result = harness.agent("claude", use_schema=False).audit(harness.audit_request())
    assert "claude: permission denied for: Write" in result.notes


def test_a_hung_cli_times_out_is_killed_and_still_charged(fakes, harness):
    fakes.scenario("hang")
    agent = harness.agent("codex", timeout_s=1.0)
    with pytest.raises(AgentTimeout, match="killed: timeout after 1s"):
        agent.audit(harness.audit_request())
    dump = fakes.dump()
    assert not process_alive(dump["pid"])
    assert not any(process_alive(pid) for pid in dump["children"])
    [call] = harness.recorder.calls
    assert call.timed_out
    assert harness.budget.spent_usd > 0  # no usage report: the worst-case estimate is charged


def test_silence_watchdog_kills_a_cli_that_stops_talking(fakes, harness):
    fakes.scenario("silent")
    with pytest.raises(AgentTimeout, match="no output for 1s"):
        harness.agent("claude", silence_timeout_s=1.0).audit(harness.audit_request())


def test_budget_refuses_a_call_before_it_starts(fakes, harness):
    harness.budget = Budget(0.01)
    with pytest.raises(BudgetExceeded):
        harness.agent("claude", model="sonnet").audit(harness.audit_request())
    assert not fakes.ran
    assert harness.recorder.calls == []


def test_fix_edits_the_worktree_and_reports_changed(fakes, harness):
    fakes.scenario("success", FAKE_EDIT="app/util.py::41::42", FAKE_TEXT="Changed 41 to 42.")
    result = harness.agent("codex", model="gpt-5").fix(harness.fix_request())
    assert result.status == "changed"
    assert result.summary == "Changed 41 to 42."
    assert result.usage.output_tokens == 7 and result.call_id == "0001-codex"
    assert (harness.root / "app/util.py").read_text() == "def answer():\n    return 42\n"
    prompt = fakes.dump()["stdin"]
    assert "answer() returns 41, not 42" in prompt
    assert ">" in prompt and "return 41" in prompt  # the relevant lines, marked


def test_fix_without_an_edit_is_unchanged(fakes, harness):
    assert harness.agent("gemini").fix(harness.fix_request()).status == "unchanged"


def test_dry_run_shows_the_command_and_runs_nothing(fakes, harness):
    result = harness.agent("gemini", model="gemini-2.5-flash").audit(harness.audit_request(dry_run=True))
    assert not fakes.ran and harness.recorder.calls == []
    [note] = result.notes
    assert note.startswith(f"dry run: (cd {harness.root} && gemini -p ")
    assert "-o stream-json --approval-mode default --skip-trust -m gemini-2.5-flash" in note
    fix = harness.agent("claude").fix(harness.fix_request(dry_run=True))
    assert (
        fix.status == "unchanged"
        and "claude -p --output-format stream-json --verbose" in fix.summary
        and not fakes.ran
    )


def test_secrets_never_reach_the_cli_or_the_ledger(fakes, harness, monkeypatch):
    canary = "sk-canary-7f3a9c0e1d2b4a6f8e0c"
    monkeypatch.setenv("MY_SERVICE_API_KEY", canary)
    (harness.root / ".env").write_text("DB_PASSWORD=hunter2-canary-pw\n")
    finding = harness.fix_request().finding.model_copy(
        update={"description": f"hard-coded key {canary} and hunter2-canary-pw"}
    )
    harness.agent("aider").fix(harness.fix_request(finding))
    sent = fakes.dump()["message"]
    assert canary not in sent and "hunter2-canary-pw" not in sent
    assert "«redacted:" in sent
    ledger = "".join(p.read_text() for p in harness.calls.iterdir())
    assert canary not in ledger and "hunter2-canary-pw" not in ledger

    env_finding = finding.model_copy(update={"file": ".env", "line": 1})
    harness.agent("aider").fix(harness.fix_request(env_finding))
    dump = fakes.dump()
    assert ".env" not in dump["argv"]  # a secret file never joins the chat
    assert "hunter2" not in dump["message"]


def test_claude_audit_asks_for_gitorchs_schema_and_reads_structured_output(fakes, harness):
    answer = schema_answer(64, "One real problem.", severity="P0", description="eval on user input",
                           rule_id="B307", recommendation="use ast.literal_eval", snippet="return 41")
    fakes.scenario("success", FAKE_STRUCTURED=json.dumps(answer), FAKE_TEXT="")
    result = harness.agent("claude").audit(harness.audit_request())
    argv = fakes.dump()["argv"]
    schema = json.loads(argv[argv.index("--json-schema") + 1])
    finding_schema = schema["properties"]["findings"]["items"]
    assert finding_schema["properties"]["severity"]["enum"] == ["P0", "P1", "P2", "P3", "P4"]
    assert set(finding_schema["required"]) == set(finding_schema["properties"])
    assert (
        "dimension" not in finding_schema["properties"] and "fingerprint" not in finding_schema["properties"]
    )
    [finding] = result.findings
    assert (finding.severity, finding.file, finding.line, finding.rule_id) == ("P0", "app/util.py", 2, "B307")
    assert finding.dimension == "security" and finding.source == "claude"
    assert (result.claimed_score, result.claimed_score_scale) == (64, 100)
    assert result.notes[0] == "One real problem."
    assert harness.parser.texts == []  # no Markdown parsing needed


def test_codex_audit_writes_the_schema_file_and_parses_the_json_answer(fakes, harness):
    answer = schema_answer(90, "ok", severity="low", description="magic number")
    fakes.scenario("success", FAKE_TEXT=json.dumps(answer))
    result = harness.agent("codex", model="gpt-5").audit(harness.audit_request())
    assert fakes.dump()["schema"]["required"] == ["score", "summary", "findings"]
    assert [(f.severity, f.description) for f in result.findings] == [("P3", "magic number")]
    assert result.claimed_score == 90


def test_a_structured_answer_without_findings_is_an_error(fakes, harness):
    fakes.scenario("success", FAKE_TEXT='{"summary": "I could not finish the audit."}')
    with pytest.raises(AgentError, match="no findings list"):
        harness.agent("codex").audit(harness.audit_request())


def test_a_report_with_neither_findings_nor_a_score_is_an_error_not_a_perfect_score(fakes, harness):
    fakes.scenario("success", FAKE_TEXT="NOTHING: I could not read the repository.")
    with pytest.raises(AgentError, match="neither findings nor a score: NOTHING"):
        harness.agent("codex").audit(harness.audit_request())


def test_replay_serves_the_recorded_calls_without_running_anything(fakes, harness, tmp_path, monkeypatch):
    answer = schema_answer(64)
    fakes.scenario("success", FAKE_STRUCTURED=json.dumps(answer))
    recorded = harness.agent("claude").audit(harness.audit_request())
    fakes.scenario("auth")
    with pytest.raises(AgentError):
        harness.agent("codex").audit(harness.audit_request())

    fakes.dump_file.unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    harness.recorder = Recorder(harness.calls, "replay")
    harness.budget = Budget(5.0)
    replayed = harness.agent("claude").audit(harness.audit_request())
    assert replayed.findings == recorded.findings and replayed.usage == recorded.usage
    with pytest.raises(AgentError, match="turn.failed"):
        harness.agent("codex").audit(harness.audit_request())
    assert not fakes.ran
    assert harness.budget.spent_usd == pytest.approx(recorded.usage.cost_usd)
    with pytest.raises(AgentError, match="recording has only 2 call"):
        harness.agent("claude").audit(harness.audit_request())


def test_command_agent_runs_a_template_and_reads_markdown(harness, tmp_path):
    script = tmp_path / "my-ai"
    seen = tmp_path / "seen.txt"
    script.write_text(f'#!/bin/sh\ncat "$1" > {seen}\necho "$2" >> {seen}\necho "## P1 High"\n')
    script.chmod(0o755)
    agent = harness.agent("command", command=f"{script} {{prompt_file}} {{workdir}}")
    result = agent.audit(harness.audit_request())
    assert [f.description for f in result.findings] == ["stub finding"]
    assert harness.parser.texts == ["## P1 High"]
    text = seen.read_text()
    assert "OWASP" in text and text.rstrip().endswith(str(harness.root))
    assert result.usage.cost_usd == 0 and result.usage.calls == 1


def test_command_agent_without_a_command_is_a_config_error(harness):
    from gitorch.errors import ConfigError

    with pytest.raises(ConfigError, match="agents.command.command"):
        harness.agent("command").audit(harness.audit_request())


def test_a_missing_binary_is_an_agent_error(harness):
    with pytest.raises(AgentError, match="'no-such-claude' is not on PATH"):
        harness.agent("claude", binary="no-such-claude").audit(harness.audit_request())


def test_availability_is_a_cheap_which(fakes, monkeypatch, tmp_path):
    from gitorch.plugin.manager import get_plugins

    agents = get_plugins().agents()
    assert all(agents[c].availability() for c in SUCCESS_USAGE)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    availability = agents["codex"].availability()
    assert not availability and availability.reason == "'codex' is not on PATH"


def test_a_markdown_report_goes_through_the_real_markdown_parser(fakes, harness):
    from gitorch_markdown.parser import MarkdownParser

    report = """# Security audit: .

**Score:** 72/100

## P0 Critical
- [P0] SQL query built from user input (app/util.py:2)
  - Recommendation: use a parameterised query.

## P1 High
- [P1] No rate limiting on the login endpoint (app/views.py:1)
  - Recommendation: add a rate-limiting middleware.
"""
    harness.parser = MarkdownParser()
    fakes.scenario("success", FAKE_TEXT=report)
    result = harness.agent("gemini").audit(harness.audit_request())
    assert [(f.severity, f.file, f.line) for f in result.findings] == [
        ("P0", "app/util.py", 2),
        ("P1", "app/views.py", 1),
    ]
    assert all(f.source == "gemini" and f.dimension == "security" for f in result.findings)
    assert (result.claimed_score, result.claimed_score_scale) == (72, 100)
    assert result.score is None


def test_ctrl_c_kills_the_cli_records_the_call_and_re_raises(fakes, harness):
    fakes.scenario("hang")
    with ctrl_c_after(1.5), pytest.raises(KeyboardInterrupt):
        harness.agent("codex", model="gpt-5").audit(harness.audit_request())
    dump = fakes.dump()
    assert not process_alive(dump["pid"])
    assert not any(process_alive(pid) for pid in dump.get("children", []))
    [call] = harness.recorder.calls
    assert call.error == "interrupted (Ctrl-C)"
    assert harness.budget.spent_usd > 0


def test_a_replayed_fix_re_applies_the_recorded_change_with_no_agent(fakes, harness, tmp_path, monkeypatch):
    fakes.scenario(
        "success",
        FAKE_EDIT="app/util.py::41::42",
        FAKE_CREATE="app/new_helper.py::def helper():\n    return 1\n",
        FAKE_TEXT="Fixed.",
    )
    first = harness.agent("claude").fix(harness.fix_request())
    assert first.status == "changed"
    changed = {p: (harness.root / p).read_text() for p in ("app/util.py", "app/new_helper.py")}
    [call] = harness.recorder.calls
    assert "+    return 42" in call.extra["worktree_patch"]
    assert "app/new_helper.py" in call.extra["worktree_patch"]

    # back to the commit, no CLI anywhere: the replay reproduces the edit from the ledger
    import subprocess

    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=harness.root, check=True)
    (harness.root / "app/new_helper.py").unlink()
    fakes.dump_file.unlink()
    monkeypatch.setenv("PATH", f"{tmp_path / 'empty'}:/usr/bin:/bin")
    harness.recorder = Recorder(harness.calls, "replay")
    again = harness.agent("claude").fix(harness.fix_request())
    assert again.status == "changed" and again.summary == "Fixed."
    assert {p: (harness.root / p).read_text() for p in changed} == changed
    assert not fakes.ran


def test_an_instance_checks_its_configured_binary(fakes, harness, monkeypatch, tmp_path):
    from gitorch.plugin.manager import get_plugins

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    codex = get_plugins().agent_class("codex")
    assert not codex.availability() and not codex.available()
    configured = harness.agent("codex", binary=str(fakes.bin / "codex"))
    assert configured.availability() and configured.available()
    assert not harness.agent("codex", binary="/nowhere/codex").availability()
    command = get_plugins().agent_class("command")
    assert command.availability()  # the class cannot know the command
    assert not harness.agent("command", command="no-such-tool {prompt_file}").availability()


def test_opencode_merges_its_permissions_into_the_users_config(fakes, harness, monkeypatch):
    user = {
        "provider": {"mine": {"options": {"baseURL": "http://127.0.0.1:1/v1"}}},
        "permission": {"read": "allow"},
    }
    monkeypatch.setenv("OPENCODE_CONFIG_CONTENT", json.dumps(user))
    harness.agent("opencode").fix(harness.fix_request())
    config = json.loads(fakes.dump()["env"]["OPENCODE_CONFIG_CONTENT"])
    assert config["provider"] == user["provider"]
    assert config["permission"] == {"read": "allow", "edit": "allow", "bash": "deny", "webfetch": "deny"}


def test_a_stand_alone_audit_gets_templates_redaction_and_the_markdown_parser(fakes, repo, monkeypatch):
    from gitorch.audit.run import run_audit
    from gitorch.config import Config
    from gitorch.plugin.manager import get_plugins

    canary = "tok-canary-5e1d9a7c3b"
    monkeypatch.setenv("MY_SERVICE_TOKEN", canary)
    report = (
        "**Score:** 90/100\n\n## P3 Low\n"
        f"- [P3] hard-coded token {canary} (app/util.py:1)\n  - Recommendation: read it from the env.\n"
    )
    fakes.scenario("success", FAKE_TEXT=report)
    result = run_audit(repo, "security", Config(), get_plugins(), agent="gemini")
    prompt = prompt_sent("gemini", fakes.dump())
    assert "You are a senior engineer auditing the **Security**" in prompt  # the template, not the fallback
    [finding] = result.findings
    assert (finding.severity, finding.file, finding.line) == ("P3", "app/util.py", 1)
    assert finding.source == "gemini"
    # the fake streams the answer in two deltas that split the token: the joined text is masked too
    assert canary not in finding.description and "«redacted:" in finding.description
    assert (result.claimed_score, result.score_source) == (90, "computed")


def test_availability_looks_on_the_path_the_cli_will_run_with(fakes, harness, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    agent = harness.agent("gemini", env={"PATH": f"{fakes.bin}:/usr/bin:/bin"})
    assert agent.availability()
    assert agent.fix(harness.fix_request()).status == "unchanged"  # and it runs from there


def test_qwen_audit_asks_for_the_schema_and_reads_structured_result(fakes, harness):
    answer = schema_answer(71, severity="P2", description="broad except")
    fakes.scenario("success", FAKE_STRUCTURED=json.dumps(answer))
    result = harness.agent("qwen").audit(harness.audit_request())
    argv = fakes.dump()["argv"]
    assert json.loads(argv[argv.index("--json-schema") + 1])["required"] == ["score", "summary", "findings"]
    assert [(f.severity, f.description) for f in result.findings] == [("P2", "broad except")]
    assert result.claimed_score == 71 and harness.parser.texts == []


def test_a_refused_bash_call_does_not_fail_a_claude_fix(fakes, harness):
    fakes.scenario("bash_denied", FAKE_EDIT="app/util.py::41::42")
    result = harness.agent("claude").fix(harness.fix_request())
    assert result.status == "changed"  # the edit landed; gitorch runs the tests itself


def test_qwen_schema_run_that_hit_an_api_error_reports_the_api_error():
    """Observed with qwen 0.15.10 and --json-schema against a 401: exit 1, and the result only says the
    model 'produced plain text'; the assistant message holds the real cause."""
    from gitorch_agents.qwen import parse_qwen

    stdout = "\n".join(json.dumps(m) for m in [
        {"type": "system", "subtype": "init", "model": "gpt-4o"},
        {"type": "assistant", "message": {"content": [{"type": "text", "text": "[API Error: 401 bad key]"}],
                                          "usage": {"input_tokens": 0, "output_tokens": 0}}},
        {"type": "result", "subtype": "error_during_execution", "is_error": True, "usage": {},
         "error": {"message": "Model produced plain text instead of calling the structured_output tool"}},
    ])
    parsed = parse_qwen(stdout, "", 1)
    assert parsed.ok is False and parsed.error == "[API Error: 401 bad key]"
