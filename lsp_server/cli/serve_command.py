"""`tether serve`: the language server over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def parse_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def run_serve(args: argparse.Namespace) -> int:
    # The protocol owns file descriptor 1: anything else that writes to stdout (a print, a
    # native library) goes to stderr instead.
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from tether.lsp_server.server import SERVER

    if args.log_file:
        SERVER.settings.override = {"logFile": args.log_file}
        problem = SERVER.log_file.use(args.log_file,
                                      logging.DEBUG if args.verbose else logging.INFO)
        if problem:
            print(problem, file=sys.stderr)
    try:
        if args.tcp:
            host, port = args.tcp
            SERVER.start_tcp(host, port)
        else:
            SERVER.start_io(sys.stdin.buffer, protocol_out)
    finally:
        SERVER.close()
        logging.shutdown()
    # Worker threads may be mid-task (indexing a large repository): exit now, as LSP's
    # `exit` asks, instead of joining them.
    os._exit(0 if SERVER.protocol._shutdown else 1)
