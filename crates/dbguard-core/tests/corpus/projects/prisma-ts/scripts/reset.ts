import { PrismaClient } from '@prisma/client';

const prisma = new PrismaClient();

async function reset(): Promise<void> {
  await prisma.$executeRawUnsafe('TRUNCATE TABLE "User" CASCADE;');
}

reset().finally(() => prisma.$disconnect());
