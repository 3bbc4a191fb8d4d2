"""Tether: offline, repository-grounded code completion.

Installed as one namespace: `tether.index` (facts about code), `tether.decoding` (the model and
the constrained decoding over it) and `tether.lsp_server` (the protocol, the CLI), each
importing only the ones below it. `python -m tether` is the command line.
"""
