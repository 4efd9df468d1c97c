"""A periodic task and its follower: `collect` runs every 2 seconds, `report` after each success.
A periodic task keeps its execution running, so give `aiflow run` a timeout:

    aiflow run examples/periodic/workflow.py --timeout 7      # exits 2 after ~4 rounds
"""

from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator

with Workflow(name='periodic_example') as workflow:
    collect = BashOperator(name='collect', bash_command='date +%T.%N',
                           periodic_expression='interval@0 0 0 2')
    report = BashOperator(name='report', bash_command='echo "reporting on the latest collection"')
    report.start_after(collect)
