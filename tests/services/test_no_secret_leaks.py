"""End to end over the services: planted canaries never reach a rendered prompt or a recorded call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitorch.models import Finding
from gitorch.services.pricing import make_usage
from gitorch.services.recorder import AgentCall, Recorder
from gitorch.services.redact import Redactor
from gitorch.services.templates import AUDIT_DIMENSIONS, TASK_TEMPLATES, Templates, file_excerpt

from .conftest import BARE_CANARIES, ENV_CANARIES, assert_no_canary


def _all_files_text(directory: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(directory.rglob("*")) if p.is_file())


def test_prompts_never_contain_canaries(secret_repo: Path, canary_env: dict[str, str]) -> None:
    redactor = Redactor.for_repository(secret_repo)
    templates = Templates(secret_repo, ".gitorch/templates", redactor=redactor)
    finding = Finding(
        dimension="security",
        severity="P0",
        description="Hard-coded credentials",
        file="app/settings.py",
        line=6,
    )
    excerpt = file_excerpt(secret_repo, "app/settings.py", 6, context=8, redactor=redactor)
    assert "AWS_KEY_ID" in excerpt and "db_password" in excerpt  # the code is there, the values are not
    assert_no_canary(excerpt)
    leaky = {  # every free-text variable carries a secret, as an agent's or a test's output might
        "constraints": [f"Deploy token is {ENV_CANARIES['MY_SERVICE_TOKEN']}"],
        "test_output": "\n".join(BARE_CANARIES) + "\n" + (secret_repo / "app" / "settings.py").read_text(),
        "diff": f'+password = "{ENV_CANARIES["DB_PASSWORD"]}"',
        "feature": f"Call the API with {ENV_CANARIES['OPENAI_API_KEY']}",
    }
    for name in [f"audit_{d}" for d in AUDIT_DIMENSIONS] + list(TASK_TEMPLATES):
        text = templates.render(
            name, dimension="security", finding=finding, file_excerpt=excerpt, attempt=2, **leaky
        )
        assert_no_canary(text)
    # a .env finding gets no excerpt at all
    assert "never put into a prompt" in file_excerpt(secret_repo, ".env", 1, redactor=redactor)


def test_recorded_calls_never_contain_canaries(
    secret_repo: Path, canary_env: dict[str, str], tmp_path: Path
) -> None:
    redactor = Redactor.for_repository(secret_repo)
    calls = tmp_path / "calls"
    recorder = Recorder(calls, redactor=redactor)
    # a real subprocess that echoes every canary on stdout and stderr, like a chatty CLI would
    script = "import sys; t = sys.argv[1]; print(t); print(t, file=sys.stderr)"
    secret_text = "\n".join(BARE_CANARIES) + "\n" + (secret_repo / "app" / "settings.py").read_text()
    started = subprocess.run(
        [sys.executable, "-c", script, secret_text], capture_output=True, text=True, check=True
    )
    call = recorder.record(
        AgentCall(
            agent="claude",
            task="fix",
            argv=[sys.executable, "-c", script, secret_text, "--api-key", ENV_CANARIES["OPENAI_API_KEY"]],
            cwd=str(secret_repo),
            prompt=secret_text,
            stdout=started.stdout,
            stderr=started.stderr,
            extra={"usage.json": f'{{"token": "{ENV_CANARIES["MY_SERVICE_TOKEN"]}"}}'},
            exit_code=started.returncode,
            error=f"auth failed for {ENV_CANARIES['OPENAI_API_KEY']}",
            usage=make_usage("claude-sonnet-4-5", 100, 0, 10),
        )
    )
    on_disk = _all_files_text(calls)
    assert "«redacted:" in on_disk
    assert_no_canary(on_disk)
    assert_no_canary(call.model_dump_json())
    # and what replay serves back is the masked record, identical every time
    first = Recorder(calls, mode="replay", redactor=redactor).next_recorded(
        "claude", secret_text, cwd=secret_repo
    )
    second = Recorder(calls, mode="replay", redactor=redactor).next_recorded(
        "claude", secret_text, cwd=secret_repo
    )
    assert first == second == call
    assert_no_canary(first.stdout + first.stderr)
