"""call_with_fallback: retries with a growing timeout, fallback along the chain, budget never retried."""

from __future__ import annotations

import pytest

from gitorch.agents.routing import RoutingError, Try, call_with_fallback
from gitorch.errors import AgentError
from gitorch.services.budget import Budget, BudgetExceeded


def test_retries_three_times_then_falls_back_to_the_next_agent(fakes, harness):
    fakes.scenario("success", FAKE_SCENARIO_CODEX="auth")
    tries: list[Try] = []
    made: list[str] = []

    def make(name):
        made.append(name)
        return harness.agent(name, use_schema=False)

    result = call_with_fallback(
        ["codex", "claude"], make, lambda a: a.audit(harness.audit_request()), tries=tries
    )

    assert result.agent == "claude"
    assert made == ["codex", "claude"]
    assert [(t.agent, t.attempt, t.ok) for t in tries] == [
        ("codex", 1, False),
        ("codex", 2, False),
        ("codex", 3, False),
        ("claude", 1, True),
    ]
    assert [t.timeout_factor for t in tries[:3]] == [1.0, 1.5, 2.25]
    assert all("turn.failed" in (t.error or "") for t in tries[:3])
    # every try is in the ledger, the failed ones included
    assert [c.agent for c in harness.recorder.calls] == ["codex"] * 3 + ["claude"]
    assert all(c.error for c in harness.recorder.calls[:3])


def test_the_timeout_grows_one_and_a_half_times_per_retry(fakes, harness):
    fakes.scenario("hang")
    tries: list[Try] = []
    agent = harness.agent("codex", timeout_s=0.4)
    with pytest.raises(RoutingError) as info:
        call_with_fallback(
            ["codex"],
            lambda n: agent,
            lambda a: a.audit(harness.audit_request()),
            tries=tries,
        )
    assert [t.timeout_factor for t in tries] == [1.0, 1.5, 2.25]
    assert agent.timeout_factor == 1.0  # a kept agent starts its next call at the base timeout
    assert [c.timed_out for c in harness.recorder.calls] == [True, True, True]
    assert [c.error.split("killed: ")[1].split(";")[0] for c in harness.recorder.calls] == [
        "timeout after 0.4s",
        "timeout after 0.6s",
        "timeout after 0.9s",
    ]
    assert info.value.tries == tries
    assert "every agent failed" in str(info.value)


def test_budget_exceeded_is_never_retried_nor_passed_down_the_chain(fakes, harness):
    harness.budget = Budget(0.001)
    tries: list[Try] = []
    with pytest.raises(BudgetExceeded):
        call_with_fallback(
            ["claude", "codex"],
            lambda n: harness.agent(n),
            lambda a: a.audit(harness.audit_request()),
            tries=tries,
        )
    assert len(tries) == 1 and not tries[0].ok
    assert not fakes.ran


def test_an_unavailable_agent_is_skipped(fakes, harness, monkeypatch):
    (fakes.bin / "codex").unlink()
    tries: list[Try] = []
    result = call_with_fallback(
        ["codex", "gemini"],
        lambda n: harness.agent(n),
        lambda a: a.audit(harness.audit_request()),
        tries=tries,
    )
    assert result.agent == "gemini"
    assert (tries[0].agent, tries[0].attempt, tries[0].ok) == ("codex", 0, False)
    assert tries[0].error == "unavailable: 'codex' is not on PATH"


def test_a_flaky_agent_succeeds_on_its_second_try():
    calls = []

    class Flaky:
        timeout_factor = 1.0

        @classmethod
        def availability(cls):
            from gitorch.models import Availability

            return Availability(True)

    def fn(agent):
        calls.append(agent.timeout_factor)
        if len(calls) == 1:
            raise AgentError("transient")
        return "ok"

    assert call_with_fallback(["flaky"], lambda n: Flaky(), fn) == "ok"
    assert calls == [1.0, 1.5]


def test_an_empty_chain_is_a_routing_error():
    with pytest.raises(RoutingError, match="no agent configured"):
        call_with_fallback([], lambda n: None, lambda a: None)


def test_a_bug_is_not_retried():
    class Agent:
        timeout_factor = 1.0

        @classmethod
        def availability(cls):
            return True

    calls = []

    def fn(agent):
        calls.append(1)
        raise ValueError("bug")

    with pytest.raises(ValueError):
        call_with_fallback(["a", "b"], lambda n: Agent(), fn)
    assert calls == [1]


def test_a_configured_binary_outside_path_counts_as_available(fakes, harness, monkeypatch, tmp_path):
    exe = str(fakes.bin / "gemini")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    tries: list[Try] = []
    result = call_with_fallback(
        ["codex", "gemini"],
        lambda n: harness.agent(n, binary=exe) if n == "gemini" else harness.agent(n),
        lambda a: a.fix(harness.fix_request()),
        tries=tries,
    )
    assert result.status == "unchanged"
    assert [(t.agent, t.ok) for t in tries] == [("codex", False), ("gemini", True)]
