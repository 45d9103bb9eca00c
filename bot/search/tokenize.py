"""Chinese tokens for indexing and search: jieba with a domain dictionary, minus chat filler.

Documents and questions go through the same `normalize` and the same tokenizer, so a word
is indexed exactly as it will be searched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ingest.normalize import normalize

# Words that carry no meaning for ranking: chat filler, pronouns, particles, question words.
# Without this list a rare filler word that happens to appear in some law ("俺", "中不中")
# would outrank the words that matter.
STOPWORDS = frozenset(
    """
    俺 俺们 俺家 咱 咱们 咱家 我 我们 我家 你 你们 您 他 她 它 他们 她们 人家 自己 大家 家里 家 户
    的 地 得 了 着 过 吗 呢 吧 啊 呀 嘛 哦 哇 啦 咧 喽 么 呗 哈 嗯 哎 唉 欸
    咋 咋办 咋整 咋弄 咋样 咋回事 怎么 怎么办 怎么样 怎样 怎么着 如何 啥 啥样 什么 什么样 哪 哪里 哪儿 哪个 哪些
    能不能 能否 可不可以 可以 行不行 中不中 成不成 是不是 有没有 会不会 要不要 算不算 管不管 给不给
    能 会 要 想 得 应该 应当 需要 还 就 都 也 又 再 才 只 很 太 挺 最 更 特别 非常 一直 已经 正在 到底 究竟
    给 让 被 把 跟 和 与 及 或 或者 还是 而且 但是 可是 不过 因为 所以 如果 要是 就是 只是 这样 那样
    在 是 有 没 没有 不 不是 无 这 那 这个 那个 这些 那些 这种 那种 这儿 那儿 一个 个 一 些 点 一点 一下
    啥时候 什么时候 何时 为啥 凭啥 干啥 咋个 咋算 回事 会儿 多会儿 能行 好不好 不要紧 多少 几 几个 谁 请问 问 问问 知道 听说 说 讲 告诉 觉得 看看 看 现在 今年 去年 明年 今天 昨天 时候 之前 以后
    上 下 里 中 内 外 前 后 多 少 大 小 好 行 对 错 事 事儿 东西 情况 问题 办法
    不能 不会 不要 不用 不让 从 向 对于 由 为 为了 以 按 按照 关于 将 等 之 其 该 各 所 吗 么
    一般 平常 平时 一直 经常 总是 老是 怎么回事 算 算是 能够 可能 也许 大概 差不多
    大爷 大娘 大妈 大伯 大叔 大婶 大哥 大姐 老汉 老太 老头 婶子 叔叔 阿姨 爷爷 奶奶
    """.split()
)

_TOKEN_OK = re.compile(r"[\u4e00-\u9fff0-9a-z]")
_CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+")
_jieba = None
_loaded_dicts: set[str] = set()


def tokenizer():
    """The process-wide jieba tokenizer (its dictionary load costs ~0.7 s, once)."""
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba.Tokenizer()
        _jieba.initialize()
    return _jieba


def add_words(words: Iterable[str]) -> None:
    """Teach jieba domain words (official terms, colloquial terms) so they stay whole."""
    tok = tokenizer()
    for word in words:
        word = normalize(word)
        if len(word) >= 2 and word not in _loaded_dicts:
            tok.add_word(word, freq=20000)
            _loaded_dicts.add(word)


def load_term_words(terms_file: Path) -> None:
    """Add every word of knowledge/terms.tsv to the jieba dictionary."""
    if terms_file.is_file():
        words = []
        for line in terms_file.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                words.extend(line.replace("\t", " ").split())
        add_words(words)


def tokens(text: str, *, normalized: bool = False) -> list[str]:
    """Search-mode jieba tokens of the text (long words also give their parts), no filler."""
    if not normalized:
        text = normalize(text)
    out = []
    for word in tokenizer().cut(text):
        word = word.strip()
        if not word or word in STOPWORDS or not _TOKEN_OK.search(word):
            continue  # a filler word goes with its parts (中不中 must not leave 不中 behind)
        out.extend(p for p in _dictionary_parts(word) if p not in STOPWORDS)
        out.append(word)
    return out


def _dictionary_parts(word: str) -> list[str]:
    """The 2- and 3-character dictionary words inside a longer word (最低生活保障 → 最低, 生活,
    保障), as jieba's search mode gives them, so a question can match a part."""
    dictionary = tokenizer().FREQ
    parts = []
    for size in (2, 3):
        if len(word) > size:
            parts.extend(
                word[i : i + size]
                for i in range(len(word) - size + 1)
                if dictionary.get(word[i : i + size])
            )
    return parts


def guessed_word_pieces(token: str) -> list[str]:
    """The characters of a word jieba only guessed (it is in no dictionary): such a guess often
    glues a verb to filler (要征, 罚得, 能告), and the verb (征, 罚, 告) is what carries the
    meaning. A real word gives no pieces."""
    if len(token) < 2 or not _CJK_ONLY.fullmatch(token) or tokenizer().FREQ.get(token):
        return []
    return [c for c in token if c not in STOPWORDS]


def char_bigrams(text: str, *, normalized: bool = False) -> list[str]:
    """Overlapping pairs of CJK characters: they survive typos and missing characters."""
    if not normalized:
        text = normalize(text)
    out = []
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out
