"""The servers under test, each started as its own process on a free loopback port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
READY_SECONDS = 30.0


class TargetFailed(RuntimeError):
    """A server did not start (its log is in the message)."""


@dataclass
class Target:
    """A running server: where it listens, the write key to send, its process and log."""

    name: str
    port: int
    write_key: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def segue_command(*args: str) -> list[str]:
    """`segue ...` run with this interpreter, so the venv's install is the one measured."""
    return [sys.executable, "-m", "segue", *args]


def start_segue(work_dir: Path) -> Target:
    """`segue serve` on a fresh data dir holding one source, whose write key is used."""
    data_dir = work_dir / "segue-data"
    created = subprocess.run(
        segue_command("sources", "create", "bench", "--type", "javascript", "--json", "--data-dir", str(data_dir)),
        check=True, capture_output=True, text=True,
    )
    write_key = json.loads(created.stdout)["write_key"]
    command = segue_command("serve", "--host", HOST, "--port", "{port}", "--data-dir", str(data_dir),
                            "--allow-private-destinations")  # the delivery benchmark's sink is on 127.0.0.1
    return _start("segue", command, write_key, work_dir)


def start_baseline(work_dir: Path) -> Target:
    command = [sys.executable, "-m", "benchmarks.baseline", "--host", HOST, "--port", "{port}"]
    return _start("baseline", command, "baseline-key", work_dir)


def _start(name: str, command: list[str], write_key: str, work_dir: Path, environ: dict | None = None) -> Target:
    """Start `command` ({port} filled in) with `environ` added to this process's environment."""
    port = free_port()
    log_path = work_dir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command], stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, **(environ or {})},
        )
    target = Target(name, port, write_key, process, log_path)
    _wait_ready(target)
    return target


def _wait_ready(target: Target) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if target.process.poll() is not None:
            raise TargetFailed(f"{target.name} exited with {target.process.returncode}:\n{target.log_tail()}")
        if _healthy(target.port):
            return
        time.sleep(0.05)
    target.stop()
    raise TargetFailed(f"{target.name} was not ready within {READY_SECONDS:.0f} s:\n{target.log_tail()}")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False
