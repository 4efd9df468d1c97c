"""Configuration: where the home is, which database it uses, and the options of its YAML files.

* `AIFLOW_HOME` (default ``~/aiflow``) holds ``aiflow_server.yaml`` and the database ``aiflow.db``.
* The `notification` command reads ``notification_server.yaml`` from `NOTIFICATION_HOME` when
  that is set, else from the AIFlow home. Its ``db_uri`` defaults to the AIFlow home's database,
  so events sent with it reach the scheduler; pointing it elsewhere gives a standalone event log.

Nothing is read at import time: call `load_aiflow_settings()` / `load_notification_settings()`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional

from aiflow_lite.errors import AiflowError, InvalidInput
from aiflow_lite.options import AIFLOW as AIFLOW_CONFIG_FILE
from aiflow_lite.options import BY_NAME, INT_KEYS, POSITIVE_FLOAT_KEYS, defaults
from aiflow_lite.options import CLIENT as CLIENT_CONFIG_FILE
from aiflow_lite.options import NOTIFICATION as NOTIFICATION_CONFIG_FILE

#: The servers' shared secret, when not in their config file (it beats the file).
TOKEN_ENV = "AIFLOW_SERVER_TOKEN"
DB_FILE = "aiflow.db"

# Each default: (value, help), from the one options table (`aiflow_lite.options`).
AIFLOW_DEFAULTS: dict = defaults(AIFLOW_CONFIG_FILE)
NOTIFICATION_DEFAULTS: dict = defaults(NOTIFICATION_CONFIG_FILE)
CLIENT_DEFAULTS: dict = defaults(CLIENT_CONFIG_FILE)

# Options the spec lists that aiflow_lite has no use for: each is accepted with one line saying
# why it does nothing (None: any value; a set: the values that would need what we lack).
_SPEC_ONLY: dict = {
    AIFLOW_CONFIG_FILE: {
        "internal_rpc_port": "there is no internal rpc: the scheduler runs in the server process",
        "state_backend_uri": "rule and trigger state live in the home's one database",
        "sql_alchemy_pool_enabled": "there is no SQLAlchemy: each process opens SQLite itself",
        "sql_alchemy_pool_size": "there is no SQLAlchemy: each process opens SQLite itself",
        "sql_alchemy_max_overflow": "there is no SQLAlchemy: each process opens SQLite itself",
        "notification_server_uri": "the scheduler reads the home's event log directly",
        "k8s_executor_config": "tasks run on this machine (local) or on Ray (ray), not on "
                               "Kubernetes",
    },
    NOTIFICATION_CONFIG_FILE: {
        "ha_ttl_ms": "there is no HA mode: one notification server per home",
        "advertised_uri": "there is no HA mode: clients use the server's own address",
    },
    CLIENT_CONFIG_FILE: {
        "blob_manager": "uploads travel inside the call; the server's blob manager keeps them",
    },
}
# Spec options whose value would need what aiflow_lite does not have: refused in one line.
_UNSUPPORTED_VALUES: dict = {
    "task_executor": ({"local", "ray"}, "aiflow_lite runs tasks on this machine (local) or on "
                                        "a Ray cluster (ray): use one of those"),
    "enable_ha": ({"false", "0", "no", "off", "none"}, "aiflow_lite has no HA mode: one "
                  "notification server per home; remove enable_ha"),
}
_warned: set = set()  # (file, key): each note once per process

_INT_KEYS = INT_KEYS
_POSITIVE_FLOAT_KEYS = POSITIVE_FLOAT_KEYS
_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*\Z")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def aiflow_home() -> str:
    return os.path.abspath(os.path.expanduser(os.environ.get("AIFLOW_HOME") or "~/aiflow"))


def notification_home() -> str:
    """Where ``notification_server.yaml`` lives: `NOTIFICATION_HOME`, else the AIFlow home."""
    explicit = os.environ.get("NOTIFICATION_HOME")
    return os.path.abspath(os.path.expanduser(explicit)) if explicit else aiflow_home()


def parse_duration_ms(text: Any, what: str = "duration") -> Optional[int]:
    """'30d' → ms; '0', 'none', 'never' → None (keep forever). Bare numbers are seconds."""
    if text is None or str(text).strip().lower() in ("0", "none", "never", "forever", ""):
        return None
    match = _DURATION_RE.match(str(text))
    if not match:
        raise InvalidInput(f"invalid {what} {text!r}: use a number and a unit, e.g. 30d, 12h, 90s")
    return int(float(match.group(1)) * _UNIT_MS[match.group(2) or "s"])


def db_path_from_uri(uri: str, base_dir: str) -> str:
    """`sqlite:///path` or a plain path → an absolute file path (relative ones from `base_dir`)."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInput(f"invalid database uri {uri!r}: use sqlite:///PATH")
    if "://" in uri:
        scheme, _, rest = uri.partition("://")
        if scheme != "sqlite" or not rest.startswith("/"):
            raise InvalidInput(
                f"unsupported database uri {uri!r}: aiflow_lite keeps everything in SQLite, "
                "use sqlite:///PATH"
            )
        uri = rest[1:]  # SQLAlchemy style: sqlite:///rel.db, sqlite:////abs/path.db
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(uri)))


