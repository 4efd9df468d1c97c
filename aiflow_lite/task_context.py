"""Which task this process runs, if any: the worker puts it in the environment before the task's
code runs. A base module, so that `ops` can ask without importing the notification client."""

from __future__ import annotations

import json
import os
import sys
import types
from typing import Optional

TASK_CONTEXT_ENV = "AIFLOW_TASK_CONTEXT"
#: Linux refuses to start a process with an environment string over 128 KiB (MAX_ARG_STRLEN),
#: and an event's value may be up to 1 MiB: a context longer than this goes in a file, which
#: the variable names as "@<path>".
ENV_CONTEXT_MAX = 64 * 1024

#: How many times this process asked for its task context (a zygote checks that loading its
#: workflow file asked for none: it loads the file outside any task).
context_reads = 0


def task_context() -> Optional[dict]:
    """The running task's context, or None outside a task: `home`, `namespace`,
    `workflow_execution_id`, `task_execution_id`, `task_name`, `started_by` ("event": a rule's
    event started it; "execution": it started with its workflow execution; "timer"; "user")
    and `event`, the event that fired its rule (a dict of key, value, namespace, sender,
    context, offset, create_time), or None when it did not start on an event."""
    global context_reads
    context_reads += 1
    text = os.environ.get(TASK_CONTEXT_ENV)
    if text and text.startswith("@"):
        with open(text[1:], encoding="utf-8") as fh:
            return json.load(fh)
    return json.loads(text) if text else None


def put_in_environment(context: dict) -> Optional[str]:
    """Set this process's task context (its children inherit it); the file it went to when
    too long for a variable (the caller removes it when the task ends), else None."""
    text = json.dumps(context)
    spilled = None
    if len(text) > ENV_CONTEXT_MAX:
        import tempfile

        fd, spilled = tempfile.mkstemp(prefix="aiflow-task-context-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        text = "@" + spilled
    os.environ[TASK_CONTEXT_ENV] = text
    return spilled


class _Callable(types.ModuleType):
    """`aiflow_lite.task_context()` is the documented call; once this module is imported, that
    name is the module (Python binds a package's submodule to its name): so the module answers
    the call too."""

    def __call__(self) -> Optional[dict]:
        return task_context()

    def __reduce__(self) -> tuple:  # by name, as pickle takes a plain module
        import importlib

        return importlib.import_module, (self.__name__,)


sys.modules[__name__].__class__ = _Callable
