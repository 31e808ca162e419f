"""Start-up costs of the schema: what importing the data layer does not do yet."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_repositories_and_the_unit_of_work_configures_no_mapper() -> None:
    """Configuring the mappers (resolving every relationship) waits for the first ORM
    query: importing the repositories, the services' unit of work and the schema builds
    no loader option that would configure them all at import."""
    code = (
        "import kitops.services.unit_of_work, kitops.data.repositories\n"
        "from sqlalchemy import inspect\n"
        "from kitops.data.schema import Base\n"
        "print(sorted({inspect(m.class_).configured for m in Base.registry.mappers}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[-1] == "[False]"


def test_relationships_to_classes_defined_later_resolve() -> None:
    """A relationship whose annotation names a class further down (in quotes) or its own
    class maps to that class, as a list or a single row as its annotation says."""
    from sqlalchemy import inspect

    from kitops.data.schema import LocationRow, OrderLineRow, OrderRow, ProductRow, RecipeLineRow

    recipe = inspect(ProductRow).relationships["recipe"]
    parent = inspect(LocationRow).relationships["parent"]
    lines = inspect(OrderRow).relationships["lines"]
    assert (recipe.mapper.class_, recipe.uselist) == (RecipeLineRow, True)
    assert (parent.mapper.class_, parent.uselist) == (LocationRow, False)
    assert (lines.mapper.class_, lines.uselist) == (OrderLineRow, True)
