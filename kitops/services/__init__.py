"""Use cases: one transaction each, plain values in, frozen DTOs out, typed errors."""
