"""`aiflow model register|list|show|delete` and `aiflow model-version
register|list|show|update|delete`: models of the meta service and their versions.

Not in the spec's command reference: the meta service is aiflow_lite's own."""

from __future__ import annotations

from typing import Any, List, Optional

import click

from aiflow_lite.cli.datasets import (
    META_NAMESPACE,
    columns_for,
    echo_or_emit,
    parse_json_object,
)
from aiflow_lite.cli.options import output_option, yes_option
from aiflow_lite.records import MODEL_COLUMNS, STAGES, VERSION_COLUMNS, no_model
from aiflow_lite.status import ModelVersionStage

_MODEL_LIST = ("name", "latest_version", "description", "update_time")
_VERSION_LIST = ("version", "stage", "uri", "datasets", "description", "update_time")
#: The metrics table of `model-version show` (json: every field of each metric).
_METRIC_TABLE = ("key", "value", "step", "timestamp")
_TIMES = ("create_time", "update_time")
#: What `model-version show` says of where a version came from, in this order.
LINEAGE_FIELDS = ("workflow", "snapshot_id", "workflow_execution_id", "task_execution_id",
                  "task_name")


def _stage(choices: List[str], help_text: str) -> Any:
    return click.option("--stage", type=click.Choice(choices, case_sensitive=False),
                        default=None, help=help_text)


@click.group("model")
def model() -> None:
    """Model related operations (the meta service)."""


@model.command("register")
@click.argument("name")
@click.option("--description", default=None, help="What the model does.")
@click.option("--properties", default=None, metavar="JSON",
              help='Properties, a JSON object, e.g. \'{"framework": "sklearn"}\'.')
@META_NAMESPACE
@output_option
def register(name: str, description: Optional[str], properties: Optional[str],
             namespace: Optional[str], output: str) -> None:
    """Registers a model, a name its versions are registered under.

    Example: aiflow model register churn --description "who leaves next month"
    """
    parsed = parse_json_object(properties, "--properties")
    from aiflow_lite import ops

    meta = ops.register_model(name, description, parsed, namespace)
    echo_or_emit(f"Model: {meta.namespace}.{meta.name}, registered.", meta, MODEL_COLUMNS,
                 output, _TIMES)


@model.command("list")
@META_NAMESPACE
@output_option
def list_models(namespace: Optional[str], output: str) -> None:
    """Lists the models of a namespace with their latest version number.

    Example: aiflow model list -o json
    """
    from aiflow_lite import ops
    from aiflow_lite.cli.output import emit

    emit((m.to_dict() for m in ops.list_models(namespace)),
         columns_for(output, _MODEL_LIST, MODEL_COLUMNS), output, time_columns=_TIMES)


@model.command("show")
@click.argument("name")
@META_NAMESPACE
@output_option
def show_model(name: str, namespace: Optional[str], output: str) -> None:
    """Shows a model and its latest version in each stage.

    Example: aiflow model show churn -o json
    """
    from aiflow_lite import ops
    from aiflow_lite.cli.output import dump, emit, emit_one
    from aiflow_lite.records import model_record

    meta = ops.get_model(name, namespace)
    if meta is None:
        emit_one(None, no_model(name), MODEL_COLUMNS, output)
    latest = {stage: ops.get_latest_model_version(name, stage, meta.namespace)
              for stage in STAGES}
    if output in ("json", "yaml"):
        dump(model_record(meta, latest), output)
        return
    emit_one(meta, no_model(name), MODEL_COLUMNS, output, _TIMES)
    rows = [{"stage": stage, **v.to_dict()} for stage, v in latest.items() if v is not None]
    if output == "table":
        click.echo()
    emit(rows, ("stage", "version", "uri", "update_time"), output, time_columns=_TIMES,
         title="latest versions" if output == "table" else None)


@model.command("delete")
@click.argument("name")
@META_NAMESPACE
@yes_option
def delete_model(name: str, namespace: Optional[str], yes: bool) -> None:
    """Deletes a model with all its versions and their metrics.

    Example: aiflow model delete churn -y
    """
    from aiflow_lite import ops

    meta = ops.get_model(name, namespace)
    if meta is None:
        from aiflow_lite.errors import NotFound

        raise NotFound(no_model(name))
    if not yes:
        click.confirm(f"Delete model {meta.namespace}.{name} with all its versions and their "
                      "metrics?", abort=True)
    ops.delete_model(name, meta.namespace)
    click.echo(f"Model: {meta.namespace}.{name}, deleted.")


@click.group("model-version")
def model_version() -> None:
    """Model version related operations (the meta service)."""


@model_version.command("register")
@click.argument("model_name", metavar="MODEL")
@click.argument("uri")
@_stage([s for s in STAGES if s != ModelVersionStage.DELETED.value],
        "Its stage (default GENERATED); DEPLOYED deprecates the version deployed before.")
@click.option("--description", default=None, help="What is new in this version.")
@click.option("--properties", default=None, metavar="JSON",
              help='Properties, a JSON object, e.g. \'{"auc": 0.91}\'.')
@click.option("--dataset", "datasets", multiple=True, metavar="NAME",
              help="A dataset it was made from (repeat for several).")
