from aiflow_lite.ns.client import (
    ListenerProcessor,
    ListenerRegistrationId,
    NotificationClient,
)

__all__ = ["ListenerProcessor", "ListenerRegistrationId", "NotificationClient"]
