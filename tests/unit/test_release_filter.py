"""The public filter of OCDS releases, as the live feed applies it to each new release."""

from readmodels.ocds_reads import ReleaseFilter


def test_a_follower_of_several_cpv_codes_gets_a_release_of_any_of_them() -> None:
    where = ReleaseFilter(cpv=("45", "3019"))
    assert where.passes(["tender"], ["45210000-2"])
    assert where.passes(["award"], ["33100000-1", "30197630-1"])
    assert not where.passes(["tender"], ["33100000-1", "30100000-0"])


def test_no_cpv_code_passes_every_release_and_a_tag_narrows_it() -> None:
    assert ReleaseFilter().passes(["tender"], ["33100000-1"])
    award = ReleaseFilter(cpv=("45",), tag="award")
    assert award.passes(["award", "tenderUpdate"], ["45210000-2"])
    assert not award.passes(["tender"], ["45210000-2"])


def test_the_sql_condition_asks_for_any_of_the_codes() -> None:
    args: list[object] = []
    assert ReleaseFilter(cpv=("45", "3019")).where(args) == ["cpv_prefixes && $1::text[]"]
    assert args == [["45", "3019"]]
