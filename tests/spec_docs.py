"""The spec's code samples, read from `../shared/spec/docs.txt` at test time (DESIGN.md §8: the
repository holds no copy of them). The spec is plain text: a sample starts at an unindented
`import`/`from` line after a blank line and ends at the first run of three blank lines (PEP 8
code has at most two in a row; the spec puts four or more after each sample).

A test module that runs the samples calls `require_spec()` at import: without the spec it is
skipped in one line, or fails when AIFLOW_REQUIRE_SPEC=1 (as in CI).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "docs.txt"

#: Each sample the tests run, by the name they give it → a line only that sample contains.
MARKERS: Dict[str, str] = {
    "quickstart": "with Workflow(name='quickstart_workflow') as w1:",
    "tutorial": 'with Workflow(name="online_machine_learning") as workflow:',
    "declaring_workflows": "with Workflow(name='workflow_name') as workflow:",
    "periodic_task": "with Workflow(name='periodic_task_example') as workflow:",
    "task_status_stop": "task3.action_on_task_status(action=TaskAction.STOP,",
    "single_event": "with Workflow(name='quickstart_workflow') as workflow:",
    "custom_condition": "with Workflow(name='condition_workflow') as workflow:",
    "events": "with Workflow(name='workflow') as workflow:",
    "event_trigger": "with Workflow(name='event_trigger_workflow_1') as w1:",
}

_BLOCK_END = 3  # blank lines in a row


@dataclass(frozen=True)
class Sample:
    line: int  # 1-based, in the spec's text
    source: str


def code_blocks(text: str) -> List[Sample]:
    """Every code sample in `text`, in order."""
    lines = text.split("\n")
    blocks: List[Sample] = []
    i = 0
    while i < len(lines):
        starts = lines[i].startswith(("import ", "from ")) and (i == 0 or not lines[i - 1])
        if not starts:
            i += 1
            continue
        end, blanks = i, 0
        while end < len(lines) and blanks < _BLOCK_END:
            blanks = blanks + 1 if not lines[end].strip() else 0
            end += 1
        body = lines[i:end]
        while body and not body[-1].strip():
            body.pop()
        blocks.append(Sample(i + 1, "\n".join(body) + "\n"))
        i = end
    return blocks


def pick(blocks: List[Sample], marker: str) -> Sample:
    """The longest block with a line that is `marker` (stripped): the spec repeats some samples
    whole and shows others again in parts."""
    found = [b for b in blocks
             if any(line.strip() == marker.strip() for line in b.source.split("\n"))]
    if not found:
        raise LookupError(f"no spec sample has the line {marker!r}")
    return max(found, key=lambda b: (len(b.source), -b.line))


def require_spec() -> Path:
    """The spec's path; at module level, skips the module (or fails it under
    AIFLOW_REQUIRE_SPEC=1) when the spec is not beside this checkout."""
    if SPEC.is_file():
        return SPEC
    why = f"the spec is not beside this checkout ({SPEC})"
    if os.environ.get("AIFLOW_REQUIRE_SPEC") == "1":
        pytest.fail(f"{why}, and AIFLOW_REQUIRE_SPEC=1 requires it", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def write_samples(directory: Path) -> Dict[str, Path]:
    """Every sample of MARKERS written to `directory/<name>.py`, unmodified."""
    blocks = code_blocks(require_spec().read_text(encoding="utf-8"))
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, marker in MARKERS.items():
        path = paths[name] = directory / f"{name}.py"
        path.write_text(pick(blocks, marker).source, encoding="utf-8")
    return paths
