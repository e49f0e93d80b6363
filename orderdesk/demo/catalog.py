"""The demo shop's world: geography, people's names, products, methods, customers.

Everything is derived from the seed with :class:`random.Random` (string seeds are
hashed with SHA-512, so the result does not depend on ``PYTHONHASHSEED``).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from orderdesk.demo.constants import (
    DEFAULT_CUSTOMER_EMAIL,
    DEMO_CUSTOMER_ID,
)

# --------------------------------------------------------------------------- locales


@dataclass(frozen=True, slots=True)
class Locale:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    #: ``{street}`` and ``{no}`` placeholders.
    address_format: str
    latin: bool


_L: Final[dict[str, Locale]] = {
    "en": Locale(
        ("James", "Olivia", "Liam", "Emma", "Noah", "Ava", "William", "Sophia", "Ethan",
         "Isabella", "Mason", "Mia", "Lucas", "Charlotte", "Harper", "Jack", "Chloe"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
         "Taylor", "Anderson", "Thomas", "Moore", "Martin", "Clark", "O'Neil", "Walker"),
        ("Main St", "Oak Avenue", "Maple Drive", "Cedar Lane", "Elm Street", "Park Road",
         "High Street", "Church Lane", "Victoria Road", "King Street"),
        "{no} {street}", True),
    "de": Locale(
        ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Maximilian", "Sophie", "Paul",
         "Hannah", "Jürgen", "Jörg", "Käthe", "Björn", "Leonie", "Tobias"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Groß", "Köhler", "Weiß", "Krüger", "Bäcker"),
        ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Goethestraße",
         "Lindenallee", "Am Mühlbach", "Königsplatz", "Rosenstraße"),
        "{street} {no}", True),
    "fr": Locale(
        ("Léa", "Hugo", "Chloé", "Louis", "Inès", "Gabriel", "Zoé", "Raphaël", "Camille",
         "Théo", "Maëlle", "Noé", "Élodie", "François"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Lefèvre", "Moreau", "Girard", "Lemaître", "Françoise"),
        ("rue de la Paix", "avenue des Champs-Élysées", "rue Victor Hugo", "boulevard Voltaire",
         "place de l'Église", "rue du Faubourg", "chemin des Vignes"),
        "{no} {street}", True),
    "es": Locale(
        ("Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Martín", "María", "Pablo", "Julia",
         "Álvaro", "Paula", "José", "Begoña", "Íñigo"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
         "Pérez", "Gómez", "Muñoz", "Núñez", "Jiménez"),
        ("Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida de la Constitución",
         "Paseo del Prado", "Calle Real"),
        "{street}, {no}", True),
    "pl": Locale(
        ("Zofia", "Jakub", "Zuzanna", "Szymon", "Hanna", "Łukasz", "Małgorzata", "Wojciech",
         "Agnieszka", "Paweł", "Krzysztof", "Magdalena"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
         "Zieliński", "Szymański", "Woźniak", "Dąbrowski"),
        ("ul. Marszałkowska", "ul. Piotrkowska", "ul. Długa", "al. Jerozolimskie",
         "ul. Świętokrzyska", "ul. Floriańska"),
        "{street} {no}", True),
    "ja": Locale(
        ("太郎", "花子", "翔太", "美咲", "大輔", "陽菜", "蓮", "結衣", "健太", "さくら",
         "悠真", "愛"),
        ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田"),
        ("丸の内", "銀座", "梅田", "栄", "天神", "神宮前", "本町", "中央"),
        "{street}{no}丁目", False),
    "el": Locale(
        ("Γεώργιος", "Μαρία", "Δημήτριος", "Ελένη", "Νικόλαος", "Αικατερίνη", "Ιωάννης",
         "Σοφία", "Κωνσταντίνος", "Αναστασία"),
        ("Παπαδόπουλος", "Παπαδοπούλου", "Νικολάου", "Γεωργίου", "Οικονόμου", "Βασιλείου",
         "Ιωάννου", "Αντωνίου", "Καραγιάννης"),
        ("Οδός Ερμού", "Λεωφόρος Κηφισίας", "Οδός Αθηνάς", "Οδός Τσιμισκή", "Οδός Πανεπιστημίου"),
        "{street} {no}", False),
    "bg": Locale(
        ("Иван", "Мария", "Георги", "Елена", "Димитър", "Десислава", "Николай", "Йорданка",
         "Петър", "Цветелина"),
        ("Иванов", "Петрова", "Георгиев", "Димитрова", "Николов", "Стоянова", "Христов",
         "Тодорова"),
        ("бул. Витоша", "ул. Граф Игнатиев", "бул. Цар Освободител", "ул. Раковски"),
        "{street} {no}", False),
    "uk": Locale(
        ("Олександр", "Олена", "Андрій", "Юлія", "Дмитро", "Наталія", "Сергій", "Ірина",
         "Богдан", "Оксана"),
        ("Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Мельник",
         "Олійник", "Ковальчук"),
        ("вул. Хрещатик", "вул. Шевченка", "просп. Свободи", "вул. Франка"),
        "{street}, {no}", False),
    "ar": Locale(
        ("محمد", "فاطمة", "أحمد", "مريم", "علي", "نور", "يوسف", "ليلى", "عمر", "سارة", "خالد"),
        ("العلي", "حسن", "الهاشمي", "المنصوري", "الشامسي", "إبراهيم", "عبد الله", "الزعابي"),
        ("شارع الشيخ زايد", "شارع الجامعة", "شارع النيل", "شارع الملك فيصل", "شارع التحرير"),
        "{no} {street}", False),
}


@dataclass(frozen=True, slots=True)
class Region:
    """A billing state (``code`` may be empty) with its cities ``(id, name)``."""

    id: int
    name: str
    code: str
    active: bool
    cities: tuple[tuple[int, str, bool], ...]


@dataclass(frozen=True, slots=True)
class Country:
    id: int
    code: str
    name: str
    active: bool
    locale: str
    phone: str
    #: ``#`` = digit, ``@`` = capital letter; empty = no postal codes.
    postal: str
    #: national id format (same placeholders); empty = not collected.
    national: str
    weight: int
    regions: tuple[Region, ...]
    #: cities of countries without states.
    cities: tuple[tuple[int, str, bool], ...]


# (code, name, active, locale, phone, postal, national, weight, [(state, code, [cities])])
_COUNTRIES: Final[tuple[tuple[Any, ...], ...]] = (
    ("DE", "Germany", True, "de", "+49 15#", "#####", "", 25,
     [("Bayern", "BY", ["München", "Nürnberg", "Würzburg"]),
      ("Berlin", "BE", ["Berlin"]),
      ("Nordrhein-Westfalen", "NW", ["Köln", "Düsseldorf", "Münster"])]),
    ("US", "United States", True, "en", "+1 ###", "#####", "", 15,
     [("California", "CA", ["Los Angeles", "San Francisco", "San Diego"]),
      ("New York", "NY", ["New York", "Buffalo"]),
      ("Texas", "TX", ["Austin", "Houston", "Dallas"])]),
    ("FR", "France", True, "fr", "+33 6", "#####", "", 10,
     [("Île-de-France", "IDF", ["Paris", "Versailles"]),
      ("Provence-Alpes-Côte d'Azur", "PAC", ["Marseille", "Nice", "Aix-en-Provence"])]),
    ("GB", "United Kingdom", True, "en", "+44 7###", "@@# #@@", "", 8,
     [], ),
    ("ES", "Spain", True, "es", "+34 6##", "#####", "########@", 6,
     [("Madrid", "M", ["Madrid", "Alcalá de Henares"]),
      ("Cataluña", "CT", ["Barcelona", "Girona"])]),
    ("PL", "Poland", True, "pl", "+48 5##", "##-###", "###########", 6,
     [("Mazowieckie", "14", ["Warszawa", "Radom"]),
      ("Małopolskie", "12", ["Kraków", "Tarnów"])]),
    ("JP", "Japan", True, "ja", "+81 90", "###-####", "", 6,
     [("東京都", "13", ["千代田区", "渋谷区", "新宿区"]),
      ("大阪府", "27", ["大阪市", "堺市"]),
      ("北海道", "01", ["札幌市"])]),
    ("GR", "Greece", True, "el", "+30 69#", "### ##", "", 5,
     [("Αττική", "I", ["Αθήνα", "Πειραιάς"]),
      ("Κεντρική Μακεδονία", "B", ["Θεσσαλονίκη"])]),
    ("BG", "Bulgaria", True, "bg", "+359 88", "####", "##########", 4,
     [("София-град", "22", ["София"]), ("Пловдив", "16", ["Пловдив", "Асеновград"])]),
    ("UA", "Ukraine", True, "uk", "+380 67", "#####", "", 4,
     [("Київська область", "32", ["Київ", "Біла Церква"]), ("Львівська область", "46", ["Львів"])]),
    ("AE", "United Arab Emirates", True, "ar", "+971 50", "", "", 4,
     [("دبي", "DU", ["دبي"]), ("أبوظبي", "AZ", ["أبوظبي", "العين"])]),
    ("EG", "Egypt", True, "ar", "+20 10", "#####", "##############", 3,
     [("القاهرة", "C", ["القاهرة", "حلوان"]), ("الإسكندرية", "ALX", ["الإسكندرية"])]),
    ("CA", "Canada", True, "en", "+1 ###", "@#@ #@#", "", 4,
     [("Ontario", "ON", ["Toronto", "Ottawa"]), ("Québec", "QC", ["Montréal", "Québec"])]),
    ("CH", "Switzerland", False, "de", "+41 79", "####", "", 1,
     [("Zürich", "ZH", ["Zürich", "Winterthur"])]),
)

_GB_CITIES: Final = ("London", "Manchester", "Edinburgh", "Bristol", "Leeds")

#: Payment methods ``(id, name, code)``; ``code`` is what payment records call them.
PAYMENT_METHODS: Final = (
    (1, "Credit card", "card"),
    (2, "PayPal", "paypal"),
    (3, "Bank transfer", "bank_transfer"),
    (4, "Cash on delivery", "cod"),
    (5, "Klarna", "klarna"),
    (6, "Apple Pay", "apple_pay"),
)
_PAYMENT_WEIGHTS: Final = (40, 25, 12, 6, 10, 7)

#: Shipping methods ``(id, name, cost in cents)``.
SHIPPING_METHODS: Final = (
    (1, "Standard", 490),
    (2, "Express", 990),
    (3, "Pickup in store", 0),
    (4, "Next day", 1490),
    (5, "Freight", 4900),
)
_SHIPPING_WEIGHTS: Final = (55, 20, 12, 10, 3)

_ADJECTIVES: Final = (
    "Classic", "Organic", "Wireless", "Compact", "Vintage", "Premium", "Eco", "Smart",
    "Handmade", "Travel", "Ultra", "Mini", "Deluxe", "Nordic", "Crème", "Bamboo",
)
_NOUNS: Final = (
    ("Headphones", 7999), ("Phone Case", 1599), ("Coffee Mug", 1299), ("Backpack", 5999),
    ("Desk Lamp", 3499), ("Water Bottle", 1999), ("Notebook", 899), ("Tea Set", 4599),
    ("Yoga Mat", 2999), ("Sunglasses", 8900), ("Scarf", 2499), ("Keyboard", 10900),
    ("Candle", 1150), ("Wall Clock", 3990), ("Sneakers", 11900), ("Chef's Knife", 6450),
    ("Pillow", 2290), ("Umbrella", 1890), ("Watch", 24900), ("Blender", 7490),
)


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    name: str           #: current name
    snapshot_name: str  #: name at the time of the orders (differs when renamed)
    slug: str
    sku: str
    price: int          #: cents
    offer_id: int | None
    offer_discount: int  #: cents per unit while the offer runs
    variants: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CustomerRec:
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    mobile: str | None
    country_index: int

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def fill_pattern(rng: random.Random, pattern: str) -> str:
    """``#`` → digit, ``@`` → capital letter (one ``random()`` per placeholder run)."""
    return "".join(_fill(rng.random, pattern))


