from aiflow_lite.operators.base import AIFlowOperator, Operator, OperatorConfigItem

__all__ = ["AIFlowOperator", "Operator", "OperatorConfigItem"]
