"""Row locks. On PostgreSQL ``SELECT ... FOR UPDATE``; SQLite serialises writers itself."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from api.domain.errors import NotFound
from api.store import statements
from api.store.models import Product


async def lock_product_by_sku(sku: str) -> Product:
    product = await Product.filter(sku=sku).select_for_update().first()
    if product is None:
        raise NotFound("Product", sku)
    return product


async def lock_product(product_id: int) -> Product:
    product = await Product.filter(id=product_id).select_for_update().first()
    if product is None:
        raise NotFound("Product", str(product_id))
    return product


async def lock_products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    """Lock several products, always in id order so that two orders cannot deadlock."""
    wanted = sorted(set(skus))
    db = statements.connection()
    rows = await db.execute_query_dict(
        _lock_sql(len(wanted), statements.is_postgres(db)), wanted)
    by_sku = {p.sku: p for p in (Product._init_from_db(**row) for row in rows)}
    for sku in wanted:
        if sku not in by_sku:
            raise NotFound("Product", sku)
    return by_sku


@cache
def _lock_sql(count: int, postgres: bool) -> str:
    """One prepared statement per number of SKUs; Tortoise would build it per call."""
    wanted = ", ".join(f"${n}" for n in range(1, count + 1))
    sql = f'SELECT * FROM "product" WHERE "sku" IN ({wanted}) ORDER BY "id"'
    return statements.dialect_sql(sql + (" FOR UPDATE" if postgres else ""), postgres)
