"""Masking secrets before anything reaches an agent or the disk.

A :class:`Redactor` knows three kinds of secrets:

- values of environment variables whose name says secret (``*KEY*``, ``*TOKEN*``, ``*SECRET*``,
  ``*PASSWORD*``, ``*CREDENTIAL*`` …), when at least :data:`MIN_SECRET_LENGTH` characters long so
  that ``1`` or ``true`` are never masked;
- values from the repository's ``.env`` / ``.env.*`` files (parsed with python-dotenv, the parser the
  applications themselves use, so quoting, ``export`` and multi-line values read the same): values of
  secret-named keys, and any value that looks random (long, high entropy);
- strings that look like credentials whatever their origin: OpenAI/Anthropic/AWS/GitHub/Slack/Google
  keys, JWTs, private key blocks, passwords in URLs and ``password = "..."`` assignments.

Known values become ``«redacted:NAME»`` (the variable's name), pattern matches ``«redacted:KIND»``.
Files such as ``.env`` or ``id_rsa`` are never put into a prompt: see :meth:`Redactor.is_secret_file`.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath

from dotenv import dotenv_values

MIN_SECRET_LENGTH = 8
MARK = "«redacted:{}»"

# Substrings of a variable name that make its value a secret.
_NAME_SUBSTRINGS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "PRIVATE")
# Whole name segments (split on _ - .) that do too: too short or too common to match as substrings.
_NAME_SEGMENTS = frozenset({"AUTH", "PAT", "PASS", "PWD", "DSN", "COOKIE", "APIKEY", "SIGNATURE"})
# Names that match the rules above but never hold a secret.
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD", "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "KEYTIMEOUT"})
# Values never worth masking even under a secret name.
_HARMLESS_VALUES = frozenset(
    {"true", "false", "none", "null", "changeme", "undefined", "disabled", "enabled"}
)

# .env files whose values are placeholders meant to be shared.
_EXAMPLE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults", ".tpl")
_SKIP_DIRS = frozenset(  # vendored code and virtualenvs (".env" as a directory is a virtualenv)
    {".git", "node_modules", ".venv", "venv", ".env", "__pycache__", ".tox", ".nox", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", "build", "dist", "site-packages", ".idea", ".cache"}
)  # fmt: skip
_MAX_DEPTH = 6

SECRET_FILE_GLOBS: tuple[str, ...] = (
    ".env", ".env.*", "*.env", ".envrc",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.gpg",
    "id_rsa", "id_rsa.*", "id_dsa", "id_dsa.*", "id_ecdsa", "id_ecdsa.*", "id_ed25519", "id_ed25519.*",
    ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd", ".dockercfg",
    "credentials", "credentials.json", "credentials.*", "secrets.*", "secret.*", "*.secret", "*.secrets",
    "service-account*.json", "client_secret*.json", "*.tfstate", "*.tfstate.*", "*.tfvars",
)  # fmt: skip
_SECRET_PARENTS = frozenset({".ssh", ".aws", ".gnupg", ".docker", ".kube"})


@dataclass(frozen=True)
class Pattern:
    """A credential format. ``group`` is the part to mask (0 = the whole match)."""

    kind: str
    regex: re.Pattern[str]
    group: int = 0


def _p(kind: str, regex: str, group: int = 0, flags: int = 0) -> Pattern:
    return Pattern(kind, re.compile(regex, flags), group)


# Order matters: more specific formats first (sk-ant- before sk-).
PATTERNS: tuple[Pattern, ...] = (
    _p(
        "private-key",
        r"-----BEGIN[A-Z ]* PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[A-Z ]* PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    _p("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}"),
    _p("openai-key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?(?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{20,}"),
    _p("stripe-key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    _p("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"),
    _p("github-token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    _p("github-token", r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"),
    _p("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}\b"),
    _p("slack-token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}"),
    _p("slack-webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}"),
    _p("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    _p("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    _p("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    _p("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    _p("url-password", r"\b[a-z][a-z0-9+.\-]*://[^/\s:@\"'«]+:([^/\s@\"'«]{3,})@", 1, re.I),
    _p("bearer-token", r"\b[Bb]earer\s+([A-Za-z0-9._~+/=\-]{20,})", 1),
    _p(
        "assigned-secret",
        # only the value is masked, so the name is matched from its keyword on (no costly backtracking)
        r"""(?ix)(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key)[\w.\-]*
            ["']?\s*(?:=|:=|:|=>)\s*(["'])(?![{$%<«])(?!\d+["'])([^"'\s]{4,})\1""",
        2,
    ),
)  # fmt: skip


def is_secret_name(name: str) -> bool:
    """Whether an environment variable called ``name`` holds a secret (``OPENAI_API_KEY``: yes)."""
    upper = name.upper()
    if upper in _NOT_SECRET_NAMES:
        return False
    if any(part in upper for part in _NAME_SUBSTRINGS):
        return True
    return any(seg in _NAME_SEGMENTS for seg in re.split(r"[_\-.]", upper))


def looks_random(value: str) -> bool:
    """A long token with no spaces and high character entropy (a key, not a word or a path)."""
    if len(value) < 16 or any(c.isspace() for c in value) or value.startswith(("/", "./", "http")):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 3.5


def _worth_masking(value: str) -> bool:
    value = value.strip()
    return len(value) >= MIN_SECRET_LENGTH and value.lower() not in _HARMLESS_VALUES


def is_example_env(name: str) -> bool:
    """``.env.example`` and friends hold placeholders meant to be shared, not secrets."""
    return name.lower().endswith(_EXAMPLE_SUFFIXES)


