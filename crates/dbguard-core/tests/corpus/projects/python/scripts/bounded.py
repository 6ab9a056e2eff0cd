import sqlite3
import sys

conn = sqlite3.connect("app.db")
conn.execute("DELETE FROM sessions WHERE id = ?", (sys.argv[1],))
conn.execute("UPDATE users SET last_seen = ? WHERE id = ?", (0, sys.argv[1]))
conn.commit()
