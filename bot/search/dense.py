"""Dense ranking (optional): placeholder until the embedding backends land."""

from __future__ import annotations


def sync_vectors(settings, store) -> None:
    return None


def load_dense(settings):
    return None