def is_secret_file(path: str | PurePath) -> bool:
    """Whether a file's contents must never go into a prompt (``.env``, keys, credential stores)."""
    pure = PurePath(path)
    name = pure.name.lower()
    if not name:
        return False
    if name.startswith(".env") and is_example_env(name):
        return False
    if any(fnmatch.fnmatchcase(name, glob) for glob in SECRET_FILE_GLOBS):
        return True
    return any(part.lower() in _SECRET_PARENTS for part in pure.parts[:-1])


def _main_checkout(root: Path) -> list[Path]:
    """The user's checkout when ``root`` is a fix run's workspace (its git directory names it:
    ``gitorch.checkout``), or the main working tree when it is a linked worktree (``git worktree add``).

    ``.env`` files are untracked and ignored, so a fresh worktree (where the fix loop works) has none:
    their values must still be masked, so they are read from the user's checkout.
    """
    if not (root / ".git").is_file():  # a workspace or a linked worktree has a .git *file*
        return []
    from gitorch.vcs.git import Git, GitError

    try:
        named = Git(root).call("config", "--get", "gitorch.checkout", timeout=30)
        if named.ok and named.stdout.strip():
            checkout = Path(named.stdout.strip())
            return [checkout] if checkout.is_dir() and checkout.resolve() != root.resolve() else []
        done = Git(root).call("rev-parse", "--path-format=absolute", "--git-common-dir", timeout=30)
    except GitError:  # git could not be run
        return []
    common = Path(done.stdout.strip()) if done.ok and done.stdout.strip() else None
    if common is None or common.name != ".git":
        return []
    main = common.parent
    return [main] if main.is_dir() and main.resolve() != root.resolve() else []


def find_env_files(root: Path) -> list[Path]:
    """``.env`` and ``.env.*`` files under ``root`` (not examples), skipping vendored directories."""
    found: list[Path] = []
    root = Path(root)
    base_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).parts) - base_depth
        dirnames[:] = [] if depth >= _MAX_DEPTH else sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            lower = name.lower()
            if (
                lower == ".env" or lower.startswith(".env.") or lower.endswith(".env")
            ) and not is_example_env(lower):
                found.append(Path(dirpath) / name)
    return found


class Redactor:
    """Masks known secret values and credential-looking strings in any text.

    Build one with :meth:`for_repository`; ``Redactor()`` alone masks only credential patterns.
    """

    def __init__(self, secrets: Mapping[str, str] | Iterable[tuple[str, str]] = (), *, patterns: bool = True):
        self._values: dict[str, str] = {}
        self._regex: re.Pattern[str] | None = None
        self.patterns = PATTERNS if patterns else ()
        self.sources: list[str] = []
        items = secrets.items() if isinstance(secrets, Mapping) else secrets
        for name, value in items:
            self.add(name, value)

    @classmethod
    def for_repository(cls, root: Path | None, env: Mapping[str, str] | None = None) -> Redactor:
        """Secrets from ``env`` (default ``os.environ``) and from ``root``'s ``.env*`` files."""
        env = os.environ if env is None else env
        red = cls()
        for name, value in env.items():
            if is_secret_name(name):
                red.add(name, value)
        if root is not None and Path(root).is_dir():
            for base in [Path(root), *_main_checkout(Path(root))]:
                for path in find_env_files(base):
                    red.add_env_file(path)
        return red

    @property
    def names(self) -> list[str]:
        """The names of the secrets known by value (never the values)."""
        return sorted(set(self._values.values()))

    def add(self, name: str, value: str | None) -> None:
        """Mask ``value`` as ``«redacted:name»`` from now on (ignored when too short or harmless)."""
        if value is None or not _worth_masking(value):
            return
        value = value.strip()
        forms = {value, json.dumps(value)[1:-1]}  # also as it appears inside JSON output
        for line in value.splitlines():  # multi-line values (keys) line by line too
            if _worth_masking(line):
                forms.add(line.strip())
        for form in forms:
            self._values.setdefault(form, name)
        self._regex = None

    def add_env_file(self, path: Path) -> None:
        """Secret-named and random-looking values of a ``.env`` file."""
        try:
            values = dotenv_values(path, interpolate=False)
        except (OSError, UnicodeDecodeError, ValueError):
            return
        self.sources.append(str(path))
        for key, value in values.items():
            if value is not None and (is_secret_name(key) or looks_random(value)):
                self.add(key, value)

    def _known(self) -> re.Pattern[str] | None:
        if not self._values:
            return None
        if self._regex is None:
            ordered = sorted(self._values, key=len, reverse=True)  # longest first: overlapping values
            self._regex = re.compile("|".join(re.escape(v) for v in ordered))
        return self._regex

    def mask(self, text: str) -> str:
        """``text`` with every known secret and credential-looking string replaced by a marker."""
        if not text:
            return text
        known = self._known()
        if known is not None:
            text = known.sub(lambda m: MARK.format(self._values[m.group(0)]), text)
        for pattern in self.patterns:
            if pattern.group:
                text = pattern.regex.sub(lambda m, p=pattern: _mask_group(m, p), text)
            else:
                text = pattern.regex.sub(MARK.format(pattern.kind), text)
        return text

    def is_secret_file(self, path: str | PurePath) -> bool:
        """See :func:`is_secret_file`."""
        return is_secret_file(path)


def _mask_group(match: re.Match[str], pattern: Pattern) -> str:
    start, end = match.span(pattern.group)
    whole = match.group(0)
    offset = match.start()
    return whole[: start - offset] + MARK.format(pattern.kind) + whole[end - offset :]
