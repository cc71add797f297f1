"""The vault (gitorch.vcs.vault): copies taken incrementally, every change seen, put back byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

from gitorch.vcs.vault import Area, Vault


def tree(root: Path) -> dict[str, tuple[bytes, int, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() or path.is_symlink():
            st = path.lstat()
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            out[path.relative_to(root).as_posix()] = (data, st.st_mode, st.st_mtime_ns)
    return out


def make(root: Path) -> None:
    (root / "a").mkdir(parents=True)
    (root / "a" / "one.txt").write_text("one\n")
    (root / "big.bin").write_bytes(os.urandom(5000))
    (root / "skip").mkdir()
    (root / "skip" / "x").write_text("not watched\n")
    os.symlink("a/one.txt", root / "link")


def test_every_kind_of_change_is_seen_and_put_back(tmp_path):
    root = tmp_path / "root"
    make(root)
    before_tree = tree(root)
    vault = Vault(tmp_path / "store", [Area("r", root, skip=lambda rel: rel == "skip")])
    before = vault.refresh()
    assert vault.changes(before) == []
    (root / "a" / "one.txt").write_text("changed\n")
    (root / "big.bin").chmod(0o700)
    (root / "link").unlink()
    os.symlink("/etc/passwd", root / "link")
    (root / "new.txt").write_text("new\n")
    (root / "skip" / "x").write_text("changed, but not watched\n")
    changed = vault.changes(before)
    assert changed == ["r/a/one.txt", "r/big.bin", "r/link", "r/new.txt"]
    done = vault.restore(before, changed, tmp_path / "displaced")
    assert sorted(done.restored) == ["r/a/one.txt", "r/big.bin", "r/link"] and done.removed == ["r/new.txt"]
    after = tree(root)
    assert {k: v for k, v in after.items() if not k.startswith("skip/")} == {
        k: v for k, v in before_tree.items() if not k.startswith("skip/")
    }
    assert (tmp_path / "displaced" / "r" / "a" / "one.txt").read_text() == "changed\n"  # nothing lost
    assert (tmp_path / "displaced" / "r" / "new.txt").read_text() == "new\n"


def test_a_deleted_file_and_a_directory_put_in_its_place_come_back(tmp_path):
    root = tmp_path / "root"
    make(root)
    vault = Vault(tmp_path / "store", [Area("r", root)])
    before = vault.refresh()
    (root / "a" / "one.txt").unlink()
    (root / "big.bin").unlink()
    (root / "big.bin").mkdir()
    (root / "big.bin" / "inside").write_text("x")
    changed = vault.changes(before)
    done = vault.restore(before, changed, tmp_path / "displaced")
    assert (root / "a" / "one.txt").read_text() == "one\n" and (root / "big.bin").is_file()
    assert not done.lost


def test_copies_are_taken_again_only_for_files_that_changed(tmp_path):
    root = tmp_path / "root"
    make(root)
    vault = Vault(tmp_path / "store", [Area("r", root)])
    vault.refresh()
    kept = tmp_path / "store" / "r" / "big.bin"
    first = kept.stat().st_ino
    (root / "a" / "one.txt").write_text("changed\n")
    vault.refresh()
    assert kept.stat().st_ino == first  # not copied again
    assert (tmp_path / "store" / "r" / "a" / "one.txt").read_text() == "changed\n"


def test_a_file_over_the_limits_is_watched_but_cannot_be_put_back(tmp_path):
    root = tmp_path / "root"
    make(root)
    vault = Vault(tmp_path / "store", [Area("r", root)], max_file=1000)
    before = vault.refresh()
    assert vault.unprotected == ["r/big.bin"]
    (root / "big.bin").write_bytes(b"overwritten")
    done = vault.restore(before, vault.changes(before), tmp_path / "displaced")
    assert done.lost == ["r/big.bin"]
    assert (tmp_path / "displaced" / "r" / "big.bin").read_bytes() == b"overwritten"


def test_single_files_are_watched_whether_they_exist_or_not(tmp_path):
    vault = Vault(tmp_path / "store", [Area("home", tmp_path, files=(".gitconfig", ".config/git/config"))])
    (tmp_path / ".gitconfig").write_text("[user]\n")
    before = vault.refresh()
    (tmp_path / ".config" / "git").mkdir(parents=True)
    (tmp_path / ".config" / "git" / "config").write_text("[core]\n\thooksPath = /tmp\n")
    (tmp_path / ".gitconfig").write_text('[filter "x"]\n')
    changed = vault.changes(before)
    assert changed == ["home/.config/git/config", "home/.gitconfig"]
    vault.restore(before, changed, tmp_path / "displaced")
    assert (tmp_path / ".gitconfig").read_text() == "[user]\n"
    assert not (tmp_path / ".config" / "git" / "config").exists()
    vault.discard()
    assert not (tmp_path / "store").exists()
