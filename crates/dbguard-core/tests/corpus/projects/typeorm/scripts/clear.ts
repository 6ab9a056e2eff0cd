import { AppDataSource } from '../src/data-source';
import { User } from '../src/entity/User';

AppDataSource.initialize().then(async () => {
  await AppDataSource.getRepository(User).clear();
});
