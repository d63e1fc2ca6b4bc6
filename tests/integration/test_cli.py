"""The `procurement` command line, against a running API: what an officer types, and the
readable errors they get."""

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner, Result

from entrypoints.cli.main import app
from tests.integration.conftest import tender_body
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually


async def procurement(stack: Stack, *args: str, token: str | None = None) -> Result:
    """Run the CLI in a thread, so that the API in this event loop can answer it."""
    env = {
        "PROCUREMENT_API_URL": stack.api_url,
        "PROCUREMENT_DATA_DIR": str(stack.settings.data_dir),
    }
    if token:
        env["PROCUREMENT_TOKEN"] = token
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_an_officer_publishes_and_the_public_lists_from_the_cli(
    stack: Stack, tmp_path: Path
) -> None:
    """Register an agency and officer, publish from a JSON file, then list and show it."""
    registered = await procurement(
        stack, "agency", "register", "Primăria Cluj-Napoca", "RO-CUI-4305857", token=OPERATOR_TOKEN
    )
    assert registered.exit_code == 0, registered.output
    assert "agency-RO-CUI-4305857" in registered.output
    officer = await procurement(
        stack,
        "officer", "register",
        "--agency", "agency-RO-CUI-4305857", "--name", "Ana Pop", "--email", "ana@example.ro",
        token=OPERATOR_TOKEN,
    )  # fmt: skip
    assert officer.exit_code == 0, officer.output
    token = officer.output.split("PROCUREMENT_TOKEN=")[1].split()[0]

    tender = tmp_path / "tender.json"
    tender.write_text(json.dumps(tender_body()))
    published = await procurement(
        stack, "tender", "publish", str(tender), "--deadline", "+35d", token=token
    )
    assert published.exit_code == 0, published.output
    ocid = published.output.split()[-1]

    async def listed() -> str | None:
        result = await procurement(
            stack, "tender", "list", "--buyer", "agency-RO-CUI-4305857", "--json"
        )
        return result.output if ocid in result.output else None

    page = json.loads(await eventually(listed))
    assert [t["ocid"] for t in page["items"]] == [ocid]
    shown = await procurement(stack, "tender", "show", ocid)
    assert json.loads(shown.output)["title"] == "Office paper for 2027"


async def test_cli_errors_say_what_is_wrong(stack: Stack, tmp_path: Path) -> None:
    """A refused command exits with 1 and prints the problem's detail, not a traceback."""
    tender = tmp_path / "tender.json"
    tender.write_text(json.dumps(tender_body()))
    refused = await procurement(stack, "tender", "publish", str(tender), token=OPERATOR_TOKEN)
    assert refused.exit_code == 1
    assert "only a procurement officer may publish" in refused.output
    tender.write_text(json.dumps(tender_body(cpv="99999999-9")))
    invalid = await procurement(stack, "tender", "publish", str(tender), token=OPERATOR_TOKEN)
    assert invalid.exit_code == 1
    assert "names division 99, which the CPV does not have" in invalid.output
    assert "Tuple should have" not in invalid.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    unreadable = await procurement(stack, "tender", "publish", str(broken), token=OPERATOR_TOKEN)
    assert unreadable.exit_code == 1
    assert "is not valid JSON" in unreadable.output
    bad_deadline = await procurement(stack, "tender", "publish", str(tender), "--deadline", "+soon")
    assert bad_deadline.exit_code == 1
    assert "is not a duration" in bad_deadline.output
