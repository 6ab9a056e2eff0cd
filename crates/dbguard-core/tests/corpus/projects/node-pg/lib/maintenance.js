const { Pool } = require('pg');
const pool = new Pool();

async function countSessions() {
  const { rows } = await pool.query('SELECT count(*) AS n FROM sessions');
  return rows[0].n;
}

async function wipeSessions() {
  await pool.query('DELETE FROM sessions');
}

module.exports = { countSessions, wipeSessions };
