"""Support tickets for eight queues. Each queue has its own hand-written ticket bodies with slots;
openers, sign-offs, tone and typos vary around them. Some bodies carry words that belong to another
queue ("invoice" in a shipping ticket) so the label cannot be read off one keyword."""

from __future__ import annotations

import random

from .common import CITIES, MONTHS, company, first_name, person, typo

QUEUES = ["billing", "refunds", "shipping", "technical", "account", "sales", "legal", "other"]
PER_QUEUE = 33

BODIES = {
    "billing": [
        "My invoice {inv} shows {amount} but our plan is supposed to be {amount2}. Can you explain the difference?",
        "why did my monthly bill go from {amount2} to {amount}?? nobody told me about a price change",
        "We were charged twice for {month} — two identical card payments of {amount} on the same day. Please cancel one of them before it settles, we don't need a refund, just the duplicate removed.",
        "Please update the billing address on our invoices to {company}, {city}. Our finance team rejects invoices with the old address.",
        "Can we switch from paying by credit card to bank transfer for the annual plan? Our accounts payable only does wire payments.",
        "The VAT number is missing on invoice {inv}. We need it re-issued with our VAT ID so we can reclaim the tax.",
        "Our card expired and I got an email that the payment for {month} failed. How do I put in the new card so the subscription doesn't lapse?",
        "Hi, I need a copy of all invoices from last year for our auditors. The billing page only shows the last 6 months.",
        "Is it possible to get invoiced quarterly instead of monthly? Same amount, just fewer invoices for our bookkeeping.",
        "You're charging us for {seats} seats but we only have {seats2} active users. Please correct the next invoice.",
        "The invoice {inv} is addressed to {name} personally but it should be made out to {company}. Can you fix the company name?",
        "I was billed in USD but we're based in {city} and agreed on EUR pricing. Please change the billing currency on our account.",
        "What's the due date for invoice {inv}? The PDF doesn't say and I want to schedule the payment.",
        "Our PO number {po} has to appear on every invoice or our system bounces it. Can you add it to {inv}?",
        "Payment of {amount} was sent by wire on {date} for invoice {inv} but your system still shows it as unpaid. Reference was the invoice number.",
        "we got a late fee on the last bill but we paid on time, the transfer left our bank on {date}. please remove the fee",
        "How is the proration calculated when we add seats mid-cycle? The {amount} line on this month's invoice makes no sense to me.",
        "Could you split our invoice between two cost centers? Marketing has {seats2} seats and Sales has the rest.",
        "Our finance system needs invoices as PDF attachments, but yours only come as a link. Can the invoice email include the PDF?",
        "The tax on invoice {inv} was calculated at 20% but we are VAT-exempt as a charity. Exemption certificate on file since {month}.",
        "Who do I contact to change the card that is charged every month? Our company card changed after a merger.",
        "Direct debit from our account failed for invoice {inv} because of a bank change. New mandate is ready, how do we submit it?",
    ],
    "refunds": [
        "I cancelled within the 14-day trial window but was still charged {amount}. I'd like that money back please.",
        "Returned order {order} three weeks ago, tracking shows you received it on {date}, and I still haven't got my refund. When will it arrive?",
        "The {product} stopped working after two days. I don't want a replacement, I want my money back.",
        "I was charged {amount} for the annual renewal I had already cancelled (confirmation attached). Please refund the full amount.",
        "Can you refund the difference? I bought the {product} for {amount} and a week later it was on sale for {amount2}. Your price promise says you match within 30 days.",
        "Refund status for order {order}? It's been 10 business days since you approved the return.",
        "hi i ordered the wrong size and sent it back unused, who do i talk to about getting my money returned to my card",
        "Your agent promised a partial refund of {amount2} for the outage last month, but it never showed up on my card. Can you check?",
        "I'd like to return the {product} from order {order} for a refund. It's unopened. How do I start the return?",
        "The refund for order {order} went to my old card which is closed now. Can you send it to a different account instead?",
        "We downgraded from the {plan} plan on {date} but were billed for the full month at the higher price. Please refund the unused part as your terms describe.",
        "Got a refund email for order {order} but the amount is {amount2} instead of {amount}. Shipping wasn't refunded even though the item was faulty.",
        "I was charged for a gift card that was never delivered to the recipient. I want the {amount} reversed.",
        "Please refund the {amount} charge from {date}. I never used the service after my trial and cancelled in time.",
        "Your courier left my parcel at the wrong house and it's gone. I've given up on it; please just refund order {order}.",
        "The event I booked through you on {date} was cancelled by the organiser. How do I get the {amount} ticket price back?",
        "I was charged {amount} for express shipping but the order came by standard post a week later. Please refund the express fee.",
        "My subscription renewed yesterday for {amount} even though I turned off auto-renew last month. Money back please, I am not using it.",
        "You cancelled my order {order} because the item was out of stock, but the {amount} has not come back to my account.",
        "Returned the {product} in the original box within 30 days. Your return policy says full refund — I only got store credit. I want the money back to my card.",
    ],
    "shipping": [
        "Order {order} still says 'label created' after five days. Has it actually been shipped?",
        "Can I change the delivery address for order {order}? I'm moving to {city} next week and it hasn't shipped yet.",
        "The tracking number {track} doesn't work on the courier's website. Where is my package?",
        "do you ship to {city}? checkout won't let me select it",
        "My parcel was marked as delivered on {date} but nothing arrived. Neighbours haven't seen it either. Can you open a trace with the courier?",
        "How long does express delivery take to {city}? I need the {product} before the {date} trade show.",
        "The box for order {order} arrived but only 2 of the 3 items were inside. The packing slip lists all three. Can you send the missing one?",
        "Order {order} is stuck in customs in {city}. The courier wants a commercial invoice. Can you send them the paperwork?",
        "Is it possible to hold my shipment at the depot instead of home delivery? I'm away until {date}.",
        "Our warehouse in {city} only accepts deliveries before noon. Can you add that note for the courier on order {order}?",
        "Why is shipping to {city} {amount}? That's more than the item. Are there cheaper delivery options?",
        "The courier says the address on order {order} is incomplete. The apartment number is 4B. Please update it before they return it to you.",
        "Can the two orders {order} and {order2} be combined into one shipment? They go to the same address.",
        "I paid for next-day delivery on order {order} and it took four days. The invoice still lists next-day. Where did it get stuck?",
        "Package came with the outer box crushed, the {product} inside seems fine though. Just letting you know your courier in {city} is rough — please pack the next one better.",
        "I need to ship 40 units to three different offices. Can I upload a list of delivery addresses for one order?",
        "Can you ship order {order} with a different courier? The usual one never finds our loading dock in {city}.",
        "What are the delivery times to {city} at the moment? The product page says 3-5 days but my friend waited two weeks.",
        "Tracking for {track} hasn't updated in six days, last scan at the sorting centre. Is it lost?",
        "Please deliver order {order} to our reception on the ground floor, not to the 5th floor office. The driver keeps trying upstairs.",
    ],
    "technical": [
        "The app crashes every time I open the reports tab. Version {version} on {os}.",
        "Our API calls started returning 502 errors around {time} today. Nothing changed on our side. Is there an outage?",
        "CSV export gives a file with garbled characters in the customer names (ü, ñ show as ?). Looks like an encoding problem.",
        "The webhook for new orders isn't firing anymore since the update. We checked the endpoint, it's reachable.",
        "Sync between the {product} and our calendar duplicated every meeting for {month}. How do we undo it?",
        "Getting 'Error 413: payload too large' when uploading files over 20 MB even though the docs say 100 MB is allowed.",
        "The dashboard is extremely slow, takes more than a minute to load since {date}. Other sites load fine.",
        "Our SSO integration with Okta fails with 'invalid SAML response' for all users since this morning. Billing and account pages are fine, it's only the login flow through Okta that breaks.",
        "The {product} firmware update failed halfway and now the device blinks red. How do I recover it?",
        "Search returns no results for orders older than 90 days even though they show in the list view.",
        "Push notifications stopped arriving on Android after the latest app update ({version}).",
        "The invoice PDF generator puts the totals column off the page when there are more than 30 lines. Could you look at the layout bug?",
        "API docs say the /orders endpoint supports pagination with a cursor, but passing the cursor returns the first page again.",
        "Scheduled reports were sent at {time} UTC instead of {time2} local time after the clock change.",
        "After connecting the printer the {product} shows 'device not recognised'. I've tried two cables and reinstalled the driver.",
        "Importing our contacts from Excel fails at row 1,204 with 'unexpected value' but that row looks normal to me.",
        "Since this morning the barcode scanner adds an extra zero at the end of every code it reads into the inventory tool.",
        'Two-way sync with Google Sheets stopped on {date}; the status says "connected" but no rows are written.',
        "The mobile app shows a blank white screen after login on {os}. Reinstalling didn't help.",
        'Our integration gets "401 invalid token" even with a freshly generated API key. Tested with curl, same result.',
    ],
    "account": [
        "I can't log in — the password reset email never arrives. I checked spam. My username is {user}.",
        "Please transfer account ownership from {name}, who leaves the company on {date}, to me ({name2}). I'm already an admin.",
        "Lost my phone and with it the two-factor codes. How do I get back into my account?",
        "How do I change the email address on my account? I'm moving from {old_email_domain} to our new company domain.",
        "Please delete the user {user} from our workspace, she left the team. I don't see a remove button.",
        "My account got locked after too many login attempts. Can you unlock it?",
        "We need to merge two accounts: I accidentally signed up twice, once with my work email and once with my personal one.",
        "Can I give our accountant read-only access to the workspace without her seeing customer data?",
        "I changed my name after getting married. How do I update it on my profile? It's still {name}.",
        "The invite link I sent to {name2} says it's expired. How do I send a new one?",
        "Someone logged into my account from {city}, I've never been there. I changed my password but please check the account is secure.",
        "How can I turn on two-factor authentication for everyone in our organisation?",
        "I'd like to close my personal account. I no longer need it and there's no active subscription.",
        "Can you change the username on my account from {user} to something without my old surname?",
        "Our admin {name} is on long leave and nobody else has admin rights. How can we add a second admin?",
        "When I log in with Google it creates a new empty account instead of opening my existing one.",
        "Please change the owner email of our workspace to our IT admin address. The current owner address bounces.",
        'I get "account suspended" when I log in, but our subscription is paid up. What happened to my account?',
        "How do I add a colleague as a second admin? I only see the option to invite regular members.",
        "Is there a way to recover a workspace I deleted by mistake yesterday? Everything was in there.",
    ],
    "sales": [
        "We're a team of {seats} in {city} looking at your {plan} plan. Do you offer volume discounts above 50 seats?",
        "Do you have a reseller or partner program? We're an IT distributor based in {city} and several clients asked about your product.",
        "Could someone give us a demo of the {product} next week? We are comparing three vendors.",
        "What would a 3-year contract for {seats} licenses cost? We need a formal quote for procurement by {date}.",
        "Is there a discount for non-profits or schools? We're a charity with {seats2} staff.",
        "We're interested in the on-premise version. Who can we talk to about pricing and deployment options?",
        "Before we buy: does the {plan} plan include API access, or is that only in Enterprise?",
        "I'd like to upgrade from {plan} to Enterprise for our whole company. Who handles that?",
        "Can you send a price list for the {product} in bulk, 200+ units, delivered to {city}?",
        "We're opening three new offices and want to add about {seats} users. Is there a better rate than list price?",
        "Is a free pilot possible for our team in {city} before we commit to a yearly contract?",
        "What's the difference between the {plan} and Enterprise plans? Trying to decide before our budget meeting on {date}.",
        "hey, saw your booth at the expo in {city}. we want a quote for {seats} seats, can someone call me?",
        "Our current vendor's contract ends in {month}. Can you put together an offer to switch, including migration help?",
        "Do you offer academic pricing for a university department? Roughly {seats} researchers would use it.",
        "We'd like to bundle the {product} with our own service for our clients. Do you have an OEM or white-label offer?",
        "Could you prepare a comparison of your Business and Enterprise plans with pricing for {seats} users? Our tender closes on {date}.",
        "Can we get a 30-day trial of the Enterprise features before upgrading our {seats} seats?",
        "Which plan would you recommend for a logistics company with {seats} drivers and 4 office staff? Looking to buy this quarter.",
    ],
    "legal": [
        "Please send us your Data Processing Agreement (DPA) for signature. Our GDPR review requires it before we go live.",
        "Under GDPR Article 15 I request a copy of all personal data you hold about me.",
        "We received a subpoena relating to one of your users. Who is the right contact for law enforcement requests?",
        "Your reseller in {city} is using our registered trademark in their ads without permission. Please have it removed.",
        "Our lawyers need to review the liability clause in section 9 of your master services agreement before we renew.",
        "Where are your sub-processors listed? We must update our records of processing under GDPR.",
        "I want all my personal data erased under the right to be forgotten. I'm not asking to close the account by myself — I want formal confirmation the data is deleted under Article 17.",
        "This is a cease and desist notice on behalf of {company} regarding copyrighted images on your marketplace.",
        "Can your company sign our NDA before we share the technical specs? Attached is our standard mutual NDA.",
        "Do your terms allow us to use the exported reports in materials we sell to our clients? Need a clear answer on licensing.",
        "We need your company's certificate of insurance and confirmation of compliance with the EU AI Act for our vendor due diligence.",
        "A former employee of ours still appears in your published case study without consent. Under data protection law we ask that it be removed.",
        "Our counsel has questions about the governing law and jurisdiction clause in your terms of service. Who can we address them to?",
        "Please confirm whether customer data is transferred outside the EU and which transfer mechanism (SCCs) you rely on.",
        "We are being audited and need a signed copy of the contract amendment from {date}. Legal department only, please.",
        "We need a copy of your SOC 2 report and your data retention policy for our vendor risk assessment.",
        "One of your sellers is selling counterfeit versions of our {product}. We own the design patent. How do we file an infringement report?",
        "Please confirm in writing which law governs our contract and where disputes are heard. Our contract number is {po}.",
        "Under the CCPA I ask you not to sell or share my personal information, and to confirm what categories you have collected.",
    ],
    "other": [
        "Just wanted to say the support agent {name} was fantastic yesterday. Please pass on my thanks!",
        "Are you hiring? I'm a data analyst in {city} and would love to join your team.",
        "I'm a journalist writing about small business software. Could someone from your team comment for an article?",
        "Your office in {city} — is it open to visitors? I'd like to drop off some documents in person.",
        "Would you be interested in sponsoring our local youth football club in {city}?",
        "Love the new logo. That's all, have a nice day.",
        "The hold music on your phone line is lovely. What's the song called?",
        "I'm a student writing a thesis on customer support. Would you fill in a 5-minute survey?",
        "What are your support hours over the holidays?",
        "Hi, is this the right address to send a parcel of donated laptops for your charity drive?",
        "Do you have a podcast or newsletter I can subscribe to? I enjoy your blog posts.",
        "Wrong address, sorry — this message was meant for a different company with a similar name.",
        "We're organising a conference in {city} and would like one of your engineers to give a talk.",
        "Is the meetup on {date} still happening? The page just says 'coming soon'.",
        "I found a wallet in the lobby of your {city} office building on {date}. Who should I hand it to?",
        "Our school class would love a tour of your {city} warehouse. Do you offer visits for students?",
        "Where can I recycle the old packaging? The box says to check your website but I couldn't find it.",
        "Just a heads-up that the street sign at your {city} site has fallen over. Someone might trip.",
        "Could you send me one of your free stickers? My kids collect company logos.",
    ],
}

