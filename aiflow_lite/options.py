"""Every configuration option, once: its name, type, default, help, the files it may be in,
and which process reads it. `config` derives its defaults and checks from this table,
`Settings.<name>` reads an option by name, and the README's configuration reference is
generated from it (`python -m aiflow_lite.options`; tests/test_config.py keeps them equal).
`{AIFLOW_HOME}` in a default is the home directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple

AIFLOW = "aiflow_server.yaml"
NOTIFICATION = "notification_server.yaml"
CLIENT = "aiflow_client.yaml"
SERVERS = (AIFLOW, NOTIFICATION)


@dataclass(frozen=True)
class Option:
    name: str
    kind: type  # int, float, str or dict: what the resolved value is
    default: Any
    help: str
    files: Tuple[str, ...]
    read_by: str
    positive: bool = False  # a number that must be > 0


def _option(name: str, kind: type, default: Any, help: str, files: Tuple[str, ...],
            read_by: str, positive: bool = False) -> Option:
    return Option(name, kind, default, help, files, read_by, positive)


OPTIONS: Tuple[Option, ...] = (
    _option("log_dir", str, "{AIFLOW_HOME}/logs", "directory of AIFlow logs", (AIFLOW,),
            "the scheduler (task logs), the servers, the webserver"),
    _option("rpc_host", str, "127.0.0.1", "address the rpc server binds; any other than "
            "loopback needs server_token", (AIFLOW,), "`aiflow server`"),
    _option("rpc_port", int, 50051, "port of the rpc server (0: any free port)", (AIFLOW,),
            "`aiflow server`"),
    _option("server_host", str, "127.0.0.1", "address the notification server binds; any "
            "other than loopback needs server_token", (NOTIFICATION,), "`notification server`"),
    _option("server_port", int, 50052, "port of the notification server (0: any free port)",
            (NOTIFICATION,), "`notification server`"),
    _option("metadata_backend_uri", str, "sqlite:///{AIFLOW_HOME}/aiflow.db",
            "the home's SQLite database: event log and metadata", (AIFLOW,), "every process"),
    _option("db_uri", str, None, "database of the event log; default: the AIFlow home's "
            "database", (NOTIFICATION,), "the `notification` command and server"),
    _option("durability", str, "normal", "normal: survives process crashes; full: also power "
            "loss (fsync)", SERVERS, "every process that writes"),
    _option("busy_timeout_ms", int, 30000, "how long a writer waits for the database lock, in "
            "ms", SERVERS, "every process that writes"),
    _option("history_retention", str, "30d", "keep events this long (e.g. 30d, 12h, 0 = "
            "forever)", SERVERS, "every client, when it opens the log"),
    _option("server_token", str, None, "secret every remote call must present (or "
            "AIFLOW_SERVER_TOKEN); the webserver's too", SERVERS,
            "both servers and the webserver"),
    _option("tls_cert_file", str, None, "PEM certificate: serve TLS instead of plaintext",
            SERVERS, "both servers"),
    _option("tls_key_file", str, None, "PEM private key of tls_cert_file", SERVERS,
            "both servers"),
    _option("rpc_max_message_mb", int, 64, "largest request or reply, in MiB (uploads "
            "included)", SERVERS, "both servers"),
    _option("rpc_max_calls_per_s", int, 20000, "calls per second per client address before "
            "refusals", SERVERS, "both servers"),
    _option("rpc_max_listeners", int, 64, "listen streams served at once", SERVERS,
            "both servers"),
    _option("rest_host", str, "127.0.0.1", "address the webserver (UI and REST API) binds; any "
            "other than loopback needs server_token", (AIFLOW,), "`aiflow webserver`"),
    _option("rest_port", int, 8000, "port of the webserver (0: any free port)", (AIFLOW,),
            "`aiflow webserver`"),
    _option("task_executor", str, "Local", "task executor: local (workers on this machine) or "
            "ray (Ray tasks on the cluster at ray_address)", (AIFLOW,), "the scheduler"),
    _option("ray_address", str, "auto", "address of the Ray cluster (host:port of its head, "
            "or auto: the one `ray start` started here)", (AIFLOW,),
            "the scheduler (task_executor: ray)"),
    _option("ray_task_num_cpus", float, 1, "CPUs Ray reserves for each running task (0.5 "
            "lets two share a CPU)", (AIFLOW,), "the scheduler (task_executor: ray)"),
    _option("ray_executor_parallelism", int, 100, "number of tasks submitted to Ray at once "
            "(Ray runs them as its CPUs allow)", (AIFLOW,),
            "the scheduler (task_executor: ray)"),
    _option("task_executor_heartbeat_check_interval", float, 10, "seconds between checks of "
            "the running tasks' heartbeats", (AIFLOW,), "the scheduler", positive=True),
    _option("task_heartbeat_timeout", float, 60, "seconds without a heartbeat before a task "
            "is an orphan", (AIFLOW,), "the scheduler", positive=True),
    _option("task_heartbeat_interval", float, 10, "seconds between task heartbeats",
            (AIFLOW,), "the workers", positive=True),
    _option("local_executor_parallelism", int, 10, "number of tasks run at once by the local "
            "executor", (AIFLOW,), "the scheduler"),
    _option("executor_worker_start", str, "forkserver", "forkserver (fast: forks a warm "
            "process) or spawn", (AIFLOW,), "the scheduler"),
    _option("executor_zygotes", int, 4, "workflow files the fork server keeps loaded to fork "
            "their tasks from (0: every task executes its file itself)", (AIFLOW,),
            "the fork server"),
    _option("executor_zygote_idle_seconds", float, 60, "seconds a loaded workflow file is kept "
            "unused", (AIFLOW,), "the fork server", positive=True),
    _option("executor_zygote_max_age_seconds", float, 300, "seconds a loaded workflow file is "
            "used at most (then its top level is executed anew)", (AIFLOW,), "the fork server",
            positive=True),
    _option("blob_manager", dict, {"blob_manager_class": "aiflow_lite.blob.LocalBlobManager",
                                   "blob_manager_config": {"root_directory": "{AIFLOW_HOME}/blob"}},
            "where uploaded workflow snapshots and artifacts are kept", (AIFLOW,),
            "uploads, workers, the meta service"),
    _option("wait_for_server_started_timeout", float, 5.0, "seconds `notification server "
            "start -d` waits for the server to answer", (NOTIFICATION,),
            "`notification server start -d`", positive=True),
    _option("server_address", str, None, "host:port of the AIFlow server; unset: use the "
            "local home", (CLIENT,), "`ops` and the `aiflow` command"),
    _option("tls_ca_file", str, None, "PEM CA certificate: talk TLS to the server", (CLIENT,),
            "`ops` and the `aiflow` command"),
    _option("rpc_timeout", float, 30.0, "seconds a remote call may take", (CLIENT,),
            "`ops`, the `aiflow` command, remote notification clients", positive=True),
)

BY_NAME: Dict[str, Option] = {option.name: option for option in OPTIONS}
_CLIENT_TOKEN_HELP = "the server's token (or AIFLOW_SERVER_TOKEN)"


def defaults(file: str) -> Dict[str, tuple]:
    """{name: (default, help)} of one config file, in the table's order."""
    table = {o.name: (o.default, o.help) for o in OPTIONS if file in o.files}
    if file == CLIENT:  # the client names the token it presents, not one it serves
        table = {"server_address": table.pop("server_address"),
                 "server_token": (None, _CLIENT_TOKEN_HELP), **table}
    return table


INT_KEYS = frozenset(o.name for o in OPTIONS if o.kind is int)
POSITIVE_FLOAT_KEYS = frozenset(o.name for o in OPTIONS if o.kind is float and o.positive)


def reference_markdown() -> str:
    """The README's configuration reference: one row per option."""
    import json

    def shown(value: Any) -> str:
        if value is None:
            return "unset"
        if isinstance(value, dict):
            return f"`{json.dumps(value, separators=(', ', ': '))}`"
        return f"`{value}`"

    rows = ["| option | file | default | read by | what it does |",
            "| --- | --- | --- | --- | --- |"]
    for option in OPTIONS:
        files = ", ".join(f"`{f}`" for f in option.files)
        rows.append(f"| `{option.name}` | {files} | {shown(option.default)} | "
                    f"{option.read_by} | {option.help} |")
    rows.append(f"| `server_token` | `{CLIENT}` | unset | `ops` and the `aiflow` command | "
                f"{_CLIENT_TOKEN_HELP} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(reference_markdown(), end="")
