"""`lianhu ingest`: files → units in the index database → rankings rebuilt once at the end.

Incremental: a content hash per document; unchanged documents are skipped, a changed one is
replaced in one transaction, `prune` drops documents whose files are gone. The bundled cards
are synced on every run, so `lianhu ingest` always indexes them with the rest.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from bot.search.tokenize import load_term_words, tokens
from bot.services.cards import Card, load_cards
from ingest.normalize import normalize
from ingest.readers import SUPPORTED, UnreadableDocument, read_document
from ingest.split import split_document
from ingest.store import IndexStore, NewUnit

log = logging.getLogger(__name__)

# Part of every content hash: bump it when splitting or tokenizing changes, so that a
# re-ingest rebuilds the units instead of skipping "unchanged" documents.
PIPELINE_VERSION = "8"


@dataclass
class IngestReport:
    files_seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    pruned: int = 0
    cards: int = 0
    units_written: int = 0
    errors: list[str] = field(default_factory=list)
    rebuilt: bool = False

    def summary(self) -> str:
        text = (
            f"文件 {self.files_seen} 个：新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}，"
            f"删除 {self.pruned}；卡片 {self.cards} 张；写入条目 {self.units_written} 条"
        )
        if self.errors:
            text += f"；{len(self.errors)} 个文件无法读取"
        return text


def collect_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in SUPPORTED
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"找不到文件或文件夹：{path}")
    return [f.resolve() for f in files]


def ingest(
    settings: Settings,
    paths: Iterable[Path] = (),
    *,
    prune: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Index the given files and the bundled cards; rebuild the rankings if anything changed."""
    terms_file = settings.knowledge_dir / "terms.tsv"
    load_term_words(terms_file)
    # The term dictionary shapes tokenization, so it is part of every document's hash.
    salt = terms_file.read_bytes() if terms_file.is_file() else b""
    files = collect_files(paths)
    store = IndexStore(settings.index_dir)
    report = IngestReport(files_seen=len(files))
    try:
        known = store.document_hashes()
        for i, file in enumerate(files):
            _ingest_file(store, file, known, report, salt)
            if progress:
                progress(i + 1, len(files))
        if prune:
            gone = [s for s in store.sources("law") if not Path(s).exists()]
            report.pruned = store.delete_documents(gone)
        _sync_cards(store, settings.knowledge_dir, known, report, salt)
        if store.dirty or not _rankings_exist(settings):
            rebuild_rankings(settings, store)
            report.rebuilt = True
    finally:
        store.close()
    return report


def rebuild_rankings(settings: Settings, store: IndexStore) -> None:
    """Rebuild the keyword index (and dense vectors when configured) from the database."""
    from bot.search.dense import sync_vectors
    from bot.search.keyword import KeywordIndex

    KeywordIndex.build(store).save(settings.index_dir)
    sync_vectors(settings, store)
    store.mark_clean()


def _rankings_exist(settings: Settings) -> bool:
    from bot.search.keyword import KeywordIndex

    return KeywordIndex.exists(settings.index_dir)


def _ingest_file(
    store: IndexStore, file: Path, known: dict[str, str], report: IngestReport, salt: bytes
) -> None:
    source = str(file)
    content_hash = _hash(salt + file.read_bytes())
    if known.get(source) == content_hash:
        report.unchanged += 1
        return
    try:
        doc = read_document(file)
    except UnreadableDocument as exc:
        log.warning("%s", exc)
        report.errors.append(str(exc))
        return
    units = [
        NewUnit(
            article=u.article,
            chapter=u.chapter,
            part=u.part,
            text=u.text,
            tokens=" ".join(tokens(normalize(u.chapter + "\n" + u.text), normalized=True)),
            norm=normalize(u.text),
        )
        for u in split_document(doc.text)
    ]
    if not units:
        report.errors.append(f"{file.name} 没有可索引的正文")
        return
    store.replace_document(source, "law", doc.title, content_hash, units)
    report.units_written += len(units)
    if source in known:
        report.updated += 1
    else:
        report.added += 1


def _sync_cards(
    store: IndexStore, knowledge_dir: Path, known: dict[str, str], report: IngestReport, salt: bytes
) -> None:
    cards = load_cards(knowledge_dir)
    wanted = {f"card:{c.id}": c for c in cards}
    store.delete_documents([s for s in store.sources("card") if s not in wanted])
    for source, card in wanted.items():
        body = _card_body(card)
        content_hash = _hash(salt + repr(sorted(body.items())).encode())
        if known.get(source) == content_hash:
            continue
        search_text = normalize(card.search_text())
        unit = NewUnit(
            article=card.id,
            chapter=card.topic,
            part=0,
            text=card.answer,
            tokens=" ".join(tokens(search_text, normalized=True)),
            norm=search_text,
        )
        store.replace_document(source, "card", card.questions[0], content_hash, [unit], card=body)
    report.cards = len(cards)


def _card_body(card: Card) -> dict:
    return {
        "id": card.id,
        "topic": card.topic,
        "questions": list(card.questions),
        "citations": [list(c) for c in card.citations],
        "answer": card.answer,
        "next_steps": card.next_steps,
        "external": list(card.external),
    }


def _hash(data: bytes) -> str:
    return hashlib.sha256(PIPELINE_VERSION.encode() + b"\0" + data).hexdigest()
