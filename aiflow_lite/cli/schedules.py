"""`aiflow workflow-schedule ...` and `aiflow workflow-trigger ...`."""

from __future__ import annotations

from typing import Any, Callable

import click

from aiflow_lite.cli.options import namespace_option, output_option, yes_option
from aiflow_lite.records import SCHEDULE_COLUMNS, TRIGGER_COLUMNS

_NAMESPACE = namespace_option("Namespace of the workflow.", default="default")


@click.group("workflow-schedule")
def workflow_schedule() -> None:
    """Workflow schedule related operations."""


@click.group("workflow-trigger")
def workflow_trigger() -> None:
    """Workflow trigger related operations (create them with `ops.add_workflow_trigger`)."""


@workflow_schedule.command("add")
@click.argument("workflow_name")
@click.argument("expression")
@_NAMESPACE
def add(workflow_name: str, expression: str, namespace: str) -> None:
    """Runs the workflow on a schedule: cron@<crontab> or interval@<days> <hours> <min> <sec>.

    Example: aiflow workflow-schedule add my_workflow "cron@0 * * * *"
    """
    from aiflow_lite.ops import add_workflow_schedule, get_workflow

    meta = add_workflow_schedule(expression, workflow_name, namespace)
    click.echo(f"Workflow schedule: {meta.id}, created.")
    workflow = get_workflow(workflow_name, namespace)
    keys = (workflow.structure or {}).get("listens_for") if workflow else None
    if keys:
        click.echo(f"Note: {namespace}.{workflow_name} listens for "
                   f"{', '.join(map(repr, keys))}, so each scheduled execution stays RUNNING "
                   "until it is stopped (`aiflow workflow-execution stop ID`); a workflow "
                   "trigger on those events may be what you want.", err=True)


def _define(group: click.Group, noun: str, columns: tuple, example_name: str) -> None:
    """The commands schedules and triggers share: list, show, pause, resume, delete(-all)."""

    def op(verb: str, plural: bool = False) -> Callable[..., Any]:
        from aiflow_lite import ops  # lazily: `aiflow --help` must not open SQLite

        return getattr(ops, f"{verb}_workflow_{noun}" + ("s" if plural else ""))

    label = f"Workflow {noun}"
    times = ("next_fire_time", "create_time")

    @group.command("list")
    @click.argument("workflow_name")
    @_NAMESPACE
    @output_option
    def list_(workflow_name: str, namespace: str, output: str) -> None:
        from aiflow_lite.cli.output import emit

        items = op("list", plural=True)(workflow_name, namespace)
        emit((m.to_dict() for m in items), columns, output, time_columns=times)

    list_.help = f"Lists the {noun}s of a workflow.\n\nExample: aiflow workflow-{noun} list " \
                 f"{example_name}"

    @group.command("show")
    @click.argument("item_id", metavar=f"WORKFLOW_{noun.upper()}_ID", type=int)
    @output_option
    def show(item_id: int, output: str) -> None:
        from aiflow_lite.cli.output import emit_one

        emit_one(op("get")(item_id), f"no workflow {noun} with id {item_id}", columns, output,
                 times)

    show.help = f"Shows a workflow {noun}.\n\nExample: aiflow workflow-{noun} show 1"

    for verb in ("pause", "resume"):
        def make(verb: str = verb) -> None:
            @group.command(verb)
            @click.argument("item_id", metavar=f"WORKFLOW_{noun.upper()}_ID", type=int)
            def command(item_id: int) -> None:
                op(verb)(item_id)
                click.echo(f"{label}: {item_id}, {verb}d.")

            command.help = (f"{verb.capitalize()}s a workflow {noun}.\n\n"
                            f"Example: aiflow workflow-{noun} {verb} 1")
        make()

    @group.command("delete")
    @click.argument("item_id", metavar=f"WORKFLOW_{noun.upper()}_ID", type=int)
    @yes_option
    def delete(item_id: int, yes: bool) -> None:
        if not yes:
            click.confirm(f"Delete workflow {noun} {item_id}?", abort=True)
        op("delete")(item_id)
        click.echo(f"{label}: {item_id}, deleted.")

    delete.help = f"Deletes a workflow {noun}.\n\nExample: aiflow workflow-{noun} delete 1 -y"

    @group.command("delete-all")
    @click.argument("workflow_name")
    @_NAMESPACE
    @yes_option
    def delete_all(workflow_name: str, namespace: str, yes: bool) -> None:
        if not yes:
            click.confirm(f"Delete every {noun} of {namespace}.{workflow_name}?", abort=True)
        count = op("delete", plural=True)(workflow_name, namespace)
        click.echo(f"Workflow {namespace}.{workflow_name}: {count} {noun}(s) deleted.")

    delete_all.help = (f"Deletes every {noun} of a workflow.\n\n"
                       f"Example: aiflow workflow-{noun} delete-all {example_name} -y")


_define(workflow_schedule, "schedule", SCHEDULE_COLUMNS, "my_workflow")
_define(workflow_trigger, "trigger", TRIGGER_COLUMNS, "event_trigger_workflow_2")
