"""Every generated file at once: the workflows' artefacts, then the alarms of the template they
leave (a new workflow's state machine gets its alarms in the same build), and the API's OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from oms_build import alarms, openapi, workflows
from oms_build.blocks import TEMPLATE, stale_files, write


def rendered() -> dict[Path, str]:
    files = workflows.rendered()
    files.update(alarms.rendered(files[TEMPLATE]))
    files.update(openapi.rendered())
    return files


def build() -> list[Path]:
    return write(rendered())


def stale() -> list[Path]:
    return stale_files(rendered())
