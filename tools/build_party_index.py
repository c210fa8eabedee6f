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
    # One name per line keeps diffs of a regenerated index readable.
    names = ",\n".join(json.dumps(item, ensure_ascii=False) for item in document.pop("names"))
    fuzzy = ",\n".join(json.dumps(item, ensure_ascii=False) for item in document.pop("fuzzy_names"))
    header = json.dumps(document, ensure_ascii=False)[:-1]
    target.write_text(
        f'{header}, "fuzzy_names": [\n{fuzzy}\n],\n"names": [\n{names}\n]}}\n',
        encoding="utf-8",
    )
    print(f"{target}: {len(entries)} entries")


if __name__ == "__main__":
    main()
