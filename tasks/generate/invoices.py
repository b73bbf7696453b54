"""Invoices and receipts in many layouts and locales (US, UK, German, French, Spanish, Dutch, Swiss,
Indian, Japanese, Australian, email bills, web-shop receipts) with the gold vendor, invoice number,
ISO date, total and currency. Distractors on purpose: due dates, PO and customer numbers, subtotals,
tax lines. Numeric day/month dates whose order could be misread always have a day above 12."""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from .common import NAMES, person

CENT = Decimal("0.01")

ITEMS = {
    "en": [("A4 copy paper (ream)", 4, 9), ("Toner cartridge", 45, 95), ("Desk organizer", 12, 30), ("Consulting (hour)", 80, 180),
           ("USB-C dock", 90, 220), ("Shipping & handling", 8, 25), ("Annual support plan", 300, 900), ("Office chair", 150, 420),
           ("Website hosting (month)", 15, 60), ("Flat White", 3, 5), ("Catering for 12", 180, 400), ("Cable ties (pack)", 3, 8)],
    "de": [("Eichenregal, geölt", 200, 450), ("Montage (Std.)", 45, 85), ("Druckerpapier A4", 4, 9), ("Wartungsvertrag", 300, 800),
           ("Fahrtkosten", 20, 60), ("Beratung (Std.)", 90, 160), ("Bürostuhl Ergo", 180, 390)],
    "fr": [("Prestation de conseil (jour)", 450, 900), ("Cartouche d'encre", 25, 70), ("Frais de livraison", 8, 20),
           ("Maintenance annuelle", 300, 700), ("Table de réunion", 400, 950), ("Formation (demi-journée)", 250, 500)],
    "es": [("Servicio de limpieza", 120, 300), ("Material de oficina", 20, 80), ("Mantenimiento mensual", 90, 250),
           ("Transporte", 15, 45), ("Licencia de software", 150, 400)],
    "nl": [("Schoonmaak kantoor", 150, 350), ("Koffiebonen 1 kg", 18, 30), ("Installatie (uur)", 55, 95), ("Bezorgkosten", 7, 15)],
    "jp": [("コピー用紙 A4", 500, 900), ("Toner TN-3480", 6000, 12000), ("Consulting fee", 30000, 90000), ("USB cable", 800, 2000)],
    "in": [("Laptop repair service", 1500, 6000), ("Printer cartridge", 900, 3000), ("Annual AMC", 12000, 40000), ("Network cabling", 2500, 9000)],
}

VENDORS = {
    "us": ["Brightline Office Supply Co.", "Cascade IT Services LLC", "Redwood Printing Inc.", "Lone Star Catering",
           "Granite Peak Consulting LLC", "Bayside Electrical Inc.", "Summit Cloud Hosting", "Maple Street Furniture Co."],
    "uk": ["THE COPPER KETTLE CAFÉ", "Harrow & Finch Stationers", "Thornbury Facilities Ltd", "Kavanagh Print plc",
           "Westgate Couriers Ltd", "Blackwood IT Solutions Ltd", "The Corner Larder"],
    "de": ["Holzwerk Baumann GmbH", "Elektro Krüger GmbH", "Schneider Bürobedarf KG", "Vogel IT-Service GmbH",
           "Brandt & Seidel Beratung", "Malerbetrieb Lehmann"],
    "fr": ["Atelier Moreau SARL", "Fontaine Conseil SAS", "Imprimerie Girard", "Lambert Mobilier de Bureau",
           "Chevalier Informatique SARL"],
    "es": ["Limpiezas Navarro S.L.", "Ortega Suministros S.A.", "Castillo Consultores S.L.", "Transportes Vidal"],
    "nl": ["Van Dijk Schoonmaak B.V.", "Koffiehuis De Molen", "Bakker Installatietechniek B.V.", "Jansen Kantoorartikelen"],
    "ch": ["Alpenblick Treuhand AG", "Müller Haustechnik AG", "Zürcher Druckerei GmbH", "Bergmann Informatik AG"],
    "jp": ["Sakura Office Supply K.K.", "Tanaka Systems Co., Ltd.", "Yamamoto Printing", "Kobayashi Consulting"],
    "in": ["Sharma Tech Services Pvt. Ltd.", "Iyer & Rao Associates", "Nair Office Solutions", "Desai Networks Pvt. Ltd."],
    "au": ["Harbourside Plumbing Pty Ltd", "Kookaburra Coffee Co.", "Southern Cross IT Pty Ltd", "Bondi Print Studio"],
    "web": ["Northwind Gadgets", "Pixelcraft Store", "Greenleaf Home Goods", "Voltix Electronics", "Paperhaus Online"],
}

EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
DE_MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
NL_MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"]


def money(d: Decimal, style: str) -> str:
    """Format an amount the way the locale writes it."""
    neg, d = d < 0, abs(d)
    whole, cents = f"{d:.2f}".split(".")
    groups = []
    if style == "in":  # Indian grouping: 12,34,567.00
        head, tail = whole[:-3], whole[-3:]
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        whole = ",".join(([head] if head else []) + groups + [tail])
        return f"{'-' if neg else ''}{whole}.{cents}"
    sep, dec = {"us": (",", "."), "eu": (".", ","), "fr": (" ", ","), "ch": ("'", "."), "jp": (",", "")}[style]
    digits = whole
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    whole = sep.join([digits] + groups)
    return f"{'-' if neg else ''}{whole}" + ("" if style == "jp" else f"{dec}{cents}")


def date_text(rng: random.Random, d: dt.date, style: str) -> str:
    m, day, y = d.month, d.day, d.year
    options = {
        "us": [f"{EN_MONTHS[m-1]} {day}, {y}", f"{m:02d}/{day:02d}/{y}", f"{EN_MONTHS[m-1][:3]} {day}, {y}"],
        "uk": [f"{day:02d}/{m:02d}/{y}", f"{day} {EN_MONTHS[m-1]} {y}", f"{day} {EN_MONTHS[m-1][:3]} {y}"],
        "de": [f"{day:02d}.{m:02d}.{y}", f"{day}. {DE_MONTHS[m-1]} {y}"],
        "fr": [f"{day} {FR_MONTHS[m-1]} {y}", f"{day:02d}/{m:02d}/{y}"],
        "es": [f"{day:02d}/{m:02d}/{y}", f"{day}-{m:02d}-{y}"],
        "nl": [f"{day}-{m}-{y}", f"{day} {NL_MONTHS[m-1]} {y}"],
        "iso": [d.isoformat()],
        "jp": [f"{y}年{m}月{day}日", f"{y}/{m:02d}/{day:02d}"],
        "in": [f"{day:02d}-{EN_MONTHS[m-1][:3]}-{y}", f"{day:02d}/{m:02d}/{y}"],
    }[style]
    return rng.choice(options)


def pick_date(rng: random.Random) -> dt.date:
    d = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 540))
    return d if d.day > 12 else d + dt.timedelta(days=13)  # numeric dates can never be read the wrong way round


