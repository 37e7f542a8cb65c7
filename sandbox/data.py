"""Deterministic, realistic LMS data for the sandbox API, drift included.

The same `scale` and `variant` always give the same records, so tests can compare
what the tap emitted with what the sandbox holds. Some records carry the drift a
real API sends (numbers and booleans as strings, empty strings for dates, a
field no schema knows), so coercion is exercised by every full sync.
"""

from __future__ import annotations

import datetime as dt
import random
import typing as t
from functools import lru_cache

#: Records per resource at scale 1 (13,489 in all: 12,255 LMS records, 1,234 generic).
BASE_COUNTS: dict[str, int] = {
    "courses": 60,
    "users": 2500,
    "promotions": 40,
    "categories": 20,
    "reviews": 700,
    "enrollments": 6000,
    "groups": 30,
    "instructors": 25,
    "orders": 2200,
    "products": 80,
    "coupons": 600,
    "resource": 1234,
}

_FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kemal", "Lena", "Mateo", "Noor"]
_LAST = ["Abara", "Berg", "Costa", "Diaz", "Eze", "Fischer", "Garcia", "Haddad", "Ito", "Jansen", "Kowalski", "Lind"]
_TOPICS = ["Data Analysis", "Public Speaking", "Python Basics", "Watercolour", "Project Management",
           "Statistics", "Negotiation", "Photography", "Bookkeeping", "Spanish A1", "UX Research", "SQL"]
