"""FlinkOperator: submits a job with the real `flink` command line and follows it to its end.

How the end is known: an attached `flink run` ends with its job; a detached run (`-d` in
command_options) or an application-mode run only submits, so the job is then polled (`flink list
-a`, or `yarn application -status` for yarn-application) every `jobs_info_poll_interval` s.

STOP cancels the job itself (`flink cancel`, or `flink stop` with stop_with_savepoint) with the
job id the client printed, then kills the client's process group. The cancel command reaches the
job's cluster with the same target and `-D`/`-m` options as the run. With target 'local' the job
runs in a MiniCluster inside the client: it can be cancelled only when command_options give that
MiniCluster a REST port (`-Drest.port=8082`); otherwise killing the client is what ends it.
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

RUN_TARGETS = ("local", "remote", "yarn-per-job", "yarn-session", "kubernetes-session")
APPLICATION_TARGETS = ("yarn-application", "kubernetes-application")
#: Job states after which a job never runs again; only FINISHED is a success.
TERMINAL_STATES = ("FINISHED", "FAILED", "CANCELED", "SUSPENDED")
#: Consecutive failed status polls after which the job is reported lost.
MAX_POLL_FAILURES = 10
#: Seconds a STOP waits for the client to print the id of a job it is submitting.
JOB_ID_WAIT_S = 3.0
JOB_ID_PLACEHOLDER = "0" * 32

_JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-fA-F]{32})")
_YARN_APP = re.compile(r"(application_\d+_\d+)")
_LISTED_JOB = re.compile(r": ([0-9a-fA-F]{32}) : .*\((\w+)\)\s*$")
_YARN_FINAL_STATE = re.compile(r"Final-State\s*:\s*(\w+)")


class FlinkOperator(AIFlowOperator):
    """Runs `flink run` (or `flink run-application`) on `application`: a .py file (`-py`) or a
    jar. `target` is Flink's `execution.target`; `command_options` are more `flink run` options
    (`-D...`, `-c MainClass`, `-d`, `-pyexec ...`), split like a shell would."""

    STOP_TIMEOUT_S = ENGINE_STOP_TIMEOUT_S

    def __init__(self, name: str, application: str, target: Optional[str] = None,
                 application_args: Optional[List[Any]] = None,
                 executable_path: Optional[str] = None, application_mode: bool = False,
                 stop_with_savepoint: bool = False, kubernetes_cluster_id: Optional[str] = None,
                 command_options: Optional[str] = None, jobs_info_poll_interval: int = 1,
                 **kwargs: Any) -> None:
        self.options = split_options(name, "command_options", command_options,
                                     "-Dparallelism.default=2 -d")
        _validate(name, application, target, application_args, executable_path,
                  application_mode, kubernetes_cluster_id, jobs_info_poll_interval)
        super().__init__(name, **kwargs)
        self.application = application
        self.target = target
        self.application_args = [str(arg) for arg in application_args or []]
        self.executable_path = executable_path
        self.application_mode = bool(application_mode)
        self.stop_with_savepoint = bool(stop_with_savepoint)
        self.kubernetes_cluster_id = kubernetes_cluster_id
        self.command_options = command_options
        self.jobs_info_poll_interval = float(jobs_info_poll_interval)
        self.job_id: Optional[str] = None
        self.yarn_application_id: Optional[str] = None
        self._client: Optional[Client] = None

    # -- command lines ------------------------------------------------------------------------

    def executable(self) -> str:
        """`executable_path`, else `flink` on PATH, else $FLINK_HOME/bin/flink."""
        if self.executable_path:
            return self.executable_path
        found = shutil.which("flink")
        if found:
            return found
        home = os.environ.get("FLINK_HOME")
        if home and os.path.exists(os.path.join(home, "bin", "flink")):
            return os.path.join(home, "bin", "flink")
        raise TaskFailed("no flink command: pass executable_path=, put flink on PATH or set "
                         "FLINK_HOME (.ci/install-engines installs one)")

    def run_command(self) -> List[str]:
        command = [self.executable(), "run-application" if self.application_mode else "run"]
        if self.target:
            command += ["-t", self.target]
        if self.kubernetes_cluster_id:
            command.append(f"-Dkubernetes.cluster-id={self.kubernetes_cluster_id}")
        if self.target == "kubernetes-application":  # so its status can be read after its end
            command.append("-Dexecution.shutdown-on-application-finish=false")
        command += self.options
        command += ["-py", self.application] if self.application.endswith(".py") \
            else [self.application]
        return command + self.application_args

    def _cluster_options(self) -> List[str]:
        """The options that make cancel/stop/list reach the run's cluster."""
        options = []
        if self.target and self.target != "local":
            options += ["-t", self.target]
        if self.kubernetes_cluster_id:
            options.append(f"-Dkubernetes.cluster-id={self.kubernetes_cluster_id}")
        options += _connection_options(self.options)
        if self.yarn_application_id and self.target and self.target.startswith("yarn") and \
                not _dynamic_property(self.options, "yarn.application.id"):
            options.append(f"-Dyarn.application.id={self.yarn_application_id}")
        return options

    def cancel_command(self, job_id: str) -> Optional[List[str]]:
        """The command that ends job `job_id`, or None when only killing the client can."""
        if self.target == "local" and not _dynamic_property(self.options, "rest.port"):
            return None
        if not self.stop_with_savepoint:
            return [self.executable(), "cancel", *self._cluster_options(), job_id]
        command = [self.executable(), "stop"]
        if self.target == "local" and not _dynamic_property(self.options, "state.savepoints.dir"):
            command += ["--savepointPath", "file://" + os.path.abspath("savepoints")]
        return [*command, *self._cluster_options(), job_id]

    def list_command(self) -> List[str]:
        return [self.executable(), "list", "-a", *self._cluster_options()]

    # -- running ------------------------------------------------------------------------------

    def start(self, context: Context) -> None:
        self.job_id = self.yarn_application_id = None
        self._client = Client(self.run_command(), on_line=self._scan)
        self._client.start()

    def _scan(self, line: str) -> None:
        if self.job_id is None:
            match = _JOB_ID.search(line)
            if match:
                self.job_id = match.group(1).lower()
        if self.yarn_application_id is None:
            match = _YARN_APP.search(line)
            if match:
                self.yarn_application_id = match.group(1)

    def detached(self) -> bool:
        return self.application_mode or "-d" in self.options or "--detached" in self.options

    def await_termination(self, context: Context, timeout: Optional[int] = None) -> None:
        if self._client is None:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        code = self._client.wait(timeout=timeout)
        if code != 0:
            what = "flink run-application" if self.application_mode else "flink run"
            raise TaskFailed(f"{what} exited with code {code} (its output is in the task log)")
        if not self.detached():
            return
        state = self._follow_job(deadline)
        if state not in ("FINISHED", "SUCCEEDED"):
            raise TaskFailed(f"flink job {self.job_id or self.yarn_application_id} ended {state}")

    def _follow_job(self, deadline: Optional[float]) -> str:
        """Poll the submitted job until it reaches a terminal state; return that state."""
        failures = 0
        while True:
            state, ok = self._poll_once()
            if state is not None and (state in TERMINAL_STATES or state in ("SUCCEEDED",
                                                                             "KILLED")):
                if self.target == "kubernetes-application":
                    self._delete_kubernetes_deployment()
                return state
            failures = 0 if ok else failures + 1
            if failures >= MAX_POLL_FAILURES:
                raise TaskFailed(f"lost track of the flink job: {MAX_POLL_FAILURES} status polls "
                                 "in a row failed (their output is in the task log)")
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("the flink job is still running")
            time.sleep(self.jobs_info_poll_interval)

    def _poll_once(self) -> tuple:
        """(terminal-or-current state or None, whether the poll worked)."""
        if self.target == "yarn-application":
            if not self.yarn_application_id:
                raise TaskFailed("flink run-application printed no YARN application id")
            result = run_command(["yarn", "application", "-status", self.yarn_application_id],
                                 capture=True)
            match = _YARN_FINAL_STATE.search(result.stdout)
            if result.returncode != 0 or not match:
                print(result.stdout, end="", flush=True)
                return None, False
            final = match.group(1).upper()
            return (None if final == "UNDEFINED" else final), True
        jobs = self._list_jobs()
        if jobs is None:
            return None, False
        if self.job_id is None and self.application_mode and jobs:
            self.job_id = next(iter(jobs))
        return jobs.get(self.job_id or ""), True

    def _list_jobs(self) -> Optional[Dict[str, str]]:
        """Job id → state, from `flink list -a` on the run's cluster; None if it failed."""
        result = run_command(self.list_command(), capture=True)
        if result.returncode != 0:
            print(result.stdout, end="", flush=True)
            return None
        return {m.group(1).lower(): m.group(2).upper()
                for m in map(_LISTED_JOB.search, result.stdout.splitlines()) if m}

    def _delete_kubernetes_deployment(self) -> None:
        run_command(["kubectl", "delete", f"deployment/{self.kubernetes_cluster_id}"])

    # -- stopping -----------------------------------------------------------------------------

    def stop(self, context: Context) -> None:
        """Cancel the job (or stop it with a savepoint), then kill the client's group."""
        if self.job_id is None and self.application_mode:
            jobs = self._list_jobs()  # run-application prints no job id: ask the cluster
            self.job_id = next(iter(jobs), None) if jobs else None
        elif self.job_id is None and self._client is not None and \
                self.cancel_command(JOB_ID_PLACEHOLDER) is not None:
            # A job can run before its client prints the id: give the print a moment.
            deadline = time.monotonic() + JOB_ID_WAIT_S
            while self.job_id is None and self._client.running() and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        command = self.cancel_command(self.job_id) if self.job_id else None
        if command is not None:
            print(f"[aiflow] stopping flink job {self.job_id}: {' '.join(command)}", flush=True)
            result = run_command(command)
            if result.returncode != 0:
                print(f"[aiflow] {command[1]} exited with code {result.returncode}", flush=True)
        elif self._client is not None and self._client.running():
            print("[aiflow] stopping the flink client (its job has no reachable id)", flush=True)
        if self._client is not None:
            self._client.stop(STOP_GRACE_S)
        if self.target == "kubernetes-application":
            self._delete_kubernetes_deployment()

    def describe_config(self) -> Dict[str, Any]:
        return {"application": self.application, "target": self.target,
                "application_args": self.application_args,
                "executable_path": self.executable_path,
                "application_mode": self.application_mode,
                "stop_with_savepoint": self.stop_with_savepoint,
                "kubernetes_cluster_id": self.kubernetes_cluster_id,
                "command_options": self.command_options,
                "jobs_info_poll_interval": self.jobs_info_poll_interval,
                **super().describe_config()}

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None  # a running client never travels with the definition
        state["job_id"] = state["yarn_application_id"] = None
        return state


