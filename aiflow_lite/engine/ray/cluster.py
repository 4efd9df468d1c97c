"""The scheduler's side of a Ray cluster: connecting to `ray_address` (one line for each way
that fails), and the home's owner actor (see `owner`), found by its name or started."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any, List

from aiflow_lite.config import Settings
from aiflow_lite.errors import AiflowError

#: The Ray namespace of aiflow_lite's actors; an owner's name is per home.
RAY_NAMESPACE = "aiflow_lite"
OWNER_VERSION = 2  # in the owner's name: an owner of another version is never reused
CONNECT_TIMEOUT_S = 30.0  # ray.init of an address that answers, but not as Ray, never ends


def owner_name(home: str) -> str:
    digest = hashlib.sha256(os.path.realpath(home).encode()).hexdigest()[:16]
    return f"aiflow_lite-v{OWNER_VERSION}-{digest}"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise AiflowError("task_executor: ray needs the ray package: "
                          "pip install 'aiflow_lite[ray]'") from None
    return ray


def connect(settings: Settings) -> Any:
    """ray, connected to `ray_address` (one line saying what is wrong if it cannot be)."""
    ray = import_ray()
    if not ray.is_initialized():
        address = settings.ray_address
        _probe(address)
        failed: List[BaseException] = []

        def init() -> None:
            try:
                ray.init(address=address, namespace=RAY_NAMESPACE, log_to_driver=False,
                         logging_level="ERROR", include_dashboard=False)
            except BaseException as exc:  # ConnectionError, a cluster of another Ray version
                failed.append(exc)

        # In a thread: an address that accepts connections but is not a Ray head (another
        # server on that port) keeps ray.init waiting for good.
        connecting = threading.Thread(target=init, daemon=True, name="aiflow-ray-connect")
        connecting.start()
        connecting.join(CONNECT_TIMEOUT_S)
        if connecting.is_alive() or failed:
            why = (f"no answer within {CONNECT_TIMEOUT_S:g} s" if not failed else
                   (str(failed[0]).strip().splitlines() or [type(failed[0]).__name__])[0])
            raise AiflowError(f"cannot reach the Ray cluster at ray_address {address!r} "
                              f"({why}); start one with `ray start --head` or set "
                              "ray_address")
    return ray


def _probe(address: str) -> None:
    """Fail at once on a host:port nobody listens at (ray.init retries a dead address for
    minutes)."""
    import socket

    host, _, port = str(address).rpartition(":")
    if not host or not port.isdigit() or "://" in host:
        return  # auto, or a ray:// address: Ray's own checks
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise AiflowError(f"cannot reach the Ray cluster at ray_address {address!r} "
                          f"({exc.strerror or exc}); start one with `ray start --head` or "
                          "set ray_address") from None


def get_owner(ray: Any, home: str) -> Any:
    """The home's owner actor, started on the head node if it is not running."""
    from aiflow_lite.engine.ray.owner import TaskOwner

    return ray.remote(TaskOwner).options(
        name=owner_name(home), namespace=RAY_NAMESPACE, lifetime="detached",
        get_if_exists=True, num_cpus=0, max_restarts=0, max_concurrency=100_000,
        resources={"node:__internal_head__": 0.001}).remote(home)
