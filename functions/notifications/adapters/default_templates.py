"""The hub's default wording, shipped in the package: customers' (notifications/templates/<language>.toml) and
staff's (notifications/templates/staff/<language>.toml)."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any, get_args

from notifications.domain.templates import Defaults, Email, StaffDefaults, Wording
from reference.models import Language, NotificationTopic


@functools.cache
def defaults() -> Defaults:
    wordings = {}
    layouts = {}
    for language in get_args(Language):
        read = _wording_file(f"{language}.toml")
        layouts[language] = read["layout"]
        for topic in get_args(NotificationTopic):
            wordings[(language, topic)] = Wording(**read[topic])
    return Defaults(wordings, layouts)


@functools.cache
def staff_defaults() -> StaffDefaults:
    emails = {}
    layouts = {}
    for language in get_args(Language):
        read = _wording_file("staff", f"{language}.toml")
        layouts[language] = read.pop("layout")
        for name, wording in read.items():
            emails[(language, name)] = Email(**wording)
    return StaffDefaults(emails, layouts)


def _wording_file(*path: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("notifications").joinpath("templates", *path).read_text("utf-8"))
