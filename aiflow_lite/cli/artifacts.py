"""`aiflow artifact upload|list|show|download`: files kept by the meta service, versioned per
name.

Not in the spec's command reference: the meta service is aiflow_lite's own."""

from __future__ import annotations

from typing import Optional

import click

from aiflow_lite.cli.datasets import META_NAMESPACE, columns_for, echo_or_emit
from aiflow_lite.cli.options import output_option
from aiflow_lite.records import ARTIFACT_COLUMNS, no_artifact

_LIST_COLUMNS = ("name", "version", "file_name", "size", "description", "create_time")
_TIMES = ("create_time",)
_VERSION = click.option("--version", type=click.IntRange(min=1), default=None, metavar="V",
                        help="This version (default: the latest).")


@click.group("artifact")
def artifact() -> None:
    """Artifact related operations (the meta service)."""


@artifact.command("upload")
@click.argument("name")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--description", default=None, help="What the file is.")
@META_NAMESPACE
@output_option
def upload(name: str, path: str, description: Optional[str], namespace: Optional[str],
           output: str) -> None:
    """Stores the file at PATH as the next version of artifact NAME.

    Example: aiflow artifact upload vocab ./vocab.txt --description "tokenizer vocabulary"
    """
    from aiflow_lite import ops

    meta = ops.register_artifact(name, path, description, namespace)
    echo_or_emit(f"Artifact {meta.namespace}.{meta.name}: version {meta.version}, uploaded "
                 f"({meta.size} bytes).", meta, ARTIFACT_COLUMNS, output, _TIMES)


@artifact.command("list")
@click.argument("name", required=False)
@META_NAMESPACE
@output_option
def list_(name: Optional[str], namespace: Optional[str], output: str) -> None:
    """Lists the latest version of every artifact, or every version of NAME.

    Example: aiflow artifact list vocab -o json
    """
    from aiflow_lite import ops
    from aiflow_lite.cli.output import emit

    emit((a.to_dict() for a in ops.list_artifacts(name, namespace)),
         columns_for(output, _LIST_COLUMNS, ARTIFACT_COLUMNS), output, time_columns=_TIMES)


@artifact.command("show")
@click.argument("name")
@_VERSION
@META_NAMESPACE
@output_option
def show(name: str, version: Optional[int], namespace: Optional[str], output: str) -> None:
    """Shows a version of an artifact: its file, size, sha256 and the task that stored it.

    Example: aiflow artifact show vocab --version 2 -o json
    """
    from aiflow_lite import ops
    from aiflow_lite.cli.output import emit_one

    emit_one(ops.get_artifact(name, version, namespace), no_artifact(name, version),
             ARTIFACT_COLUMNS, output, _TIMES)


@artifact.command("download")
@click.argument("name")
@click.argument("dest", type=click.Path(file_okay=False))
@_VERSION
@META_NAMESPACE
@click.option("--overwrite", is_flag=True,
              help="Replace a file of the artifact's name already in DEST (kept otherwise).")
def download(name: str, dest: str, version: Optional[int], namespace: Optional[str],
             overwrite: bool) -> None:
    """Copies a version of an artifact (the latest by default) into the directory DEST, checked
    against its sha256; prints the file's path. A file of that name already in DEST is an
    error unless --overwrite: the artifact's file name is whoever registered it's choice.

    Example: aiflow artifact download vocab ./downloads --version 2
    """
    from aiflow_lite import ops

    click.echo(ops.download_artifact(name, dest, version, namespace, overwrite))
