import { lt } from 'drizzle-orm';
import { db } from '../src/db';
import { sessions } from '../src/schema';

await db.delete(sessions).where(lt(sessions.expiresAt, new Date()));
const cache = new Map<string, number>();
cache.delete('x');
