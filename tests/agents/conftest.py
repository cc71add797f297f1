"""Fixtures for the agent-plugin tests: fake CLIs on PATH, a worktree-like git repository, contexts."""

from __future__ import annotations

import contextlib
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitorch.testing.kit import FAKE_AGENT, FakeAgents

FAKE = FAKE_AGENT  # the fake agent CLI script (test_run_process runs it directly)


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeAgents:
    """Every fake CLI as ``tmp/bin/<cli>`` first on PATH; scenario ``success`` by default.

    Only the fakes and the system's own tools are on PATH: a real CLI installed elsewhere must not
    answer (a real codex offline retries forever). The fakes are gitorch's test kit's
    (gitorch/testing/fakes/fake_agent.py), the ones plugin authors get as ``gitorch_fake_agent``.
    """
    agents = FakeAgents.create(tmp_path, monkeypatch, only_fakes=True)
    agents.install()
    return agents


@pytest.fixture
def repo(git_repo) -> Path:
    """A git repository with a small Python module to audit and fix."""
    from gitorch.testing.fixtures import commit

    commit(git_repo, {"app/__init__.py": "", "app/util.py": "def answer():\n    return 41\n"}, "app")
    return Path(git_repo.working_tree_dir)


def process_alive(pid: int, wait: float = 3.0) -> bool:
    """True when ``pid`` still exists (and is not a zombie) after up to ``wait`` seconds."""
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return False
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)


class StubParser:
    """A stand-in Markdown parser: one P1 finding and a reported score of 7/10, whatever the text."""

    name = "stub"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def parse(self, text: str, *, dimension: str = "general"):
        from gitorch.models import AuditResult, Finding

        self.texts.append(text)
        if "NOTHING" in text:
            return AuditResult(dimension=dimension, agent="unknown")
        finding = Finding(
            dimension=dimension, severity="P1", description="stub finding", file="app/util.py", line=2
        )
        return AuditResult(
            dimension=dimension,
            agent="unknown",
            findings=[finding],
            score=7,
            score_scale=10,
            score_source="reported",
        )


@dataclass
class Harness:
    """Builds agents with a real Recorder, Budget, Redactor and Templates around them."""

    root: Path
    calls: Path
    budget: object
    recorder: object
    parser: StubParser

    def agent(self, name: str, **options):
        from gitorch.models import AgentContext
        from gitorch.plugin.manager import get_plugins
        from gitorch.services.redact import Redactor
        from gitorch.services.templates import Templates

        cls = get_plugins().agent_class(name)
        redactor = Redactor.for_repository(self.root)
        context = AgentContext(
            recorder=self.recorder,
            budget=self.budget,
            redactor=redactor,
            parser=self.parser,
            templates=Templates(self.root, redactor=redactor),
        )
        return cls(cls.Options(**options), context)

    def audit_request(self, dimension: str = "security", **kw):
        from gitorch.config import Config
        from gitorch.models import AuditRequest
        from gitorch.plugin.manager import get_plugins

        return AuditRequest(
            root=self.root, dimension=get_plugins().dimension(dimension), config=Config(), **kw
        )

    def fix_request(self, finding=None, **kw):
        from gitorch.config import Config
        from gitorch.models import Finding, FixRequest

        finding = finding or Finding(
            dimension="backend",
            severity="P1",
            description="answer() returns 41, not 42",
            file="app/util.py",
            line=2,
            recommendation="return 42",
        )
        return FixRequest(root=self.root, finding=finding, config=Config(), **kw)


@pytest.fixture
def harness(repo: Path, tmp_path: Path) -> Harness:
    from gitorch.services.budget import Budget
    from gitorch.services.recorder import Recorder

    calls = tmp_path / "calls"
    return Harness(repo, calls, Budget(5.0), Recorder(calls, "record"), StubParser())


@contextlib.contextmanager
def ctrl_c_after(seconds: float):
    """Raise KeyboardInterrupt in the main thread after ``seconds``, as a Ctrl-C would."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
