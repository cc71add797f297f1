"""Fixtures for the agent-call services: a repository with planted canary secrets."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

# Canary secrets: each must never appear in a rendered prompt, a recorded call or a log.
ENV_CANARIES = {
    "OPENAI_API_KEY": "sk-proj-CANARYenv0penAIkey1234567890abcdefXYZ",
    "MY_SERVICE_TOKEN": "canary-token-7f3a9b2c-env",
    "DB_PASSWORD": "Canary!Passw0rd#env",
}
DOTENV_CANARIES = {
    "STRIPE_SECRET": "canary_dotenv_stripe_secret_9d8c7b",
    "ANTHROPIC_API_KEY": "sk-ant-api03-CANARYdotenvANTHROPICkey0123456789",
    "SIGNING_SALT": "q8Zr2LkP0vX7mN4tY6wB1cJ9",  # not secret-named, but random-looking
}
SUBDIR_CANARY = ("WORKER_AUTH", "canary-subdir-worker-auth-55aa")
# Credential-looking strings that sit in source files, known to no variable.
FILE_CANARIES = {
    "aws": "AKIACANARY0123456789",
    "github": "ghp_CANARYgithubTOKEN0123456789abcdefABCD",
    "google": "AIzaSyCANARY-googleKey_0123456789abcdEF",
    "slack": "xoxb-123456789012-CANARYslackToken",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.CANARYsignature0123",
    "assigned": "canary-assigned-pw-4242",
}
ALL_CANARIES = [
    *ENV_CANARIES.values(),
    *DOTENV_CANARIES.values(),
    SUBDIR_CANARY[1],
    *FILE_CANARIES.values(),
]

# Every canary recognisable without context (a bare password is a secret only where it is assigned).
BARE_CANARIES = [c for c in ALL_CANARIES if c != FILE_CANARIES["assigned"]]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in ENV_CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEBUG_TOKEN_COUNT", "1")  # secret-named but too short to mask
    monkeypatch.setenv("USE_AUTH", "true")
    return dict(ENV_CANARIES)


@pytest.fixture
def secret_repo(tmp_path: Path) -> Path:
    """A real git repository with .env files and source files holding credential-looking strings."""
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "services" / "worker").mkdir(parents=True)
    (root / ".env").write_text(
        "# local settings\n"
        f"STRIPE_SECRET={DOTENV_CANARIES['STRIPE_SECRET']}\n"
        f'export ANTHROPIC_API_KEY="{DOTENV_CANARIES["ANTHROPIC_API_KEY"]}"\n'
        "APP_ENV=production\n"
        "PORT=8000\n"
    )
    (root / ".env.local").write_text(f"SIGNING_SALT='{DOTENV_CANARIES['SIGNING_SALT']}'\n")
    (root / ".env.example").write_text("STRIPE_SECRET=put-your-stripe-secret-here\n")
    (root / "services" / "worker" / ".env").write_text(f"{SUBDIR_CANARY[0]}={SUBDIR_CANARY[1]}\n")
    (root / ".gitignore").write_text(".env\n.env.local\nservices/worker/.env\n")
    lines = [
        '"""Settings."""',
        "import os",
        "",
        f'AWS_KEY_ID = "{FILE_CANARIES["aws"]}"',
        f'GH = "{FILE_CANARIES["github"]}"',
        f'MAPS = "{FILE_CANARIES["google"]}"',
        f'SLACK = "{FILE_CANARIES["slack"]}"',
        f'SESSION = "{FILE_CANARIES["jwt"]}"',
        f'db_password = "{FILE_CANARIES["assigned"]}"',
        "",
        "def connect():",
        '    return os.environ["DB_URL"]',
    ]
    (root / "app" / "settings.py").write_text("\n".join(lines) + "\n")
    (root / "app" / "views.py").write_text(
        "\n".join(f"def view_{i}(request):\n    return {i}\n" for i in range(30))
    )
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    return root


def assert_no_canary(text: str) -> None:
    for canary in ALL_CANARIES:
        assert canary not in text, f"canary secret leaked: {canary[:12]}…"
