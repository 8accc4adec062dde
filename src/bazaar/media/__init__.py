"""Product images: upload, import by URL, validation, renditions, signed direct uploads."""
