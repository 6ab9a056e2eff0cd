import pg from 'pg';

const tables = ['sessions', 'events', 'audit_log'];
const statements = ['DELETE FROM sessions', 'DELETE FROM events'];

const client = new pg.Client();
await client.connect();
for (const sql of statements) {
  await client.query(sql);
}
for (const t of tables) {
  await client.query(`TRUNCATE TABLE ${t} CASCADE`);
}
await client.end();
