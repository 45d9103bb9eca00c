"""联户助手 (Lianhu): policy answers, household ledger and weekly digests."""
