"""The eleven built-in streams of seed 004: declarations only.

Each names its stream, path and schema file. Paging (`page`/`limit`, records
under `items`, `meta.pagination`), retries, coercion and keys (`id`) come from
`LMSStream`, so a new resource is a few lines here and one schema file.

Two endpoints are lists *of a parent*: the real API rejects `/v1/course_reviews`
without `course_id` and `/v1/coupons` without `promotion_id`. `scoped_by` names
that parent; `tap_lms.resources` turns it into a child stream read once per
parent record (the `scope_by_parent` setting can turn that off).
"""

from __future__ import annotations

import typing as t

from tap_lms.client import LMSStream
from tap_lms.schemas import load_schema


class ParentScope(t.NamedTuple):
    """A built-in listed per parent record: which stream, which of its fields, sent as which query parameter."""

    parent: str
    field: str
    param: str


class CoursesStream(LMSStream):
    """Courses: the catalogue of learning content."""

    name = "courses"
    path = "/v1/courses"
    schema = load_schema("courses")


class UsersStream(LMSStream):
    """Users: learners, instructors and administrators."""

    name = "users"
    path = "/v1/users"
    schema = load_schema("users")


class PromotionsStream(LMSStream):
    """Promotions: discount campaigns that coupons belong to."""

    name = "promotions"
    path = "/v1/promotions"
    schema = load_schema("promotions")


class CategoriesStream(LMSStream):
    """Categories: groupings of products (the API calls them collections)."""

    name = "categories"
    path = "/v1/collections"
    schema = load_schema("categories")


class ReviewsStream(LMSStream):
    """Reviews: learners' course reviews."""

    name = "reviews"
    path = "/v1/course_reviews"
    schema = load_schema("reviews")
    scoped_by = ParentScope("courses", "id", "course_id")


class EnrollmentsStream(LMSStream):
    """Enrollments: a user's access to and progress in a course."""

    name = "enrollments"
    path = "/v1/enrollments"
    schema = load_schema("enrollments")
    # The only resource the API filters by update time; the rest stay FULL_TABLE.
    replication_key = "updated_at"
    incremental_param = "query[updated_after]"


class GroupsStream(LMSStream):
    """Groups: cohorts of users, e.g. a team or a class."""

    name = "groups"
    path = "/v1/groups"
    schema = load_schema("groups")


class InstructorsStream(LMSStream):
    """Instructors: the people shown as teaching courses."""

    name = "instructors"
    path = "/v1/instructors"
    schema = load_schema("instructors")


class OrdersStream(LMSStream):
    """Orders: purchases, with their line items."""

    name = "orders"
    path = "/v1/orders"
    schema = load_schema("orders")


class ProductsStream(LMSStream):
    """Products: what is sold (courses, bundles), with prices."""

    name = "products"
    path = "/v1/products"
    schema = load_schema("products")


class CouponsStream(LMSStream):
    """Coupons: redeemable codes of a promotion."""

    name = "coupons"
    path = "/v1/coupons"
    schema = load_schema("coupons")
    scoped_by = ParentScope("promotions", "id", "promotion_id")


#: Built-in stream classes by name, in sync order.
BUILTIN_STREAMS: dict[str, type[LMSStream]] = {
    cls.name: cls
    for cls in (
        CoursesStream,
        UsersStream,
        PromotionsStream,
        CategoriesStream,
        ReviewsStream,
        EnrollmentsStream,
        GroupsStream,
        InstructorsStream,
        OrdersStream,
        ProductsStream,
        CouponsStream,
    )
}
