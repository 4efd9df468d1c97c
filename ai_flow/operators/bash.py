from aiflow_lite.operators.bash import BashOperator

__all__ = ["BashOperator"]
