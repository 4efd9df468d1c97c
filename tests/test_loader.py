"""Loading a user's workflow file: module semantics, the user's error lines, pickling by value."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from aiflow_lite.errors import InvalidInput
from aiflow_lite.loader import load_workflow_file, pickle_workflow

HEADER = ("from ai_flow.model.workflow import Workflow\n"
          "from ai_flow.operators.bash import BashOperator\n")


def _write(tmp_path, body: str, name: str = "wf.py"):
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def test_loads_every_workflow_not_as_main(tmp_path):
    path = _write(tmp_path, """
        import os
        HERE = os.path.dirname(__file__)
        with Workflow(name='one') as w1:
            BashOperator(name='a', bash_command='echo')
        with Workflow(name='two', namespace='team'):
            BashOperator(name='b', bash_command='echo')
        if __name__ == '__main__':
            raise SystemExit('must not run at load time')
    """)
    loaded = load_workflow_file(str(path))
    assert [(w.namespace, w.name) for w in loaded.workflows] == [("default", "one"),
                                                                  ("team", "two")]
    assert str(tmp_path) == loaded.module.HERE  # __file__ is the real file
    assert loaded.module.__name__ != "__main__"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("with Workflow(name='w'):\n    BashOperator(name='a', bash_command='echo'\n",
         "line 4: SyntaxError"),
        ("x = 1\nraise ValueError('bad config')\n", "line 4: ValueError: bad config"),
        ("import no_such_module_xyz\n", "line 3: ModuleNotFoundError"),
        ("def f():\n    return 1 / 0\nf()\n", "line 4: ZeroDivisionError: division by zero"),
        ("import sys\nsys.exit(3)\n", "line 4: SystemExit: 3"),
        ("x = 1\n", "no Workflow found in"),
        ("with Workflow(name='w'):\n    BashOperator(name='a', bash_command='echo')\n"
         "with Workflow(name='w'):\n    BashOperator(name='b', bash_command='echo')\n",
         "declares workflow default.w twice"),
        ("with Workflow(name='w'):\n    BashOperator(name='a', bash_command='echo')\n"
         "    BashOperator(name='a', bash_command='echo')\n",
         "line 5: InvalidInput: duplicate task name 'a'"),
    ],
)
def test_errors_in_the_users_file_are_one_line_about_their_file(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(InvalidInput) as err:
        load_workflow_file(str(path))
    text = str(err.value)
    assert message in text and str(path) in text and "\n" not in text
    assert "aiflow_lite" not in text.replace(str(path), "")  # none of our internals


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInput, match="no such workflow file"):
        load_workflow_file(str(tmp_path / "nope.py"))


def test_pickled_workflow_runs_without_the_file(tmp_path):
    path = _write(tmp_path, """
        from ai_flow.operators.python import PythonOperator

        FACTOR = 6

        def compute(x):
            return helper(x) * FACTOR

        def helper(x):
            return x + 1

        with Workflow(name='w') as w:
            PythonOperator(name='p', python_callable=compute, op_args=[6])
    """)
    loaded = load_workflow_file(str(path))
    blob = tmp_path / "w.pickle"
    blob.write_bytes(pickle_workflow(loaded.workflows[0], loaded))
    path.unlink()  # the definition must not need the file any more
    code = ("import cloudpickle, sys; w = cloudpickle.loads(open(sys.argv[1], 'rb').read()); "
            "print(w.tasks['p'].start(None))")
    out = subprocess.run([sys.executable, "-c", code, str(blob)], capture_output=True, text=True,
                         check=True, cwd="/").stdout
    assert out.strip() == "42"
