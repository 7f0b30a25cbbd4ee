def total(items):
    return round(sum(item["price"] * item.get("quantity", 1) for item in items), 2)
