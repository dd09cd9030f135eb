"""Run the CLI in-process with typer's CliRunner, against a data dir under tmp_path."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from segue.cli import app


class Segue:
    """`segue ARGS...` with SEGUE_DATA_DIR pointing at a fresh directory."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict | None = None, input: str | None = None):
        environment = {"SEGUE_DATA_DIR": str(self.data_dir), "SEGUE_DATABASE_URL": None, "SEGUE_SECRET_KEY": None, **(env or {})}
        return self.runner.invoke(app, list(args), env=environment, input=input)

    def ok(self, *args: str, env: dict | None = None, input: str | None = None):
        result = self(*args, env=env, input=input)
        assert result.exit_code == 0, result.output
        return result

    def json_lines(self, *args: str, input: str | None = None) -> list[dict]:
        return [json.loads(line) for line in self.ok(*args, "--json", input=input).stdout.splitlines()]

    def one(self, *args: str, input: str | None = None) -> dict:
        """The one JSON object `segue ARGS... --json` prints."""
        [item] = self.json_lines(*args, input=input)
        return item

    def fails(self, *args: str, input: str | None = None, env: dict | None = None) -> str:
        """stderr of a command that must end with one red `error:` line and exit status 1."""
        result = self(*args, input=input, env=env)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output
        return result.stderr

    @contextmanager
    def store(self):
        """The config store the CLI uses, opened directly (to check what the CLI did)."""
        from segue.config import Settings
        from segue.store import Store

        with Store.open(Settings.load(environ={}, data_dir=self.data_dir)) as store:
            yield store


@pytest.fixture
def segue(tmp_path):
    return Segue(tmp_path / "data")


@pytest.fixture
def web(segue) -> dict:
    """A javascript source named `web`."""
    return segue.one("sources", "create", "web", "--type", "javascript")
