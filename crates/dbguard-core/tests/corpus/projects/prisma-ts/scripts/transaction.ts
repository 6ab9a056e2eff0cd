import { PrismaClient } from '@prisma/client';

const prisma = new PrismaClient();

await prisma.$transaction(async (tx) => {
  await tx.comment.deleteMany();
  await tx.post.updateMany({ data: { published: false } });
});
