"""Snapshot archives: stable signatures, and no file name ever escapes its directory."""

from __future__ import annotations

import os
import zipfile

import pytest

from aiflow_lite.blob import LocalBlobManager, extract_snapshot, load_blob_manager, pack_snapshot
from aiflow_lite.errors import InvalidInput


def _tree(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "wf.py").write_text("print('workflow')\n")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    (lib / "helpers.py").write_text("X = 1\n")
    (lib / "sub" / "more.txt").write_text("more\n")
    return tmp_path


def test_pack_and_extract_round_trip_with_a_stable_signature(tmp_path):
    src = _tree(tmp_path / "src")
    out = tmp_path / "out"
    out.mkdir()
    files = [str(src / "data.csv"), str(src / "lib")]
    archive, signature = pack_snapshot(str(src / "wf.py"), files, str(out))
    _, again = pack_snapshot(str(src / "wf.py"), files, str(out))
    assert signature == again
    (src / "data.csv").write_text("changed\n")
    _, changed = pack_snapshot(str(src / "wf.py"), files, str(out))
    assert changed != signature
    extract_snapshot(archive, str(tmp_path / "x"))
    found = sorted(str(p.relative_to(tmp_path / "x")) for p in (tmp_path / "x").rglob("*")
                   if p.is_file())
    assert found == ["data.csv", "lib/helpers.py", "lib/sub/more.txt", "wf.py"]


@pytest.mark.parametrize("member", ["../evil.txt", "/tmp/aiflow-evil.txt", "a/../../evil.txt"])
def test_extraction_refuses_members_that_escape(tmp_path, member):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("good.txt", "fine")
        zf.writestr(member, "gotcha")
    target = tmp_path / "target"
    with pytest.raises(InvalidInput, match=r"escape|relative path"):
        extract_snapshot(str(archive), str(target))
    assert not (tmp_path / "evil.txt").exists() and not os.path.exists("/tmp/aiflow-evil.txt")
    assert not (target / "good.txt").exists()  # checked before anything is written


def test_extraction_refuses_symlinks(tmp_path):
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777) << 16
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InvalidInput, match=r"symbolic link"):
        extract_snapshot(str(archive), str(tmp_path / "t"))


def test_clashing_names_and_missing_files_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "wf.py").write_text("")
    (tmp_path / "a" / "x.txt").write_text("1")
    (tmp_path / "b" / "x.txt").write_text("2")
    with pytest.raises(InvalidInput, match=r"both be uploaded as 'x\.txt'"):
        pack_snapshot(str(tmp_path / "wf.py"), [str(tmp_path / "a" / "x.txt"),
                                                str(tmp_path / "b" / "x.txt")], str(tmp_path))
    with pytest.raises(InvalidInput, match="no such file"):
        pack_snapshot(str(tmp_path / "wf.py"), [str(tmp_path / "missing")], str(tmp_path))


def test_local_blob_manager_keeps_names_inside_its_root(tmp_path):
    blob = load_blob_manager("ai_flow.blob_manager.impl.local_blob_manager.LocalBlobManager",
                             {"root_directory": str(tmp_path / "root")})
    assert isinstance(blob, LocalBlobManager)
    source = tmp_path / "f.zip"
    source.write_bytes(b"zip")
    uri = blob.upload(str(source), "snapshots/ab/abc.zip")
    with open(blob.download(uri, str(tmp_path / "dl")), "rb") as fh:
        assert fh.read() == b"zip"
    for bad in ("../outside.zip", "/abs.zip", "a/../../x.zip"):
        with pytest.raises(InvalidInput):
            blob.upload(str(source), bad)
    with pytest.raises(InvalidInput, match="no such class"):
        load_blob_manager("nowhere.Missing", {})


def test_upload_takes_the_spec_signature_and_keeps_the_newest_file(tmp_path):
    blob = LocalBlobManager({"root_directory": str(tmp_path / "root")})
    source = tmp_path / "model.bin"
    source.write_bytes(b"v1")
    uri = blob.upload(local_file_path=str(source))  # as the spec calls it: no name
    assert uri == str(tmp_path / "root" / "model.bin")
    source.write_bytes(b"v2")
    assert blob.upload(local_file_path=str(source)) == uri
    with open(blob.download(uri, str(tmp_path / "dl")), "rb") as fh:
        assert fh.read() == b"v2"
