"""The market that ``procurement demo`` plays: Romanian contracting authorities, the SMEs and
larger firms that bid, and the tenders, each with the turn of the procedure it shows.

Names and registration numbers are made up; prices are in RON, in the range such purchases
have in Romania.
"""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class AgencyPlan:
    name: str
    identifier: str
    officers: tuple[str, ...]  # the lead officer first, then the three committee members


AGENCIES = (
    AgencyPlan(
        "Primăria Municipiului Cluj-Napoca",
        "RO-CUI-4305857",
        ("Ana Pop", "Mihai Rusu", "Ioana Mureșan", "Radu Moldovan"),
    ),
    AgencyPlan(
        "Consiliul Județean Timiș",
        "RO-CUI-4358101",
        ("Cristina Stoica", "Dan Popescu", "Elena Vlad", "Sorin Lazăr"),
    ),
    AgencyPlan(
        "Spitalul Clinic Județean de Urgență Iași",
        "RO-CUI-4701575",
        ("Gabriela Ungureanu", "Andrei Ciobanu", "Oana Rotaru", "Bogdan Apostol"),
    ),
)
REVIEW_BODY = AgencyPlan(
    "Consiliul Național de Soluționare a Contestațiilor", "RO-CUI-20329980", ("Maria Ionescu",)
)

# Suppliers by trade; a name ending in "SA" is a large company, every other one an SME.
SUPPLIERS: dict[str, tuple[str, ...]] = {
    "office": (
        "Papetăria Someș SRL",
        "Birotica Napoca SRL",
        "Office Line Mureș SRL",
        "Hârtia Nouă SRL",
        "Registrul Verde SRL",
    ),
    "meals": (
        "Bucătăria Bunicii Timișoara SRL",
        "Catering Bega SRL",
        "Gustul Banatului SRL",
        "Cantina Școlară Lugoj SRL",
        "Meniul Zilei SRL",
    ),
    "medical": (
        "Medsan Distribuție SRL",
        "Farmaplus Moldova SRL",
        "Sanimed Iași SRL",
        "Bandaj Expert SRL",
        "Steril Pro SRL",
    ),
    "cleaning": (
        "Curat Expert Cluj SRL",
        "Clean Team Ardeal SRL",
        "Strălucire Facility SRL",
        "Eco Clean Someș SRL",
    ),
    "it": (
        "Softline Timiș SRL",
        "Digital Banat SRL",
        "Compunet Vest SRL",
        "Tehnoinfo SRL",
        "Bitdata Systems SRL",
    ),
    "roads": (
        "Drumuri Vest Construct SRL",
        "Asfalt Banat SRL",
        "Via Carpatica SRL",
        "Pavaj Urban SRL",
    ),
    "security": ("Paza Moldova SRL", "Scutul Iași SRL", "Vigilent Guard SRL", "Protect Est SRL"),
    "large": (
        "Construcții Mureșul SA",
        "Romfacility Grup SA",
        "Distribuție Națională SA",
        "Tehnologia Informației Grup SA",
    ),
}


@dataclass(frozen=True)
class ItemPlan:
    id: str
    description: str
    cpv: str
    quantity: Decimal
    unit: str


@dataclass(frozen=True)
class LotPlan:
    id: str
    title: str
    estimate: Decimal  # RON
    items: tuple[ItemPlan, ...]


@dataclass(frozen=True)
class TenderPlan:
    """A tender, and the turns of the procedure it shows besides the usual steps."""

    title: str
    description: str
    buyer: int  # index into AGENCIES
    trade: str  # which suppliers bid first
    cpv: str
    lots: tuple[LotPlan, ...]
    auction: bool = False  # open_with_auction: an electronic reverse auction per lot
    quality: tuple[tuple[str, str, int], ...] = ()  # (id, name, weight): ratedCriteria
    standstill_days: int = 0  # 0 so the contract follows at once; a real procedure waits 10
    story: frozenset[str] = field(default_factory=frozenset)  # see entrypoints.demo.story
    cancel_lot: str | None = None  # cancelled by the buyer during the evaluation
    unwanted_lot: str | None = None  # no supplier bids for it, so it ends unsuccessful

    @property
    def price_weight(self) -> int:
        return 100 - sum(weight for _, _, weight in self.quality)


def _lot(lot_id: str, title: str, estimate: str, *items: tuple[str, str, str, str, str]) -> LotPlan:
    return LotPlan(
        lot_id,
        title,
        Decimal(estimate),
        tuple(ItemPlan(i, d, c, Decimal(q), u) for i, d, c, q, u in items),
    )


