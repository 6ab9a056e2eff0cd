import { db } from '../src/db';
import { users, sessions } from '../src/schema';

await db.delete(sessions);
await db.delete(users);
