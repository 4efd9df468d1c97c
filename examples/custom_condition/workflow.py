"""A stateful custom condition: `retrain` starts once 500 new rows have arrived, however many
`rows_arrived` events that takes. The running total lives in a ValueState, which the scheduler
commits with its cursor, so a crash between two events forgets nothing.

    aiflow run examples/custom_condition/workflow.py
"""

from ai_flow.model.action import TaskAction
from ai_flow.model.condition import Condition
from ai_flow.model.context import Context
from ai_flow.model.state import ValueStateDescriptor
from ai_flow.model.workflow import Workflow
from ai_flow.notification.notification_client import AIFlowNotificationClient
from ai_flow.operators.bash import BashOperator
from ai_flow.operators.python import PythonOperator
from notification_service.model.event import Event

THRESHOLD = 500


class EnoughNewRows(Condition):
    """Met when the rows announced since the last retrain add up to THRESHOLD."""

    def is_met(self, event: Event, context: Context) -> bool:
        total = context.get_state(ValueStateDescriptor(name="new_rows"))
        rows = (total.value() or 0) + int(event.value)
        if rows >= THRESHOLD:
            total.update(0)  # start counting again for the next retrain
            return True
        total.update(rows)
        return False


def ingest() -> None:
    """Announce batches of 40 to 80 rows until a retrain is due, then stop."""
    client = AIFlowNotificationClient("localhost:50052")
    sent = 0
    for batch in range(100):
        rows = 40 + (batch * 37) % 41
        client.send_event(key="rows_arrived", value=str(rows))
        sent += rows
        if sent >= THRESHOLD:
            break
    print(f"ingested {sent} rows in {batch + 1} batches")


with Workflow(name="retrain_on_new_rows") as workflow:
    PythonOperator(name="ingest", python_callable=ingest)
    retrain = BashOperator(name="retrain", bash_command="echo retraining on the new rows")
    retrain.action_on_condition(action=TaskAction.START,
                                condition=EnoughNewRows(expect_event_keys=["rows_arrived"]))
