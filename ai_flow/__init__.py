"""The spec's `ai_flow` import paths, re-exporting aiflow_lite so its samples run unmodified.
No logic lives in this package."""
