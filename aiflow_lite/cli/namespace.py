"""`aiflow namespace add|delete|list`."""

from __future__ import annotations

import json
from typing import Optional

import click

from aiflow_lite.cli.options import output_option, yes_option


@click.group("namespace")
def namespace() -> None:
    """Namespace related operations."""


@namespace.command("add")
@click.argument("namespace_name")
@click.option("--properties", default=None, metavar="JSON",
              help='Properties of the namespace, a JSON object, e.g. \'{"team": "ml"}\'.')
def add(namespace_name: str, properties: Optional[str]) -> None:
    """Creates a namespace.

    Example: aiflow namespace add user_namespace --properties '{"team": "ml"}'
    """
    from aiflow_lite.errors import InvalidInput
    from aiflow_lite.events import validate_name

    validate_name(namespace_name, "namespace")
    props = None
    if properties is not None:
        try:
            props = json.loads(properties)
        except ValueError:
            raise InvalidInput(f"--properties must be a JSON object, got {properties!r}") from None
    from aiflow_lite.ops import add_namespace

    add_namespace(namespace_name, props)
    click.echo(f"Namespace: {namespace_name}, created.")


@namespace.command("delete")
@click.argument("namespace_name")
@yes_option
def delete(namespace_name: str, yes: bool) -> None:
    """Deletes a namespace; refuses while it still has workflows.

    Example: aiflow namespace delete user_namespace -y
    """
    from aiflow_lite.ops import delete_namespace, get_namespace

    if get_namespace(namespace_name) is None:
        from aiflow_lite.errors import NotFound

        raise NotFound(f"no namespace named {namespace_name!r}")
    if not yes:
        click.confirm(f"Delete namespace {namespace_name!r}?", abort=True)
    delete_namespace(namespace_name)
    click.echo(f"Namespace: {namespace_name}, deleted.")


@namespace.command("list")
@output_option
def list_(output: str) -> None:
    """Lists all namespaces.

    Example: aiflow namespace list -o json
    """
    from aiflow_lite.cli.output import emit
    from aiflow_lite.ops import list_namespace
    from aiflow_lite.records import NAMESPACE_COLUMNS

    emit((n.to_dict() for n in list_namespace()), NAMESPACE_COLUMNS, output,
         time_columns=("create_time",))
