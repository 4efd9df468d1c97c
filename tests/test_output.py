"""Output shapes: every `show` prints one JSON object (yaml: one mapping), every `list` an array
(yaml: a sequence), whatever it shows; and durations read the same everywhere."""

from __future__ import annotations

import json

import click
import pytest
import yaml
from cli_runner import invoke

from aiflow_lite import ops
from aiflow_lite.cli.aiflow import cli as aiflow_cli
from aiflow_lite.cli.notification import cli as notification_cli
from aiflow_lite.cli.output import format_duration

PROGRAMS = {"aiflow": aiflow_cli, "notification": notification_cli}


def _output_commands() -> dict:
    """'program noun verb' → command, for every `show` and `list` that takes -o."""
    found = {}

    def walk(group: click.Group, path: list) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, [*path, name])
            elif name in ("show", "list") and any("--output" in p.opts for p in command.params
                                                  if isinstance(p, click.Option)):
                found[" ".join([*path, name])] = command

    for program, group in PROGRAMS.items():
        walk(group, [program])
    return found


@pytest.fixture
def one_of_everything(home, tmp_path):
    """A home holding one of each thing a show or list command shows; their ids."""
    from aiflow_lite.conditions import SingleEventCondition, WorkflowRule
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.scheduler import Scheduler
    from aiflow_lite.events import now_ms
    from aiflow_lite.home import open_database
    from aiflow_lite.ns.client import NotificationClient

    wf = tmp_path / "wf.py"
    wf.write_text("from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='w'):\n"
                  "    BashOperator(name='t', bash_command='true')\n")
    ops.upload_workflows(str(wf))
    execution = ops.start_workflow_execution("w")
    with open_database(load_aiflow_settings()) as db:
        Scheduler(db).step(now_ms())  # the execution starts: its task is QUEUED
    with NotificationClient() as client:
        client.send_event("k", "v")
    # The meta service: a dataset, a model with a version and a metric, an artifact.
    ops.register_dataset("d", "/data/d.csv")
    ops.register_model("m")
    ops.register_model_version("m", "/models/m/1", datasets=["d"])
    ops.log_metric("auc", 0.9, model_name="m", model_version=1)
    (tmp_path / "a.txt").write_text("a")
    ops.register_artifact("a", str(tmp_path / "a.txt"))
    return {
        "execution": str(execution),
        "task": str(ops.list_task_executions(execution)[0].id),
        "schedule": str(ops.add_workflow_schedule("cron@0 * * * *", "w").id),
        "trigger": str(ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")),
                                                "w").id),
    }


def _arguments(ids: dict) -> dict:
    return {
        "aiflow namespace list": [],
        "aiflow workflow list": [],
        "aiflow workflow show": ["w"],
        "aiflow workflow-execution list": ["w"],
        "aiflow workflow-execution show": [ids["execution"]],
        "aiflow task-execution list": [ids["execution"]],
        "aiflow task-execution show": [ids["task"]],
        "aiflow workflow-schedule list": ["w"],
        "aiflow workflow-schedule show": [ids["schedule"]],
        "aiflow workflow-trigger list": ["w"],
        "aiflow workflow-trigger show": [ids["trigger"]],
        "notification event list": ["*"],
        "aiflow dataset list": [],
        "aiflow dataset show": ["d"],
        "aiflow model list": [],
        "aiflow model show": ["m"],
        "aiflow model-version list": ["m"],
        "aiflow model-version show": ["m", "1"],
        "aiflow metric list": [],
        "aiflow artifact list": [],
        "aiflow artifact show": ["a"],
    }


def test_every_show_prints_one_object_and_every_list_an_array(one_of_everything):
    arguments = _arguments(one_of_everything)
    assert set(_output_commands()) == set(arguments), "a show or list command to add here"
    for path, argv in arguments.items():
        program, *words = path.split()
        parsed = {}
        for fmt, load in (("json", json.loads), ("yaml", yaml.safe_load)):
            result = invoke(PROGRAMS[program], *words, *argv, "-o", fmt)
            assert result.exit_code == 0, f"{path} -o {fmt}: {result.stderr}"
            parsed[fmt] = load(result.stdout)
        shown = parsed["json"]
        if words[-1] == "show":
            assert isinstance(shown, dict) and shown, f"`{path} -o json` is not one object"
        else:
            assert isinstance(shown, list) and shown, f"`{path} -o json` is not an array"
            assert all(isinstance(row, dict) for row in shown), path
        assert parsed["yaml"] == shown, f"`{path} -o yaml` says something else than -o json"


def test_a_shown_record_is_the_listed_one(one_of_everything):
    ids = one_of_everything

    def as_json(*argv: str):
        result = invoke(aiflow_cli, *argv, "-o", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    assert as_json("workflow-execution", "show", ids["execution"]) == \
        as_json("workflow-execution", "list", "w")[0]
    listed = as_json("task-execution", "list", ids["execution"])[0]
    shown = as_json("task-execution", "show", ids["task"])
    assert {k: shown[k] for k in listed} == listed  # show adds pid and log_path
    assert as_json("workflow-schedule", "show", ids["schedule"]) == \
        as_json("workflow-schedule", "list", "w")[0]


def test_a_missing_record_is_one_line_in_every_format(one_of_everything):
    for fmt in ("table", "json", "yaml", "plain"):
        result = invoke(aiflow_cli, "workflow-execution", "show", "999", "-o", fmt)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.strip() == "Error: no workflow execution with id 999"


@pytest.mark.parametrize("seconds, shown", [
    (None, ""), (0, "0ms"), (0.0449, "45ms"), (0.9994, "999ms"), (0.9996, "1.0s"),
    (1.234, "1.2s"), (59.94, "59.9s"), (59.96, "1m00s"), (123.4, "2m03s"), (3599.4, "59m59s"),
    (3599.6, "1h00m"), (3 * 3600 + 5 * 60, "3h05m"), (2 * 86400 + 3 * 3600, "2d03h"),
    (-1, "0ms"),
])
def test_durations_read_as_people_say_them(seconds, shown):
    assert format_duration(seconds) == shown
