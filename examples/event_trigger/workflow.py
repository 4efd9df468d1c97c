"""One workflow starting another through a workflow trigger: `ingest`'s task registers a
trigger on `train_on_new_data` (once) and announces a new dataset; the trigger starts an
execution of `train_on_new_data`, which `aiflow run` follows to its end too.

    aiflow run examples/event_trigger/workflow.py --workflow ingest
"""

from ai_flow import ops
from ai_flow.model.internal.conditions import SingleEventCondition
from ai_flow.model.rule import WorkflowRule
from ai_flow.model.workflow import Workflow
from ai_flow.notification.notification_client import AIFlowNotificationClient
from ai_flow.operators.bash import BashOperator
from ai_flow.operators.python import PythonOperator

DATASET_READY = "dataset_ready"


def publish_dataset() -> None:
    if not ops.list_workflow_triggers("train_on_new_data"):
        ops.add_workflow_trigger(WorkflowRule(SingleEventCondition(DATASET_READY)),
                                 workflow_name="train_on_new_data")
    AIFlowNotificationClient("localhost:50052").send_event(key=DATASET_READY,
                                                          value="datasets/2026-12-03")


with Workflow(name="ingest"):
    PythonOperator(name="publish", python_callable=publish_dataset)

with Workflow(name="train_on_new_data"):
    BashOperator(name="train", bash_command="echo training on the newest dataset")
