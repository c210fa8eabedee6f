"""Stored restricted-party list snapshots, and the choice of which one screening uses.

Snapshots live under ``$CHIPGATE_HOME/lists/`` (else ``lists`` in the user's data
directory), one directory per snapshot named by its id::

    lists/
        active                                  the chosen snapshot's id (absent: the shipped one)
        2026-09-01-1a2b3c4d/
            restricted_parties.csv              the shipped layout, plus `identifiers`
            restricted_parties.meta.yaml        provenance and what each list code is
            restricted_parties.index.json       the precomputed matcher index
            import.json                         what was imported, from where, how many per list

so `RestrictedPartyList.from_csv` loads a stored snapshot as it loads the shipped one.
The id is ``<snapshot date>-<first 8 hex digits of the CSV's SHA-256>``, the form
`RestrictedPartyList.snapshot_id` gives: the same content on the same date is the same
snapshot, and importing it again changes nothing. A snapshot is written to a temporary
directory and renamed into place, so a failed import leaves nothing behind.

`resolve_lists(spec)` is how the shells pick a list: see its docstring;
`screening_rulebook(spec)` gives the rulebook that screens against it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
import yaml

from chipgate.errors import InputError
from chipgate.parties._import import ImportResult, read_list_file, source_table
from chipgate.parties._lists import ALIAS_SEPARATOR, COUNTRY_SEPARATOR, RestrictedPartyList
from chipgate.parties._model import ListEntry, ListInfo

if TYPE_CHECKING:
    from chipgate.rulebook import Rulebook

__all__ = [
    "SHIPPED",
    "StoredSnapshot",
    "active_snapshot_id",
    "get_snapshot",
    "import_snapshot",
    "list_snapshots",
    "lists_home",
    "remove_snapshot",
    "resolve_lists",
    "screening_rulebook",
    "snapshot_csv",
    "use_snapshot",
]

SHIPPED = "shipped"
ACTIVE = "active"
CSV_NAME = "restricted_parties.csv"
META_NAME = "restricted_parties.meta.yaml"
IMPORT_NAME = "import.json"
ACTIVE_FILE = "active"
# The shipped layout's columns (without its `source_row`), then `identifiers`.
CSV_COLUMNS = (
    "record_id",
    "list_code",
    "list_name",
    "name",
    "aliases",
    "country_codes",
    "country_names",
    "identifiers",
)
_SNAPSHOT_ID = re.compile(r"^\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$")


def lists_home() -> Path:
    """Where snapshots are stored: ``$CHIPGATE_HOME/lists``, else ``lists`` in the user data directory."""
    home = os.environ.get("CHIPGATE_HOME")
    base = Path(home) if home else Path(platformdirs.user_data_dir("chipgate"))
    return base / "lists"


@dataclass(frozen=True)
class StoredSnapshot:
    """One stored snapshot as `import.json` describes it."""

    id: str
    snapshot_date: dt.date
    # How the date was chosen: "given" (--snapshot-date), "meta file" (the imported file's own
    # meta file) or "file modified" (the file's modification time, UTC).
    snapshot_date_basis: str
    source: str
    file: str
    file_sha256: str
    format: str
    imported_at: str
    lists: Mapping[str, int]
    unmapped: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    skipped: Mapping[str, int] = field(default_factory=dict)
    directory: Path = Path()

    @property
    def csv_path(self) -> Path:
        return self.directory / CSV_NAME

    @property
    def entries(self) -> int:
        return sum(self.lists.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "snapshot_date": self.snapshot_date.isoformat(),
            "snapshot_date_basis": self.snapshot_date_basis,
            "source": self.source,
            "file": self.file,
            "file_sha256": self.file_sha256,
            "format": self.format,
            "imported_at": self.imported_at,
            "entries": self.entries,
            "lists": dict(self.lists),
            "unmapped": {code: dict(info) for code, info in self.unmapped.items()},
            "skipped": dict(self.skipped),
        }

    @classmethod
    def read(cls, directory: Path) -> StoredSnapshot:
        raw = json.loads((directory / IMPORT_NAME).read_text(encoding="utf-8"))
        return cls(
            id=raw["id"],
            snapshot_date=dt.date.fromisoformat(raw["snapshot_date"]),
            snapshot_date_basis=raw["snapshot_date_basis"],
            source=raw["source"],
            file=raw["file"],
            file_sha256=raw["file_sha256"],
            format=raw["format"],
            imported_at=raw["imported_at"],
            lists=raw["lists"],
            unmapped=raw.get("unmapped", {}),
            skipped=raw.get("skipped", {}),
            directory=directory,
        )


# --- writing -------------------------------------------------------------------------


def snapshot_csv(entries: Sequence[ListEntry]) -> bytes:
    """The stored CSV of finished entries (see `finish_entries`): the shipped columns plus identifiers."""
    names = _country_names()
    out = io.StringIO()
    # "\r\n" (the csv default) makes the writer quote a field holding a lone "\r", which
    # a reader would otherwise take for the end of the row.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            (
                entry.record_id,
                entry.list_code,
                entry.list_name,
                entry.name,
                ALIAS_SEPARATOR.join(entry.aliases),
                COUNTRY_SEPARATOR.join(entry.countries),
                COUNTRY_SEPARATOR.join(names.get(code, code) for code in entry.countries),
                ALIAS_SEPARATOR.join(entry.identifiers),
            )
        )
    return out.getvalue().encode("utf-8")


def _country_names() -> dict[str, str]:
    from chipgate.rulebook import package_path

    with (package_path("data") / "countries.csv").open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {row["code"]: row["name"] for row in rows}


def _list_meta(entries: Iterable[ListEntry]) -> dict[str, dict[str, str]]:
    known = source_table().lists
    meta: dict[str, dict[str, str]] = {}
    for entry in entries:
        if entry.list_code in meta:
            continue
        if entry.list_code in known:
            meta[entry.list_code] = known[entry.list_code].meta()
        else:
            meta[entry.list_code] = {
                "name": entry.list_name,
                "note": (
                    "Not a list chipgate knows: its entries are kept under a code derived from the "
                    "source's name. Decision rules do not act on this code; map the source in "
                    "chipgate/parties/list_sources.yaml to give it one they know."
                ),
            }
    return dict(sorted(meta.items()))


def _meta_document(
    entries: Sequence[ListEntry], csv_sha256: str, snapshot_date: dt.date, source: str, changes: str
) -> str:
    document = {
        "snapshot_date": snapshot_date,
        "source": source,
        "changes": changes,
        "sha256": csv_sha256,
        "lists": _list_meta(entries),
    }
    header = (
        "# Provenance of restricted_parties.csv beside this file, written by `chipgate lists import`.\n"
        "# Read by chipgate.parties.RestrictedPartyList.from_csv, which checks sha256 on load.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _changes(result: ImportResult, file_name: str, file_sha256: str) -> str:
    text = f"Imported from {file_name} (sha256 {file_sha256}) as {result.format}: {len(result.entries)} entries."
    unmapped = result.unmapped()
    if unmapped:
        text += " Kept under derived codes (sources chipgate does not know): " + "; ".join(
            f"{code} ({info['entries']}, from {info['source']!r})" for code, info in unmapped.items()
        )
        text += "."
    if result.skipped:
        text += " Not kept: " + "; ".join(f"{count} {why}" for why, count in result.skipped.items()) + "."
    return text


def import_snapshot(
    path: Path,
    *,
    fmt: str | None = None,
    snapshot_date: dt.date | None = None,
    source: str | None = None,
    activate: bool = True,
    home: Path | None = None,
    now: dt.datetime | None = None,
) -> tuple[StoredSnapshot, bool]:
    """Read a list file and store it as a snapshot; returns it and whether it is new.

    The snapshot date is `snapshot_date` when given; else, for a file in chipgate's layout
    with a meta file beside it, the date that file records; else the date (UTC) the file
    was last modified: the lists carry no date of publication that holds for the whole
    file. The source is `source` when given, else the meta file's, else the file's name
    and SHA-256. `activate` makes the snapshot the one `resolve_lists()` returns by default.
    """
    path = Path(path)
    result = read_list_file(path, fmt)
    if not result.entries:
        raise InputError("FILE", f"{path.name} holds no list entries that can be stored (read as {result.format})")
    data = path.read_bytes()
    file_sha256 = hashlib.sha256(data).hexdigest()
    # A file in chipgate's layout with a meta file beside it (the shipped one, or one
    # exported from another store) already says its date and source.
    described = _described(path) if result.format == "chipgate-csv" else None
    basis = "given"
    if snapshot_date is None and described is not None:
        basis, snapshot_date = "meta file", described.snapshot_date
    elif snapshot_date is None:
        basis, snapshot_date = "file modified", _modified_date(path)
    default_source = described.source if described is not None else f"{path.name} (sha256 {file_sha256})"
    source_text = " ".join((source or "").split()) or default_source
    csv_bytes = snapshot_csv(result.entries)
    csv_sha256 = hashlib.sha256(csv_bytes).hexdigest()
    snapshot_id = f"{snapshot_date.isoformat()}-{csv_sha256[:8]}"
    root = home or lists_home()
    target = root / snapshot_id
    created = False
    if not (target / IMPORT_NAME).exists():
        record = StoredSnapshot(
            id=snapshot_id,
            snapshot_date=snapshot_date,
            snapshot_date_basis=basis,
            source=source_text,
            file=path.name,
            file_sha256=file_sha256,
            format=result.format,
            imported_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
            lists=result.counts(),
            unmapped=result.unmapped(),
            skipped=dict(result.skipped),
        )
        meta = _meta_document(
            result.entries, csv_sha256, snapshot_date, source_text, _changes(result, path.name, file_sha256)
        )
        created = _write_snapshot(root, target, csv_bytes, meta, record)
    stored = StoredSnapshot.read(target)
    if activate:
        use_snapshot(stored.id, home=root)
    return stored, created


def _described(path: Path) -> RestrictedPartyList | None:
    """The list as its meta file describes it, when it has one (its checksum is checked)."""
    if not path.with_name(f"{path.stem}.meta.yaml").is_file():
        return None
    return RestrictedPartyList.from_csv(path)


def _modified_date(path: Path) -> dt.date:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()


def _write_snapshot(root: Path, target: Path, csv_bytes: bytes, meta: str, record: StoredSnapshot) -> bool:
    """Write the snapshot's files beside each other in a temporary directory, then rename it into place."""
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=root))
    try:
        # mkdtemp makes the directory private; a stored snapshot is read like any data file.
        staging.chmod(0o755)
        csv_path = staging / CSV_NAME
        csv_path.write_bytes(csv_bytes)
        (staging / META_NAME).write_text(meta, encoding="utf-8")
        # Loading what was written checks it the way every later use will, before it is kept.
        loaded = RestrictedPartyList.from_csv(csv_path)
        _write_index(csv_path, csv_bytes, loaded.entries)
        (staging / IMPORT_NAME).write_text(json.dumps(record.to_dict(), indent=2, ensure_ascii=False) + "\n")
        try:
            staging.rename(target)
        except OSError:
            if (target / IMPORT_NAME).exists():
                return False  # the same snapshot was stored meanwhile
            raise
        return True
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _write_index(csv_path: Path, csv_bytes: bytes, entries: Sequence[ListEntry]) -> None:
    from chipgate.parties._index import index_document, index_path

    document = index_document(hashlib.sha256(csv_bytes).hexdigest(), entries)
    # Escaped to ASCII: Python reads a file that is all ASCII a quarter faster.
    index_path(csv_path).write_text(json.dumps(document), encoding="ascii")


