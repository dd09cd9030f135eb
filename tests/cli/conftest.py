"""Run the CLI in-process with typer's CliRunner, against a data dir under tmp_path."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from segue.cli import app


class Segue:
    """`segue ARGS...` with SEGUE_DATA_DIR pointing at a fresh directory."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict | None = None):
        environment = {"SEGUE_DATA_DIR": str(self.data_dir), "SEGUE_DATABASE_URL": None, **(env or {})}
        return self.runner.invoke(app, list(args), env=environment)

    def ok(self, *args: str, env: dict | None = None):
        result = self(*args, env=env)
        assert result.exit_code == 0, result.output
        return result

    def json_lines(self, *args: str) -> list[dict]:
        return [json.loads(line) for line in self.ok(*args, "--json").stdout.splitlines()]


@pytest.fixture
def segue(tmp_path):
    return Segue(tmp_path / "data")
