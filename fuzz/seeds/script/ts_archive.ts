import { PrismaClient } from '@prisma/client';

const prisma = new PrismaClient();
const cutoff = new Date(Date.now() - 90 * 24 * 3600 * 1000);

async function main(): Promise<void> {
  const stale = await prisma.$queryRaw<{ id: number }[]>`SELECT id FROM "Session" WHERE "expiresAt" < ${cutoff}`;
  console.log(`removing ${stale.length} sessions`);
  await prisma.session.deleteMany({ where: { expiresAt: { lt: cutoff } } });
  await prisma.$executeRaw`DELETE FROM "Session" WHERE "expiresAt" < ${cutoff}`;
}

main().finally(() => prisma.$disconnect());
