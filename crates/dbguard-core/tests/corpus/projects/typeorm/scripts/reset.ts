import { AppDataSource } from '../src/data-source';

async function main() {
  await AppDataSource.initialize();
  await AppDataSource.dropDatabase();
  await AppDataSource.synchronize(true);
}
main();
