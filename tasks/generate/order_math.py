"""Order-desk word problems (quantities, discounts, tax, shipping, tiers, returns, instalments) in
four difficulty levels. The gold answer is computed with Decimal; every money amount a careful
clerk would write down along the way is a whole number of cents (problems where it is not are
redrawn), so there is no rounding ambiguity. Each row keeps `solution`, the arithmetic as an
expression whose numbers all appear in the question, so a test can recompute the answer."""

from __future__ import annotations

import random
from decimal import Decimal

from .common import company, first_name

CENT = Decimal("0.01")
CURRENCIES = [("$", "dollars"), ("€", "euros"), ("£", "pounds")]
# (singular, plural, low price, high price)
GOODS = [("notebook", "notebooks", 2, 9), ("desk lamp", "desk lamps", 18, 60), ("office chair", "office chairs", 90, 400),
         ("toner cartridge", "toner cartridges", 35, 120), ("monitor", "monitors", 120, 480), ("keyboard", "keyboards", 20, 140),
         ("coffee mug", "coffee mugs", 4, 15), ("safety helmet", "safety helmets", 15, 45), ("USB stick", "USB sticks", 6, 25),
         ("pack of printer paper", "packs of printer paper", 4, 12), ("standing desk", "standing desks", 250, 700),
         ("headset", "headsets", 30, 160), ("box of pens", "boxes of pens", 5, 18), ("water filter", "water filters", 12, 40),
         ("work jacket", "work jackets", 40, 120), ("label roll", "label rolls", 3, 11), ("router", "routers", 60, 260)]
RATES = [5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40]
TAXES = [5, 6, 7, 8, 10, 20, 19, 21, 25]


class Redraw(Exception):
    """The drawn numbers would need rounding somewhere along the way."""


def cents(x: Decimal) -> Decimal:
    if x != x.quantize(CENT):
        raise Redraw
    return x


