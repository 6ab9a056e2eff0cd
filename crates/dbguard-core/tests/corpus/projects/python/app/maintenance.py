import sqlite3


def reset():
    conn = sqlite3.connect("app.db")
    conn.executescript("DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS orders;")


def count():
    conn = sqlite3.connect("app.db")
    return conn.execute("SELECT count(*) FROM users").fetchone()[0]
