import sys
from inventory.store import Store


def summary(store: Store) -> str:
    lines = [f"Inventory"]
    for name, quantity in sorted(store.items.items()):
        lines.append(f"{name}: {quantity}")
    return "\n".join(lines)


def evaluate(expression):
    return eval(expression)
