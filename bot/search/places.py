"""Which province a question (or a member's region) is about, from the places it names.

A local regulation (上海市社会救助条例) answers a question from its own province and seldom
one from elsewhere; villagers name their city or district ("嘉兴的老沈…", "万州的张嬢嬢"), not
the province. knowledge/places.tsv maps such names to provinces (general knowledge of the
administrative divisions; ambiguous names are left out of it).
"""

from __future__ import annotations

from pathlib import Path

PROVINCES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
).split()


_SUFFIXES = "省市区县州盟"


class Places:
    def __init__(self, names: dict[str, str] | None = None):
        # every name → its province; the provinces name themselves
        self.province_of = {p: p for p in PROVINCES} | dict(names or {})

    @classmethod
    def load(cls, path: Path) -> Places:
        names: dict[str, str] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip() or line.startswith("#"):
                    continue
                province, _, rest = line.partition("\t")
                if province.strip() in PROVINCES:
                    for name in rest.split():
                        names[name] = province.strip()
        return cls(names)

    def provinces_named(self, text: str) -> frozenset[str]:
        """The provinces the text names, directly or through a city, prefecture or district.
        Names are matched as whole words (one to three jieba words joined, with or without
        市/区/县…), so 复合肥 does not name 合肥 and 大兴安岭 does not name 大兴."""
        from bot.search.tokenize import tokenizer

        words = [w for w in tokenizer().cut(text) if w.strip()]
        found = set()
        for i in range(len(words)):
            for j in range(i + 1, min(i + 3, len(words)) + 1):
                name = "".join(words[i:j])
                for candidate in (name, name[:-1] if name[-1] in _SUFFIXES else None):
                    if candidate and candidate in self.province_of:
                        found.add(self.province_of[candidate])
        return frozenset(found)

    @staticmethod
    def province_of_title(title: str) -> str:
        """The province of a local regulation (its title starts with it); "" when national."""
        return next((p for p in PROVINCES if title.startswith(p)), "")

    @staticmethod
    def foreign(title: str, named: frozenset[str]) -> bool:
        """A regulation of a province other than those named (a national law never is)."""
        return Places.province_of_title(title) not in ("", *named)
