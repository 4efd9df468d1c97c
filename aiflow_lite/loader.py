"""Loading workflows from a user's file: run it as a module (never as `__main__`), collect the
Workflow objects it declares, and pickle them with the file's own code by value."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tokenize
import traceback
import types
from dataclasses import dataclass, field
from typing import List

from aiflow_lite.errors import InvalidInput
from aiflow_lite.workflow import Workflow, WorkflowContextManager


@dataclass
class LoadedFile:
    path: str
    source: str
    module: types.ModuleType
    workflows: List[Workflow]
    #: Modules the file imported from beside it: pickled by value with it, like the file.
    local_modules: List[types.ModuleType] = field(default_factory=list)

    def release(self) -> None:
        """Forget the file's modules, so a later load (another file with its own `helper.py`)
        gets its own, not these."""
        for module in [self.module, *self.local_modules]:
            if sys.modules.get(module.__name__) is module:
                del sys.modules[module.__name__]


def load_workflow_file(path: str) -> LoadedFile:
    """Execute `path` and return the workflows it declares at its top level (not those of the
    modules it imports). Any error in the user's file becomes one line naming the file, the
    line and the error; nothing of ours is in it."""
    path = os.path.abspath(os.path.expanduser(path))
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise InvalidInput(f"no such workflow file: {path}") from None
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read workflow file {path!r}: {exc}") from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        source = raw.decode(encoding)
        code = compile(raw, path, "exec")
    except SyntaxError as exc:
        raise InvalidInput(f"{path}, line {exc.lineno or '?'}: SyntaxError: {exc.msg}") from None
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidInput(f"cannot read workflow file {path}: {exc}") from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise InvalidInput(f"{path}: cannot compile it: {type(exc).__name__}") from None
    name = "aiflow_workflow_" + hashlib.sha1(path.encode("utf-8", "replace")).hexdigest()[:12]
    module = types.ModuleType(name)
    module.__file__ = path
    folder = os.path.dirname(path)
    before = set(sys.modules)
    created: List[Workflow] = []
    previous_created = WorkflowContextManager.created
    WorkflowContextManager.created = created
    depth = len(WorkflowContextManager._stack)
    sys.modules[name] = module
    sys.path.insert(0, folder)  # so the file can import modules that sit beside it
    local = []
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit too: the user's file must not end our process
        raise InvalidInput(_user_error(path, exc)) from None
    finally:
        WorkflowContextManager.created = previous_created
        del WorkflowContextManager._stack[depth:]
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
        local = [sys.modules[m] for m in set(sys.modules) - before
                 if m != name and _is_under(getattr(sys.modules[m], "__file__", None), folder)]
        if sys.exc_info()[0] is not None:
            LoadedFile(path, source, module, [], local).release()
    loaded = LoadedFile(path, source, module, [], local)
    loaded.workflows = [w for w in created if w.module_name == name]
    if not loaded.workflows:
        loaded.release()
        raise InvalidInput(f"no Workflow found in {path}: declare one with "
                           "`with Workflow(name=...) as workflow:`")
    seen = set()
    for w in loaded.workflows:
        if (w.namespace, w.name) in seen:
            loaded.release()
            raise InvalidInput(f"{path} declares workflow {w.namespace}.{w.name} twice")
        seen.add((w.namespace, w.name))
    return loaded


def _is_under(file: object, folder: str) -> bool:
    return isinstance(file, str) and os.path.abspath(file).startswith(folder + os.sep)


def _user_error(path: str, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    where = f", line {frames[-1].lineno}" if frames else ""
    message = " ".join(str(exc).split()) or "(no message)"
    return f"{path}{where}: {type(exc).__name__}: {message}"


def pickle_workflow(workflow: Workflow, loaded: LoadedFile) -> bytes:
    """cloudpickle the workflow; the file's own functions and classes travel by value, so the
    scheduler can unpickle it without the file."""
    import cloudpickle

    modules = [loaded.module, *loaded.local_modules]
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(workflow)
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)


def unpickle_workflow(data: bytes) -> Workflow:
    import cloudpickle

    return cloudpickle.loads(data)
