"""The home's config files: typos are named, the spec's options that do nothing here say so,
values that would need what aiflow_lite lacks are refused in one line."""

from __future__ import annotations

import pytest
from cli_runner import invoke

from aiflow_lite import config
from aiflow_lite.cli.aiflow import cli
from aiflow_lite.cli.notification import cli as notification_cli


@pytest.fixture(autouse=True)
def _fresh_notes(monkeypatch):
    monkeypatch.setattr(config, "_warned", set())  # each note is said once per process


def _write(home, name: str, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / name).write_text(text)


def test_an_unknown_key_is_named_with_the_closest_one(home):
    _write(home, "aiflow_server.yaml", "rpc_prot: 1\n")
    result = invoke(cli, "config", "get-value", "rpc_port")
    assert result.exit_code == 0 and result.stdout.strip() == "50051"
    assert "unknown option 'rpc_prot' is ignored; did you mean rpc_port?" in result.stderr
    assert str(home / "aiflow_server.yaml") in result.stderr
    assert result.stderr.count("\n") == 1
    again = invoke(cli, "config", "get-value", "rpc_port")  # once per process
    assert "rpc_prot" not in again.stderr


@pytest.mark.parametrize(("file", "text", "why"), [
    ("aiflow_server.yaml", "sql_alchemy_pool_size: 5\n", "no SQLAlchemy"),
    ("aiflow_server.yaml", "notification_server_uri: 127.0.0.1:50052\n", "event log directly"),
    ("aiflow_server.yaml", "k8s_executor_config:\n  namespace: x\n", "this machine only"),
    ("notification_server.yaml", "ha_ttl_ms: 10000\n", "no HA mode"),
    ("aiflow_client.yaml", "blob_manager: {}\n", "inside the call"),
])
def test_spec_options_that_do_nothing_here_say_so(home, file, text, why):
    _write(home, file, text)
    group = notification_cli if file.startswith("notification") else cli
    if file == "aiflow_client.yaml":
        result = invoke(cli, "workflow", "list")
    else:
        result = invoke(group, "config", "list")
    assert result.exit_code == 0, result.stderr
    assert "has no effect in aiflow_lite" in result.stderr and why in result.stderr


@pytest.mark.parametrize(("file", "text", "message"), [
    ("aiflow_server.yaml", "task_executor: kubernetes\n", "task_executor: local"),
    ("notification_server.yaml", "enable_ha: true\n", "no HA mode"),
])
def test_values_that_need_what_is_missing_are_refused(home, file, text, message):
    _write(home, file, text)
    group = notification_cli if file.startswith("notification") else cli
    result = invoke(group, "config", "list")
    assert result.exit_code == 1 and "is not supported" in result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("text", ["task_executor: Local\n", "enable_ha: False\n"])
def test_the_spec_defaults_of_those_are_accepted(home, text):
    _write(home, "aiflow_server.yaml", text)
    assert invoke(cli, "config", "list").exit_code == 0


@pytest.mark.parametrize(("text", "line"), [
    ("rpc_port: [1\n", 1),  # found at the end of the file: the bracket opened on line 1
    ("rpc_port: 1\nlog_dir\n", 2),
    ("a: b: c\n", 1),
])
def test_a_yaml_error_names_the_line_it_is_on(home, text, line):
    _write(home, "aiflow_server.yaml", text)
    result = invoke(cli, "config", "list")
    assert result.exit_code == 1 and f"aiflow_server.yaml line {line} (" in result.stderr
    assert result.stderr.count("\n") == 1
