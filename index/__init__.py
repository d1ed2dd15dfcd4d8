"""Builds and loads the searchable corpus: read, split, chunk, embed, store."""
