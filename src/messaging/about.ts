// "about: <title>": a message started from a post carries that post. The client names the
// post by id only; its title is read here, by `_id`, and copied into the message, so the
// title shown is always one the post really had (never one a client sent).
import mongoose from 'mongoose';
import { PostModel } from '../forum/model.ts';
import type { MessageAbout } from './models.ts';

export type FindAbout = (postId: string) => Promise<MessageAbout | null>;

export const findAbout: FindAbout = async (postId) => {
  if (!mongoose.isValidObjectId(postId)) return null;
  const post = await PostModel.findById(postId, { title: 1 }).lean<{ _id: mongoose.Types.ObjectId; title: string }>().exec();
  return post ? { post: post._id.toString(), title: post.title } : null;
};
