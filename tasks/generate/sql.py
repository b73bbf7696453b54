"""A small B2B sales database (regions, customers, products, orders, order_items) written as a
SQLite script, and natural-language questions with a reference query each. Prices are whole
currency units, so sums are exact integers. Every reference query is run while generating: it must
return a non-empty, non-null, non-zero result, and rankings must have no tie at the cut-off, so the
gold result set is the only right one."""

from __future__ import annotations

import calendar
import datetime as dt
import random
import sqlite3

from .common import NAMES

SCHEMA = """CREATE TABLE regions (
  region_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL                      -- e.g. 'Europe'
);
CREATE TABLE customers (
  customer_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,                     -- company name
  segment TEXT NOT NULL,                  -- 'Enterprise', 'SMB' or 'Public Sector'
  city TEXT NOT NULL,
  country TEXT NOT NULL,
  region_id INTEGER NOT NULL REFERENCES regions(region_id),
  signup_date TEXT NOT NULL               -- 'YYYY-MM-DD'
);
CREATE TABLE products (
  product_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  category TEXT NOT NULL,                 -- 'Laptops', 'Monitors', 'Accessories', 'Networking', 'Software', 'Furniture'
  unit_price INTEGER NOT NULL             -- list price in USD
);
CREATE TABLE orders (
  order_id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(customer_id),
  order_date TEXT NOT NULL,               -- 'YYYY-MM-DD', 2024 and 2025
  status TEXT NOT NULL,                   -- 'completed', 'shipped', 'cancelled' or 'returned'
  channel TEXT NOT NULL                   -- 'online', 'phone' or 'partner'
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders(order_id),
  product_id INTEGER NOT NULL REFERENCES products(product_id),
  quantity INTEGER NOT NULL,
  unit_price INTEGER NOT NULL,            -- price charged per unit in USD (the list price)
  PRIMARY KEY (order_id, product_id)
);
"""

REGIONS = ["North America", "Europe", "Asia Pacific", "Latin America", "Middle East & Africa"]
PLACES = {  # country: (region index, cities)
    "United States": (0, ["New York", "Chicago", "Austin", "Seattle"]), "Canada": (0, ["Toronto", "Vancouver"]),
    "Germany": (1, ["Berlin", "Munich", "Hamburg"]), "France": (1, ["Paris", "Lyon"]), "United Kingdom": (1, ["London", "Manchester"]),
    "Spain": (1, ["Madrid", "Barcelona"]), "Poland": (1, ["Warsaw"]), "Netherlands": (1, ["Amsterdam", "Rotterdam"]),
    "Japan": (2, ["Tokyo", "Osaka"]), "India": (2, ["Mumbai", "Bengaluru"]), "Australia": (2, ["Sydney", "Melbourne"]),
    "Singapore": (2, ["Singapore"]), "South Korea": (2, ["Seoul"]), "Brazil": (3, ["São Paulo", "Rio de Janeiro"]),
    "Mexico": (3, ["Mexico City", "Monterrey"]), "Chile": (3, ["Santiago"]), "United Arab Emirates": (4, ["Dubai"]),
    "Nigeria": (4, ["Lagos"]), "Kenya": (4, ["Nairobi"]), "South Africa": (4, ["Cape Town", "Johannesburg"]),
}
SEGMENTS = ["Enterprise", "SMB", "Public Sector"]
CUSTOMER_WORDS = ["Apex", "Blue River", "Cedar", "Delta", "Evergreen", "Falcon", "Golden Gate", "Horizon", "Ivory", "Jade",
                  "Keystone", "Lighthouse", "Monarch", "Nova", "Olympus", "Polar", "Quantum", "Rainier", "Sierra", "Titan",
                  "Union", "Vertex", "Willow", "Yukon", "Zenith", "Aurora", "Beacon", "Crown", "Dynamo", "Echo"]
CUSTOMER_KINDS = ["Logistics", "Health", "Bank", "Retail", "Foods", "Energy", "Media", "Partners", "Labs", "Motors",
                  "Insurance", "University", "Hotels", "Construction", "Pharma"]
