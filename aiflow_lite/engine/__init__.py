"""The engine: the metadata store, and (with the scheduler issue) the scheduler and executor."""
