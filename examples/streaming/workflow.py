"""A streaming task that never ends by itself, and a batch task fed by its events.

    aiflow run examples/streaming/workflow.py --timeout 5   # exits 2: stopped at the timeout
"""

import time

from ai_flow.model.action import TaskAction
from ai_flow.model.workflow import Workflow
from ai_flow.notification.notification_client import AIFlowNotificationClient
from ai_flow.operators.bash import BashOperator
from ai_flow.operators.python import PythonOperator


def produce():
    client = AIFlowNotificationClient("localhost:50052")  # inside a task: the task's home
    batch = 0
    while True:
        batch += 1
        client.send_event(key="batch_ready", value=str(batch))
        time.sleep(1)


with Workflow(name='streaming') as workflow:
    PythonOperator(name='producer', python_callable=produce)
    consumer = BashOperator(name='consumer', bash_command='echo "consuming a batch"')
    consumer.action_on_event_received(action=TaskAction.START, event_key="batch_ready")