PRODUCTS = {
    "Laptops": [("ProBook 14", 1199), ("ProBook 16", 1499), ("AirLite 13", 999), ("WorkStation X1", 2399), ("EduBook 11", 399),
                ("FieldBook Rugged", 1899), ("Creator 15", 1799), ("ThinEdge 14", 1299)],
    "Monitors": [("View 24 FHD", 189), ("View 27 QHD", 329), ("UltraWide 34", 649), ("Studio 32 4K", 899), ("Portable 15", 249),
                 ("Curve 49", 1199), ("Touch 22", 399)],
    "Accessories": [("USB-C Dock", 229), ("Wireless Mouse", 39), ("Mechanical Keyboard", 119), ("Laptop Sleeve 14", 29),
                    ("Noise-Cancelling Headset", 179), ("HD Webcam", 89), ("Travel Charger 100W", 69), ("Presenter Remote", 49),
                    ("Ergonomic Mouse", 79), ("Docking Station Pro", 349)],
    "Networking": [("Office Router AX", 279), ("Mesh Node", 159), ("24-Port Switch", 449), ("Access Point Pro", 319),
                   ("Firewall Appliance", 1299), ("Network Cable Kit", 59), ("5G Hotspot", 299)],
    "Software": [("Office Suite License", 149), ("Antivirus Business", 45), ("Backup Cloud 1TB", 99), ("Design Studio License", 599),
                 ("Project Planner Seat", 120), ("Password Vault Seat", 36), ("Video Meeting Pro", 180), ("Accounting Cloud", 420)],
    "Furniture": [("Standing Desk", 549), ("Ergo Chair", 389), ("Meeting Table", 899), ("Monitor Arm", 129), ("Filing Cabinet", 219),
                  ("Phone Booth", 4999), ("Desk Lamp LED", 59)],
}
STATUSES = [("completed", 70), ("shipped", 12), ("cancelled", 10), ("returned", 8)]
CHANNELS = [("online", 55), ("phone", 20), ("partner", 25)]
N_CUSTOMERS, N_ORDERS = 140, 720


def weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def make_db(rng: random.Random) -> dict[str, list[tuple]]:
    regions = [(i + 1, n) for i, n in enumerate(REGIONS)]
    names = set()
    customers = []
    countries = sorted(PLACES)
    while len(customers) < N_CUSTOMERS:
        name = f"{rng.choice(CUSTOMER_WORDS)} {rng.choice(CUSTOMER_KINDS)}"
        if name in names:
            continue
        names.add(name)
        country = rng.choice(countries)
        region, cities = PLACES[country]
        signup = dt.date(2022, 1, 1) + dt.timedelta(days=rng.randrange(0, 1400))
        customers.append((len(customers) + 1, name, weighted(rng, [("Enterprise", 30), ("SMB", 55), ("Public Sector", 15)]),
                          rng.choice(cities), country, region + 1, signup.isoformat()))
    products = []
    for cat in PRODUCTS:
        for name, price in PRODUCTS[cat]:
            products.append((len(products) + 1, name, cat, price))
    never = set(rng.sample([p[0] for p in products], 4))  # a few products nobody bought
    orders, items = [], []
    buyers = [c for c in customers if rng.random() < 0.93]  # some customers never ordered
    for oid in range(1, N_ORDERS + 1):
        cust = rng.choice(buyers)
        start = max(dt.date(2024, 1, 1), dt.date.fromisoformat(cust[6]))
        span = (dt.date(2025, 12, 31) - start).days
        if span < 0:
            continue
        date = start + dt.timedelta(days=rng.randint(0, span))
        orders.append((oid, cust[0], date.isoformat(), weighted(rng, STATUSES), weighted(rng, CHANNELS)))
        for pid in rng.sample([p[0] for p in products if p[0] not in never], rng.choice([1, 1, 2, 2, 3, 4])):
            qty = rng.choice([1, 1, 2, 3, 5, 10, 20]) if products[pid - 1][2] in ("Software", "Accessories") else rng.choice([1, 1, 2, 3, 4, 6])
            items.append((oid, pid, qty, products[pid - 1][3]))
    return {"regions": regions, "customers": customers, "products": products, "orders": orders, "order_items": items}


def sql_literal(v) -> str:
    return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"


def script(db: dict[str, list[tuple]]) -> str:
    out = ["-- Sales database for the text_to_sql task; written by tasks/generate/sql.py (seeded).", SCHEMA]
    for table, rows in db.items():
        for i in range(0, len(rows), 50):  # one INSERT per 50 rows keeps the file short and readable
            values = ",\n  ".join("(" + ", ".join(sql_literal(v) for v in row) + ")" for row in rows[i:i + 50])
            out.append(f"INSERT INTO {table} VALUES\n  {values};")
    return "\n".join(out) + "\n"


