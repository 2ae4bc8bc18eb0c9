"""Row locks. On PostgreSQL ``SELECT ... FOR UPDATE``; SQLite serialises writers itself."""

from __future__ import annotations

from collections.abc import Iterable

from api.domain.errors import NotFound
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
    found = await Product.filter(sku__in=wanted).order_by("id").select_for_update()
    by_sku = {p.sku: p for p in found}
    for sku in wanted:
        if sku not in by_sku:
            raise NotFound("Product", sku)
    return by_sku
