"""A task that fails, is retried once, fails again; a cleanup task runs on its failure.

    aiflow run examples/retry_and_cleanup/workflow.py      # exits 1, with the failure's log tail
"""

from ai_flow.model.action import TaskAction
from ai_flow.model.status import TaskStatus
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator

with Workflow(name='retry_and_cleanup') as workflow:
    flaky = BashOperator(name='flaky', bash_command='echo "trying"; exit 1',
                         max_retries=1, retry_delay=0.2)
    cleanup = BashOperator(name='cleanup', bash_command='echo "cleaning up after flaky"')
    cleanup.action_on_task_status(TaskAction.START, {flaky: TaskStatus.FAILED})
