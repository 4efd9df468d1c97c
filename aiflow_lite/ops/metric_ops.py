"""Metrics of the meta service: log one or many, read the latest of each, read a history. Each
point appends a `metric.<key>` event (value: the number) in the same transaction."""

from __future__ import annotations

from typing import Dict, List, Optional

from aiflow_lite.meta import MetricHistory, MetricMeta
from aiflow_lite.ops.backend import served, stores


@served
def log_metric(key: str, value: float, step: Optional[int] = None,
               model_name: Optional[str] = None, model_version: Optional[int] = None,
               dataset_name: Optional[str] = None,
               namespace: Optional[str] = None) -> MetricMeta:
    """Log one point (step 0 unless given), attached to the running task and, when named, to a
    model version (both `model_name` and `model_version`) or a dataset."""
    with stores() as s:
        [metric] = s.metrics.add({key: value}, step, model_name, model_version, dataset_name,
                                 namespace)
        return metric


@served
def log_metrics(metrics: Dict[str, float], step: Optional[int] = None,
                model_name: Optional[str] = None, model_version: Optional[int] = None,
                dataset_name: Optional[str] = None, namespace: Optional[str] = None) -> int:
    """Log every key -> value of `metrics` at one step, in one transaction; returns how many."""
    with stores() as s:
        s.metrics.add(metrics, step, model_name, model_version, dataset_name, namespace,
                      records=False)
        return len(metrics)


@served
def list_metrics(key: Optional[str] = None, model_name: Optional[str] = None,
                 model_version: Optional[int] = None, dataset_name: Optional[str] = None,
                 task_execution_id: Optional[int] = None, namespace: Optional[str] = None,
                 limit: Optional[int] = None, offset: Optional[int] = None) -> List[MetricMeta]:
    """The latest point of each metric that matches (per key, model version and dataset)."""
    with stores() as s:
        return s.metrics.latest(namespace, key, model_name, model_version, dataset_name,
                                task_execution_id, limit, offset)


@served
def get_metric_history(key: str, model_name: Optional[str] = None,
                       model_version: Optional[int] = None, dataset_name: Optional[str] = None,
                       task_execution_id: Optional[int] = None,
                       namespace: Optional[str] = None) -> MetricHistory:
    """Every point of `key` that matches, in logging order, as columns (steps, values,
    timestamps); it iterates as (step, value, timestamp) points."""
    with stores() as s:
        return s.metrics.history(key, model_name, model_version, dataset_name, namespace,
                                 task_execution_id)


