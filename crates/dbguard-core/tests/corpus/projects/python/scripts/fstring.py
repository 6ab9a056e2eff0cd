import sqlite3

TABLES = ["cache", "jobs"]
conn = sqlite3.connect("app.db")
for table in TABLES:
    conn.execute(f"DELETE FROM {table}")
conn.commit()
