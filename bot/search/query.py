"""Understanding a volunteer's question before ranking.

Plain speech differs from the documents in three ways this module bridges:
- colloquial words (吃低保, 五保, 盖房) → the official words (最低生活保障, 特困人员, 宅基地),
  from the editable dictionary knowledge/terms.tsv;
- homophone typos (伸请, 补尝, 五包户) → the indexed word with the same sound;
- chat filler (咋办, 俺, 中不中) → dropped by the tokenizer's stop list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.search.tokenize import char_bigrams, guessed_word_pieces, tokens
from ingest.normalize import normalize

EXPANSION_WEIGHT = 0.5
CORRECTION_WEIGHT = 0.9


@dataclass
class Query:
    text: str
    norm: str
    corrected: str = ""  # norm with homophone typos replaced (伸请 → 申请)
    # the corrected question's words, plus the characters of words jieba only guessed (要征 → 征)
    own_words: list[str] = field(default_factory=list)
    words: dict[str, float] = field(default_factory=dict)
    bigrams: dict[str, float] = field(default_factory=dict)
    expansions: list[str] = field(default_factory=list)
    corrections: list[tuple[str, str]] = field(default_factory=list)
    asks_current_figure: bool = False
    detail_cues: int = 0  # how often it asks for what no article states (see _LOCAL_DETAIL)


@dataclass(frozen=True)
class TermDictionary:
    entries: tuple[tuple[str, tuple[str, ...]], ...]  # (colloquial, official words), longest first

    @classmethod
    def load(cls, path: Path) -> TermDictionary:
        return _load_terms(str(path), path.stat().st_mtime if path.is_file() else 0.0)

    def colloquial_words(self) -> frozenset[str]:
        return frozenset(c for c, _ in self.entries)

    def pinyin_words(self) -> dict[str, str]:
        """Sound → colloquial word, so that a misspelt colloquial word (新农报) still expands."""
        return _term_sounds(self.entries)

    def expand(self, norm: str, words: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """Official words for every colloquial word found in the normalized question. A
        one-character entry (征, 罚) counts only as a word of its own among `words` (the
        question's tokens), never inside a longer word (公告, 报告)."""
        found: list[str] = []
        covered = norm
        for colloquial, official in self.entries:
            if len(colloquial) == 1 and colloquial not in words:
                continue
            if colloquial in covered:
                found.extend(official)
                # a longer entry (吃低保) hides its shorter parts (低保) from matching twice
                covered = covered.replace(colloquial, "\0")
        return found


@lru_cache(maxsize=8)
def _load_terms(path: str, _mtime: float) -> TermDictionary:
    entries = []
    file = Path(path)
    if file.is_file():
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#") or "\t" not in line:
                continue
            colloquial, official = line.split("\t", 1)
            words = tuple(normalize(w) for w in official.split())
            if colloquial.strip() and words:
                entries.append((normalize(colloquial), words))
    entries.sort(key=lambda e: -len(e[0]))
    return TermDictionary(tuple(entries))


@lru_cache(maxsize=8)
def _term_sounds(entries: tuple) -> dict[str, str]:
    from bot.search.keyword import pinyin_key

    return {pinyin_key(c): c for c, _ in entries if 2 <= len(c) <= 4}


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")

# "今年…多少钱", "2024年…标准是多少", "涨了百分之几": this year's amounts are set and published
# locally every year; laws and regulations never carry them, so no article can answer.
_CURRENT_TIME = re.compile(r"今年|明年|去年|本年度|20\d\d年|现在|目前|最新")
_MONEY = r"多少钱|多少元|多少块"
_AMOUNT = re.compile(_MONEY + r"|几块|多少|百分之几|几个点|涨了|涨多少|标准是")


def asks_current_figure(norm: str) -> bool:
    return bool(_CURRENT_TIME.search(norm) and _AMOUNT.search(norm))


# What no law or regulation states: a local amount, a date, a phone number, an address, a
# website or app, a form or template, the papers to bring. A question asking for these is more
# likely one for an office than for an article; how much that counts against answering is the
# refusal model's fitted weight, not a rule. Written once (2026-11-25) from what statutes leave
# out, after reading which of our training out-of-scope questions were still answered (never the
# dev set); 5-fold CV on the training questions: out-of-scope refused 0.930 → 0.945 at the same
# false refusal (0.025).
_LOCAL_DETAIL = re.compile(
    _MONEY + r"|几块钱|具体.{0,4}多少|几号|几月|哪天|哪一天|电话|号码|地址|网站"
    r"|网上.{0,3}哪|栏目|app|下载|范本|模板|表格|在哪儿?办|去哪儿?办|带啥|带什么|什么材料|哪些材料",
    re.IGNORECASE,
)


def local_detail_cues(norm: str) -> int:
    return len(_LOCAL_DETAIL.findall(norm))


def homophone_corrections(
    norm: str, vocab: dict, pinyin_words: dict[str, str], known_words: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(typo, word) pairs: a 2–3 character stretch of the question that is not a known word but
    sounds exactly like one that differs from it in a single character (伸请 → 申请).

    A stretch that cuts through a real word of the question (有义|务) is never a typo: only
    stretches made of whole segments, or of characters jieba could not place, are tried."""
    from bot.search.keyword import pinyin_key
    from bot.search.tokenize import tokenizer

    found: list[tuple[str, str]] = []
    for run in _CJK_RUN.findall(norm):
        protected = []  # spans of words the question really contains
        pos = 0
        dictionary = tokenizer().FREQ
        for tok in tokenizer().cut(run, HMM=False):
            if len(tok) >= 2 and (tok in vocab or tok in known_words or dictionary.get(tok)):
                protected.append((pos, pos + len(tok)))
            pos += len(tok)
        for size in (3, 2):
            for i in range(len(run) - size + 1):
                j = i + size
                window = run[i:j]
                if window in vocab or window in known_words or dictionary.get(window):
                    continue
                if any(a < j and i < b and not (i <= a and b <= j) for a, b in protected):
                    continue
                word = pinyin_words.get(pinyin_key(window))
                if (
                    word
                    and word != window
                    and sum(a != b for a, b in zip(word, window, strict=True)) == 1
                ):
                    found.append((window, word))
    return found


def analyze(
    question: str, terms: TermDictionary, vocab: dict, pinyin_words: dict[str, str]
) -> Query:
    norm = normalize(question)
    query = Query(
        text=question,
        norm=norm,
        asks_current_figure=asks_current_figure(norm),
        detail_cues=local_detail_cues(norm),
    )
    for tok in tokens(norm, normalized=True):
        query.words[tok] = 1.0
    for bigram in char_bigrams(norm, normalized=True):
        query.bigrams[bigram] = 1.0
    query.corrections = homophone_corrections(
        norm, vocab, {**pinyin_words, **terms.pinyin_words()}, terms.colloquial_words()
    )
    corrected = norm
    for typo, word in query.corrections:
        _add(query, word, CORRECTION_WEIGHT)
        corrected = corrected.replace(typo, word)
    query.corrected = corrected
    said = tokens(corrected, normalized=True) if corrected != norm else list(query.words)
    query.own_words = list(
        dict.fromkeys([*said, *(c for t in said for c in guessed_word_pieces(t))])
    )
    query.expansions = terms.expand(corrected, set(query.own_words))
    for word in query.expansions:
        _add(query, word, EXPANSION_WEIGHT)
    return query


def _add(query: Query, phrase: str, weight: float) -> None:
    for tok in tokens(phrase, normalized=True):
        query.words[tok] = max(query.words.get(tok, 0.0), weight)
    for bigram in char_bigrams(phrase, normalized=True):
        query.bigrams[bigram] = max(query.bigrams.get(bigram, 0.0), weight)
