"""The `tether` command line."""

from tether.lsp_server.cli.main import main

__all__ = ["main"]
