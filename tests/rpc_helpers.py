"""Real server processes for the gRPC shim's tests: started on loopback in a given home, waited
for until their port answers, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
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
            env={**os.environ, "AIFLOW_HOME": str(self.home), **(env or {})},
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
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None