def log_directory(settings: Settings) -> str:
    """Where a process of this home writes its logs: `log_dir` (an aiflow_server.yaml option),
    else `<home>/logs` (the notification server's settings have no such option)."""
    return str(settings.values.get("log_dir") or os.path.join(settings.home, "logs"))


def blob_manager_settings(settings: Settings) -> tuple:
    """(class path, config) of the blob manager, checked for shape."""
    section = settings.values.get("blob_manager") or {}
    if not isinstance(section, dict) or not section.get("blob_manager_class"):
        raise InvalidInput(f"config {settings.config_file}: blob_manager needs a "
                           "blob_manager_class")
    config = section.get("blob_manager_config") or {}
    if not isinstance(config, dict):
        raise InvalidInput(f"config {settings.config_file}: blob_manager_config must be a mapping")
    return section["blob_manager_class"], config


@dataclass(frozen=True)
class Settings:
    """One home's resolved configuration."""

    home: str
    config_file: str
    db_path: str
    durability: str = "normal"
    busy_timeout_ms: int = 30000
    history_retention_ms: Optional[int] = None
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        """An option by name, typed as the options table says: `settings.rpc_port`. (Called
        only for names that are not fields.)"""
        if name in BY_NAME:
            values = self.__dict__.get("values") or {}
            if name in values:
                return values[name]
            raise AttributeError(f"option {name!r} is not one of {self.config_file}'s")
        raise AttributeError(name)

    def get(self, option: str) -> Any:
        if option not in self.values:
            raise InvalidInput(
                f"unknown option {option!r}; `config list` shows the options"
            )
        return self.values[option]


def _read_yaml(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise AiflowError(f"cannot read config {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise InvalidInput(f"config {path} is not UTF-8 text; fix or remove it") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"config {path}{_yaml_error_place(exc)} is not valid YAML; fix or "
                           "remove it") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"config {path} must be a mapping of option: value")
    return data


def _yaml_error_place(exc: Any) -> str:
    """' line N (what is wrong)': the line where the broken construct starts when the parser
    only noticed at the end of the file (an unclosed bracket or quote), else where it did."""
    problem, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    mark = context if context is not None and problem is not None and \
        problem.index >= len(problem.buffer or "") - 1 else problem
    if mark is None:
        return ""
    what = getattr(exc, "problem", None)
    return f" line {mark.line + 1}" + (f" ({what})" if what else "")


def _check_keys(defaults: Mapping[str, tuple], path: str, data: Mapping[str, Any]) -> None:
    """Unknown keys (a typo does nothing otherwise) and the spec's options that do nothing
    here are said on stderr, once; a spec value that needs what is missing is refused."""
    import difflib
    import sys

    spec_only = _SPEC_ONLY.get(os.path.basename(path), {})
    for key, value in data.items():
        allowed = _UNSUPPORTED_VALUES.get(key)
        if allowed and str(value).strip().lower() not in allowed[0]:
            raise InvalidInput(f"config {path}: {key}: {value} is not supported; {allowed[1]}")
        if key in defaults or key in _UNSUPPORTED_VALUES or (path, key) in _warned:
            continue
        _warned.add((path, key))
        if key in spec_only:
            sys.stderr.write(f"Note: config {path}: {key} has no effect in aiflow_lite "
                             f"({spec_only[key]}).\n")
            continue
        close = difflib.get_close_matches(str(key), list(defaults), n=1)
        hint = f"; did you mean {close[0]}?" if close else "; `config list` shows the options"
        sys.stderr.write(f"Warning: config {path}: unknown option {key!r} is ignored{hint}\n")


def _substitute(value: Any, variable: str, replacement: str) -> Any:
    """Replace ${VAR} and {VAR} in strings, also inside nested mappings and lists."""
    if isinstance(value, str):
        return value.replace("${" + variable + "}", replacement).replace(
            "{" + variable + "}", replacement)
    if isinstance(value, dict):
        return {k: _substitute(v, variable, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variable, replacement) for v in value]
    return value


