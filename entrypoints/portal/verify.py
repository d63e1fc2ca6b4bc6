"""``/portal/verify``: anyone checks a bid receipt and its inclusion proof against the
published root, in their own browser (``static/verify.js``, WebCrypto only), so that the
check does not rest on this server's word. The CLI does the same offline."""

from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from entrypoints.portal.html import page, text
from schemas.values import Identifier

router = APIRouter(include_in_schema=False)

SCRIPT = files("entrypoints.portal").joinpath("static", "verify.js")


@router.get("/portal/static/verify.js")
async def verify_script() -> Response:
    headers = {"Cache-Control": "public, max-age=3600"}
    return Response(SCRIPT.read_bytes(), media_type="text/javascript", headers=headers)


@router.get("/portal/verify", response_class=HTMLResponse)
async def verify_page(request: Request, ocid: Identifier | None = None) -> HTMLResponse:
    root, size = "", ""
    if ocid:
        head = await request.app.state.pool.fetchrow(
            "SELECT root, tree_size FROM public_bid_logs WHERE ocid = $1 AND root IS NOT NULL", ocid
        )
        if head is not None:
            root, size = head["root"], str(head["tree_size"])
    tender = f" of tender {text(ocid)}" if ocid and root else ""
    body = (
        "<p>A supplier keeps the signed receipt the platform gave for its bid. Paste it here: your"
        " browser checks the platform's signature and that the receipt is in the bid log sealed"
        f" under the published Merkle root{tender}. Leave the other fields empty to fetch them"
        " from this platform; paste copies from elsewhere to check against those instead.</p>"
        '<form id="check">'
        '<p><label for="receipt">Receipt (JSON)</label><br>'
        '<textarea id="receipt" rows="8" cols="60" required spellcheck="false"></textarea></p>'
        '<p><label for="root">Trusted Merkle root (hex)</label><br>'
        f'<input id="root" size="66" value="{text(root) if root else ""}" spellcheck="false"></p>'
        '<p><label for="tree-size">Entries under that root</label><br>'
        f'<input id="tree-size" size="8" inputmode="numeric" value="{text(size) if size else ""}"></p>'
        '<p><label for="platform-key">Platform public key (base64)</label><br>'
        '<input id="platform-key" size="50" spellcheck="false"></p>'
        '<p><label for="proof">Inclusion proof (JSON)</label><br>'
        '<textarea id="proof" rows="4" cols="60" spellcheck="false"></textarea></p>'
        '<p><label for="sealed-head">Signed sealed head (JSON)</label><br>'
        '<textarea id="sealed-head" rows="4" cols="60" spellcheck="false"></textarea></p>'
        "<p><button>Check</button></p></form>"
        '<p id="verdict" role="status"></p><ol id="steps"></ol>'
        "<noscript><p>This check runs in your browser and needs JavaScript. Without it, use"
        " the command line below.</p></noscript>"
        "<h2>The same check on the command line</h2>"
        '<pre class="scroll">curl -s PLATFORM/platform/keys\n'
        "procurement verify receipt receipt.json --platform-key KEY\n"
        "procurement bid proof OCID --leaf N --out proof.json\n"
        "procurement verify inclusion receipt.json proof.json --root ROOT --tree-size SIZE\n"
        "curl -s PLATFORM/tenders/OCID/bid-log/signed-head &gt; head.json\n"
        "procurement verify head head.json --platform-key KEY --tsa-cert TSA.pem</pre>"
        '<p><small>Formats: docs/sealed-bids.md. The script: <a href="/portal/static/verify.js">'
        "verify.js</a>.</small></p>"
        '<script src="/portal/static/verify.js" defer></script>'
    )
    return page("Check a bid receipt", body)