# --- reading and choosing ------------------------------------------------------------


def list_snapshots(home: Path | None = None) -> list[StoredSnapshot]:
    """The stored snapshots, newest snapshot date first."""
    root = home or lists_home()
    if not root.is_dir():
        return []
    found = []
    for directory in root.iterdir():
        if _SNAPSHOT_ID.match(directory.name) and (directory / IMPORT_NAME).is_file():
            found.append(StoredSnapshot.read(directory))
    return sorted(found, key=lambda snapshot: (snapshot.snapshot_date, snapshot.imported_at, snapshot.id), reverse=True)


def get_snapshot(spec: str, home: Path | None = None, *, keywords: Sequence[str] = ()) -> StoredSnapshot:
    """The stored snapshot with id `spec`, or the only one whose id starts with it.

    `keywords` are the other words the caller accepts, named with the stored ids when
    `spec` is none of them.
    """
    snapshots = list_snapshots(home)
    for snapshot in snapshots:
        if snapshot.id == spec:
            return snapshot
    matching = _by_prefix(spec, snapshots)
    if len(matching) == 1:
        return matching[0]
    if len(matching) > 1:
        raise InputError("lists", _ambiguous(spec, matching))
    raise InputError("lists", _unknown(spec, snapshots, keywords))


def _by_prefix(spec: str, snapshots: Sequence[StoredSnapshot]) -> list[StoredSnapshot]:
    return [snapshot for snapshot in snapshots if spec and snapshot.id.startswith(spec)]


