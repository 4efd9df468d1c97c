"""Models and their versions. A version is numbered 1, 2, ... per model (numbers are never
reused) and moves through the stages of `ModelVersionStage`; at most one version of a model is
DEPLOYED, so deploying one moves the previous DEPLOYED version to DEPRECATED in the same
transaction. Deleting a version marks it DELETED (its number and lineage stay); deleting a
model removes it with its versions and their metrics.

Events: `model_version.<model>` once per changed version (deleting a model changes each of its
versions to DELETED), value its stage after the change, context `model`, `version`, `uri`,
`previous_stage` and `lineage`; `model.<model>` when the model itself is REGISTERED or DELETED.
A change that changes nothing appends nothing."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from aiflow_lite.errors import InvalidInput, NotFound
from aiflow_lite.events import now_ms, validate_name
from aiflow_lite.meta import ModelMeta, ModelVersionMeta
from aiflow_lite.meta_service.base import MetaStore, dumps, integer, loads, mapping, page, text
from aiflow_lite.status import ModelVersionStage, parse_enum

_MODEL = ("SELECT namespace, name, description, properties, create_time, update_time, "
          "nullif(last_version, 0) FROM model")
_VERSION = ("SELECT m.namespace, m.name, v.version, v.uri, v.stage, v.description, "
            "v.properties, v.create_time, v.update_time, v.datasets, v.lineage "
            "FROM model_version v JOIN model m ON m.id = v.model_id")
DEPLOYED, DEPRECATED, DELETED = (ModelVersionStage.DEPLOYED.value,
                                 ModelVersionStage.DEPRECATED.value,
                                 ModelVersionStage.DELETED.value)


def _model(row: tuple) -> ModelMeta:
    namespace, name, description, properties, created, updated, latest = row
    return ModelMeta(namespace, name, description, loads(properties, {}), created, updated,
                     latest)


def _version(row: tuple) -> ModelVersionMeta:
    namespace, model, version, uri, stage, description, properties, created, updated, \
        datasets, lineage = row
    return ModelVersionMeta(namespace, model, version, uri, stage, description,
                            loads(properties, {}), created, updated, loads(datasets, []),
                            loads(lineage, {}))


def stage_of(value: Any) -> str:
    return parse_enum(ModelVersionStage, value, "model version stage").value


class ModelStore(MetaStore):
    # -- models -------------------------------------------------------------------------------

    def register(self, name: str, description: Optional[str] = None, properties: Any = None,
                 namespace: Optional[str] = None) -> ModelMeta:
        validate_name(name, "model name")
        text(description, "description")
        properties = mapping(properties, "model properties")
        with self.db.transaction():
            namespace = self.namespace(namespace)
            if self._model_id(name, namespace) is not None:
                raise InvalidInput(f"model {name!r} already exists in namespace {namespace!r}; "
                                   "register a new version of it with "
                                   "`aiflow model-version register`")
            now = now_ms()
            self.db.execute("INSERT INTO model (namespace, name, description, properties, "
                            "create_time, update_time) VALUES (?, ?, ?, ?, ?, ?)",
                            (namespace, name, description, dumps(properties), now, now))
            self.emit(f"model.{name}", "REGISTERED", namespace,
                      {"model": name, "lineage": self.lineage()})
            return self.require(name, namespace)

    def get(self, name: str, namespace: Optional[str] = None) -> Optional[ModelMeta]:
        row = self.db.one(f"{_MODEL} WHERE namespace = ? AND name = ?",
                          (self.namespace(namespace), name))
        return _model(row) if row else None

    def require(self, name: str, namespace: Optional[str] = None) -> ModelMeta:
        found = self.get(name, namespace)
        if found is None:
            raise NotFound(f"no model {name!r} in namespace {self.namespace(namespace)!r}; "
                           f"register it first with `aiflow model register {name}`")
        return found

    def list(self, namespace: Optional[str] = None, limit: Optional[int] = None,
             offset: Optional[int] = None) -> List[ModelMeta]:
        return [_model(r) for r in self.db.rows(
            f"{_MODEL} WHERE namespace = ? ORDER BY name LIMIT ? OFFSET ?",
            (self.namespace(namespace), *page(limit, offset)))]

    def delete(self, name: str, namespace: Optional[str] = None) -> None:
        with self.db.transaction():
            namespace = self.namespace(namespace)
            model_id = self._require_id(name, namespace)
            for version, uri, stage in self.db.rows(
                    "SELECT version, uri, stage FROM model_version WHERE model_id = ? AND "
                    "stage != ? ORDER BY version", (model_id, DELETED)):
                # Its versions go too: a rule waiting on a stage hears of each.
                self._version_changed(name, namespace, version, uri, DELETED, stage,
                                      self.lineage())
            self.db.execute("DELETE FROM model WHERE id = ?", (model_id,))
            self.emit(f"model.{name}", "DELETED", namespace,
                      {"model": name, "lineage": self.lineage()})

    def _model_id(self, name: str, namespace: str) -> Optional[int]:
        return self.db.scalar("SELECT id FROM model WHERE namespace = ? AND name = ?",
                              (namespace, name))

    def _require_id(self, name: str, namespace: str) -> int:
        model_id = self._model_id(name, namespace)
        if model_id is None:
            self.require(name, namespace)  # raises the one-line NotFound
        return model_id

    # -- versions -----------------------------------------------------------------------------

    def register_version(self, model_name: str, uri: str,
                         stage: Any = ModelVersionStage.GENERATED,
                         description: Optional[str] = None, properties: Any = None,
                         datasets: Optional[Sequence[str]] = None,
                         namespace: Optional[str] = None) -> ModelVersionMeta:
        """The next version of the model; `datasets` names what it was made from."""
        text(uri, "a model version's uri", required=True)
        text(description, "description")
        stage = stage_of(stage)
        if stage == DELETED:
            raise InvalidInput("a new model version cannot start DELETED")
        properties = mapping(properties, "model version properties")
        inputs = _names(datasets)
        with self.db.transaction():
            namespace = self.namespace(namespace)
            model_id = self._require_id(model_name, namespace)
            for dataset in inputs:
                if self.db.one("SELECT 1 FROM dataset WHERE namespace = ? AND name = ?",
                               (namespace, dataset)) is None:
                    raise NotFound(f"no dataset {dataset!r} in namespace {namespace!r} to "
                                   "record as an input; register it first")
            version = self.db.scalar("UPDATE model SET last_version = last_version + 1 "
                                     "WHERE id = ? RETURNING last_version", (model_id,))
            if stage == DEPLOYED:
                self._deprecate_deployed(model_id, model_name, namespace)
            lineage, now = self.lineage(), now_ms()
            self.db.execute(
                "INSERT INTO model_version (model_id, version, uri, stage, description, "
                "properties, datasets, lineage, task_execution_id, create_time, update_time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (model_id, version, uri, stage, description, dumps(properties), dumps(inputs),
                 dumps(lineage), lineage.get("task_execution_id"), now, now))
            self._version_changed(model_name, namespace, version, uri, stage, None, lineage)
        return ModelVersionMeta(namespace, model_name, version, uri, stage, description,
                                properties, now, now, inputs, lineage)

    def update_version(self, model_name: str, version: int, stage: Any = None,
                       description: Optional[str] = None, properties: Any = None,
                       namespace: Optional[str] = None) -> ModelVersionMeta:
        """Change the fields given; DEPLOYED deprecates the version deployed before."""
        version = integer(version, "a model version", minimum=1)
        text(description, "description")
        stage = None if stage is None else stage_of(stage)
        properties = None if properties is None else mapping(properties,
                                                             "model version properties")
        with self.db.transaction():
            namespace = self.namespace(namespace)
            model_id = self._require_id(model_name, namespace)
            current = self._require_version(model_id, model_name, namespace, version)
            if current.stage == DELETED and stage != DELETED and stage is not None:
                raise InvalidInput(f"model {model_name!r} version {version} is DELETED; "
                                   "register a new version instead")
            if (stage in (None, current.stage) and description in (None, current.description)
                    and properties in (None, current.properties)):
                return current  # nothing changes: no event either
            if stage == DEPLOYED and current.stage != DEPLOYED:
                self._deprecate_deployed(model_id, model_name, namespace)
            self.db.execute(
                "UPDATE model_version SET stage = coalesce(?, stage), "
                "description = coalesce(?, description), properties = coalesce(?, properties), "
                "update_time = ? WHERE model_id = ? AND version = ?",
                (stage, description, None if properties is None else dumps(properties),
                 now_ms(), model_id, version))
            self._version_changed(model_name, namespace, version, current.uri,
                                  stage or current.stage, current.stage, self.lineage())
            return self._require_version(model_id, model_name, namespace, version)

    def delete_version(self, model_name: str, version: int,
                       namespace: Optional[str] = None) -> ModelVersionMeta:
        with self.db.transaction():
            current = self.get_version(model_name, version, namespace)
            if current is None:
                self.require_version(model_name, version, namespace)
            if current.stage == DELETED:
                raise InvalidInput(f"model {model_name!r} version {version} is already DELETED")
            return self.update_version(model_name, version, DELETED, namespace=namespace)

    def get_version(self, model_name: str, version: int,
                    namespace: Optional[str] = None) -> Optional[ModelVersionMeta]:
        """None when the model has no such version; an unknown model is NotFound, as for every
        version verb (a typo in its name must not read as "no version yet")."""
        version = integer(version, "a model version", minimum=1)
        namespace = self.namespace(namespace)
        row = self.db.one(f"{_VERSION} WHERE v.model_id = ? AND v.version = ?",
                          (self._require_id(model_name, namespace), version))
        return _version(row) if row else None

    def require_version(self, model_name: str, version: int,
                        namespace: Optional[str] = None) -> ModelVersionMeta:
        namespace = self.namespace(namespace)
        return self._require_version(self._require_id(model_name, namespace), model_name,
                                     namespace, version)

    def latest_version(self, model_name: str, stage: Any = None,
                       namespace: Optional[str] = None) -> Optional[ModelVersionMeta]:
        """The highest-numbered version in `stage` (any stage but DELETED when None)."""
        namespace = self.namespace(namespace)
        model_id = self._require_id(model_name, namespace)
        if stage is None:
            where, params = "v.stage != ?", (DELETED,)
        else:
            where, params = "v.stage = ?", (stage_of(stage),)
        row = self.db.one(f"{_VERSION} WHERE v.model_id = ? AND {where} "
                          "ORDER BY v.version DESC LIMIT 1", (model_id, *params))
        return _version(row) if row else None

    def list_versions(self, model_name: str, stage: Any = None,
                      namespace: Optional[str] = None, limit: Optional[int] = None,
                      offset: Optional[int] = None) -> List[ModelVersionMeta]:
        """Oldest first; DELETED versions only when asked for by `stage`."""
        namespace = self.namespace(namespace)
        model_id = self._require_id(model_name, namespace)
        where, params = (("v.stage != ?", (DELETED,)) if stage is None
                         else ("v.stage = ?", (stage_of(stage),)))
        return [_version(r) for r in self.db.rows(
            f"{_VERSION} WHERE v.model_id = ? AND {where} ORDER BY v.version LIMIT ? OFFSET ?",
            (model_id, *params, *page(limit, offset)))]

    def produced_by(self, task_execution_id: int) -> List[ModelVersionMeta]:
        return [_version(r) for r in self.db.rows(
            f"{_VERSION} WHERE v.task_execution_id = ? ORDER BY v.id", (task_execution_id,))]

    def version_id(self, model_name: str, version: int, namespace: str) -> int:
        model_id = self._require_id(model_name, namespace)
        self._require_version(model_id, model_name, namespace, version)
        return self.db.scalar("SELECT id FROM model_version WHERE model_id = ? AND version = ?",
                              (model_id, version))

    def _require_version(self, model_id: int, model_name: str, namespace: str,
                         version: int) -> ModelVersionMeta:
        row = self.db.one(f"{_VERSION} WHERE v.model_id = ? AND v.version = ?",
                          (model_id, integer(version, "a model version", minimum=1)))
        if row is None:
            raise NotFound(f"model {model_name!r} in namespace {namespace!r} has no version "
                           f"{version}; see `aiflow model-version list {model_name}`")
        return _version(row)

    def _deprecate_deployed(self, model_id: int, model_name: str, namespace: str) -> None:
        row = self.db.one("SELECT version, uri FROM model_version WHERE model_id = ? AND "
                          "stage = ?", (model_id, DEPLOYED))
        if row is None:
            return
        self.db.execute("UPDATE model_version SET stage = ?, update_time = ? "
                        "WHERE model_id = ? AND version = ?",
                        (DEPRECATED, now_ms(), model_id, row[0]))
        self._version_changed(model_name, namespace, row[0], row[1], DEPRECATED, DEPLOYED,
                              self.lineage())

    def _version_changed(self, model_name: str, namespace: str, version: int, uri: str,
                         stage: str, previous: Optional[str], lineage: Dict[str, Any]) -> None:
        self.emit(f"model_version.{model_name}", stage, namespace,
                  {"model": model_name, "version": version, "uri": uri,
                   "previous_stage": previous, "lineage": lineage})


def _names(datasets: Optional[Sequence[str]]) -> List[str]:
    if datasets is None:
        return []
    if isinstance(datasets, str):
        datasets = [datasets]
    names = [validate_name(d, "dataset name") for d in datasets]
    return list(dict.fromkeys(names))
