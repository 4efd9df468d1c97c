"""The Ray executor (`task_executor: ray`): each claimed try runs as a Ray task on a Ray cluster
(`ray_address`), owned by the home's detached owner actor (see `ray.owner`).

Exactly once, as with the local executor: the scheduler claims a try in the database first
(QUEUED → RUNNING, naming the owner actor it goes to), then submits it under its key
`<task execution id>.<try>`. A scheduler that dies between the two finds, on restart, the claim
and no such key at that same owner: the try never started, and is submitted now; a key the
owner knows is adopted, never started again. A claim naming an owner that is gone (the head
node was lost) is a lost attempt, reported FAILED and retried per the task's retries, as is a
try whose node or Ray worker was lost. The owner keeps each outcome until its report has
committed here (`forget`), so a result is never lost while no scheduler listens.

The owner's news reaches the scheduler through a thread that long-polls it and wakes the
scheduler's loop through a pipe (`wake_fd`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from aiflow_lite.config import Settings
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.executor_base import (
    RAY_CLAIM_PREFIX,
    SENDER,
    WORKER,
    ExecutorBase,
    still_running_elsewhere,
)
from aiflow_lite.engine.launch.protocol import Order
from aiflow_lite.engine.launch.results import discard_results, find_result, results_dir
from aiflow_lite.engine.ray.node_task import ray_dir
from aiflow_lite.errors import AiflowError
from aiflow_lite.events import now_ms, task_status_key
from aiflow_lite.meta import TaskExecutionMeta
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.procfs import process_start_time
from aiflow_lite.status import TaskStatus

#: The Ray namespace of aiflow_lite's actors; an owner's name is per home.
RAY_NAMESPACE = "aiflow_lite"
OWNER_VERSION = 2  # in the owner's name: an owner of another version is never reused
CLAIM_PREFIX = RAY_CLAIM_PREFIX
NEWS_WAIT_S = 5.0
CONNECT_TIMEOUT_S = 30.0  # ray.init of an address that answers, but not as Ray, never ends
SUBMIT_TIMEOUT_S = 10.0  # an owner slower than that to take orders is asked again later
RESEND_S = 0.5
IN_FLIGHT = (TaskStatus.RUNNING.value, TaskStatus.STOPPING.value)
log = logging.getLogger(__name__)


def owner_name(home: str) -> str:
    digest = hashlib.sha256(os.path.realpath(home).encode()).hexdigest()[:16]
    return f"aiflow_lite-v{OWNER_VERSION}-{digest}"


def try_key(task_execution_id: int, try_number: int) -> str:
    return f"{task_execution_id}.{try_number}"


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


@dataclass
class _Try:
    task_execution_id: int
    try_number: int
    kill_at: Optional[float] = None
    reported: bool = False  # the executor already reported its result (a heartbeat loss)

    @property
    def key(self) -> str:
        return try_key(self.task_execution_id, self.try_number)


class RayExecutor(ExecutorBase):
    def __init__(self, settings: Settings, store: ExecutionStore, events: EventLog) -> None:
        super().__init__(settings, store, events)
        self.parallelism = max(1, settings.ray_executor_parallelism)
        self.options = {"num_cpus": settings.ray_task_num_cpus}
        self.heartbeat_timeout_s = settings.task_heartbeat_timeout
        self.heartbeat_check_s = settings.task_executor_heartbeat_check_interval
        self._next_heartbeat_check = 0.0
        self.tries: Dict[int, _Try] = {}
        os.makedirs(results_dir(settings.home), exist_ok=True)
        os.makedirs(ray_dir(settings.home), exist_ok=True)  # node_task's sign of the home
        self.ray = connect(settings)
        self.owner: Optional[Any] = get_owner(self.ray, settings.home)  # None: to be renewed
        self.owner_id = self.owner._actor_id.hex()
        self._unsent: Dict[str, Order] = {}  # key → claimed order the owner has not taken yet
        self._next_send = 0.0
        self._seq = 0
        self._generation = 0  # of the owner handle: a listener of an older one is ignored
        self._news: Dict[str, tuple] = {}  # key → outcome, taken in by the listener
        self._reported: Dict[str, int] = {}  # key → task execution id: reported, not applied
        self._owner_lost: Optional[str] = None
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)  # a full pipe has woken the scheduler already
        self._closing = threading.Event()
        self._listener: Optional[threading.Thread] = None

    # -- launching ----------------------------------------------------------------------------

    def _order(self, meta: TaskExecutionMeta) -> Optional[Order]:
        """A Ray try is claimed with pid 0 (no process runs it yet): its heartbeats match that."""
        order = super()._order(meta)
        return None if order is None else dataclasses.replace(order, claim_pid=0)

    def launch_queued(self) -> List[int]:
        """Claim QUEUED tries (oldest first, up to the parallelism) in one transaction, then
        submit them (a RESTART's new execution waits for the old one to stop)."""
        if len(self.tries) >= self.parallelism or self.owner is None:
            return []
        stopping = {(m.workflow_execution_id, m.task_name)
                    for m in self.store.task_executions_in((TaskStatus.STOPPING.value,))}
        room = self.parallelism - len(self.tries)
        orders = []
        for meta in self.store.task_executions_in((TaskStatus.QUEUED.value,),
                                                  limit=room + len(stopping) + len(self.tries)):
            if len(orders) >= room:
                break
            if meta.id in self.tries or (meta.workflow_execution_id, meta.task_name) in stopping:
                continue
            order = self._order(meta)
            if order is not None:
                orders.append(order)
        if not orders:
            return []
        claimed = []
        with self.store.db.transaction():
            now = now_ms()
            for order in orders:
                if self.store.claim(order.task_execution_id, 0, CLAIM_PREFIX + self.owner_id,
                                    now, order.log_path, beating=False):
                    claimed.append(order)
                    self.events.append(
                        task_status_key(order.task_name), TaskStatus.RUNNING.value,
                        order.namespace, SENDER,
                        {"workflow_execution_id": order.workflow_execution_id,
                         "task_execution_id": order.task_execution_id}, internal=True)
        self._submit(claimed)
        return sorted(o.task_execution_id for o in claimed)

    def _submit(self, orders: List[Any]) -> None:
        """Hand claimed orders to the owner (a key it knows already is not started again)."""
        if not orders:
            return
        for order in orders:
            self.tries[order.task_execution_id] = _Try(order.task_execution_id, order.try_number)
            self._unsent[try_key(order.task_execution_id, order.try_number)] = order
        self._start_listener()
        self._next_send = 0.0
        self._send()

    def _send(self) -> None:
        """Hand the owner the orders it has not taken. An owner that does not take them now
        (unavailable, slow, a try of a reset home still holding a key) is asked again a round
        later, never given up for that: only an owner that is certainly gone loses its tries."""
        if not self._unsent or self.owner is None or self._owner_lost is not None or \
                time.monotonic() < self._next_send:
            return
        batch = [(key, order.encode(), self.options) for key, order in self._unsent.items()]
        ray_errors = self.ray.exceptions
        try:
            busy = self.ray.get(self.owner.submit.remote(batch), timeout=SUBMIT_TIMEOUT_S)
        except ray_errors.ActorUnavailableError:
            busy = None
        except ray_errors.RayActorError as exc:
            self._lose_owner(f"its Ray owner actor died ({type(exc).__name__})")
            return
        except ray_errors.RayError as exc:  # no answer in time, the GCS restarting
            busy = None
            if not isinstance(exc, ray_errors.GetTimeoutError):  # the scheduler's log says why
                log.warning("the Ray owner actor did not take %d tries (%s): asking again",
                            len(batch), type(exc).__name__)
        if busy is None:
            if self._owner_gone():
                self._lose_owner("its Ray owner actor is gone")
                return
            busy = [key for key, _, _ in batch]
        for key, _, _ in batch:
            if key not in busy:
                del self._unsent[key]
        self._next_send = time.monotonic() + RESEND_S

    def _owner_gone(self) -> bool:
        """Whether the home's owner actor is certainly not the one we hold: no actor has its
        name, or another one does. A lookup that fails otherwise (the GCS slow or restarting)
        says nothing."""
        try:
            found = self.ray.get_actor(owner_name(self.settings.home), namespace=RAY_NAMESPACE)
        except ValueError:  # no such actor
            return True
        except Exception:
            return False
        return found._actor_id.hex() != self.owner_id

    # -- stopping -----------------------------------------------------------------------------

    def stop(self, task_execution_id: int) -> None:
        """SIGTERM the try's process group on its node now, SIGKILL once its stop timeout has
        passed."""
        attempt = self.tries.get(task_execution_id)
        if attempt is None:
            return  # no Ray task holds it
        if self._unsent.pop(attempt.key, None) is not None:  # the owner never took it
            with self._lock:
                self._news[attempt.key] = ("STOPPED", "stopped before it reached Ray", True)
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self._wake_w, b"!")
            return
        self.owner.signal.remote(attempt.key, signal.SIGTERM)
        if attempt.kill_at is None:
            attempt.kill_at = time.monotonic() + self._stop_timeout(task_execution_id)

    # -- watching -----------------------------------------------------------------------------

    def _start_listener(self) -> None:
        if self._listener is None:
            self._listener = threading.Thread(target=self._listen, daemon=True,
                                              args=(self.owner, self._generation),
                                              name="aiflow-ray-news")
            self._listener.start()

    def _listen(self, owner: Any, generation: int) -> None:
        """Long-poll `owner` for ended tries; wake the scheduler for each batch. Once the owner
        was renewed (a newer generation), what this listener hears is ignored."""
        while not self._closing.is_set() and generation == self._generation:
            try:
                seq, ended = self.ray.get(owner.changes.remote(self._seq, NEWS_WAIT_S))
            except self.ray.exceptions.ActorUnavailableError:
                if not self._owner_gone():  # not dead: ask again
                    time.sleep(RESEND_S)
                    continue
                self._lose_owner("its Ray owner actor is gone", generation)
                return
            except self.ray.exceptions.RayActorError as exc:
                self._lose_owner(f"its Ray owner actor died ({type(exc).__name__})", generation)
                return
            except Exception:  # the driver shutting down, a GCS blip
                if self._closing.is_set():
                    return
                time.sleep(RESEND_S)
                continue
            with self._lock:
                if generation != self._generation:
                    return
                self._seq = max(self._seq, seq)
                self._news.update(ended)
            if ended:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.write(self._wake_w, b"!")

    def _lose_owner(self, why: str, generation: Optional[int] = None) -> None:
        """Every try of the owner died with it (`generation`: of the listener that saw it; an
        older owner's loss is old news)."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._owner_lost = why
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"!")

    def reap(self) -> int:
        """Report every try that ended (its result, or its loss), in one transaction; then
        tell the owner they are committed. Returns how many ended."""
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._wake_r, 4096):
                pass
        if self.owner is None:
            self._renew_owner()
        self._send()
        self._check_heartbeats()
        for attempt in self.tries.values():
            if attempt.kill_at is not None and time.monotonic() >= attempt.kill_at:
                self.owner.signal.remote(attempt.key, signal.SIGKILL)
                attempt.kill_at = None
        with self._lock:
            news, self._news = self._news, {}
            lost, self._owner_lost = self._owner_lost, None
        ended = []
        for key, outcome in news.items():
            task_execution_id = int(key.split(".")[0])
            attempt = self.tries.get(task_execution_id)
            if attempt is not None and attempt.key == key:
                del self.tries[task_execution_id]
                ended.append((attempt, outcome))
        if lost is not None:  # every try it owned died with it
            ended += [(a, ("FAILED", why_lost(lost), True)) for a in self.tries.values()]
            self.tries.clear()
            self._unsent.clear()
        if ended:
            with self.store.db.transaction():
                for attempt, outcome in ended:
                    self._report_outcome(attempt, outcome)
            for attempt, _ in ended:  # committed: the worker's result file has done its job
                discard_results(self.settings.home, attempt.task_execution_id,
                                attempt.try_number)
        self._forget_applied()
        self._reported.update((key, int(key.split(".")[0])) for key in news)
        if lost is not None:
            self._renew_owner()
        return len(ended)

    def _forget_applied(self) -> None:
        """Let the owner drop the tries whose reported outcome the scheduler has applied (the
        try is no longer in flight). Not sooner: a scheduler killed between the report's
        commit and its application restarts with the try RUNNING, and an owner that had
        forgotten the key would make it look never submitted, and run it again."""
        if not self._reported:
            return
        done = []
        for key, task_execution_id in self._reported.items():
            meta = self.store.get_task_execution(task_execution_id)
            if meta is None or try_key(meta.id, meta.try_number) != key or \
                    meta.status not in IN_FLIGHT:
                done.append(key)
        for key in done:
            del self._reported[key]
        if done and self.owner is not None:
            self.owner.forget.remote(done)

    def _report_outcome(self, attempt: _Try, outcome: tuple) -> None:
        status, message, was_lost = outcome
        meta = self.store.get_task_execution(attempt.task_execution_id)
        if attempt.reported or meta is None or meta.try_number != attempt.try_number or \
                meta.status not in IN_FLIGHT:
            return
        if was_lost:  # the Ray task was; the worker may have left its result before
            found = find_result(self.settings.home, meta.id, meta.try_number)
            if found is not None:
                self.report(meta.id, meta.try_number, found[0], found[1], sender=WORKER)
                return
            status = (TaskStatus.STOPPED.value if meta.status == TaskStatus.STOPPING.value
                      else TaskStatus.FAILED.value)
        elif status == TaskStatus.QUEUED.value:  # its worker did not run it (its key is used)
            status, message = TaskStatus.FAILED.value, f"its worker did not start it ({message})"
        self.report(meta.id, meta.try_number, TaskStatus(status), message,
                    sender=SENDER if was_lost else WORKER)

    def _renew_owner(self) -> None:
        """A new owner for the next tries (tried again each round while Ray cannot make one)."""
        try:
            self.owner = get_owner(self.ray, self.settings.home)
        except Exception:  # the GCS down or restarting
            self.owner = None
            return
        self.owner_id = self.owner._actor_id.hex()
        with self._lock:
            self._generation += 1
            self._seq = 0
            self._news.clear()
        self._listener = None

    def _check_heartbeats(self) -> None:
        """A try whose heartbeats stopped (hung, frozen) is killed and reported FAILED."""
        now = time.monotonic()
        if now < self._next_heartbeat_check:
            return
        self._next_heartbeat_check = now + self.heartbeat_check_s
        limit_ms = self.heartbeat_timeout_s * 1000
        wall = now_ms()
        for attempt in list(self.tries.values()):
            meta = self.store.get_task_execution(attempt.task_execution_id)
            if attempt.reported or meta is None or meta.status != TaskStatus.RUNNING.value or \
                    meta.heartbeat_time is None or wall - meta.heartbeat_time <= limit_ms:
                continue
            self.owner.signal.remote(attempt.key, signal.SIGKILL)
            self.report(meta.id, meta.try_number, TaskStatus.FAILED,
                        f"no heartbeat for {(wall - meta.heartbeat_time) / 1000:.0f}s "
                        f"(task_heartbeat_timeout is {self.heartbeat_timeout_s:g}s)")
            attempt.reported = True

    # -- after a restart ----------------------------------------------------------------------

    def recover(self, heartbeat_timeout_s: float) -> None:
        """Adopt the tries the owner still holds; submit those claimed but never submitted
        (this owner, no such key); report those whose owner is gone; drop the owner's tries
        that the database no longer has in flight (a reset home, a try already reported)."""
        in_flight = self.store.task_executions_in(IN_FLIGHT)
        local = [m for m in in_flight if _runs_locally(*self.store.process_of(m.id))]
        if local:
            raise still_running_elsewhere(len(local), "on this machine's local executor",
                                          "let them end with task_executor: local")
        try:
            seq, known = self.ray.get(self.owner.state.remote())
        except self.ray.exceptions.RayError as exc:  # it could not be made (its class)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:300]
            raise AiflowError(f"the home's Ray owner actor did not start on the head node "
                              f"({first}); is aiflow_lite installed there, for the same "
                              "Python?") from None
        wanted, resubmit = set(), []
        for meta in in_flight:
            key = try_key(meta.id, meta.try_number)
            _, claim = self.store.process_of(meta.id)
            if key in known:
                wanted.add(key)
                self.tries[meta.id] = _Try(meta.id, meta.try_number)
                if known[key] is not None:
                    self._news[key] = known[key]
                elif meta.status == TaskStatus.STOPPING.value:
                    self.stop(meta.id)
            elif claim == CLAIM_PREFIX + self.owner_id and \
                    meta.status == TaskStatus.RUNNING.value:
                order = self._order(meta)
                if order is not None:
                    resubmit.append(order)
            else:
                self._report_lost(meta, claim)
        stale = [key for key in known if key not in wanted]
        for key in stale:
            if known[key] is None:
                self.owner.signal.remote(key, signal.SIGKILL)
        if stale:
            self.owner.forget.remote(stale)
        self._sweep_meeting_files(set(known))
        self._seq = seq
        self._start_listener()
        self._submit(resubmit)
        if self._news:
            os.write(self._wake_w, b"!")

    def _sweep_meeting_files(self, known: set) -> None:
        """Remove the files of tries this owner does not hold (see `node_task`): left by an
        owner that died, or by a home whose database was reset. Only keys it holds get new
        ones, and none is submitted before this ends."""
        folder = ray_dir(self.settings.home)
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            key = name.rsplit(".", 1)[0]
            if key not in known:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))

    def _report_lost(self, meta: TaskExecutionMeta, claim: Optional[str]) -> None:
        if claim and claim.startswith(CLAIM_PREFIX):
            why = "its Ray owner actor was gone when the scheduler restarted (the head node?)"
        else:
            why = "it was not running on Ray when the scheduler restarted with task_executor: ray"
        self.report(meta.id, meta.try_number,
                    TaskStatus.STOPPED if meta.status == TaskStatus.STOPPING.value
                    else TaskStatus.FAILED, why)

    def active(self) -> int:
        return len(self.tries)

    def wake_fd(self) -> Optional[int]:
        return self._wake_r

    def shutdown(self) -> None:
        """Leave the tries running: the owner keeps them, a restarted scheduler adopts them.
        With none in flight, the owner goes too (a home's run-once leaves no actor behind)."""
        self._closing.set()
        with contextlib.suppress(Exception):
            if self.owner is not None and not self.tries and \
                    not self.store.task_executions_in(IN_FLIGHT):
                self.ray.kill(self.owner)
        with contextlib.suppress(Exception):
            self.ray.shutdown()
        if self._listener is not None:  # before its wake-up pipe closes under it
            self._listener.join(NEWS_WAIT_S + 1)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


def _runs_locally(pid: Optional[int], claim: Optional[str]) -> bool:
    """A try claimed by the local executor whose worker still runs."""
    return bool(pid and claim and not claim.startswith(CLAIM_PREFIX) and
                process_start_time(pid) == claim)


def why_lost(owner_lost: str) -> str:
    return f"{owner_lost}: every try it owned died with it"

