"""Modules that bind names at run time (decoding.grounding.dynamic_globals), on source text."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("source", "binds"), [
    ("exec('x = 1')", True),
    ('exec("a, b = (1, 2)")', True),  # commas inside a string or brackets do not count
    ("exec(compile(src, '<x>', 'exec'), ns)", False),
    ("exec(code, None, scope)", False),  # names go to `scope`
    ("exec(code, globals(), scope)", True),
    ("exec(code", True),  # unclosed: judged the safe way
    ("exec(code, module.__dict__)  # exec(x)", False),
    ("exec(f\'\'\'a, b\n\'\'\', ns)", False),
    ("how eval() and exec() work", False),
    ("globals()['x'] = 1", True),
    ("globals().update(table)", True),
    ("x = 1", False),
])
def test_modules_that_bind_names_at_run_time(source: str, binds: bool) -> None:
    from tether.decoding.grounding.dynamic_globals import binds_names_at_run_time

    assert binds_names_at_run_time(source) is binds