OPENERS = ["", "", "", "Hi, ", "Hello, ", "Hi team, ", "Good morning, ", "Dear Support, ", "Hey, ", "Hi there! ",
           "Hello support team,\n", "To whom it may concern,\n"]
CLOSERS = ["", "", "", " Thanks!", " Thank you.", " Thanks in advance.", "\n\nBest regards,\n{sig}", "\n\n{sig}",
           " Cheers, {first}", "\n\nKind regards,\n{sig}\n{company}", " Appreciate the help.", " Please advise."]
CONTEXT = ["We've been customers for about three years.", "Writing on behalf of my manager, {name}.",
           "I tried the help centre first but couldn't find an answer.", "We're a small team of {seats2} people in {city}.",
           "Sorry if this is the wrong place to ask.", "My colleague opened a chat about this but it timed out.",
           "Long-time user here."]
URGENT = ["This is urgent. ", "Second time I'm writing about this. ", "URGENT: ", "Still waiting on a reply. ",
          "We need this sorted today. "]

PRODUCTS = ["TerraLink router", "Pulse smart scale", "desk hub", "label printer LP-200", "Aero headset",
            "mobile app", "time-tracking module", "scheduling add-on", "thermostat T3", "barcode scanner",
            "standing desk frame", "espresso machine", "project board", "inventory tool", "webcam Pro 4K"]
