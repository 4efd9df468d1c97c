"""The notification service: the event log, its wake-up channel, and the notification client."""
