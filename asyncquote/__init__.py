"""asyncquote."""