def price(rng: random.Random, lo: int, hi: int) -> Decimal:
    step = rng.choice([1, 5, 25, 100])  # prices like 12.40, 12.25, 12.00 as well as 12.37
    return Decimal(rng.randrange(lo * 100 // step, hi * 100 // step) * step) / 100


def m(sym: str, x: Decimal) -> str:
    """Money as written in the question: $1,240 or $12.50."""
    s = f"{x:,.2f}"
    return sym + (s[:-3] if s.endswith(".00") else s)


def n(x: Decimal) -> str:
    """A number as it appears in `solution`."""
    return format(x.normalize(), "f")


def p1_total(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    q, u = rng.randint(2, 40), price(rng, lo, hi)
    who = rng.choice([f"{company(rng, False)}", f"A customer", f"{first_name(rng)} from purchasing"])
    qs = [f"{who} orders {q} {pl} at {m(sym, u)} each. What is the order total in {word}?",
          f"How much do {q} {pl} cost at {m(sym, u)} apiece? Give the amount in {word}.",
          f"Unit price {m(sym, u)}, quantity {q}. What's the line total ({word})?"]
    return rng.choice(qs), f"{q}*{n(u)}", cents(q * u), 1


def p1_discount(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    u, r = price(rng, lo * 3, hi * 3), rng.choice(RATES)
    qs = [f"A {s} bundle normally priced at {m(sym, u)} is on sale for {r}% off. What is the sale price in {word}?",
          f"The list price of an order is {m(sym, u)}. The customer gets a {r}% discount. What do they pay, in {word}?",
          f"We're giving {r} percent off a {m(sym, u)} order. New price in {word}?"]
    return rng.choice(qs), f"{n(u)}*(1-{r}/100)", cents(u * (100 - r) / 100), 1


def p1_tax(rng, sym, word):
    u, t = price(rng, 20, 900), rng.choice(TAXES)
    qs = [f"The sales tax rate is {t}%. How much tax is charged on a {m(sym, u)} purchase, in {word}?",
          f"What is the VAT at {t}% on a net amount of {m(sym, u)}? Answer in {word}.",
          f"A {m(sym, u)} invoice is subject to {t}% tax. How much is the tax alone, in {word}?"]
    return rng.choice(qs), f"{n(u)}*{t}/100", cents(u * t / 100), 1


def p1_unit(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    q = rng.choice([4, 5, 8, 10, 12, 20, 24, 25, 50])
    u = price(rng, lo, hi)
    total = q * u
    qs = [f"A case of {q} {pl} costs {m(sym, total)}. What is the price per item in {word}?",
          f"We paid {m(sym, total)} for {q} {pl}. What did each one cost, in {word}?"]
    return rng.choice(qs), f"{n(total)}/{q}", cents(total / q), 1


def p2_discount_tax(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    q, u, r, t = rng.randint(2, 30), price(rng, lo, hi), rng.choice(RATES), rng.choice(TAXES)
    sub = cents(q * u)
    after = cents(sub * (100 - r) / 100)
    total = cents(after * (100 + t) / 100)
    qs = [f"An order of {q} {pl} at {m(sym, u)} each gets a {r}% discount, and then {t}% tax is added to the discounted price. What is the final total in {word}?",
          f"{q} {pl} cost {m(sym, u)} each. Apply a {r}% trade discount first, then add {t}% VAT. Total to invoice, in {word}?"]
    return rng.choice(qs), f"{q}*{n(u)}*(1-{r}/100)*(1+{t}/100)", total, 2


def p2_lines(rng, sym, word):
    goods = rng.sample(GOODS, rng.choice([2, 3]))
    parts, exprs, total = [], [], Decimal(0)
    for s, pl, lo, hi in goods:
        q, u = rng.randint(1, 12), price(rng, lo, hi)
        parts.append(f"{q} {pl if q > 1 else s} at {m(sym, u)} each")
        exprs.append(f"{q}*{n(u)}")
        total += cents(q * u)
    listing = ", ".join(parts[:-1]) + " and " + parts[-1]
    qs = [f"A purchase order lists {listing}. What is the order total in {word}?",
          f"{first_name(rng)} buys {listing}. How much is that altogether, in {word}?"]
    return rng.choice(qs), "+".join(exprs), total, 2


def p2_tax_ship(rng, sym, word):
    sub, t = price(rng, 40, 2000), rng.choice(TAXES)
    ship = price(rng, 4, 40)
    tax = cents(sub * t / 100)
    qs = [f"An order subtotal is {m(sym, sub)}. Tax of {t}% is applied to the subtotal, and shipping is a flat {m(sym, ship)} that is not taxed. What is the order total in {word}?",
          f"Goods worth {m(sym, sub)} plus {t}% sales tax, plus {m(sym, ship)} delivery (no tax on delivery). What's the total in {word}?"]
    return rng.choice(qs), f"{n(sub)}*(1+{t}/100)+{n(ship)}", sub + tax + ship, 2


def p2_tier(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    first = rng.choice([10, 20, 25, 50])
    q = first + rng.randint(5, 80)
    p_hi = price(rng, lo, hi)
    p_lo = cents(p_hi * (100 - rng.choice([10, 20, 25])) / 100)
    qs = [f"{pl.capitalize()} cost {m(sym, p_hi)} each for the first {first} units and {m(sym, p_lo)} each for every unit after that. What do {q} {pl} cost in total, in {word}?",
          f"Tiered pricing: units 1-{first} are {m(sym, p_hi)} each, any further units {m(sym, p_lo)} each. A customer orders {q} {pl}. Total price in {word}?"]
    return rng.choice(qs), f"{first}*{n(p_hi)}+({q}-{first})*{n(p_lo)}", cents(first * p_hi + (q - first) * p_lo), 2


def p2_bogo(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    k = rng.choice([2, 3, 4])
    groups = rng.randint(2, 8)
    q = groups * (k + 1)
    u = price(rng, lo, hi)
    qs = [f"A shop runs a 'buy {k}, get 1 free' offer on {pl} priced at {m(sym, u)}. A customer takes {q} {pl}. How much do they pay in {word}?",
          f"Promotion: for every {k} {pl} bought, one more is free. Each costs {m(sym, u)}. What is the bill for {q} {pl}, in {word}?"]
    return rng.choice(qs), f"{q}/({k}+1)*{k}*{n(u)}", cents(groups * k * u), 2


def p2_markup(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    cost, r = price(rng, lo, hi), rng.choice([20, 25, 30, 40, 50, 60])
    q = rng.randint(2, 20)
    qs = [f"A reseller buys {pl} at {m(sym, cost)} each and sells them at a {r}% markup on cost. What is the revenue from selling {q} of them, in {word}?",
          f"Our cost for one {s} is {m(sym, cost)} and we add {r}% on top. How much do {q} sell for, in {word}?"]
    return rng.choice(qs), f"{q}*{n(cost)}*(1+{r}/100)", cents(q * cents(cost * (100 + r) / 100)), 2


def p3_threshold(rng, sym, word):
    goods = rng.sample(GOODS, 2)
    qs_, exprs, sub = [], [], Decimal(0)
    for s, pl, lo, hi in goods:
        q, u = rng.randint(1, 8), price(rng, lo, hi)
        qs_.append(f"{q} {pl if q > 1 else s} at {m(sym, u)}")
        exprs.append(f"{q}*{n(u)}")
        sub += cents(q * u)
    threshold = Decimal(rng.choice([50, 75, 100, 150, 200, 250, 500]))
    fee = price(rng, 5, 25)
    ship = Decimal(0) if sub >= threshold else fee
    expr = "+".join(exprs) + ("" if ship == 0 else f"+{n(fee)}")
    q = (f"Shipping costs {m(sym, fee)} unless the order subtotal is {m(sym, threshold)} or more, in which case it is free. "
         f"An order contains {' and '.join(qs_)} each. What does the customer pay in total, in {word}?")
    return q, expr, sub + ship, 3


def p3_coupon(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    q, u, r = rng.randint(2, 20), price(rng, lo, hi), rng.choice(RATES)
    coupon = Decimal(rng.choice([5, 10, 15, 20, 25]))
    sub = cents(q * u)
    after = cents(sub * (100 - r) / 100) - coupon
    if after <= 0:
        raise Redraw
    t = rng.choice(TAXES)
    total = cents(after * (100 + t) / 100)
    qs = [f"A customer buys {q} {pl} at {m(sym, u)} each. The store takes {r}% off, then the customer applies a {m(sym, coupon)} coupon, and finally {t}% tax is added. What is the total in {word}?",
          f"Order: {q} x {s} @ {m(sym, u)}. Loyalty discount {r}%, then a {m(sym, coupon)} voucher, then {t}% VAT on what remains. Amount payable in {word}?"]
    return rng.choice(qs), f"({q}*{n(u)}*(1-{r}/100)-{n(coupon)})*(1+{t}/100)", total, 3


def p3_return(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    q, u, t = rng.randint(5, 30), price(rng, lo, hi), rng.choice(TAXES)
    back = rng.randint(1, q - 1)
    refund = cents(cents(back * u) * (100 + t) / 100)
    qs = [f"A customer bought {q} {pl} at {m(sym, u)} each plus {t}% tax, then returned {back} of them unused. The refund covers the price and the tax on the returned items. How much is refunded, in {word}?",
          f"{back} of the {q} {pl} ({m(sym, u)} each, {t}% tax charged) come back. What is the refund including tax, in {word}?"]
    return rng.choice(qs), f"{back}*{n(u)}*(1+{t}/100)", refund, 3


def p3_fx(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    q, u = rng.randint(2, 40), price(rng, lo, hi)
    rate = Decimal(rng.randrange(7000, 14000)) / 10000
    src, dst = ("€", "$") if sym != "€" else ("$", "€")
    dword = {"$": "dollars", "€": "euros"}[dst]
    total = q * u * rate
    qs = [f"A supplier quotes {q} {pl} at {src}{u:,.2f} each. At an exchange rate of 1 {src} = {rate} {dst}, what does the order cost in {dword}, rounded to the nearest cent?",
          f"Convert the cost of {q} {pl} priced {src}{u:,.2f} each into {dword} using a rate of {rate} {dst} per {src}. Round to cents."]
    return rng.choice(qs), f"{q}*{n(u)}*{n(rate)}", total.quantize(CENT, rounding="ROUND_HALF_UP"), 3


def p4_full(rng, sym, word):
    goods = rng.sample(GOODS, 2)
    items, exprs, sub = [], [], Decimal(0)
    for s, pl, lo, hi in goods:
        q, u = rng.randint(2, 15), price(rng, lo, hi)
        items.append(f"{q} {pl} at {m(sym, u)}")
        exprs.append(f"{q}*{n(u)}")
        sub += cents(q * u)
    r, t = rng.choice([5, 10, 15, 20]), rng.choice(TAXES)
    ship = price(rng, 6, 40)
    after = cents(sub * (100 - r) / 100)
    total = cents(after * (100 + t) / 100) + ship
    over = max((Decimal(b) for b in (250, 500, 1000, 2000, 5000) if b < sub), default=None)
    if over is None:
        raise Redraw
    q = (f"{company(rng, False)} orders {items[0]} each and {items[1]} each. Orders over {m(sym, over)} "
         f"get a {r}% volume discount. Tax of {t}% applies to the discounted goods, and shipping is a flat {m(sym, ship)}, not taxed. "
         f"What is the invoice total in {word}?")
    return q, f"({'+'.join(exprs)})*(1-{r}/100)*(1+{t}/100)+{n(ship)}", total, 4


def p4_instalments(rng, sym, word):
    s, pl, lo, hi = rng.choice(GOODS)
    q, u, t = rng.randint(2, 12), price(rng, lo * 2, hi * 2), rng.choice(TAXES)
    total = cents(cents(q * u) * (100 + t) / 100)
    down = Decimal(rng.choice([50, 100, 150, 200, 250]))
    k = rng.choice([3, 4, 5, 6, 10, 12])
    if total <= down:
        raise Redraw
    each = cents((total - down) / k)
    qs = [f"A customer buys {q} {pl} at {m(sym, u)} each plus {t}% tax. They pay {m(sym, down)} up front and the rest in {k} equal monthly instalments. How much is each instalment, in {word}?",
          f"{q} {pl} at {m(sym, u)} each, {t}% VAT on top. After a {m(sym, down)} deposit, the balance is split into {k} equal payments. Size of one payment in {word}?"]
    return rng.choice(qs), f"({q}*{n(u)}*(1+{t}/100)-{n(down)})/{k}", each, 4


def p4_commission(rng, sym, word):
    goods = rng.sample(GOODS, 2)
    items, exprs, sales = [], [], Decimal(0)
    for s, pl, lo, hi in goods:
        q, u = rng.randint(5, 40), price(rng, lo, hi)
        items.append(f"{q} {pl} at {m(sym, u)} each")
        exprs.append(f"{q}*{n(u)}")
        sales += cents(q * u)
    base = Decimal(rng.choice([500, 1000, 2000]))
    if sales <= base:
        raise Redraw
    r = rng.choice([2, 4, 5, 8, 10])
    comm = cents((sales - base) * r / 100)
    name = first_name(rng)
    q = (f"{name} earns a {r}% commission on monthly sales above {m(sym, base)}. This month {name} sold {items[0]} and {items[1]}. "
         f"How much commission does {name} earn, in {word}?")
    return q, f"({'+'.join(exprs)}-{n(base)})*{r}/100", comm, 4


KINDS = [p1_total, p1_discount, p1_tax, p1_unit, p2_discount_tax, p2_lines, p2_tax_ship, p2_tier, p2_bogo, p2_markup,
         p3_threshold, p3_coupon, p3_return, p3_fx, p4_full, p4_instalments, p4_commission]


def problems(rng: random.Random, count: int, prefix: str, seen: set[str]) -> list[dict]:
    rows = []
    while len(rows) < count:
        kind = KINDS[len(rows) % len(KINDS)]
        sym, word = rng.choice(CURRENCIES)
        try:
            question, solution, answer, level = kind(rng, sym, word)
        except Redraw:
            continue
        if question in seen:
            continue
        seen.add(question)
        rows.append({"id": f"{prefix}-{len(rows) + 1:03d}", "question": question, "answer": float(answer),
                     "solution": solution, "level": level})
    return rows


def build(rng: random.Random) -> dict[str, list[dict]]:
    seen: set[str] = set()
    test = problems(rng, 255, "om", seen)
    demos = problems(rng, 17, "omf", seen)  # one demonstration of each kind, never a test question
    return {"order_math.jsonl": test, "order_math_fewshot.jsonl": demos}
