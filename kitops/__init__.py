"""kitops: the stockroom of clinics selling lot-tracked serum, derma stamps and at-home kits."""

__version__ = "0.1.0"
