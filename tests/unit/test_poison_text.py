"""Text that would poison the store or fool a reader is refused by every string field of
every message, found by walking the models, so a new field cannot escape the rule."""

import importlib
import pkgutil
import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

import schemas
from schemas.base import Message
from schemas.commands import PublishTender, RegisterAgency
from schemas.text import _IN_LONG_TEXT, _ON_ONE_LINE, laid_out, one_line
from schemas.values import Text, Title
from tests.unit.examples import publish_command

# Each must be refused anywhere: jsonb cannot hold U+0000, and the others are invisible,
# not text at all (a lone surrogate cannot even be written as UTF-8), or noncharacters.
POISON = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\udfff", "\ufffe", "\uffff"]
POISON += ["\ufdd0", "\U0001fffe", "\U0010ffff"]
# Every module of the package, so that every message is a subclass whatever ran before.
for _module in pkgutil.walk_packages(schemas.__path__, "schemas."):
    importlib.import_module(_module.name)

# A value that passes one string field or another, to carry the poison past its pattern.
SAMPLES = ["Office paper 2027", "ana.pop@example.ro", "30197630-1", "RON", "ab" * 32, "ab" * 8]
SAMPLES += ["2026-12-07T06:57:00.000000Z", "Bidder 1", "Europe/Bucharest", "application/pdf"]


def _messages(base: type[Message] = Message) -> Iterator[type[Message]]:
    """Every message of ``schemas``, what crosses the wire; the domain's own models (the
    savings' groups) are made from messages already checked, and which of them are
    imported depends on the tests that ran before."""
    for cls in base.__subclasses__():
        if cls.__module__.startswith("schemas."):
            yield cls
        yield from _messages(cls)


def _strings(annotation: Any) -> Iterator[Any]:
    """Each string type inside ``annotation``, with its constraints; enums and literals are
    fixed sets of values, not text."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is str:
        yield annotation
    elif origin is Annotated:
        if args[0] is str:
            yield annotation
        else:
            yield from _strings(args[0])
    elif origin in (Union, types.UnionType, list, tuple, frozenset, set):
        for arg in args:
            yield from _strings(arg)


def string_fields() -> Iterator[tuple[str, Any]]:
    for model in sorted(set(_messages()), key=lambda cls: cls.__qualname__):
        for name, field in model.model_fields.items():
            annotation: Any = field.annotation
            if field.metadata:
                annotation = Annotated[(annotation, *field.metadata)]
            for found in _strings(annotation):
                yield f"{model.__qualname__}.{name}", found


STRING_FIELDS = dict(string_fields())


def test_the_walk_finds_the_text_fields() -> None:
    """The walk reaches nested and optional fields and every module of ``schemas``, so an
    empty walk cannot pass vacuously."""
    assert {"PublishTender.title", "Lot.description", "SelfDeclaration.statement"} <= set(
        STRING_FIELDS
    )
    # Answer models that no event module imports are walked too.
    assert {"AwardRules.tie_break", "SignedTreeHead.tsa"} <= set(STRING_FIELDS)
    assert len(STRING_FIELDS) > 100


@pytest.mark.parametrize("field", sorted(STRING_FIELDS))
def test_no_string_field_holds_poison(field: str) -> None:
    """A value the field accepts is refused once a control character, a lone surrogate or a
    noncharacter is put inside it."""
    adapter: TypeAdapter[str] = TypeAdapter(STRING_FIELDS[field])
    valid = [sample for sample in SAMPLES if _accepts(adapter, sample)]
    assert valid, f"{field} accepts none of the samples: add one it accepts"
    for poison in POISON:
        hostile = valid[0][:2] + poison + valid[0][2:]
        assert not _accepts(adapter, hostile), f"{field} accepts U+{ord(poison):04X}"


def _accepts(adapter: TypeAdapter[str], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def test_long_texts_keep_their_line_breaks_and_tabs() -> None:
    """A description may be laid out in paragraphs and columns."""
    laid_out = "Lot 1:\tpaper\r\nLot 2:\ttoner\n"
    assert TypeAdapter(Text).validate_python(laid_out) == laid_out


@pytest.mark.parametrize("layout", ["\t", "\n", "\r"])
def test_titles_are_one_line(layout: str) -> None:
    """A title is a single line: a tab or a line break inside it is refused."""
    with pytest.raises(ValidationError, match="control character"):
        TypeAdapter(Title).validate_python(f"Office{layout}paper")


def test_the_refusal_names_the_field_and_the_character() -> None:
    """The error says which field holds which character, and where, so a client can fix it."""
    body = publish_command().model_dump(mode="json") | {"title": "Office\x00paper"}
    with pytest.raises(ValidationError) as refused:
        PublishTender.model_validate(body)
    [error] = refused.value.errors()
    assert error["loc"] == ("title",)
    assert "U+0000" in error["msg"]
    assert "position 6" in error["msg"]


def test_ordinary_text_in_any_script_is_accepted() -> None:
    """Letters of any script, accents, emoji and punctuation are text, not poison."""
    name = "Primăria Municipiului Cluj-Napoca — Δήμος 東京 👍 «Ș»"
    assert RegisterAgency(name=name, identifier="RO-CUI-4305857").name == name


@settings(max_examples=2000)
@given(text=st.text(st.characters(codec=None, exclude_categories=())))
def test_the_quick_check_decides_as_the_full_pattern_does(text: str) -> None:
    """Printable text is accepted without the pattern; any text is accepted exactly when
    the pattern finds nothing in it, poison mixed into ordinary text included."""
    for check, pattern in ((one_line, _ON_ONE_LINE), (laid_out, _IN_LONG_TEXT)):
        for candidate in (text, f"Lot {text} 1\n", f"{text}{POISON[len(text) % len(POISON)]}"):
            refused = pattern.search(candidate) is not None
            try:
                check(candidate)
            except ValueError:
                assert refused, f"{check.__name__} refused {candidate!r}"
            else:
                assert not refused, f"{check.__name__} accepted {candidate!r}"
