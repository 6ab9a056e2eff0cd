// node `pg` through dbguard proxy, for crates/dbguard/tests/proxy_clients.rs. Usage:
//   DATABASE_URL=... node pg_client.mjs extended|listen|approved
// Prints one JSON object: what each step saw (results, error codes, hints).
import pg from 'pg'

const url = process.env.DATABASE_URL
const scenario = process.argv[2]
const out = {}

function err(e) {
  return { code: e.code, message: e.message, hint: e.hint, detail: e.detail }
}

async function attempt(fn) {
  try {
    return { ok: await fn() }
  } catch (e) {
    return { error: err(e) }
  }
}

async function extended() {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  // Named statements: Parse once, Bind/Execute many times.
  for (const name of ['a', 'b', 'c']) {
    await c.query({ name: 'ins', text: 'INSERT INTO items (name) VALUES ($1)', values: [name] })
  }
  const sel = { name: 'count', text: 'SELECT count(*)::int AS n FROM items WHERE id > $1', values: [0] }
  out.count_before = (await c.query(sel)).rows[0].n
  // Refused through the extended protocol (named and unnamed), the session stays usable.
  out.truncate = await attempt(() => c.query({ name: 'trunc', text: 'TRUNCATE items' }))
  out.delete_all = await attempt(() => c.query({ text: 'DELETE FROM items WHERE $1::int IS NULL OR true', values: [1] }))
  out.delete_plain = await attempt(() => c.query({ text: 'DELETE FROM items' }))
  out.drop_schema = await attempt(() => c.query({ text: 'DROP SCHEMA public CASCADE' }))
  out.count_after_refusals = (await c.query(sel)).rows[0].n
  // Inside a transaction: the refusal aborts it, as an error there would.
  await c.query('BEGIN')
  await c.query({ name: 'ins', text: 'INSERT INTO items (name) VALUES ($1)', values: ['in-tx'] })
  out.tx_truncate = await attempt(() => c.query({ name: 'trunc', text: 'TRUNCATE items' }))
  out.tx_next = await attempt(() => c.query(sel))
  await c.query('ROLLBACK')
  out.count_after_rollback = (await c.query(sel)).rows[0].n
  // A soft-drop through a named statement: the client sees DROP TABLE.
  const dropped = await c.query({ name: 'drop', text: 'DROP TABLE scratch' })
  out.drop_command = dropped.command
  out.scratch_gone = (await c.query({ text: 'SELECT to_regclass($1) IS NULL AS gone', values: ['scratch'] })).rows[0].gone
  await c.end()
}

async function listen() {
  const a = new pg.Client({ connectionString: url })
  const b = new pg.Client({ connectionString: url })
  await a.connect()
  await b.connect()
  const got = new Promise((resolve) => a.on('notification', (m) => resolve(m)))
  await a.query('LISTEN dbguard_channel')
  await b.query({ text: 'SELECT pg_notify($1, $2)', values: ['dbguard_channel', 'hello through the proxy'] })
  const m = await Promise.race([got, new Promise((r) => setTimeout(() => r(null), 5000))])
  out.notification = m && { channel: m.channel, payload: m.payload }
  await a.end()
  await b.end()
}

async function approved() {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  out.truncate = await attempt(() => c.query({ name: 'trunc', text: 'TRUNCATE items' }))
  out.count = (await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n
  await c.end()
}

const scenarios = { extended, listen, approved }
try {
  await scenarios[scenario]()
} catch (e) {
  out.fatal = err(e)
}
console.log(JSON.stringify(out))
