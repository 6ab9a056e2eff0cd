import { PrismaClient } from '@prisma/client';

const prisma = new PrismaClient();
const table = 'Post';

async function main() {
  await prisma.$executeRawUnsafe(`DELETE FROM "${table}"`);
}

main();
