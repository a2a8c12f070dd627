"""The compatibility table in docs/serving.md is the one `serving.server.compat`
renders, and every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

from serving.server import compat

HERE = Path(__file__).resolve().parent


def test_doc_table_is_up_to_date():
    text = compat.DOC.read_text(encoding="utf-8")
    assert (
        compat.updated_doc(text) == text
    ), "docs/serving.md is stale: run `python -m serving.server.compat`"


def test_every_row_names_an_existing_test():
    for row in compat.ROWS:
        filename, test = row.checked_by.split("::")
        source = (HERE / filename).read_text(encoding="utf-8")
        assert re.search(rf"^def {test}\(", source, re.M), row.checked_by


def test_rows_are_unique_and_cite_a_source():
    ids = [row.id for row in compat.ROWS]
    assert len(ids) == len(set(ids))
    for row in compat.ROWS:
        assert row.source and row.tf_serving
        assert not row.ours or row.why, f"{row.id}: a difference needs its reason"
