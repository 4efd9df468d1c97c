"""Snapshot archives and the blob store that keeps them.

An upload packs the workflow file and its `--files` into one zip whose members are plain relative
names (each file or directory under its base name). Extraction refuses any member that would land
outside the target directory (absolute paths, `..`, links), whatever produced the archive.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from typing import Any, Dict, Iterable, List, Optional, Tuple

from aiflow_lite.errors import AiflowError, HomeError, InvalidInput

LEGACY_LOCAL_CLASS = "ai_flow.blob_manager.impl.local_blob_manager.LocalBlobManager"


class BlobManager:
    """Stores snapshot archives under names and gives them back. Implement both verbs to keep
    snapshots elsewhere (an object store, a shared disk); name the class in `blob_manager_class`."""

    def __init__(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.config = dict(config or {})

    def upload(self, local_file_path: str, name: Optional[str] = None) -> str:
        """Store the file as `name` (default: its file name, as in the spec's
        `upload(local_file_path=...)`); return its uri."""
        raise NotImplementedError

    def download(self, uri: str, local_dir: str) -> str:
        """Copy the blob at `uri` into `local_dir`; return the local path."""
        raise NotImplementedError


class LocalBlobManager(BlobManager):
    """Keeps blobs under `root_directory` (default `<AIFLOW_HOME>/blob`)."""

    def __init__(self, config: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(config)
        root = self.config.get("root_directory")
        if not root:
            raise InvalidInput("LocalBlobManager needs blob_manager_config.root_directory")
        self.root = os.path.abspath(os.path.expanduser(str(root)))

    def upload(self, local_file_path: str, name: Optional[str] = None) -> str:
        target = _inside(self.root, name or os.path.basename(local_file_path))
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # Snapshots have content-addressed names: one already there has the same bytes.
            if name is None or not os.path.exists(target):
                tmp = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
                shutil.copyfile(local_file_path, tmp)
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
        except OSError as exc:
            raise HomeError(f"cannot store {local_file_path} in {self.root}: "
                            f"{exc.strerror or exc}") from exc
        return target

    def download(self, uri: str, local_dir: str) -> str:
        source = _inside(self.root, os.path.relpath(uri, self.root))
        target = os.path.join(local_dir, os.path.basename(source))
        try:
            os.makedirs(local_dir, exist_ok=True)
            shutil.copyfile(source, target)
        except OSError as exc:
            raise HomeError(f"cannot read the snapshot {uri}: {exc.strerror or exc}") from exc
        return target


def load_blob_manager(class_path: str, config: Dict[str, Any]) -> BlobManager:
    if class_path in (LEGACY_LOCAL_CLASS, "LocalBlobManager"):
        class_path = f"{__name__}.LocalBlobManager"
    module_name, _, class_name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise InvalidInput(
            f"cannot load blob_manager_class {class_path!r}: no such class") from None
    if not (isinstance(cls, type) and issubclass(cls, BlobManager)):
        raise InvalidInput(f"blob_manager_class {class_path!r} is not a BlobManager")
    return cls(config)


def _inside(root: str, name: str) -> str:
    """`root/name`, refusing names that escape `root`."""
    if not name or os.path.isabs(name):
        raise InvalidInput(f"invalid file name {name!r}: it must be a relative path")
    # Symlinks resolved: a link planted under the root must not lead out of it.
    root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, target]) != root or target == root:
        raise InvalidInput(f"invalid file name {name!r}: it would escape {root}")
    return target


def _members(workflow_file: str, files: Iterable[str]) -> List[Tuple[str, str]]:
    """(archive name, local path) of every file to pack. Refused: a missing path, two entries
    with one name, a link to a directory, anything that is not a regular file."""
    members: Dict[str, str] = {}
    tops: Dict[str, str] = {}
    for path in [workflow_file, *files]:
        path = os.path.abspath(os.path.expanduser(path))
        base = os.path.basename(path.rstrip(os.sep))
        _check_name(base)
        if not os.path.exists(path):
            raise InvalidInput(f"cannot upload {path}: no such file or directory")
        if base in tops:
            raise InvalidInput(f"{tops[base]} and {path} would both be uploaded as {base!r}; "
                               "rename one")
        tops[base] = path
        if not os.path.isdir(path):
            members[base] = _regular(path)
            continue
        for folder, dirs, names in os.walk(path):
            for d in dirs:
                if os.path.islink(os.path.join(folder, d)):
                    raise InvalidInput(f"{os.path.join(folder, d)} is a link to a directory; "
                                       "upload its target with -f instead")
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                local = os.path.join(folder, name)
                arcname = os.path.join(base, os.path.relpath(local, path))
                _check_name(arcname)
                members[arcname] = _regular(local)
    return sorted(members.items())


def _regular(path: str) -> str:
    if not os.path.isfile(path):  # a FIFO would block the upload forever, a socket fail it
        raise InvalidInput(f"cannot upload {path}: not a regular file")
    return path


def _check_name(name: str) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"cannot upload {name!r}: its name is not valid UTF-8") from None


def pack_snapshot(workflow_file: str, files: Iterable[str], out_dir: str) -> Tuple[str, str]:
    """Zip the workflow file and `files` into `out_dir`; return (archive path, signature), where
    the signature is a sha256 over names and contents (same inputs, same signature)."""
    digest = hashlib.sha256()
    members = _members(workflow_file, files)
    archive = os.path.join(out_dir, "snapshot.zip")
    try:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for arcname, local in members:
                mode = os.stat(local).st_mode & 0o777
                info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (mode | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                content = hashlib.sha256()
                with open(local, "rb") as src, zf.open(info, "w") as dst:  # streamed: big data
                    for block in iter(lambda src=src: src.read(1 << 20), b""):
                        content.update(block)
                        dst.write(block)
                digest.update(f"{arcname}\0{mode:o}\0".encode() + content.digest())
    except OSError as exc:
        raise AiflowError(f"cannot pack the snapshot: {exc}") from exc
    return archive, digest.hexdigest()


def extract_snapshot(archive: str, target_dir: str) -> None:
    """Unpack a snapshot archive into `target_dir`, refusing members that would escape it."""
    root = os.path.abspath(target_dir)
    os.makedirs(root, exist_ok=True)
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:  # check every member before writing any
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise InvalidInput(f"refusing snapshot member {info.filename!r}: a symbolic link")
            _inside(root, info.filename)
        for info in infos:
            path = _inside(root, info.filename)
            if info.is_dir():
                os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with zf.open(info) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)


def temporary_directory() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="aiflow-upload-")


def plain_file_name(file_name: str) -> str:
    """A file name that is nothing else: no directory part, no `..`, no NUL (an artifact's file
    is written under it into a directory its downloader chose)."""
    if (not isinstance(file_name, str) or not file_name or file_name in (".", "..")
            or os.path.basename(file_name) != file_name or "\\" in file_name
            or "\x00" in file_name):
        raise InvalidInput(f"invalid artifact file name {file_name!r}: a plain file name")
    return file_name


def place_file(local: str, target: str, overwrite: bool) -> None:
    """Move `local` to `target` in one step; without `overwrite`, never over an existing file
    (a hard link fails when the target exists, so there is no window between check and move)."""
    if overwrite:
        os.replace(local, target)
        return
    try:
        os.link(local, target)
    except FileExistsError:
        raise InvalidInput(f"{target} already exists; remove it, or overwrite it with "
                           "overwrite=True (--overwrite)") from None
