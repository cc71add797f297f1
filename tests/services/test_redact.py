"""Secrets never reach an agent or the disk: planted canaries in the environment, .env files and code."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitorch.services.redact import Redactor, find_env_files, is_secret_file, is_secret_name, looks_random

from .conftest import (
    BARE_CANARIES,
    DOTENV_CANARIES,
    ENV_CANARIES,
    FILE_CANARIES,
    SUBDIR_CANARY,
    assert_no_canary,
)


def test_environment_secrets_are_masked_by_name(canary_env: dict[str, str]) -> None:
    red = Redactor.for_repository(None)
    text = " | ".join(canary_env.values()) + " DEBUG_TOKEN_COUNT=1 USE_AUTH=true"
    masked = red.mask(text)
    assert_no_canary(masked)
    assert "«redacted:MY_SERVICE_TOKEN»" in masked and "«redacted:DB_PASSWORD»" in masked
    assert "=1 " in masked and "=true" in masked  # short values are left alone
    assert "OPENAI_API_KEY" in red.names


def test_explicit_env_mapping_is_used_instead_of_os_environ() -> None:
    red = Redactor.for_repository(None, env={"GITHUB_TOKEN": "abcdefgh12345", "PATH": "/usr/bin:/bin"})
    assert red.mask("abcdefgh12345 /usr/bin:/bin") == "«redacted:GITHUB_TOKEN» /usr/bin:/bin"


def test_dotenv_files_anywhere_in_the_repository(secret_repo: Path) -> None:
    red = Redactor.for_repository(secret_repo, env={})
    found = {p.relative_to(secret_repo).as_posix() for p in find_env_files(secret_repo)}
    assert found == {".env", ".env.local", "services/worker/.env"}
    for name, value in DOTENV_CANARIES.items():
        assert red.mask(f"x {value} y") == f"x «redacted:{name}» y"
    assert red.mask(SUBDIR_CANARY[1]) == f"«redacted:{SUBDIR_CANARY[0]}»"
    # plain configuration values are not secrets: masking them would corrupt prompts
    assert red.mask("APP_ENV is production on PORT 8000") == "APP_ENV is production on PORT 8000"
    # placeholders in .env.example are documentation
    assert "put-your-stripe-secret-here" in red.mask("put-your-stripe-secret-here")


@pytest.mark.parametrize("kind", sorted(FILE_CANARIES))
def test_credential_looking_strings_are_masked(kind: str) -> None:
    text = f'value = "{FILE_CANARIES[kind]}" and more'
    if kind == "assigned":
        text = f'db_password = "{FILE_CANARIES[kind]}"'
    masked = Redactor().mask(text)
    assert FILE_CANARIES[kind] not in masked
    assert "«redacted:" in masked


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123", "anthropic-key"),
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz0123", "openai-key"),
        ("token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstu", "github-token"),
        ("postgres://admin:s3cr3tpass@db.internal:5432/app", "basic-auth-credentials"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "bearer-token"),
        ('{"api_key": "zzzzyyyyxxxx"}', "secret-keyword"),
        ("DB_PASSWORD='hunter2hunter2'", "secret-keyword"),
        ("DB_PASSWORD=hunter2hunter2", "secret-keyword"),
        ('PASSWORD = "correct horse battery staple"', "secret-keyword"),
        ("password: s3cr3t-pw", "secret-keyword"),
        ('GITHUB_TOKEN = "not-a-known-format-at-all"', "assigned-secret"),
        ("E   AssertionError: ghp_CUTaftertwentyfourchars", "github-token"),
        ("aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'", "aws-access-key"),
        ("[B105:hardcoded_password_string] Possible hardcoded password: 'Adm1n!pw'", "secret-keyword"),
        ("MIIEowIBAAKCAQEAwq8Zr2LkP0vX7mN4tY6wB1cJ9aBcDeF0123456789+/abcXYZ", "key-material"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----", "private-key"),
    ],
)
def test_credential_formats(text: str, kind: str) -> None:
    masked = Redactor().mask(text)
    assert f"«redacted:{kind}»" in masked, masked


def test_url_and_private_key_keep_their_context() -> None:
    red = Redactor()
    assert (
        red.mask("postgres://admin:s3cr3tpass@db:5432/app")
        == "postgres://admin:«redacted:basic-auth-credentials»@db:5432/app"
    )
    masked = red.mask(
        "before\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n-----END OPENSSH PRIVATE KEY-----\nafter"
    )
    assert masked == "before\n«redacted:private-key»\nafter"


@pytest.mark.parametrize(
    "text",
    [
        "password = os.environ['PASSWORD']",
        'api_key = "{api_key}"',
        "tokens = tokenize(text)",
        "The function returns a token of length 8.",
        "see https://example.com/path?q=1",
        "max_tokens = 4096",
        '{"max_tokens": "4096", "output_tokens": 7}',
        "pip install sk-learn-extra-tools-for-models",
        "password = get_password(user)",
        "token = settings.API_TOKEN",
        "if password is None:",
        "commit 3f9a0c51d2e87b10aa3f9a0c51d2e87b10aa1234 (sha-1 hex is no key)",
    ],
)
def test_ordinary_code_is_left_alone(text: str) -> None:
    assert Redactor().mask(text) == text


def test_masking_is_idempotent(canary_env: dict[str, str], secret_repo: Path) -> None:
    red = Redactor.for_repository(secret_repo)
    # bare values, and the source file where the assigned password sits in its context
    text = "\n".join(BARE_CANARIES) + "\n" + (secret_repo / "app" / "settings.py").read_text()
    once = red.mask(text)
    assert red.mask(once) == once
    assert_no_canary(once)


def test_json_escaped_secret_is_masked() -> None:
    red = Redactor({"WEIRD_SECRET": 'ab"cd\\efgh12'})
    assert "efgh12" not in red.mask('{"v": "ab\\"cd\\\\efgh12"}')


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        (".env", True),
        ("services/api/.env.production", True),
        ("deploy/prod.env", True),
        (".env.example", False),
        (".env.sample", False),
        ("certs/server.pem", True),
        ("home/.ssh/config", True),
        ("id_ed25519", True),
        (".npmrc", True),
        ("config/secrets.yaml", True),
        ("infra/terraform.tfstate", True),
        ("app/settings.py", False),
        ("app/environment.py", False),
        ("README.md", False),
    ],
)
def test_is_secret_file(path: str, secret: bool) -> None:
    assert is_secret_file(path) is secret
    assert Redactor().is_secret_file(Path(path)) is secret


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("GH_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("DB_PASSWORD", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("SENTRY_DSN", True),
        ("NPM_AUTH", True),
        ("PWD", False),
        ("OLDPWD", False),
        ("PATH", False),
        ("HOME", False),
        ("GIT_AUTHOR_NAME", False),
        ("SSH_AUTH_SOCK", False),
    ],
)
def test_is_secret_name(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_looks_random() -> None:
    assert looks_random(DOTENV_CANARIES["SIGNING_SALT"])
    assert not looks_random("production")
    assert not looks_random("/usr/local/share/app/data")
    assert not looks_random("aaaaaaaaaaaaaaaaaaaaaaaa")


def test_env_canaries_are_all_known() -> None:
    red = Redactor(ENV_CANARIES)
    assert_no_canary(red.mask(" ".join(ENV_CANARIES.values())))


def test_a_linked_worktree_masks_the_env_files_of_the_main_checkout(
    secret_repo: Path, tmp_path: Path
) -> None:
    """The fix loop works in a fresh worktree, where the ignored .env files do not exist."""
    import subprocess

    worktree = tmp_path / "wt"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(worktree)], cwd=secret_repo, check=True)
    assert not (worktree / ".env").exists()
    red = Redactor.for_repository(worktree, env={})
    for name, value in DOTENV_CANARIES.items():
        assert red.mask(value) == f"«redacted:{name}»"
    assert red.mask(SUBDIR_CANARY[1]) == f"«redacted:{SUBDIR_CANARY[0]}»"
    # a plain checkout does not look anywhere else
    plain = tmp_path / "plain"
    plain.mkdir()
    assert Redactor.for_repository(plain, env={}).names == []


def test_a_known_secret_cut_short_is_still_masked_but_a_word_sharing_its_start_is_not() -> None:
    token = "ghx_0123456789abcdefghijklmnopqrstuvwxyzAB"  # no known format: masked as a known value only
    red = Redactor({"DEPLOY_TOKEN": token, "DB_PASS": "production-2024-db-pw"})
    assert red.mask(f"E   assert '{token[:28]}...' == ''") == "E   assert '«redacted:DEPLOY_TOKEN»...' == ''"
    assert red.mask(f"...{token[-20:]}'") == "...«redacted:DEPLOY_TOKEN»'"
    assert red.mask("deploy to production-2024 now") == "deploy to production-2024 now"
    assert red.mask("pw production-2024-db\nnext") == "pw «redacted:DB_PASS»\nnext"
    assert red.mask("pw ...on-2024-db-pw") == "pw ...«redacted:DB_PASS»"


def test_secrets_written_in_the_repository_are_masked_anywhere_once_learned(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "config.py").write_text('ADMIN_PASSWORD = "plain-literal-9"\nTIMEOUT = 30\n')
    (tmp_path / "deploy.yml").write_text("db:\n  password: yaml-unquoted-pw\n")
    red = Redactor.for_repository(tmp_path, env={})
    # a test's output shows the bare value, with no name that says it is a secret
    assert red.mask("AssertionError: 'plain-literal-9' != 'x'") == (
        "AssertionError: '«redacted:secret in app/config.py»' != 'x'"
    )
    assert "yaml-unquoted-pw" not in red.mask("connecting with yaml-unquoted-pw")
    assert red.mask("TIMEOUT = 30") == "TIMEOUT = 30"
