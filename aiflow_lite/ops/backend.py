"""How `ops` reaches the home: the embedded metadata store on the local database."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from aiflow_lite.config import load_aiflow_settings
from aiflow_lite.engine.store import MetadataStore
from aiflow_lite.home import open_database


@contextmanager
def metadata_store() -> Iterator[MetadataStore]:
    db = open_database(load_aiflow_settings())
    try:
        yield MetadataStore(db)
    finally:
        db.close()
