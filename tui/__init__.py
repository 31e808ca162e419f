"""The stockroom terminal UI (Textual). It talks only to kitops.services."""
