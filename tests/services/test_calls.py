"""Recording agent calls atomically, and replaying them deterministically."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from gitorch.errors import AgentError, UsageError
from gitorch.services.pricing import make_usage
from gitorch.services.recorder import AgentCall, Recorder, normalize_prompt, prompt_hash


def _call(agent: str, prompt: str, stdout: str, **kw: object) -> AgentCall:
    return AgentCall(
        agent=agent,
        task="audit",
        argv=[agent, "-p", prompt],
        cwd=str(kw.pop("cwd", "/tmp/work")),
        prompt=prompt,
        stdout=stdout,
        stderr="",
        exit_code=0,
        duration_s=1.5,
        usage=make_usage("gpt-4o", 1234, 1000, 7),
        **kw,  # type: ignore[arg-type]
    )


def test_record_writes_numbered_json_files(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "calls")
    first = rec.record(_call("claude", "audit it", '{"result": "ok"}'))
    rec.record(_call("codex", "fix it", "done"))
    files = sorted(p.name for p in (tmp_path / "calls").iterdir())
    assert files == ["0001-claude.json", "0002-codex.json"]
    data = json.loads((tmp_path / "calls" / "0001-claude.json").read_text())
    assert data["argv"] == ["claude", "-p", "audit it"]
    assert data["usage"]["input_tokens"] == 1234 and data["exit_code"] == 0
    assert data["id"] == first.id == "0001-claude"
    assert [c.agent for c in rec.calls] == ["claude", "codex"]
    assert not [p for p in (tmp_path / "calls").iterdir() if p.name.endswith(".tmp")]


def test_a_resumed_recorder_appends_after_existing_calls(tmp_path: Path) -> None:
    Recorder(tmp_path).record(_call("claude", "p", "o"))
    Recorder(tmp_path).record(_call("claude", "q", "o"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0001-claude.json", "0002-claude.json"]


def test_off_mode_writes_nothing_but_lists_calls(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, mode="off")
    rec.record(_call("claude", "p", "o"))
    assert list(tmp_path.iterdir()) == [] and len(rec.calls) == 1


def test_replay_serves_calls_in_order_without_running_anything(tmp_path: Path) -> None:
    rec = Recorder(tmp_path)
    rec.record(_call("claude", "audit security", "report 1"))
    rec.record(_call("claude", "fix finding", "report 2"))
    rec.record(_call("gemini", "document", "report 3"))

    outputs = []
    for _ in range(2):  # two replays give identical results
        replay = Recorder(tmp_path, mode="replay")
        served = [
            replay.next_recorded("claude", "audit security").stdout,
            replay.next_recorded("claude", "fix finding").stdout,
            replay.next_recorded("gemini", "document").stdout,
        ]
        assert replay.mismatches == [] and replay.remaining == 0
        outputs.append(served)
        with pytest.raises(AgentError, match="only 3 call"):
            replay.next_recorded("claude", "more")
    assert outputs[0] == outputs[1] == ["report 1", "report 2", "report 3"]
    # replay mode never writes
    assert len(list(tmp_path.iterdir())) == 3


def test_replay_with_another_agent_is_an_error(tmp_path: Path) -> None:
    Recorder(tmp_path).record(_call("claude", "p", "o"))
    with pytest.raises(AgentError, match="recorded for 'claude', not 'codex'"):
        Recorder(tmp_path, mode="replay").next_recorded("codex", "p")


def test_a_different_prompt_is_noted_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    Recorder(tmp_path).record(_call("claude", "audit module a", "o"))
    replay = Recorder(tmp_path, mode="replay")
    with caplog.at_level(logging.WARNING, logger="gitorch.services.recorder"):
        call = replay.next_recorded("claude", "audit module b")
    assert call.stdout == "o"
    assert len(replay.mismatches) == 1 and "differs" in caplog.text


def test_prompts_differing_only_by_worktree_time_or_ids_match(tmp_path: Path) -> None:
    recorded = "Audit /tmp/wt-1/app at 2025-11-25T10:00:01Z run 3f2b6c1e-1111-2222-3333-444455556666"
    Recorder(tmp_path).record(_call("claude", recorded, "o", cwd="/tmp/wt-1"))
    replay = Recorder(tmp_path, mode="replay")
    replay.next_recorded(
        "claude",
        "Audit /tmp/wt-2/app at 2026-01-02T11:12:13+01:00 run 9e9e9e9e-aaaa-bbbb-cccc-ddddeeeeffff",
        cwd="/tmp/wt-2",
    )
    assert replay.mismatches == []
    assert normalize_prompt("a   b\n c") == "a b c"
    assert prompt_hash("x", "/a") == prompt_hash("x", "/b")


def test_replay_of_a_missing_or_corrupt_recording(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        Recorder(tmp_path / "nope", mode="replay")
    (tmp_path / "0001-claude.json").write_text("{not json")
    with pytest.raises(AgentError, match="not a recorded call"):
        Recorder(tmp_path, mode="replay")
    with pytest.raises(UsageError):
        Recorder(tmp_path, mode="bogus")  # type: ignore[arg-type]


def test_atomic_write_leaves_the_old_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitorch.services import atomic

    target = tmp_path / "0001-claude.json"
    atomic.atomic_write(target, "old")

    def boom(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic.atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["0001-claude.json"]


def test_concurrent_records_get_distinct_numbers(tmp_path: Path) -> None:
    import threading

    rec = Recorder(tmp_path)
    threads = [threading.Thread(target=rec.record, args=(_call("codex", f"p{i}", "o"),)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"{n:04d}-codex.json" for n in range(1, 17)]
    assert sorted(c.id for c in rec.calls) == [n.removesuffix(".json") for n in names]


def test_without_a_redactor_credential_formats_are_still_masked(tmp_path: Path) -> None:
    key = "ghp_" + "A1b2C3d4" * 5
    Recorder(tmp_path).record(_call("claude", f"use {key}", f"token {key}"))
    text = (tmp_path / "0001-claude.json").read_text()
    assert key not in text and "«redacted:github-token»" in text