REV = "SUM(oi.quantity * oi.unit_price)"
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def questions(rng: random.Random, db: dict[str, list[tuple]]):
    """Yield (question, sql, rank_check) candidates; rank_check is a query listing the ranking values
    in order (or None) used to reject ties at the cut-off."""
    customers = [c[1] for c in db["customers"]]
    countries = sorted({c[4] for c in db["customers"]})
    products = [p[1] for p in db["products"]]
    cats = list(PRODUCTS)
    years = [2024, 2025]
    while True:
        y, cat, country = rng.choice(years), rng.choice(cats), rng.choice(countries)
        cust, prod, region = rng.choice(customers), rng.choice(products), rng.choice(REGIONS)
        m = rng.randint(1, 12)
        mm, k = f"{m:02d}", rng.choice([3, 5])
        seg, status, channel = rng.choice(SEGMENTS), rng.choice(["completed", "shipped", "cancelled", "returned"]), rng.choice(["online", "phone", "partner"])
        price = rng.choice([100, 200, 300, 500, 1000])
        q = sql_literal
        kind = rng.randrange(30)
        if kind == 0:
            yield rng.choice([f"How many customers are based in {country}?", f"Count the customers located in {country}."]), \
                f"SELECT COUNT(*) FROM customers WHERE country = {q(country)}", None
        elif kind == 1:
            yield rng.choice([f"How many orders were placed in {MONTH_NAMES[m-1]} {y}?", f"Number of orders with an order date in {MONTH_NAMES[m-1]} {y}?"]), \
                f"SELECT COUNT(*) FROM orders WHERE order_date BETWEEN '{y}-{mm}-01' AND '{y}-{mm}-{calendar.monthrange(y, m)[1]}'", None
        elif kind == 2:
            yield rng.choice([f"List the names of {cat.lower()} products with a list price above {price} USD.",
                              f"Which products in the {cat} category cost more than ${price}?"]), \
                f"SELECT name FROM products WHERE category = {q(cat)} AND unit_price > {price}", None
        elif kind == 3:
            yield rng.choice([f"What is the total revenue from {cat.lower()} products across all orders?",
                              f"Total revenue of the {cat} category (all orders, any status)?"]), \
                f"SELECT {REV} FROM order_items oi JOIN products p ON p.product_id = oi.product_id WHERE p.category = {q(cat)}", None
        elif kind == 4:
            yield rng.choice([f"What was the total revenue from orders placed in {y}?", f"Sum of revenue for all orders dated in {y}."]), \
                f"SELECT {REV} FROM order_items oi JOIN orders o ON o.order_id = oi.order_id WHERE o.order_date LIKE '{y}-%'", None
        elif kind == 5:
            base = ("FROM order_items oi JOIN products p ON p.product_id = oi.product_id GROUP BY p.product_id ORDER BY SUM(oi.quantity) DESC")
            yield rng.choice([f"Which {k} products sold the most units overall? Give their names.", f"Top {k} products by total quantity sold (names only)."]), \
                f"SELECT p.name {base} LIMIT {k}", (f"SELECT SUM(oi.quantity) {base}", k)
        elif kind == 6:
            base = (f"FROM customers c JOIN orders o ON o.customer_id = c.customer_id JOIN order_items oi ON oi.order_id = o.order_id "
                    f"WHERE o.order_date LIKE '{y}-%' GROUP BY c.customer_id ORDER BY {REV} DESC")
            yield rng.choice([f"Who were the top {k} customers by revenue in {y}? Return their names.", f"Names of the {k} customers with the highest revenue from orders in {y}."]), \
                f"SELECT c.name {base} LIMIT {k}", (f"SELECT {REV} {base}", k)
        elif kind == 7:
            yield rng.choice([f"How many orders are there for each status in {y}?", f"Break down the {y} orders by status: status and number of orders."]), \
                f"SELECT status, COUNT(*) FROM orders WHERE order_date LIKE '{y}-%' GROUP BY status", None
        elif kind == 8:
            yield rng.choice([f"Show total revenue per region for orders placed in {y}.", f"For each region name, what was the revenue from {y} orders?"]), \
                (f"SELECT r.name, {REV} FROM regions r JOIN customers c ON c.region_id = r.region_id JOIN orders o ON o.customer_id = c.customer_id "
                 f"JOIN order_items oi ON oi.order_id = o.order_id WHERE o.order_date LIKE '{y}-%' GROUP BY r.region_id"), None
        elif kind == 9:
            yield rng.choice([f"Which customers from {country} have never placed an order?", f"List customers in {country} with no orders at all."]), \
                f"SELECT name FROM customers WHERE country = {q(country)} AND customer_id NOT IN (SELECT customer_id FROM orders)", None
        elif kind == 10:
            yield rng.choice([f"How many different customers have ordered the {prod}?", f"Number of distinct customers who bought {prod}."]), \
                (f"SELECT COUNT(DISTINCT o.customer_id) FROM orders o JOIN order_items oi ON oi.order_id = o.order_id "
                 f"JOIN products p ON p.product_id = oi.product_id WHERE p.name = {q(prod)}"), None
        elif kind == 11:
            base = f"FROM products WHERE category = {q(cat)} ORDER BY unit_price DESC"
            yield rng.choice([f"What is the most expensive product in the {cat} category?", f"Name the {cat.lower()} product with the highest list price."]), \
                f"SELECT name {base} LIMIT 1", (f"SELECT unit_price {base}", 1)
        elif kind == 12:
            yield rng.choice([f"How many {channel} orders were placed in {y}?", f"Count the orders that came through the {channel} channel in {y}."]), \
                f"SELECT COUNT(*) FROM orders WHERE channel = {q(channel)} AND order_date LIKE '{y}-%'", None
        elif kind == 13:
            yield rng.choice([f"List the {seg} customers in the {region} region.", f"Which customers in {region} belong to the {seg} segment?"]), \
                (f"SELECT c.name FROM customers c JOIN regions r ON r.region_id = c.region_id WHERE r.name = {q(region)} AND c.segment = {q(seg)}"), None
        elif kind == 14:
            base = f"FROM orders o JOIN order_items oi ON oi.order_id = o.order_id WHERE o.order_date LIKE '{y}-%' GROUP BY substr(o.order_date, 6, 2) ORDER BY {REV} DESC"
            yield rng.choice([f"Which month of {y} had the highest revenue? Answer with the month number.", f"In {y}, what month (as a two-digit number) brought in the most revenue?"]), \
                f"SELECT substr(o.order_date, 6, 2) {base} LIMIT 1", (f"SELECT {REV} {base}", 1)
        elif kind == 15:
            yield rng.choice(["What is the average list price of products in each category?", "Show each category with its average product price."]), \
                "SELECT category, AVG(unit_price) FROM products GROUP BY category", None
        elif kind == 16:
            yield rng.choice(["How many products are in each category?", "Count products per category."]), \
                "SELECT category, COUNT(*) FROM products GROUP BY category", None
        elif kind == 17:
            n = rng.choice([10, 20, 30, 50])
            yield rng.choice([f"How many orders contain more than {n} units in total?", f"Count the orders whose total quantity across all items exceeds {n}."]), \
                f"SELECT COUNT(*) FROM (SELECT order_id FROM order_items GROUP BY order_id HAVING SUM(quantity) > {n})", None
        elif kind == 18:
            yield rng.choice([f"When did {cust} place their first order?", f"What is the date of the earliest order from {cust}?"]), \
                f"SELECT MIN(o.order_date) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE c.name = {q(cust)}", None
        elif kind == 19:
            yield rng.choice([f"How many units of the {prod} were sold in {y}?", f"Total quantity of {prod} ordered in {y}?"]), \
                (f"SELECT SUM(oi.quantity) FROM order_items oi JOIN products p ON p.product_id = oi.product_id JOIN orders o ON o.order_id = oi.order_id "
                 f"WHERE p.name = {q(prod)} AND o.order_date LIKE '{y}-%'"), None
        elif kind == 20:
            yield rng.choice([f"How many customers signed up in {y - 1}?", f"Number of customers whose signup date is in {y - 1}."]), \
                f"SELECT COUNT(*) FROM customers WHERE signup_date LIKE '{y - 1}-%'", None
        elif kind == 21:
            yield rng.choice([f"What is the total revenue from {cust}?", f"How much revenue has {cust} generated across all its orders?"]), \
                (f"SELECT {REV} FROM order_items oi JOIN orders o ON o.order_id = oi.order_id JOIN customers c ON c.customer_id = o.customer_id "
                 f"WHERE c.name = {q(cust)}"), None
        elif kind == 22:
            yield rng.choice([f"How many orders from customers in {country} have the status '{status}'?", f"Count {status} orders placed by customers based in {country}."]), \
                f"SELECT COUNT(*) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE c.country = {q(country)} AND o.status = {q(status)}", None
        elif kind == 23:
            base = f"FROM customers c JOIN regions r ON r.region_id = c.region_id WHERE r.name = {q(region)} GROUP BY c.country ORDER BY COUNT(*) DESC"
            yield rng.choice([f"Which country in the {region} region has the most customers?", f"In {region}, which country has the largest number of customers?"]), \
                f"SELECT c.country {base} LIMIT 1", (f"SELECT COUNT(*) {base}", 1)
        elif kind == 24:
            yield rng.choice(["Which products have never been ordered?", "List the products that appear in no order."]), \
                "SELECT name FROM products WHERE product_id NOT IN (SELECT product_id FROM order_items)", None
        elif kind == 25:
            n = rng.choice([6, 8, 10, 12])
            yield rng.choice([f"Which customers have placed more than {n} orders? Give their names.", f"Names of customers with over {n} orders."]), \
                f"SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.customer_id HAVING COUNT(*) > {n}", None
        elif kind == 26:
            yield rng.choice([f"What is the date of the most recent order by {cust}?", f"When did {cust} last order?"]), \
                f"SELECT MAX(o.order_date) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE c.name = {q(cust)}", None
        elif kind == 27:
            base = (f"FROM order_items oi JOIN products p ON p.product_id = oi.product_id JOIN orders o ON o.order_id = oi.order_id "
                    f"JOIN customers c ON c.customer_id = o.customer_id JOIN regions r ON r.region_id = c.region_id "
                    f"WHERE r.name = {q(region)} GROUP BY p.category ORDER BY {REV} DESC")
            yield rng.choice([f"Which product category earned the most revenue from customers in {region}?", f"Top category by revenue in the {region} region?"]), \
                f"SELECT p.category {base} LIMIT 1", (f"SELECT {REV} {base}", 1)
        elif kind == 28:
            yield rng.choice([f"What is the average number of items (order lines) per order in {y}?", f"On average, how many order lines did an order from {y} have?"]), \
                (f"SELECT AVG(n) FROM (SELECT COUNT(*) AS n FROM order_items oi JOIN orders o ON o.order_id = oi.order_id "
                 f"WHERE o.order_date LIKE '{y}-%' GROUP BY oi.order_id)"), None
        else:
            q1 = rng.choice([1, 2, 3, 4])
            months = {1: ("01-01", "03-31"), 2: ("04-01", "06-30"), 3: ("07-01", "09-30"), 4: ("10-01", "12-31")}[q1]
            yield rng.choice([f"How many {seg} customers placed at least one order in Q{q1} {y}?", f"Number of distinct {seg}-segment customers ordering in Q{q1} {y}."]), \
                (f"SELECT COUNT(DISTINCT c.customer_id) FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
                 f"WHERE c.segment = {q(seg)} AND o.order_date BETWEEN '{y}-{months[0]}' AND '{y}-{months[1]}'"), None


def useful(con: sqlite3.Connection, sql: str, rank) -> bool:
    rows = con.execute(sql).fetchall()
    if not rows or all(v is None or v == 0 for v in rows[0]):
        return False
    if rank:
        query, k = rank
        values = [r[0] for r in con.execute(query).fetchall()]
        if len(values) > k and values[k - 1] == values[k]:
            return False
    return True


COUNT = 250


def build(rng: random.Random) -> dict[str, object]:
    db = make_db(rng)
    text = script(db)
    con = sqlite3.connect(":memory:")
    con.executescript(text)
    rows, seen_q, seen_sql = [], set(), set()
    for question, sql, rank in questions(rng, db):
        if len(rows) == COUNT:
            break
        if question in seen_q or sql in seen_sql or not useful(con, sql, rank):
            continue
        seen_q.add(question)
        seen_sql.add(sql)
        rows.append({"id": f"sql-{len(rows) + 1:03d}", "question": question, "sql": sql})
    con.close()
    return {"sales.sql": text, "text_to_sql.jsonl": rows}
