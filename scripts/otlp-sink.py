#!/usr/bin/env python3
"""A tiny OTLP/HTTP receiver for tests: writes every export request it receives as one line of
OTLP-JSON (the OpenTelemetry Collector file exporter's format: camelCase, hex trace/span ids,
64-bit integers as strings, enums as numbers) to a file.

Usage: otlp-sink.py OUT.jsonl [PORT]
Binds 127.0.0.1 (port 0 by default: the kernel picks one) and prints "listening PORT" on stdout
once ready. Accepts protobuf or JSON bodies, gzip-compressed or not (rotel always gzips).
"""
import base64
import gzip
import http.server
import json
import sys
import threading

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

SIGNALS = {
    "/v1/logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
    "/v1/traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
}
ID_KEYS = {"traceId", "spanId", "parentSpanId"}
LOCK = threading.Lock()


def hex_ids(node):
    """protobuf's MessageToDict writes bytes as base64; OTLP-JSON wants ids in hex."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_KEYS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            hex_ids(item)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        signal = SIGNALS.get(self.path)
        if signal is None:
            self.send_error(404)
            return
        request_type, response_type = signal
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        message = request_type()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            json_format.Parse(body, message)
        else:
            message.ParseFromString(body)
        doc = json_format.MessageToDict(message, use_integers_for_enums=True)
        hex_ids(doc)
        with LOCK, open(self.server.out_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(doc, separators=(",", ":")) + "\n")
        reply = response_type().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def main():
    out_path = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.out_path = out_path
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