PLANS = ["Starter", "Team", "Business", "Pro", "Growth"]
OSES = ["Windows 11", "macOS 14", "iOS 17", "Android 14", "Ubuntu 22.04"]


def slots(rng: random.Random) -> dict[str, str]:
    cur = rng.choice(["$", "€", "£"])
    a, b = sorted(rng.sample(range(19, 900), 2), reverse=True)
    name, name2 = person(rng), person(rng)
    first = first_name(rng)
    return {
        "inv": rng.choice(["INV-", "#", "", "F"]) + str(rng.randrange(10000, 99999)),
        "amount": f"{cur}{a}.{rng.randrange(100):02d}" if rng.random() < 0.5 else f"{cur}{a}",
        "amount2": f"{cur}{b}",
        "month": rng.choice(MONTHS),
        "company": company(rng), "city": rng.choice(CITIES),
        "name": name, "name2": name2, "first": first, "sig": person(rng),
        "seats": str(rng.choice([20, 25, 40, 60, 75, 120, 250, 500])), "seats2": str(rng.choice([3, 5, 8, 9, 14])),
        "po": f"PO-{rng.randrange(1000, 9999)}", "order": f"#{rng.randrange(100000, 999999)}",
        "order2": f"#{rng.randrange(100000, 999999)}", "track": f"1Z{rng.randrange(10**9, 10**10)}",
        "date": f"{rng.randrange(1, 29)} {rng.choice(['Jan', 'March', 'May', 'June', 'Sept', 'Nov'])}",
        "product": rng.choice(PRODUCTS), "plan": rng.choice(PLANS), "version": f"{rng.randrange(2, 9)}.{rng.randrange(20)}.{rng.randrange(10)}",
        "os": rng.choice(OSES), "time": f"{rng.randrange(7, 12)}:{rng.choice(['00', '15', '30', '45'])}",
        "time2": f"{rng.randrange(13, 18)}:00", "user": rng.choice(["mkowalski", "j.tanaka", "ana_silva", "rsharma",
                                                                     "okafor.c", "liwei88", "e.moreau"]),
        "old_email_domain": rng.choice(["gmail.com", "outlook.com", "an old company domain"]),
    }


