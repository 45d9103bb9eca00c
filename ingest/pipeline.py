"""`lianhu ingest`: files → units in a new index generation → rankings → vectors → switch.

Incremental: a content hash per document; unchanged documents are skipped, a changed one is
replaced in one transaction, `prune` drops documents whose files are gone. The bundled cards
are synced on every run, so `lianhu ingest` always indexes them with the rest.

Atomic: a run writes into `data/index/building/` (a copy of the served generation) and only its
last step points `data/index/CURRENT` at the result (ingest/generations.py), so a run that is
killed or fails leaves the index answering exactly as before, and the next run resumes the
killed one's documents and vectors. A run with nothing to change publishes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot.config import Settings
from bot.search.tokenize import load_term_words, tokens
from bot.services.cards import Card, load_cards
from ingest.embedding import VectorReport, export_vectors, vectors_complete
from ingest.generations import (
    Build,
    IngestLock,
    current_generation,
    link_file,
    new_build,
    publish,
    resume_build,
)
from ingest.normalize import normalize
from ingest.readers import SUPPORTED, UnreadableDocument, read_document
from ingest.split import split_document
from ingest.store import IndexStore, NewUnit

log = logging.getLogger(__name__)

# Part of every content hash: bump it when splitting or tokenizing changes, so that a
# re-ingest rebuilds the units instead of skipping "unchanged" documents.
PIPELINE_VERSION = "9"  # 9: pinyin without the phrase table (bot/__init__.py)

# progress(stage, done, total): stage is 文件 (files read) or 向量 (texts embedded)
Progress = Callable[[str, int, int], None]


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
    rebuilt: bool = False  # a new generation was published
    resumed: bool = False  # carried on from a killed run
    generation: str = ""  # the generation served after the run
    vectors: VectorReport | None = None

    def summary(self) -> str:
        text = (
            f"文件 {self.files_seen} 个：新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}，"
            f"删除 {self.pruned}；卡片 {self.cards} 张；写入条目 {self.units_written} 条"
        )
        if self.resumed:
            text += "（接着上次中断的导入）"
        if self.vectors is not None:
            text += "；" + self.vectors.summary()
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
    keyword_only: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Index the given files and the bundled cards into a new generation and switch to it.

    `keyword_only`: publish the keyword index without embedding the articles (the cards are
    still embedded: they are few), so a large collection answers at once; a later run
    without it embeds the rest while this one serves."""
    terms_file = settings.knowledge_dir / "terms.tsv"
    load_term_words(terms_file)
    # The term dictionary shapes tokenization, so it is part of every document's hash.
    salt = terms_file.read_bytes() if terms_file.is_file() else b""
    files = collect_files(paths)
    index_dir = settings.index_dir
    report = IngestReport(files_seen=len(files))
    with IngestLock(index_dir):
        run = _Run(settings, current_generation(index_dir), report)
        try:
            for i, file in enumerate(files):
                run.ingest_file(file, salt)
                if progress:
                    progress("文件", i + 1, len(files))
            if prune:
                run.prune()
            run.sync_cards(salt)
            embedder = _embedder(settings)
            if run.build is None:
                wants_vectors = (
                    embedder is not None
                    and not keyword_only
                    and not vectors_complete(run.base, embedder, settings.embeddings.sentences)
                )
                if not wants_vectors and run.base_has_keyword():
                    return report  # nothing to change: keep serving the current generation
                run.start_build(link=run.base_is_generation() and run.base_has_keyword())
            run.build_keyword()
            if embedder is not None:
                report.vectors = export_vectors(
                    settings,
                    run.store,
                    run.art_unit_ids(),
                    run.build.path,
                    run.base,
                    embedder,
                    keyword_only=keyword_only,
                    progress=progress,
                )
            run.publish()
        finally:
            run.close()
    return report


def _embedder(settings: Settings):
    from bot.search.embedders import make_embedder

    try:
        return make_embedder(settings)
    except Exception as exc:
        log.warning("向量检索未启用：%s", exc)
        return None


