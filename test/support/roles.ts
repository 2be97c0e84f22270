// Roles given as `npm run admin -- promote` gives them, for tests that need a moderator or an admin.
import { setRole, type Role } from '../../src/moderation/roles.ts';
import type { SignedInUser } from './users.ts';

export async function giveRole(user: SignedInUser, role: Role): Promise<void> {
  await setRole(user.id, role);
}