def _ambiguous(spec: str, matching: Sequence[StoredSnapshot]) -> str:
    return f"{spec!r} could be {', '.join(snapshot.id for snapshot in matching)}; give more of the id"


def _unknown(spec: str, snapshots: Sequence[StoredSnapshot], keywords: Sequence[str]) -> str:
    choices = [*keywords, *(snapshot.id for snapshot in snapshots)]
    if not choices:
        return f"{spec!r} is not a stored snapshot, and none is stored; import one with `chipgate lists import`"
    return f"{spec!r} is not a stored snapshot{' or keyword' if keywords else ''}; choose from {', '.join(choices)}"


def active_snapshot_id(home: Path | None = None) -> str | None:
    """The id chosen with `use_snapshot`, or None when the shipped snapshot is in use."""
    path = (home or lists_home()) / ACTIVE_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def use_snapshot(spec: str, home: Path | None = None) -> str | None:
    """Make `spec` (a stored id or unique prefix, or "shipped") the active snapshot; returns its id."""
    root = home or lists_home()
    if spec == SHIPPED:
        (root / ACTIVE_FILE).unlink(missing_ok=True)
        return None
    snapshot = get_snapshot(spec, root, keywords=(SHIPPED,))
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{ACTIVE_FILE}.{os.getpid()}"
    staging.write_text(snapshot.id + "\n", encoding="utf-8")
    staging.replace(root / ACTIVE_FILE)
    return snapshot.id


