"""The handlers of a tender's documents, questions and answers: each loads the tender,
lets ``procurement.enquiries`` decide, and returns the ``Decision``. The documents' bytes
go to the document store (``adapters.document_store``) once the rules accept them; the
events record their digests. ``app.command_bus`` maps the commands here, through ``COMMANDS``."""

from typing import Any
from uuid import uuid4

from app.handlers import Services
from app.policies import Changes
from app.store import StoreTransaction
from app.unit_of_work import Context, Decision
from procurement import enquiries, tender
from procurement.errors import NotFound
from schemas.documents import PublishDocument
from schemas.enquiries import AnswerQuestion, AskQuestion


async def clarify(
    tx: StoreTransaction,
    command: PublishDocument | AskQuestion | AnswerQuestion,
    ctx: Context,
    s: Services,
) -> Decision:
    history = await tx.load(command.ocid)
    state = tender.replay([item.event for item in history])
    if state is None:
        raise NotFound(f"there is no tender {command.ocid}")
    known = enquiries.replay((item.event, item.occurred_at) for item in history)
    rules = s.settings.rules
    if isinstance(command, PublishDocument):
        new_id = f"doc-{uuid4().hex[:16]}"
        events = enquiries.publish_document(
            state, known, command, ctx.actor, ctx.now, rules, new_document_id=new_id
        )
        # Kept once the rules accepted it: a refused upload stores nothing. Bytes kept for
        # a transaction that then fails are named by no event, and nothing serves them.
        await s.documents.put(command.sha256, command.content)
    elif isinstance(command, AskQuestion):
        enquiry_id = f"enquiry-{uuid4().hex[:16]}"
        events = enquiries.ask(
            state, known, command, ctx.actor, ctx.now, rules, enquiry_id=enquiry_id
        )
    else:
        events = enquiries.answer(state, known, command, ctx.actor, ctx.now, rules)
    return Decision(Changes(command.ocid, state.version, events))


COMMANDS: dict[type, Any] = dict.fromkeys((PublishDocument, AskQuestion, AnswerQuestion), clarify)
