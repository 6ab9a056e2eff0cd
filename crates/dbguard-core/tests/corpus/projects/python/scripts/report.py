"""Prints a report. The SQL below is only printed, never run."""
import sqlite3

conn = sqlite3.connect("app.db")
print("DROP TABLE users")
print(f"rows: {conn.execute('SELECT count(*) FROM users').fetchone()[0]}")
message = "DELETE FROM users would remove everything"
print(message)
# TRUNCATE users  (a comment, not code)
