"""A small synthetic workspace with deprecated APIs that name their replacement.

Real repositories rarely call deprecated APIs, so the deprecation metric also runs on this
package: classes whose old methods say "use X instead" (a `@deprecated(...)` decorator or a
`warnings.warn(..., DeprecationWarning)`), and caller modules that use the replacements. The
files are (re)written under the bench cache whenever their content changes.
"""

from __future__ import annotations

from pathlib import Path

FIXTURE_NAME = "ledgerkit-fixture"

_COMPAT = '''"""Deprecation helpers."""

import functools
import warnings


def deprecated(message):
    """Mark a function as deprecated; calling it warns with `message`."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            return function(*args, **kwargs)

        return wrapper

    return decorate
'''

_CART = '''"""Shopping carts."""

import warnings
from dataclasses import dataclass, field

from ledgerkit._compat import deprecated


@dataclass
class LineItem:
    sku: str
    quantity: int
    unit_price: float


@dataclass
class Cart:
    owner: str
    items: dict = field(default_factory=dict)

    def add_item(self, sku: str, quantity: int = 1, unit_price: float = 0.0) -> LineItem:
        item = self.items.get(sku)
        if item is None:
            item = self.items[sku] = LineItem(sku, 0, unit_price)
        item.quantity += quantity
        return item

    @deprecated("Cart.add() is deprecated; use add_item instead")
    def add(self, sku: str, quantity: int = 1, unit_price: float = 0.0) -> LineItem:
        return self.add_item(sku, quantity, unit_price)

    def remove_item(self, sku: str) -> LineItem | None:
        return self.items.pop(sku, None)

    def remove(self, sku: str) -> LineItem | None:
        warnings.warn("Cart.remove() is deprecated, use remove_item instead",
                      DeprecationWarning, stacklevel=2)
        return self.remove_item(sku)

    def total_price(self) -> float:
        return sum(item.quantity * item.unit_price for item in self.items.values())

    @deprecated("use total_price instead")
    def total(self) -> float:
        return self.total_price()
'''

_INVENTORY = '''"""Stock levels."""

import warnings

from ledgerkit._compat import deprecated


class Inventory:
    def __init__(self) -> None:
        self._stock: dict[str, int] = {}
        self._names: dict[str, str] = {}

    def register_product(self, sku: str, name: str) -> None:
        self._names[sku] = name
        self._stock.setdefault(sku, 0)

    def quantity_of(self, sku: str) -> int:
        return self._stock.get(sku, 0)

    @deprecated("Inventory.count is deprecated; use quantity_of instead")
    def count(self, sku: str) -> int:
        return self.quantity_of(sku)

    def restock(self, sku: str, amount: int) -> int:
        self._stock[sku] = self._stock.get(sku, 0) + amount
        return self._stock[sku]

    def refill(self, sku: str, amount: int) -> int:
        warnings.warn("refill() will be removed; use restock instead", DeprecationWarning)
        return self.restock(sku, amount)

    def find_product(self, name: str) -> str | None:
        for sku, product in self._names.items():
            if product == name:
                return sku
        return None

    @deprecated("lookup is deprecated, use find_product instead")
    def lookup(self, name: str) -> str | None:
        return self.find_product(name)
'''

_CLIENT = '''"""A tiny API client."""

import warnings

from ledgerkit._compat import deprecated


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session_open = False
        self.sent: list[tuple[str, str, dict]] = []

    def open_session(self) -> None:
        self.session_open = True

    @deprecated("use open_session instead")
    def connect(self) -> None:
        self.open_session()

    def close_session(self) -> None:
        self.session_open = False

    def disconnect(self) -> None:
        warnings.warn("disconnect() is deprecated; use close_session instead",
                      DeprecationWarning, stacklevel=2)
        self.close_session()

    def send_request(self, method: str, path: str, payload: dict | None = None) -> dict:
        if not self.session_open:
            raise RuntimeError("no open session")
        self.sent.append((method, self.base_url + path, payload or {}))
        return {"status": 200, "path": path}

    @deprecated("ApiClient.call is deprecated; use send_request instead")
    def call(self, method: str, path: str, payload: dict | None = None) -> dict:
        return self.send_request(method, path, payload)
'''

