"""The `notification` command, end to end on a real home."""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest
import yaml
from cli_runner import invoke
from conftest import read_line

from aiflow_lite.cli.notification import cli
from aiflow_lite.ns.client import NotificationClient

NOTIFICATION = [sys.executable, "-c", "from aiflow_lite.cli.notification import main; main()"]


def _send(*args: str):
    result = invoke(cli, "event", "send", *args)
    assert result.exit_code == 0, result.stderr
    return result


def test_send_then_list_in_every_format(home):
    assert "offset=1" in _send("k", "v1").stdout
    _send("k", "v2", "--context", '{"run": 2}', "--sender", "me", "-n", "team")
    _send("j", "other")
    rows = json.loads(invoke(cli, "event", "list", "k", "-o", "json").stdout)
    assert [(r["offset"], r["value"], r["namespace"]) for r in rows] == [
        (1, "v1", "default"), (2, "v2", "team")]
    assert rows[1]["context"] == '{"run": 2}' and rows[1]["sender"] == "me"
    assert yaml.safe_load(invoke(cli, "event", "list", "k", "-o", "yaml").stdout) == rows
    plain = invoke(cli, "event", "list", "*", "-o", "plain").stdout.splitlines()
    assert [line.split("\t")[:3] for line in plain] == [
        ["1", "k", "v1"], ["2", "k", "v2"], ["3", "j", "other"]]
    table = invoke(cli, "event", "list", "k").stdout
    assert "v1" in table and "v2" in table and "other" not in table
    team = json.loads(invoke(cli, "event", "list", "k", "-n", "team", "-o", "json").stdout)
    assert [r["value"] for r in team] == ["v2"]
    after = json.loads(invoke(cli, "event", "list", "*", "--begin-offset", "1", "-o",
                              "json").stdout)
    assert [r["offset"] for r in after] == [2, 3]
    by_sender = json.loads(invoke(cli, "event", "list", "*", "--sender", "me", "-o",
                                  "json").stdout)
    assert [r["value"] for r in by_sender] == ["v2"]


def test_count_and_begin_time(home):
    _send("k", "a")
    _send("k", "b")
    assert invoke(cli, "event", "count", "k").stdout.strip() == "2"
    assert invoke(cli, "event", "count", "k", "--begin-offset", "1").stdout.strip() == "1"
    assert invoke(cli, "event", "count", "k", "--begin-time", "2999-01-01").stdout.strip() == "0"
    assert invoke(cli, "event", "count", "k", "--begin-time",
                  "2000-01-01T00:00:00Z").stdout.strip() == "2"


def test_value_is_optional(home):
    _send("k")
    assert json.loads(invoke(cli, "event", "list", "k", "-o", "json").stdout)[0]["value"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["event", "send", "", "v"], "event key must be a non-empty string"),
        (["event", "send", "k", "x" * (1024 * 1024 + 1)], "the limit is 1048576 bytes"),
        (["event", "send", "k", "v", "-n", "bad ns"], "invalid namespace 'bad ns'"),
        (["event", "send", "__aiflow.status", "v"], "reserved prefix"),
        (["event", "send", "*", "v"], "reserved for matching any key"),
        (["event", "send", "k", "v", "--context", "{oops"], "must be JSON text"),
        (["event", "list", "k", "--begin-time", "yesterday"], "invalid time 'yesterday'"),
        (["event", "count", "k", "--begin-time", "2026-13-45"], "use ISO 8601"),
        (["event", "listen", "k", "--begin-time", "soon"], "invalid time 'soon'"),
        (["event", "list", "k", "-n", "a/b"], "invalid namespace"),
        (["event", "send", "k", "v", "-s", "localhost:1"], "cannot reach the server at"),
        (["event", "list", "k", "-s", "nohost"], "invalid server uri 'nohost'"),
        (["db", "upgrade", "-v", "latest"], "invalid schema version 'latest'"),
        (["config", "get-value", "no_such_option"], "unknown option 'no_such_option'"),
        (["event", "list", "k", "--begin-offset", str(2**64)], "--begin-offset"),
        (["event", "count", "k", "--begin-time", "0001-01-01"], "is out of range"),
        (["event", "send", "k\udcff", "v"], "event key is not valid UTF-8"),
        (["event", "send", "k", "v\udcff"], "event value is not valid UTF-8"),
        (["event", "list", "k\udcff"], "is not valid UTF-8"),
        (["event", "send", "k", "v", "--context", "[" * 100_000 + "]" * 100_000],
         "must be JSON text"),
    ],
)
def test_bad_input_is_one_line_nonzero_and_writes_nothing(home, args, message):
    result = invoke(cli, *args)
    assert result.exit_code != 0
    assert result.stderr.startswith(("Error: ", "Usage: ")) and message in result.stderr
    if result.stderr.startswith("Error: "):
        assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout
    if args[0] in ("event", "server"):
        assert not home.exists(), "nothing may be written for bad input"


