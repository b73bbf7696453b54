"""Short business texts (emails, chats, CRM notes, forms, call logs) with the personal data in them
as spans: NAME (full names), EMAIL, PHONE (many national formats) and IBAN (valid mod-97 check
digits, compact or grouped). About 15% have no personal data. Order numbers, dates, SKUs, ticket
and invoice numbers, amounts and company names are there as non-PII distractors. Every span text
occurs exactly once in its text."""

from __future__ import annotations

import random
import unicodedata

from .common import CITIES, MONTHS, NAMES, company

COUNT = 264
NO_PII_SHARE = 0.15

# country: (length of the BBAN pattern as (kind, count) runs), 'd' digits, 'a' capital letters
IBAN_FORMATS = {"DE": [("d", 18)], "GB": [("a", 4), ("d", 14)], "FR": [("d", 23)], "ES": [("d", 20)],
                "NL": [("a", 4), ("d", 10)], "IT": [("a", 1), ("d", 22)], "BE": [("d", 12)], "PL": [("d", 24)],
                "CH": [("d", 17)], "AT": [("d", 16)], "IE": [("a", 4), ("d", 14)], "SE": [("d", 20)], "PT": [("d", 21)]}


def iban_check(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + '00' read as a number, letters A=10..Z=35) mod 97."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_FORMATS))
    bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ" if kind == "a" else "0123456789")
                   for kind, count in IBAN_FORMATS[country] for _ in range(count))
    code = country + iban_check(country, bban) + bban
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4)) if rng.random() < 0.6 else code


def _d(rng: random.Random, k: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(k))


PHONES = [
    lambda r: f"({r.randint(201, 989)}) 555-{_d(r, 4)}", lambda r: f"+1 {r.randint(201, 989)} 555 {_d(r, 4)}",
    lambda r: f"{r.randint(201, 989)}-555-{_d(r, 4)}", lambda r: f"+44 20 7{_d(r, 3)} {_d(r, 4)}",
    lambda r: f"07{r.randint(700, 999)} {_d(r, 6)}", lambda r: f"+49 30 {_d(r, 8)}", lambda r: f"0{r.randint(151, 179)} {_d(r, 7)}",
    lambda r: f"+33 6 {_d(r, 2)} {_d(r, 2)} {_d(r, 2)} {_d(r, 2)}", lambda r: f"01 {_d(r, 2)} {_d(r, 2)} {_d(r, 2)} {_d(r, 2)}",
    lambda r: f"+91 {r.randint(70000, 99999)} {_d(r, 5)}", lambda r: f"+31 6 {_d(r, 8)}", lambda r: f"+34 6{_d(r, 2)} {_d(r, 3)} {_d(r, 3)}",
    lambda r: f"+39 3{_d(r, 2)} {_d(r, 3)} {_d(r, 4)}", lambda r: f"+55 11 9{_d(r, 4)}-{_d(r, 4)}", lambda r: f"+81 3-{_d(r, 4)}-{_d(r, 4)}",
    lambda r: f"+61 4{_d(r, 2)} {_d(r, 3)} {_d(r, 3)}", lambda r: f"+48 {_d(r, 3)} {_d(r, 3)} {_d(r, 3)}",
    lambda r: f"+234 80{_d(r, 1)} {_d(r, 3)} {_d(r, 4)}", lambda r: f"+254 7{_d(r, 2)} {_d(r, 6)}", lambda r: f"+82 10-{_d(r, 4)}-{_d(r, 4)}",
    lambda r: f"+46 70 {_d(r, 3)} {_d(r, 2)} {_d(r, 2)}", lambda r: f"+971 50 {_d(r, 3)} {_d(r, 4)}",
]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "web.de", "orange.fr", "proton.me", "icloud.com", "gmx.net"]


def ascii_name(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower().replace(" ", "")


def full_name(rng: random.Random) -> str:
    firsts, lasts = NAMES[rng.choice(sorted(NAMES))]
    return f"{rng.choice(firsts)} {rng.choice(lasts)}"


def email_for(rng: random.Random, name: str | None = None) -> str:
    first, last = (name or full_name(rng)).split(" ", 1)
    first, last = ascii_name(first), ascii_name(last)
    local = rng.choice([f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last[:1]}{rng.randint(1, 99)}", f"{last}.{first}",
                        f"{first}_{last}"])
    dom = rng.choice(DOMAINS) if rng.random() < 0.5 else company(rng, False).split()[0].lower().replace("&", "") + rng.choice([".com", ".de", ".co.uk", ".io", ".fr"])
    return f"{local}@{dom}"


