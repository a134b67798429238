"""An HTTP server on a free loopback port, served from a daemon thread: the base of the test doubles that speak
HTTP (the Kubernetes API stand-in, the etcd transaction proxy)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

# The request and reply headers a proxy in front of etcd passes on (auth token; v2's index).
FORWARDED_REQUEST_HEADERS = ("content-type", "authorization")


def forward(handler, target, body):
    """Send the request *handler* (a BaseHTTPRequestHandler) received, with *body*, to *target*; -> (status, reply
    body, X-Etcd-Index or None). An HTTP error status is a reply like any other."""
    headers = {k: v for k, v in handler.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
    request = urllib.request.Request(target + handler.path, body, headers, method=handler.command)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read(), resp.headers.get("X-Etcd-Index")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("X-Etcd-Index")


def reply(handler, status, data, index=None):
    """Answer *handler*'s request with a JSON body (and etcd v2's X-Etcd-Index when given)."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    if index:
        handler.send_header("X-Etcd-Index", index)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class LoopbackHTTPServer:
    """Call serve(handler_class) to start; `url` is then where it answers; stop() ends it."""

    def serve(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
