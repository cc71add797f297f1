"""Finding Odoo modules by their __manifest__.py, and checking that their files parse."""

from __future__ import annotations

from pathlib import Path

from gitorch_odoo.modules import enclosing_module, find_modules, has_module, module_of, under
from gitorch_odoo.syntax import check_modules, parse_error
from odoohelpers import demo_module, write_files


def test_modules_are_found_by_their_manifest_and_sorted(tmp_path):
    demo_module(tmp_path, "addons/b_mod")
    demo_module(tmp_path, "addons/a_mod")
    write_files(
        tmp_path,
        {
            "addons/not_a_module/x.py": "x = 1\n",
            ".hidden/h/__manifest__.py": "{}",
            "venv/v/__manifest__.py": "{}",
        },
    )
    modules = find_modules(tmp_path, ".", ["venv"])
    assert [m.path for m in modules] == ["addons/a_mod", "addons/b_mod"]
    assert modules[0].name == "a_mod" and modules[0].series == "19.0" and modules[0].installable


def test_has_module_agrees_with_find_modules(tmp_path):
    write_files(tmp_path, {".hidden/h/__manifest__.py": "{}", "venv/v/__manifest__.py": "{}", "app/x.py": ""})
    assert not has_module(tmp_path, ".", ["venv"]) and not find_modules(tmp_path, ".", ["venv"])
    assert has_module(tmp_path, ".", [])  # venv/ not excluded
    demo_module(tmp_path, "addons/demo")
    assert has_module(tmp_path, ".", ["venv"]) and has_module(tmp_path, "addons/demo/models", ["venv"])
    assert not has_module(tmp_path, "app", ["venv"]) and not has_module(tmp_path, "..", ["venv"])


def test_a_path_inside_a_module_means_that_module(tmp_path):
    demo_module(tmp_path, "addons/demo")
    [module] = find_modules(tmp_path, "addons/demo/models")
    assert module.path == "addons/demo"
    assert enclosing_module(tmp_path, tmp_path / "addons/demo/models/demo.py").path == "addons/demo"
    assert enclosing_module(tmp_path, tmp_path / "addons") is None


def test_a_module_inside_a_module_is_not_a_module(tmp_path):
    demo_module(tmp_path, "outer")
    demo_module(tmp_path, "outer/static/inner")
    assert [m.path for m in find_modules(tmp_path)] == ["outer"]


def test_the_series_comes_from_the_manifest_version(tmp_path):
    write_files(
        tmp_path,
        {
            "a/__manifest__.py": "{'version': '17.0.2.0.1'}",
            "b/__manifest__.py": "{'version': '1.0'}",
            "c/__manifest__.py": "{'version': '19.0.1.0.0', 'installable': False}",
            "d/__manifest__.py": "{'name': oops}",
        },
    )
    series = {m.name: (m.series, m.installable, bool(m.error)) for m in find_modules(tmp_path)}
    assert series == {
        "a": ("17.0", True, False),
        "b": (None, True, False),
        "c": ("19.0", False, False),
        "d": (None, True, True),
    }


def test_files_belong_to_the_deepest_module(tmp_path):
    demo_module(tmp_path, "addons/demo")
    modules = find_modules(tmp_path)
    assert module_of(modules, "addons/demo/views/demo_views.xml").name == "demo"
    assert module_of(modules, "README.md") is None
    assert under("addons/demo/x.py", "addons") and under("x.py", ".") and not under("addons2/x.py", "addons")


def test_parse_errors_are_found_with_their_line(tmp_path):
    assert parse_error("a.py", b"def f(:\n") == (1, "Python syntax error: invalid syntax")
    assert parse_error("a.xml", b"<odoo>\n<record>\n</odoo>")[0] == 3
    assert parse_error("a.csv", b"id,name\nx,y,z\n") == (2, "CSV row has 3 columns, the header 2")
    assert "not a literal dictionary" in parse_error("__manifest__.py", b"{'a': f()}")[1]
    assert parse_error("a.py", b"x = 1\n") is None and parse_error("a.js", b"{{{") is None
    demo_module(tmp_path, "addons/demo")
    (tmp_path / "addons/demo/views/broken.xml").write_text("<odoo><record></odoo>\n")
    checked, errors = check_modules(tmp_path, find_modules(tmp_path), [])
    assert checked == 7
    assert [str(e).split(":")[0] for e in errors] == ["addons/demo/views/broken.xml"]


def test_the_real_modules_parse(tmp_path):
    from odoohelpers import extract_addon

    extract_addon("l10n_es_aeat", tmp_path)
    checked, errors = check_modules(tmp_path, find_modules(tmp_path), [])
    assert checked > 50 and errors == []
    assert Path(tmp_path / "l10n_es_aeat/__manifest__.py").is_file()
