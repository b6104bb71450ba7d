"""The tuple engine for rules: sparse relations, database joins, semi-naive rounds that cost what
changed, arithmetic, comparisons and aggregates (`engine.Logic` is what the runtime holds)."""
