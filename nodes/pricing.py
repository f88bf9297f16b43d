"""What a dream's tokens cost, from a per-model price table (USD per million tokens)."""

from core.settings import get_settings
from core.state import Usage

PRICES_PER_MILLION_TOKENS: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
}
"""OpenAI list prices (input, output) when this was written; CODREAMER_PRICES overrides."""


def cost_usd(model: str, usage: Usage) -> float | None:
    """The dream's cost, or None for a model without a known price (local and embedded ones)."""
    prices = {**PRICES_PER_MILLION_TOKENS, **get_settings().prices}
    name = model.removeprefix("openai:")
    if name not in prices:
        return None
    input_price, output_price = prices[name]
    cost = usage["input_tokens"] * input_price + usage["output_tokens"] * output_price
    return round(cost / 1_000_000, 6)
