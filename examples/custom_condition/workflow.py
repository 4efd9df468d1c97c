"""The spec's custom condition: the consumer starts once the producer's numbers add up to 100.
Here the producer stops once it has sent enough, so the run ends by itself.

    aiflow run examples/custom_condition/workflow.py
"""

import random
import time

from ai_flow.model.action import TaskAction
from ai_flow.model.condition import Condition
from ai_flow.model.context import Context
from ai_flow.model.state import ValueState, ValueStateDescriptor
from ai_flow.model.workflow import Workflow
from ai_flow.notification.notification_client import AIFlowNotificationClient
from ai_flow.operators.bash import BashOperator
from ai_flow.operators.python import PythonOperator
from notification_service.model.event import Event


class NumCondition(Condition):
    def is_met(self, event: Event, context: Context) -> bool:
        state: ValueState = context.get_state(ValueStateDescriptor(name='num_state'))
        num = 0 if state.value() is None else int(state.value())
        num += int(event.value)
        if num >= 100:
            return True
        else:
            state.update(num)
            return False


def random_produce():
    notification_client = AIFlowNotificationClient(server_uri='localhost:50052')
    total = 0
    while total < 100:
        num = random.randint(1, 9)
        total += num
        notification_client.send_event(key='num_event', value=str(num))
        time.sleep(0.01)
    print(f"sent numbers adding up to {total}")


with Workflow(name='condition_workflow') as workflow:
    task1 = PythonOperator(name='producer', python_callable=random_produce)
    task2 = BashOperator(name='consumer', bash_command='echo Got 100 records.')
    task2.action_on_condition(action=TaskAction.START,
                              condition=NumCondition(expect_event_keys=['num_event']))