def test_bad_input_does_not_touch_an_existing_log(home):
    _send("k", "kept")
    for args in (["", "v"], ["k", "v", "-n", "bad ns"], ["k", "v", "--context", "x"]):
        assert invoke(cli, "event", "send", *args).exit_code == 1
    assert invoke(cli, "event", "count", "*").stdout.strip() == "1"


def test_debug_shows_the_traceback(home):
    result = invoke(cli, "--debug", "event", "send", "", "v")
    assert result.exit_code == 1
    assert result.exception is not None and "non-empty" in str(result.exception)


def test_a_bad_config_file_is_one_line(home):
    home.mkdir()
    (home / "notification_server.yaml").write_text("durability: [unclosed\n")
    result = invoke(cli, "event", "send", "k", "v")
    assert result.exit_code == 1 and "is not valid YAML" in result.stderr
    (home / "notification_server.yaml").write_text("busy_timeout_ms: soon\n")
    result = invoke(cli, "event", "count", "k")
    assert result.exit_code == 1 and "busy_timeout_ms must be an integer" in result.stderr
    assert not (home / "aiflow.db").exists()


def test_a_file_that_is_not_a_database_is_one_line(home):
    home.mkdir()
    (home / "aiflow.db").write_bytes(b"this is not sqlite" * 100)
    result = invoke(cli, "event", "send", "k", "v")
    assert result.exit_code == 1 and "not an aiflow_lite database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_locked_database_is_one_line(home, tmp_path):
    from aiflow_lite.config import load_notification_settings
    from aiflow_lite.home import open_database

    (home).mkdir()
    (home / "notification_server.yaml").write_text("busy_timeout_ms: 50\n")
    with open_database(load_notification_settings()) as holder, holder.transaction():
        result = invoke(cli, "event", "send", "k", "v")
    assert result.exit_code == 1 and "locked by another process" in result.stderr


def _drop_file_permission_override() -> None:
    """Run as root, the test still needs permissions to matter: drop CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from the bounding set before exec."""
    import ctypes

    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_home_without_permissions_is_one_line(tmp_path, processes):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        proc = processes.start(
            [*NOTIFICATION, "event", "send", "k", "v"],
            env={"AIFLOW_HOME": str(parent / "home")},
            preexec_fn=_drop_file_permission_override,
        )
        out, err = proc.communicate(timeout=30)
    finally:
        parent.chmod(0o700)
    assert proc.returncode == 1, err
    assert err.startswith("Error: cannot use ") and "ermission denied" in err
    assert len(err.strip().splitlines()) == 1 and out == ""
    assert not (parent / "home").exists()


def test_listen_streams_until_interrupted(home, processes, settings):
    with NotificationClient(settings=settings) as client:
        client.send_event("k", "old")
        proc = processes.start([*NOTIFICATION, "event", "listen", "k"])
        assert "Listening" in read_line(proc.stderr)
        for value in ("a", "b"):
            client.send_event("k", value)
        client.send_event("other", "x")
        lines = [read_line(proc.stdout).split("\t") for _ in range(2)]
        assert [(line[1], line[2]) for line in lines] == [("k", "a"), ("k", "b")]
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
        err = "".join(iter(lambda: read_line(proc.stderr), ""))
        assert code == 0, err
        assert "Traceback" not in err


