"""Where the audit reads public data: answers recorded from one source are read back, the
same, from a directory, under file names safe on any file system."""

import json
from pathlib import Path
from typing import Any

import pytest

from sdk.audit.sources import DirectorySource, Params, RecordingSource, Unavailable, answer_file


class Answers:
    """A public source that answers from a dict, as the API would."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def get(self, path: str, params: Params | None = None) -> Any:
        key = str(answer_file(path, params))
        if key not in self.answers:
            raise Unavailable(f"GET {path}: 404")
        return self.answers[key]


def test_a_route_and_its_sorted_query_name_one_file() -> None:
    """The path becomes folders, the query is sorted after an @, unsafe characters escaped."""
    name = answer_file("/transparency/events", {"aggregate_id": "ocds-1:auction:lot/1"})
    assert name == Path("transparency/events@aggregate_id=ocds-1%3Aauction%3Alot%2F1.json")
    assert answer_file("/t", {"b": 2, "a": 1}) == answer_file("/t", {"a": 1, "b": 2})
    assert answer_file("/t", {"a": None}) == Path("t.json")


@pytest.mark.parametrize("segment", ["..", "CON", "nul.txt", "a" * 300, 'x?y*z<>|"\\'])
def test_no_segment_is_unsafe_on_any_file_system(segment: str) -> None:
    """Dots only, Windows' reserved names, long names and forbidden characters are escaped."""
    for part in answer_file(f"/tenders/{segment}", {"q": segment}).parts:
        assert part not in {".", ".."}
        assert part.split(".")[0].upper() not in {"CON", "NUL"}
        assert len(part) <= 130
        assert not set(part) & set('<>:"\\|?*')


def test_recorded_answers_are_read_back_from_the_directory(tmp_path: Path) -> None:
    """A RecordingSource writes what a DirectorySource later answers, unchanged."""
    answer = {"ocid": "ocds-1", "price": "940.00", "ids": [1, 2], "name": "Ştefan"}
    live = Answers({str(answer_file("/tenders/ocds-1", {"x": "a&b=c"})): answer})
    assert RecordingSource(live, tmp_path).get("/tenders/ocds-1", {"x": "a&b=c"}) == answer
    assert DirectorySource(tmp_path).get("/tenders/ocds-1", {"x": "a&b=c"}) == answer
    stored = tmp_path / answer_file("/tenders/ocds-1", {"x": "a&b=c"})
    assert json.loads(stored.read_text(encoding="utf-8")) == answer


def test_a_missing_answer_names_the_route_and_the_file(tmp_path: Path) -> None:
    """Offline, an answer never recorded is unavailable, and the message says which."""
    with pytest.raises(
        Unavailable, match=r"GET /platform/keys: no file .*platform%2Fkeys|keys\.json"
    ):
        DirectorySource(tmp_path).get("/platform/keys")