def distractors(rng: random.Random) -> dict[str, str]:
    return {"ORDER": rng.choice([f"#{_d(rng, 6)}", f"ORD-{_d(rng, 4)}-{_d(rng, 4)}", f"{_d(rng, 3)}-{_d(rng, 7)}-{_d(rng, 7)}"]),
            "SKU": rng.choice([f"SKU {rng.choice('ABKMTX')}{_d(rng, 3)}-{_d(rng, 2)}", f"part no. {_d(rng, 4)}-{_d(rng, 3)}-{_d(rng, 2)}",
                               f"model TX-{_d(rng, 4)}"]),
            "DATE": rng.choice([f"{rng.randint(13, 28)}/{rng.randint(1, 12):02d}/2026", f"2026-{rng.randint(1, 12):02d}-{rng.randint(10, 28)}",
                                f"{rng.randint(1, 28)} {rng.choice(MONTHS)}"]),
            "INV": f"INV-{rng.choice([2025, 2026])}-{_d(rng, 4)}", "TICKET": rng.choice([f"case {_d(rng, 4)} {_d(rng, 4)}", f"ticket #{_d(rng, 5)}", f"CS-{_d(rng, 6)}"]),
            "AMOUNT": rng.choice([f"€{rng.randint(20, 4000)},{_d(rng, 2)}", f"${rng.randint(20, 4000)}.{_d(rng, 2)}", f"£{rng.randint(20, 900)}"]),
            "COMPANY": company(rng), "CITY": rng.choice(CITIES), "TRACK": f"JD{_d(rng, 16)}GB" if rng.random() < 0.5 else f"1Z{_d(rng, 3)}E{_d(rng, 11)}"}


