"""联户助手 (Lianhu): policy answers, household ledger and weekly digests."""

import os

# Pinyin (typos that sound like the word: 低宝 → 低保; household names that sound alike) is read
# character by character, without pypinyin's phrase table: that table costs the running bot
# 38 MB (348 → 310 MB after answering; the budget is 350). Both sides of every comparison are
# read the same way. Set before any module imports pypinyin.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
