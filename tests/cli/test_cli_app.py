"""The CLI as a whole: help everywhere, `serve`, and the installed `segue` entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import typer

from segue.cli import app
from segue.config import Settings


def _commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = list(_commands(typer.main.get_command(app)))


EXPECTED_COMMANDS = {
    "serve",
    "audit",
    "sources create", "sources list", "sources show", "sources rename", "sources rotate-key",
    "sources disable", "sources enable", "sources delete",
    "events list",
    "log cursors", "log forget-node",
    "catalog list", "catalog show", "catalog docs", "catalog warehouses",
    "destinations create", "destinations list", "destinations show", "destinations update",
    "destinations enable", "destinations disable", "destinations delete", "destinations test", "destinations delivery",
    "destinations replay",
    "destinations filters list", "destinations filters create", "destinations filters enable",
    "destinations filters disable", "destinations filters delete",
    "destinations mappings list", "destinations mappings create", "destinations mappings update",
    "destinations mappings enable", "destinations mappings disable", "destinations mappings delete",
    "warehouses create", "warehouses list", "warehouses show", "warehouses update",
    "warehouses enable", "warehouses disable", "warehouses delete", "warehouses sync", "warehouses syncs", "warehouses backfill",
    "workspace show", "workspace set-plan", "workspace rename",
    "users create", "users list", "users set-role", "users set-password", "users delete",
    "tokens create", "tokens list", "tokens revoke",
    "secret-key generate",
}
# These read only the installed code, not the data dir.
WITHOUT_DATA_DIR = {"catalog list", "catalog show", "catalog docs", "catalog warehouses", "secret-key generate"}


def test_every_command_is_registered():
    assert {" ".join(path) for path, _ in COMMANDS} == EXPECTED_COMMANDS


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_every_command_has_help_and_the_common_options(segue, path, command):
    assert command.help
    output = segue.ok(*path, "--help").stdout
    assert command.help.splitlines()[0][:40] in " ".join(output.split())
    if " ".join(path) not in WITHOUT_DATA_DIR:
        assert "--data-dir" in output and "--database-url" in output


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_every_option_and_argument_has_help(path, command):
    for parameter in command.params:
        assert parameter.help, f"{' '.join(path)}: {parameter.name} has no help"


GROUPS = (
    "sources", "destinations", "destinations filters", "destinations mappings", "warehouses", "catalog", "events", "log",
    "workspace",
    "users", "tokens", "secret-key",
)


def test_groups_have_help(segue):
    output = segue.ok("--help").stdout
    for name in (*GROUPS, "serve", "audit"):
        assert name.split()[0] in output
    assert "Create and manage sources" in segue.ok("sources", "--help").stdout


@pytest.mark.parametrize("name", GROUPS)
def test_each_group_lists_its_commands(segue, name):
    output = segue.ok(*name.split(), "--help").stdout
    for path, _ in COMMANDS:
        if " ".join(path[:-1]) == name:
            assert path[-1] in output


@pytest.fixture
def fake_server(monkeypatch):
    """Replace segue.server with a module whose serve() records its settings."""
    calls: list[Settings] = []
    module = types.ModuleType("segue.server")
    module.serve = calls.append
    monkeypatch.setitem(sys.modules, "segue.server", module)
    return calls


def test_serve_passes_flags_as_settings(segue, fake_server, tmp_path):
    segue.ok("serve", "--host", "0.0.0.0", "--port", "9000", "--data-dir", str(tmp_path / "d"))
    [settings] = fake_server
    assert (settings.host, settings.port, settings.data_dir) == ("0.0.0.0", 9000, tmp_path / "d")


def test_serve_reads_host_and_port_from_the_environment(segue, fake_server):
    segue.ok("serve", env={"SEGUE_HOST": "::1", "SEGUE_PORT": "9100"})
    [settings] = fake_server
    assert (settings.host, settings.port, settings.data_dir) == ("::1", 9100, segue.data_dir)


def test_serve_defaults(segue, fake_server):
    segue.ok("serve")
    assert (fake_server[0].host, fake_server[0].port, fake_server[0].database_url) == ("127.0.0.1", 8088, None)


def _installed_segue() -> str:
    script = Path(sys.executable).parent / "segue"
    found = str(script) if script.exists() else shutil.which("segue")
    if found is None:
        pytest.skip("the segue entry point is not installed (pip install -e .)")
    return found


def test_installed_entry_point_creates_and_lists_sources(tmp_path):
    segue = _installed_segue()
    env = {**os.environ, "SEGUE_DATA_DIR": str(tmp_path / "data")}
    env.pop("SEGUE_DATABASE_URL", None)
    run = lambda *args: subprocess.run([segue, *args], env=env, capture_output=True, text=True, timeout=60)
    created = run("sources", "create", "web", "--type", "javascript", "--json")
    assert created.returncode == 0, created.stderr
    listed = run("sources", "list", "--json")
    assert json.loads(listed.stdout) == json.loads(created.stdout)
    failed = run("sources", "delete", "nope")
    assert failed.returncode == 1 and failed.stderr.startswith("error: ") and "Traceback" not in failed.stderr
