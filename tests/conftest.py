"""Shared fixtures: `live_server`, a real `segue serve` process on a free port.

The server runs as a subprocess (the same interpreter, `python -m segue`) with a temporary
data dir and no inherited SEGUE_* settings. Its output goes to a log file that is attached
to the report of every failing test that used it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

# PostgreSQL for the tests that need it: one uniquely named database per test run (dropped at
# the end), one schema per test inside it. SEGUE_TEST_POSTGRES_URL points elsewhere.
POSTGRES_URL = os.environ.get("SEGUE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _server_url(database: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + database


def _admin_connection():
    import psycopg

    return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)


@contextlib.contextmanager
def fresh_database(prefix: str):
    """URL of a new, uniquely named database, dropped on exit; skips when PostgreSQL is unreachable."""
    try:
        admin = _admin_connection()
    except Exception as error:  # no driver, no server, no permission
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield _server_url(name)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_database():
    """URL of a database created for this test run."""
    with fresh_database("segue_test") as url:
        yield url


@pytest.fixture
def postgres_url(postgres_database):
    """A fresh schema in the run's database, as the connection's search_path."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_database, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return f"{postgres_database}?options=-csearch_path%3D{schema}"


HOST = "127.0.0.1"
READY_SECONDS = 30.0
ALL_EVENTS = 10_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# The tests deliver to servers on 127.0.0.1: allow private destinations in this process
# (settings built with Settings.load() from the environment) and in every `segue` subprocess.
os.environ["SEGUE_ALLOW_PRIVATE_DESTINATIONS"] = "1"


def _clean_environment(data_dir: Path) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("SEGUE_")}
    environ["SEGUE_DATA_DIR"] = str(data_dir)
    environ["SEGUE_ALLOW_PRIVATE_DESTINATIONS"] = "1"
    return environ


class LiveServer:
    """A `segue serve` subprocess: start, kill -9, restart, and read what it stored."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None

    serve_args: tuple[str, ...] = ()  # subclasses: more `segue serve` options

    @classmethod
    @contextlib.contextmanager
    def running_in(cls, work_dir: Path):
        """A started server with its data and log in `work_dir`, stopped on exit (for fixtures)."""
        server = cls(work_dir / "data", work_dir / "server.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()

    def environment(self) -> dict[str, str]:
        """The server's and its CLI's environment (subclasses add their settings)."""
        return _clean_environment(self.data_dir)

    def start(self) -> None:
        """Start the server and wait until /healthz answers 200."""
        command = [sys.executable, "-m", "segue", "serve", "--host", HOST, "--port", str(self.port), *self.serve_args]
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=self.environment())
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"segue serve exited with {self.process.returncode}:\n{self.log_tail()}")
            if self._healthy():
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"segue serve was not ready within {READY_SECONDS:.0f} s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or power loss of the process."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it hangs."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        """Stop the server if it runs (gracefully) and start it again on the same port and data dir."""
        self.stop()
        self.start()

    def cli(self, *args: str) -> str:
        """Run a `segue` command against this server's data dir; its stdout."""
        completed = subprocess.run(
            [sys.executable, "-m", "segue", *args], capture_output=True, text=True, env=self.environment(), timeout=120,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"segue {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr}")
        return completed.stdout

    def create_source(self, name: str, type: str = "python") -> dict:
        """A new source (id, name, type, write_key, ...), once the running server accepts its key."""
        source = json.loads(self.cli("sources", "create", name, "--type", type, "--json"))
        if self.process and self.process.poll() is None:
            self._wait_accepted(source["write_key"])
        return source

    def _wait_accepted(self, write_key: str) -> None:
        """Config changes reach a running server within a second; wait for that, not longer."""
        deadline = time.monotonic() + READY_SECONDS
        while self._post_empty_batch(write_key) == 401 and time.monotonic() < deadline:
            time.sleep(0.05)

    def _post_empty_batch(self, write_key: str) -> int:
        request = urllib.request.Request(
            f"{self.url}/v1/batch", data=json.dumps({"batch": [], "writeKey": write_key}).encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def events(self, source: str | None = None) -> list[dict]:
        """Every stored message (of one source), oldest first, as `segue events list --json` prints it."""
        args = ["events", "list", "--json", "--limit", str(ALL_EVENTS)]
        output = self.cli(*args, *(["--source", source] if source else []))
        return [json.loads(line) for line in output.splitlines() if line.strip()]

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no output)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory):
    """A running `segue serve`, shared by the tests of one module, stopped afterwards."""
    with LiveServer.running_in(tmp_path_factory.mktemp("segue")) as server:
        yield server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Attach the server's output to the report of a failing test that used `live_server`."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("live_server")
    if report.failed and isinstance(server, LiveServer):
        report.sections.append(("segue serve output", server.log_tail()))


CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright's own download does not work here


def mark_browser_tests(items: list[pytest.Item], folder: Path, reason: str) -> None:
    """Mark the collected tests under `folder` slow, and skip them with `reason` when Chromium is
    missing (for a conftest's `pytest_collection_modifyitems`)."""
    skip = pytest.mark.skipif(not CHROMIUM.exists(), reason=reason)
    for item in items:
        if Path(item.fspath).is_relative_to(folder):
            item.add_marker(skip)
            item.add_marker(pytest.mark.slow)


@contextlib.contextmanager
def chromium():
    """Debian's Chromium driven by sync Playwright. Packages that drive a browser (tests/app,
    tests/device) open one in a package-scoped fixture of their own conftest: a fixture defined
    here would last the whole session, and sync Playwright keeps an event loop running while it
    is open, which the async tests of other packages need."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()
