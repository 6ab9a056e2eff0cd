// Clears the demo data before a fresh import.
const { Client } = require('pg');

async function main() {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query('TRUNCATE orders, order_items RESTART IDENTITY CASCADE');
  await client.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
