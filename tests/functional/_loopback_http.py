"""An HTTP server on a free loopback port, served from a daemon thread: the base of the test doubles that speak
HTTP (the Kubernetes API stand-in, the etcd transaction proxy)."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


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
