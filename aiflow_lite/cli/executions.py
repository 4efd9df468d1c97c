"""`aiflow workflow-execution ...` and `aiflow task-execution ...`."""

from __future__ import annotations

import click

from aiflow_lite.cli.options import namespace_option, output_option, yes_option
from aiflow_lite.records import EXECUTION_COLUMNS, TASK_COLUMNS, TASK_DETAIL_COLUMNS

_NAMESPACE = namespace_option("Namespace of the workflow.", default="default")
#: A table says what an idle execution waits for in its status column.
_TABLE_COLUMNS = tuple(c for c in EXECUTION_COLUMNS if c != "waiting_for")
_TIMES = ("begin_time", "end_time")


def execution_rows(executions, output: str):
    """(rows, columns) of workflow executions for `emit`: json and yaml carry `waiting_for` as
    a field; a table says it in the status column ("RUNNING, idle: waiting for ...")."""
    rows = [e.to_dict() for e in executions]
    if output in ("json", "yaml"):
        return rows, EXECUTION_COLUMNS
    for row in rows:
        if row.get("waiting_for"):
            row["status"] = f"{row['status']}, idle: {row['waiting_for']}"
    return rows, _TABLE_COLUMNS


def remind_if_no_scheduler() -> None:
    """A command was recorded; say so if nobody will act on it yet."""
    from aiflow_lite.ops.backend import scheduler_pid

    if scheduler_pid() is None:
        click.echo("Note: no scheduler runs for this home, so nothing happens until one does: "
                   "start it with `aiflow server start -d`.", err=True)


@click.group("workflow-execution")
def workflow_execution() -> None:
    """Workflow execution related operations."""


@workflow_execution.command("start")
@click.argument("workflow_name")
@_NAMESPACE
def start(workflow_name: str, namespace: str) -> None:
    """Starts a new execution of the workflow; prints its id at once.

    Example: aiflow workflow-execution start quickstart_workflow --namespace default
    """
    from aiflow_lite.ops import start_workflow_execution

    execution_id = start_workflow_execution(workflow_name, namespace)
    click.echo(f"Workflow execution: {execution_id}, started.")
    remind_if_no_scheduler()


@workflow_execution.command("stop")
@click.argument("workflow_execution_id", type=int)
def stop(workflow_execution_id: int) -> None:
    """Stops a workflow execution and its running tasks.

    Example: aiflow workflow-execution stop 1
    """
    from aiflow_lite.ops import stop_workflow_execution

    stop_workflow_execution(workflow_execution_id)
    click.echo(f"Workflow execution: {workflow_execution_id}, stopping.")
    remind_if_no_scheduler()


@workflow_execution.command("stop-all")
@click.argument("workflow_name")
@_NAMESPACE
@yes_option
def stop_all(workflow_name: str, namespace: str, yes: bool) -> None:
    """Stops every unfinished execution of the workflow.

    Example: aiflow workflow-execution stop-all quickstart_workflow -y
    """
    from aiflow_lite.ops import get_workflow, stop_workflow_executions

    if get_workflow(workflow_name, namespace) is not None and not yes:
        click.confirm(f"Stop all executions of {namespace}.{workflow_name}?", abort=True)
    count = stop_workflow_executions(workflow_name, namespace)
    click.echo(f"Workflow {namespace}.{workflow_name}: {count} execution(s) stopping.")
    if count:
        remind_if_no_scheduler()


@workflow_execution.command("list")
@click.argument("workflow_name")
@_NAMESPACE
@output_option
def list_executions(workflow_name: str, namespace: str, output: str) -> None:
    """Lists the executions of a workflow.

    Example: aiflow workflow-execution list quickstart_workflow -o json
    """
    from aiflow_lite.cli.output import emit
    from aiflow_lite.ops import list_workflow_executions

    rows, columns = execution_rows(list_workflow_executions(workflow_name, namespace), output)
    emit(rows, columns, output, time_columns=_TIMES)


@workflow_execution.command("show")
@click.argument("workflow_execution_id", type=int)
@output_option
def show(workflow_execution_id: int, output: str) -> None:
    """Shows a workflow execution.

    Example: aiflow workflow-execution show 1 -o yaml
    """
    from aiflow_lite.cli.output import emit_one
    from aiflow_lite.ops import get_workflow_execution

    execution = get_workflow_execution(workflow_execution_id)
    rows, columns = execution_rows([execution] if execution else [], output)
    emit_one(rows[0] if rows else None, f"no workflow execution with id {workflow_execution_id}",
             columns, output, _TIMES)


@workflow_execution.command("delete")
@click.argument("workflow_execution_id", type=int)
@yes_option
def delete(workflow_execution_id: int, yes: bool) -> None:
    """Deletes a finished workflow execution and its task executions.

    Example: aiflow workflow-execution delete 1 -y
    """
    from aiflow_lite.ops import delete_workflow_execution

    if not yes:
        click.confirm(f"Delete workflow execution {workflow_execution_id}?", abort=True)
    delete_workflow_execution(workflow_execution_id)
    click.echo(f"Workflow execution: {workflow_execution_id}, deleted.")


