"""The screens of the stockroom UI, one module each, imported when first shown."""
