"""Empties the staging tables before a reload."""
import psycopg

with psycopg.connect() as conn:
    with conn.cursor() as cur:
        cur.execute("TRUNCATE staging_orders, staging_customers CASCADE")
