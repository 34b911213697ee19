"""docs/CONFIGURATION.md documents exactly the schema table the daemon uses."""
import os
import re

from conftest import ROOT


def doc_rows():
    rows = {}
    section = None
    with open(os.path.join(ROOT, "docs", "CONFIGURATION.md")) as f:
        for line in f:
            m = re.match(r"### `config (\w+) ", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"\| `(\w+)` \| (\w+) \| (?:`([^`]*)`|\((required)\)) \|", line)
            if m and section:
                rows[(section, m.group(1))] = (m.group(2), m.group(3) if m.group(4) is None else None)
    return rows


def test_configuration_doc_matches_schema(daemon):
    schema = daemon.request({"method": "config.get", "params": {"schema": True}})["schema"]
    want = {(o["section"], o["option"]): (o["type"], o["default"]) for o in schema}
    assert doc_rows() == want
