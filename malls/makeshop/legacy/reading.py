"""Reading the legacy API's raw answers: what their bytes look like (a maintenance
notice, a web page) and, for XML, which codec a label means and the body's text.

MakeShop's back end looks EUC-JP (its parameters are), and its answers may declare an
encoding, send an HTTP charset, both or neither. A document is read by its
declaration's codec, then HTTP's, then the usual Japanese ones, each tried strictly;
``answers`` turns "nothing reads it" into its ``bad_xml`` verdict.
"""

from __future__ import annotations

import codecs
import re

# Codecs that read what MakeShop's Japanese labels most likely mean: the vendor
# characters (①, ㈱) of Windows' EUC-JP and Shift_JIS included.
_CODEC_FOR_LABEL = {
    "euc-jp": "euc_jis_2004", "euc_jp": "euc_jis_2004", "x-euc-jp": "euc_jis_2004",
    "eucjp": "euc_jis_2004", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932",
    "x-sjis": "cp932", "windows-31j": "cp932", "ms932": "cp932",
}
# Tried in this order when neither the document nor HTTP names a codec that reads it.
# EUC-JP first (the API's parameters are EUC-JP, so its back end most likely is),
# then UTF-8 (XML's own default; strict UTF-8 rarely reads another encoding), then
# CP932 (which reads almost any byte pair, so it comes last).
UNDECLARED_CODECS = ("euc_jis_2004", "utf-8", "cp932")
_IMPLAUSIBLE = re.compile("[\x80-\x9f\ue000-\uf8ff]")
_XML_DECLARATION = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z][\w.:-]*)[\"']"
)


# Codecs Python counts as text encodings that no document is written in: they
# transform text (IDNA, Punycode, Python's escapes) or refuse every byte (undefined).
_NOT_CHARSETS = frozenset({"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape"})


def _python_codec(label: str) -> str | None:
    label = label.strip().lower()
    try:
        return codecs.lookup(_CODEC_FOR_LABEL.get(label, label)).name
    except LookupError:
        return None


def is_charset(codec: str) -> bool:
    """Whether a codec Python knows decodes bytes into text (not hex, zlib, rot13, idna…)."""
    info = codecs.lookup(codec)
    return info._is_text_encoding and info.name not in _NOT_CHARSETS


def codec_for(label: str) -> str | None:
    """The Python codec for an encoding label MakeShop may use; None if none is known,
    or if what Python knows by that name is not a character encoding."""
    codec = _python_codec(label)
    return codec if codec and is_charset(codec) else None


def decoded_text(body: bytes, charset: str = "") -> str | None:
    """The document as text: its declaration's codec, then HTTP's, then the usual ones.

    Each is tried strictly: a codec that cannot read every byte is passed over, so a
    wrong declaration does not turn names into question marks. None reads it: None.
    A label no codec knows is passed over too (it may be a vendor's spelling), but one
    naming a codec that is not a character encoding (``undefined``, ``idna``, ``hex``,
    ``zlib``…) is an answer nobody wrote as text: None at once.
    """
    declared = _XML_DECLARATION.match(body)
    labels = [declared[1].decode("ascii") if declared else "", charset]
    known = [codec for label in labels if label and (codec := _python_codec(label))]
    if not all(is_charset(codec) for codec in known):
        return None
    named = list(known)
    if body.startswith(b"\xef\xbb\xbf"):
        named.insert(0, "utf-8-sig")
    for codec in dict.fromkeys(named + list(UNDECLARED_CODECS)):
        try:
            text = body.decode(codec)
        except (UnicodeError, LookupError):
            continue
        # A guessed codec that yields control or private-use characters guessed wrong
        # (CP932 maps almost every byte to something).
        if codec in named or not _IMPLAUSIBLE.search(text):
            return text
    return None


# --- What the bytes look like --------------------------------------------------------

# Matched against raw bytes: lowering Shift_JIS would change its second bytes.
_MAINTENANCE_MARKERS = tuple("メンテナンス".encode(codec) for codec in ("utf-8", "euc_jp", "cp932"))


def mentions_maintenance(body: bytes) -> bool:
    return b"maintenance" in body.lower() or any(m in body for m in _MAINTENANCE_MARKERS)


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head
