"""Any secret echoed anywhere in a body of any length, in any spelling a server could echo, is never shown.

The secret (spaces, tabs, unicode, short ones included) is put at any position
of a body of any length, raw, URL-encoded, JSON-escaped or in base64; whatever
the error preview, the log line or the error message makes of it, neither the
secret nor any 8-character piece of the spelling echoed comes out.
"""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote, quote_plus

import pytest
from helpers import examples
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tap_lms import redaction
from tap_lms.errors import TapLMSError
from tap_lms.http.bounds import body_preview

pytestmark = pytest.mark.usefixtures("secrets_forgotten_after_module")


SECRETS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="*.") | st.sampled_from([" ", "\t"]),
    min_size=4,
    max_size=60,
).map(str.strip).filter(lambda s: len(s) >= 4)
FILLER = st.text(alphabet="#~^=", max_size=400)
SPELLINGS = {
    "raw": lambda s: s,
    "url": lambda s: quote(s, safe=""),
    "url-plus": quote_plus,
    "json": lambda s: json.dumps(s)[1:-1],
    "json-ascii": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
}


def _pieces(text: str, size: int = redaction.SECRET_PIECE) -> set[str]:
    return {text[i : i + size] for i in range(max(len(text) - size + 1, 1))}


def _shown(secret: str, echoed: str, before: str, after: str) -> list[str]:
    redaction.register_secret(secret)
    body = before + echoed + after
    outputs = [body_preview(body), body_preview(body, cut_off=True), str(TapLMSError(f"failed: {body}"))]
    record = logging.getLogRecordFactory()("urllib3", logging.WARNING, __file__, 1, "echo %s", (body,), None)
    outputs.append(record.getMessage())
    return outputs


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=SECRETS, spelling=st.sampled_from(sorted(SPELLINGS)), before=FILLER, after=FILLER)
def test_an_echoed_secret_is_never_shown_whole_or_in_pieces(secret, spelling, before, after):
    redaction.install()
    echoed = SPELLINGS[spelling](secret)
    # A piece the filler, the mask or the preview's own words could make is no leak.
    words = before + after + redaction.MASK + "... (body: )failed: echo"
    forms = {secret, " ".join(secret.split()), echoed}
    assume(not any(piece in words for form in forms for piece in _pieces(form) if len(piece) == redaction.SECRET_PIECE))
    for output in _shown(secret, echoed, before, after):
        for form in forms:
            assert form not in output
            for piece in _pieces(form):
                if len(piece) == redaction.SECRET_PIECE:
                    assert piece not in output, (piece, output)


@settings(max_examples=examples(100), deadline=None)
@given(secret=SECRETS, position=st.integers(0, 260))
def test_a_secret_cut_by_the_preview_leaves_no_piece(secret, position):
    redaction.register_secret(secret)
    shown = body_preview("#" * position + secret + "#" * 50)
    assert not any(piece in shown for piece in _pieces(secret) if len(piece) == redaction.SECRET_PIECE)


def test_a_body_cut_inside_a_secret_hides_the_start_of_it():
    secret = "cut-off-secret-value-123456"
    redaction.register_secret(secret)
    assert "cut-off-" not in body_preview("#" * 20 + secret[:15], cut_off=True)
