"""Token classes the vocabulary index keeps (decoding.mask.vocab_index)."""

from __future__ import annotations


def test_keyword_equals_outside_the_callees_keywords() -> None:
    """`name=` tokens blocked for names a call does not take: a lone `=` after a finished
    name, and tokens that finish a name and add its `=` (`key=`, ` key=`)."""
    from tether.decoding.mask.vocab_index import VocabularyIndex

    pieces = [b"key=", b" key=", b"=", b" =", b"==", b"name", b"ey=", b"re", b"verse="]
    vocabulary = VocabularyIndex(pieces, set(), lambda text: [])
    blocked = lambda partial: {pieces[t] for t in  # noqa: E731
                               vocabulary.keyword_equals_outside(partial, frozenset({"key"}))}
    assert blocked("") == {b"ey=", b"verse="}  # no keywords; `key=` is fine
    assert blocked("k") == {b"key=", b"verse=", b"=", b" ="}  # `ey=` makes `key=`
    assert blocked("re") == {b"key=", b"ey=", b"verse=", b"=", b" ="}
    assert blocked("key") == {b"key=", b"ey=", b"verse="}  # `key` itself may take `=`
    assert b"==" not in blocked("re")  # a comparison, not a keyword


def test_tokens_that_write_a_space_and_a_name_start() -> None:
    from tether.decoding.mask.vocab_index import VocabularyIndex

    pieces = [b" name", b"  _x", b"name", b" ", b" (", b" 1", b" =", b"\n name"]
    vocabulary = VocabularyIndex(pieces, set(), lambda text: [])
    assert {pieces[t] for t in vocabulary.space_ident} == {b" name", b"  _x"}
