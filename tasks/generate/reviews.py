"""Product and service reviews labelled positive / neutral / negative. Each review is stitched from
category-specific and generic sentences; positive and negative reviews may carry one concession
("only downside...") but end with a clear verdict; neutral ones are middling or plainly factual."""

from __future__ import annotations

import random

from .common import CITIES, first_name, typo

LABELS = ["positive", "neutral", "negative"]
PER_LABEL = 90

CATEGORIES = {
    "headphones": {
        "item": ["these headphones", "the earbuds", "this headset"],
        "pos": ["The noise cancelling is superb on the train.", "Battery easily lasts {hours} hours.",
                "They are comfortable even on long calls.", "Pairing with my phone and laptop is instant."],
        "neg": ["The left side started crackling after a week.", "Battery barely makes it through {hours2} hours.",
                "They hurt my ears after twenty minutes.", "The Bluetooth connection drops every few minutes."],
        "neu": ["Sound is about what you'd expect at this price.", "They come with three sizes of ear tips.",
                "Battery life is roughly what the box says.", "The case is a bit bigger than my old pair."],
    },
    "kitchen": {
        "item": ["this coffee maker", "the coffee machine", "this espresso maker"],
        "pos": ["The milk frother makes proper foam.", "Coffee comes out hot and strong every morning.",
                "Cleaning it takes seconds.", "It heats up faster than any machine I've had."],
        "neg": ["The water tank leaks every single time.", "It started smelling of burnt plastic after a few uses.",
                "The pump gave out after {weeks} weeks.", "Coffee tastes of plastic no matter how often I rinse it."],
        "neu": ["It's louder than my previous one but not by much.", "The capacity is enough for two people.",
                "It takes about four minutes to heat up.", "The cord is fairly short, so placement matters."],
    },
    "clothing": {
        "item": ["this jacket", "the rain jacket", "this coat"],
        "pos": ["Fits true to size and the fabric feels premium.", "Kept me dry through a whole day of rain.",
                "Still looks new after {washes} washes.", "Warm enough for winter mornings without being bulky."],
        "neg": ["The stitching came apart at the seam after two wears.", "Colour ran in the first wash and ruined a load.",
                "Sizing is way off, I had to return it twice.", "The zip broke on day three."],
        "neu": ["The colour is slightly darker than in the photos.", "Fits as expected for the size chart.",
                "The material is thinner than I imagined.", "It runs a little long in the sleeves."],
    },
    "furniture": {
        "item": ["the office chair", "this desk chair", "the gaming chair"],
        "pos": ["My back pain is gone since I switched to it.", "The armrests and height adjust easily.",
                "Assembly was straightforward and all screws were there.", "Solid, sturdy and looks great in the office."],
        "neg": ["Two parts arrived cracked and the replacement took a month.", "It wobbles no matter how much I tighten it.",
                "The cushion flattened within {weeks} weeks.", "Half the screws were missing and the instructions were wrong."],
        "neu": ["Assembly took about an hour.", "It's exactly the size listed on the page.",
                "The fabric is a lighter grey than I expected.", "It's firm; some people will like that, some won't."],
    },
    "hotel": {
        "item": ["the hotel", "our stay in {city}", "this guesthouse"],
        "pos": ["The staff remembered our names from day one.", "Room was spotless and the bed was very comfortable.",
                "Breakfast had a huge choice and fresh coffee.", "Location is perfect, five minutes from the old town."],
        "neg": ["The room smelled of smoke and nobody would move us.", "We waited forty minutes at check-in.",
                "The air conditioning didn't work for the whole stay.", "Walls are so thin we heard every word next door."],
        "neu": ["The room was clean and of standard size.", "Breakfast was served from 7 to 10.",
                "It's a 15-minute walk to the station.", "Parking is available for a daily fee."],
    },
    "restaurant": {
        "item": ["the restaurant", "dinner here", "this place"],
        "pos": ["The lamb was cooked perfectly and the portions are generous.", "Our waiter {first} was attentive without hovering.",
                "Best pasta I've had outside Italy.", "Desserts are worth the trip alone."],
        "neg": ["We waited an hour for cold food.", "The fish was clearly not fresh.",
                "The waiter was rude when we pointed out a wrong order.", "Charged for drinks we never ordered and argued about it."],
        "neu": ["The menu is short, about eight mains.", "Prices are typical for the area.",
                "It gets busy after 8, so book ahead.", "Food arrived in about twenty minutes."],
    },
    "software": {
        "item": ["the app", "this accounting software", "the project tool", "this CRM"],
        "pos": ["It saves our team hours every week.", "Support answered my question within ten minutes.",
                "The interface is clean and my colleagues picked it up without training.", "Reports export cleanly to Excel."],
        "neg": ["It crashes whenever I attach a file.", "Since the last update half the features are broken.",
                "Support took {days} days to answer a simple question.", "The sync lost a week of our data."],
        "neu": ["It has the usual features: tasks, comments, due dates.", "The mobile version has fewer options than desktop.",
                "We moved to it from spreadsheets last quarter.", "It takes a couple of days to get used to the layout."],
    },
    "delivery": {
        "item": ["the courier service", "this delivery company", "their same-day delivery"],
        "pos": ["The driver called ahead and arrived right on time.", "Everything arrived without a scratch.",
                "The driver carried the heavy box up three flights of stairs.", "Same-day delivery actually was same-day."],
        "neg": ["The parcel was thrown over the fence and got soaked.", "They missed both delivery slots and never called.",
                "The box arrived crushed and they refused to take responsibility.", "Tracking said delivered, but nothing came."],
        "neu": ["Delivery took three working days, as quoted.", "You get a two-hour window the evening before.",
                "The driver needed a signature at the door.", "They deliver Monday to Saturday only."],
    },
    "bank": {
        "item": ["this bank", "the mobile banking app", "their business account"],
        "pos": ["Opening the account took ten minutes on my phone.", "Transfers abroad are fast and cheap.",
                "The advisor {first} sorted out my mortgage question in one call.", "The app is clear and never lets me down."],
        "neg": ["They froze my account for two weeks without explanation.", "Fees keep appearing that nobody can explain.",
                "The app logs me out every time I switch screens.", "I've been on hold for over an hour, three days running."],
        "neu": ["The monthly fee is in line with other banks.", "Branches are open until 4 pm on weekdays.",
                "The card arrived about a week after opening the account.", "International transfers need an extra confirmation step."],
    },
    "gym": {
        "item": ["the gym", "this fitness club"],
        "pos": ["The trainers really know what they're doing.", "Equipment is modern and always clean.",
                "Classes are small so you get real attention.", "Open 24/7, which fits my shift work perfectly."],
        "neg": ["Half the machines have had 'out of order' signs for months.", "Cancelling the membership was a nightmare.",
                "Showers were cold every single visit.", "Way too crowded, you queue for every bench."],
        "neu": ["There are about twenty classes a week.", "The changing rooms are average.",
                "It's busier in the evenings than the mornings.", "Membership is billed monthly with a 30-day notice."],
    },
}

