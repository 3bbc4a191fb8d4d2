"""The `tether` command line."""

from lsp_server.cli.main import main

__all__ = ["main"]
