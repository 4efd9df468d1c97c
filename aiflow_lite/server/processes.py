"""The two server processes of the spec.

* `python -m aiflow_lite.server.processes aiflow` — `aiflow server start`: the home's scheduler
  and executor, plus the rpc server on `rpc_host:rpc_port` serving the operations and the
  notification service (the spec's AIFlow server embeds the notification server).
* `python -m aiflow_lite.server.processes notification` — `notification server start`: the
  notification service alone on `server_host:server_port`.

Each writes where it listens to `<home>/<name>.addr` once the port is bound (so `start -d` can
wait for the port, and clients of an ephemeral port can find it), holds a lock so a second one
on the same home refuses, and stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from typing import Callable, Optional

from aiflow_lite.config import Settings, load_aiflow_settings, load_notification_settings
from aiflow_lite.engine.lock import (
    acquire,
    notification_lock_path,
    running_notification_server_pid,
)
from aiflow_lite.errors import AiflowError
from aiflow_lite.server.grpc_server import RpcServer, write_address_file
from aiflow_lite.signal_wakeup import SignalWakeup

log = logging.getLogger(__name__)

AIFLOW_ADDRESS_FILE = "aiflow_server.addr"
NOTIFICATION_ADDRESS_FILE = "notification_server.addr"


def _on_signals(stop: Callable[[], None]) -> None:
    def handler(signum: int, frame: object) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_aiflow_server() -> None:
    from aiflow_lite.engine.runner import SchedulerService

    settings = load_aiflow_settings()
    service = SchedulerService(settings)  # takes the scheduler lock first
    address_file = os.path.join(settings.home, AIFLOW_ADDRESS_FILE)
    try:
        rpc = RpcServer(settings, settings.rpc_host, settings.rpc_port,
                        with_ops=True)
    except BaseException:
        service.close()
        raise

    def stop() -> None:
        service.stopping.set()
        service.wake.interrupt()

    _on_signals(stop)
    write_address_file(address_file, rpc.address)
    log.info("AIFlow server for %s: scheduler pid %d, rpc on %s%s", settings.home, os.getpid(),
             rpc.address, " (TLS)" if rpc.tls else "")
    try:
        service.run()
    finally:
        _remove(address_file)
        try:
            rpc.stop()
        finally:
            service.close()  # the executor and its fork server, whatever the rpc side did
            log.info("AIFlow server stopped")


def run_notification_server() -> None:
    settings = load_notification_settings()
    os.makedirs(settings.home, exist_ok=True)
    lock_fd = acquire(notification_lock_path(settings))
    if lock_fd is None:
        raise AiflowError(f"a notification server already runs for {settings.home} (pid "
                          f"{running_notification_server_pid(settings)}); stop it with "
                          "`notification server stop`")
    address_file = os.path.join(settings.home, NOTIFICATION_ADDRESS_FILE)
    try:
        _apply_retention(settings)
        rpc = RpcServer(settings, settings.server_host, settings.server_port,
                        with_ops=False)
        stopped: list = []  # a flag, not an Event: see aiflow_lite.signal_wakeup
        wakeup = SignalWakeup()  # a SIGTERM landing on a gRPC thread still wakes us
        try:
            _on_signals(lambda: stopped.append(True))
            write_address_file(address_file, rpc.address)
            log.info("notification server for %s: pid %d, on %s%s", settings.db_path,
                     os.getpid(), rpc.address, " (TLS)" if rpc.tls else "")
            while not stopped:
                if not wakeup.wait(RETENTION_EVERY_S):
                    _apply_retention(settings)  # remote clients never prune: the server does
        finally:
            wakeup.close()
            _remove(address_file)
            rpc.stop()
            log.info("notification server stopped")
    finally:
        os.close(lock_fd)


#: How often a notification server prunes expired events (its clients are remote and do not).
RETENTION_EVERY_S = 600.0


def _apply_retention(settings: Settings) -> None:
    from aiflow_lite.home import open_database
    from aiflow_lite.ns.event_log import EventLog

    try:
        with open_database(settings) as db:
            EventLog(db, wake=False).apply_retention(settings.history_retention_ms)
    except Exception:  # a busy or briefly unavailable database: next round
        log.exception("retention failed; retrying in %.0fs", RETENTION_EVERY_S)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def main(argv: Optional[list] = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    role = args[0] if args else ""
    runners = {"aiflow": run_aiflow_server, "notification": run_notification_server}
    if role not in runners:
        print("usage: python -m aiflow_lite.server.processes aiflow|notification",
              file=sys.stderr)
        sys.exit(2)
    try:
        runners[role]()
    except AiflowError as exc:
        print(f"Error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(1)
    # Stopped cleanly. Exit now: a call still waiting for the database lock (up to
    # busy_timeout_ms) would otherwise hold the interpreter's exit, which joins pool threads.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
