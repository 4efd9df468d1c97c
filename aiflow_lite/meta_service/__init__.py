"""The meta service: datasets, models and their versions, metrics and artifacts of a home, in
its one database. Every change appends exactly one event (sender `aiflow.meta`) in the same
transaction as the change, so a rule reacting to a new model version can never see the event
without the version, nor miss the event of a version that exists.

`base` holds what the stores share (namespaces, lineage, events); one store per entity:
`datasets`, `models` (models and versions), `metrics`, `artifacts`."""
