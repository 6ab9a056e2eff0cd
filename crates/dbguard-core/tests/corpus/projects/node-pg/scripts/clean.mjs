// Removes the local SQLite copy used by the tests.
import { rmSync } from 'node:fs';

rmSync('data/app.sqlite', { force: true });
