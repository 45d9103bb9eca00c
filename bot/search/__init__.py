"""Retrieval: tokenizing, keyword (BM25) and dense ranking, fusion, query understanding."""
