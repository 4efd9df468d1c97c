"""PythonOperator: calls a Python function in the task's worker process."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from aiflow_lite.conditions import Context
from aiflow_lite.errors import InvalidInput
from aiflow_lite.operators.base import AIFlowOperator


class PythonOperator(AIFlowOperator):
    """Calls `python_callable(*op_args, **op_kwargs)`; the task fails if it raises."""

    def __init__(self, name: str, python_callable: Callable, op_args: Optional[List] = None,
                 op_kwargs: Optional[Dict] = None, **kwargs: Any) -> None:
        if not callable(python_callable):
            raise InvalidInput(f"task {name!r}: python_callable must be callable")
        super().__init__(name, **kwargs)
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})

    def start(self, context: Context) -> Any:
        return self.python_callable(*self.op_args, **self.op_kwargs)

    def describe_config(self) -> Dict[str, Any]:
        name = getattr(self.python_callable, "__qualname__", repr(self.python_callable))
        return {"python_callable": name, **super().describe_config()}