#: Resolved config files, by what they were resolved from: a long-lived process (a server, a
#: task logging metrics in a loop) reads settings on every `ops` call, and parsing YAML costs
#: more than the call's own work. A file that changes has another stat identity.
_resolved: Dict[tuple, dict] = {}


def _file_identity(path: str) -> Optional[tuple]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _resolve(defaults: Mapping[str, tuple], path: str, home: str) -> dict:
    key = (id(defaults), path, home, _file_identity(path), os.environ.get(TOKEN_ENV))
    cached = _resolved.get(key)
    if cached is None:
        if len(_resolved) > 64:
            _resolved.clear()
        cached = _resolved[key] = _resolve_file(defaults, path, home)
    return dict(cached)


def _resolve_file(defaults: Mapping[str, tuple], path: str, home: str) -> dict:
    values = {key: default for key, (default, _help) in defaults.items()}
    data = _read_yaml(path)
    _check_keys(defaults, path, data)
    values.update(data)
    for key, value in values.items():
        values[key] = _substitute(value, "AIFLOW_HOME", home)
        if key in _INT_KEYS:
            try:
                values[key] = int(values[key])
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"config {path}: {key} must be an integer, got {value!r}"
                ) from None
        if key in _POSITIVE_FLOAT_KEYS:
            try:
                values[key] = float(values[key])
                if not values[key] > 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"config {path}: {key} must be a number of seconds > 0, got {value!r}"
                ) from None
    if "ray_task_num_cpus" in values:
        try:
            values["ray_task_num_cpus"] = float(values["ray_task_num_cpus"])
            if not values["ray_task_num_cpus"] >= 0:
                raise ValueError
        except (TypeError, ValueError):
            raise InvalidInput(f"config {path}: ray_task_num_cpus must be a number of CPUs >= 0, "
                               f"got {values['ray_task_num_cpus']!r}") from None
    if "durability" in values:
        if str(values["durability"]).lower() not in ("normal", "full"):
            raise InvalidInput(f"config {path}: durability must be normal or full")
        values["durability"] = str(values["durability"]).lower()
    if os.environ.get(TOKEN_ENV) and "server_token" in values:
        values["server_token"] = os.environ[TOKEN_ENV]
    return values


def _settings(config_file: str, home: str, db_uri: str, values: dict) -> Settings:
    return Settings(
        home=home,
        config_file=config_file,
        db_path=db_path_from_uri(db_uri, home),
        durability=values["durability"],
        busy_timeout_ms=values["busy_timeout_ms"],
        history_retention_ms=parse_duration_ms(values["history_retention"], "history_retention"),
        values=values,
    )


def load_aiflow_settings() -> Settings:
    home = aiflow_home()
    path = os.path.join(home, AIFLOW_CONFIG_FILE)
    values = _resolve(AIFLOW_DEFAULTS, path, home)
    return _settings(path, home, values["metadata_backend_uri"], values)


def load_notification_settings() -> Settings:
    home = notification_home()
    path = os.path.join(home, NOTIFICATION_CONFIG_FILE)
    values = _resolve(NOTIFICATION_DEFAULTS, path, home)
    values = {k: _substitute(v, "NOTIFICATION_HOME", home) for k, v in values.items()}
    if not values.get("db_uri"):
        values["db_uri"] = load_aiflow_settings().values["metadata_backend_uri"]
    return _settings(path, home, values["db_uri"], values)


@dataclass(frozen=True)
class ClientSettings:
    """How a client reaches a server: `aiflow_client.yaml` in the AIFlow home."""

    config_file: str
    server_address: Optional[str]
    token: Optional[str]
    tls_ca_file: Optional[str]
    timeout_s: float


def load_client_settings() -> ClientSettings:
    home = aiflow_home()
    path = os.path.join(home, CLIENT_CONFIG_FILE)
    values = _resolve(CLIENT_DEFAULTS, path, home)
    address = values.get("server_address")
    return ClientSettings(path, str(address).strip() if address else None,
                          _text_or_none(values.get("server_token")),
                          _text_or_none(values.get("tls_ca_file")), values["rpc_timeout"])


def _text_or_none(value: Any) -> Optional[str]:
    return str(value) if value not in (None, "") else None


def default_config_text(defaults: Mapping[str, tuple]) -> str:
    """The commented YAML that `config init` writes."""
    import yaml

    lines = []
    for key, (value, help_text) in defaults.items():
        lines.append(f"# {help_text}")
        if value is None:
            lines.append(f"# {key}:")
        else:
            lines.append(yaml.safe_dump({key: value}, sort_keys=False).rstrip())
    return "\n".join(lines) + "\n"
