"""The numbered schema of a home's database: the event log, the workflow metadata and the meta
service, in one file so that a state change and the cursor (or event) that goes with it commit
together (DESIGN.md §2).

Append a `Migration` to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

from aiflow_lite.sqlite import Migration

MIGRATIONS: list = [
    Migration(
        version=1,
        name="event log",
        up="""
            -- AUTOINCREMENT: an offset is never reused, even after retention empties the table.
            CREATE TABLE event (
                "offset"    INTEGER PRIMARY KEY AUTOINCREMENT,
                key         TEXT NOT NULL,
                value       TEXT,
                namespace   TEXT,
                sender      TEXT,
                context     TEXT,
                create_time INTEGER NOT NULL
            );
            -- (key) implicitly ends with the rowid, i.e. the offset: serves "next events of a key
            -- after an offset" as one index range scan in offset order.
            CREATE INDEX event_key ON event(key);
            CREATE INDEX event_create_time ON event(create_time);
            CREATE TABLE event_cursor (
                name        TEXT PRIMARY KEY,
                "offset"    INTEGER NOT NULL,
                update_time INTEGER NOT NULL
            ) WITHOUT ROWID;
        """,
        down="""
            DROP TABLE event_cursor;
            DROP TABLE event;
        """,
    ),
]

MIGRATIONS.append(
    Migration(
        version=2,
        name="metadata: namespaces, workflows, snapshots, executions, schedules, triggers, state",
        up="""
            CREATE TABLE namespace (
                name        TEXT PRIMARY KEY,
                properties  TEXT NOT NULL DEFAULT '{}',
                create_time INTEGER NOT NULL
            );
            INSERT INTO namespace (name, properties, create_time)
                VALUES ('default', '{}', CAST(unixepoch('subsec') * 1000 AS INTEGER));
            CREATE TABLE workflow (
                id          INTEGER PRIMARY KEY,
                namespace   TEXT NOT NULL REFERENCES namespace(name),
                name        TEXT NOT NULL,
                content     TEXT NOT NULL,            -- the uploaded source
                workflow    BLOB NOT NULL,            -- the cloudpickled Workflow object
                structure   TEXT NOT NULL,            -- Workflow.describe() as JSON
                is_enabled  INTEGER NOT NULL DEFAULT 1,
                snapshot_id INTEGER,                  -- the current one: set by every upload
                create_time INTEGER NOT NULL,
                update_time INTEGER NOT NULL,
                UNIQUE (namespace, name)
            );
            CREATE TABLE workflow_snapshot (
                id          INTEGER PRIMARY KEY,
                workflow_id INTEGER NOT NULL REFERENCES workflow(id) ON DELETE CASCADE,
                content     TEXT NOT NULL,
                workflow    BLOB NOT NULL,
                structure   TEXT NOT NULL,
                uri         TEXT NOT NULL,            -- the archive in the blob store
                file_name   TEXT NOT NULL,            -- the workflow file's name in the archive
                signature   TEXT NOT NULL,            -- sha256 of the source and uploaded files
                create_time INTEGER NOT NULL,
                UNIQUE (workflow_id, signature)
            );
            CREATE TABLE workflow_execution (
                id             INTEGER PRIMARY KEY,
                workflow_id    INTEGER NOT NULL REFERENCES workflow(id) ON DELETE CASCADE,
                snapshot_id    INTEGER NOT NULL REFERENCES workflow_snapshot(id),
                execution_type TEXT NOT NULL,
                status         TEXT NOT NULL,
                begin_time     INTEGER,
                end_time       INTEGER,
                reason         TEXT                   -- what started it (event offset, schedule)
            );
            CREATE INDEX workflow_execution_status ON workflow_execution(status);
            CREATE TABLE task_execution (
                id                    INTEGER PRIMARY KEY,
                workflow_execution_id INTEGER NOT NULL
                                      REFERENCES workflow_execution(id) ON DELETE CASCADE,
                task_name             TEXT NOT NULL,
                sequence_number       INTEGER NOT NULL,
                execution_type        TEXT NOT NULL,
                status                TEXT NOT NULL,
                try_number            INTEGER NOT NULL DEFAULT 1,
                begin_time            INTEGER,
                end_time              INTEGER,
                pid                   INTEGER,
                pid_start             TEXT,           -- the process's start time: no pid reuse
                heartbeat_time        INTEGER,
                retry_time            INTEGER,        -- when a RETRYING execution is re-queued
                log_path              TEXT,
                reason                TEXT,           -- why it started: event, rule or timer
                stop_reason           TEXT,           -- why it stopped, when it was stopped
                UNIQUE (workflow_execution_id, task_name, sequence_number)
            );
            CREATE INDEX task_execution_status ON task_execution(status);
            CREATE TABLE workflow_schedule (
                id             INTEGER PRIMARY KEY,
                workflow_id    INTEGER NOT NULL REFERENCES workflow(id) ON DELETE CASCADE,
                expression     TEXT NOT NULL,
                is_paused      INTEGER NOT NULL DEFAULT 0,
                anchor_time    INTEGER NOT NULL,      -- intervals count from here
                next_fire_time INTEGER,               -- persisted: a restart neither skips nor
                create_time    INTEGER NOT NULL       -- double-fires
            );
            CREATE TABLE workflow_trigger (
                id          INTEGER PRIMARY KEY,
                workflow_id INTEGER NOT NULL REFERENCES workflow(id) ON DELETE CASCADE,
                rule        BLOB NOT NULL,            -- the cloudpickled WorkflowRule
                description TEXT NOT NULL,            -- WorkflowRule.describe() as JSON
                is_paused   INTEGER NOT NULL DEFAULT 0,
                create_time INTEGER NOT NULL
            );
            CREATE TABLE task_timer (                 -- periodic tasks' next due times
                workflow_execution_id INTEGER NOT NULL
                                      REFERENCES workflow_execution(id) ON DELETE CASCADE,
                task_name             TEXT NOT NULL,
                expression            TEXT NOT NULL,
                anchor_time           INTEGER NOT NULL,
                next_fire_time        INTEGER NOT NULL,
                PRIMARY KEY (workflow_execution_id, task_name)
            ) WITHOUT ROWID;
            CREATE TABLE rule_state (                 -- ValueState per execution, task and rule
                workflow_execution_id INTEGER NOT NULL
                                      REFERENCES workflow_execution(id) ON DELETE CASCADE,
                task_name             TEXT NOT NULL,
                rule_index            INTEGER NOT NULL,
                name                  TEXT NOT NULL,
                value                 TEXT,           -- JSON
                PRIMARY KEY (workflow_execution_id, task_name, rule_index, name)
            ) WITHOUT ROWID;
        """,
        down="""
            DROP TABLE rule_state;
            DROP TABLE task_timer;
            DROP TABLE workflow_trigger;
            DROP TABLE workflow_schedule;
            DROP TABLE task_execution;
            DROP TABLE workflow_execution;
            DROP TABLE workflow_snapshot;
            DROP TABLE workflow;
            DROP TABLE namespace;
        """,
    )
)

_NEVER_REUSED = ("workflow_snapshot", "workflow_execution", "task_execution", "workflow_trigger")


def _sequence_up(tables: tuple = _NEVER_REUSED[:3], create: bool = True) -> str:
    """Ids that are never reused: SQLite gives a new row max(id) + 1, so deleting the newest
    execution (or snapshot) handed its id to the next one, and whatever was keyed by the id (a
    scheduler's caches, a fork server's zygote, a working directory) saw the old row's data.
    The inserts take `next_id(table)`; a trigger advances the sequence and another refuses an
    id at or below it. (Migration 3 made the sequence for the first three tables; migration 4
    added workflow triggers, whose rules the scheduler caches by id.)"""
    parts = ["CREATE TABLE id_sequence (name TEXT PRIMARY KEY, last INTEGER NOT NULL) "
             "WITHOUT ROWID;"] if create else []
    for table in tables:
        parts.append(f"""
            INSERT INTO id_sequence SELECT '{table}', coalesce(max(id), 0) FROM {table};
            CREATE TRIGGER {table}_id_fresh BEFORE INSERT ON {table}
            WHEN NEW.id IS NULL OR NEW.id <= (SELECT last FROM id_sequence WHERE name = '{table}')
            BEGIN SELECT RAISE(ABORT, '{table} ids are never reused: insert with next_id()'); END;
            CREATE TRIGGER {table}_id_taken AFTER INSERT ON {table}
            BEGIN UPDATE id_sequence SET last = NEW.id WHERE name = '{table}'; END;""")
    return "\n".join(parts)


def next_id(table: str) -> str:
    """SQL for the next never-used id of `table` (one of _NEVER_REUSED)."""
    assert table in _NEVER_REUSED
    return f"(SELECT last + 1 FROM id_sequence WHERE name = '{table}')"


MIGRATIONS.append(
    Migration(
        version=3,
        name="ids never reused; active tasks of an execution",
        up=_sequence_up() + """
            -- "Has this execution an active task?" is asked after every task that finishes:
            -- without this it read every task of the execution (1,000 rows in a fan-out).
            CREATE INDEX task_execution_by_status ON task_execution(workflow_execution_id, status);
        """,
        down="DROP INDEX task_execution_by_status;\n" + "".join(
            f"DROP TRIGGER {t}_id_fresh; DROP TRIGGER {t}_id_taken;\n" for t in _NEVER_REUSED[:3])
        + "DROP TABLE id_sequence;",
    )
)

MIGRATIONS.append(
    Migration(
        version=4,
        name="listening executions, tasks held by a user, workflow trigger state",
        up=_sequence_up(("workflow_trigger",), create=False) + """
            -- What an idle RUNNING execution still waits for, written when it goes idle.
            ALTER TABLE workflow_execution ADD COLUMN waiting_for TEXT;
            -- 1 when a user stopped the task: it holds its execution open to be started again.
            ALTER TABLE task_execution ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
            CREATE TABLE trigger_state (              -- ValueState of a workflow trigger's rule
                trigger_id  INTEGER NOT NULL REFERENCES workflow_trigger(id) ON DELETE CASCADE,
                name        TEXT NOT NULL,
                value       TEXT,                     -- JSON
                PRIMARY KEY (trigger_id, name)
            ) WITHOUT ROWID;
        """,
        down="""
            DROP TABLE trigger_state;
            ALTER TABLE task_execution DROP COLUMN held;
            ALTER TABLE workflow_execution DROP COLUMN waiting_for;
            DROP TRIGGER workflow_trigger_id_fresh; DROP TRIGGER workflow_trigger_id_taken;
            DELETE FROM id_sequence WHERE name = 'workflow_trigger';
        """,
    )
)

MIGRATIONS.append(
    Migration(
        version=5,
        name="meta service: datasets, models and versions, metrics, artifacts",
        up="""
            -- `lineage`: JSON naming the task that registered the row ('{}' when none did); the
            -- ids beside it are copies for lookups, not foreign keys, so that deleting an
            -- execution does not rewrite where a model came from.
            CREATE TABLE dataset (
                id                    INTEGER PRIMARY KEY,
                namespace             TEXT NOT NULL REFERENCES namespace(name),
                name                  TEXT NOT NULL,
                uri                   TEXT NOT NULL,
                data_format           TEXT,
                description           TEXT,
                schema                TEXT NOT NULL DEFAULT '{}',   -- column -> type, JSON
                properties            TEXT NOT NULL DEFAULT '{}',
                lineage               TEXT NOT NULL DEFAULT '{}',
                task_execution_id     INTEGER,
                create_time           INTEGER NOT NULL,
                update_time           INTEGER NOT NULL,
                UNIQUE (namespace, name)
            );
            CREATE TABLE model (
                id             INTEGER PRIMARY KEY,
                namespace      TEXT NOT NULL REFERENCES namespace(name),
                name           TEXT NOT NULL,
                description    TEXT,
                properties     TEXT NOT NULL DEFAULT '{}',
                last_version   INTEGER NOT NULL DEFAULT 0,  -- version numbers are never reused
                create_time    INTEGER NOT NULL,
                update_time    INTEGER NOT NULL,
                UNIQUE (namespace, name)
            );
            CREATE TABLE model_version (
                id                INTEGER PRIMARY KEY,
                model_id          INTEGER NOT NULL REFERENCES model(id) ON DELETE CASCADE,
                version           INTEGER NOT NULL,
                uri               TEXT NOT NULL,
                stage             TEXT NOT NULL,
                description       TEXT,
                properties        TEXT NOT NULL DEFAULT '{}',
                datasets          TEXT NOT NULL DEFAULT '[]',  -- input dataset names, JSON
                lineage           TEXT NOT NULL DEFAULT '{}',
                task_execution_id INTEGER,
                create_time       INTEGER NOT NULL,
                update_time       INTEGER NOT NULL,
                UNIQUE (model_id, version)
            );
            -- At most one DEPLOYED version per model, whatever a writer forgets.
            CREATE UNIQUE INDEX model_version_deployed ON model_version(model_id)
                WHERE stage = 'DEPLOYED';
            CREATE INDEX model_version_by_stage ON model_version(model_id, stage, version);
            CREATE INDEX model_version_by_task ON model_version(task_execution_id)
                WHERE task_execution_id IS NOT NULL;
            CREATE TABLE metric (
                id                    INTEGER PRIMARY KEY,
                namespace             TEXT NOT NULL,
                key                   TEXT NOT NULL,
                value                 REAL NOT NULL,
                step                  INTEGER NOT NULL,
                timestamp             INTEGER NOT NULL,
                model_version_id      INTEGER REFERENCES model_version(id) ON DELETE CASCADE,
                dataset_id            INTEGER REFERENCES dataset(id) ON DELETE CASCADE,
                workflow_execution_id INTEGER,
                task_execution_id     INTEGER
            );
            -- A history is one range scan: (namespace, key) then the rowid, i.e. logging order.
            CREATE INDEX metric_by_key ON metric(namespace, key);
            CREATE INDEX metric_by_version ON metric(model_version_id)
                WHERE model_version_id IS NOT NULL;
            CREATE INDEX metric_by_dataset ON metric(dataset_id) WHERE dataset_id IS NOT NULL;
            CREATE INDEX metric_by_task ON metric(task_execution_id)
                WHERE task_execution_id IS NOT NULL;
            CREATE TABLE artifact (
                id                INTEGER PRIMARY KEY,
                namespace         TEXT NOT NULL REFERENCES namespace(name),
                name              TEXT NOT NULL,
                version           INTEGER NOT NULL,
                uri               TEXT NOT NULL,
                file_name         TEXT NOT NULL,
                content_hash      TEXT NOT NULL,             -- sha256, hex
                size              INTEGER NOT NULL,
                description       TEXT,
                lineage           TEXT NOT NULL DEFAULT '{}',
                task_execution_id INTEGER,
                create_time       INTEGER NOT NULL,
                UNIQUE (namespace, name, version)
            );
            CREATE INDEX artifact_by_task ON artifact(task_execution_id)
                WHERE task_execution_id IS NOT NULL;
        """,
        down="""
            DROP TABLE artifact;
            DROP TABLE metric;
            DROP TABLE model_version;
            DROP TABLE model;
            DROP TABLE dataset;
        """,
    )
)

MIGRATIONS.append(
    Migration(
        version=6,
        name="the event that started a task execution",
        up="""
            -- The offset of the event whose rule started it; NULL: started with its execution,
            -- by a timer or by a user. (An offset, not a copy: events are never updated.)
            ALTER TABLE task_execution ADD COLUMN trigger_offset INTEGER;
        """,
        down="""
            ALTER TABLE task_execution DROP COLUMN trigger_offset;
        """,
    )
)
