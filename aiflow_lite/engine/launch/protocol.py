"""The words the executor, the fork server, its zygotes and the workers say to each other: the
one place they are written and read.

Every message is one line of bytes: its WORD, then its fields separated by single spaces, then
b"\\n" (`encode()`); `decode(line)` reads any of them back (a ProtocolError if it names no
message or its fields do not fit). Numbers are decimal; the one field that may hold spaces
comes last (an ORDER's JSON, which escapes any newline; an UNSAFE's reason).

Who says what, in the order of a task's launch:

    executor → fork server      RUN <task> <request> <snapshot> <ORDER ...>
        Start a process for this order. `request` numbers the RUN (an answer that came too
        late is never taken for the answer to a later RUN of the same task); `snapshot` lets
        the server pick the snapshot's zygote without reading the order. The executor sends
        RUNs in batches and waits for each one's answer.
    fork server → zygote        RUN ... (the same line, relayed when the snapshot's zygote is
        READY; otherwise the server forks the child itself).
    fork server → child         ORDER <json>   (the worker's `Order`, on the child's own pipe)
    executor → spawned worker   ORDER <json>   (on its stdin)
        What the worker will run. It waits for the word (below) before running anything.
    fork server/zygote → executor   PID <task> <pid> <request>
        The answer to a RUN: the child that holds the order and waits for the word.
    fork server/zygote → executor   NOPID <task> <request>
        No child could be had for that RUN: the executor starts that order otherwise.
    (the executor claims each task execution for its pid, in one transaction)
    executor → fork server → (zygote →) child, or executor → spawned worker
                                GO <task> <pid>
        The claim is committed: run the order. `pid` 0 means "whichever child of the task".
                                DROP <task> <pid>
        The claim failed (or the answer came too late): exit without running anything.
    fork server/zygote → executor   EXIT <task> <pid> <code>
        A child ended: its exit code, or minus the signal that ended it.
    fork server → executor      LOST <task> <pid>
        The zygote that forked the child died: no EXIT will come; the executor watches the
        child by its pid from now on.
    zygote → fork server        READY
        It loaded its snapshot's workflow file: it takes RUNs from now on.
    zygote → fork server        UNSAFE <reason>
        Forking from it would be unsafe (its file started a thread, say): it exits, and the
        snapshot's tasks are forked plainly.

(A zygote's PID, NOPID and EXIT reach the executor relayed by the fork server: a zygote only
ever talks to its fork server.) Then the worker runs the task, writes its result to a file
(`results.py`) and exits; its EXIT makes the executor read that file and append the result as
a `__aiflow.task_result` event, which the scheduler applies. A worker that does not run (DROP,
an unreadable word, no claim for it) leaves a QUEUED "never started" result: if a claim for it
did commit, the executor queues the task again instead of failing it.

The end of a pipe is a message too: the fork server (and a zygote) exits at once when its
commands end, leaving its children running; a child whose pipe ends before the word asks the
database whether its claim was committed (`worker.receive`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Type, Union


class ProtocolError(ValueError):
    """A line that is no message of this protocol."""


def _whole(field: bytes) -> int:
    """A decimal number, optionally negative, and nothing else (int() would take `+1`, `1_0`
    or surrounding blanks)."""
    if not field or not (field[1:] if field[:1] == b"-" else field).isdigit():
        raise ValueError(f"not a number: {field[:20]!r}")
    return int(field)


def _numbers(cls, rest: bytes):
    return cls(*(_whole(field) for field in rest.split(b" ")))


@dataclass(frozen=True)
class Order:
    """What a worker is told to run, once its claim is committed: ORDER <json>."""

    task_execution_id: int
    try_number: int
    sequence_number: int
    task_name: str
    workflow_execution_id: int
    namespace: str
    workflow_name: str
    snapshot_id: int
    snapshot_uri: str
    file_name: str
    log_path: str
    #: What started it: "event" (a rule's event: `trigger`), "execution" (it started with its
    #: workflow execution), "timer" (periodic) or "user" (a task command).
    started_by: str = "execution"
    #: The event whose rule started it (Event fields), or None (not an event; or an event
    #: retention has removed: then `started_by` still says "event").
    trigger: Optional[Dict[str, Any]] = None
    #: The pid its claim names, which its heartbeats match; None: the worker's own. (A Ray try
    #: is claimed before any process runs it: 0.)
    claim_pid: Optional[int] = None

    def encode(self) -> bytes:
        """One line (JSON escapes any newline in a name or path)."""
        return b"ORDER " + json.dumps(self.__dict__).encode() + b"\n"

    @classmethod
    def _from(cls, rest: bytes) -> Order:
        return cls(**json.loads(rest))


class Run(NamedTuple):
    """Start a process for `order` (an encoded Order, without its newline)."""

    task_execution_id: int
    request: int
    snapshot_id: int
    order: bytes

    @classmethod
    def of(cls, order: Order, request: int) -> Run:
        return cls(order.task_execution_id, request, order.snapshot_id, order.encode()[:-1])

    def encode(self) -> bytes:
        return b"RUN %d %d %d %s\n" % (self.task_execution_id, self.request, self.snapshot_id,
                                       self.order)

    @classmethod
    def _from(cls, rest: bytes) -> Run:
        task, request, snapshot, order = rest.split(b" ", 3)
        if not order.startswith(b"ORDER {"):  # a cut line must not pass for a RUN
            raise ValueError("a RUN carries an ORDER")
        return cls(_whole(task), _whole(request), _whole(snapshot), order)


class Pid(NamedTuple):
    """The answer to a RUN: `pid` holds the order and waits for the word."""

    task_execution_id: int
    pid: int
    request: int

    def encode(self) -> bytes:
        return b"PID %d %d %d\n" % self

    @classmethod
    def _from(cls, rest: bytes) -> Pid:
        message = _numbers(cls, rest)
        if message.pid <= 1:  # signalling its group would reach every process (kill -1)
            raise ValueError(f"no worker has pid {message.pid}")
        return message


class NoPid(NamedTuple):
    """The answer to a RUN when no child could be had."""

    task_execution_id: int
    request: int

    def encode(self) -> bytes:
        return b"NOPID %d %d\n" % self

    _from = classmethod(_numbers)


class Go(NamedTuple):
    """Run the order: its claim is committed (pid 0: whichever child of the task)."""

    task_execution_id: int
    pid: int = 0

    def encode(self) -> bytes:
        return b"GO %d %d\n" % self

    _from = classmethod(_numbers)


class Drop(NamedTuple):
    """Exit without running the order (pid 0: whichever child of the task)."""

    task_execution_id: int
    pid: int = 0

    def encode(self) -> bytes:
        return b"DROP %d %d\n" % self

    _from = classmethod(_numbers)


class Exit(NamedTuple):
    """A child ended: its exit code, or minus its signal."""

    task_execution_id: int
    pid: int
    code: int

    def encode(self) -> bytes:
        return b"EXIT %d %d %d\n" % self

    _from = classmethod(_numbers)


class Lost(NamedTuple):
    """The zygote under a running child died: no EXIT will come for it."""

    task_execution_id: int
    pid: int

    def encode(self) -> bytes:
        return b"LOST %d %d\n" % self

    _from = classmethod(_numbers)


class Ready(NamedTuple):
    """A zygote loaded its workflow file and takes RUNs."""

    def encode(self) -> bytes:
        return b"READY\n"

    @classmethod
    def _from(cls, rest: bytes) -> Ready:
        if rest:
            raise ProtocolError("READY takes no fields")
        return cls()


class Unsafe(NamedTuple):
    """A zygote that must not be forked from, and why; it exits."""

    reason: str

    def encode(self) -> bytes:
        return b"UNSAFE " + " ".join(self.reason.split()).encode() + b"\n"

    @classmethod
    def _from(cls, rest: bytes) -> Unsafe:
        return cls(rest.decode())


Message = Union[Order, Run, Pid, NoPid, Go, Drop, Exit, Lost, Ready, Unsafe]

_BY_WORD: Dict[bytes, Type] = {
    b"ORDER": Order, b"RUN": Run, b"PID": Pid, b"NOPID": NoPid, b"GO": Go, b"DROP": Drop,
    b"EXIT": Exit, b"LOST": Lost, b"READY": Ready, b"UNSAFE": Unsafe,
}


def decode(line: bytes) -> Message:
    """The message of one line (its newline, if any, is ignored)."""
    if line.endswith(b"\n"):
        line = line[:-1]
    word, _, rest = line.partition(b" ")
    kind = _BY_WORD.get(word)
    if kind is None:
        raise ProtocolError(f"no such message: {line[:80]!r}")
    try:
        return kind._from(rest)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise ProtocolError(f"malformed {word.decode()}: {line[:80]!r}") from exc


def write_all(fd: int, data: bytes) -> None:
    """Write every byte: a pipe write interrupted by a signal (the fork server and zygotes
    handle SIGCHLD) may write only part of a long line, and half an ORDER glued to the next
    word would be read as something else."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def split_lines(buffer: bytes) -> Tuple[List[bytes], bytes]:
    """The complete lines in what a pipe gave so far, and the incomplete rest."""
    *lines, rest = buffer.split(b"\n")
    return lines, rest
