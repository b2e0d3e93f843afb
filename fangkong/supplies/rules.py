"""Pure rules of supply assurance: which unit goes with which item, reading a quantity, what is
left to deliver, a request's state. No Django, no database (import-linted)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# The units each item is counted in (吨 for food, 套/件 for protective wear, 副 for herbal
# medicine, 份/盒 for antigen kits …).
UNITS: dict[str, tuple[str, ...]] = {
    "vegetables": ("吨", "千克"),
    "grain_oil": ("吨", "千克"),
    "daily_goods": ("份", "件"),
    "protective_suit": ("套", "件"),
    "mask": ("件", "盒"),
    "disinfectant": ("件", "瓶"),
    "herbal": ("副", "份"),
    "antigen": ("份", "盒"),
}
ITEM_CATEGORY = {
    "vegetables": "living",
    "grain_oil": "living",
    "daily_goods": "living",
    "protective_suit": "protective",
    "mask": "protective",
    "disinfectant": "protective",
    "herbal": "protective",
    "antigen": "protective",
}
MAX_QUANTITY = Decimal("1000000000")


class RuleError(ValueError):
    """Refused, in Chinese, naming the field and the reason."""


def quantity(label: str, raw) -> Decimal:
    """A positive quantity with at most 3 decimals, e.g. "0.5" (吨) or "2000" (副)."""
    text = str(raw if raw is not None else "").strip().replace(",", "")
    if not text:
        raise RuleError(f"{label}:必填")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise RuleError(f"{label}:“{text[:20]}”不是数字") from exc
    if not value.is_finite() or value <= 0:
        raise RuleError(f"{label}:应大于0")
    if value >= MAX_QUANTITY:
        raise RuleError(f"{label}:数量过大")
    if value != value.quantize(Decimal("0.001")):
        raise RuleError(f"{label}:最多三位小数")
    return value


def check_unit(item: str, unit: str, label: str = "单位") -> None:
    if item not in UNITS:
        raise RuleError(f"物资:“{item[:20]}”不是可申请的物资")
    if unit not in UNITS[item]:
        raise RuleError(
            f"{label}:{unit or '(空)'}不是该物资的计量单位(应为{'或'.join(UNITS[item])})"
        )


def left_to_deliver(requested: Decimal, delivered: Decimal) -> Decimal:
    return max(requested - delivered, Decimal(0))


def request_state(requested: dict, delivered: dict, deliveries: int, confirmed: int) -> str:
    """待配送 / 部分配送 / 已配送(待确认) / 已确认收货, from quantities by (item, unit)."""
    if deliveries == 0:
        return "待配送"
    complete = all(delivered.get(key, 0) >= amount for key, amount in requested.items())
    if not complete:
        return "部分配送"
    return "已确认收货" if confirmed == deliveries else "已配送待确认"


def plain(amount: Decimal) -> str:
    """2.500 → 2.5; 3.000 → 3."""
    text = format(amount.normalize(), "f")
    return text