@click.group("task-execution")
def task_execution() -> None:
    """Task execution related operations."""


@task_execution.command("list")
@click.argument("workflow_execution_id", type=int)
@output_option
def list_tasks(workflow_execution_id: int, output: str) -> None:
    """Lists the task executions of a workflow execution, with why each started and stopped.

    Example: aiflow task-execution list 1
    """
    from aiflow_lite.cli.output import emit
    from aiflow_lite.ops import list_task_executions

    emit((t.to_dict() for t in list_task_executions(workflow_execution_id)), TASK_COLUMNS,
         output, time_columns=_TIMES)


@task_execution.command("show")
@click.argument("task_execution_id", type=int)
@output_option
def show_task(task_execution_id: int, output: str) -> None:
    """Shows a task execution: its status, why it started (event and rule) and why it stopped,
    and what it produced in the meta service (model versions, datasets, artifacts, metrics).

    Example: aiflow task-execution show 3 -o json
    """
    from aiflow_lite.cli.output import dump, emit_one
    from aiflow_lite.ops import get_task_execution, get_task_outputs
    from aiflow_lite.records import task_execution_record

    meta = get_task_execution(task_execution_id)
    if meta is None:
        emit_one(None, f"no task execution with id {task_execution_id}", TASK_DETAIL_COLUMNS,
                 output)
    outputs = get_task_outputs(task_execution_id)
    if output in ("json", "yaml"):
        dump(task_execution_record(meta, outputs), output)
        return
    emit_one(meta, "", TASK_DETAIL_COLUMNS, output, _TIMES)
    for line in produced_lines(outputs, output == "plain"):
        click.echo(line)


def produced_lines(outputs, plain: bool) -> list:
    """What a task registered in the meta service: a short "produced:" section for a table, or
    tab-separated `produced` lines for plain output."""
    items = [("model_version", f"{v.model_name} v{v.version} ({v.stage})")
             for v in outputs.model_versions]
    items += [("dataset", d.name) for d in outputs.datasets]
    items += [("artifact", f"{a.name} v{a.version} ({a.file_name})") for a in outputs.artifacts]
    items += [("metric", f"{m.key}={m.value!r} (step {m.step})") for m in outputs.metrics]
    if plain:
        return [f"produced\t{kind}\t{text}" for kind, text in items]
    if not items:
        return ["", "produced: nothing in the meta service"]
    lines = ["", "produced:"]
    for kind, label in (("model_version", "model versions"), ("dataset", "datasets"),
                        ("artifact", "artifacts"), ("metric", "metrics")):
        texts = [text for k, text in items if k == kind]
        if texts:
            lines.append(f"  {label}: {', '.join(texts)}")
    return lines


def _task_command(verb: str, example_task: str) -> None:
    """`task-execution start|stop WORKFLOW_EXECUTION_ID TASK_NAME`: a command to the scheduler."""

    @task_execution.command(verb)
    @click.argument("workflow_execution_id", type=int)
    @click.argument("task_name")
    def command(workflow_execution_id: int, task_name: str) -> None:
        from aiflow_lite import ops

        getattr(ops, f"{verb}_task_execution")(workflow_execution_id, task_name)
        doing = {"start": "starting", "stop": "stopping"}[verb]
        click.echo(f"Task {task_name} of workflow execution {workflow_execution_id}: {doing}.")
        remind_if_no_scheduler()

    command.help = (
        ("Starts a task in a running workflow execution (nothing if it already runs)."
         if verb == "start" else "Stops a task's running execution.")
        + f"\n\nExample: aiflow task-execution {verb} 1 {example_task}")


_task_command("start", "task4")
_task_command("stop", "task3")


@task_execution.command("logs")
@click.argument("task_execution_id", type=int)
@click.option("--tail", "tail", type=click.IntRange(min=1), default=None,
              help="Only the last N lines.")
def logs(task_execution_id: int, tail: int) -> None:
    """Prints the log of a task execution.

    Example: aiflow task-execution logs 3 --tail 20
    """
    from aiflow_lite.errors import NotFound
    from aiflow_lite.ops import get_task_execution

    meta = get_task_execution(task_execution_id)
    if meta is None:
        raise NotFound(f"no task execution with id {task_execution_id}")
    if not meta.log_path:
        raise NotFound(f"task execution {task_execution_id} has no log yet (status "
                       f"{meta.status})")
    try:
        with open(meta.log_path, encoding="utf-8", errors="replace") as fh:
            lines = fh.readlines()
    except FileNotFoundError:
        raise NotFound(f"the log {meta.log_path} is gone") from None
    click.echo("".join(lines[-tail:] if tail else lines), nl=False)
