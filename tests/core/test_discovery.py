from pathlib import Path

from gitorch.audit.discovery import discover, excluded_dir, iter_source_files
from gitorch.config import Config


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_excludes_match_a_bare_name_at_any_depth_and_a_path_from_the_root(tmp_path):
    _tree(
        tmp_path,
        {
            "pkg/app.py": "a = 1\n",
            "pkg/sample/bad.py": "b = 1\n",
            "sample/top.py": "c = 1\n",
            "tests/data/gen.py": "d = 1\n",
            "tests/test_x.py": "e = 1\n",
            "build/out.py": "f = 1\n",
            "pkg/build/out.py": "g = 1\n",
        },
    )
    exclude = ["build", "pkg/sample", "tests/data/"]
    found = sorted(p.as_posix() for p in iter_source_files(tmp_path, ".", exclude))
    assert found == ["pkg/app.py", "sample/top.py", "tests/test_x.py"]
    assert excluded_dir("pkg/sample/deeper", exclude) and not excluded_dir("pkg/samples", exclude)


def test_the_line_count_skips_excluded_paths(tmp_path):
    _tree(tmp_path, {"app.py": "x = 1\ny = 2\n", "vendor/lib/big.py": "z = 1\n" * 50})
    assert discover(tmp_path, ".", Config()).loc == 52
    assert discover(tmp_path, ".", Config(exclude=["vendor/lib"])).loc == 2
