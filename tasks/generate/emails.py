"""Business emails (meeting changes, overdue invoices, shipment delays, policy updates, requests,
renewals, ...) with a one-sentence reference summary and the key facts (names, amounts, dates, ids)
that appear verbatim in both the email and the summary. Emails are padded with the pleasantries and
side remarks real mail carries, so the summary has to pick out what matters."""

from __future__ import annotations

import datetime as dt
import random

from .common import CITIES, MONTHS, WEEKDAYS, company, person

PER_SCENARIO = 20


class Days:
    """Real calendar dates for one email, all written in one style, at offsets from one base day so
    that deadlines come after due dates and new dates after old ones."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.base = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randrange(330))
        self.style = rng.randrange(4)

    def __call__(self, lo: int, hi: int) -> str:
        d = self.base + dt.timedelta(days=self.rng.randint(lo, hi))
        d += dt.timedelta(days=(7 - d.weekday()) % 7 if d.weekday() > 4 else 0)  # business days only
        wd, m = WEEKDAYS[d.weekday()], MONTHS[d.month - 1]
        return [f"{wd} {d.day} {m}", f"{m} {d.day}", f"{d.day} {m}", f"{wd}, {m} {d.day}"][self.style]




def money(rng: random.Random, lo: int, hi: int) -> str:
    v = rng.randrange(lo * 100, hi * 100) / 100
    sym = rng.choice(["$", "€", "£"])
    return f"{sym}{v:,.2f}" if rng.random() < 0.7 else f"{sym}{int(v):,}"


def ref(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-{rng.randint(1000, 99999)}"


GREET = ["Hi {to},", "Hello {to},", "Dear {to},", "Hi all,", "Good morning,", "Hi team,", "Dear colleagues,"]
OPEN = ["", "", "I hope you're well.", "Hope your week is going well.", "Quick note on the below.", "Following up on last week's discussion.",
        "Apologies for the short notice."]
FILLER = ["", "", "", "Let me know if anything is unclear.", "Thanks for your patience and understanding.",
          "As always, feel free to reach out with questions.", "I've copied Finance so they are aware.",
          "Sorry for any inconvenience this causes.", "We really appreciate your continued business."]
CLOSE = ["Best regards,", "Kind regards,", "Thanks,", "Many thanks,", "Best,", "Regards,", "Cheers,"]

# side remarks a real email carries; none of them is a key fact
CONTEXT = {
    "meeting_moved": ["The agenda stays the same, and the slides from last time are in the shared folder.",
                      "If you can't make the new time, please send a delegate rather than declining.",
                      "Lunch will be provided, so let me know about any dietary requirements.",
                      "Remote participants can use the usual video link."],
    "invoice_overdue": ["Our bank details are on the invoice and have not changed.",
                        "If there is a problem with the invoice itself, please tell us so we can correct it quickly.",
                        "A copy of the invoice is attached for your convenience.",
                        "We value working with you and would like to resolve this without further steps."],
    "shipment_delay": ["We know this affects your planning and we're sorry for the disruption.",
                       "All other items on your order are unaffected.",
                       "You will receive a new tracking link as soon as the goods leave our warehouse.",
                       "Our logistics team is checking daily whether we can bring the date forward."],
    "policy_update": ["The change follows feedback from the staff survey earlier this year.",
                      "HR will hold two short Q&A sessions next month.",
                      "Expense claims already submitted are handled under the old rules.",
                      "Please make sure your team has read the update."],
    "document_request": ["You can reply to this email with the file attached or upload it to the supplier portal.",
                         "A scan is fine; we don't need the original.",
                         "This is a routine request that we send to all suppliers once a year.",
                         "If you have already sent it, please ignore this message."],
    "price_increase": ["This is the first increase since we started working together.",
                       "Your account manager is happy to walk you through the new price list.",
                       "Orders confirmed before the change keep the current prices.",
                       "We will keep investing the difference in faster delivery and support."],
    "contract_renewal": ["A summary of your usage over the last year is attached.",
                         "Your account manager can set up a call to discuss your needs for next year.",
                         "Terms and conditions remain unchanged.",
                         "We'd be glad to continue the partnership."],
    "new_hire": ["Please say hello if you see a new face in the kitchen.", "Onboarding sessions are planned for the first week.",
                 "IT will set up accounts the week before.", "A short welcome coffee is planned at 10:00 on the first day."],
    "maintenance": ["We picked an evening slot to keep the impact small.", "No action is needed from you.",
                    "If you notice problems afterwards, please raise a ticket with the service desk.",
                    "This is part of our regular quarterly update cycle."],
    "expense_decision": ["You can see the status of all claims in the expenses tool.", "Please keep the original receipts for six months.",
                         "Questions about the decision can go to the finance helpdesk.", "Thanks for submitting it promptly."],
    "event_invite": ["It's a great chance to meet the team in person.", "We'll share the full agenda closer to the date.",
                     "Feel free to forward this to colleagues who might be interested.", "Parking is available on site."],
    "complaint_escalation": ["This is a key account, so please treat it as a priority.", "The full ticket history is in the CRM.",
                             "Sales has already apologised by phone.", "Let's meet tomorrow morning to agree on next steps."],
}

# scenario -> slot maker, email bodies, summaries, the slots that count as key facts
SCENARIOS = {}


def scenario(name: str, facts: list[str], bodies: list[str], summaries: list[str]):
    def register(fn):
        SCENARIOS[name] = (fn, facts, bodies, summaries)
        return fn
    return register


@scenario("meeting_moved", ["meeting", "new_day", "time"],
          ["The {meeting} planned for {old_day} has to move because {reason}. The new slot is {new_day} at {time}, same room ({room}).",
           "Small change of plans: we're moving the {meeting} from {old_day} to {new_day}, starting at {time}. {reason_cap}. Please update your calendars.",
           "Due to a clash ({reason}), the {meeting} will now take place on {new_day} at {time} in {room} instead of {old_day}."],
          ["The {meeting} has moved from {old_day} to {new_day} at {time}.",
           "The {meeting} is rescheduled to {new_day} at {time} (was {old_day})."])
def meeting_moved(rng, day):
    reason = rng.choice(["the client visit was brought forward", "half the team is at the trade fair", "the board call overran into that slot",
                         "the room is being renovated", "our CFO is travelling"])
    return {"meeting": rng.choice(["quarterly budget review", "product roadmap meeting", "sales kick-off", "vendor review",
                                   "monthly all-hands", "project steering committee", "hiring panel"]),
            "old_day": day(0, 3), "new_day": day(5, 16), "time": rng.choice(["9:30", "10:00", "11:15", "14:00", "15:30", "16:45"]),
            "room": rng.choice(["Room 4.12", "the Atlas room", "Meeting room B", "the 3rd floor boardroom"]),
            "reason": reason, "reason_cap": reason[0].upper() + reason[1:]}


@scenario("invoice_overdue", ["invoice", "amount", "deadline"],
          ["Our records show that invoice {invoice} for {amount}, due on {due}, is still unpaid. Please arrange payment by {deadline}; otherwise we will have to {consequence}.",
           "This is a reminder that invoice {invoice} ({amount}) is now {days} days overdue. If payment has already been made, please send us the remittance advice. Otherwise we ask you to settle it by {deadline}, or we will {consequence}.",
           "We have not yet received payment of {amount} for invoice {invoice}. The original due date was {due}. Kindly pay by {deadline} to avoid having to {consequence}."],
          ["Invoice {invoice} for {amount} is overdue and must be paid by {deadline}.",
           "{vendor} asks for payment of overdue invoice {invoice} ({amount}) by {deadline}."])
def invoice_overdue(rng, day):
    return {"invoice": ref(rng, rng.choice(["INV", "RE", "F"])), "amount": money(rng, 150, 48000), "due": day(0, 0),
            "deadline": day(50, 70), "days": str(rng.choice([14, 21, 30, 45, 60])),
            "consequence": rng.choice(["pause your account", "charge a late fee", "hand the matter to our collections agency",
                                       "put further deliveries on hold"])}


@scenario("shipment_delay", ["order", "new_date"],
          ["Unfortunately your order {order} ({product}) will not ship as planned on {old_date}. {reason_cap}, and the new expected delivery date is {new_date}.",
           "I'm writing to let you know about a delay with order {order}. Because {reason}, the {product} will now arrive on {new_date} instead of {old_date}. {offer}",
           "Update on order {order}: {reason}. Revised delivery: {new_date}. {offer}"],
          ["Order {order} is delayed and will now arrive on {new_date}.",
           "Delivery of order {order} ({product}) has slipped from {old_date} to {new_date}."])
def shipment_delay(rng, day):
    reason = rng.choice(["our supplier missed their production slot", "the container is held at the port", "a storm closed the distribution centre",
                         "the carrier has a backlog", "a quality check failed and the batch is being replaced"])
    return {"order": ref(rng, rng.choice(["SO", "ORD", "PO"])), "old_date": day(0, 4), "new_date": day(7, 30), "reason": reason,
            "reason_cap": reason[0].upper() + reason[1:],
            "product": rng.choice(["40 office chairs", "replacement pump", "server rack", "200 safety helmets", "laptop batch",
                                   "printed brochures", "spare parts kit"]),
            "offer": rng.choice(["", "We've waived the shipping fee for the trouble.", "You can cancel free of charge if this no longer works for you.",
                                 "A partial shipment is possible if that helps."])}


@scenario("policy_update", ["policy", "effective", "change"],
          ["From {effective}, the updated {policy} applies to all staff. The main change: {change}. The full document is on the intranet.",
           "Please note that we are updating our {policy}. Starting {effective}, {change}. Everything else stays the same.",
           "Heads-up on the {policy}: as of {effective}, {change}. Managers will go through the details in their next team meeting."],
          ["Under the updated {policy}, from {effective} {change}.",
           "From {effective} the {policy} changes: {change}."])
def policy_update(rng, day):
    policy, changes = rng.choice(POLICIES)
    return {"policy": policy, "effective": day(10, 60), "change": rng.choice(changes)}


POLICIES = [("travel expense policy", ["hotel costs are capped at €180 per night", "economy class is required on flights under six hours",
                                       "receipts must be submitted within 30 days", "rail is mandatory for trips under 400 km"]),
            ("remote work policy", ["employees may work from home three days a week", "Fridays are remote for everyone",
                                    "working abroad is allowed for up to 20 days a year"]),
            ("IT security policy", ["all laptops must use two-factor sign-in", "passwords must be at least 14 characters",
                                    "USB storage devices are blocked on company laptops"]),
            ("purchasing policy", ["purchases above $5,000 need two approvals", "all software must be bought through IT",
                                   "three quotes are required for orders over €10,000"]),
            ("parental leave policy", ["new parents get 16 weeks of paid leave", "partners get six weeks of paid leave"]),
            ("company car policy", ["only electric or hybrid cars can be ordered", "the monthly fuel card limit is £250"])]


@scenario("document_request", ["document", "deadline"],
          ["For our annual supplier review we need your {document}. Could you send it to me by {deadline}? Without it, {why}.",
           "Could you please provide the {document} by {deadline}? Without it, {why}.",
           "We're missing one item from your file: the {document}. Please upload it to the portal by {deadline}, as otherwise {why}."],
          ["{sender} asks for the {document} by {deadline}.",
           "The {document} is needed by {deadline}."])
def document_request(rng, day):
    why = rng.choice(["we cannot release the next payment", "the audit cannot be closed", "onboarding is on hold",
                      "our compliance team will flag the account"])
    return {"document": rng.choice(["certificate of insurance", "signed W-9 form", "ISO 9001 certificate", "bank confirmation letter",
                                    "updated price list", "signed NDA", "VAT registration certificate"]),
            "deadline": day(3, 20), "why": why}


@scenario("price_increase", ["service", "percent", "effective"],
          ["We are writing to inform you that prices for {service} will increase by {percent} from {effective}. {reason_cap}. Existing orders are not affected.",
           "After holding our rates for two years, we need to raise the price of {service} by {percent}, effective {effective}. {reason_cap}.",
           "Please be advised: from {effective}, {service} will cost {percent} more. {reason_cap}. Contact your account manager to lock in current prices with an annual contract."],
          ["Prices for {service} rise by {percent} from {effective}.",
           "{vendor} is raising the price of {service} by {percent} from {effective}."])
def price_increase(rng, day):
    reason = rng.choice(["energy and transport costs have risen sharply", "our suppliers raised their prices", "wage increases took effect this year",
                         "we added round-the-clock support"])
    return {"service": rng.choice(["cloud storage", "our cleaning service", "office coffee supply", "freight to Europe",
                                   "the Premium support plan", "document scanning"]),
            "percent": f"{rng.choice([3, 4, 5, 6, 7, 8, 10, 12, 15])}%", "effective": day(20, 90), "reason_cap": reason[0].upper() + reason[1:]}


@scenario("contract_renewal", ["contract", "expiry", "notice"],
          ["Your {contract} expires on {expiry}. Unless you tell us otherwise by {notice}, it renews automatically for another {term}.",
           "A quick reminder that the {contract} runs until {expiry}. If you wish to cancel or change it, we need written notice by {notice}; otherwise it will renew for {term}.",
           "The {contract} is up for renewal on {expiry}. {offer} Please let us know your decision by {notice}."],
          ["The {contract} expires on {expiry} and renews automatically unless cancelled by {notice}.",
           "Decision needed by {notice} on renewing the {contract}, which expires on {expiry}."])
def contract_renewal(rng, day):
    return {"contract": rng.choice(["software maintenance contract", "office lease", "managed print agreement", "support agreement",
                                    "fleet leasing contract", "cleaning contract"]),
            "expiry": day(60, 120), "notice": day(20, 45), "term": rng.choice(["12 months", "two years", "one year"]),
            "offer": rng.choice(["We can offer a 5% discount for a three-year term.", "Pricing stays the same.", ""])}


@scenario("new_hire", ["name", "role", "start"],
          ["Please join me in welcoming {name}, who starts on {start} as our new {role}. {name_first} joins us from {prev} and will sit with the {team} team.",
           "Good news: {name} has accepted our offer and will start as {role} on {start}. Please make sure a laptop and building badge are ready.",
           "I'm pleased to announce that {name} is joining {team} as {role}, starting {start}. {name_first} previously worked at {prev}."],
          ["{name} joins as {role} on {start}.",
           "New {role} {name} starts on {start}."])
def new_hire(rng, day):
    name = person(rng)
    return {"name": name, "name_first": name.split()[0], "start": day(7, 45),
            "role": rng.choice(["Head of Finance", "senior data analyst", "account executive", "office manager", "backend engineer",
                                "procurement lead", "HR business partner"]),
            "team": rng.choice(["Finance", "Sales", "Operations", "Platform", "People"]), "prev": company(rng, False)}


@scenario("maintenance", ["system", "date", "window"],
          ["The {system} will be unavailable on {date} between {window} for planned maintenance. {impact_cap}.",
           "Planned downtime: the {system}, {date}, {window}. {impact_cap}. We'll send an all-clear when it's back up.",
           "To install security updates, we're taking the {system} offline on {date} between {window}. Please save your work beforehand; {impact}."],
          ["The {system} is down for maintenance on {date}, {window}.",
           "Planned maintenance takes the {system} offline on {date} between {window}."])
def maintenance(rng, day):
    impact = rng.choice(["orders placed during the window will be processed afterwards", "VPN access will also be interrupted",
                         "mobile access is not affected", "payroll runs are not affected"])
    start = rng.choice([18, 19, 20, 21, 22])
    return {"system": rng.choice(["ERP system", "customer portal", "email server", "CRM", "shared drive", "intranet", "booking system"]),
            "date": day(3, 20), "window": f"{start}:00 and {start + 2}:{rng.choice(['00', '30'])}", "impact": impact,
            "impact_cap": impact[0].upper() + impact[1:]}


@scenario("expense_decision", ["employee", "amount", "decision"],
          ["I've reviewed the expense claim from {employee} for {amount} ({purpose}). It is {decision}. {note}",
           "Re the {purpose}: the claim of {amount} submitted by {employee} has been {decision}. {note}",
           "Decision on {employee}'s expense report ({amount}, {purpose}): {decision}. {note}"],
          ["{employee}'s expense claim of {amount} for {purpose} was {decision}.",
           "The {amount} expense claim from {employee} has been {decision}."])
def expense_decision(rng, day):
    decision = rng.choice(["approved", "rejected"])
    note = ("It will be paid with the next salary run." if decision == "approved"
            else rng.choice(["The hotel receipt is missing.", "Alcohol can't be reimbursed under our policy.", "It was submitted after the 30-day limit."]))
    return {"employee": person(rng), "amount": money(rng, 40, 3200), "decision": decision, "note": note,
            "purpose": rng.choice(["client dinner in " + rng.choice(CITIES), "conference trip to " + rng.choice(CITIES), "training course",
                                   "home office equipment", "taxi fares in " + rng.choice(CITIES)])}


@scenario("event_invite", ["event", "date", "venue", "rsvp"],
          ["You're invited to our {event} on {date} at {venue}. Drinks from 18:00. Please RSVP by {rsvp}.",
           "We'd love to see you at the {event}, held at {venue} on {date}. Places are limited, so please register by {rsvp}.",
           "Save the date: {event}, {date}, {venue}. {extra} RSVP by {rsvp} please."],
          ["{sender} invites you to the {event} at {venue} on {date}; RSVP by {rsvp}.",
           "The {event} takes place on {date} at {venue}, with RSVPs due by {rsvp}."])
def event_invite(rng, day):
    return {"event": rng.choice(["customer appreciation evening", "summer party", "partner summit", "product launch", "annual charity dinner",
                                 "open day"]),
            "date": day(30, 60), "rsvp": day(5, 20),
            "venue": rng.choice(["the Riverside Hotel", "our " + rng.choice(CITIES) + " office", "the Glasshouse", "Hall 3 of the exhibition centre"]),
            "extra": rng.choice(["Partners welcome.", "Dress code is smart casual.", "There will be a short keynote at 19:00.", ""])}


@scenario("complaint_escalation", ["customer", "ticket", "deadline"],
          ["{customer} has escalated ticket {ticket}: {issue}. They want a written response by {deadline} and are threatening to cancel.",
           "Escalation from {customer} (ticket {ticket}). Summary: {issue}. Their COO asked for a call before {deadline}.",
           "Flagging this one: ticket {ticket} from {customer} is now with management because {issue}. We need an action plan by {deadline}."],
          ["{customer} escalated ticket {ticket} and expects a response by {deadline}.",
           "Ticket {ticket} from {customer} is escalated; a response is due by {deadline}."])
def complaint_escalation(rng, day):
    return {"customer": company(rng), "ticket": ref(rng, rng.choice(["TCK", "CS", "SR"])), "deadline": day(1, 7),
            "issue": rng.choice(["three deliveries in a row arrived damaged", "they were double-billed for two months",
                                 "the integration has been down for a week", "the promised refund never arrived",
                                 "their account manager has not replied in a month"])}


def build(rng: random.Random) -> dict[str, list[dict]]:
    rows, seen = [], set()
    for name in sorted(SCENARIOS):
        fn, facts, bodies, summaries = SCENARIOS[name]
        made = 0
        while made < PER_SCENARIO:
            s = fn(rng, Days(rng))
            sender, to = person(rng), person(rng)
            s.update(sender=sender, vendor=company(rng))
            if len({s[f] for f in facts}) < len(facts) or s.get("old_day", 1) == s.get("new_day"):
                continue
            body = rng.choice(bodies).format(**s).replace("  ", " ").strip()
            greet = rng.choice(GREET).format(to=to.split()[0])
            opener, filler = rng.choice(OPEN), rng.choice(FILLER)
            context = rng.sample(CONTEXT[name], rng.choice([0, 1, 1, 2]))
            paras = [greet] + ([opener] if opener else []) + [body] + ([" ".join(context)] if context else []) + ([filler] if filler else [])
            sign = [rng.choice(CLOSE), sender] + ([s["vendor"]] if "{vendor}" in "".join(summaries) else [])
            subject = {"meeting_moved": "Change: {meeting}", "invoice_overdue": "Payment reminder: {invoice}",
                       "shipment_delay": "Delay on order {order}", "policy_update": "Update to the {policy}",
                       "document_request": "Request: {document}", "price_increase": "Price change for {service}",
                       "contract_renewal": "Renewal of your {contract}", "new_hire": "Welcome {name}",
                       "maintenance": "Planned maintenance", "expense_decision": "Expense claim",
                       "event_invite": "Invitation: {event}", "complaint_escalation": "ESCALATION: {ticket}"}[name].format(**s)
            email = f"Subject: {subject}\n\n" + "\n\n".join(paras) + "\n\n" + "\n".join(sign)
            summary = rng.choice(summaries).format(**s)
            summary = summary[0].upper() + summary[1:]
            key = [s[f] for f in facts]
            if email in seen or any(k not in email or k not in summary for k in key):
                continue
            seen.add(email)
            rows.append({"email": email, "summary": summary, "facts": key, "scenario": name})
            made += 1
    rng.shuffle(rows)
    return {"email_summary.jsonl": [{"id": f"es-{i:03d}", **r} for i, r in enumerate(rows, 1)]}