def test_listen_from_an_offset_and_stops_on_sigterm(home, processes, settings):
    with NotificationClient(settings=settings) as client:
        for value in ("a", "b", "c"):
            client.send_event("k", value)
    proc = processes.start([*NOTIFICATION, "event", "listen", "k", "--begin-offset", "1"])
    values = [read_line(proc.stdout).split("\t")[2] for _ in range(2)]
    assert values == ["b", "c"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_version(home):
    from aiflow_lite import __version__

    result = invoke(cli, "version")
    assert result.stdout.strip() == __version__
    assert not home.exists()


def test_config_init_list_get_value(home):
    assert invoke(cli, "config", "get-value", "server_port").stdout.strip() == "50052"
    assert not home.exists()  # reading the config writes nothing
    first = invoke(cli, "config", "init")
    assert first.exit_code == 0 and "Wrote" in first.stdout
    path = home / "notification_server.yaml"
    text = path.read_text()
    assert "server_port: 50052" in text
    path.write_text(text.replace("server_port: 50052", "server_port: 6000"))
    again = invoke(cli, "config", "init")
    assert "already exists" in again.stdout and "6000" in path.read_text()
    assert invoke(cli, "config", "get-value", "server_port").stdout.strip() == "6000"
    listing = invoke(cli, "config", "list", "--color", "off").stdout
    assert "server_port: 6000" in listing and f"db_uri: sqlite:///{home}/aiflow.db" in listing
    assert "\x1b[" in invoke(cli, "config", "list", "--color", "on").stdout


def test_notification_home_with_its_own_db_uri_is_a_standalone_log(home, tmp_path, monkeypatch):
    ns_home = tmp_path / "ns_home"
    ns_home.mkdir()
    (ns_home / "notification_server.yaml").write_text(
        "db_uri: sqlite:///${NOTIFICATION_HOME}/ns.db\n")
    monkeypatch.setenv("NOTIFICATION_HOME", str(ns_home))
    _send("k", "standalone")
    assert (ns_home / "ns.db").exists() and not (home / "aiflow.db").exists()
    monkeypatch.delenv("NOTIFICATION_HOME")
    assert invoke(cli, "event", "count", "k").stdout.strip() == "0"


def test_notification_home_without_db_uri_shares_the_aiflow_database(home, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("NOTIFICATION_HOME", str(tmp_path / "ns_home"))
    _send("k", "shared")
    assert (home / "aiflow.db").exists()
    from aiflow_lite.cli.aiflow import cli as aiflow_cli

    assert "sqlite:///" in invoke(aiflow_cli, "config", "get-value",
                                  "metadata_backend_uri").stdout


def test_db_commands(home):
    from aiflow_lite.schema import MIGRATIONS

    head = MIGRATIONS[-1].version
    assert f"schema version {head}" in invoke(cli, "db", "init").stdout
    _send("k", "v")
    asked = invoke(cli, "db", "downgrade", "-v", "0", input="n\n")  # it drops data: it asks
    assert asked.exit_code == 1 and "1 events" in asked.stdout
    assert invoke(cli, "event", "count", "k").stdout.strip() == "1"  # nothing changed
    down = invoke(cli, "db", "downgrade", input="y\n")
    assert down.exit_code == 0 and f"{head} -> {head - 1}" in down.stdout
    assert invoke(cli, "db", "downgrade", "-v", "0", "-y").exit_code == 0
    assert invoke(cli, "db", "upgrade").stdout.strip().endswith(f"0 -> {head}.")
    assert invoke(cli, "event", "count", "k").stdout.strip() == "0"  # version 0 held no events
    _send("k", "v")
    refused = invoke(cli, "db", "reset", input="n\n")
    assert refused.exit_code == 1
    assert invoke(cli, "event", "count", "k").stdout.strip() == "1"
    reset = invoke(cli, "db", "reset", input="y\n")
    assert reset.exit_code == 0 and "was reset" in reset.stdout
    assert invoke(cli, "event", "count", "k").stdout.strip() == "0"
    assert invoke(cli, "db", "reset", "-y").exit_code == 0
    assert "below the current" in invoke(cli, "db", "upgrade", "-v", "0").stderr
    assert "above the current" in invoke(cli, "db", "downgrade", "-v", str(head + 1)).stderr


def test_db_reset_and_downgrade_refuse_while_a_server_uses_the_home(home):
    """A held lock is what a running server has: the commands name its pid, change nothing."""
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.lock import acquire, lock_path, notification_lock_path

    invoke(cli, "db", "init")
    _send("k", "v")
    for path in (lock_path, notification_lock_path):
        fd = acquire(path(load_aiflow_settings()))
        try:
            for args in (("db", "reset", "-y"), ("db", "downgrade", "-v", "0", "-y")):
                refused = invoke(cli, *args)
                assert refused.exit_code == 1 and f"(pid {os.getpid()})" in refused.stderr
                assert "server stop" in refused.stderr
        finally:
            os.close(fd)
        assert invoke(cli, "event", "count", "k").stdout.strip() == "1"
    assert invoke(cli, "db", "reset", "-y").exit_code == 0


def test_an_older_schema_asks_for_an_upgrade(home):
    from aiflow_lite.schema import MIGRATIONS

    invoke(cli, "db", "init")
    assert invoke(cli, "db", "downgrade", "-v", "1", "-y").exit_code == 0
    stale = invoke(cli, "event", "count", "k")
    assert stale.exit_code == 1 and "run `aiflow db upgrade`" in stale.stderr
    assert invoke(cli, "db", "upgrade").exit_code == 0
    assert invoke(cli, "event", "count", "k").stdout.strip() == "0"
    assert MIGRATIONS[-1].version > 1
