from aiflow_lite.operators.python import PythonOperator

__all__ = ["PythonOperator"]
