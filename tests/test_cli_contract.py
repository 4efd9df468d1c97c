"""Every command of the spec's command reference (tests/data/spec_cli.yaml), run with every option
it documents (once per choice of a choice option), on a real home: once what the command `needs`
is made, each exits 0 and prints no traceback, and its `-o json` and `-o yaml` output parses (to the
same data).

Commands run in-process (tests/cli_runner.py) on a home of their own, or, when they need a running
server or an execution it ran, on one home shared by the module whose AIFlow and notification
servers run for the whole module. `server start` and `server stop` get a home and a server of
their own; `event listen`, which runs until Ctrl-C, runs as a process of its own."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
import yaml
from cli_runner import invoke
from conftest import read_line, wait_for
from server_helpers import kill_workers
from spec_commands import COMMANDS, NOT_IMPLEMENTED_YET, PROGRAMS, arguments, needs, options

import aiflow_lite

# 'sleeper' sleeps in the worker itself: a stop that lands while a BashOperator starts its command
# can miss the command (it runs in a session of its own), and a test must leave no process behind.
WORKFLOWS = """\
import time

from ai_flow.model.action import TaskAction
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
from ai_flow.operators.python import PythonOperator


def sleep():
    time.sleep(60)


with Workflow(name='contract_finite'):
    BashOperator(name='quick', bash_command='echo done')

with Workflow(name='contract_listening'):  # runs until stopped: 'listener' waits for an event
    PythonOperator(name='sleeper', python_callable=sleep)
    listener = BashOperator(name='listener', bash_command='echo heard')
    listener.action_on_event_received(action=TaskAction.START, event_key='contract_go')
