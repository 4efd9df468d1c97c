"""Real server processes for the gRPC shim's tests: started on loopback in a given home, waited
for until their port answers, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Optional

import pytest

from aiflow_lite.cli.server import port_answers


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerProcess:
    """`python -m aiflow_lite.server.processes ROLE` for `home`, with `config` written first."""

    def __init__(self, home: Path, role: str = "notification", **config: object) -> None:
        self.home = Path(home)
        self.role = role
        self.home.mkdir(parents=True, exist_ok=True)
        name = "notification_server.yaml" if role == "notification" else "aiflow_server.yaml"
        port_key = "server_port" if role == "notification" else "rpc_port"
        config.setdefault(port_key, 0)
        (self.home / name).write_text(
            "".join(f"{key}: {value}\n" for key, value in config.items()), encoding="utf-8")
        self.address_file = self.home / f"{role}_server.addr"
        self.proc: Optional[subprocess.Popen] = None
        self.address = ""

    def start(self, env: Optional[dict] = None, timeout: float = 20.0) -> ServerProcess:
        if self.address_file.exists():
            self.address_file.unlink()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aiflow_lite.server.processes", self.role],
            env={**os.environ, "AIFLOW_HOME": str(self.home), "PYTHONFAULTHANDLER": "1",
                 **(env or {})},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.address_file.exists():
                address = self.address_file.read_text().strip()
                if address and port_answers(address):
                    self.address = address
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("the server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # A bug (one was: a SIGTERM taken by a gRPC thread, see signal_wakeup): say
                # where its threads are (faulthandler dumps them on SIGABRT) in the warnings.
                self.proc.send_signal(signal.SIGABRT)
                try:
                    _, stuck = self.proc.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    _, stuck = self.proc.communicate()
                warnings.warn(f"the {self.role} server ignored SIGTERM for 20 s:\n{stuck}",
                              stacklevel=2)
                self.proc = None
                return
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None


AIFLOW = [sys.executable, "-m", "aiflow_lite"]
NOTIFICATION = [sys.executable, "-c", "from aiflow_lite.cli.notification import main; main()"]


def cli(*args: str, home: Path, check: bool = True, command: str = "aiflow"
        ) -> subprocess.CompletedProcess:
    """An `aiflow` (or `notification`) command on `home`, as a separate process."""
    environment = {**os.environ, "AIFLOW_HOME": str(home)}
    environment.pop("AIFLOW_SERVER_TOKEN", None)
    entry = AIFLOW if command == "aiflow" else NOTIFICATION
    proc = subprocess.run([*entry, *args], capture_output=True, text=True, timeout=120,
                          env=environment)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def client_home(tmp_path: Path, address: str, token: str = "") -> Path:
    """A second home that only knows the server's address (as a remote machine would)."""
    home = tmp_path / "client_home"
    home.mkdir(exist_ok=True)
    text = f"server_address: {address}\n" + (f"server_token: {token}\n" if token else "")
    (home / "aiflow_client.yaml").write_text(text, encoding="utf-8")
    return home


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
