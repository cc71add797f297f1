"""Helpers of gitorch-odoo's tests: the real OCA modules, fixture modules, the gitorch command line."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
TOOLS = Path(os.environ.get("GITORCH_ODOO_TOOLS") or REPO_ROOT / ".ci" / ".odoo-tools")
ADDONS = Path(os.environ.get("GITORCH_ODOO_ADDONS") or REPO_ROOT / ".ci" / ".odoo-addons")
SETUP_HINT = "run `bash .ci/install-odoo`"


def tools_bin() -> Path | None:
    """The bin directory holding oca-checks-odoo-module, or None."""
    candidate = TOOLS / "bin"
    return candidate if (candidate / "oca-checks-odoo-module").is_file() else None


def addon_wheel(name: str) -> Path:
    """The cached wheel of OCA module ``name`` (technical name), or skip."""
    found = sorted(ADDONS.glob(f"odoo_addon_{name}-*.whl"))
    if not found:
        pytest.skip(f"the wheel of the OCA module {name} is not in {ADDONS} ({SETUP_HINT})")
    return found[-1]


def extract_addon(name: str, dest: Path) -> Path:
    """Unpack module ``name`` from its wheel into ``dest/<name>``; returns that directory."""
    wheel = addon_wheel(name)
    prefix = f"odoo/addons/{name}/"
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith(prefix) and not member.endswith("/"):
                target = dest / name / member[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))
    return dest / name


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def git_commit_all(root: Path, message: str = "add modules") -> None:
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True)


def gitorch(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess:
    """The real ``gitorch`` command line, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "gitorch", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


# A small module with known problems, one of each kind the tests look for.
MANIFEST = """\
{
    "name": "Demo",
    "version": "19.0.1.0.0",
    "license": "AGPL-3",
    "author": "Odoo Community Association (OCA)",
    "depends": ["base"],
    "data": ["security/ir.model.access.csv", "views/demo_views.xml"],
    "installable": True,
}
"""
MODELS = """\
from odoo import fields, models


class DemoThing(models.Model):
    _name = "demo.thing"
    _description = "Demo thing"

    name = fields.Char(string="Name")
    partner_id = fields.Many2one("res.partner")

    def total(self, where):
        self.env.cr.execute("SELECT id FROM demo_thing WHERE %s" % where)
        self.env.cr.commit()
        return self.sudo().search([])


class DemoOrphan(models.Model):
    _name = "demo.orphan"
    _description = "Nobody may read me"


class PartnerExtension(models.Model):
    _inherit = "res.partner"
"""
ACCESS = """\
id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink
access_demo_thing,demo.thing,model_demo_thing,base.group_user,1,1,1,1
"""
VIEWS = """\
<?xml version="1.0" encoding="utf-8" ?>
<odoo>
    <record model="ir.ui.view" id="demo_thing_form">
        <field name="model">demo.thing</field>
        <field name="arch" type="xml">
            <form><field name="name" /></form>
        </field>
    </record>
</odoo>
"""
DEMO_MODULE = {
    "__init__.py": "from . import models\n",
    "__manifest__.py": MANIFEST,
    "models/__init__.py": "from . import demo\n",
    "models/demo.py": MODELS,
    "security/ir.model.access.csv": ACCESS,
    "views/demo_views.xml": VIEWS,
}


def demo_module(root: Path, where: str = "addons/demo") -> Path:
    write_files(root / where, DEMO_MODULE)
    return root / where
