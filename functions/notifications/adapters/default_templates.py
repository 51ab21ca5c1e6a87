"""The hub's default wording, shipped in the package (notifications/templates/<language>.toml)."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import get_args

from notifications.domain.templates import Defaults, Wording
from reference.models import Language, NotificationTopic


@functools.cache
def defaults() -> Defaults:
    wordings = {}
    layouts = {}
    for language in get_args(Language):
        read = tomllib.loads((resources.files("notifications") / "templates" / f"{language}.toml").read_text("utf-8"))
        layouts[language] = read["layout"]
        for topic in get_args(NotificationTopic):
            wordings[(language, topic)] = Wording(**read[topic])
    return Defaults(wordings, layouts)
