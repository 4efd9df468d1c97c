from aiflow_lite.meta import NamespaceMeta

__all__ = ["NamespaceMeta"]
