// `npm run admin -- promote <username> [admin|moderator|member]`: gives a member a role,
// admin by default. The first admin is made this way; later ones from the admin page.
import { findUserByUsername } from '../accounts/user-model.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { createLogger } from '../log.ts';
import { ROLES, setRole, type Role } from '../moderation/roles.ts';
import { embeddedDatabaseInUse } from './script-database.ts';

const USAGE = 'usage: npm run admin -- promote <username> [admin|moderator|member]';

async function admin(config: Config, args: string[]): Promise<number> {
  const [command, username, role = 'admin'] = args;
  if (command !== 'promote' || !username || !(ROLES as readonly string[]).includes(role)) {
    console.error(USAGE);
    return 2;
  }
  if (embeddedDatabaseInUse(config)) {
    console.error(`Parley seems to be running on ${config.dataDir}. Stop it first, then run npm run admin again.`);
    return 1;
  }
  const db = await openDatabase(config, createLogger(config));
  try {
    const user = await findUserByUsername(username);
    if (!user) {
      console.error(`There is no member named "${username}".`);
      return 1;
    }
    await setRole(user._id.toString(), role as Role);
    console.log(`${user.username} is now ${role === 'admin' ? 'an admin' : `a ${role}`}.`);
    return 0;
  } finally {
    await db.close();
  }
}

try {
  process.exitCode = await admin(loadConfig(), process.argv.slice(2));
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exitCode = 1;
}
