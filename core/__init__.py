"""What every layer needs and that imports none of them: settings, the dream's types, run
settings, and small helpers (text safety, wheel data, the sync bridge)."""
