"""Flink → train (Python) → Spark, all on this machine: a PyFlink job makes the data, a Python
task fits a line to it, a PySpark job scores the data with that model.

    .ci/install-engines          # Java 17, pyflink and pyspark in their own venv (once)
    aiflow run examples/engines/workflow.py -f examples/engines/jobs

docs/engines.md shows which parameters change to run the two jobs on YARN, Kubernetes or a
standalone cluster.
"""

import glob
import json
import os
import shutil

from ai_flow.model.workflow import Workflow
from ai_flow.operators.flink.flink_operator import FlinkOperator
from ai_flow.operators.python import PythonOperator
from ai_flow.operators.spark.spark_submit import SparkSubmitOperator

# The worker runs this file in the snapshot's working directory: __file__ is the uploaded copy.
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ENGINES = os.path.expanduser(os.environ.get("AIFLOW_ENGINES_DIR",
                                            "~/.cache/aiflow_lite/engines"))


def engine(command):
    """The engine command .ci/install-engines made, else the one on PATH."""
    installed = os.path.join(ENGINES, "bin", command)
    return installed if os.path.exists(installed) else (shutil.which(command) or command)


def train(points_dir, model_path):
    """Least squares on the (x, y) rows Flink wrote: no engine needed for a model this small."""
    rows = []
    for part in glob.glob(os.path.join(points_dir, "**", "part-*"), recursive=True):
        with open(part) as fh:
            rows += [tuple(map(float, line.split(","))) for line in fh if line.strip()]
    n = len(rows)
    mean_x, mean_y = sum(x for x, _ in rows) / n, sum(y for _, y in rows) / n
    a = sum((x - mean_x) * (y - mean_y) for x, y in rows) / sum((x - mean_x) ** 2 for x, _ in rows)
    with open(model_path, "w") as fh:
        json.dump({"a": a, "b": mean_y - a * mean_x, "rows": n}, fh)
    print(f"trained on {n} rows: y = {a:.3f}x + {mean_y - a * mean_x:.3f}")


with Workflow(name="engines") as workflow:
    make_data = FlinkOperator(
        name="make_data", application="jobs/flink_job.py", target="local",
        application_args=[os.path.join(DATA, "points")], executable_path=engine("flink"))
    fit = PythonOperator(name="train", python_callable=train,
                         op_args=[os.path.join(DATA, "points"), os.path.join(DATA, "model.json")])
    score = SparkSubmitOperator(
        name="score", application="jobs/spark_job.py", master="local[1]",
        application_args=[os.path.join(DATA, "points"), os.path.join(DATA, "model.json"),
                          os.path.join(DATA, "report")],
        submit_options="--conf spark.ui.enabled=false", executable_path=engine("spark-submit"))
    fit.start_after(make_data)
    score.start_after(fit)