@META_NAMESPACE
@output_option
def register_version(model_name: str, uri: str, stage: Optional[str],
                     description: Optional[str], properties: Optional[str], datasets: tuple,
                     namespace: Optional[str], output: str) -> None:
    """Registers the next version (1, 2, ...) of MODEL, stored at URI.

    Example: aiflow model-version register churn /models/churn/3 --stage VALIDATED --dataset clicks
    """
    parsed = parse_json_object(properties, "--properties")
    from aiflow_lite import ops

    meta = ops.register_model_version(model_name, uri, stage or ModelVersionStage.GENERATED,
                                      description, parsed, list(datasets), namespace)
    echo_or_emit(f"Model {meta.namespace}.{model_name}: version {meta.version}, {meta.stage}.",
                 meta, VERSION_COLUMNS, output, _TIMES)


@model_version.command("list")
@click.argument("model_name", metavar="MODEL")
@_stage(STAGES, "Only versions in this stage (DELETED ones are listed only when asked for).")
@META_NAMESPACE
@output_option
def list_versions(model_name: str, stage: Optional[str], namespace: Optional[str],
                  output: str) -> None:
    """Lists the versions of MODEL, oldest first.

    Example: aiflow model-version list churn --stage DEPLOYED -o json
    """
    from aiflow_lite import ops
    from aiflow_lite.cli.output import emit

    emit((v.to_dict() for v in ops.list_model_versions(model_name, stage, namespace)),
         columns_for(output, _VERSION_LIST, VERSION_COLUMNS), output, time_columns=_TIMES)


@model_version.command("show")
@click.argument("model_name", metavar="MODEL")
@click.argument("version", type=click.IntRange(min=1))
@META_NAMESPACE
@output_option
def show_version(model_name: str, version: int, namespace: Optional[str], output: str) -> None:
    """Shows a model version: where it came from (workflow, snapshot, execution, task, input
    datasets) and the latest value of each metric logged against it.

    Example: aiflow model-version show churn 3 -o json
    """
    from aiflow_lite import ops
    from aiflow_lite.cli.output import dump, emit, emit_one
    from aiflow_lite.records import model_version_record, no_model_version

    meta = ops.get_model_version(model_name, version, namespace)
    if meta is None:
        if ops.get_model(model_name, namespace) is None:
            emit_one(None, no_model(model_name), VERSION_COLUMNS, output)
        emit_one(None, no_model_version(model_name, version), VERSION_COLUMNS, output)
    metrics = ops.list_metrics(model_name=model_name, model_version=version,
                               namespace=meta.namespace)
    if output in ("json", "yaml"):
        dump(model_version_record(meta, metrics), output)
        return
    emit_one(meta, "", ("model_name", "version", "stage", "uri", "description", "properties",
                        "create_time", "update_time"), output, _TIMES)
    lineage = meta.lineage or {}
    if output == "plain":
        for field in LINEAGE_FIELDS:
            click.echo(f"lineage.{field}\t{'' if lineage.get(field) is None else lineage[field]}")
        click.echo(f"lineage.datasets\t{','.join(meta.datasets)}")
        for m in metrics:
            click.echo(f"metric\t{m.key}\t{m.value!r}\t{m.step}")
        return
    click.echo("\nlineage:")
    if not lineage.get("task_execution_id"):
        click.echo("  registered outside a task (no workflow produced it)")
    for field in LINEAGE_FIELDS:
        if lineage.get(field) is not None:
            click.echo(f"  {field.replace('_', ' ')}: {lineage[field]}")
    click.echo(f"  input datasets: {', '.join(meta.datasets) or '(none)'}")
    click.echo()
    emit((m.to_dict() for m in metrics), _METRIC_TABLE, output, time_columns=("timestamp",),
         title="metrics (latest of each)")


@model_version.command("update")
@click.argument("model_name", metavar="MODEL")
@click.argument("version", type=click.IntRange(min=1))
@_stage(STAGES, "The new stage; DEPLOYED deprecates the version deployed before.")
@click.option("--description", default=None, help="The new description.")
@META_NAMESPACE
@output_option
def update_version(model_name: str, version: int, stage: Optional[str],
                   description: Optional[str], namespace: Optional[str], output: str) -> None:
    """Changes the stage or description of a model version.

    Example: aiflow model-version update churn 3 --stage DEPLOYED
    """
    from aiflow_lite import ops

    meta = ops.update_model_version(model_name, version, stage, description,
                                    namespace=namespace)
    echo_or_emit(f"Model {meta.namespace}.{model_name}: version {version}, {meta.stage}.",
                 meta, VERSION_COLUMNS, output, _TIMES)


@model_version.command("delete")
@click.argument("model_name", metavar="MODEL")
@click.argument("version", type=click.IntRange(min=1))
@META_NAMESPACE
@yes_option
def delete_version(model_name: str, version: int, namespace: Optional[str], yes: bool) -> None:
    """Marks a model version DELETED: its number is not given out again, its lineage stays.

    Example: aiflow model-version delete churn 2 -y
    """
    from aiflow_lite import ops
    from aiflow_lite.errors import NotFound

    meta = ops.get_model_version(model_name, version, namespace)
    if meta is None:
        if ops.get_model(model_name, namespace) is None:
            raise NotFound(no_model(model_name))
        raise NotFound(f"model {model_name!r} has no version {version}")
    if not yes:
        click.confirm(f"Delete version {version} of model {meta.namespace}.{model_name}?",
                      abort=True)
    ops.delete_model_version(model_name, version, meta.namespace)
    click.echo(f"Model {meta.namespace}.{model_name}: version {version}, DELETED.")
