import sys

from tether.lsp_server.cli import main

sys.exit(main())
