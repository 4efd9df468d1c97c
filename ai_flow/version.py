from aiflow_lite import __version__

__all__ = ["__version__"]
