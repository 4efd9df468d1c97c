"""The model lifecycle driven by the meta service: each task reacts to the stage of a model
version, never to another task's status.

* `train` fits a (toy) model, registers it as a new version of `churn` (GENERATED) and logs its
  training loss per epoch;
* `validate` starts on each GENERATED version: it scores the version on held-out data and
  moves it to VALIDATED when it beats `MIN_ACCURACY`, to DEPRECATED otherwise;
* `deploy` starts on each VALIDATED version and makes it DEPLOYED (the meta service moves the
  version deployed before to DEPRECATED in the same transaction).

`validate` and `deploy` act on the very version whose event started them: a task's context
(`aiflow_lite.task_context()`) holds that event, and a model version's event names its version,
so several trainings in flight never mix their versions up.

    aiflow run examples/model_lifecycle/workflow.py
    aiflow model-version list churn
    aiflow model-version show churn 1        # where it came from, and its metrics
"""

import json
import os
import random
import tempfile

from aiflow_lite import ModelVersionStage, PythonOperator, TaskAction, Workflow, ops, task_context

MODEL = "churn"
MIN_ACCURACY = 0.7


def train() -> None:
    """Fit a one-weight model by gradient descent on made-up data, then register it."""
    if ops.get_model(MODEL) is None:
        ops.register_model(MODEL, description="who is about to leave")
    rng = random.Random(7)
    data = [(x, 2.0 * x + rng.gauss(0, 0.1)) for x in (rng.random() for _ in range(200))]
    weight = 0.0
    for epoch in range(20):
        gradient = sum(2 * (weight * x - y) * x for x, y in data) / len(data)
        weight -= 0.5 * gradient
        loss = sum((weight * x - y) ** 2 for x, y in data) / len(data)
        ops.log_metric("train_loss", loss, step=epoch)
    path = os.path.join(tempfile.mkdtemp(prefix="churn-"), "model.json")
    with open(path, "w") as fh:
        json.dump({"weight": weight}, fh)
    version = ops.register_model_version(MODEL, uri=f"file://{path}",
                                         properties={"epochs": 20})
    print(f"registered {MODEL} version {version.version}, weight {weight:.3f}")


def version_that_started_me(stage: ModelVersionStage):
    """The model version whose event started this task, if it is still in `stage` (someone
    may have moved it on since, by hand say)."""
    event = task_context()["event"]
    number = json.loads(event["context"])["version"]
    version = ops.get_model_version(MODEL, number)
    if version is None or version.stage != stage.value:
        print(f"version {number} is no longer {stage.value}: nothing to do")
        return None
    return version


def validate() -> None:
    """Score the version just GENERATED on held-out data and decide its stage."""
    version = version_that_started_me(ModelVersionStage.GENERATED)
    if version is None:
        return
    with open(version.uri.removeprefix("file://")) as fh:
        weight = json.load(fh)["weight"]
    rng = random.Random(11)
    held_out = [(x, 2.0 * x) for x in (rng.random() for _ in range(100))]
    accuracy = sum(abs(weight * x - y) < 0.1 for x, y in held_out) / len(held_out)
    ops.log_metric("accuracy", accuracy, model_name=MODEL, model_version=version.version)
    stage = (ModelVersionStage.VALIDATED if accuracy >= MIN_ACCURACY
             else ModelVersionStage.DEPRECATED)
    ops.update_model_version(MODEL, version.version, stage=stage)
    print(f"version {version.version}: accuracy {accuracy:.2f} -> {stage.value}")


def deploy() -> None:
    version = version_that_started_me(ModelVersionStage.VALIDATED)
    if version is None:
        return
    ops.update_model_version(MODEL, version.version, stage=ModelVersionStage.DEPLOYED)
    print(f"deployed {MODEL} version {version.version} from {version.uri}")


with Workflow(name="model_lifecycle") as workflow:
    PythonOperator(name="train", python_callable=train)
    validating = PythonOperator(name="validate", python_callable=validate)
    validating.action_on_model_version(TaskAction.START, MODEL, ModelVersionStage.GENERATED)
    deploying = PythonOperator(name="deploy", python_callable=deploy)
    deploying.action_on_model_version(TaskAction.START, MODEL, ModelVersionStage.VALIDATED)
