"""A workflow trigger between two workflows (the spec's "event trigger" sample, made runnable
with `aiflow run`): the first workflow's task registers a trigger on the second workflow and
sends the event that fires it; the run follows the triggered execution too.

    aiflow run examples/event_trigger/workflow.py --workflow event_trigger_workflow_1
"""

from ai_flow import ops
from ai_flow.model.internal.conditions import SingleEventCondition
from ai_flow.model.rule import WorkflowRule
from ai_flow.model.workflow import Workflow
from ai_flow.notification.notification_client import AIFlowNotificationClient
from ai_flow.operators.bash import BashOperator
from ai_flow.operators.python import PythonOperator


def send_event():
    # In the spec this is done once, from the file's __main__ block; a task can do it too.
    if not ops.list_workflow_triggers('event_trigger_workflow_2'):
        trigger_rule = WorkflowRule(SingleEventCondition(expect_event_key="trigger_workflow"))
        ops.add_workflow_trigger(rule=trigger_rule, workflow_name='event_trigger_workflow_2')
    client = AIFlowNotificationClient(server_uri='localhost:50052')
    client.send_event(key='trigger_workflow', value=None)


with Workflow(name='event_trigger_workflow_1') as w1:
    event_task = PythonOperator(name='event_task', python_callable=send_event)

with Workflow(name='event_trigger_workflow_2') as w2:
    task1 = BashOperator(name='task1', bash_command='echo I am 1st task.')
