// The same schema after "cleanup": table posts removed, column users.bio removed.
// `drizzle-kit push --force` with this schema drops both without a word.
import { pgTable, serial, text } from 'drizzle-orm/pg-core'

export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name'),
})
