from aiflow_lite.events import Event
from aiflow_lite.ns.client import (
    AIFlowNotificationClient,
    ListenerProcessor,
    ListenerRegistrationId,
)

__all__ = ["AIFlowNotificationClient", "Event", "ListenerProcessor", "ListenerRegistrationId"]