_EPOCH = dt.datetime(2022, 1, 3, 9, 0, 0, tzinfo=dt.timezone.utc)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Maker:
    """Builds one resource's records with a private random stream."""

    def __init__(self, variant: int, name: str) -> None:
        self.rng = random.Random(f"{variant}:{name}")

    def moment(self, index: int, spread_days: int = 900) -> dt.datetime:
        base = _EPOCH + dt.timedelta(hours=index * 3)
        return base + dt.timedelta(minutes=self.rng.randrange(spread_days * 24 * 60 // 10))

    def maybe(self, value: t.Any, chance_null: float = 0.1) -> t.Any:
        return None if self.rng.random() < chance_null else value

    def ids(self, upper: int, most: int) -> list[int]:
        return sorted(self.rng.sample(range(1, upper + 1), k=self.rng.randint(0, min(most, upper))))


def _person(i: int) -> tuple[str, str, str]:
    first = _FIRST[i % len(_FIRST)]
    last = _LAST[(i * 7) % len(_LAST)]
    return first, last, f"{first.lower()}.{last.lower()}{i}@example.org"


def _make(name: str, i: int, mk: _Maker, counts: dict[str, int]) -> dict[str, t.Any]:  # noqa: C901, PLR0911
    rid = i + 1
    created = mk.moment(i)
    n = counts
    if name == "courses":
        topic = _TOPICS[i % len(_TOPICS)]
        return {
            "id": rid, "name": f"{topic} {rid}", "slug": f"{topic.lower().replace(' ', '-')}-{rid}",
            "subtitle": mk.maybe(f"A practical course on {topic.lower()}"), "product_id": (i % n["products"]) + 1,
            "description": f"<p>Learn {topic.lower()} step by step.</p>", "course_card_text": mk.maybe("Start today"),
            "intro_video_youtube": mk.maybe(f"vid{rid:05d}", 0.6), "contact_information": mk.maybe("help@example.org"),
            "keywords": topic.lower(), "duration": f"{mk.rng.randint(1, 40)} hours",
            "banner_image_url": f"https://cdn.example.org/banners/{rid}.png",
            "course_card_image_url": f"https://cdn.example.org/cards/{rid}.png",
            "intro_video_wistia_identifier": mk.maybe(f"w{rid:06d}", 0.7),
            "administrator_user_ids": mk.ids(n["users"], 3),
            "chapter_ids": list(range(rid * 100, rid * 100 + mk.rng.randint(1, 12))),
            "reviews_enabled": mk.rng.random() < 0.8, "user_id": (i % n["users"]) + 1,
            "instructor_id": (i % n["instructors"]) + 1,
        }
    if name == "users":
        first, last, email = _person(i)
        roles = ["student"] + (["affiliate"] if i % 11 == 0 else []) + (["admin"] if i % 97 == 0 else [])
        return {
            "id": rid, "created_at": _iso(created), "first_name": first, "last_name": last,
            "full_name": f"{first} {last}", "company": mk.maybe(f"Company {i % 40}", 0.5), "email": email,
            "roles": roles, "avatar_url": mk.maybe(f"https://cdn.example.org/avatars/{rid}.jpg", 0.4),
            "bio": mk.maybe("Lifelong learner.", 0.7), "headline": mk.maybe("Analyst", 0.6),
            "affiliate_code": f"AFF{rid}" if "affiliate" in roles else None, "external_source": mk.maybe("import", 0.9),
            "affiliate_commission": round(mk.rng.uniform(0, 0.5), 2) if "affiliate" in roles else None,
            "affiliate_commission_type": "percent" if "affiliate" in roles else None,
            "affiliate_payout_email": email if "affiliate" in roles else None,
            "administered_course_ids": mk.ids(n["courses"], 2) if "admin" in roles else [],
            "custom_profile_fields": [
                {"id": rid * 10 + k, "value": v, "label": label, "custom_profile_field_definition_id": k + 1}
                for k, (label, v) in enumerate([("Department", f"Dept {i % 9}"), ("Country", "NL")][: i % 3])
            ],
        }
    if name == "enrollments":
        pct = round(mk.rng.uniform(0, 1), 3)  # a fraction, 0.0-1.0, as the LMS API sends it
        started = created + dt.timedelta(days=mk.rng.randint(0, 10))
        completed = pct >= 1 or mk.rng.random() < 0.2
        user = (i * 13) % n["users"] + 1
        course = (i * 7) % n["courses"] + 1
        return {
            "id": rid, "created_at": _iso(created), "user_email": _person(user - 1)[2],
            "user_name": " ".join(_person(user - 1)[:2]), "user_id": user,
            "course_name": f"{_TOPICS[(course - 1) % len(_TOPICS)]} {course}", "course_id": course,
            "percentage_completed": 1.0 if completed else pct, "expired": mk.rng.random() < 0.05,
            "is_free_trial": mk.rng.random() < 0.1, "completed": completed, "started_at": _iso(started),
            "activated_at": _iso(started), "completed_at": _iso(started + dt.timedelta(days=30)) if completed else None,
            "updated_at": _iso(started + dt.timedelta(days=mk.rng.randint(0, 60))),
            "expiry_date": mk.maybe(_iso(created + dt.timedelta(days=365)), 0.7),
        }
    if name == "orders":
        product = (i * 3) % n["products"] + 1
        cents = mk.rng.choice([0, 1900, 4900, 9900, 14900, 29900])
        user = (i * 17) % n["users"] + 1
        coupon = mk.rng.randint(1, n["coupons"]) if mk.rng.random() < 0.15 else None
        return {
            "id": rid, "created_at": _iso(created), "user_id": user, "user_email": _person(user - 1)[2],
            "user_name": " ".join(_person(user - 1)[:2]), "product_name": f"Product {product}",
            "product_id": product, "amount_dollars": _dollars(cents / 100), "amount_cents": cents,
            "subscription": mk.rng.random() < 0.1, "coupon_code": f"SAVE{coupon}" if coupon else None,
            "coupon_id": coupon, "affiliate_referral_code": mk.maybe(f"AFF{(i % 50) * 11 + 1}", 0.9),
            "status": mk.rng.choice(["complete", "complete", "complete", "refunded", "pending"]),
            "items": [{"product_id": product, "product_name": f"Product {product}",
                       "amount_dollars": _dollars(cents / 100), "amount_cents": cents}],
        }
    if name == "products":
        price = mk.rng.choice([0, 19, 49, 99, 149.5, 299])
        subscription = mk.rng.random() < 0.1
        return {
            "id": rid, "created_at": _iso(created), "productable_id": (i % n["courses"]) + 1,
            "productable_type": mk.rng.choice(["Course", "Bundle"]), "price": _dollars(price), "position": i,
            "status": mk.rng.choice(["published", "draft"]), "name": f"Product {rid}", "private": False,
            "hidden": mk.rng.random() < 0.1, "subscription": subscription,
            "days_until_expiry": mk.maybe(365, 0.6), "has_certificate": mk.rng.random() < 0.5,
            "keywords": mk.maybe("learning"), "seo_title": f"Product {rid}", "seo_description": mk.maybe("Learn more."),
            "collection_ids": mk.ids(n["categories"], 3), "related_product_ids": mk.ids(n["products"], 2),
            "description": f"Product {rid} description", "card_image_url": f"https://cdn.example.org/p/{rid}.png",
            "slug": f"product-{rid}", "instructor_names": mk.maybe(" ".join(_person(i + 500)[:2]), 0.2),
            "product_prices": [_product_price(mk, rid, price, subscription)],
        }
    if name == "coupons":
        return {
            "id": rid, "code": f"SAVE{rid}", "note": mk.maybe("Partner campaign", 0.7),
            "quantity_used": mk.rng.randint(0, 50), "quantity": mk.maybe(100, 0.5),
            "promotion_id": (i % n["promotions"]) + 1, "created_at": _iso(created),
        }
    if name == "promotions":
        starts = created
        return {
            "id": rid, "name": f"Promotion {rid}", "description": mk.maybe("Seasonal discount"),
            "starts_at": _iso(starts), "expires_at": mk.maybe(_iso(starts + dt.timedelta(days=30)), 0.3),
            "discount_type": mk.rng.choice(["percentage", "fixed"]), "amount": mk.rng.choice([10, 15, 25.5, 50]),
            "coupon_ids": list(range(i + 1, n["coupons"] + 1, n["promotions"]))[:5],
            "product_ids": mk.ids(n["products"], 4), "duration": mk.maybe(mk.rng.randint(1, 12), 0.5),
        }
    if name == "categories":
        return {
            "id": rid, "name": f"Category {rid}", "description": mk.maybe("A group of products"),
            "slug": f"category-{rid}", "created_at": _iso(created), "product_ids": mk.ids(n["products"], 6),
            "default": i == 0,
        }
    if name == "reviews":
        return {
            "id": rid, "rating": mk.rng.randint(1, 5), "title": mk.maybe("Great course", 0.3),
            "review_text": mk.maybe("Clear and practical.", 0.2), "user_id": (i * 5) % n["users"] + 1,
            "course_id": (i % n["courses"]) + 1, "approved": mk.rng.random() < 0.9, "created_at": _iso(created),
        }
    if name == "groups":
        return {"id": rid, "name": f"Cohort {rid}", "token": f"grp{rid:04d}tok", "created_at": _iso(created)}
    if name == "instructors":
        first, last, email = _person(i + 500)
        return {
            "id": rid, "user_id": (i * 31) % n["users"] + 1, "title": mk.maybe("Senior instructor"),
            "first_name": first, "last_name": last, "bio": mk.maybe("Teaches with enthusiasm."),
            "slug": f"{first.lower()}-{last.lower()}-{rid}", "avatar_url": mk.maybe(f"https://cdn.example.org/i/{rid}.jpg"),
            "email": email, "created_at": _iso(created),
        }
    if name == "resource":  # the generic resource (offset paging, records under `data`)
        return {
            "id": rid, "name": f"Item {rid}", "description": mk.maybe(f"Generic item number {rid}"),
            "status": mk.rng.choice(["active", "archived"]), "value": round(mk.rng.uniform(0, 1000), 2),
            "updated_at": _iso(created),
        }
    raise KeyError(name)


def _dollars(amount: float) -> str:
    """Money as the LMS API sends it: a string such as "20.0"."""
    return str(float(amount))


def _product_price(mk: _Maker, rid: int, price: float, subscription: bool) -> dict[str, t.Any]:  # noqa: FBT001
    """One price of a product, every field the API documents (amounts and counts as strings)."""
    payment_type = "subscription" if subscription else ("free" if price == 0 else "one-time")
    return {
        "id": rid * 10, "currency": "USD", "is_primary": True, "payment_type": payment_type,
        "price": _dollars(price), "label": None, "price_name": f"Product {rid}",
        "interval": "month" if subscription else None, "interval_count": "1" if subscription else None,
        "trial_interval": "day" if subscription else None, "trial_interval_count": "7" if subscription else None,
        "custom_first_price": _dollars(price / 2) if subscription else None,
        "days_until_expiry": mk.maybe("365", 0.6), "pay_button_text": mk.maybe("Enroll now", 0.5),
        "number_of_payments": None,
    }


def _drift(record: dict[str, t.Any], i: int) -> None:
    """Turn some clean values into the shapes a drifting API sends."""
    numeric = [k for k, v in record.items() if k != "id" and isinstance(v, (int, float)) and not isinstance(v, bool)]
    flags = [k for k, v in record.items() if isinstance(v, bool)]
    dates = [k for k, v in record.items() if k.endswith(("_at", "_date")) and isinstance(v, str)]
    if i % 17 == 3 and numeric:
        key = numeric[i % len(numeric)]
        value = record[key]
        record[key] = f"{value:.1f}" if isinstance(value, int) else str(value)  # "12.0", "0.5"
    if i % 23 == 5 and flags:
        key = flags[i % len(flags)]
        record[key] = "true" if record[key] else "false"
    if i % 29 == 7 and dates:
        record[dates[i % len(dates)]] = ""
    if i % 211 == 13:
        record["legacy_reference"] = f"L-{i}"


@lru_cache(maxsize=4)
def generate(scale: float = 1.0, variant: int = 7) -> dict[str, tuple[dict[str, t.Any], ...]]:
    """Every resource's records, in `id` order, for a given size and variant."""
    counts = {name: max(1, round(base * scale)) for name, base in BASE_COUNTS.items()}
    data: dict[str, tuple[dict[str, t.Any], ...]] = {}
    for name, count in counts.items():
        mk = _Maker(variant, name)
        records = []
        for i in range(count):
            record = _make(name, i, mk, counts)
            _drift(record, i)
            records.append(record)
        data[name] = tuple(records)
    return data