GEN_POS = ["Really happy with it.", "Would recommend to anyone.", "Exceeded my expectations.", "Great value for money.",
           "Arrived a day early and well packed.", "Exactly what I was looking for."]
GEN_NEG = ["Complete waste of money.", "I'm returning it.", "Very disappointed.", "Avoid.",
           "Customer service was no help at all.", "Not worth half the price."]
GEN_NEU = ["Nothing special, nothing bad.", "It does what it says.", "About average.", "It's okay for the price.",
           "Can't say it stands out either way.", "Fine, I suppose."]
OPEN = {"positive": ["Love it!", "Five stars from me.", "Pleasantly surprised.", "So glad I chose {item}.", ""],
        "negative": ["Do not buy.", "Terrible experience.", "Really regret this one.", "Where do I start with {item}...", ""],
        "neutral": ["Mixed feelings, honestly.", "Some thoughts after {weeks} weeks.", "A quick review.", "Some notes on {item}.", ""]}
CONCEDE = {"positive": ["Only downside: {neg_lc}", "My one small gripe is that {neg_soft}", "Not perfect, {neg_soft}"],
           "negative": ["To be fair, {pos_lc}", "The packaging was nice, but that's about it.", "Yes, {pos_lc} Doesn't make up for the rest."]}
VERDICT = {"positive": ["Overall very happy, I'd buy it again.", "Definitely recommend.", "Five stars.", "Couldn't be happier.",
                        "Still a clear recommendation from me.", "Great purchase overall."],
           "negative": ["One star, and that's generous.", "Stay away.", "I want my money back.", "Never again.",
                        "Overall a big disappointment.", "Would not recommend."],
           "neutral": ["Three stars: it's fine, just not memorable.", "Average overall.", "It's okay. Not great, not bad.",
                       "Neither impressed nor disappointed.", "Does the job, nothing more.", "Middle of the road."]}
