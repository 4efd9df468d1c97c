"""Which task this process runs, if any: the worker puts it in the environment before the task's
code runs. A base module, so that `ops` can ask without importing the notification client."""

from __future__ import annotations

import json
import os
from typing import Optional

TASK_CONTEXT_ENV = "AIFLOW_TASK_CONTEXT"

#: How many times this process asked for its task context (a zygote checks that loading its
#: workflow file asked for none: it loads the file outside any task).
context_reads = 0


def task_context() -> Optional[dict]:
    """The running task's context, or None outside a task."""
    global context_reads
    context_reads += 1
    text = os.environ.get(TASK_CONTEXT_ENV)
    return json.loads(text) if text else None
