// The incident, reproduced with the real Prisma 6.19.3 client (driver adapter pg) through
// dbguard proxy: an agent runs $executeRawUnsafe('DROP TABLE "Product"'); the application
// keeps working on its other tables. Usage: DATABASE_URL=... node prisma_incident.cjs drop|check
// (run from the project copy whose generated client is in ./generated/client).
const path = require('path')
const { PrismaClient } = require(path.resolve('generated/client'))
const { PrismaPg } = require('@prisma/adapter-pg')

async function main() {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) })
  const out = {}
  try {
    if (process.argv[2] === 'drop') {
      out.products_before = await prisma.product.count()
      out.dropped = await prisma.$executeRawUnsafe('DROP TABLE "Product"')
      try {
        await prisma.product.count()
        out.product_after = 'still there'
      } catch (e) {
        out.product_after = { code: e.code, message: String(e.message).split('\n').slice(-1)[0] }
      }
      out.categories = await prisma.category.count()
      const c = await prisma.customer.create({ data: { email: `new-${Date.now()}@example.com` } })
      out.customer_created = c.id > 0
      out.customers = await prisma.customer.count()
    } else if (process.argv[2] === 'truncate') {
      try {
        out.truncated = await prisma.$executeRawUnsafe('TRUNCATE "Customer"')
      } catch (e) {
        out.truncate_error = { code: e.code, meta: e.meta, message: String(e.message).trim().split('\n').slice(-1)[0].slice(0, 400) }
      }
      for (const [key, sql] of [['delete_error', 'DELETE FROM "Customer"'], ['drop_schema_error', 'DROP SCHEMA public CASCADE']]) {
        try {
          out[key] = { done: await prisma.$executeRawUnsafe(sql) }
        } catch (e) {
          out[key] = { code: e.code, message: String(e.message).trim().split('\n').slice(-1)[0].slice(0, 400) }
        }
      }
      out.customers = await prisma.customer.count()
    } else {
      out.products = await prisma.product.findMany({ orderBy: { id: 'asc' } })
    }
  } catch (e) {
    out.fatal = { code: e.code, message: String(e.message).trim().split('\n').slice(-1)[0].slice(0, 300) }
  } finally {
    await prisma.$disconnect()
  }
  console.log(JSON.stringify(out))
}
main()