# {N}/{N2} names, {E} email, {P} phone, {I} IBAN; distractor slots in capitals
TEMPLATES = [
    "Hi, this is {N} from {COMPANY}. Please call me back on {P} about order {ORDER}.",
    "Customer {N} ({E}) says the {SKU} arrived damaged. Replacement requested, {TICKET}.",
    "Please update the payout account for {N} to {I}. Effective from {DATE}.",
    "From: {E}\nSubject: Refund for {ORDER}\n\nHello, I returned the parcel on {DATE}. Please send the {AMOUNT} to my account {I}.\n\nThanks,\n{N}",
    "Call log {DATE}: spoke with {N}, mobile {P}. Wants a quote for 40 units of {SKU}. Follow up next week.",
    "New lead: {N}, procurement at {COMPANY}, {CITY}. Email {E}, phone {P}.",
    "[chat] customer: hey my order {ORDER} still hasnt arrived\n[chat] agent: sorry about that! can I get your email?\n[chat] customer: {E}",
    "Name: {N}\nEmail: {E}\nPhone: {P}\nMessage: Interested in a demo for our team in {CITY}.",
    "Contact form\nFull name: {N}\nTelephone: {P}\nCompany: {COMPANY}\nOrder number: {ORDER}",
    "Supplier bank details changed: {COMPANY} now receives payments at IBAN {I}. Confirmed by phone with {N} on {DATE}.",
    "Note: {N} is out of office until {DATE}. Urgent matters to {N2} ({E}).",
    "Please add {N} and {N2} to the distribution list for the {CITY} project.",
    "Reminder: the courier for {ORDER} needs a contact number. The recipient is {N}, {P}.",
    "Dear team, invoice {INV} for {AMOUNT} is still open. Transfer to {I}, reference {INV}. Questions to {E}.",
    "Hi {N}, thanks for your call today. As discussed, the replacement {SKU} ships on {DATE}. Tracking: {TRACK}.",
    "Escalation: {N} called three times about {TICKET}. Best reached at {P} after 5 pm.",
    "Refund of {AMOUNT} approved for {N}. Pay to {I}. Ref {ORDER}.",
    "Employee onboarding: {N}, start date {DATE}, salary account {I}, work email {E}.",
    "SMS from {P}: Running 10 min late for the delivery slot, sorry. - {N}",
    "Meeting notes ({DATE}): {N} from {COMPANY} will send the signed contract. Contact: {E}.",
    "The account holder {N} asked us to change the direct debit to {I} starting with invoice {INV}.",
    "Forwarding this to {E}. {N} reports that the {SKU} keeps rebooting.",
    "Guest: {N}\nPhone: {P}\nArrival: {DATE}\nNotes: late check-in, room near the lift please",
    "hi its {N}, new number is {P}, pls update my details for order {ORDER}",
    "Ticket {TICKET}: user {E} cannot log in since {DATE}. Password reset sent.",
    "Can you reimburse my travel costs ({AMOUNT}) to {I}? Receipt attached. {N}",
    "Reference check for {N}: former manager {N2} can be reached on {P}.",
    "Delivery address confirmed for {N}, {CITY}. Driver may call {P}. Tracking {TRACK}.",
    "Per our call, {N} (accounts payable, {COMPANY}) will remit {AMOUNT} by {DATE}.",
    "Please remove {E} from the newsletter. The person, {N}, has left {COMPANY}.",
    "From: {N} <{E}>\nTo: support\n\nMy invoice {INV} lists the wrong VAT rate. Could you correct it?",
    "Callback request: {P}. Topic: warranty claim for {SKU}, bought {DATE}.",
    "Wire details for the deposit: beneficiary {COMPANY}, IBAN {I}, amount {AMOUNT}.",
    "Handover: {N2} takes over the {COMPANY} account from {N}. Client contact stays {E}.",
]
NO_PII = [
    "Order {ORDER} was shipped on {DATE}. Tracking number {TRACK}.",
    "Stock alert: {SKU} is below the reorder level at the {CITY} warehouse.",
    "Invoice {INV} for {AMOUNT} has been paid in full. No further action needed.",
    "The {CITY} office will be closed on {DATE} for maintenance.",
    "{TICKET} closed: the {SKU} firmware update fixed the reboot loop.",
    "Reminder: quarterly stock count on {DATE}. Please scan every {SKU} pallet.",
    "Return authorised for order {ORDER}. Refund of {AMOUNT} will follow within 5 business days.",
    "Price change: from {DATE} the {SKU} costs {AMOUNT} per unit for {COMPANY} orders.",
    "The shipment {TRACK} is held at customs in {CITY}; documents for {INV} were requested.",
    "[chat] customer: does the {SKU} work with 220V?\n[chat] agent: yes, it supports 100-240V.",
    "Weekly summary: 42 tickets opened, 39 closed, oldest open is {TICKET}.",
    "Please use the new PO template for all {COMPANY} orders from {DATE}. Old numbers like {ORDER} stay valid.",
]


def example(rng: random.Random, template: str) -> tuple[str, list[dict]]:
    slots = distractors(rng)
    names = [full_name(rng), full_name(rng)]
    spans: list[dict] = []
    values = {"N": names[0], "N2": names[1], "E": email_for(rng, names[0] if rng.random() < 0.6 else None),
              "P": rng.choice(PHONES)(rng), "I": iban(rng)}
    types = {"N": "NAME", "N2": "NAME", "E": "EMAIL", "P": "PHONE", "I": "IBAN"}
    text = template.format(**values, **slots)
    for key in ("N", "N2", "E", "P", "I"):
        if "{" + key + "}" in template:
            spans.append({"type": types[key], "text": values[key]})
    return text, sorted(spans, key=lambda s: text.find(s["text"]))  # in reading order


def build(rng: random.Random) -> dict[str, list[dict]]:
    rows, seen = [], set()
    no_pii = round(COUNT * NO_PII_SHARE)
    while len(rows) < COUNT:
        template = rng.choice(NO_PII) if len(rows) < no_pii else TEMPLATES[(len(rows) - no_pii) % len(TEMPLATES)]
        text, spans = example(rng, template)
        texts = [s["text"] for s in spans]
        if text in seen or len(set(texts)) < len(texts) or any(text.count(t) != 1 for t in texts):
            continue
        if any(a != b and a in b for a in texts for b in texts):
            continue
        seen.add(text)
        rows.append({"text": text, "spans": spans})
    rng.shuffle(rows)
    return {"pii_redaction.jsonl": [{"id": f"pii-{i:03d}", **r} for i, r in enumerate(rows, 1)]}
