const { Pool } = require('pg');
const pool = new Pool();

async function removeOrder(id) {
  await pool.query('DELETE FROM orders WHERE id = $1', [id]);
  await pool.query(`UPDATE customers SET updated_at = now() WHERE id = ${Number(id)}`);
}

removeOrder(Number(process.argv[2])).then(() => pool.end());
