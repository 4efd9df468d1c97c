"""`aiflow metric log|list|history`: metrics of the meta service.

Not in the spec's command reference: the meta service is aiflow_lite's own."""

from __future__ import annotations

from typing import Optional

import click

from aiflow_lite.cli.datasets import META_NAMESPACE, columns_for, echo_or_emit
from aiflow_lite.cli.options import output_option
from aiflow_lite.records import METRIC_COLUMNS

_LIST_COLUMNS = ("key", "value", "step", "model_name", "model_version", "dataset_name",
                 "task_execution_id", "timestamp")
_TIMES = ("timestamp",)

_MODEL = click.option("--model", "model_name", default=None, metavar="M",
                      help="The model the metric is of (with --version).")
_DATASET = click.option("--dataset", "dataset_name", default=None, metavar="D",
                        help="The dataset the metric is of.")


def _version(help_text: str):
    return click.option("--version", "model_version", type=click.IntRange(min=1), default=None,
                        metavar="V", help=help_text)


def _check_version(model_name: Optional[str], model_version: Optional[int]) -> None:
    if model_version is not None and model_name is None:
        from aiflow_lite.errors import InvalidInput

        raise InvalidInput("--version names a version of a model: give --model M as well")


@click.group("metric")
def metric() -> None:
    """Metric related operations (the meta service)."""


@metric.command("log")
@click.argument("key")
@click.argument("value", type=float)
@click.option("--step", type=int, default=None, help="The step (epoch, iteration); default 0.")
@_MODEL
@_version("The model version the metric is of (with --model).")
@_DATASET
@META_NAMESPACE
@output_option
def log(key: str, value: float, step: Optional[int], model_name: Optional[str],
        model_version: Optional[int], dataset_name: Optional[str], namespace: Optional[str],
        output: str) -> None:
    """Logs one value of metric KEY, of a model version or a dataset if named.

    Example: aiflow metric log auc 0.91 --step 3 --model churn --version 2
    """
    from aiflow_lite import ops

    if (model_name is None) != (model_version is None):
        from aiflow_lite.errors import InvalidInput

        raise InvalidInput("a metric of a model version names both: --model M --version V")
    meta = ops.log_metric(key, value, step, model_name, model_version, dataset_name, namespace)
    echo_or_emit(f"Metric {meta.key} = {meta.value!r} (step {meta.step}), logged.", meta,
                 METRIC_COLUMNS, output, _TIMES)


@metric.command("list")
@click.option("--key", default=None, help="Only this metric.")
@_MODEL
@_version("Only this version of --model.")
@_DATASET
@click.option("--task-execution", "task_execution_id", type=int, default=None, metavar="ID",
              help="Only the metrics this task execution logged.")
@META_NAMESPACE
@output_option
def list_(key: Optional[str], model_name: Optional[str], model_version: Optional[int],
          dataset_name: Optional[str], task_execution_id: Optional[int],
          namespace: Optional[str], output: str) -> None:
    """Lists the latest value of each metric (per key, model version and dataset).

    Example: aiflow metric list --model churn --version 2 -o json
    """
    _check_version(model_name, model_version)
    from aiflow_lite import ops
    from aiflow_lite.cli.output import emit

    metrics = ops.list_metrics(key, model_name, model_version, dataset_name, task_execution_id,
                               namespace)
    emit((m.to_dict() for m in metrics), columns_for(output, _LIST_COLUMNS, METRIC_COLUMNS),
         output, time_columns=_TIMES)


@metric.command("history")
@click.argument("key")
@_MODEL
@_version("Only this version of --model.")
@_DATASET
@META_NAMESPACE
@output_option
def history(key: str, model_name: Optional[str], model_version: Optional[int],
            dataset_name: Optional[str], namespace: Optional[str], output: str) -> None:
    """Prints every value of metric KEY in the order they were logged (json: one object of
    columns: steps, values, timestamps).

    Example: aiflow metric history loss --model churn --version 2 -o json
    """
    _check_version(model_name, model_version)
    from aiflow_lite import ops

    points = ops.get_metric_history(key, model_name, model_version, dataset_name,
                                    namespace=namespace)
    if output in ("json", "yaml"):
        from aiflow_lite.cli.output import dump

        dump(points.to_dict(), output)
        return
    from aiflow_lite.cli.output import format_time_ms, render_table

    rows = [[str(p.step), repr(p.value), format_time_ms(p.timestamp)] for p in points]
    if output == "plain":
        for row in rows:
            click.echo("\t".join(row))
        return
    click.echo(render_table(["step", "value", "time"], rows), nl=False)
