"""A small HTTP receiver on 127.0.0.1 for webhook tests: it verifies each
signature, answers 500 to the first ``fail_first`` requests (or hangs
``hang_first`` of them), and accepts each idempotency key once, as a real
receiver would."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from improvement.webhooks import verify


class Receiver:
    def __init__(self, *, secret_of=None, fail_first: int = 0, hang_first: int = 0):
        self.secret_of = secret_of or (lambda: None)
        self.fail_first = fail_first
        self.hang_first = hang_first
        self.requests: list[dict] = []
        self.accepted: dict[str, int] = {}
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                secret = receiver.secret_of()
                signed = secret is not None and verify(
                    secret,
                    self.headers["Webhook-Timestamp"],
                    body,
                    self.headers["Webhook-Signature"],
                )
                key = self.headers["Webhook-Id"]
                with receiver.lock:
                    receiver.requests.append(
                        {"key": key, "body": body, "signed": signed}
                    )
                    count = len(receiver.requests)
                if count <= receiver.hang_first:
                    # the sender dies meanwhile: this request is never accepted
                    receiver.release.wait(60)
                    return
                if count <= receiver.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                with receiver.lock:
                    if signed and key not in receiver.accepted:
                        receiver.accepted[key] = count
                        status = 200
                    else:
                        status = 200 if signed else 401
                self.send_response(status)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
