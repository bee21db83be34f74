"""Bytes to text: refuse binary and empty input, decode UTF-8 first and detect anything else.

Articles arrive from folders users fill by hand and from the web, so a PDF renamed to `.txt`
or a Windows-1252 export must be reported or decoded, never indexed as mojibake.
"""

from __future__ import annotations

import codecs

import charset_normalizer


class SourceError(ValueError):
    """An input that cannot be indexed; the message is the reason shown in the run summary."""


# Signatures of common binary formats that sometimes carry a text extension.
_MAGIC = {
    b"%PDF": "PDF document",
    b"PK\x03\x04": "ZIP archive (e.g. .docx)",
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"\x1f\x8b": "gzip archive",
    b"\xd0\xcf\x11\xe0": "MS Office document",
    b"\x7fELF": "executable",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TEXT_CONTROLS = {9, 10, 12, 13, 27}


def binary_reason(data: bytes) -> str | None:
    """Why `data` looks binary (a format signature, NUL bytes, many control bytes), or None."""
    for magic, name in _MAGIC.items():
        if data.startswith(magic):
            return f"binary file ({name}), not text"
    sample = data[:8192]
    if b"\x00" in sample:
        return "binary file (contains NUL bytes), not text"
    controls = sum(1 for byte in sample if byte < 32 and byte not in _TEXT_CONTROLS)
    if sample and controls / len(sample) > 0.05:
        return "binary file (control bytes), not text"
    return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode text bytes: BOM, then UTF-8, then the declared charset, then detection.

    Raises SourceError for empty, binary or undecodable input.
    """
    if not data.strip():
        raise SourceError("empty file")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise SourceError(f"invalid {encoding} text") from None
    reason = binary_reason(data)
    if reason:
        raise SourceError(reason)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        raise SourceError("not valid UTF-8 and no text encoding could be detected")
    # Short Western texts often tie between cp1250 and cp1252; Windows-1252 is the likelier export.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos:
            return str(match)
    return str(best)