class _Run:
    """One ingest run: the served generation it starts from and the build it writes, created
    on the first real change (or resumed from a killed run on the same base)."""

    def __init__(self, settings: Settings, base: Path | None, report: IngestReport):
        self.settings = settings
        self.index_dir = settings.index_dir
        self.base = base
        self.report = report
        self.store: IndexStore | None = None  # the build's database, once there is a build
        self.build: Build | None = resume_build(self.index_dir, base)
        if self.build is not None:
            self.store = IndexStore(self.build.path, read_only=self.build.db_linked)
            report.resumed = True
        # what the run compares files with: the resumed build, else the served generation
        self.reader = self.store or (self._open_base() if base else None)
        self.known = self.reader.document_hashes() if self.reader else {}

    def _open_base(self) -> IndexStore:
        # an index from before generations (data/index itself) may still be in WAL mode
        return IndexStore(self.base, read_only=self.base != self.index_dir)

    @cached_property
    def _base_hashes(self) -> dict[str, str]:
        """Documents of the served generation (to tell an added document from an updated one)."""
        if self.base is None:
            return {}
        reader = self._open_base()
        try:
            return reader.document_hashes()
        finally:
            reader.close()

    def base_has_keyword(self) -> bool:
        from bot.search.keyword import KeywordIndex

        return self.base is not None and KeywordIndex.exists_in(self.base)

    def base_is_generation(self) -> bool:
        """A published generation (not an index from before generations, which may be in WAL
        mode and so cannot be shared by a hard link)."""
        return self.base is not None and self.base != self.index_dir

    # -- changes -------------------------------------------------------------------------
    def writable_store(self) -> IndexStore:
        if self.build is None:
            self.start_build(link=False)
        elif self.build.db_linked:
            self._unlink_db()
        return self.store

    def start_build(self, *, link: bool) -> None:
        """Make `building/`: the base's database copied (or, when only vectors change, linked)."""
        self.build = new_build(self.index_dir, self.base)
        if self.base is None:
            self.store = IndexStore(self.build.path)
        elif link:
            from bot.search.keyword import KEYWORD_FILES

            for name in ("index.db", *KEYWORD_FILES):
                link_file(self.base / name, self.build.path / name)
            self.build.db_linked = True
            self.build.save_info()
            self.store = IndexStore(self.build.path, read_only=True)
        else:
            self.store = IndexStore.copy_of(self.base, self.build.path)
        if self.reader is not None and self.reader is not self.store:
            self.reader.close()
        self.reader = self.store

    def _unlink_db(self) -> None:
        """The build's database was a link to the served one: give it its own copy to write."""
        self.store.close()
        db = self.build.path / "index.db"
        tmp = self.build.path / "index.db.copy"
        shutil.copyfile(db, tmp)
        os.replace(tmp, db)
        self.build.db_linked = False
        self.build.save_info()
        self.store = self.reader = IndexStore(self.build.path)

    def ingest_file(self, file: Path, salt: bytes) -> None:
        source = str(file)
        content_hash = _hash(salt + file.read_bytes())
        if self.known.get(source) == content_hash:
            self.report.unchanged += 1
            return
        try:
            doc = read_document(file)
        except UnreadableDocument as exc:
            log.warning("%s", exc)
            self.report.errors.append(str(exc))
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
            self.report.errors.append(f"{file.name} 没有可索引的正文")
            return
        self.writable_store().replace_document(source, "law", doc.title, content_hash, units)
        self.known[source] = content_hash
        self.report.units_written += len(units)
        if source in self._base_hashes:
            self.report.updated += 1
        else:
            self.report.added += 1

    def prune(self) -> None:
        gone = (
            [s for s in self.reader.sources("law") if not Path(s).exists()] if self.reader else []
        )
        if gone:
            self.report.pruned = self.writable_store().delete_documents(gone)

    def sync_cards(self, salt: bytes) -> None:
        cards = load_cards(self.settings.knowledge_dir)
        self.report.cards = len(cards)
        wanted = {f"card:{c.id}": c for c in cards}
        have = self.reader.sources("card") if self.reader else []
        removed = [s for s in have if s not in wanted]
        if removed:
            self.writable_store().delete_documents(removed)
        for source, card in wanted.items():
            body = card_body(card)
            content_hash = _hash(salt + repr(sorted(body.items())).encode())
            if self.known.get(source) == content_hash:
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
            self.writable_store().replace_document(
                source, "card", card.questions[0], content_hash, [unit], card=body
            )
            self.known[source] = content_hash

    # -- rankings and the switch -----------------------------------------------------------
    def build_keyword(self) -> None:
        """Rebuild the keyword index when documents changed (or a killed run did not get to it)."""
        from bot.search.keyword import KeywordIndex

        if self.build.db_linked:
            return  # only vectors change: the base's keyword files are linked already
        if self.store.dirty or not KeywordIndex.exists_in(self.build.path):
            KeywordIndex.build(self.store).save(self.build.path)
            self.store.mark_clean()

    def art_unit_ids(self):
        from bot.search.keyword import KeywordIndex

        return KeywordIndex.load_unit_ids(self.build.path)

    def publish(self) -> None:
        if self.build.db_linked:
            self.store.close()
        else:
            self.store.finish()
        self.store = self.reader = None
        self.report.generation = publish(self.index_dir, self.build).name
        self.report.rebuilt = True

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.store is not None and self.store is not self.reader:
            self.store.close()


def card_body(card: Card) -> dict:
    """A card as the index stores it (JSON)."""
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