"""
KEY, SENDER = "contract_key", "contract"
SERVER_NEEDS = {"aiflow-server", "notification-server", "running-execution", "finished-execution"}
PORTS = {"aiflow": ("aiflow_server.yaml", "rpc_port: 0\n", "aiflow_server.addr"),
         "notification": ("notification_server.yaml", "server_port: 0\n",
                          "notification_server.addr"),
         "webserver": ("aiflow_server.yaml", "rest_port: 0\n", "webserver.addr")}
ENTRY = {program: [sys.executable, "-c", f"from aiflow_lite.cli.{program} import main; main()"]
         for program in PROGRAMS}
#: What some commands print, beyond the contract.
EXPECTED_STDOUT: Dict[str, Callable[[str], bool]] = {
    "aiflow config get-value": lambda out: out.strip() == "30d",
    "notification config get-value": lambda out: out.strip() == "30d",
    "aiflow version": lambda out: out.strip() == aiflow_lite.__version__,
    "notification version": lambda out: out.strip() == aiflow_lite.__version__,
    "aiflow workflow upload": lambda out: "Workflow: default.contract_finite, submitted." in out,
    "notification event send": lambda out: out.startswith(f"Event sent: key={KEY} offset="),
    "notification event count": lambda out: int(out) >= 1,
}


def _base_state(tmp_path: Path) -> dict:
    """The values of the arguments and options, before the needs add theirs."""
    from aiflow_lite.schema import MIGRATIONS
    from aiflow_lite.sqlite import head_version

    workflow_file = tmp_path / "contract.py"
    workflow_file.write_text(WORKFLOWS)
    (tmp_path / "data.csv").write_text("1\n")
    return {
        "option": "history_retention", "namespace_name": "contract_ns",
        "file_path": str(workflow_file), "workflow_name": "contract_finite",
        "expression": "interval@0 1 0 0", "key": KEY, "value": "v1",
        "--namespace": "default", "--properties": '{"team": "ml"}',
        "--files": str(tmp_path / "data.csv"), "--begin-offset": "0",
        "--begin-time": "2000-01-01T00:00:00", "--sender": SENDER,
        "--context": '{"step": "contract"}',
        # db upgrade goes to the newest schema; db downgrade one below it
        "--version": {"upgrade": str(head_version(MIGRATIONS)),
                      "downgrade": str(head_version(MIGRATIONS) - 1)},
    }


# --- what the commands need --------------------------------------------------------------------

def _database(state: dict) -> None:
    from aiflow_lite import ops

    ops.get_namespace("default")  # first use creates the database


def _namespace(state: dict) -> None:
    from aiflow_lite import ops

    ops.add_namespace(state["namespace_name"])


def _workflow(state: dict) -> None:
    from aiflow_lite import ops

    ops.upload_workflows(state["file_path"])


def _schedule(state: dict) -> None:
    from aiflow_lite import ops

    _workflow(state)
    state["workflow_schedule_id"] = str(ops.add_workflow_schedule(
        "interval@0 1 0 0", state["workflow_name"]).id)


def _trigger(state: dict) -> None:
    from aiflow_lite import ops
    from aiflow_lite.conditions import SingleEventCondition, WorkflowRule

    _workflow(state)
    state["workflow_trigger_id"] = str(ops.add_workflow_trigger(
        WorkflowRule(SingleEventCondition("contract_go")), state["workflow_name"]).id)


def _event(state: dict) -> None:
    from aiflow_lite.ns.client import NotificationClient

    with NotificationClient() as client:
        client.send_event(KEY, "v0", sender=SENDER)


def _execution(state: dict, workflow_name: str, task_name: str, ready: Callable) -> None:
    from aiflow_lite import ops

    _workflow(state)
    execution_id = ops.start_workflow_execution(workflow_name)

    def task():
        for meta in ops.list_task_executions(execution_id):
            if meta.task_name == task_name and ready(meta, execution_id):
                return meta
        return None

    meta = wait_for(task, timeout=30, interval=0.01, message=f"{workflow_name} {execution_id}")
    state.update(workflow_name=workflow_name, workflow_execution_id=str(execution_id),
                 task_name=task_name, task_execution_id=str(meta.id))


def _finished_execution(state: dict) -> None:
    from aiflow_lite import ops

    _execution(state, "contract_finite", "quick",
               lambda _, e: ops.get_workflow_execution(e).status == "SUCCESS")


def _running_execution(state: dict) -> None:
    from aiflow_lite import ops
    from aiflow_lite.errors import InvalidInput

    _execution(state, "contract_listening", "sleeper", lambda meta, _: meta.status == "RUNNING")
    execution_id = int(state["workflow_execution_id"])

    def stop() -> None:  # leave no execution running for the next test
        with contextlib.suppress(InvalidInput):  # the command under test stopped it
            ops.stop_workflow_execution(execution_id)

    state["cleanups"].append(stop)


NEEDS: Dict[str, Optional[Callable[[dict], None]]] = {
    "database": _database, "namespace": _namespace, "workflow": _workflow,
    "schedule": _schedule, "trigger": _trigger, "event": _event,
    "running-execution": _running_execution, "finished-execution": _finished_execution,
    "aiflow-server": None, "notification-server": None,  # the `served` fixture's
    "webserver": None,  # `webserver stop` starts its own (run_server_lifecycle)
}


# --- running a command -----------------------------------------------------------------------

def variants(path: str, state: dict) -> List[List[str]]:
    """The argument lists `path` is run with: every option given, once per choice."""
    verb = path.split()[-1]
    given: List[str] = []
    runs: List[List[str]] = [[]]
    for option in options(path):
        flag = option["flags"][0]
        if "choices" in option:
            runs = [[*run, flag, choice] for run in runs for choice in option["choices"]]
        elif "value" in option:
            value = state[option["flags"][-1]]
            given += [flag, value[verb] if isinstance(value, dict) else value]
        else:
            given.append(flag)
    positional = [state[name] for name in arguments(path)]
    return [[*path.split()[1:], *given, *run, *positional] for run in runs]


def check(path: str, argv: List[str], exit_code: int, stdout: str, stderr: str,
          exception: Optional[BaseException] = None) -> object:
    """Exit 0 and no traceback; returns the output, parsed when it is -o json or yaml."""
    command = " ".join([path.split()[0], *argv])
    shown = f"`{command}` exited {exit_code}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}"
    if exception is not None and not isinstance(exception, SystemExit):
        shown += "\n--- raised:\n" + "".join(traceback.format_exception(exception))
    assert "Traceback" not in stdout + stderr, shown
    assert exception is None or isinstance(exception, SystemExit), shown
    assert exit_code == 0, shown
    expected = EXPECTED_STDOUT.get(path)
    assert expected is None or expected(stdout), shown
    output = argv[argv.index("-o") + 1] if "-o" in argv else None
    try:
        return {"json": json.loads, "yaml": yaml.safe_load}.get(output, str)(stdout)
    except (ValueError, yaml.YAMLError) as exc:
        pytest.fail(f"`{command}` printed what -o {output} cannot parse: {exc}\n{stdout}")


def run_in_process(path: str, state: dict) -> None:
    parsed = {}
    for argv in variants(path, state):
        result = invoke(PROGRAMS[path.split()[0]], *argv, input="y\n")
        parsed[tuple(argv)] = check(path, argv, result.exit_code, result.stdout, result.stderr,
                                    result.exception)
    if path.split()[-1] in ("list", "show"):  # nothing changed between the runs
        as_json = [data for argv, data in parsed.items() if "json" in argv]
        as_yaml = [data for argv, data in parsed.items() if "yaml" in argv]
        assert as_json == as_yaml, f"`{path} -o yaml` says something else than `-o json`"


def run_listen(path: str, state: dict, processes) -> None:
    """`event listen` prints the events of its key until Ctrl-C, then exits 0."""
    (argv,) = variants(path, state)
    proc = processes.start([*ENTRY["notification"], *argv])
    line = read_line(proc.stdout, timeout=30)
    assert line.split("\t")[1] == KEY, line
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    check(path, argv, proc.returncode, line + stdout, stderr)


def start_foreground_server(program: str, home: Path, processes, noun: str = "server"):
    """`<program> server start` (or `aiflow webserver start`), without -d: it serves until it
    is stopped."""
    from aiflow_lite.cli.server import port_answers
    from aiflow_lite.server.grpc_server import read_address_file

    proc = processes.start([*ENTRY[program], noun, "start"])
    address_file = home / PORTS["webserver" if noun == "webserver" else program][2]

    def answers():
        assert proc.poll() is None, proc.communicate()
        address = read_address_file(str(address_file))
        return address if address and port_answers(address) else None

    wait_for(answers, timeout=30, interval=0.02, message=f"the {program} server")
    return proc


def run_server_lifecycle(path: str, state: dict, home: Path, processes) -> None:
    """`server start -d` (or `webserver start -d`) on a home with no server, then stopped;
    `server stop` of a server started in the foreground, which then exits 0."""
    program, noun = path.split()[:2]
    server = "webserver" if noun == "webserver" else program
    configure_ports(home, server)
    if path.endswith("start"):
        try:
            run_in_process(path, state)
        finally:
            invoke(PROGRAMS[program], noun, "stop")
            if server == "aiflow":
                kill_workers(home)
        return
    proc = start_foreground_server(program, home, processes, noun)
    try:
        run_in_process(path, state)
        stdout, stderr = proc.communicate(timeout=30)
        check(f"{program} {noun} start", [noun, "start"], proc.returncode, stdout, stderr)
    finally:
        if proc.poll() is None:  # the stop failed: stop it the same way, its fork server too
            invoke(PROGRAMS[program], noun, "stop")
        if server == "aiflow":
            kill_workers(home)


def configure_ports(home: Path, program: str) -> None:
    name, text, _ = PORTS[program]
    home.mkdir(parents=True, exist_ok=True)
    with open(home / name, "a", encoding="utf-8") as fh:
        fh.write(text)


# --- the shared servers ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    """One home whose AIFlow server and notification server run for the whole module."""
    from aiflow_lite.server.grpc_server import read_address_file

    home = tmp_path_factory.mktemp("served") / "home"
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        for program in PROGRAMS:
            configure_ports(home, program)
        try:
            for program in PROGRAMS:
                started = invoke(PROGRAMS[program], "server", "start", "-d")
                assert started.exit_code == 0, started.stderr
            address = read_address_file(str(home / PORTS["notification"][2]))
            yield home, address
        finally:
            for program in PROGRAMS:
                invoke(PROGRAMS[program], "server", "stop")
            kill_workers(home)


@pytest.fixture
def served(shared_home, monkeypatch):
    """The shared home, for one test; returns its notification server's address."""
    home, address = shared_home
    use_home(monkeypatch, home)
    return address


