"""The error family users see. Every message is one line that says what is wrong and how to fix it.

The CLI turns any `AiflowError` into `Error: <message>` on stderr and exit code 1; anything else
is a bug in aiflow_lite and keeps its traceback.
"""

from __future__ import annotations


class AiflowError(Exception):
    """Base class of every error caused by the user's input or environment, not by a bug."""


#: The spec's name for it (its API reference's "Raises: AIFlowException").
AIFlowException = AiflowError


class InvalidInput(AiflowError, ValueError):
    """A name, key, value, expression or argument is malformed. Nothing was written."""


class NotFound(AiflowError, LookupError):
    """A named thing (cursor, namespace, workflow, ...) does not exist."""


class HomeError(AiflowError, OSError):
    """The home directory or its database cannot be created, opened or written."""


def make_directory(path: str, what: str = "the home") -> None:
    """`os.makedirs(path)`, with a failure said as what to fix: which part is a file, or that
    the place is not writable (HomeError)."""
    import os

    try:
        os.makedirs(path, exist_ok=True)
        return
    except OSError as exc:
        error = exc
    probe = os.path.abspath(path)
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if probe and not os.path.isdir(probe):
        reason = (f"{probe} is a file, not a directory" if probe == os.path.abspath(path)
                  else f"{probe} is a file, so no directory can be made inside it")
    else:
        reason = error.strerror or str(error)
    raise HomeError(f"cannot use {path} as {what}: {reason}; set AIFLOW_HOME (or --home) to a "
                    "directory you can write") from None


class SchemaError(AiflowError):
    """The database schema is not at the version this aiflow_lite expects."""


class Unsupported(AiflowError):
    """A feature that this build of aiflow_lite does not provide (yet)."""


class Unreachable(AiflowError, ConnectionError):
    """A server named by a `host:port` uri does not answer."""


class AccessDenied(AiflowError, PermissionError):
    """A server refused the call: no token, a wrong token, or a call it never takes remotely."""


class Busy(AiflowError):
    """A server refused the call for now: too many calls or listeners; retry later."""
