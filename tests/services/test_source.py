"""The core's source-line reader: what agents put in a finding's snippet, and what it never reads."""

from pathlib import Path

from gitorch.services.source import SourceLines, read_source


def test_a_line_is_read_stripped_and_each_file_once(tmp_path: Path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "db.py").write_text("import os\n\n    cur.execute(q % x)  \n")
    lines = SourceLines(tmp_path)
    assert lines.line("app/db.py", 3) == "cur.execute(q % x)"
    assert lines.line("app/db.py", 2) is None  # blank
    assert lines.line("app/db.py", 4) is None and lines.line("app/db.py", 0) is None
    assert lines.line("app/db.py", None) is None
    (tmp_path / "app" / "db.py").write_text("changed\n")
    assert lines.line("app/db.py", 1) == "import os"  # read once, kept


def test_secret_outside_binary_and_missing_files_have_no_lines(tmp_path: Path):
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "outside.py").write_text("SECRET = 1\n")
    (root / "link.py").symlink_to(tmp_path / "outside.py")
    (root / ".env").write_text("API_KEY=abc\n")
    (root / "env_link.txt").symlink_to(root / ".env")
    (root / "blob.py").write_bytes(b"x = 1\x00\x01\n")
    lines = SourceLines(root)
    for name in ("link.py", ".env", "env_link.txt", "blob.py", "missing.py", "../outside.py"):
        assert lines.line(name, 1) is None, name
    assert read_source(root, "link.py").refused == "outside the repository"
    assert read_source(root, ".env").refused.startswith("a secret file")
    assert read_source(root, "env_link.txt").refused.startswith("a secret file")
    assert read_source(root, "blob.py").refused == "a binary file"
    assert read_source(root, "missing.py").refused == "no such file"
    assert read_source(root, "blob.py", max_bytes=3).refused == "larger than 3 bytes"


def test_the_local_and_odoo_agents_use_the_core_reader():
    import gitorch_local.tools

    assert gitorch_local.tools.SourceLines is SourceLines
    agent = Path(__file__).resolve().parents[2] / "plugins/gitorch-odoo/src/gitorch_odoo/agent.py"
    text = agent.read_text()
    assert "from gitorch.services.source import SourceLines" in text and "class _Lines" not in text