SOFT_NEG = ["the instructions could be clearer.", "the box was a bit dented.", "it took a day longer than promised.",
            "the colour is slightly different from the photo.", "the price went up a little since last year."]
RATING = {"positive": ["5/5", "★★★★★", "4/5", "Rating: 5", "★★★★☆"], "neutral": ["3/5", "★★★☆☆", "Rating: 3"],
          "negative": ["1/5", "★☆☆☆☆", "2/5", "Rating: 1"]}


def _fill(rng: random.Random, s: str, item: str) -> str:
    return s.format(item=item, hours=rng.choice([20, 25, 30, 35]), hours2=rng.choice([2, 3, 4]),
                    weeks=rng.choice([2, 3, 5, 6, 8]), washes=rng.choice([10, 15, 20]), days=rng.choice([5, 7, 9]),
                    city=rng.choice(CITIES), first=first_name(rng))


def _lc(s: str) -> str:
    return s[0].lower() + s[1:]


def review(rng: random.Random, label: str) -> str:
    cat = CATEGORIES[rng.choice(sorted(CATEGORIES))]
    item = rng.choice(cat["item"])
    key = {"positive": "pos", "negative": "neg", "neutral": "neu"}[label]
    gen = {"positive": GEN_POS, "negative": GEN_NEG, "neutral": GEN_NEU}[label]
    n = rng.choice([1, 2, 2, 3])
    parts = rng.sample(cat[key], min(n, len(cat[key]))) + rng.sample(gen, rng.choice([0, 1, 1]))
    rng.shuffle(parts)
    if label != "neutral" and rng.random() < 0.35:  # a clearly-leaning review with one concession
        other = cat["pos" if label == "negative" else "neg"]
        soft = rng.choice(SOFT_NEG)
        concession = rng.choice(CONCEDE[label]).format(neg_lc=_lc(rng.choice(other)) if label == "positive" else "",
                                                       pos_lc=_lc(rng.choice(other)), neg_soft=soft)
        parts.insert(rng.randrange(1, len(parts) + 1), concession)
    elif label == "neutral" and rng.random() < 0.3:  # balanced: one plus and one minus, middling verdict
        parts += [rng.choice(cat["pos"]), "On the other hand, " + _lc(rng.choice(cat["neg"]))]
    opener = rng.choice(OPEN[label])
    parts = ([opener] if opener else []) + parts + [rng.choice(VERDICT[label])]
    text = " ".join(_fill(rng, p, item) for p in parts)
    text = text[0].upper() + text[1:]
    r = rng.random()
    if r < 0.15:
        text = rng.choice(RATING[label]) + " " + text
    elif r < 0.25:
        text = text.lower()
    if rng.random() < 0.25:
        text = typo(rng, text)
    return text


def build(rng: random.Random) -> dict[str, list[dict]]:
    rows, seen = [], set()
    for label in LABELS:
        made = 0
        while made < PER_LABEL:
            text = review(rng, label)
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            rows.append({"text": text, "sentiment": label})
            made += 1
    rng.shuffle(rows)
    return {"review_sentiment.jsonl": [{"id": f"rs-{i:03d}", **r} for i, r in enumerate(rows, 1)]}
