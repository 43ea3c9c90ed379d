"""The model lifecycle: the gate (comparison, decisions, the registration transaction)."""
