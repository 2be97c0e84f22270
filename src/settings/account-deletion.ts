// Deleting an account. What the member wrote to others stays with them: the messages
// reference the user document, which is kept with its name (so the conversations stay
// readable and no one else can take the name), while everything that made it an account
// goes: the password (nothing verifies against it), the address (free for someone else),
// unread-message mail, and every session and socket (authVersion goes up; the caller
// closes the sockets). The profile then says "deleted member", and messages to it are refused.
import { UserModel, type UserDocument } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { UnreadWatchModel } from '../mail/unread-models.ts';
import { releaseEmail } from './email.ts';

/** Not a password hash of any scheme: verifyPassword refuses it (accounts/passwords.ts). */
const NO_PASSWORD = '!deleted';

export async function deleteAccount(user: UserDocument): Promise<void> {
  const userId = user._id.toString();
  await writeUser(userId, () =>
    UserModel.updateOne(
      { _id: userId },
      { $set: { deletedAt: new Date(), passwordHash: NO_PASSWORD, unreadMail: false }, $unset: { email: 1, locale: 1 }, $inc: { authVersion: 1 } },
    ).exec(),
  );
  await releaseEmail(user);
  await UnreadWatchModel.deleteOne({ _id: userId }).exec();
}
