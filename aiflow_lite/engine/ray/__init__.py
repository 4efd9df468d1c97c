"""Tasks on a Ray cluster (`task_executor: ray`).

The scheduler stays the one writer of execution state; Ray only runs the processes. Three
pieces, one job each:

* `owner.TaskOwner`: a detached, named actor per home (on the head node) that submits each
  claimed try as a Ray task under a deterministic key (`<task execution id>.<try>`), keeps its
  result until the executor has committed it, and relays stops. It owns the Ray tasks, so they
  outlive a scheduler crash (a Ray task dies with its owner; a driver is a poor owner);
* `node_task.run_try`: the Ray task. It forks the same worker the local executor runs (own
  session, parent-death signal, log in the home) and returns its result;
* `aiflow_lite.engine.ray_executor.RayExecutor`: the executor the scheduler drives.

The choice of API, and what was measured to make it, is in the README ("Tasks on Ray").
"""
