"""The engine: the scheduler (events to decisions, one transaction per step), its stores
(metadata, executions, schedules), and the executor that runs task processes (fork server,
zygotes, workers) and reports their results."""