def use_home(patch: pytest.MonkeyPatch, home: Path) -> None:
    """As the `home` fixture does (tests/conftest.py), for the shared home."""
    patch.setenv("AIFLOW_HOME", str(home))
    for name in ("NOTIFICATION_HOME", "AIFLOW_DEBUG", "NO_COLOR"):
        patch.delenv(name, raising=False)


# --- the tests -------------------------------------------------------------------------------

def _kind(path: str) -> str:
    if path in NOT_IMPLEMENTED_YET:
        return "not implemented yet"
    if path.endswith(("server start", "server stop")):
        return "lifecycle"
    return "served" if SERVER_NEEDS & set(needs(path)) else "local"


def _param(path: str):
    marks = []
    if _kind(path) == "lifecycle":
        marks.append(pytest.mark.slow)  # starts and stops a real server
    if _kind(path) == "not implemented yet":
        marks.append(pytest.mark.skip(reason="not implemented yet (tests/data/spec_cli.yaml)"))
    return pytest.param(path, marks=marks, id=path.replace(" ", "-"))


def test_the_contract_knows_every_need_of_the_data():
    implemented = [path for path in COMMANDS if path not in NOT_IMPLEMENTED_YET]
    assert {need for path in implemented for need in needs(path)} <= set(NEEDS)


@pytest.mark.parametrize("path", [_param(path) for path in COMMANDS])
def test_spec_command(path, request, tmp_path, processes):
    state = _base_state(tmp_path)
    state["cleanups"] = []
    kind = _kind(path)
    if kind == "served":
        state["--server-uri"] = request.getfixturevalue("served")
    home = request.getfixturevalue("home") if kind != "served" else None
    try:
        for need in needs(path):
            if NEEDS[need] is not None:
                NEEDS[need](state)
        if kind == "lifecycle":
            run_server_lifecycle(path, state, home, processes)
        elif path == "notification event listen":
            run_listen(path, state, processes)
        else:
            run_in_process(path, state)
    finally:
        for cleanup in state["cleanups"]:
            cleanup()
