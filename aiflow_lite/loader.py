"""Loading workflows from a user's file: run it as a module (never as `__main__`), collect the
Workflow objects it declares, and pickle them with the file's own code by value."""

from __future__ import annotations

import hashlib
import os
import sys
import traceback
import types
from dataclasses import dataclass
from typing import List

from aiflow_lite.errors import InvalidInput
from aiflow_lite.workflow import Workflow, WorkflowContextManager


@dataclass
class LoadedFile:
    path: str
    source: str
    module: types.ModuleType
    workflows: List[Workflow]


def load_workflow_file(path: str) -> LoadedFile:
    """Execute `path` and return the workflows it declares. Any error in the user's file becomes
    one line naming the file, the line and the error; nothing of ours is in it."""
    path = os.path.abspath(os.path.expanduser(path))
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
    except FileNotFoundError:
        raise InvalidInput(f"no such workflow file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read workflow file {path}: {exc}") from None
    try:
        code = compile(source, path, "exec")
    except SyntaxError as exc:
        raise InvalidInput(f"{path}, line {exc.lineno}: SyntaxError: {exc.msg}") from None
    name = "aiflow_workflow_" + hashlib.sha1(path.encode()).hexdigest()[:12]
    module = types.ModuleType(name)
    module.__file__ = path
    folder = os.path.dirname(path)
    created: List[Workflow] = []
    previous_created = WorkflowContextManager.created
    WorkflowContextManager.created = created
    depth = len(WorkflowContextManager._stack)
    sys.modules[name] = module
    sys.path.insert(0, folder)  # so the file can import modules that sit beside it
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit too: the user's file must not end our process
        sys.modules.pop(name, None)
        raise InvalidInput(_user_error(path, exc)) from None
    finally:
        WorkflowContextManager.created = previous_created
        del WorkflowContextManager._stack[depth:]
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    workflows = created
    if not workflows:
        raise InvalidInput(f"no Workflow found in {path}: declare one with "
                           "`with Workflow(name=...) as workflow:`")
    seen = set()
    for w in workflows:
        if (w.namespace, w.name) in seen:
            raise InvalidInput(f"{path} declares workflow {w.namespace}.{w.name} twice")
        seen.add((w.namespace, w.name))
    return LoadedFile(path, source, module, workflows)


def _user_error(path: str, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    where = f", line {frames[-1].lineno}" if frames else ""
    message = " ".join(str(exc).split()) or "(no message)"
    return f"{path}{where}: {type(exc).__name__}: {message}"


def pickle_workflow(workflow: Workflow, loaded: LoadedFile) -> bytes:
    """cloudpickle the workflow; the file's own functions and classes travel by value, so the
    scheduler can unpickle it without the file."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(loaded.module)
    try:
        return cloudpickle.dumps(workflow)
    finally:
        cloudpickle.unregister_pickle_by_value(loaded.module)


def unpickle_workflow(data: bytes) -> Workflow:
    import cloudpickle

    return cloudpickle.loads(data)
