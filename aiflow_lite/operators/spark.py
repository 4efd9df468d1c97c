"""SparkSubmitOperator and SparkSqlOperator: run the real `spark-submit` / `spark-sql`.

In client mode the driver is the command's own process: the task lasts as long as it does, and
STOP kills its process group. In cluster mode the driver runs on the cluster: its id is read from
the command's output, its status polled once the command has exited (`yarn application -status`
on YARN, `spark-submit --status` on standalone, Mesos and Kubernetes), and STOP kills it there
(`yarn application -kill`, `spark-submit --kill`) before killing the local command. A non-zero
exit or a failed driver fails the task; the command's output, with the error, is in the task log.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from typing import Any, Dict, List, Optional

from aiflow_lite.conditions import Context
from aiflow_lite.errors import InvalidInput
from aiflow_lite.operators._process import (
    ENGINE_STOP_TIMEOUT_S,
    STOP_GRACE_S,
    Client,
    run_command,
    split_options,
)
from aiflow_lite.operators.base import AIFlowOperator, TaskFailed

#: Consecutive failed status polls after which the driver is reported lost.
MAX_POLL_FAILURES = 10
DEPLOY_MODES = ("client", "cluster")

_MASTER = re.compile(r"^(local(\[[^\]]+\])?|yarn|spark://.+|mesos://.+|k8s://.+)$")
_YARN_APP = re.compile(r"(application_\d+_\d+)")
_YARN_FINAL_STATE = re.compile(r"Final-State\s*:\s*(\w+)")
_K8S_POD = re.compile(r"pod name: (\S+-driver)\b")
_K8S_EXIT_CODE = re.compile(r"[eE]xit code: (\d+)")
_K8S_PHASE = re.compile(r"phase: (\w+)")
_DRIVER_ID = re.compile(r"\b(driver-\d{14}-\d{4,})\b")
_DRIVER_STATE = re.compile(r"\"driverState\"\s*:\s*\"(\w+)\"|State of \S+ is (\w+)")


class _SparkCommand(AIFlowOperator):
    """What both Spark operators share: finding the command, running it, killing on YARN."""

    STOP_TIMEOUT_S = ENGINE_STOP_TIMEOUT_S

    command_name = ""

    def __init__(self, name: str, master: str, application_name: Optional[str],
                 executable_path: Optional[str], **kwargs: Any) -> None:
        if not isinstance(master, str) or not _MASTER.match(master):
            raise InvalidInput(f"task {name!r}: master must be local[N], yarn, spark://host:port,"
                               f" mesos://host:port or k8s://https://host:port, got {master!r}")
        if application_name is not None and (not isinstance(application_name, str)
                                             or not application_name.strip()):
            raise InvalidInput(f"task {name!r}: application_name must be a non-empty string")
        if executable_path is not None and (not isinstance(executable_path, str)
                                            or not executable_path):
            raise InvalidInput(f"task {name!r}: executable_path must be the path of "
                               f"{self.command_name}")
        super().__init__(name, **kwargs)
        self.master = master
        self.application_name = application_name or name
        self.executable_path = executable_path
        self.yarn_application_id: Optional[str] = None
        self._client: Optional[Client] = None

    def executable(self) -> str:
        """`executable_path`, else the command on PATH, else $SPARK_HOME/bin/<command>."""
        if self.executable_path:
            return self.executable_path
        found = shutil.which(self.command_name)
        if found:
            return found
        home = os.environ.get("SPARK_HOME")
        if home and os.path.exists(os.path.join(home, "bin", self.command_name)):
            return os.path.join(home, "bin", self.command_name)
        raise TaskFailed(f"no {self.command_name} command: pass executable_path=, put it on "
                         "PATH or set SPARK_HOME (.ci/install-engines installs one)")

    def is_yarn(self) -> bool:
        return self.master.startswith("yarn")

    def _start(self, command: List[str], env: Optional[Dict[str, str]] = None) -> None:
        self.yarn_application_id = None
        self._client = Client(command, env=env, on_line=self._scan)
        self._client.start()

    def _scan(self, line: str) -> None:
        if self.yarn_application_id is None and self.is_yarn():
            match = _YARN_APP.search(line)
            if match:
                self.yarn_application_id = match.group(1)

    def _await_command(self, timeout: Optional[int]) -> None:
        if self._client is None:
            return
        code = self._client.wait(timeout=timeout)
        if code != 0:
            raise TaskFailed(f"{self.command_name} exited with code {code} (its output, with "
                             "the error, is in the task log)")

    def yarn_kill_command(self) -> Optional[List[str]]:
        if not (self.is_yarn() and self.yarn_application_id):
            return None
        return ["yarn", "application", "-kill", self.yarn_application_id]

    def _stop(self, kill: Optional[List[str]]) -> None:
        if kill is not None:
            print(f"[aiflow] stopping the spark application: {' '.join(kill)}", flush=True)
            result = run_command(kill)
            if result.returncode != 0:
                print(f"[aiflow] {kill[0]} exited with code {result.returncode}", flush=True)
        if self._client is not None:
            self._client.stop(STOP_GRACE_S)

    def __getstate__(self) -> Dict[str, Any]:
        state = {**self.__dict__, **dict.fromkeys(self._run_state())}
        state["_client"] = None  # a running child never travels with the definition
        return state

    def _run_state(self) -> tuple:
        return ("yarn_application_id",)


class SparkSubmitOperator(_SparkCommand):
    """Runs `spark-submit` on `application` (a jar, .py or .R file). `submit_options` are more
    spark-submit options (`--conf k=v --class Main --files f`), split like a shell would;
    `env_vars` reach the driver (and the YARN application master, or the Kubernetes driver
    pod); `status_poll_interval` (default 1) is the seconds between cluster-mode status polls."""

    command_name = "spark-submit"

    def __init__(self, name: str, application: str, application_args: Optional[List[Any]] = None,
                 executable_path: Optional[str] = None, master: str = "yarn",
                 deploy_mode: str = "client", application_name: Optional[str] = None,
                 submit_options: Optional[str] = None, k8s_namespace: Optional[str] = None,
                 env_vars: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        poll = kwargs.pop("status_poll_interval", 1)
        self.options = split_options(name, "submit_options", submit_options,
                                     "--conf spark.ui.enabled=false")
        _validate_submit(name, application, application_args, master, deploy_mode,
                         k8s_namespace, env_vars, poll)
        super().__init__(name, master, application_name, executable_path, **kwargs)
        self.application = application
        self.application_args = [str(arg) for arg in application_args or []]
        self.deploy_mode = deploy_mode
        self.submit_options = submit_options
        self.k8s_namespace = k8s_namespace
        self.env_vars = {str(k): str(v) for k, v in (env_vars or {}).items()}
        self.status_poll_interval = float(poll)
        self.driver_id: Optional[str] = None
        self.k8s_driver_pod: Optional[str] = None
        self.k8s_exit_code: Optional[int] = None

    def _run_state(self) -> tuple:
        return ("yarn_application_id", "driver_id", "k8s_driver_pod", "k8s_exit_code")

    def is_k8s(self) -> bool:
        return self.master.startswith("k8s://")

    def is_cluster(self) -> bool:
        return self.deploy_mode == "cluster"

    def submit_command(self) -> List[str]:
        command = [self.executable(), "--master", self.master, "--deploy-mode", self.deploy_mode,
                   "--name", self.application_name]
        template = "spark.yarn.appMasterEnv.{}={}" if self.is_yarn() else \
            "spark.kubernetes.driverEnv.{}={}" if self.is_k8s() else None
        if template:
            for key, value in self.env_vars.items():
                command += ["--conf", template.format(key, value)]
        if self.is_k8s():
            command += ["--conf", f"spark.kubernetes.namespace={self.k8s_namespace}"]
        return command + self.options + [self.application] + self.application_args

    def driver_handle(self) -> Optional[str]:
        """What `spark-submit --status/--kill` take: the standalone or Mesos driver id, or
        `namespace:driver-pod` on Kubernetes."""
        if self.is_k8s():
            return f"{self.k8s_namespace}:{self.k8s_driver_pod}" if self.k8s_driver_pod else None
        return self.driver_id

    def status_command(self) -> Optional[List[str]]:
        if self.is_yarn():
            return ["yarn", "application", "-status", self.yarn_application_id] \
                if self.yarn_application_id else None
        handle = self.driver_handle()
        return [self.executable(), "--master", self.master, "--status", handle] if handle \
            else None

    def kill_command(self) -> Optional[List[str]]:
        if self.is_yarn():
            return self.yarn_kill_command()
        handle = self.driver_handle() if self.is_cluster() else None
        return [self.executable(), "--master", self.master, "--kill", handle] if handle else None

    def start(self, context: Context) -> None:
        self.driver_id = self.k8s_driver_pod = self.k8s_exit_code = None
        env = {**os.environ, **self.env_vars} if self.env_vars else None
        self._start(self.submit_command(), env)

    def _scan(self, line: str) -> None:
        super()._scan(line)
        if self.is_k8s():
            pod = _K8S_POD.search(line)
            if pod:
                self.k8s_driver_pod = pod.group(1)
            code = _K8S_EXIT_CODE.search(line)
            if code:
                self.k8s_exit_code = int(code.group(1))
        elif self.driver_id is None and self.is_cluster():
            match = _DRIVER_ID.search(line)
            if match:
                self.driver_id = match.group(1)

    def await_termination(self, context: Context, timeout: Optional[int] = None) -> None:
        self._await_command(timeout)
        if not self.is_cluster():
            return
        if self.is_k8s() and self.k8s_exit_code is not None:  # it waited for the driver
            if self.k8s_exit_code != 0:
                raise TaskFailed(f"the driver pod {self.k8s_driver_pod} exited with code "
                                 f"{self.k8s_exit_code}")
            return
        if self.status_command() is None:
            raise TaskFailed("spark-submit printed no application or driver id to follow "
                             "(its output is in the task log)")
        self._follow_driver()

    def _follow_driver(self) -> None:
        failures = 0
        while True:
            result = run_command(self.status_command(), capture=True)
            state = _driver_state(result.stdout) if result.returncode == 0 else None
            if state in ("SUCCEEDED", "FINISHED"):
                return
            if state in ("FAILED", "KILLED", "ERROR"):
                print(result.stdout, end="", flush=True)
                what = self.yarn_application_id or self.driver_handle()
                raise TaskFailed(f"the spark driver {what} ended {state}")
            failures = failures + 1 if state is None else 0
            if failures >= MAX_POLL_FAILURES:
                print(result.stdout, end="", flush=True)
                raise TaskFailed(f"lost track of the spark driver: {MAX_POLL_FAILURES} status "
                                 "polls in a row failed")
            time.sleep(self.status_poll_interval)

    def stop(self, context: Context) -> None:
        """Kill the application where it runs (cluster mode, or YARN), then the local command."""
        self._stop(self.kill_command())

    def describe_config(self) -> Dict[str, Any]:
        return {"application": self.application, "application_args": self.application_args,
                "executable_path": self.executable_path, "master": self.master,
                "deploy_mode": self.deploy_mode, "application_name": self.application_name,
                "submit_options": self.submit_options, "k8s_namespace": self.k8s_namespace,
                "env_vars": sorted(self.env_vars), **super().describe_config()}


class SparkSqlOperator(_SparkCommand):
    """Runs `sql` with `spark-sql`: a statement (`-e`) or a .sql/.hql file (`-f`). Client mode
    only, as in AIFlow: the driver is the local command."""

    command_name = "spark-sql"

    def __init__(self, name: str, sql: str, master: str = "yarn",
                 application_name: Optional[str] = None, executable_path: Optional[str] = None,
                 **kwargs: Any) -> None:
        if not isinstance(sql, str) or not sql.strip():
            raise InvalidInput(f"task {name!r}: sql must be a statement or a .sql/.hql file path")
        super().__init__(name, master, application_name, executable_path, **kwargs)
        self.sql = sql

    def sql_command(self) -> List[str]:
        sql = self.sql.strip()
        flag = "-f" if sql.endswith((".sql", ".hql")) else "-e"
        return [self.executable(), "--master", self.master, "--name", self.application_name,
                flag, sql]

    def start(self, context: Context) -> None:
        self._start(self.sql_command())

    def await_termination(self, context: Context, timeout: Optional[int] = None) -> None:
        self._await_command(timeout)

    def stop(self, context: Context) -> None:
        self._stop(self.yarn_kill_command())

    def describe_config(self) -> Dict[str, Any]:
        return {"sql": self.sql, "master": self.master, "application_name":
                self.application_name, "executable_path": self.executable_path,
                **super().describe_config()}


def _driver_state(output: str) -> Optional[str]:
    """The driver's state in a status command's output (YARN, standalone/Mesos or k8s)."""
    for pattern in (_YARN_FINAL_STATE, _DRIVER_STATE, _K8S_PHASE):
        match = pattern.search(output)
        if match:
            state = next(group for group in match.groups() if group).upper()
            if pattern is _K8S_PHASE:
                return {"SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED"}.get(state, "RUNNING")
            return "RUNNING" if state == "UNDEFINED" else state
    return None


def _validate_submit(task: str, application: Any, application_args: Any, master: Any,
                     deploy_mode: Any, k8s_namespace: Any, env_vars: Any, poll: Any) -> None:
    def bad(message: str) -> InvalidInput:
        return InvalidInput(f"task {task!r}: {message}")

    if not isinstance(application, str) or not application.strip():
        raise bad("application must be the path of a jar, .py or .R file")
    if application_args is not None and not isinstance(application_args, (list, tuple)):
        raise bad(f"application_args must be a list, got {application_args!r}")
    if deploy_mode not in DEPLOY_MODES:
        raise bad(f"deploy_mode must be 'client' or 'cluster', got {deploy_mode!r}")
    master = master if isinstance(master, str) else ""
    if deploy_mode == "cluster" and master.startswith("local"):
        raise bad("a local master runs the driver here: use deploy_mode='client'")
    if master.startswith("k8s://") and not k8s_namespace:
        raise bad("a k8s:// master needs k8s_namespace= (the namespace of the driver pod)")
    if k8s_namespace is not None and not master.startswith("k8s://"):
        raise bad("k8s_namespace is only used with a k8s:// master; drop it")
    if env_vars is not None and not isinstance(env_vars, dict):
        raise bad(f"env_vars must be a dict of names to values, got {env_vars!r}")
    if env_vars and deploy_mode == "cluster" and master.startswith(("spark://", "mesos://")):
        raise bad("env_vars cannot reach a standalone or Mesos cluster-mode driver; pass them "
                  "with --conf in submit_options (e.g. spark.executorEnv.NAME=value)")
    if isinstance(poll, bool) or not isinstance(poll, (int, float)) or poll <= 0:
        raise bad(f"status_poll_interval must be a number of seconds > 0, got {poll!r}")