def ticket(rng: random.Random, queue: str) -> str:
    s = slots(rng)
    body = rng.choice(BODIES[queue]).format(**s)
    if rng.random() < 0.25:  # context that says nothing about the queue, for length and realism
        body = rng.choice(CONTEXT).format(**s) + " " + body
    r = rng.random()
    if r < 0.15:
        body = body.lower()
    elif r < 0.22:
        body = rng.choice(URGENT) + body
    if rng.random() < 0.3:
        body = typo(rng, body, rng.choice([1, 1, 2]))
    opener = rng.choice(OPENERS)
    if opener.endswith(" ") and body[:2].istitle() and not body.startswith(("I ", "I'")):  # not "API", "URGENT"
        body = body[0].lower() + body[1:] if rng.random() < 0.5 else body
    return (opener + body + rng.choice(CLOSERS).format(**s)).strip()


def build(rng: random.Random) -> dict[str, list[dict]]:
    rows, seen = [], set()
    for queue in QUEUES:
        made = 0
        while made < PER_QUEUE:
            text = ticket(rng, queue)
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            rows.append({"text": text, "queue": queue})
            made += 1
    rng.shuffle(rows)
    return {"ticket_routing.jsonl": [{"id": f"tr-{i:03d}", **r} for i, r in enumerate(rows, 1)]}
