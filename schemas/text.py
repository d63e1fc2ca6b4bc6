"""Which characters text on the wire may hold, checked once for every string type.

PostgreSQL's jsonb cannot hold U+0000, so one such title would stop its projection for
good; other control characters, lone surrogates and noncharacters are not text a person
can read, and a lone surrogate cannot even be written as UTF-8. Long free texts may keep
their layout: tabs and line breaks.
"""

import re

from pydantic import AfterValidator

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # category Cc but tab, line feed, return
_SURROGATES = "\ud800-\udfff"
_IN_LONG_TEXT = re.compile(f"[{_CONTROLS}{_SURROGATES}{_NONCHARACTERS}]")
_ON_ONE_LINE = re.compile(f"[\t\n\r{_CONTROLS}{_SURROGATES}{_NONCHARACTERS}]")


def _kind(char: str) -> str:
    code = ord(char)
    if code <= 0x9F:
        return "a control character"
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate"
    return "a noncharacter"


def _refuse(forbidden: re.Pattern[str], text: str) -> str:
    found = forbidden.search(text)
    if found is not None:
        char = found.group()
        msg = (
            f"contains U+{ord(char):04X} ({_kind(char)}) at position {found.start()}, "
            "which text may not hold"
        )
        raise ValueError(msg)
    return text


# Text that ``str.isprintable`` accepts holds none of the characters refused here (they are
# all of categories Cc, Cs or Cn, which it refuses), and it decides in a fraction of a
# microsecond what the pattern takes microseconds to: only other text meets the pattern.


def one_line(text: str) -> str:
    """``text``, if it is printable on a single line."""
    return text if text.isprintable() else _refuse(_ON_ONE_LINE, text)


def laid_out(text: str) -> str:
    """``text``, if it is printable, tabs and line breaks allowed."""
    plain = text.replace("\n", "").replace("\t", "").replace("\r", "")
    return text if plain.isprintable() else _refuse(_IN_LONG_TEXT, text)


OneLine = AfterValidator(one_line)
LaidOut = AfterValidator(laid_out)
