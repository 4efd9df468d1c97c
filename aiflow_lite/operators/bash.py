"""BashOperator: runs a shell command in its own process group, so a stop reaches every child."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any, Dict, Optional

from aiflow_lite.conditions import Context
from aiflow_lite.errors import InvalidInput
from aiflow_lite.operators.base import AIFlowOperator, TaskFailed
from aiflow_lite.stopping import stop_deferred

#: Seconds between SIGTERM and SIGKILL when a task is stopped.
STOP_GRACE_S = 5.0


class BashOperator(AIFlowOperator):
    """Runs `bash_command` with bash. The task fails when the command exits non-zero."""

    def __init__(self, name: str, bash_command: str, **kwargs: Any) -> None:
        if not isinstance(bash_command, str) or not bash_command.strip():
            raise InvalidInput(f"task {name!r}: bash_command must be a non-empty string")
        super().__init__(name, **kwargs)
        self.bash_command = bash_command
        self._process: Optional[subprocess.Popen] = None

    def start(self, context: Context) -> None:
        with stop_deferred():  # a stop now would miss the child: it waits for the record
            self._process = subprocess.Popen(["bash", "-c", self.bash_command],
                                             start_new_session=True)

    def await_termination(self, context: Context, timeout: Optional[int] = None) -> None:
        if self._process is None:
            return
        code = self._process.wait(timeout=timeout)
        if code != 0:
            raise TaskFailed(f"bash command exited with code {code}")

    def stop(self, context: Context) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def describe_config(self) -> Dict[str, Any]:
        return {"bash_command": self.bash_command, **super().describe_config()}

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_process"] = None  # a running child never travels with the definition
        return state
