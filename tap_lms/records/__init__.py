"""What happens to a page's records: selection, coercion to the schema, inference, bookmarks, versions."""
