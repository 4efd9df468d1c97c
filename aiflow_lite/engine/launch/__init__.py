"""How task executions get their processes: the executor's side (`launcher`, and its
implementations `spawn`, `forkserver_launcher`, `inline`, picked by `choose`), the processes
(`forkserver`, `forker`, `zygotes`, `worker`), the files a worker leaves its result in
(`results`), and the words they all say to each other (`protocol`: read it first).

This package imports nothing itself: a fork server's start must stay cheap.
"""

#: What the fork server imports before it forks anything: every worker needs it, and each
#: child then shares it copy-on-write. (Not cloudpickle: a worker re-executes the workflow
#: file, it unpickles nothing.)
WARM_MODULES = (
    "ai_flow.model.action",
    "ai_flow.model.workflow",
    "ai_flow.notification.notification_client",
    "ai_flow.operators.bash",
    "ai_flow.operators.python",
    "aiflow_lite.blob",
    "aiflow_lite.engine.launch.results",
    "aiflow_lite.engine.launch.worker",
    "aiflow_lite.loader",
)
