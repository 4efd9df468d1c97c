"""The spec's `notification_service` import paths, re-exporting aiflow_lite. No logic here."""