def remove_snapshot(spec: str, home: Path | None = None) -> tuple[StoredSnapshot, bool]:
    """Delete a stored snapshot; returns it and whether it was the active one (then the shipped one is)."""
    root = home or lists_home()
    if spec in (SHIPPED, ACTIVE):
        raise InputError("ID", f"{spec!r} cannot be removed; give the id of a stored snapshot")
    snapshot = get_snapshot(spec, root)
    was_active = active_snapshot_id(root) == snapshot.id
    if was_active:
        (root / ACTIVE_FILE).unlink(missing_ok=True)
    # Renamed first, so a snapshot is either whole or gone even if deleting stops halfway.
    doomed = root / f".remove-{snapshot.id}-{os.getpid()}"
    snapshot.directory.rename(doomed)
    shutil.rmtree(doomed)
    return snapshot, was_active


def resolve_lists(spec: str | None) -> RestrictedPartyList:
    """The restricted-party list a command screens against.

    - None or "active": the snapshot chosen with `chipgate lists use`, else the shipped one;
    - "shipped": the snapshot in the package (`default_rulebook().restricted_parties`);
    - a stored snapshot's id, or a prefix of exactly one;
    - the path of a list file: a CSV in the shipped layout with its meta file beside it is
      loaded as it is; any other list file is imported in memory (nothing is stored), with
      the date it was last modified as its snapshot date.

    Anything else is an `InputError` on the field "lists" naming the choices.
    """
    root = lists_home()
    if spec is None or spec == ACTIVE:
        chosen = active_snapshot_id(root)
        if chosen is None:
            return _shipped()
        directory = root / chosen
        if not _SNAPSHOT_ID.match(chosen) or not (directory / IMPORT_NAME).is_file():
            choices = ", ".join([SHIPPED, *(snapshot.id for snapshot in list_snapshots(root))])
            raise InputError(
                "lists",
                f"the snapshot in use, {chosen}, is no longer stored; choose another with "
                f"`chipgate lists use` ({choices})",
            )
        return _load_stored(directory / CSV_NAME)
    if spec == SHIPPED:
        return _shipped()
    snapshots = list_snapshots(root)
    for snapshot in snapshots:
        if snapshot.id == spec:
            return _load_stored(snapshot.csv_path)
    path = Path(spec).expanduser()
    if path.is_file():
        return _load_file(path)
    matching = _by_prefix(spec, snapshots)
    if len(matching) == 1:
        return _load_stored(matching[0].csv_path)
    if len(matching) > 1:
        raise InputError("lists", _ambiguous(spec, matching))
    raise InputError(
        "lists",
        f"{spec!r} is not a stored snapshot, a list file, {SHIPPED} or {ACTIVE}; choose from "
        + ", ".join([SHIPPED, ACTIVE, *(snapshot.id for snapshot in snapshots)]),
    )


