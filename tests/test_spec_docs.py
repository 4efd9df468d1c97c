"""The extractor that reads the spec's samples at test time (spec_docs.py), on text of our own:
it must find each sample whole, and only samples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import spec_docs
from spec_docs import code_blocks, pick

DOC = """Some prose about workflows.

import os

def f():
    pass


x = f()




More prose. It mentions import statements in the middle of a line: import this.
    import indented  # an indented example is not a sample

from a import b
with Workflow(name='first') as w:
    pass




from a import b




from a import b
with Workflow(name='first') as w:
    pass
y = 1



The end."""


def test_each_sample_is_found_whole_with_its_line_and_nothing_else():
    blocks = code_blocks(DOC)
    assert [b.line for b in blocks] == [3, 17, 24, 29]
    assert blocks[0].source == "import os\n\ndef f():\n    pass\n\n\nx = f()\n"
    assert blocks[2].source == "from a import b\n"


def test_pick_takes_the_longest_sample_with_the_marker_line():
    blocks = code_blocks(DOC)
    assert pick(blocks, "with Workflow(name='first') as w:").line == 29
    with pytest.raises(LookupError, match="no spec sample"):
        pick(blocks, "with Workflow(name='other') as w:")


@pytest.mark.slow
def test_without_the_spec_a_module_is_skipped_or_failed_when_the_spec_is_required(tmp_path):
    module = tmp_path / "test_needs_spec.py"
    module.write_text("import spec_docs\nspec_docs.require_spec()\n"
                      "def test_x():\n    pass\n")
    tests_dir = str(Path(spec_docs.__file__).parent)

    def run(require: str) -> subprocess.CompletedProcess:
        code = ("import spec_docs, sys, pytest; from pathlib import Path; "
                f"spec_docs.SPEC = Path({str(tmp_path / 'absent.txt')!r}); "
                f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', {str(module)!r}]))")
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=tmp_path, timeout=60,
                              env={**os.environ, "PYTHONPATH": tests_dir,
                                   "AIFLOW_REQUIRE_SPEC": require})

    skipped = run("")
    assert skipped.returncode == 5 and "1 skipped" in skipped.stdout  # 5: no test ran
    failed = run("1")
    assert failed.returncode != 0 and "AIFLOW_REQUIRE_SPEC=1 requires it" in failed.stdout
