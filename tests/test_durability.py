"""Many writers and killed writers: offsets stay unique and increasing, nothing acknowledged is
lost. Real processes on a real file."""

from __future__ import annotations

import os
import signal
from collections import defaultdict

from conftest import read_line, wait_for

from aiflow_lite.home import open_database
from aiflow_lite.ns.event_log import EventLog


def _acks(output: str) -> list:
    """Parse `<offset> <key> <value>` lines; a line cut short by a kill is not an ack."""
    acks = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            acks.append((int(parts[0]), parts[1], parts[2]))
    return acks


def test_eight_concurrent_senders_get_unique_increasing_offsets(settings, processes):
    per_sender = 250
    senders = [processes.python("sender.py", f"s{i}", str(per_sender)) for i in range(8)]
    results = [p.communicate(timeout=120) for p in senders]
    for proc, (_out, err) in zip(senders, results, strict=True):
        assert proc.returncode == 0, err
        assert "Error" not in err and "Traceback" not in err
    acked = [ack for out, _ in results for ack in _acks(out)]
    assert len(acked) == 8 * per_sender
    offsets = [a[0] for a in acked]
    assert len(set(offsets)) == len(offsets)
    # Each sender saw its own offsets strictly increase.
    by_sender = defaultdict(list)
    for offset, key, _ in acked:
        by_sender[key].append(offset)
    assert all(seq == sorted(seq) for seq in by_sender.values())
    with open_database(settings) as db:
        log = EventLog(db, wake=False)
        stored = log.read_after(0)
        assert [e.offset for e in stored] == sorted(offsets)  # nothing lost, no gaps, no extras
        assert {(e.offset, e.key, e.value) for e in stored} == set(acked)


def test_acknowledged_events_survive_senders_killed_mid_stream(settings, processes):
    senders = [processes.python("sender.py", f"s{i}", "0") for i in range(4)]
    for proc in senders:
        assert read_line(proc.stdout).strip() == "ready"
    # Let them write for a while, then kill -9 each in the middle of its stream.
    with open_database(settings) as db:
        wait_for(lambda: EventLog(db, wake=False).count() > 2000, timeout=60,
                 message="2000 events written")
    for proc in senders:
        os.kill(proc.pid, signal.SIGKILL)
    acked = []
    for proc in senders:
        assert proc.wait(timeout=30) == -signal.SIGKILL
        # The reader thread of read_line() owns the pipe now: drain it to its end.
        acked.extend(_acks("".join(iter(lambda p=proc: read_line(p.stdout), ""))))
    assert len(acked) > 1000
    with open_database(settings) as db:
        assert db.integrity_check() == "ok"
        stored = {(e.offset, e.key, e.value) for e in EventLog(db, wake=False).read_after(0)}
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    # At most one event per sender was committed but not yet acknowledged when it died.
    assert len(stored) - len(acked) <= len(senders)