_LETTERS: Final = "ABCDEFGHJKLMNPRSTUVWXYZ"
_COMPILED: dict[str, tuple[tuple[str, int], ...]] = {}


def _fill(r: Callable[[], float], pattern: str) -> list[str]:
    parts = _COMPILED.get(pattern)
    if parts is None:
        parts = tuple((m.group(0)[0], len(m.group(0))) if m.group(0)[0] in "#@"
                      else (m.group(0), 0) for m in re.finditer(r"#+|@+|[^#@]+", pattern))
        _COMPILED[pattern] = parts
    out = []
    for text, run in parts:
        if run == 0:
            out.append(text)
        elif text == "#":
            out.append(str(int(r() * 10**run)).zfill(run))
        else:
            out.append("".join(_LETTERS[int(r() * 23)] for _ in range(run)))
    return out


class World:
    """Lookup tables shared by every order of one seed."""

    def __init__(self, seed: int, n_orders: int) -> None:
        self.seed = seed
        rng = random.Random(f"orderdesk-demo:{seed}:world")
        self.locales = _L
        countries: list[Country] = []
        region_id = 0
        city_id = 0
        for cid, (code, name, active, loc, phone, postal, national, weight, states) in enumerate(
            _COUNTRIES, start=1
        ):
            regions: list[Region] = []
            for sname, scode, cities in states:
                region_id += 1
                cl: list[tuple[int, str, bool]] = []
                for cname in cities:
                    city_id += 1
                    cl.append((city_id, cname, rng.random() > 0.05))
                regions.append(Region(region_id, sname, scode, True, tuple(cl)))
            flat: list[tuple[int, str, bool]] = []
            if not states:
                for cname in _GB_CITIES:
                    city_id += 1
                    flat.append((city_id, cname, True))
            countries.append(Country(cid, code, name, active, loc, phone, postal, national,
                                     weight, tuple(regions), tuple(flat)))
        self.countries: tuple[Country, ...] = tuple(countries)
        self.country_weights: tuple[int, ...] = tuple(c.weight for c in countries)
        self.country_by_id = {c.id: c for c in countries}
        self.region_by_id: dict[int, tuple[Region, Country]] = {}
        self.city_by_id: dict[int, tuple[str, bool]] = {}
        for c in countries:
            for r in c.regions:
                self.region_by_id[r.id] = (r, c)
                for cid2, cname, cact in r.cities:
                    self.city_by_id[cid2] = (cname, cact)
            for cid2, cname, cact in c.cities:
                self.city_by_id[cid2] = (cname, cact)

        self.payment_methods = PAYMENT_METHODS
        self.payment_weights = _PAYMENT_WEIGHTS
        self.shipping_methods = SHIPPING_METHODS
        self.shipping_weights = _SHIPPING_WEIGHTS

        products: list[Product] = []
        offer_id = 0
        seen: set[str] = set()
        pid = 0
        for adj in _ADJECTIVES:
            for noun, base in _NOUNS:
                if rng.random() < 0.25:
                    continue
                name = f"{adj} {noun}"
                if name in seen:  # pragma: no cover - the lists hold no duplicates
                    continue
                seen.add(name)
                pid += 1
                price = max(199, (base * rng.randrange(70, 140) // 100) // 10 * 10 + 9)
                oid: int | None = None
                disc = 0
                if rng.random() < 0.25:
                    offer_id += 1
                    oid = offer_id
                    disc = price * rng.choice((10, 15, 20, 25, 30)) // 100
                snapshot = name
                current = name
                if rng.random() < 0.05:
                    current = f"{name} (new edition)"
                slug = "-".join(_ascii(w) for w in name.replace("'", "").split() if _ascii(w))
                nvar = rng.randrange(1, 4)
                products.append(Product(
                    pid, current, snapshot, slug, f"SKU-{pid:04d}", price, oid, disc,
                    tuple(pid * 10 + k for k in range(nvar)),
                ))
        self.products: tuple[Product, ...] = tuple(products)
        self.product_by_id = {p.id: p for p in products}

        self.n_customers = max(20, min(n_orders // 4, 50_000))
        self.customers: list[CustomerRec] = [self._make_customer(rng, i)
                                             for i in range(1, self.n_customers + 1)]

    # ----------------------------------------------------------------- people
    def _make_customer(self, rng: random.Random, cid: int) -> CustomerRec:
        if cid == DEMO_CUSTOMER_ID:
            return CustomerRec(cid, "demo", "Dana", "Morgan", DEFAULT_CUSTOMER_EMAIL,
                               "+49 151 5550123", 0)
        ci = rng.choices(range(len(self.countries)), self.country_weights)[0]
        country = self.countries[ci]
        loc = self.locales[country.locale]
        first = rng.choice(loc.first_names)
        last = rng.choice(loc.last_names)
        handle = f"{_ascii(first)}.{_ascii(last)}" if loc.latin else ""
        if not handle or handle == ".":
            handle = f"{country.code.lower()}user"
        username = f"{handle}{cid}"
        domain = ("example.com", "mail.example.org", "example.net", "post.example.com")[cid % 4]
        mobile = fill_pattern(rng, country.phone + " ### ####") if rng.random() < 0.85 else None
        return CustomerRec(cid, username, first, last, f"{username}@{domain}", mobile, ci)

    def customer(self, cid: int) -> CustomerRec:
        return self.customers[cid - 1]
