"""`aiflow dataset register|list|show|update|delete`: datasets of the meta service.

Not in the spec's command reference: the meta service is aiflow_lite's own."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import click

from aiflow_lite.cli.options import namespace_option, output_option, yes_option
from aiflow_lite.records import DATASET_COLUMNS, no_dataset

#: `-n` of every meta service command: left out, the store picks the namespace (the running
#: task's inside a task, else `default`).
META_NAMESPACE = namespace_option(
    "Namespace (default: the running task's inside a task, else `default`).", default=None)
_LIST_COLUMNS = ("name", "uri", "data_format", "description", "update_time")
_TIMES = ("create_time", "update_time")


def parse_json_object(text: Optional[str], option: str) -> Optional[dict]:
    """The JSON object an option was given (None when it was not), or a one-line InvalidInput
    before anything is opened."""
    if text is None:
        return None
    import json

    from aiflow_lite.errors import InvalidInput

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{option} must be a JSON object, got {text!r} ({exc})") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{option} must be a JSON object like '{{\"k\": \"v\"}}', got "
                           f"{text!r}")
    return value


def columns_for(output: str, short: Sequence[str], full: Sequence[str]) -> Sequence[str]:
    """Every field in json and yaml; the ones that fit on a line in a table."""
    return full if output in ("json", "yaml") else short


def echo_or_emit(message: str, record: Any, columns: Sequence[str], output: str,
                 time_columns: Sequence[str] = ()) -> None:
    """What a command that changes a record prints: a sentence in table and plain output, the
    record as it is now in json and yaml (for scripts)."""
    if output in ("table", "plain"):
        click.echo(message)
        return
    from aiflow_lite.cli.output import emit_one

    emit_one(record, message, columns, output, time_columns)


@click.group("dataset")
def dataset() -> None:
    """Dataset related operations (the meta service)."""


_SCHEMA = click.option("--schema", default=None, metavar="JSON",
                       help='Column name -> type name, e.g. \'{"user_id": "int64"}\'.')
_PROPERTIES = click.option("--properties", default=None, metavar="JSON",
                           help='Properties, a JSON object, e.g. \'{"owner": "ml"}\'.')


@dataset.command("register")
@click.argument("name")
@click.argument("uri")
@click.option("--format", "data_format", default=None, help="Data format, e.g. csv, parquet.")
@click.option("--description", default=None, help="What the dataset holds.")
@_SCHEMA
@_PROPERTIES
@META_NAMESPACE
@output_option
def register(name: str, uri: str, data_format: Optional[str], description: Optional[str],
             schema: Optional[str], properties: Optional[str], namespace: Optional[str],
             output: str) -> None:
    """Registers a dataset: a name for data at URI, with its format, schema and properties.

    Example: aiflow dataset register clicks /data/clicks.csv --format csv --schema '{"id": "int64"}'
    """
    parsed_schema = parse_json_object(schema, "--schema")
    parsed_properties = parse_json_object(properties, "--properties")
    from aiflow_lite import ops

    meta = ops.register_dataset(name, uri, data_format, description, parsed_schema,
                                parsed_properties, namespace)
    echo_or_emit(f"Dataset: {meta.namespace}.{meta.name}, registered.", meta, DATASET_COLUMNS,
                 output, _TIMES)


@dataset.command("list")
@META_NAMESPACE
@output_option
def list_(namespace: Optional[str], output: str) -> None:
    """Lists the datasets of a namespace.

    Example: aiflow dataset list -n default -o json
    """
    from aiflow_lite import ops
    from aiflow_lite.cli.output import emit

    emit((d.to_dict() for d in ops.list_datasets(namespace)),
         columns_for(output, _LIST_COLUMNS, DATASET_COLUMNS), output, time_columns=_TIMES)


@dataset.command("show")
@click.argument("name")
@META_NAMESPACE
@output_option
def show(name: str, namespace: Optional[str], output: str) -> None:
    """Shows a dataset: uri, format, schema, properties and the task that registered it.

    Example: aiflow dataset show clicks -o json
    """
    from aiflow_lite import ops
    from aiflow_lite.cli.output import emit_one

    emit_one(ops.get_dataset(name, namespace), no_dataset(name), DATASET_COLUMNS, output, _TIMES)


@dataset.command("update")
@click.argument("name")
@click.option("--uri", default=None, help="The new uri.")
@click.option("--format", "data_format", default=None, help="The new data format.")
@click.option("--description", default=None, help="The new description.")
@_SCHEMA
@click.option("--properties", default=None, metavar="JSON",
              help="The new properties, a JSON object: they replace the old ones.")
@META_NAMESPACE
@output_option
def update(name: str, uri: Optional[str], data_format: Optional[str],
           description: Optional[str], schema: Optional[str], properties: Optional[str],
           namespace: Optional[str], output: str) -> None:
    """Changes the fields given of a dataset; the others stay.

    Example: aiflow dataset update clicks --uri /data/clicks-v2.csv
    """
    parsed_schema = parse_json_object(schema, "--schema")
    parsed_properties = parse_json_object(properties, "--properties")
    from aiflow_lite import ops

    meta = ops.update_dataset(name, uri, data_format, description, parsed_schema,
                              parsed_properties, namespace)
    echo_or_emit(f"Dataset: {meta.namespace}.{meta.name}, updated.", meta, DATASET_COLUMNS,
                 output, _TIMES)


@dataset.command("delete")
@click.argument("name")
@META_NAMESPACE
@yes_option
def delete(name: str, namespace: Optional[str], yes: bool) -> None:
    """Deletes a dataset and the metrics logged against it.

    Example: aiflow dataset delete clicks -y
    """
    from aiflow_lite import ops

    meta = ops.get_dataset(name, namespace)
    if meta is None:
        from aiflow_lite.errors import NotFound

        raise NotFound(f"no dataset {name!r}; see `aiflow dataset list`")
    if not yes:
        click.confirm(f"Delete dataset {meta.namespace}.{name} and the metrics logged against "
                      "it?", abort=True)
    ops.delete_dataset(name, meta.namespace)
    click.echo(f"Dataset: {meta.namespace}.{name}, deleted.")
