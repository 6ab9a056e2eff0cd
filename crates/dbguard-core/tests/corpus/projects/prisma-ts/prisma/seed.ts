import { PrismaClient } from '@prisma/client';

const prisma = new PrismaClient();

async function main(): Promise<void> {
  await prisma.post.deleteMany();
  await prisma.user.deleteMany({});
  await prisma.user.create({ data: { email: 'alice@example.com', name: 'Alice' } });
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  })
  .finally(async () => {
    await prisma.$disconnect();
  });
