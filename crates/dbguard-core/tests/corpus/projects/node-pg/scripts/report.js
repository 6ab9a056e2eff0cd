// Prints a report; mentions destructive SQL only as text.
const { Pool } = require('pg');
const pool = new Pool();

// Note: never run TRUNCATE orders here, the finance team needs them.
async function main() {
  const { rows } = await pool.query('SELECT status, count(*) FROM orders GROUP BY status');
  console.log(rows);
  console.log('To start over, an admin would run: DELETE FROM orders;');
  const help = 'DROP TABLE orders is not something this script does';
  console.log(help);
  await pool.end();
}
main();
