"""Importers: other people's market-data formats turned into desk's Parquet schema.

One module per format family; each exposes `run(sources, writer, options, meter)`.
`FORMATS` maps the name given to `desk data import --format` onto it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from desk.data.formats import IMPORT_FORMATS
from desk.errors import DataError

if TYPE_CHECKING:  # the package itself stays light: `desk --help` and `desk run` import it
    from desk.data.writer import MarketWriter
    from desk.importers.source import Meter

FORMATS = IMPORT_FORMATS
"""The formats by name (kept in `desk.data.formats`, which `desk --help` reads cheaply)."""


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to read a source whose layout desk cannot tell by itself."""

    instrument: str | None = None
    kind: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ts_unit: str = "ns"
    ts_format: str | None = None
    tz: str | None = None
    """Zone of naive times; None: the format's own default (UTC; New York for LOBSTER)."""
    price_scale: float = 1.0
    size_scale: float = 1.0
    buy: tuple[str, ...] = ()
    sell: tuple[str, ...] = ()
    bar_stamp: str | None = None
    interval_ns: int | None = None
    clock: str = "local"
    csv_delimiter: str = ","
    header: bool = True
    sort: bool = False
    """Sort rows out of time order (a newest-first source is reversed without being asked)."""


Importer: TypeAlias = "Callable[[list[Path], MarketWriter, ImportOptions, Meter], None]"


def importer(name: str) -> Importer:
    """The `run` function of format `name`."""
    if name not in FORMATS:
        raise DataError(f"unknown format {name!r}; formats: {', '.join(FORMATS)}")
    module = importlib.import_module(f"desk.importers.{FORMATS[name][0]}")
    specific = getattr(module, "run_" + name.replace("-", "_"), None)
    run: Importer = specific if specific is not None else module.run
    return run