def lines(rng: random.Random, bank: str, scale: int = 1, n: int | None = None) -> list[tuple[str, int, Decimal, Decimal]]:
    out = []
    for name, lo, hi in rng.sample(ITEMS[bank], n or rng.randint(1, min(4, len(ITEMS[bank])))):
        qty = rng.choice([1, 1, 2, 3, 4, 5, 10])
        unit = Decimal(rng.randrange(lo * 100, hi * 100)) / 100 if scale == 1 else Decimal(rng.randrange(lo, hi) // 10 * 10)
        out.append((name, qty, unit, (unit * qty).quantize(CENT)))
    return out


def tax_of(sub: Decimal, rate: int) -> Decimal:
    return (sub * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def number(rng: random.Random, year: int, fmt: str) -> str:
    return fmt.format(y=year, n=rng.randrange(10, 9999), n5=rng.randrange(10000, 99999),
                      a=rng.choice("ABCDEFGHKLMPRSTW"), b=rng.choice("ABCDEFGHKLMPRSTW"))


def table(items, style: str, sym: str = "", sym_after: bool = False) -> str:
    f = (lambda v: f"{money(v, style)} {sym}".rstrip()) if sym_after else (lambda v: f"{sym}{money(v, style)}")
    return "\n".join(f"{q:<4} {name:<30} {f(u):>12} {f(t):>12}" for name, q, u, t in items)


def us_invoice(rng):
    vendor, d = rng.choice(VENDORS["us"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["INV-{n5}", "{a}{b}-{n5}", "{y}-{n}", "{n5}"]))
    items = lines(rng, "en")
    sub = sum(t for *_, t in items)
    rate = rng.choice([0, 6, 7, 8, 9])
    tax = Decimal(sub * Decimal(rate) / 100).quantize(CENT, rounding=ROUND_HALF_UP) if rate else Decimal(0)
    ship = Decimal(rng.choice([0, 0, 1250, 2500])) / 100
    total = sub + tax + ship
    due = d + dt.timedelta(days=rng.choice([15, 30, 45]))
    city = rng.choice(["Portland, OR 97204", "Austin, TX 78701", "Denver, CO 80202", "Columbus, OH 43215", "Raleigh, NC 27601"])
    text = [rng.choice(["INVOICE", "Invoice", "I N V O I C E"]), vendor, f"{rng.randrange(10, 999)} Main Street, {city}", "",
            f"Invoice {rng.choice(['#', 'No.', 'Number'])}: {num}", f"{rng.choice(['Invoice Date', 'Date', 'Date of issue'])}: {date_text(rng, d, 'us')}",
            f"Due Date: {date_text(rng, due, 'us')}"]
    if rng.random() < 0.5:
        text.append(f"PO Number: PO-{rng.randrange(1000, 99999)}")
    text += ["", f"Bill To: {rng.choice(VENDORS['web'])}", "", table(items, "us", "$"), "",
             f"Subtotal: ${money(sub, 'us')}", f"Sales Tax ({rate}%): ${money(tax, 'us')}"]
    if ship:
        text.append(f"Shipping: ${money(ship, 'us')}")
    text.append(f"{rng.choice(['Total Due', 'TOTAL', 'Amount Due', 'Balance Due'])}: ${money(total, 'us')}")
    if rng.random() < 0.4:
        text.append("Payment terms: Net " + str((due - d).days) + ". Thank you for your business!")
    return "\n".join(text), vendor, num, d, total, "USD"


def uk_receipt(rng):
    vendor, d = rng.choice(VENDORS["uk"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["{n5}", "00{n}", "R-{n5}"]))
    items = lines(rng, "en", n=rng.randint(1, 3))
    total = sum(t for *_, t in items)
    vat = (total / 6).quantize(CENT, rounding=ROUND_HALF_UP)
    gbp = rng.choice(["£", "GBP "])
    text = [vendor, f"{rng.randrange(1, 120)} {rng.choice(['Market Row', 'High Street', 'Station Road'])}, {rng.choice(['Bath', 'Leeds', 'York', 'Bristol'])}",
            f"VAT Reg No. GB{rng.randrange(100, 999)} {rng.randrange(1000, 9999)} {rng.randrange(10, 99)}", "",
            f"{rng.choice(['Receipt no.', 'Receipt #', 'Invoice no.'])} {num}",
            f"{date_text(rng, d, 'uk')}  {rng.randrange(8, 20)}:{rng.randrange(60):02d}", ""]
    text += [f"{q} x {name:<28} {money(t, 'us')}" for name, q, _, t in items]
    text += ["", f"TOTAL {gbp}{money(total, 'us')}", f"{rng.choice(['Card (Contactless)', 'Cash', 'Visa'])} {gbp}{money(total, 'us')}",
             f"VAT included @20% {money(vat, 'us')}", "", rng.choice(["Thank you, see you soon!", "Thanks for shopping local", ""])]
    return "\n".join(text).strip(), vendor, num, d, total, "GBP"


def de_invoice(rng):
    vendor, d = rng.choice(VENDORS["de"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["RE-{y}-{n}", "{y}{n5}", "R{n5}"]))
    items = lines(rng, "de")
    sub = sum(t for *_, t in items)
    tax = tax_of(sub, 19)
    total = sub + tax
    text = ["Rechnung", "", vendor, f"{rng.choice(['Industriestraße', 'Hauptstraße', 'Am Markt'])} {rng.randrange(1, 80)}",
            f"{rng.randrange(10000, 99999)} {rng.choice(['Freiburg', 'Köln', 'Leipzig', 'Hannover', 'Nürnberg'])}", "",
            f"Rechnungsnummer: {num}", f"Rechnungsdatum: {date_text(rng, d, 'de')}",
            f"{rng.choice(['Leistungsdatum', 'Lieferdatum'])}: {date_text(rng, d - dt.timedelta(days=rng.randrange(1, 9)), 'de')}",
            f"Kundennummer: {rng.randrange(10000, 99999)}", "", table(items, "eu", "€", True), "",
            f"Nettobetrag {money(sub, 'eu')} €", f"zzgl. 19 % MwSt. {money(tax, 'eu')} €",
            f"{rng.choice(['Rechnungsbetrag', 'Gesamtbetrag', 'Summe brutto'])} {money(total, 'eu')} €", "",
            rng.choice(["Zahlbar innerhalb von 14 Tagen ohne Abzug.", "Bitte überweisen Sie den Betrag bis zum "
                        + date_text(rng, d + dt.timedelta(days=14), 'de') + "."])]
    return "\n".join(text), vendor, num, d, total, "EUR"


def fr_invoice(rng):
    vendor, d = rng.choice(VENDORS["fr"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["F{y}-{n}", "FA{n5}", "{y}/{n}"]))
    items = lines(rng, "fr")
    sub = sum(t for *_, t in items)
    tax = tax_of(sub, 20)
    total = sub + tax
    text = ["FACTURE", vendor, f"{rng.randrange(1, 90)} rue {rng.choice(['de la République', 'Victor Hugo', 'des Lilas'])}, {rng.choice(['Lyon', 'Nantes', 'Lille', 'Bordeaux'])}",
            f"SIRET : {rng.randrange(100, 999)} {rng.randrange(100, 999)} {rng.randrange(100, 999)} 000{rng.randrange(10, 99)}", "",
            f"Facture n° {num}", f"Date : {date_text(rng, d, 'fr')}",
            f"Échéance : {date_text(rng, d + dt.timedelta(days=30), 'fr')}", "", table(items, "fr", "€", True), "",
            f"Total HT {money(sub, 'fr')} €", f"TVA 20 % {money(tax, 'fr')} €", f"Total TTC {money(total, 'fr')} €"]
    return "\n".join(text), vendor, num, d, total, "EUR"


def es_invoice(rng):
    vendor, d = rng.choice(VENDORS["es"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["{y}-{n}", "FAC-{n5}", "A/{n}"]))
    items = lines(rng, "es")
    sub = sum(t for *_, t in items)
    tax = tax_of(sub, 21)
    total = sub + tax
    text = ["FACTURA", vendor, f"CIF: B{rng.randrange(10**7, 10**8)}", f"C/ {rng.choice(['Mayor', 'Alcalá', 'Gran Vía'])} {rng.randrange(1, 200)}, {rng.choice(['Madrid', 'Valencia', 'Sevilla'])}", "",
            f"Nº factura: {num}", f"Fecha: {date_text(rng, d, 'es')}", "", table(items, "eu", "€", True), "",
            f"Base imponible: {money(sub, 'eu')} €", f"IVA (21%): {money(tax, 'eu')} €", f"TOTAL: {money(total, 'eu')} €",
            "Forma de pago: transferencia bancaria"]
    return "\n".join(text), vendor, num, d, total, "EUR"


def nl_invoice(rng):
    vendor, d = rng.choice(VENDORS["nl"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["{y}{n}", "F-{n5}"]))
    items = lines(rng, "nl")
    sub = sum(t for *_, t in items)
    tax = tax_of(sub, 21)
    total = sub + tax
    text = ["Factuur", vendor, f"KvK {rng.randrange(10**7, 10**8)} · BTW NL{rng.randrange(10**8, 10**9)}B01", "",
            f"Factuurnummer: {num}", f"Factuurdatum: {date_text(rng, d, 'nl')}",
            f"Vervaldatum: {date_text(rng, d + dt.timedelta(days=14), 'nl')}", "",
            *[f"{name} ({q}x) € {money(t, 'eu')}" for name, q, _, t in items], "",
            f"Subtotaal € {money(sub, 'eu')}", f"BTW 21% € {money(tax, 'eu')}", f"Totaal te betalen € {money(total, 'eu')}"]
    return "\n".join(text), vendor, num, d, total, "EUR"


def ch_invoice(rng):
    vendor, d = rng.choice(VENDORS["ch"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["{y}-{n}", "RG{n5}"]))
    items = lines(rng, "de")
    sub = sum(t for *_, t in items)
    tax = tax_of(sub * 10, 81) / 100  # 8.1 % Swiss VAT
    tax = tax.quantize(CENT, rounding=ROUND_HALF_UP)
    total = sub + tax
    text = ["RECHNUNG", vendor, f"{rng.choice(['Bahnhofstrasse', 'Seestrasse'])} {rng.randrange(1, 60)}, {rng.choice(['8001 Zürich', '3011 Bern', '4051 Basel'])}",
            f"MWST-Nr. CHE-{rng.randrange(100, 999)}.{rng.randrange(100, 999)}.{rng.randrange(100, 999)}", "",
            f"Rechnung Nr. {num}", f"Datum: {date_text(rng, d, 'de')}", "", table(items, "ch", "CHF "), "",
            f"Total exkl. MWST CHF {money(sub, 'ch')}", f"MWST 8.1% CHF {money(tax, 'ch')}", f"Total CHF {money(total, 'ch')}"]
    return "\n".join(text), vendor, num, d, total, "CHF"


def jp_invoice(rng):
    vendor, d = rng.choice(VENDORS["jp"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["No. {n5}", "{y}-{n}"])).replace("No. ", "")
    items = lines(rng, "jp", scale=0)
    sub = sum(t for *_, t in items)
    tax = (sub / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    total = sub + tax
    text = ["請求書 / INVOICE", vendor, f"Invoice No.: {num}", f"Date: {date_text(rng, d, 'jp')}", "",
            *[f"{name}  x{q}  ¥{money(t, 'jp')}" for name, q, _, t in items], "",
            f"Subtotal ¥{money(sub, 'jp')}", f"Consumption tax (10%) ¥{money(tax, 'jp')}", f"Total amount ¥{money(total, 'jp')}"]
    return "\n".join(text), vendor, num, d, total, "JPY"


def in_invoice(rng):
    vendor, d = rng.choice(VENDORS["in"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["INV/{y}/{n}", "GST-{n5}"]))
    items = lines(rng, "in")
    sub = sum(t for *_, t in items)
    cgst = tax_of(sub, 9)
    total = sub + 2 * cgst
    text = ["TAX INVOICE", vendor, f"GSTIN: {rng.randrange(10, 37)}AAACS{rng.randrange(1000, 9999)}K1Z{rng.randrange(1, 9)}",
            f"{rng.choice(['Bengaluru', 'Pune', 'Chennai', 'Hyderabad'])}", "", f"Invoice No: {num}", f"Invoice Date: {date_text(rng, d, 'in')}", "",
            *[f"{name} | {q} | ₹{money(t, 'in')}" for name, q, _, t in items], "",
            f"Taxable value: ₹{money(sub, 'in')}", f"CGST 9%: ₹{money(cgst, 'in')}", f"SGST 9%: ₹{money(cgst, 'in')}",
            f"Grand Total: ₹{money(total, 'in')}", "Amount in words: see attached"]
    return "\n".join(text[:-1]), vendor, num, d, total, "INR"


def au_invoice(rng):
    vendor, d = rng.choice(VENDORS["au"]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["{n5}", "TI-{n}"]))
    items = lines(rng, "en")
    total = sum(t for *_, t in items)
    gst = (total / 11).quantize(CENT, rounding=ROUND_HALF_UP)
    text = ["TAX INVOICE", vendor, f"ABN {rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
            f"Invoice: {num}", f"Date: {date_text(rng, d, 'uk')}", "", table(items, "us", "$"), "",
            f"Total (inc. GST) AUD {money(total, 'us')}", f"GST included: ${money(gst, 'us')}"]
    return "\n".join(text), vendor, num, d, total, "AUD"


def email_bill(rng):
    cur, sym, region = rng.choice([("USD", "$", "us"), ("GBP", "£", "uk"), ("EUR", "€", "fr"), ("CAD", "CA$", "us")])
    vendor, d = rng.choice(VENDORS[region]), pick_date(rng)
    num = number(rng, d.year, rng.choice(["INV-{n5}", "{a}{b}{n5}", "{n}-{y}"]))
    total = Decimal(rng.randrange(2000, 900000)) / 100
    name = person(rng)
    due = d + dt.timedelta(days=rng.choice([7, 14, 30]))
    style = "us" if cur in ("USD", "CAD") else "uk"
    text = [f"From: billing@{vendor.split()[0].lower().strip(',')}.example", f"Subject: Invoice {num} from {vendor}", "",
            f"Hi {name.split()[0]},", "",
            rng.choice([f"Please find attached invoice {num}, issued on {date_text(rng, d, style)}, for {sym}{money(total, 'us')}.",
                        f"Your invoice {num} dated {date_text(rng, d, style)} is now available. Amount: {sym}{money(total, 'us')} ({cur})."]),
            f"Payment is due by {date_text(rng, due, style)}.", "",
            rng.choice(["Thanks for your business,", "Kind regards,", "Best,"]), f"{person(rng)}", vendor]
    return "\n".join(text), vendor, num, d, total, cur


def web_receipt(rng):
    vendor, d = rng.choice(VENDORS["web"]), pick_date(rng)
    cur, sym, style = rng.choice([("USD", "US$", "us"), ("EUR", "€", "eu"), ("GBP", "£", "us"), ("CAD", "C$", "us")])
    num = number(rng, d.year, rng.choice(["{a}{b}-{n5}-{n}", "R{n5}{n}"]))
    items = lines(rng, "en", n=rng.randint(1, 3))
    sub = sum(t for *_, t in items)
    ship = Decimal(rng.choice([0, 499, 995]))/100
    disc = (sub * Decimal(rng.choice([0, 0, 10, 15])) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    total = sub + ship - disc
    text = [f"{vendor} — Receipt", f"Receipt number: {num}", f"Paid on {date_text(rng, d, 'iso' if rng.random() < 0.3 else 'uk')}",
            f"Customer ID: C{rng.randrange(100000, 999999)}", ""]
    text += [f"{name} × {q}   {sym}{money(t, style)}" for name, q, _, t in items]
    text += ["", f"Items: {sym}{money(sub, style)}", f"Delivery: {sym}{money(ship, style)}"]
    if disc:
        text.append(f"Discount: -{sym}{money(disc, style)}")
    text.append(f"Total charged: {sym}{money(total, style)} ({cur})")
    return "\n".join(text), vendor, num, d, total, cur


LAYOUTS = [us_invoice, uk_receipt, de_invoice, fr_invoice, es_invoice, nl_invoice, ch_invoice, jp_invoice, in_invoice,
           au_invoice, email_bill, web_receipt]
PER_LAYOUT = 22


def build(rng: random.Random) -> dict[str, list[dict]]:
    rows, seen = [], set()
    for layout in LAYOUTS:
        made = 0
        while made < PER_LAYOUT:
            text, vendor, num, d, total, cur = layout(rng)
            if text in seen or num in {r["invoice_number"] for r in rows}:
                continue
            seen.add(text)
            rows.append({"text": text, "vendor": vendor, "invoice_number": num, "date": d.isoformat(),
                         "total": float(total), "currency": cur, "layout": layout.__name__})
            made += 1
    rng.shuffle(rows)
    return {"invoice_fields.jsonl": [{"id": f"inv-{i:03d}", **r} for i, r in enumerate(rows, 1)]}
