"""`aiflow workflow upload|list|show|delete|disable|enable`."""

from __future__ import annotations

from typing import Any, Optional

import click

from aiflow_lite.cli.options import namespace_option, output_option, yes_option
from aiflow_lite.records import WORKFLOW_COLUMNS

_NAMESPACE = namespace_option("Namespace of the workflow.", default="default")
STARTS_WITH_EXECUTION = "START when the execution starts"


@click.group("workflow")
def workflow() -> None:
    """Workflow related operations."""


@workflow.command("upload")
@click.argument("file_path", type=click.Path(dir_okay=False))
@click.option("-f", "--files", default=None, metavar="F1,F2,DIR",
              help="Comma-separated files or directories the workflow uses, uploaded with it.")
def upload(file_path: str, files: Optional[str]) -> None:
    """Uploads the workflows declared in FILE_PATH, with a snapshot of it and its files.

    Example: aiflow workflow upload workflow.py --files data.csv,lib
    """
    from aiflow_lite.ops import upload_workflows

    artifacts = [f.strip() for f in files.split(",") if f.strip()] if files else []
    for meta in upload_workflows(file_path, artifacts):
        click.echo(f"Workflow: {meta.namespace}.{meta.name}, submitted.")


@workflow.command("list")
@_NAMESPACE
@output_option
def list_(namespace: str, output: str) -> None:
    """Lists the workflows of a namespace.

    Example: aiflow workflow list --namespace default -o json
    """
    from aiflow_lite.cli.output import emit
    from aiflow_lite.errors import NotFound
    from aiflow_lite.ops import get_namespace, list_workflows

    if get_namespace(namespace) is None:
        raise NotFound(f"no namespace named {namespace!r}; `aiflow namespace list` shows them")
    emit((w.to_dict() for w in list_workflows(namespace)), WORKFLOW_COLUMNS, output,
         time_columns=("create_time", "update_time"))


@workflow.command("show")
@click.argument("workflow_name")
@_NAMESPACE
@output_option
def show(workflow_name: str, namespace: str, output: str) -> None:
    """Shows a workflow: its tasks and the rules that start, stop and restart them.

    Example: aiflow workflow show quickstart_workflow -o json
    """
    from aiflow_lite.ops.backend import metadata_store

    with metadata_store() as store:
        meta = store.require_workflow(workflow_name, namespace)
    if output in ("json", "yaml"):
        _dump(meta.to_dict(), output)
    elif output == "plain":
        for task in meta.structure["tasks"]:
            rules = [describe_rule(r) for r in task["rules"]]
            if task["starts_with_execution"]:
                rules.insert(0, STARTS_WITH_EXECUTION)
            click.echo(f"{task['name']}\t{task['operator']}\t{'; '.join(rules)}")
    else:
        _print_tree(meta)


def describe_condition(condition: dict) -> str:
    kind = condition.get("type")
    if kind == "event":
        return "event " + ", ".join(repr(k) for k in condition["event_keys"])
    if kind == "task_status":
        return " and ".join(f"{name} is {status}" for name, status in condition["upstream"].items())
    if kind in ("all", "any"):
        joined = f" {'and' if kind == 'all' else 'or'} ".join(
            describe_condition(c) for c in condition["conditions"])
        return f"({joined})"
    keys = ", ".join(repr(k) for k in condition.get("event_keys", []))
    return f"{kind} on event {keys}"


def describe_rule(rule: dict) -> str:
    return f"{rule['action']} when {describe_condition(rule['condition'])}"


def _dump(data: Any, output: str) -> None:
    import json

    if output == "json":
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=False), nl=False)


def _print_tree(meta: Any) -> None:
    from rich.markup import escape
    from rich.text import Text
    from rich.tree import Tree

    from aiflow_lite.cli.output import make_console

    def plain(text: str) -> Text:  # user text is never read as markup
        return Text(text)

    state = "enabled" if meta.is_enabled else "disabled"
    tree = Tree(f"[bold]{escape(meta.namespace)}.{escape(meta.name)}[/bold] ({state}, "
                f"snapshot {meta.snapshot_id})")
    for task in meta.structure["tasks"]:
        detail = task.get("bash_command") or task.get("python_callable") or ""
        label = Text.assemble((task["name"], "bold"), f" {task['operator']}",
                              f": {detail}" if detail else "")
        node = tree.add(label, highlight=False)
        if task.get("periodic_expression"):
            node.add(plain(f"runs on {task['periodic_expression']}"))
        if task.get("max_retries"):
            node.add(plain(f"retries {task['max_retries']}x, {task['retry_delay']:g}s apart"))
        if task["starts_with_execution"]:
            node.add(plain(STARTS_WITH_EXECUTION))
        for rule in task["rules"]:
            node.add(plain(describe_rule(rule)), highlight=False)
    make_console().print(tree)


def _toggle(enabled: bool) -> Any:
    verb = "enable" if enabled else "disable"

    @workflow.command(verb)
    @click.argument("workflow_name")
    @_NAMESPACE
    @output_option
    def command(workflow_name: str, namespace: str, output: str) -> None:
        from aiflow_lite import ops
        from aiflow_lite.cli.output import emit

        getattr(ops, f"{verb}_workflow")(workflow_name, namespace)
        if output in ("table", "plain"):
            click.echo(f"Workflow: {namespace}.{workflow_name}, {verb}d.")
        else:  # the workflow as it is now, for scripts
            emit([ops.get_workflow(workflow_name, namespace).to_dict()], WORKFLOW_COLUMNS,
                 output)

    command.help = (
        f"{verb.capitalize()}s a workflow"
        + (": no new executions or task executions are scheduled." if not enabled else ".")
        + f"\n\nExample: aiflow workflow {verb} quickstart_workflow"
    )
    return command


_toggle(False)
_toggle(True)


@workflow.command("delete")
@click.argument("workflow_name")
@_NAMESPACE
@yes_option
def delete(workflow_name: str, namespace: str, yes: bool) -> None:
    """Deletes a workflow with its snapshots, executions, schedules and triggers.

    Example: aiflow workflow delete quickstart_workflow -y
    """
    from aiflow_lite.ops import delete_workflow, get_workflow

    if get_workflow(workflow_name, namespace) is None:
        from aiflow_lite.errors import NotFound

        raise NotFound(f"no workflow {namespace}.{workflow_name}")
    if not yes:
        click.confirm(f"Delete workflow {namespace}.{workflow_name} and all its executions?",
                      abort=True)
    delete_workflow(workflow_name, namespace)
    click.echo(f"Workflow: {namespace}.{workflow_name}, deleted.")
