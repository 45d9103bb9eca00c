"""The index database: documents and their units, the source of truth for every ranking.

One SQLite file per index generation (see ingest/generations.py). While a run builds it, each
document is replaced in one transaction, so a killed run leaves every document either old or new,
never half, and the next run carries on from there; the rankings derived from it are rebuilt
when documents changed (see `dirty`). A published generation's file is only ever read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,      -- absolute file path, or card:<id>
    kind TEXT NOT NULL,               -- law | card
    title TEXT NOT NULL,
    hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS units (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    article TEXT NOT NULL,
    chapter TEXT NOT NULL,
    part INTEGER NOT NULL,
    text TEXT NOT NULL,               -- original, for display
    tokens TEXT NOT NULL,             -- space-joined search tokens of the normalized text
    norm TEXT NOT NULL                -- normalized text, for character n-grams
);
CREATE INDEX IF NOT EXISTS units_doc ON units(doc_id);
CREATE TABLE IF NOT EXISTS cards (
    doc_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    card_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL                -- the card as JSON
);
"""


# columns in the order of StoredUnit's fields
_UNIT_SELECT = (
    "SELECT u.id, u.doc_id, d.kind, d.title, u.article, u.chapter, u.part, u.text, u.tokens, u.norm "
    "FROM units u JOIN documents d ON d.id = u.doc_id"
)


@dataclass(frozen=True)
class StoredUnit:
    id: int
    doc_id: int
    kind: str
    title: str
    article: str
    chapter: str
    part: int
    text: str
    tokens: str
    norm: str


@dataclass(frozen=True)
class NewUnit:
    article: str
    chapter: str
    part: int
    text: str
    tokens: str
    norm: str


class IndexStore:
    def __init__(self, index_dir: Path, *, read_only: bool = False):
        self.path = index_dir / "index.db"
        if read_only:
            # a published generation: never written, so no journal, no schema script
            self.db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            self.db.execute("PRAGMA query_only=ON")
            return
        index_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)

    @classmethod
    def copy_of(cls, source: Path, index_dir: Path) -> IndexStore:
        """A writable copy of another index's database (SQLite's backup API, so a source still
        in WAL mode is copied consistently)."""
        index_dir.mkdir(parents=True, exist_ok=True)
        target = index_dir / "index.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        src = sqlite3.connect(f"{(source / 'index.db').resolve().as_uri()}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return cls(index_dir)

    def finish(self) -> None:
        """Close a finished build: fold the WAL into the file so readers need nothing beside it."""
        self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.close()

    def close(self) -> None:
        self.db.close()

    # -- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    @property
    def dirty(self) -> bool:
        """True while documents changed since the rankings were last built."""
        return self.get_meta("dirty", "0") == "1"

    def mark_clean(self) -> None:
        self.set_meta("dirty", "0")

    # -- documents --------------------------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT source, hash FROM documents"))

    def count(self, kind: str | None = None) -> int:
        if kind:
            return self.db.execute(
                "SELECT count(*) FROM documents WHERE kind=?", (kind,)
            ).fetchone()[0]
        return self.db.execute("SELECT count(*) FROM documents").fetchone()[0]

    def replace_document(
        self,
        source: str,
        kind: str,
        title: str,
        content_hash: str,
        units: Sequence[NewUnit],
        card: dict | None = None,
    ) -> None:
        """Insert or replace one document and all its units in a single transaction."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._transaction():
            self.db.execute("DELETE FROM documents WHERE source=?", (source,))
            doc_id = self.db.execute(
                "INSERT INTO documents(source, kind, title, hash, ingested_at) VALUES(?,?,?,?,?)",
                (source, kind, title, content_hash, now),
            ).lastrowid
            self.db.executemany(
                "INSERT INTO units(doc_id, ord, article, chapter, part, text, tokens, norm) "
                "VALUES(?,?,?,?,?,?,?,?)",
                [
                    (doc_id, i, u.article, u.chapter, u.part, u.text, u.tokens, u.norm)
                    for i, u in enumerate(units)
                ],
            )
            if card is not None:
                self.db.execute(
                    "INSERT INTO cards(doc_id, card_id, body) VALUES(?,?,?)",
                    (doc_id, card["id"], json.dumps(card, ensure_ascii=False)),
                )
            self.set_meta("dirty", "1")

    def delete_documents(self, sources: Sequence[str]) -> int:
        if not sources:
            return 0
        with self._transaction():
            for source in sources:
                self.db.execute("DELETE FROM documents WHERE source=?", (source,))
            self.set_meta("dirty", "1")
        return len(sources)

    def sources(self, kind: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT source FROM documents WHERE kind=?", (kind,))]

    # -- reading ------------------------------------------------------------------------------
    def iter_units(self, kind: str) -> Iterator[StoredUnit]:
        """Units of one kind in a stable order (document id, then position)."""
        rows = self.db.execute(f"{_UNIT_SELECT} WHERE d.kind=? ORDER BY u.doc_id, u.ord", (kind,))
        for row in rows:
            yield StoredUnit(*row)

    def units_by_id(self, ids: Sequence[int]) -> dict[int, StoredUnit]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"{_UNIT_SELECT} WHERE u.id IN ({marks})",
            list(ids),
        )
        return {row[0]: StoredUnit(*row) for row in rows}

    def article_text(self, title: str, article: str) -> str | None:
        """The full text of an article (all its parts) of a document with this title, if indexed."""
        # documents first, then units by their doc_id index: as a join, SQLite scanned every
        # unit (34 ms a lookup with laws-full, 0.2 ms this way)
        rows = self.db.execute(
            "SELECT text FROM units WHERE doc_id IN "
            "(SELECT id FROM documents WHERE kind='law' AND title=?) AND article=? "
            "ORDER BY doc_id, ord",
            (title, article),
        ).fetchall()
        if not rows:
            return None
        return "\n".join(r[0] for r in rows)

    def law_unit_ids(self, title: str, article: str) -> list[int]:
        """Units of an article, the title matched with or without a leading 中华人民共和国."""
        bare = title.removeprefix("中华人民共和国")
        rows = self.db.execute(
            "SELECT id FROM units WHERE doc_id IN "
            "(SELECT id FROM documents WHERE kind='law' AND title IN (?, ?)) AND article=?",
            (bare, "中华人民共和国" + bare, article),
        )
        return [r[0] for r in rows]

    def cards(self) -> list[dict]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT body FROM cards ORDER BY doc_id")]

    def _transaction(self):
        return _Transaction(self.db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