_CHECKOUT = '''"""Checkout flows built on carts, stock and the API client."""

from ledgerkit.cart import Cart
from ledgerkit.client import ApiClient
from ledgerkit.inventory import Inventory


def fill_cart(owner: str, wanted: dict[str, int], prices: dict[str, float]) -> Cart:
    cart = Cart(owner)
    for sku, quantity in wanted.items():
        price = prices.get(sku, 0.0)
        if quantity <= 0:
            continue
        cart.add_item(sku, quantity, price)
    return cart


def drop_unavailable(cart: Cart, inventory: Inventory) -> list[str]:
    dropped = []
    for sku in list(cart.items):
        wanted = cart.items[sku].quantity
        available = inventory.quantity_of(sku)
        if available < wanted:
            cart.remove_item(sku)
            dropped.append(sku)
    return dropped


def checkout(cart: Cart, inventory: Inventory, client: ApiClient) -> dict:
    dropped = drop_unavailable(cart, inventory)
    amount = round(cart.total_price(), 2)
    if amount <= 0:
        return {"status": "empty", "dropped": dropped}
    client.open_session()
    try:
        payload = {"owner": cart.owner, "amount": amount, "dropped": dropped}
        response = client.send_request("POST", "/orders", payload)
    finally:
        client.close_session()
    return {"status": response["status"], "dropped": dropped}
'''

_WAREHOUSE = '''"""Warehouse jobs: restocking and reconciliation."""

from ledgerkit.client import ApiClient
from ledgerkit.inventory import Inventory


def load_catalog(inventory: Inventory, catalog: dict[str, str]) -> int:
    loaded = 0
    for sku, name in sorted(catalog.items()):
        if not name:
            continue
        inventory.register_product(sku, name)
        loaded += 1
    return loaded


def restock_low(inventory: Inventory, skus: list[str], threshold: int = 5) -> list[str]:
    topped_up = []
    for sku in skus:
        level = inventory.quantity_of(sku)
        if level >= threshold:
            continue
        inventory.restock(sku, threshold * 2 - level)
        topped_up.append(sku)
    return topped_up


def receive_delivery(inventory: Inventory, delivery: dict[str, int], names: dict[str, str]):
    unknown = []
    for name, amount in delivery.items():
        if amount <= 0:
            continue
        sku = inventory.find_product(name)
        if sku is None:
            unknown.append(name)
            continue
        inventory.restock(sku, amount)
    return unknown


def report_levels(inventory: Inventory, client: ApiClient, skus: list[str]) -> dict:
    levels = {}
    for sku in skus:
        levels[sku] = inventory.quantity_of(sku)
    client.open_session()
    try:
        return client.send_request("PUT", "/stock", levels)
    finally:
        client.close_session()
'''

_BASKETS = '''"""Batch operations on many carts."""

from ledgerkit.cart import Cart
from ledgerkit.inventory import Inventory


def merge_carts(target: Cart, others: list[Cart]) -> Cart:
    for other in others:
        if other.owner != target.owner:
            continue
        for sku, item in other.items.items():
            price = item.unit_price
            target.add_item(sku, item.quantity, price)
    return target


def cart_totals(carts: list[Cart]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for cart in carts:
        if not cart.items:
            continue
        owner = cart.owner
        totals[owner] = totals.get(owner, 0.0) + cart.total_price()
    return totals


def prune_carts(carts: list[Cart], inventory: Inventory, banned: set[str]) -> int:
    removed = 0
    for cart in carts:
        for sku in list(cart.items):
            if sku in banned:
                cart.remove_item(sku)
                removed += 1
                continue
            if inventory.quantity_of(sku) == 0:
                cart.remove_item(sku)
                removed += 1
    return removed
'''

FILES = {
    "pyproject.toml": '[project]\nname = "ledgerkit"\nversion = "0.1.0"\n',
    "ledgerkit/__init__.py": '"""ledgerkit: carts, stock and orders."""\n',
    "ledgerkit/_compat.py": _COMPAT,
    "ledgerkit/cart.py": _CART,
    "ledgerkit/inventory.py": _INVENTORY,
    "ledgerkit/client.py": _CLIENT,
    "ledgerkit/checkout.py": _CHECKOUT,
    "ledgerkit/warehouse.py": _WAREHOUSE,
    "ledgerkit/baskets.py": _BASKETS,
}


def write_fixture(cache: Path) -> Path:
    """Write the fixture workspace under `cache` (only files whose content changed)."""
    root = cache / FIXTURE_NAME
    for rel, content in FILES.items():
        target = root / rel
        if target.exists() and target.read_text() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return root
