from aiflow_lite.blob import BlobManager, LocalBlobManager

__all__ = ["BlobManager", "LocalBlobManager"]