def screening_rulebook(spec: str | None = None, base: Rulebook | None = None, *, field: str = "lists") -> Rulebook:
    """`base` (default: the shipped rulebook) screening against the list `resolve_lists(spec)` gives.

    This is how every command picks its rulebook: None means the snapshot chosen with
    `chipgate lists use`, else the shipped one. When that is the list `base` already
    screens against, `base` itself is returned, so its version and caches are unchanged.
    Errors are `InputError`s on `field` (e.g. "--lists").
    """
    if base is None:
        from chipgate.rulebook import default_rulebook

        base = default_rulebook()
    try:
        parties = resolve_lists(spec)
    except InputError as exc:
        if exc.field == "lists" and field != "lists":
            raise InputError(field, exc.message) from None
        raise
    return base if parties is base.restricted_parties else base.with_restricted_parties(parties)


def _shipped() -> RestrictedPartyList:
    from chipgate.rulebook import default_rulebook

    return default_rulebook().restricted_parties


# Loaded snapshots by (path, modification time, size): a long-running service that
# resolves the lists per request reads each snapshot once.
_LOADED: dict[tuple[str, int, int], RestrictedPartyList] = {}


def _load_stored(csv_path: Path) -> RestrictedPartyList:
    stat = csv_path.stat()
    key = (str(csv_path), stat.st_mtime_ns, stat.st_size)
    loaded = _LOADED.get(key)
    if loaded is None:
        if len(_LOADED) >= 8:
            _LOADED.clear()
        loaded = _LOADED[key] = RestrictedPartyList.from_csv(csv_path)
    return loaded


def _load_file(path: Path) -> RestrictedPartyList:
    result = read_list_file(path)
    described = _described(path) if result.format == "chipgate-csv" else None
    if described is not None:
        return described
    entries = result.entries
    snapshot_date = _modified_date(path)
    digest = hashlib.sha256(snapshot_csv(entries)).hexdigest()
    known = source_table().lists
    infos = {
        code: ListInfo(code, known[code].name, known[code].citation, known[code].licence_requirement)
        for code in {entry.list_code for entry in entries}
        if code in known
    }
    file_digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return RestrictedPartyList(
        entries,
        snapshot_date=snapshot_date,
        source=f"{path.name} (sha256 {file_digest})",
        lists=infos,
        snapshot_id=f"{snapshot_date.isoformat()}-{digest[:8]}",
    )
