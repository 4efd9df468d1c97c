"""The error family users see. Every message is one line that says what is wrong and how to fix it.

The CLI turns any `AiflowError` into `Error: <message>` on stderr and exit code 1; anything else
is a bug in aiflow_lite and keeps its traceback.
"""

from __future__ import annotations


class AiflowError(Exception):
    """Base class of every error caused by the user's input or environment, not by a bug."""


class InvalidInput(AiflowError, ValueError):
    """A name, key, value, expression or argument is malformed. Nothing was written."""


class NotFound(AiflowError, LookupError):
    """A named thing (cursor, namespace, workflow, ...) does not exist."""


class HomeError(AiflowError, OSError):
    """The home directory or its database cannot be created, opened or written."""


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
