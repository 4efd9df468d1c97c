"""Metrics: numbers logged under a key, each with a step (default 0) and a timestamp, attached
to the task execution that logged it and optionally to a model version or a dataset. Each point
appends a `metric.<key>` event (value: the number). A history is one index range scan, read as
columns."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from aiflow_lite.errors import InvalidInput
from aiflow_lite.events import check_event, now_ms, validate_name
from aiflow_lite.meta import MetricHistory, MetricMeta
from aiflow_lite.meta_service.base import SENDER, MetaStore, integer, number, page
from aiflow_lite.meta_service.datasets import DatasetStore
from aiflow_lite.meta_service.models import ModelStore

_SELECT = ("SELECT x.id, x.namespace, x.key, x.value, x.step, x.timestamp, m.name, v.version, "
           "d.name, x.workflow_execution_id, x.task_execution_id FROM metric x "
           "LEFT JOIN model_version v ON v.id = x.model_version_id "
           "LEFT JOIN model m ON m.id = v.model_id LEFT JOIN dataset d ON d.id = x.dataset_id")
_INSERT = ("INSERT INTO metric (namespace, key, value, step, timestamp, model_version_id, "
           "dataset_id, workflow_execution_id, task_execution_id) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


class MetricStore(MetaStore):
    def add(self, metrics: Mapping[str, Any], step: Optional[int] = None,
            model_name: Optional[str] = None, model_version: Optional[int] = None,
            dataset_name: Optional[str] = None, namespace: Optional[str] = None,
            timestamp: Optional[int] = None, records: bool = True) -> List[MetricMeta]:
        """Log every (key, value) of `metrics` at one step, in one transaction; returns them
        (none when `records` is False: a batch's 1,000 records cost a fifth of its time).
        One event per point."""
        if not isinstance(metrics, Mapping) or not metrics:
            raise InvalidInput("log_metrics needs a non-empty mapping of metric key to number")
        points = [(validate_name(key, "metric key"), number(value, f"metric {key!r}"))
                  for key, value in metrics.items()]
        step = 0 if step is None else integer(step, "step", minimum=-(2**63))
        timestamp = now_ms() if timestamp is None else integer(timestamp, "timestamp")
        if (model_name is None) != (model_version is None):
            raise InvalidInput("a metric of a model version names both the model and the "
                               "version (--model M --version V)")
        with self.db.transaction():
            namespace = self.namespace(namespace)
            version_id = None if model_name is None else ModelStore(self.db, self.log) \
                .version_id(model_name, model_version, namespace)
            dataset_id = None if dataset_name is None else DatasetStore(self.db, self.log) \
                .id_of(dataset_name, namespace)
            lineage = self.lineage()
            run = (lineage.get("workflow_execution_id"), lineage.get("task_execution_id"))
            rows = [(namespace, key, value, step, timestamp, version_id, dataset_id, *run)
                    for key, value in points]
            if len(rows) == 1:
                self.db.execute(_INSERT, rows[0])
            else:
                self.db.executemany(_INSERT, rows)
            # Under the write lock a rowid table hands out max(id) + 1, + 2, ...: the last
            # insert's id gives every id.
            last = self.db.last_insert_rowid()
            attached = {"step": step, "model": model_name, "version": model_version,
                        "dataset": dataset_name, "lineage": lineage}
            self._events(namespace, points, attached)
        if not records:
            return []
        return [MetricMeta(last - len(rows) + 1 + i, namespace, key, value, step, timestamp,
                           model_name, model_version, dataset_name, *run)
                for i, (key, value) in enumerate(points)]

    def _events(self, namespace: str, points: List[Tuple[str, float]],
                attached: Dict[str, Any]) -> None:
        """The points' events, one per point, as one batch of the caller's transaction. The
        keys are checked names, the values numbers, and every context is the shared part with
        the point's key in front, so the shared part is checked (and encoded) once."""
        if len(points) == 1:
            key, value = points[0]
            self.emit(f"metric.{key}", repr(value), namespace, {"metric": key, **attached})
            return
        shared = check_event("metric.x", "0", namespace, SENDER, attached)[4]
        self.log.append_rows([(f"metric.{key}", repr(value), namespace, SENDER,
                               f'{{"metric":"{key}",{shared[1:]}')
                              for key, value in points])

    def by_id(self, metric_id: int) -> MetricMeta:
        return MetricMeta(*self.db.one(f"{_SELECT} WHERE x.id = ?", (metric_id,)))

    def latest(self, namespace: Optional[str] = None, key: Optional[str] = None,
               model_name: Optional[str] = None, model_version: Optional[int] = None,
               dataset_name: Optional[str] = None, task_execution_id: Optional[int] = None,
               limit: Optional[int] = None, offset: Optional[int] = None) -> List[MetricMeta]:
        """The latest point of each metric (key, model version, dataset) that matches."""
        where, params = self._where(namespace, key, model_name, model_version, dataset_name,
                                    task_execution_id)
        return [MetricMeta(*r) for r in self.db.rows(
            f"{_SELECT} WHERE x.id IN (SELECT max(id) FROM metric x WHERE {where} "
            "GROUP BY key, model_version_id, dataset_id) ORDER BY x.key, x.id LIMIT ? OFFSET ?",
            (*params, *page(limit, offset)))]

    def history(self, key: str, model_name: Optional[str] = None,
                model_version: Optional[int] = None, dataset_name: Optional[str] = None,
                namespace: Optional[str] = None,
                task_execution_id: Optional[int] = None) -> MetricHistory:
        """Every point of `key` that matches, in the order they were logged."""
        validate_name(key, "metric key")
        where, params = self._where(namespace, key, model_name, model_version, dataset_name,
                                    task_execution_id)
        rows = self.db.rows(f"SELECT step, value, timestamp FROM metric x WHERE {where} "
                            "ORDER BY x.id", params)
        steps = [r[0] for r in rows]
        values = [r[1] for r in rows]
        times = [r[2] for r in rows]
        return MetricHistory(params[0], key, steps, values, times)

    def _where(self, namespace: Optional[str], key: Optional[str], model_name: Optional[str],
               model_version: Optional[int], dataset_name: Optional[str],
               task_execution_id: Optional[int]) -> Tuple[str, list]:
        namespace = self.namespace(namespace)
        where, params = ["x.namespace = ?"], [namespace]
        if key is not None:
            where.append("x.key = ?")
            params.append(key)
        if model_name is not None:
            if model_version is None:
                where.append("x.model_version_id IN (SELECT v.id FROM model_version v JOIN "
                             "model m ON m.id = v.model_id WHERE m.namespace = ? AND "
                             "m.name = ?)")
                params += [namespace, model_name]
            else:
                where.append("x.model_version_id = ?")
                params.append(ModelStore(self.db, self.log).version_id(
                    model_name, model_version, namespace))
        elif model_version is not None:
            raise InvalidInput("a model version is named with its model (--model M)")
        if dataset_name is not None:
            where.append("x.dataset_id = ?")
            params.append(DatasetStore(self.db, self.log).id_of(dataset_name, namespace))
        if task_execution_id is not None:
            where.append("x.task_execution_id = ?")
            params.append(integer(task_execution_id, "task execution id"))
        return " AND ".join(where), params
