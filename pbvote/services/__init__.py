"""Domain operations on the database. They flush and never commit: the caller commits once."""
