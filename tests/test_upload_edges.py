"""Upload edge cases that once went wrong: names shared across namespaces, reverts, helper
modules beside the workflow file, foreign workflows, encodings, odd -f entries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from cli_runner import invoke

from aiflow_lite import ops
from aiflow_lite.cli.aiflow import cli
from aiflow_lite.errors import InvalidInput
from aiflow_lite.loader import unpickle_workflow

HEADER = ("from ai_flow.model.workflow import Workflow\n"
          "from ai_flow.operators.bash import BashOperator\n")


def _file(path, body: str, header: str = HEADER):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + textwrap.dedent(body))
    return path


def _stored_command(name: str, namespace: str = "default") -> str:
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.schedules import ScheduleStore
    from aiflow_lite.engine.store import MetadataStore
    from aiflow_lite.home import open_database

    with open_database(load_aiflow_settings()) as db:
        meta = MetadataStore(db).require_workflow(name, namespace)
        blob = db.scalar("SELECT workflow FROM workflow_snapshot WHERE id = ?",
                         (ScheduleStore(db).latest_snapshot(meta.id),))
    workflow = unpickle_workflow(blob)
    return next(iter(workflow.tasks.values())).bash_command


def test_same_workflow_name_in_two_namespaces_keeps_each_definition(home, tmp_path):
    ops.add_namespace("team")
    ops.upload_workflows(str(_file(tmp_path / "wf.py", """
        with Workflow(name='w'):
            BashOperator(name='t', bash_command='echo default')
        with Workflow(name='w', namespace='team'):
            BashOperator(name='t', bash_command='echo team')
    """)))
    assert _stored_command("w") == "echo default"
    assert _stored_command("w", "team") == "echo team"


def test_re_uploading_an_earlier_version_makes_it_current_again(home, tmp_path):
    path = tmp_path / "wf.py"
    for command in ("echo A", "echo B", "echo A"):
        _file(path, "with Workflow(name='w'):\n"
                    f"    BashOperator(name='t', bash_command='{command}')\n")
        ops.upload_workflows(str(path))
    assert _stored_command("w") == "echo A"
    assert ops.get_workflow("w").snapshot_id == 1
    assert [s.id for s in ops.list_workflow_snapshots("w")] == [1, 2]


def test_helper_modules_beside_the_file_travel_with_the_workflow(home, tmp_path):
    project = tmp_path / "proj"
    _file(project / "helper.py", """
        from ai_flow.model.condition import Condition

        def work():
            return 'helped'

        class HelperCond(Condition):
            def is_met(self, event, context):
                return True
    """, header="")
    wf = _file(project / "wf.py", """
        from ai_flow.model.action import TaskAction
        from ai_flow.operators.python import PythonOperator
        import helper
        with Workflow(name='w'):
            p = PythonOperator(name='p', python_callable=helper.work)
            p.action_on_condition(TaskAction.START, helper.HelperCond(['go']))
    """)
    ops.upload_workflows(str(wf), [str(project / "helper.py")])
    assert "helper" not in sys.modules  # released: the next load gets its own helper
    code = ("from aiflow_lite import ops\nfrom aiflow_lite.engine.store import MetadataStore\n"
            "from aiflow_lite.ops.backend import metadata_store\n"
            "from aiflow_lite.loader import unpickle_workflow\n"
            "with metadata_store() as s:\n"
            "    w = unpickle_workflow(s.db.scalar('SELECT workflow FROM workflow'))\n"
            "print(w.tasks['p'].start(None), w.rules['p'][0].condition"
            ".is_met(None, None))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd="/", env={**os.environ}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["helped", "True"]


def test_two_files_with_their_own_helper_modules_do_not_mix(home, tmp_path):
    for name in ("a", "b"):
        _file(tmp_path / name / "helper.py", f"COMMAND = 'echo from {name}'\n", header="")
        _file(tmp_path / name / "wf.py", f"""
            import helper
            with Workflow(name='w_{name}'):
                BashOperator(name='t', bash_command=helper.COMMAND)
        """)
        ops.upload_workflows(str(tmp_path / name / "wf.py"))
    assert _stored_command("w_a") == "echo from a"
    assert _stored_command("w_b") == "echo from b"


def test_workflows_of_imported_modules_are_not_uploaded(home, tmp_path):
    _file(tmp_path / "a_wf.py", """
        def f():
            return 1
        with Workflow(name='A'):
            BashOperator(name='t', bash_command='echo A')
    """)
    b = _file(tmp_path / "b_wf.py", """
        from a_wf import f
        with Workflow(name='B'):
            BashOperator(name='t', bash_command='echo B')
    """)
    assert [m.name for m in ops.upload_workflows(str(b))] == ["B"]


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("\ufeff" + HEADER + "with Workflow(name='bom'):\n    BashOperator(name='t', "
         "bash_command='echo')\n", "bom"),
        ("# -*- coding: latin-1 -*-\n" + HEADER + "with Workflow(name='latin'):\n"
         "    BashOperator(name='t', bash_command='echo \u00e9')\n", "latin"),
    ],
)
def test_files_with_a_bom_or_a_coding_declaration_upload(home, tmp_path, raw, name):
    path = tmp_path / f"{name}.py"
    encoding = "latin-1" if name == "latin" else "utf-8"
    path.write_bytes(raw.encode(encoding))
    assert [m.name for m in ops.upload_workflows(str(path))] == [name]


def test_deleting_a_workflow_with_an_unfinished_execution_is_refused(home, tmp_path):
    ops.upload_workflows(str(_file(tmp_path / "wf.py", """
        with Workflow(name='w'):
            BashOperator(name='t', bash_command='echo')
    """)))
    ops.start_workflow_execution("w")
    with pytest.raises(InvalidInput, match="unfinished execution"):
        ops.delete_workflow("w")


@pytest.mark.parametrize(
    ("expression", "message"),
    [("cron@0 0 31 2 *", "never fires"), ("interval@99999999 0 0 0", "at most 100 years"),
     ("interval@\u00b2 0 0 0", "four whole numbers")],
)
def test_expressions_that_cannot_work_are_refused(expression, message):
    from aiflow_lite.timing import parse_periodic_expression

    with pytest.raises(InvalidInput, match=message):
        parse_periodic_expression(expression)


def test_show_prints_user_text_literally(home, tmp_path):
    ops.upload_workflows(str(_file(tmp_path / "wf.py", """
        with Workflow(name='w'):
            BashOperator(name='t', bash_command='echo "[/]" ${arr[bold]} [red]x[/red]')
    """)))
    result = invoke(cli, "workflow", "show", "w")
    assert result.exit_code == 0, result.stderr
    assert 'echo "[/]" ${arr[bold]} [red]x[/red]' in result.stdout


def test_odd_files_entries_are_refused(home, tmp_path):
    wf = _file(tmp_path / "wf.py", "with Workflow(name='w'):\n    BashOperator(name='t', "
               "bash_command='echo')\n")
    (tmp_path / "a" / "lib").mkdir(parents=True)
    (tmp_path / "b" / "lib").mkdir(parents=True)
    with pytest.raises(InvalidInput, match="both be uploaded as 'lib'"):
        ops.upload_workflows(str(wf), [str(tmp_path / "a" / "lib"), str(tmp_path / "b" / "lib")])
    os.mkfifo(tmp_path / "a" / "lib" / "pipe")
    with pytest.raises(InvalidInput, match="not a regular file"):
        ops.upload_workflows(str(wf), [str(tmp_path / "a" / "lib")])
    os.unlink(tmp_path / "a" / "lib" / "pipe")
    os.symlink(tmp_path / "b", tmp_path / "a" / "lib" / "link")
    with pytest.raises(InvalidInput, match="link to a directory"):
        ops.upload_workflows(str(wf), [str(tmp_path / "a" / "lib")])
    assert json.loads(invoke(cli, "workflow", "list", "-o", "json").stdout) == []


def test_meet_all_remembers_what_was_met_until_all_are():
    from test_sdk import FakeContext

    from aiflow_lite.conditions import MeetAllCondition, SingleEventCondition, TaskRule
    from aiflow_lite.events import Event
    from aiflow_lite.status import TaskAction

    rule = TaskRule(MeetAllCondition([SingleEventCondition("a"), SingleEventCondition("b")]),
                    TaskAction.START)
    context = FakeContext()
    got = [rule.trigger(Event(k), context) for k in ("a", "a", "b", "b", "a")]
    assert got == [None, None, TaskAction.START, None, TaskAction.START]


def test_custom_operator_takes_task_name_as_in_the_spec():
    from aiflow_lite.operators.base import AIFlowOperator
    from aiflow_lite.workflow import Workflow

    class MyOp(AIFlowOperator):
        def start(self, context):
            return "ran"

    with Workflow("w") as w:
        MyOp(task_name="mine")
    assert w.tasks["mine"].start(None) == "ran"
