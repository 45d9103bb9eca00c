"""A fake OpenAI-compatible embeddings server on 127.0.0.1 for tests: a toy "meaning", a record
of every request, and a switch that holds one request unanswered (to kill a run mid-batch)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The toy meaning: texts that speak of misfortune point one way, of illness another.
CONCEPTS = [("意外", "倒霉", "出事"), ("重病", "看病", "医疗"), ("收入", "穷", "困难")]


def concept_vector(text: str) -> list[float]:
    vector = [1.0 if any(w in text for w in words) else 0.0 for words in CONCEPTS]
    return [*vector, 0.1]  # never all-zero


class FakeEmbeddingServer:
    def __init__(self):
        self.requests: list[dict] = []
        self.hold_request = 0  # the n-th request from now on is held until release()
        self.held = threading.Event()
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, **body})
                if server.hold_request and len(server.requests) == server.hold_request:
                    server.held.set()
                    server._release.wait(60)
                    return  # the client was killed meanwhile: no answer
                data = [
                    {"object": "embedding", "index": i, "embedding": concept_vector(t)}
                    for i, t in enumerate(body["input"])
                ]
                payload = json.dumps({"object": "list", "data": data}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def hold(self, nth: int) -> None:
        """Hold the nth request counted from now."""
        self.requests.clear()
        self.held.clear()
        self._release.clear()
        self.hold_request = nth

    def release(self) -> None:
        self.hold_request = 0
        self._release.set()

    def texts(self, model: str | None = None) -> list[str]:
        return [
            t for r in self.requests if model is None or r["model"] == model for t in r["input"]
        ]

    def close(self) -> None:
        self.release()
        self.http.shutdown()


def openai_settings(settings, url: str):
    """Point settings at the fake server, with e5-style models and prefixes."""
    e = settings.embeddings
    e.backend, e.base_url = "openai", url
    e.query_model, e.document_model = "e5-query", "e5-passage"
    e.query_prefix, e.document_prefix = "query: ", "passage: "
    return settings


def openai_env(url: str) -> dict[str, str]:
    """The same settings for a `lianhu` subprocess."""
    return {
        "LIANHU_EMBEDDINGS__BACKEND": "openai",
        "LIANHU_EMBEDDINGS__BASE_URL": url,
        "LIANHU_EMBEDDINGS__QUERY_MODEL": "e5-query",
        "LIANHU_EMBEDDINGS__DOCUMENT_MODEL": "e5-passage",
        "LIANHU_EMBEDDINGS__QUERY_PREFIX": "query: ",
        "LIANHU_EMBEDDINGS__DOCUMENT_PREFIX": "passage: ",
    }