# -- definition-time checks -------------------------------------------------------------------

def _validate(task: str, application: Any, target: Any, application_args: Any,
              executable_path: Any, application_mode: bool, kubernetes_cluster_id: Any,
              poll_interval: Any) -> None:
    def bad(message: str) -> InvalidInput:
        return InvalidInput(f"task {task!r}: {message}")

    if not isinstance(application, str) or not application.strip():
        raise bad("application must be the path of a .py file or a jar")
    if application_args is not None and not isinstance(application_args, (list, tuple)):
        raise bad(f"application_args must be a list, got {application_args!r}")
    if executable_path is not None and (not isinstance(executable_path, str)
                                        or not executable_path):
        raise bad("executable_path must be the path of the flink command")
    if application_mode:
        if target not in APPLICATION_TARGETS:
            raise bad(f"application_mode needs target={APPLICATION_TARGETS[0]!r} or "
                      f"{APPLICATION_TARGETS[1]!r}, got {target!r}")
    elif target in APPLICATION_TARGETS:
        raise bad(f"target {target!r} runs in application mode: pass application_mode=True")
    elif target is not None and target not in RUN_TARGETS:
        raise bad(f"unknown target {target!r}; use one of {', '.join(RUN_TARGETS)} "
                  f"(or {', '.join(APPLICATION_TARGETS)} with application_mode=True)")
    kubernetes = isinstance(target, str) and target.startswith("kubernetes")
    if kubernetes and not kubernetes_cluster_id:
        raise bad(f"target {target!r} needs kubernetes_cluster_id= (the Flink cluster's id)")
    if kubernetes_cluster_id is not None and not kubernetes:
        raise bad("kubernetes_cluster_id is only used with a kubernetes-session or "
                  "kubernetes-application target; set target= or drop it")
    if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)) or \
            poll_interval <= 0:
        raise bad(f"jobs_info_poll_interval must be a number of seconds > 0, got "
                  f"{poll_interval!r}")


def _dynamic_property(options: List[str], key: str) -> Optional[str]:
    """The value `options` give `key` with `-Dkey=value` or `-D key=value`, if any."""
    for index, option in enumerate(options):
        following = options[index + 1] if index + 1 < len(options) else ""
        item = option[2:] if option.startswith("-D") and len(option) > 2 else \
            following if option == "-D" else None
        if item and item.partition("=")[0] == key:
            return item.partition("=")[2]
    return None


def _connection_options(options: List[str]) -> List[str]:
    """The `-D` properties and `-m/--jobmanager` address among the run's options."""
    kept: List[str] = []
    pending = False
    for option in options:
        if pending:
            kept.append(option)
            pending = False
        elif option.startswith("-D") and len(option) > 2:
            kept.append(option)
        elif option in ("-D", "-m", "--jobmanager"):
            kept.append(option)
            pending = True
    return kept
