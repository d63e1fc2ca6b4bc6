"""Who registers: one spelling for each party's name and national registration number.

Unicode has many spellings of what reads as one text: fullwidth digits, ligatures, letters
of another script that look the same, and invisible format characters. A name is brought
to its NFKC form; an identifier must already be in it (a supplier signs its identifier, so
the platform may not rewrite it), and may neither hold an invisible character nor mix
scripts with look-alike letters, such as a Cyrillic O (U+041E) among Latin letters.
"""

import unicodedata
from typing import Annotated

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]  # ships no types
from pydantic import AfterValidator, BeforeValidator

from schemas.values import Identifier, Title


def _nfkc(value: object) -> object:
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


def _refuse_invisible(text: str) -> str:
    for position, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            name = unicodedata.name(char, "a format character")
            msg = f"contains U+{ord(char):04X} ({name}) at position {position}, which is invisible"
            raise ValueError(msg)
    return text


def _refuse_other_spellings(identifier: str) -> str:
    normal = unicodedata.normalize("NFKC", identifier)
    if normal != identifier:
        raise ValueError(f"is not in its normal form (NFKC): write it as {normal!r}")
    return identifier


def _refuse_mixed_scripts(identifier: str) -> str:
    found = confusables.is_dangerous(identifier) and confusables.is_confusable(
        identifier, preferred_aliases=["latin", "common"]
    )
    if found:
        look_alikes = ", ".join(
            f"{each['character']!r} ({each['alias'].lower()}, like {each['homoglyphs'][0]['c']!r})"
            for each in found
        )
        msg = f"mixes scripts with look-alike characters: {look_alikes}; write it in one script"
        raise ValueError(msg)
    return identifier


PartyName = Annotated[Title, BeforeValidator(_nfkc), AfterValidator(_refuse_invisible)]
PartyIdentifier = Annotated[
    Identifier,
    AfterValidator(_refuse_invisible),
    AfterValidator(_refuse_other_spellings),
    AfterValidator(_refuse_mixed_scripts),
]
