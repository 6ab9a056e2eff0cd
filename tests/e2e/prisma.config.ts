// Prisma 6.19 configuration for dbguard's end-to-end tests: the WebAssembly schema
// engine (`engine: 'js'`) with the pg driver adapter, so that Prisma runs offline.
// Connection settings come from DATABASE_URL, split into discrete settings because
// PrismaPg is given host/port/user/password/database.
import { defineConfig } from 'prisma/config'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'

// adapter-pg rejects the `name` and `"char"` column types (OIDs 18, 19; arrays 1002, 1003)
// that `db push` and `migrate` read from the catalogs: present them as text / text[].
const TEXT_OIDS: Record<number, number> = { 18: 25, 19: 25, 1002: 1009, 1003: 1009 }
const Result: any = (pg as any).Result
const realAddFields = Result.prototype.addFields
Result.prototype.addFields = function (fields: Array<{ dataTypeID: number }>) {
  for (const f of fields) {
    if (TEXT_OIDS[f.dataTypeID]) f.dataTypeID = TEXT_OIDS[f.dataTypeID]
  }
  return realAddFields.call(this, fields)
}
for (const oid of [18, 19]) pg.types.setTypeParser(oid, (v: string) => v)

// The engine leaves long timers behind that keep node alive for a minute after the
// command is done: unref long timers so that node exits when the work is.
const realSetTimeout = globalThis.setTimeout
const realSetInterval = globalThis.setInterval
;(globalThis as any).setTimeout = (fn: any, ms?: number, ...args: any[]) => {
  const t: any = realSetTimeout(fn, ms, ...args)
  if ((ms ?? 0) >= 1000) t?.unref?.()
  return t
}
;(globalThis as any).setInterval = (fn: any, ms?: number, ...args: any[]) => {
  const t: any = realSetInterval(fn, ms, ...args)
  t?.unref?.()
  return t
}

function settings() {
  const raw = process.env.DATABASE_URL
  if (!raw) throw new Error('DATABASE_URL is not set')
  const u = new URL(raw)
  return {
    host: decodeURIComponent(u.hostname),
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  async adapter() {
    // An idle pooled connection would keep node alive for pg's 10 s idle timeout.
    return new PrismaPg({ ...settings(), allowExitOnIdle: true, idleTimeoutMillis: 200 })
  },
})
