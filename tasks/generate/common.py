"""Shared phrase banks and helpers for the task generators: people from many cultures, companies,
places and currencies, plus small seeded text helpers (typos, casing). Pure stdlib, no I/O."""

from __future__ import annotations

import json
import random

# (first names, last names) per naming culture, so a full name never mixes cultures
NAMES = {
    "en": (["James", "Emily", "Oliver", "Hannah", "Michael", "Sarah", "Daniel", "Grace", "Ryan", "Chloe"],
           ["Thompson", "Walker", "Bennett", "Hughes", "Foster", "Palmer", "Reynolds", "Carter", "Mitchell", "Shaw"]),
    "de": (["Lukas", "Anna", "Jonas", "Lea", "Matthias", "Katrin", "Felix", "Sabine", "Tobias", "Miriam"],
           ["Müller", "Schneider", "Becker", "Hoffmann", "Wagner", "Krüger", "Vogel", "Brandt", "Lehmann", "Seidel"]),
    "fr": (["Camille", "Julien", "Chloé", "Mathieu", "Élodie", "Antoine", "Margaux", "Nicolas", "Inès", "Hugo"],
           ["Lefèvre", "Moreau", "Girard", "Dubois", "Rousseau", "Fontaine", "Chevalier", "Lambert", "Mercier", "Blanc"]),
    "es": (["Lucía", "Javier", "Carmen", "Alejandro", "Marta", "Diego", "Isabel", "Pablo", "Elena", "Sergio"],
           ["García", "Fernández", "López", "Martínez", "Ruiz", "Navarro", "Ortega", "Castillo", "Romero", "Vidal"]),
    "it": (["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Valentina", "Davide", "Sara", "Andrea"],
           ["Rossi", "Bianchi", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Conti"]),
    "in": (["Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Sneha", "Aditya", "Meera", "Rahul"],
           ["Sharma", "Iyer", "Patel", "Reddy", "Nair", "Gupta", "Menon", "Desai", "Rao", "Kulkarni"]),
    "cn": (["Wei", "Li Na", "Jun", "Xiaoming", "Mei", "Hao", "Yan", "Lei", "Jing", "Zhen"],
           ["Zhang", "Wang", "Chen", "Liu", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Lin"]),
    "jp": (["Haruto", "Yui", "Sota", "Aoi", "Ren", "Sakura", "Takumi", "Hina", "Kenji", "Mai"],
           ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato"]),
    "ng": (["Chinedu", "Ngozi", "Oluwaseun", "Amara", "Emeka", "Funmilayo", "Tunde", "Adaeze", "Babajide", "Kemi"],
           ["Okafor", "Adeyemi", "Eze", "Balogun", "Nwosu", "Okonkwo", "Adebayo", "Obi", "Ogunleye", "Chukwu"]),
    "ar": (["Omar", "Layla", "Yousef", "Fatima", "Karim", "Noor", "Hassan", "Rania", "Tariq", "Salma"],
           ["Haddad", "Khalil", "Mansour", "Nasser", "Farouk", "Aziz", "Saleh", "Hamdan", "Qasim", "Darwish"]),
    "pl": (["Katarzyna", "Piotr", "Agnieszka", "Tomasz", "Magdalena", "Paweł", "Joanna", "Krzysztof", "Zofia", "Marek"],
           ["Kowalski", "Nowak", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański", "Dąbrowska", "Kaczmarek"]),
    "br": (["João", "Ana Clara", "Gabriel", "Beatriz", "Rafael", "Larissa", "Thiago", "Camila", "Bruno", "Fernanda"],
           ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Carvalho", "Almeida", "Ribeiro", "Barbosa"]),
    "vn": (["Minh", "Linh", "Tuan", "Thao", "Quang", "Hoa", "Duc", "Lan", "Khanh", "Trang"],
           ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ngo"]),
    "tr": (["Emre", "Elif", "Burak", "Zeynep", "Mehmet", "Ayşe", "Can", "Selin", "Murat", "Deniz"],
           ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Aydın", "Öztürk", "Arslan", "Doğan", "Koç"]),
    "se": (["Erik", "Astrid", "Lars", "Ingrid", "Johan", "Freja", "Nils", "Maja", "Anders", "Elin"],
           ["Andersson", "Johansson", "Lindqvist", "Nilsson", "Berg", "Holm", "Sjöberg", "Lund", "Ekström", "Dahl"]),
    "kr": (["Minjun", "Seoyeon", "Jiho", "Hayoon", "Dohyun", "Jiwoo", "Eunji", "Sungmin", "Yuna", "Taeyang"],
           ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim"]),
    "ke": (["Wanjiru", "Otieno", "Achieng", "Kamau", "Njeri", "Mwangi", "Akinyi", "Kiprono", "Wambui", "Omondi"],
           ["Kariuki", "Odhiambo", "Mutua", "Chebet", "Njoroge", "Wafula", "Kimani", "Onyango", "Muthoni", "Koech"]),
}


def person(rng: random.Random, culture: str | None = None) -> str:
    firsts, lasts = NAMES[culture or rng.choice(sorted(NAMES))]
    return f"{rng.choice(firsts)} {rng.choice(lasts)}"


def first_name(rng: random.Random) -> str:
    return rng.choice(NAMES[rng.choice(sorted(NAMES))][0])


COMPANY_ROOTS = ["Northwind", "Bluepeak", "Harbor", "Kestrel", "Ironbridge", "Lumen", "Maple & Finch", "Silverline",
                 "Orchard", "Quarry Lane", "Redwood", "Tidewater", "Crescent", "Vantage", "Alder", "Brightwater",
                 "Cobalt", "Fenwick", "Granite", "Helios", "Juniper", "Larkspur", "Meridian", "Nimbus", "Oakhaven",
                 "Pinnacle", "Riverside", "Summit", "Thornbury", "Westgate", "Zephyr", "Amberly", "Castellan",
                 "Delacroix", "Everstone", "Greyfield", "Hollis", "Kavanagh", "Lindgren", "Mistral"]
COMPANY_KINDS = ["Logistics", "Software", "Office Supply", "Consulting", "Foods", "Textiles", "Analytics", "Print",
                 "Electrical", "Catering", "Cleaning Services", "Design Studio", "Hardware", "Labs", "Freight",
                 "Medical Supplies", "Packaging", "Digital", "Engineering", "Furniture"]
COMPANY_SUFFIXES = ["Ltd", "Inc.", "LLC", "GmbH", "S.A.", "B.V.", "Co.", "Pty Ltd", "AB", "S.r.l.", "plc", "SAS"]


def company(rng: random.Random, suffix: bool = True) -> str:
    name = f"{rng.choice(COMPANY_ROOTS)} {rng.choice(COMPANY_KINDS)}"
    return f"{name} {rng.choice(COMPANY_SUFFIXES)}" if suffix and rng.random() < 0.7 else name


CITIES = ["London", "Manchester", "Dublin", "Berlin", "Munich", "Hamburg", "Paris", "Lyon", "Madrid", "Barcelona",
          "Milan", "Rome", "Amsterdam", "Rotterdam", "Brussels", "Zurich", "Vienna", "Warsaw", "Kraków", "Stockholm",
          "Oslo", "Copenhagen", "Lisbon", "Porto", "Istanbul", "Dubai", "Nairobi", "Lagos", "Cape Town", "Mumbai",
          "Bengaluru", "Singapore", "Tokyo", "Osaka", "Seoul", "Sydney", "Melbourne", "Toronto", "Vancouver",
          "New York", "Chicago", "Austin", "Denver", "Seattle", "São Paulo", "Mexico City", "Ho Chi Minh City"]

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def typo(rng: random.Random, text: str, n: int = 1) -> str:
    """Introduce n realistic typing slips (swapped, doubled or dropped letters) inside longer words."""
    words = text.split(" ")
    for _ in range(n):
        idx = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
        if not idx:
            break
        i = rng.choice(idx)
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        kind = rng.randrange(3)
        if kind == 0:
            w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        elif kind == 1:
            w = w[:j] + w[j] + w[j:]
        else:
            w = w[:j] + w[j + 1:]
        words[i] = w
    return " ".join(words)


def dumps(rows: list[dict]) -> str:
    """JSONL text, one compact object a line, UTF-8 kept readable."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def pick(rng: random.Random, options: list[str], **slots: str) -> str:
    return rng.choice(options).format(**slots)
