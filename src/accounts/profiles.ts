// Public faces of users: the profile page and the avatar image.
import { Router } from 'express';
import { NotFoundError } from '../http/errors.ts';
import { avatarSvg } from './avatar.ts';
import { USERNAME_PATTERN } from './schemas.ts';
import { findUserByUsername, UsernameModel, usernameKey } from './user-model.ts';

const DAY_SECONDS = 24 * 60 * 60;

export function profilesRouter(): Router {
  const router = Router();
  router.get('/users/:username', async (req, res) => {
    const user = await findUserByUsername(req.params.username);
    if (!user) throw new NotFoundError('accounts.profile.notFound');
    res.render('accounts/profile', {
      title: user.username,
      profile: {
        id: user._id.toString(),
        username: user.username,
        createdAt: user.createdAt,
        postCount: user.postCount,
        replyCount: user.replyCount,
      },
      deleted: Boolean(user.deletedAt),
      isSelf: req.user?._id.equals(user._id) ?? false,
      isBlocked: (req.user?.blocked ?? []).includes(user._id.toString()),
    });
  });
  return router;
}

/**
 * The same for everyone, so it needs no session: mount it before the session middleware
 * and a page full of avatars costs one `_id` lookup per picture, not three.
 */
export function avatarsRouter(): Router {
  const router = Router();
  router.get('/avatars/:username.svg', async (req, res) => {
    const { username } = req.params;
    const known = USERNAME_PATTERN.test(username) && (await UsernameModel.exists({ _id: usernameKey(username) }).exec()) !== null;
    // A name never changes its picture; an unknown one may be registered later.
    res.set('Cache-Control', `public, max-age=${known ? DAY_SECONDS : 300}`);
    res.type('image/svg+xml').send(avatarSvg(known ? { username } : null));
  });
  return router;
}
