"""A first event-driven workflow: fetch and clean data, train, and evaluate the model once the
training task announces it. Runs to the end in a few seconds, with no server:

    aiflow run examples/quickstart/quickstart.py
"""

from ai_flow.model.action import TaskAction
from ai_flow.model.workflow import Workflow
from ai_flow.notification.notification_client import AIFlowNotificationClient
from ai_flow.operators.bash import BashOperator
from ai_flow.operators.python import PythonOperator

MODEL_READY = "model_ready"


def train() -> None:
    """Fit a (very) small model, then tell whoever listens which version is ready."""
    points = [(x, 3 * x + 1) for x in range(100)]
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / \
        sum((x - mean_x) ** 2 for x, _ in points)
    print(f"trained: y = {slope:.2f} x + {mean_y - slope * mean_x:.2f}")
    # Inside a task the client talks to the task's own home, whatever the address says.
    AIFlowNotificationClient("localhost:50052").send_event(key=MODEL_READY, value="v1")


with Workflow(name="quickstart") as workflow:
    fetch = BashOperator(name="fetch", bash_command="echo fetched 100 rows")
    clean = BashOperator(name="clean", bash_command="echo dropped 0 bad rows")
    fit = PythonOperator(name="train", python_callable=train)
    evaluate = BashOperator(name="evaluate", bash_command="echo evaluating the new model")

    fit.start_after([fetch, clean])
    evaluate.action_on_event_received(action=TaskAction.START, event_key=MODEL_READY)
