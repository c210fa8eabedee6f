"""Write the precomputed restricted-party matcher index beside the list it indexes.

    python tools/build_party_index.py                       # the list shipped in the package
    python tools/build_party_index.py path/to/list.csv      # another list file

Run it after changing the list file or the code that reads or normalises names
(chipgate/parties); tests/test_parties.py fails while the shipped index is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

from chipgate.parties import RestrictedPartyList
from chipgate.parties._index import index_document, index_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(str(resources.files("chipgate") / "data" / "restricted_parties.csv"))
    parser.add_argument("list_file", type=Path, nargs="?", default=default)
    args = parser.parse_args()
    path: Path = args.list_file
    entries = RestrictedPartyList.from_csv(path).entries
    document = index_document(hashlib.sha256(path.read_bytes()).hexdigest(), entries)
    target = index_path(path)
    target.write_text(_lines(document) + "\n", encoding="ascii")
    print(f"{target}: {len(entries)} entries")


def _lines(value: Any) -> str:
    """`value` as JSON with each item of a list on a line of its own (one entry, one name):
    a regenerated index's diff then shows what changed. Letters outside ASCII are escaped:
    Python reads a file that is all ASCII a quarter faster."""
    if isinstance(value, dict):
        return "{" + ",\n".join(f"{json.dumps(key)}: {_lines(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[\n" + ",\n".join(json.dumps(item) for item in value) + "\n]"
    return json.dumps(value)


if __name__ == "__main__":
    main()
