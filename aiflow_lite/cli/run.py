"""`aiflow run FILE`: run a workflow to the end in this process and exit with its result, for CI.

Exit codes: 0 success; 1 a task failed (or, with --strict, some task never triggered);
2 timed out, stopped or interrupted (SIGINT/SIGTERM stop every task the run started first).
Nothing needs to be started first: a temporary home is used unless --home says otherwise.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Callable, Iterator, List, Optional

import click


@click.command("run")
@click.argument("file_path", type=click.Path(dir_okay=False))
@click.option("-f", "--files", default=None, metavar="F1,F2,DIR",
              help="Comma-separated files or directories the workflow uses.")
@click.option("--workflow", "workflow_name", default=None,
              help="The workflow to run, when the file declares several.")
@click.option("--home", default=None, type=click.Path(file_okay=False),
              help="Run in this home instead of a temporary one.")
@click.option("--keep", is_flag=True, help="Keep the temporary home (its path is printed).")
@click.option("--timeout", type=click.FloatRange(min=0), default=None,
              help="Stop everything after this many seconds (streaming workflows); exit 2.")
@click.option("--strict", is_flag=True, help="Also fail (exit 1) when a task never triggered.")
@click.option("--junit-xml", "junit_xml", default=None, type=click.Path(dir_okay=False),
              help="Write one JUnit test case per task execution to this file.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Summary format.")
@click.option("--executor", "task_executor", type=click.Choice(["local", "ray"]), default=None,
              help="Where tasks run (default: the home's task_executor, local).")
@click.option("--ray-address", default=None, metavar="HOST:PORT",
              help="The Ray cluster of --executor ray (default: the home's ray_address).")
def run(file_path: str, files: Optional[str], workflow_name: Optional[str], home: Optional[str],
        keep: bool, timeout: Optional[float], strict: bool, junit_xml: Optional[str],
        output: str, task_executor: Optional[str], ray_address: Optional[str]) -> None:
    """Runs a workflow to the end (quiescence) and exits with its result.

    Example: aiflow run examples/quickstart/quickstart.py --timeout 60 --junit-xml report.xml
    """
    import shutil
    import tempfile

    from aiflow_lite.errors import make_directory
    from aiflow_lite.ops.backend import serve_locally

    serve_locally()  # this run's own scheduler serves it, whatever aiflow_client.yaml names
    temporary = home is None
    if home is not None:
        make_directory(home)  # before anything starts: a bad --home is one line
    home = os.path.abspath(home) if home else tempfile.mkdtemp(prefix="aiflow-run-")
    os.environ["AIFLOW_HOME"] = home
    os.environ.pop("NOTIFICATION_HOME", None)
    try:
        code = _run(file_path, files, workflow_name, timeout, strict, junit_xml, output,
                    {k: v for k, v in (("task_executor", task_executor),
                                       ("ray_address", ray_address)) if v is not None})
    finally:
        if temporary and not keep:
            shutil.rmtree(home, ignore_errors=True)
        elif temporary:
            click.echo(f"Home kept: {home}", err=True)
    sys.exit(code)


def _run(file_path: str, files: Optional[str], workflow_name: Optional[str],
         timeout: Optional[float], strict: bool, junit_xml: Optional[str], output: str,
         overrides: dict) -> int:
    import dataclasses

    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.lock import running_scheduler_pid
    from aiflow_lite.errors import AiflowError

    settings = load_aiflow_settings()
    if overrides:  # this run's own, over the home's config
        settings = dataclasses.replace(settings, values={**settings.values, **overrides})
    pid = running_scheduler_pid(settings)
    if pid is not None:
        raise AiflowError(f"a scheduler (pid {pid}) already runs for {settings.home}; use "
                          "`aiflow workflow-execution start` there, or another --home")
    fork_server = None
    if settings.executor_worker_start == "forkserver" and \
            str(settings.task_executor).lower() != "ray":
        from aiflow_lite.engine.launch.forkserver import spawn

        # First of all (before our own imports and the upload): it warms up meanwhile.
        fork_server = spawn({**os.environ, "AIFLOW_HOME": settings.home})
    try:
        from aiflow_lite.engine.runner import SchedulerService

        service = SchedulerService(settings, fork_server)
    except BaseException:
        if fork_server is not None:
            fork_server.stdin.close()  # it exits at once
            fork_server.wait()
        raise
    try:
        return _upload_and_run(service, file_path, files, workflow_name, timeout, strict,
                               junit_xml, output)
    finally:
        service.close()


def _upload_and_run(service: Any, file_path: str, files: Optional[str],
                    workflow_name: Optional[str], timeout: Optional[float], strict: bool,
                    junit_xml: Optional[str], output: str) -> int:
    from aiflow_lite import ops
    from aiflow_lite.cli.run_report import Progress, write_junit, write_summary
    from aiflow_lite.engine.run_once import run_execution
    from aiflow_lite.errors import InvalidInput

    artifacts = [f.strip() for f in files.split(",") if f.strip()] if files else []
    metas = ops.upload_workflows(file_path, artifacts)
    chosen = _choose(metas, workflow_name)
    if chosen is None:
        names = ", ".join(m.name for m in metas)
        raise InvalidInput(f"the file declares several workflows ({names}); pick one with "
                           "--workflow NAME" if workflow_name is None else
                           f"the file declares no workflow {workflow_name!r} (it has {names})")
    execution_id = ops.start_workflow_execution(chosen.name, chosen.namespace)
    progress = Progress(quiet=output == "json")
    progress.begin(chosen.namespace, chosen.name, execution_id)
    try:
        with _signals_stop_the_run() as interrupted:
            result = run_execution(service, execution_id, timeout, progress.update, strict,
                                   interrupted)
    finally:
        progress.end()
    write_summary(result, output)
    if junit_xml:
        write_junit(result, junit_xml)
    return result.exit_code


@contextlib.contextmanager
def _signals_stop_the_run() -> Iterator[Callable[[], bool]]:
    """While the run goes on, SIGINT (Ctrl-C) and SIGTERM do not kill this process (its tasks
    would outlive it, writing into a home about to be deleted): they ask the run to stop every
    task it started, then it reports and exits 2. A second signal only says it is on its way."""
    import signal

    received: List[int] = []

    def handler(signum: int, frame: object) -> None:
        if received:
            click.echo("Still stopping the run's tasks (a few seconds at most)...", err=True)
        else:
            click.echo(f"\n{signal.Signals(signum).name}: stopping every task of the run...",
                       err=True)
        received.append(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(received)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _choose(metas: List[Any], name: Optional[str]) -> Optional[Any]:
    if name is None:
        return metas[0] if len(metas) == 1 else None
    return next((m for m in metas if m.name == name), None)
