"""sbx's in-sandbox strategy runner (see docs/strategy.md)."""