# In this order, so that a smaller demo still shows tied bids and a completed contract (the
# first tender), an auction and a dismissed complaint (--tenders 3), a best price-quality
# ratio whose winner refuses to sign (--tenders 4), and a question answered, a significant
# amendment with its reconfirmations, a bid rejected at the opening and an unsuccessful lot
# (--tenders 5).
TENDERS = (
    TenderPlan(
        "Furnituri de birou pentru anul 2027",
        "Hârtie, dosare și consumabile pentru cele 23 de sedii ale primăriei, livrate lunar.",
        buyer=0,
        trade="office",
        cpv="30192000-1",
        lots=(
            _lot(
                "lot-1",
                "Furnituri de birou",
                "185000.00",
                ("paper", "Hârtie A4, 80 g/m², top 500 coli", "30197630-1", "9000", "top"),
                ("folders", "Dosare plic și bibliorafturi", "30199500-5", "6000", "buc"),
            ),
        ),
        story=frozenset({"replace", "withdraw", "disqualify", "clarify", "tie", "milestones"}),
    ),
    TenderPlan(
        "Mese calde pentru cantinele școlare",
        "Prânz cald zilnic pentru elevii școlilor din județ, livrat în recipiente izoterme.",
        buyer=1,
        trade="meals",
        cpv="55524000-9",
        lots=(
            _lot(
                "lot-1",
                "Școli primare",
                "1450000.00",
                (
                    "meal-primary",
                    "Prânz cald, porție ciclu primar",
                    "55524000-9",
                    "145000",
                    "porție",
                ),
            ),
            _lot(
                "lot-2",
                "Școli gimnaziale",
                "980000.00",
                ("meal-middle", "Prânz cald, porție gimnaziu", "55524000-9", "82000", "porție"),
            ),
        ),
        auction=True,
    ),
    TenderPlan(
        "Materiale sanitare și consumabile medicale",
        "Comprese, mănuși, seringi și materiale de pansament pentru secțiile spitalului.",
        buyer=2,
        trade="medical",
        cpv="33140000-3",
        lots=(
            _lot(
                "lot-1",
                "Consumabile medicale",
                "540000.00",
                ("gloves", "Mănuși de examinare din nitril", "33141420-0", "400000", "buc"),
                ("syringes", "Seringi de unică folosință 5 ml", "33141310-6", "250000", "buc"),
            ),
        ),
        standstill_days=10,
        story=frozenset({"abnormally_low", "complaint"}),
    ),
    TenderPlan(
        "Servicii de curățenie pentru sediile primăriei",
        "Curățenie zilnică și generală în 12 clădiri administrative, 36 de luni.",
        buyer=0,
        trade="cleaning",
        cpv="90910000-9",
        lots=(
            _lot(
                "lot-1",
                "Curățenie",
                "640000.00",
                ("cleaning", "Curățenie, suprafață întreținută", "90911200-8", "24000", "mp"),
            ),
        ),
        quality=(("method", "Metodologia de lucru", 25), ("staff", "Personal calificat", 15)),
        story=frozenset({"refuse"}),
    ),
    TenderPlan(
        "Echipamente IT pentru școlile din județ",
        "Laptopuri pentru elevi și videoproiectoare pentru săli de clasă.",
        buyer=1,
        trade="it",
        cpv="30213100-6",
        lots=(
            _lot(
                "lot-1",
                "Laptopuri",
                "720000.00",
                ("laptop", "Laptop 15,6 inch, 16 GB RAM", "30213100-6", "240", "buc"),
            ),
            _lot(
                "lot-2",
                "Videoproiectoare",
                "260000.00",
                ("projector", "Videoproiector 4000 lumeni", "38652120-7", "130", "buc"),
            ),
            _lot(
                "lot-3",
                "Table interactive",
                "195000.00",
                ("whiteboard", "Tablă interactivă 86 inch", "32322000-6", "30", "buc"),
            ),
        ),
        story=frozenset({"enquiry", "amend"}),
        cancel_lot="lot-2",
        unwanted_lot="lot-3",
    ),
    TenderPlan(
        "Reparații ale drumurilor județene DJ 592 și DJ 691",
        "Plombări, frezare și covor asfaltic pe 14 km de drum județean.",
        buyer=1,
        trade="roads",
        cpv="45233142-6",
        lots=(
            _lot(
                "lot-1",
                "Reparații drumuri",
                "3900000.00",
                ("asphalt", "Covor asfaltic BA16, 5 cm", "45233142-6", "98000", "mp"),
            ),
        ),
        auction=True,
    ),
    TenderPlan(
        "Servicii de pază și protecție",
        "Pază umană 24/7 la cele trei corpuri ale spitalului, 12 luni.",
        buyer=2,
        trade="security",
        cpv="79713000-5",
        lots=(
            _lot(
                "lot-1",
                "Pază",
                "410000.00",
                ("guard", "Post de pază 24/7, lună", "79713000-5", "36", "post-lună"),
            ),
        ),
        story=frozenset({"completion"}),
    ),
    TenderPlan(
        "Reabilitarea trotuarelor din cartierul Mănăștur",
        "Înlocuirea pavajului și a bordurilor pe 6,5 km de trotuare.",
        buyer=0,
        trade="roads",
        cpv="45233222-1",
        lots=(
            _lot(
                "lot-1",
                "Trotuare",
                "2450000.00",
                ("paving", "Pavaj din dale de beton, 8 cm", "45233222-1", "26000", "mp"),
            ),
        ),
    ),
)
